#!/usr/bin/env bash
# When the journal cannot store a step's output (here a full disk, played
# by a trigger), the message names the step as the operator knows it: its
# number from 1 and its id, never the journal's index from 0.
. "$(dirname "$0")/../lib.sh"
command -v sqlite3 >/dev/null || { echo "sqlite3 is not installed"; exit 77; }
db=$T/j.db
printf '## Warm up {confirm=no}\n```sh\ntrue\n```\n' >"$T/warm.md"
run "$QRH_BIN" run --plain --journal "$db" "$T/warm.md"
assert_rc 0
sqlite3 "$db" "CREATE TRIGGER full BEFORE INSERT ON output_chunks BEGIN
	SELECT RAISE(ABORT, 'database or disk is full'); END"

cat >"$T/full.md" <<'RB'
## First {id=first confirm=no}
```sh
true
```
## Second {id=second confirm=no}
```sh
seq 1 30000
```
RB
run "$QRH_BIN" run --plain --journal "$db" "$T/full.md"
assert_contains "$err" "step 2 'second': output of task 2 of step 2, stdout, is no longer stored"
assert_contains "$err" "database or disk is full"
assert_not_contains "$err" "step 1 stdout"
assert_not_contains "$err" "of step 1 "
echo "a storage failure names the step by its number and id"
