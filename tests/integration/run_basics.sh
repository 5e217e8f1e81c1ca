#!/usr/bin/env bash
# qrh run --plain: exit codes, confirmations, retries, capture, on_fail,
# dry runs, and what is journaled.
. "$(dirname "$0")/../lib.sh"
db=$T/j.db

cat >"$T/ok.md" <<'RB'
## First {confirm=no}
```sh
echo one
```
## Second
```exec
echo two
```
## Manual check
Look at the dashboard.
RB
run "$QRH_BIN" run --plain --yes --journal "$db" "$T/ok.md"
assert_rc 0
assert_contains "$out" "[1] | one"
assert_contains "$out" "[2] | two"
assert_contains "$out" "[1/3] first: confirmed by"
assert_contains "$out" "(auto)"
assert_contains "$out" "[2/3] second: confirmed by"
assert_contains "$out" "(yes-flag)"
assert_contains "$out" "run 1 ended: ok"
assert_eq "$(sqlite3 "$db" "select outcome from runs where id=1")" "ok"
assert_eq "$(sqlite3 "$db" "select count(*) from events where run_id=1 and type='step_end'")" "3"

# without --yes and without a terminal: refuses the first step that needs one
run "$QRH_BIN" run --plain --journal "$db" "$T/ok.md" </dev/null
assert_rc 2
assert_contains "$err" "step 2 'second' needs a confirmation"
assert_contains "$out" "[1] | one"
assert_not_contains "$out" "[2] | two"

# typed confirmation needs its word, --yes is not enough
cat >"$T/typed.md" <<'RB'
## Promote {confirm=typed:PROMOTE}
```sh
echo promoted
```
RB
run "$QRH_BIN" run --plain --yes --journal "$db" "$T/typed.md" </dev/null
assert_rc 2
assert_not_contains "$out" "promoted"
run "$QRH_BIN" run --plain --yes --typed promote=WRONG --journal "$db" "$T/typed.md" </dev/null
assert_rc 2
assert_not_contains "$out" "[1] | promoted"
run "$QRH_BIN" run --plain --typed promote=PROMOTE --journal "$db" "$T/typed.md" </dev/null
assert_rc 0
assert_contains "$out" "[1] | promoted"
assert_contains "$out" "(typed)"

# a failing step stops the run with exit 1; retries with backoff first
cat >"$T/fail.md" <<'RB'
## Flaky {retries=2 backoff=50ms}
```sh
echo "attempt" >>"$QRH_TEST_DIR/attempts"
exit 3
```
## Never
```sh
echo never
```
RB
export QRH_TEST_DIR=$T
run "$QRH_BIN" run --plain --yes --journal "$db" "$T/fail.md"
assert_rc 1
assert_eq "$(wc -l <"$T/attempts")" "3"
assert_contains "$out" "retrying in 50 ms (attempt 2)"
assert_contains "$out" "retrying in 100 ms (attempt 3)"
assert_not_contains "$out" "[2] | never"
run_id=$(sqlite3 "$db" "select max(id) from runs")
assert_eq "$(sqlite3 "$db" "select outcome from runs where id=$run_id")" "failed"
assert_eq "$(sqlite3 "$db" "select json_extract(payload,'\$.exit_code') from events where run_id=$run_id and type='step_end' order by seq desc limit 1")" "3"

# on_fail=continue goes on but the run still counts as failed
sed -i 's/{retries=2 backoff=50ms}/{on_fail=continue}/' "$T/fail.md"
run "$QRH_BIN" run --plain --yes --journal "$db" "$T/fail.md"
assert_rc 1
assert_contains "$out" "[2] | never"

# capture: a value from one step used by the next
cat >"$T/capture.md" <<'RB'
## Name the backup {confirm=no capture=BACKUP}
```sh
echo nightly-42
```
## Use it {confirm=no}
```exec
echo restoring ${BACKUP}
```
RB
run "$QRH_BIN" run --plain --journal "$db" "$T/capture.md"
assert_rc 0
assert_contains "$out" "[2] | restoring nightly-42"

# dry run: shows, runs nothing, journaled as a dry run
cat >"$T/dry.md" <<'RB'
---
vars:
  TARGET: {prompt: where}
---
## Danger
```exec
touch ${TARGET}
```
RB
run "$QRH_BIN" run --plain --dry-run --journal "$db" "$T/dry.md" </dev/null
assert_rc 0
assert_contains "$out" "dry run, would run:"
assert_contains "$out" "touch '<TARGET>'"
[ ! -e "<TARGET>" ] || fail "dry run ran the command"
assert_eq "$(sqlite3 "$db" "select mode from runs order by id desc limit 1")" "dry-run"

# a variable without a value and no terminal: refused before anything runs
run "$QRH_BIN" run --plain --yes --journal "$db" "$T/dry.md" </dev/null
assert_rc 2
assert_contains "$err" "variable 'TARGET' has no value: give -v TARGET=VALUE"
run "$QRH_BIN" run --plain --yes -v NOPE=1 --journal "$db" "$T/dry.md"
assert_rc 2
assert_contains "$err" "declares no variable 'NOPE'"

# an invalid runbook never opens a run
n_before=$(sqlite3 "$db" "select count(*) from runs")
printf '## A {retries=x}\n' >"$T/bad.md"
run "$QRH_BIN" run --plain --yes --journal "$db" "$T/bad.md"
assert_rc 2
assert_contains "$err" "bad.md:1:15: error:"
assert_eq "$(sqlite3 "$db" "select count(*) from runs")" "$n_before"

# a journal that cannot be opened refuses the run
run "$QRH_BIN" run --plain --yes --journal /proc/qrh/nope.db "$T/ok.md"
assert_rc 2
assert_contains "$err" "cannot open the journal"
assert_not_contains "$out" "[1] | one"

# qrh RUNBOOK is qrh run RUNBOOK
QRH_JOURNAL=$db run "$QRH_BIN" "$T/capture.md"
assert_rc 0
assert_contains "$out" "restoring nightly-42"

# an executor that cannot do its work fails the step clearly instead of
# pretending: here the velero CLI is not there
printf -- '---\ntargets:\n  k: {kind: kubernetes, binary: /nonexistent/velero}\n---\n## Q {confirm=no}\n```velero {target=k}\nbackup get\n```\n' >"$T/velero.md"
run "$QRH_BIN" run --plain --journal "$db" "$T/velero.md"
assert_rc 1
assert_contains "$out" "cannot run '/nonexistent/velero'"
echo "run basics: ok"
