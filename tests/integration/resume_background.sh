#!/usr/bin/env bash
# A step that starts a background action is cut off by kill -9 and run
# again by qrh resume: the action starts again, and its new output is
# journaled beside the old (each start has its own output task) instead
# of colliding with it and breaking the journal.
. "$(dirname "$0")/../lib.sh"
db=$T/j.db
export QRH_TEST_DIR=$T
trap 'for f in "$T"/tick.*; do [ -s "$f" ] && kill -9 "$(cat "$f")" 2>/dev/null; done; touch "$T/go"; rm -rf "$T"' EXIT
cat >"$T/bg.md" <<'RB'
## Start the ticker {id=start confirm=no}
```sh {background=true name=ticker}
echo $$ >"$QRH_TEST_DIR/tick.$$"
i=0; while [ "$i" -lt 400 ]; do i=$((i + 1)); echo "tick $i"; sleep 0.05; done
```
```sh
i=0; while [ ! -e "$QRH_TEST_DIR/go" ] && [ "$i" -lt 1200 ]; do sleep 0.05; i=$((i + 1)); done
```
## Stop it {id=stop confirm=no}
```wait {stop=ticker}
```
RB
"$QRH_BIN" run --plain --journal "$db" "$T/bg.md" >"$T/run.log" 2>&1 &
pid=$!
for _ in $(seq 1 400); do
	[ "$(sqlite3 "$db" "select count(*) from output_chunks" 2>/dev/null)" -gt 0 ] 2>/dev/null && break
	sleep 0.05
done
kill -9 $pid
wait $pid 2>/dev/null
for f in "$T"/tick.*; do kill -9 "$(cat "$f")" 2>/dev/null; rm -f "$f"; done
touch "$T/go"
run "$QRH_BIN" resume --plain --rerun-interrupted --journal "$db" 1
assert_rc 0 "resume that starts the background action again"
assert_not_contains "$err" "already recorded"
assert_eq "$(sqlite3 "$db" "select outcome from runs where id = 1")" "ok"
assert_eq "$(sqlite3 "$db" "select count(distinct task) from outputs where label = 'ticker'")" "2"
run "$QRH_BIN" verify --journal "$db"
assert_rc 0
run "$QRH_BIN" show --output --journal "$db" 1
assert_contains "$out" "stdout of background action 'ticker'"
echo "a background action started again on resume keeps its own output"
