#!/usr/bin/env bash
# make demo's drill, driven through tmux by keys alone: tools/demo.sh (what
# make demo runs, given the test's qrh instead of building one) brings a
# sandbox up on free ports and opens the console on the failover drill;
# the test answers the reason prompt, presses Enter and types the typed
# words until the drill ends, and the header shows the RTO and the RPO
# measured and met. Quitting leaves the demo with status 0 and the
# sandbox up; a second demo offers nothing to resume (the drill ended).
. "$(dirname "$0")/../lib.sh"
. "$QRH_SRC/tests/tui_lib.sh"
. "$QRH_SRC/tests/servers/sandbox.sh"
# The sanitizer build runs the same drill in sandbox_drills.sh and the
# console's keys in the console_*.sh tests: this one, the demo's wrapper
# around them, runs in make check only (CI's time is bounded)
[ "${QRH_SANITIZE:-}" = 1 ] && { echo "skip: make check runs the demo (sanitizer build)"; exit 77; }
TUI_TIMEOUT=60
tui_start demo 120 40 QRH_SANDBOX_DIR="$QRH_SANDBOX_DIR" QRH_SANDBOX_CONF="$T/conf" \
	QRH_DEMO_DIR="$T/demo" QRH_DEMO_BIN="$QRH_BIN" QRH_BUILD="$QRH_BUILD" -- sh "$QRH_SRC/tools/demo.sh"
wait_for demo "REASON - Why is this drill being run"
type_text demo "tmux drill"
keys demo Enter
wait_for demo "Stage DR failover"
wait_for demo "RTO 15:00 not started"
# steps 1 and 2 run unasked; each typed step: Enter, the word, Enter
typed() { # STEP WORD
	wait_for demo "Enter run $1 "
	keys demo Enter
	wait_for demo "Type $2 and Enter"
	type_text demo "$2"
	keys demo Enter
}
typed 3 FAIL
wait_for demo " of 15:00, "  # the RTO clock runs, with the time left
typed 5 PROMOTE
wait_for demo "of 05:00, 0 rows lost: met"
assert_screen demo "of 15:00: met"
typed 8 REBUILD
typed 11 SWITCHBACK
wait_for demo "Enter run 12 "
keys demo Enter
wait_for demo "[y] yes"
keys demo y
wait_for demo "Enter run 15 "
keys demo Enter
wait_for demo "[y] yes, it is done"
keys demo y
wait_for demo "run finished: ok"
assert_screen demo "Steps 15/15 done"
# the header: both objectives measured and met
header=$(screen demo | sed -n 2p)
assert_contains "$header" "RTO "
assert_contains "$header" "of 15:00: met"
assert_contains "$header" "of 05:00, 0 rows lost: met"
keys demo q
wait_exit demo
assert_eq "$exit_code" 0
assert_screen demo "Drill score card: ok"
assert_screen demo "make demo-stop to take it down"
run "$QRH_BIN" sandbox status
assert_rc 0
run "$QRH_BIN" list --journal "$T/demo/journal.db"
assert_contains "$out" "drill    ok           15/15"
echo "demo: the failover drill completed by keys, RTO and RPO met in the header"
