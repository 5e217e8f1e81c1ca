#!/usr/bin/env bash
# qrh-test: alone (it measures time: no other test beside it)
# A child that ignores SIGTERM is killed at timeout + grace, and nothing of
# its process group outlives the step.
. "$(dirname "$0")/../lib.sh"
cat >"$T/stubborn.md" <<'RB'
## Stubborn {confirm=no}
```sh {timeout=1s}
trap '' TERM
echo $$ >"$QRH_TEST_DIR/pgid"
sleep 30 &
sleep 30
```
RB
export QRH_TEST_DIR=$T
run "$QRH_BIN" run --plain --grace 1s --journal "$T/j.db" "$T/stubborn.md"
assert_rc 1
dur=$(sqlite3 "$T/j.db" "select json_extract(payload,'\$.duration_ms') from events where type='action_end'")
status=$(sqlite3 "$T/j.db" "select json_extract(payload,'\$.status') from events where type='step_end'")
assert_eq "$status" "timeout"
# timeout 1 s + grace 1 s = 2 s, within a second either way
[ "$dur" -ge 1000 ] && [ "$dur" -le 3000 ] || fail "killed after $dur ms, expected 2000 +- 1000"
pgid=$(cat "$T/pgid")
# the init of this machine reaps orphans lazily: wait for the group to go,
# and never accept a live member
for _ in $(seq 1 100); do
	live=$(ps -o pid=,stat= -g "$pgid" 2>/dev/null | awk '$2 !~ /^Z/' | wc -l)
	[ "$live" -eq 0 ] && break
	sleep 0.1
done
[ "$live" -eq 0 ] || fail "processes of group $pgid outlived the step: $(ps -o pid,stat,cmd -g "$pgid")"
echo "timeout: killed after $dur ms"
