#!/usr/bin/env bash
# Runs every test program and shell test, then prints the closing line
# "N passed, N failed". Unit tests are cmocka binaries in $QRH_BUILD/tests;
# shell tests are tests/cli/*.sh and tests/integration/*.sh, each driving the
# real binary ($QRH_BIN). A shell test exits 0 (pass), 77 (skip) or other (fail).
# `tests/run.sh WORD...` runs only the tests whose names contain a WORD.
#
# Tests run side by side (QRH_TEST_JOBS, below). Each test runs in a
# session of its own and gets QRH_TEST_TIMEOUT seconds
# (default 300, three times that when QRH_SANITIZE=1); one that takes
# longer is failed as hung, its process group (and nothing else) is killed,
# and the run goes on with the next test.
set -u
cd "$(dirname "$0")/.."
: "${QRH_BIN:?}" "${QRH_BUILD:?}"
export QRH_BIN QRH_BUILD
export QRH_SRC="$PWD"

# Some tests act as other users: the PostgreSQL servers and the sandbox's
# applications run as postgres, no_core.sh runs qrh as nobody. A checkout
# in a private directory (mktemp -d, a home of mode 0700) is out of their
# reach; then the tests run on a copy of the tree and of this build in a
# directory everyone may read, removed at the end.
stage=
others_reach() {
	runuser -u nobody -- test -x "$QRH_BIN" -a -r "$QRH_SRC/tests/servers/httpd.py" 2>/dev/null
}
if [ "$(id -u)" -eq 0 ] && id nobody >/dev/null 2>&1 && command -v runuser >/dev/null &&
	! others_reach; then
	# the build inside the copy, as here: qrh finds sandbox/ beside it
	build=$(basename "$QRH_BUILD")
	stage=$(mktemp -d /tmp/qrh-stage.XXXXXX) && chmod 755 "$stage" &&
		tar -C "$QRH_SRC" --exclude=./.git --exclude='./build*' -cf - . | tar -C "$stage" -xf - &&
		mkdir "$stage/$build" && cp -a "$QRH_BIN" "$QRH_BUILD/tests" "$stage/$build/" &&
		chmod -R a+rX "$stage" || { echo "run.sh: cannot copy the tree to $stage" >&2; exit 2; }
	echo "run.sh: $QRH_SRC is out of other users' reach: the tests run on a copy in $stage"
	QRH_SRC=$stage QRH_BIN=$stage/$build/$(basename "$QRH_BIN") QRH_BUILD=$stage/$build
	cd "$QRH_SRC" || exit 2
fi
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

# Tests run QRH_TEST_JOBS at a time (default: the number of CPUs, at most
# 4): most of a test's time is waiting for servers and screens, not CPU.
# A test that measures time (a latency, a step's timing against a
# deadline) says so with a line "# qrh-test: alone" and runs with no other
# test beside it; so do the unit tests named in ALONE_UNITS.
jobs_max=${QRH_TEST_JOBS:-$(nproc 2>/dev/null || echo 1)}
case $jobs_max in
'' | *[!0-9]* | 0) echo "run.sh: QRH_TEST_JOBS must be a number, not '$jobs_max'" >&2; exit 2 ;;
esac
[ "$jobs_max" -gt 4 ] && jobs_max=4
ALONE_UNITS=" test_loop test_loop_timers test_proc "
declare -A job_name job_start job_log
running=0

# setsid: the test leads a new session and process group, with no
# controlling terminal (-w: should setsid have to fork, it still waits and
# passes the status on). timeout(1) runs the test in that group and, when
# the time is up, sends SIGTERM to the group, SIGKILL 10 s later if
# anything is left; its status is then 124 (or 137 after SIGKILL). The test
# runs in the background so that a signal to this script is handled at once
# (see stop_current); `trap -` gives it the SIGINT and SIGQUIT dispositions
# this script started with, which bash would otherwise set to ignored.
launch() { # NAME COMMAND...
	local name=$1; shift
	local log="$logdir/${name//\//_}.log"
	(trap - INT QUIT; exec setsid -w timeout -k 10 "$limit" "$@") >"$log" 2>&1 &
	job_name[$!]=$name job_start[$!]=$(date +%s%N) job_log[$!]=$log
	running=$((running + 1))
}

# Waits for any one running test and reports it. Should `wait -n` name
# no test of ours (a status bash already handed out, or none left to it),
# a test whose process is gone is waited for by its PID, which still
# gives its status: a test is never lost, nor waited for forever.
reap_one() {
	local pid= rc
	wait -n -p pid
	rc=$?
	if [ -z "$pid" ] || [ -z "${job_name[$pid]+set}" ]; then
		pid=
		for p in "${!job_name[@]}"; do
			kill -0 "$p" 2>/dev/null && continue
			pid=$p
			wait "$pid"
			rc=$?
			break
		done
		[ -n "$pid" ] || return 0
	fi
	running=$((running - 1))
	local name=${job_name[$pid]} log=${job_log[$pid]}
	local ms=$(( ($(date +%s%N) - ${job_start[$pid]}) / 1000000 ))
	unset "job_name[$pid]" "job_start[$pid]" "job_log[$pid]"
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
		# What failed first, then the end: a sanitizer's leak report can
		# be long enough to push a failed assertion out of the tail.
		# cmocka writes an assertion's values on a line of their own
		# ("Could not run test: 0x4 != 0x3") before the line it names.
		grep -a -m 12 -E '^\[  (ERROR|FAILED) |[Ff]ailure|^FAIL|: (fail|FAIL)|^Could not run test' "$log" |
			sed 's/^/    ! /'
		sed 's/^/    | /' "$log" | tail -n 40
	fi
}

drain() { while [ $running -gt 0 ]; do reap_one; done; }

run_one() { # ALONE NAME COMMAND...
	local alone=$1; shift
	wanted "$1" || return 0
	if [ "$alone" = 1 ]; then
		drain
		launch "$@"
		drain
		return
	fi
	while [ $running -ge "$jobs_max" ]; do reap_one; done
	launch "$@"
}

# Interrupted (a key at the terminal, which the tests, in sessions of their
# own, do not get): end the running tests' groups and stop.
stop_current() {
	trap - INT TERM HUP
	local pid
	for pid in "${!job_name[@]}"; do
		kill -TERM -- "-$pid" 2>/dev/null
	done
	wait
	rm -rf "$logdir" ${stage:+"$stage"}
	echo "run.sh: interrupted by SIG$1" >&2
	exit 130
}
for sig in INT TERM HUP; do
	trap "stop_current $sig" "$sig"
done

words=("$@")
for t in "$QRH_BUILD"/tests/test_*; do
	[ -x "$t" ] || continue
	n=$(basename "$t")
	alone=0
	case $ALONE_UNITS in *" $n "*) alone=1 ;; esac
	run_one $alone "unit/$n" "$t"
done
for t in tests/cli/*.sh tests/integration/*.sh; do
	[ -f "$t" ] || continue
	alone=0
	grep -q '^# qrh-test: alone' "$t" && alone=1
	run_one $alone "${t#tests/}" bash "$t"
done
drain

rm -rf "$logdir" ${stage:+"$stage"}
echo
[ ${#failures[@]} -eq 0 ] || printf 'failed: %s\n' "${failures[*]}"
if [ $skipped -gt 0 ]; then
	echo "$passed passed, $failed failed, $skipped skipped"
else
	echo "$passed passed, $failed failed"
fi
[ $failed -eq 0 ]
