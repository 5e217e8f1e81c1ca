#!/usr/bin/env bash
# Runs every test program and shell test, then prints the closing line
# "N passed, N failed". Unit tests are cmocka binaries in $QRH_BUILD/tests;
# shell tests are tests/cli/*.sh and tests/integration/*.sh, each driving the
# real binary ($QRH_BIN). A shell test exits 0 (pass), 77 (skip) or other (fail).
# `tests/run.sh WORD...` runs only the tests whose names contain a WORD.
#
# Each test runs in a session of its own and gets QRH_TEST_TIMEOUT seconds
# (default 300, three times that when QRH_SANITIZE=1); one that takes
# longer is failed as hung, its process group (and nothing else) is killed,
# and the run goes on with the next test.
set -u
cd "$(dirname "$0")/.."
: "${QRH_BIN:?}" "${QRH_BUILD:?}"
export QRH_BIN QRH_BUILD
export QRH_SRC="$PWD"
limit=${QRH_TEST_TIMEOUT:-300}
case $limit in
'' | *[!0-9]* | 0) echo "run.sh: QRH_TEST_TIMEOUT must be a number of seconds, not '$limit'" >&2; exit 2 ;;
esac
[ "${QRH_SANITIZE:-}" = 1 ] && limit=$((limit * 3))
passed=0 failed=0 skipped=0 failures=()
logdir=$(mktemp -d "${TMPDIR:-/tmp}/qrh-tests.XXXXXX")

wanted() { # NAME: whether the command line asks for it
	[ ${#words[@]} -eq 0 ] && return 0
	local w
	for w in "${words[@]}"; do
		case $1 in *"$w"*) return 0 ;; esac
	done
	return 1
}

# setsid: the test leads a new session and process group, with no
# controlling terminal (-w: should setsid have to fork, it still waits and
# passes the status on). timeout(1) runs the test in that group and, when
# the time is up, sends SIGTERM to the group, SIGKILL 10 s later if
# anything is left; its status is then 124 (or 137 after SIGKILL). The test
# runs in the background so that a signal to this script is handled at once
# (see stop_current); `trap -` gives it the SIGINT and SIGQUIT dispositions
# this script started with, which bash would otherwise set to ignored.
run_one() {
	local name=$1; shift
	wanted "$name" || return 0
	local log="$logdir/${name//\//_}.log"
	local start=$(date +%s%N)
	(trap - INT QUIT; exec setsid -w timeout -k 10 "$limit" "$@") >"$log" 2>&1 &
	current=$!
	wait "$current"
	local rc=$?
	current=
	local ms=$(( ($(date +%s%N) - start) / 1000000 ))
	if [ $rc -eq 0 ]; then
		passed=$((passed + 1)); printf 'PASS %-44s %6d ms\n' "$name" "$ms"
	elif [ $rc -eq 77 ]; then
		skipped=$((skipped + 1)); printf 'SKIP %-44s %s\n' "$name" "$(tail -n1 "$log")"
	else
		failed=$((failed + 1)); failures+=("$name")
		if { [ $rc -eq 124 ] || [ $rc -eq 137 ]; } && [ $ms -ge $((limit * 1000)) ]; then
			printf 'FAIL %-44s (timed out after %d s: hung)\n' "$name" "$limit"
		else
			printf 'FAIL %-44s (exit %d)\n' "$name" "$rc"
		fi
		sed 's/^/    | /' "$log" | tail -n 60
	fi
}

# Interrupted (a key at the terminal, which the tests, in sessions of their
# own, do not get): end the running test's group and stop.
current=
stop_current() {
	trap - INT TERM HUP
	if [ -n "$current" ]; then
		kill -TERM -- "-$current" 2>/dev/null
		wait "$current"
	fi
	rm -rf "$logdir"
	echo "run.sh: interrupted by SIG$1" >&2
	exit 130
}
for sig in INT TERM HUP; do
	trap "stop_current $sig" "$sig"
done

words=("$@")
for t in "$QRH_BUILD"/tests/test_*; do
	[ -x "$t" ] || continue
	run_one "unit/$(basename "$t")" "$t"
done
for t in tests/cli/*.sh tests/integration/*.sh; do
	[ -f "$t" ] || continue
	run_one "${t#tests/}" bash "$t"
done

rm -rf "$logdir"
echo
[ ${#failures[@]} -eq 0 ] || printf 'failed: %s\n' "${failures[*]}"
if [ $skipped -gt 0 ]; then
	echo "$passed passed, $failed failed, $skipped skipped"
else
	echo "$passed passed, $failed failed"
fi
[ $failed -eq 0 ]
