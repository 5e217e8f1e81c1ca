#!/usr/bin/env bash
# A step leaves a process behind that holds its output open. The record
# says what really happened to it: "killed" only when it was in the step's
# process group (the kill reached it), "left running" with its pid when it
# had left the group (setsid) — and then it really is still running.
. "$(dirname "$0")/../lib.sh"
db=$T/j.db
export QRH_TEST_DIR=$T
# the process left running is ours to stop, by the pid it wrote itself
trap '[ -s "$T/sleeper.pid" ] && kill -9 "$(cat "$T/sleeper.pid")" 2>/dev/null; rm -rf "$T"' EXIT

summary() { # STEP: the action_end summary of step STEP (0-based)
	sqlite3 "$db" "select json_extract(payload,'\$.summary') from events
		where type='action_end' and step=$1 order by seq desc limit 1"
}

cat >"$T/held.md" <<'RB'
## Outside the group {confirm=no}
```sh
setsid sh -c 'echo $$ >"$QRH_TEST_DIR/sleeper.pid"; exec sleep 1013' &
echo started
```
## Inside the group {confirm=no}
```sh
sleep 1014 &
echo started
```
RB
run "$QRH_BIN" run --plain --yes --grace 1s --journal "$db" "$T/held.md"
assert_rc 0 "$err"

s1=$(summary 0)
assert_contains "$s1" "exit 0; "
assert_contains "$s1" "it left behind (pid"
assert_contains "$s1" ") held the output open and w"
assert_contains "$s1" " left running"
assert_not_contains "$s1" "killed"
left=$(printf '%s\n' "$s1" | sed -n 's/.*(pids* \([0-9, ]*\)).*/\1/p' | tr -d ,)
[ -n "$left" ] || fail "no pid in: $s1"
sleeper=
for p in $left; do
	kill -0 "$p" 2>/dev/null || fail "pid $p was reported left running but is gone"
	case "$(tr '\0' ' ' <"/proc/$p/cmdline")" in
	*"sleep 1013"*) sleeper=$p ;;
	esac
done
[ -n "$sleeper" ] || fail "the setsid sleep is not among the pids reported: $left"

s2=$(summary 1)
assert_contains "$s2" "exit 0; a process it left behind (pid "
assert_contains "$s2" ") held the output open and was killed"
killed=$(printf '%s\n' "$s2" | sed -n 's/.*(pid \([0-9]*\)).*/\1/p')
for _ in $(seq 1 100); do
	kill -0 "$killed" 2>/dev/null || break
	sleep 0.05
done
! kill -0 "$killed" 2>/dev/null || fail "pid $killed was reported killed but runs"
run "$QRH_BIN" verify --journal "$db"
assert_rc 0
echo "the record says what happened to a process left behind"
