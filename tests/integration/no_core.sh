#!/usr/bin/env bash
# A qrh that holds a secret cannot leave it in a core file: it makes
# itself non-dumpable (PR_SET_DUMPABLE 0) and sets RLIMIT_CORE to 0 before
# it reads one. Proved from outside: the kernel gives /proc/PID of a
# non-dumpable process to root (seen from a run as user nobody), its
# limits say 0, and kill -SEGV with `ulimit -c unlimited` leaves no core
# where a run without secrets does leave one. Sanitizer builds keep their
# crash reports instead.
. "$(dirname "$0")/../lib.sh"
if [ -n "${QRH_SANITIZE:-}" ]; then
	echo "sanitizer build: qrh keeps crash reports there"
	exit 77
fi
chmod 755 "$T"
qpid=
trap '[ -n "$qpid" ] && kill -9 $qpid 2>/dev/null; touch "$T/j/go"; rm -rf "$T"' EXIT

cat >"$T/secret.md" <<'RB'
---
vars:
  PW:
    secret: true
---
# Holds a secret

## Wait {confirm=no}
```sh
echo "$PPID" >"$QRH_TEST_DIR/qrh.pid"
i=0; while [ ! -e "$QRH_TEST_DIR/go" ] && [ "$i" -lt 1200 ]; do sleep 0.05; i=$((i+1)); done
```
RB
awk '/^---$/ { fm++; next } fm != 1' "$T/secret.md" >"$T/plain.md"
grep -q "secret: true" "$T/plain.md" && fail "plain.md still declares the secret"
chmod 644 "$T/secret.md" "$T/plain.md"
mkdir -m 777 "$T/j"

# launch [USER] RUNBOOK [QRH ARGS...]: qrh in the background (as USER if
# not empty) until its step runs; sets qpid to qrh's own pid
launch() {
	local user=$1 rb=$2
	shift 2
	rm -f "$T/j/go" "$T/j/qrh.pid"
	${user:+runuser -u "$user" --} env QRH_TEST_DIR="$T/j" PW=topsecret \
		"$QRH_BIN" run --plain --journal "$T/j/$RANDOM.db" "$@" "$rb" >"$T/run.log" 2>&1 &
	for _ in $(seq 1 400); do
		[ -s "$T/j/qrh.pid" ] && break
		sleep 0.05
	done
	[ -s "$T/j/qrh.pid" ] || fail "the run never reached its step: $(cat "$T/run.log")"
	qpid=$(cat "$T/j/qrh.pid")
}
finish() { touch "$T/j/go"; while kill -0 "$qpid" 2>/dev/null; do sleep 0.05; done; qpid=; }

# 1. as an unprivileged user: /proc/PID belongs to root once non-dumpable
if id nobody >/dev/null 2>&1 && command -v runuser >/dev/null; then
	launch nobody "$T/plain.md"
	assert_eq "$(stat -c %U "/proc/$qpid/status")" "nobody"	# control: dumpable
	finish
	launch nobody "$T/secret.md" -v PW=@env:PW
	assert_eq "$(stat -c %U "/proc/$qpid/status")" "root"	# non-dumpable
	assert_contains "$(grep 'Max core file size' "/proc/$qpid/limits")" " 0 "
	finish
	echo "non-dumpable as user nobody, with RLIMIT_CORE 0"
fi

# 2. kill -SEGV with cores on: a core without secrets, none with one
case "$(cat /proc/sys/kernel/core_pattern)" in
/* | \|*) echo "core_pattern is not a relative file name: no real core test"; exit 0 ;;
esac
mkdir -p "$T/c1" "$T/c2"
ulimit -c unlimited 2>/dev/null || { echo "cannot raise the core limit"; exit 0; }
cd "$T/c1" && launch "" "$T/plain.md"
kill -SEGV "$qpid"
finish
cd "$T/c2" && launch "" "$T/secret.md" -v PW=@env:PW
kill -SEGV "$qpid"
finish
cd "$T"
if ! ls "$T"/c1/core* >/dev/null 2>&1; then
	echo "no core file even without secrets: cores are not written here"
	exit 0
fi
if ls "$T"/c2/core* >/dev/null 2>&1; then
	grep -q topsecret "$T"/c2/core* && fail "the core file holds the secret"
	fail "a qrh holding a secret dumped core"
fi
echo "kill -SEGV: a core without secrets, none with one"
