#!/usr/bin/env bash
# qrh-test: alone (it measures time: no other test beside it)
# tests/run.sh fails a test that outlives QRH_TEST_TIMEOUT as hung, shows
# the end of its log, kills its process group (even members that ignore
# SIGTERM) and nothing else, and goes on with the next test.
. "$(dirname "$0")/../lib.sh"
mkdir -p "$T/build/tests"
cat >"$T/build/tests/test_fake_a_hang" <<EOF2
#!/bin/sh
sleep 600 &
echo \$! >"$T/hang.pid"
echo "last words before hanging"
wait
EOF2
cat >"$T/build/tests/test_fake_b_stubborn" <<EOF2
#!/bin/sh
trap '' TERM
sleep 600 &
echo \$! >"$T/stubborn.pid"
wait
EOF2
printf '#!/bin/sh\necho fine\n' >"$T/build/tests/test_fake_c_ok"
chmod +x "$T"/build/tests/test_fake_*

# A process of this test, outside the hung tests' groups: it must survive.
# It is known by its PID alone.
sleep 600 &
bystander=$!
trap 'kill "$bystander" 2>/dev/null; rm -rf "$T"' EXIT

run env -u QRH_SANITIZE QRH_TEST_TIMEOUT=1 QRH_BUILD="$T/build" \
	"$QRH_SRC/tests/run.sh" test_fake_
assert_rc 1
assert_contains "$out" "FAIL unit/test_fake_a_hang"
assert_contains "$out" "(timed out after 1 s: hung)"
assert_contains "$out" "    | last words before hanging"
assert_contains "$out" "FAIL unit/test_fake_b_stubborn"
assert_contains "$out" "PASS unit/test_fake_c_ok"
assert_contains "$out" "1 passed, 2 failed"
[ "$(grep -c 'timed out after 1 s: hung' <<<"$out")" -eq 2 ] || fail "expected two hung tests: $out"

gone() { # PID WHAT: wait for a process to end (init may reap it late)
	local st
	for _ in $(seq 1 100); do
		st=$(ps -o stat= -p "$1" 2>/dev/null)
		case $st in "" | Z*) return 0 ;; esac
		sleep 0.1
	done
	fail "$2 ($1, $st) is still there"
}
gone "$(cat "$T/hang.pid")" "the hung test's child"
gone "$(cat "$T/stubborn.pid")" "the stubborn test's child"
kill -0 "$bystander" 2>/dev/null || fail "a process outside the hung tests' groups was killed"

# Interrupted (as by ^C at a terminal): the running test's group is ended
# and no further test runs. SIGINT is let through to run.sh on purpose: a
# background job would otherwise start with it ignored.
rm -f "$T/hang.pid"
(trap - INT; exec env -u QRH_SANITIZE QRH_TEST_TIMEOUT=60 QRH_BUILD="$T/build" \
	"$QRH_SRC/tests/run.sh" test_fake_a test_fake_c >"$T/int.out" 2>&1) &
runner=$!
for _ in $(seq 1 100); do
	[ -s "$T/hang.pid" ] && break
	sleep 0.1
done
[ -s "$T/hang.pid" ] || fail "the hanging test never started"
kill -INT "$runner"
wait "$runner"
rc=$?
[ $rc -eq 130 ] || fail "interrupted run.sh: expected exit 130, got $rc: $(cat "$T/int.out")"
assert_contains "$(cat "$T/int.out")" "run.sh: interrupted by SIGINT"
assert_not_contains "$(cat "$T/int.out")" "test_fake_c_ok"
gone "$(cat "$T/hang.pid")" "the interrupted test's child"

run env QRH_TEST_TIMEOUT=soon QRH_BUILD="$T/build" "$QRH_SRC/tests/run.sh" test_fake_c
assert_rc 2
assert_contains "$err" "QRH_TEST_TIMEOUT must be a number of seconds"
echo "run_timeout: ok"
