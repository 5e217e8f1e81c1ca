#!/usr/bin/env bash
# SIGINT cancels the running step and exits 3; SIGHUP lets it finish and
# exits 3; both leave the run open for qrh resume, which refuses a changed
# runbook and an interrupted step unless told what to do.
. "$(dirname "$0")/../lib.sh"
db=$T/j.db
export QRH_TEST_DIR=$T

# Steps that may outlive a qrh killed with -9 write their process group
# (qrh runs each step as a session leader) to $T/groups; those groups, and
# only those, are killed when the test ends, however it ends.
kill_step_groups() {
	local g
	[ -f "$T/groups" ] || return 0
	while read -r g; do
		# a group with no member left may not be ours any more
		ps -o args= -g "$g" 2>/dev/null | grep -q "sleep 30" &&
			kill -KILL -- "-$g" 2>/dev/null
	done <"$T/groups"
	return 0
}
trap 'kill_step_groups; rm -rf "$T"' EXIT

last_run() { sqlite3 "$db" "select coalesce(max(id),0) from runs" 2>/dev/null || echo 0; }

wait_for_event() { # TYPE AFTER_RUN: the event in a run newer than AFTER_RUN
	local n
	for _ in $(seq 1 600); do
		n=$(sqlite3 "$db" "select count(*) from events where type='$1' and run_id>$2" 2>/dev/null)
		[ "${n:-0}" -gt 0 ] && return 0
		sleep 0.05
	done
	fail "no $1 event"
}

cat >"$T/long.md" <<'RB'
## Long {confirm=no}
```sh
echo $$ >>"$QRH_TEST_DIR/groups"
if [ ! -e "$QRH_TEST_DIR/quick" ]; then sleep 30; fi
echo long-done
```
## After {confirm=no}
```sh
echo after-done
```
RB
"$QRH_BIN" run --plain --journal "$db" "$T/long.md" >"$T/int.log" 2>&1 &
pid=$!
wait_for_event action_start 0
kill -INT $pid
wait $pid
rc=$?
[ $rc -eq 3 ] || fail "SIGINT: expected exit 3, got $rc"
assert_eq "$(sqlite3 "$db" "select json_extract(payload,'\$.status') from events where type='step_end'")" "cancelled"
assert_eq "$(sqlite3 "$db" "select json_extract(payload,'\$.signal') from events where type='signal'")" "SIGINT"
assert_eq "$(sqlite3 "$db" "select coalesce(outcome,'open') from runs where id=1")" "open"

# resume it: the cancelled step runs again once confirmed
touch "$T/quick"
run "$QRH_BIN" resume --plain --yes --journal "$db"
assert_rc 0
assert_contains "$out" "run 1 resumed by"
assert_contains "$out" "[1] | long-done"
assert_contains "$out" "[2] | after-done"
assert_eq "$(sqlite3 "$db" "select outcome from runs where id=1")" "ok"
run "$QRH_BIN" resume --plain --yes --journal "$db" 1
assert_rc 2
assert_contains "$err" "already ended"

# SIGHUP: the running step finishes, nothing new starts
rm -f "$T/quick"
before=$(last_run)
cat >"$T/hup.md" <<'RB'
## Slow {confirm=no}
```sh
sleep 1
echo slow-done
```
## Next {confirm=no}
```sh
echo next-done
```
RB
"$QRH_BIN" run --plain --journal "$db" "$T/hup.md" >"$T/hup.log" 2>&1 &
pid=$!
wait_for_event action_start "$before"
kill -HUP $pid
wait $pid
rc=$?
[ $rc -eq 3 ] || fail "SIGHUP: expected exit 3, got $rc"
grep -q "\[1\] | slow-done" "$T/hup.log" || fail "the running step did not finish: $(cat "$T/hup.log")"
grep -q "next-done" "$T/hup.log" && fail "a new step started after the hangup"
hid=$(sqlite3 "$db" "select max(id) from runs")
assert_eq "$(sqlite3 "$db" "select count(*) from events where run_id=$hid and type='hangup'")" "1"
assert_eq "$(sqlite3 "$db" "select json_extract(payload,'\$.status') from events where run_id=$hid and type='step_end'")" "ok"

# the runbook changed: refused, unless accepted (and journaled)
printf '\n## Extra {confirm=no}\n```sh\necho extra-done\n```\n' >>"$T/hup.md"
run "$QRH_BIN" resume --plain --yes --journal "$db" "$hid"
assert_rc 2
assert_contains "$err" "has changed since run $hid started"
run "$QRH_BIN" resume --plain --yes --runbook-changed-ok --journal "$db" "$hid"
assert_rc 0
assert_not_contains "$out" "slow-done"
assert_contains "$out" "[2] | next-done"
assert_contains "$out" "[3] | extra-done"
assert_eq "$(sqlite3 "$db" "select json_extract(payload,'\$.runbook_changed') from events where run_id=$hid and type='run_resume'")" "1"

# kill -9 mid-step: interrupted, outcome unknown; never re-run silently
before=$(last_run)
"$QRH_BIN" run --plain --journal "$db" "$T/long.md" >/dev/null 2>&1 &
pid=$!
wait_for_event task_process "$before" # its process started and named
kill -9 $pid
wait $pid 2>/dev/null
kid=$(sqlite3 "$db" "select max(id) from runs")
run "$QRH_BIN" resume --plain --yes --journal "$db"
assert_rc 2
# its script outlived qrh: resume names it and will not run it again
assert_contains "$err" "step 1 'long' was interrupted, and its pid"
assert_contains "$err" "is still running"
assert_not_contains "$out" "long-done"
survivor=$(sqlite3 "$db" "select json_extract(payload,'\$.pgid') from events where run_id=$kid and type='task_process' order by seq desc limit 1")
[ -n "$survivor" ] && kill -0 -- "-$survivor" 2>/dev/null || fail "the survivor is not running"
# --rerun-interrupted waits for it to end before running the step again
"$QRH_BIN" resume --plain --yes --rerun-interrupted --journal "$db" >"$T/rerun.out" 2>"$T/rerun.err" &
rpid=$!
for _ in $(seq 1 200); do grep -q "waiting for it to end" "$T/rerun.err" && break; sleep 0.05; done
assert_contains "$(cat "$T/rerun.err")" "waiting for it to end before running the step again"
kill -0 $rpid 2>/dev/null || fail "resume did not wait for the survivor"
kill -INT $rpid
wait $rpid
assert_not_contains "$(cat "$T/rerun.out")" "long-done"
kill -TERM -- "-$survivor"
touch "$T/quick"
run "$QRH_BIN" resume --plain --yes --skip-interrupted --journal "$db"
assert_rc 0
assert_not_contains "$out" "long-done"
assert_contains "$out" "[2] | after-done"
assert_eq "$(sqlite3 "$db" "select json_extract(payload,'\$.reason') from events where run_id=$kid and type='step_skip'")" "interrupted step skipped on resume"
# an interrupted typed step runs again only with its word
rm -f "$T/quick"
cat >"$T/typed.md" <<'RB'
## Promote {confirm=typed:PROMOTE}
```sh
echo $$ >>"$QRH_TEST_DIR/groups"
if [ ! -e "$QRH_TEST_DIR/quick" ]; then sleep 30; fi
echo promoted
```
RB
before=$(last_run)
"$QRH_BIN" run --plain --typed promote=PROMOTE --journal "$db" "$T/typed.md" >/dev/null 2>&1 &
pid=$!
wait_for_event task_process "$before" # its process started and named
kill -9 $pid
wait $pid 2>/dev/null
touch "$T/quick"
tid=$(sqlite3 "$db" "select max(id) from runs")
survivor=$(sqlite3 "$db" "select json_extract(payload,'\$.pgid') from events where run_id=$tid and type='task_process' order by seq desc limit 1")
kill -TERM -- "-$survivor" 2>/dev/null
for _ in $(seq 1 100); do kill -0 -- "-$survivor" 2>/dev/null || break; sleep 0.05; done
run "$QRH_BIN" resume --plain --yes --rerun-interrupted --journal "$db" </dev/null
assert_rc 2
assert_contains "$err" "to run it again give --typed promote=PROMOTE"
assert_not_contains "$out" "promoted"
run "$QRH_BIN" resume --plain --rerun-interrupted --typed promote=PROMOTE --journal "$db" </dev/null
assert_rc 0
assert_contains "$out" "[1] | promoted"
kill_step_groups
echo "signals: ok"
