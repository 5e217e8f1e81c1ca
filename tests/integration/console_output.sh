#!/usr/bin/env bash
# What an incident commander must see, at 80x24: a step's result shown
# when it settles (the promote step's RPO line without pressing a key); a
# 300-character line read to its end, wrapped with continuation marks and
# with w scrolling sideways; three attempts one after another, each with
# its separator and exit status; the retry countdown ticking; a
# background action's marker, the header's count and its output under
# the step that started it; a failed on_fail=continue step's exit status
# and reason; status words, not raw names; the manual step's confirmation
# showing its instructions.
. "$(dirname "$0")/../lib.sh"
. "$QRH_SRC/tests/tui_lib.sh"

cat >"$T/rb.md" <<'RB'
---
title: Output test
---
## Promote {confirm=no}
```sh
echo "promoting the replica"; sleep 0.3; echo "RPO 1.5 s"
```
## Long line
```sh
printf 'START-%s-THE-END\n' "$(printf 'x%.0s' $(seq 1 286))"
```
## Flaky {retries=2 backoff=2s}
```sh
n=$(cat "$QRH_TEST_DIR/count" 2>/dev/null || echo 0); n=$((n + 1)); echo $n >"$QRH_TEST_DIR/count"
echo "try number $n"
[ "$n" -ge 3 ] || exit 7
```
## Load
```sh {background=true name=load}
i=0; while :; do i=$((i + 1)); echo "load tick $i"; sleep 0.2; done
```
## Stop the load
```wait {stop=load}
```
## Best effort {on_fail=continue}
```sh
echo "cleanup failed: disk busy" >&2; exit 9
```
## Check the dashboard
Look at the **dashboard**: the error rate is below one percent.
RB
[ "$(head -n 20 "$T/rb.md" | grep -c START)" = 1 ] || fail "runbook not written"

s=o
export TUI_DB=$T/j.db
tui_start $s 80 24 -- "$QRH_BIN" run --journal "$TUI_DB" rb.md

# the step that ran by itself shows its result: nobody pressed o
wait_for $s "1. Promote  [Result]  done"
assert_screen $s "RPO 1.5 s"
assert_screen $s "done, exit 0"

# a 300-character line, read to its end: wrapped, the continuation
# marked; then w scrolls it sideways and Right reaches its end
keys $s Enter
dialog $s "Run step 2?"
keys $s y
wait_for $s "2. Long line  [Result]  done"
[ "$(journal "select max(length(cast(data as text))) from output_chunks")" -ge 300 ] ||
	fail "the line is not in the journal whole"
assert_screen $s "START-xxx"
assert_screen $s "xx-THE-END"
assert_screen $s "↪xxxx"
keys $s w
wait_for $s "long lines scroll sideways"
wait_gone $s "THE-END"
assert_screen $s "START-xxx"
for k in 1 2 3 4 5 6 7 8 9 10 11 12; do
	case "$(screen $s)" in *THE-END*) break ;; esac
	keys $s Right
	sleep 0.1
done
wait_for $s "xx-THE-END"
assert_not_screen $s "START-"
keys $s Left Left Left Left Left Left Left Left Left Left Left Left
wait_for $s "START-xxx"
keys $s w
wait_for $s "long lines wrap"
wait_for $s "xx-THE-END"

# three attempts: the countdown ticks between them, and each attempt
# stays on show with its separator and exit status
keys $s Enter
dialog $s "Run step 3?"
keys $s y
wait_for $s "3. Flaky  [Output]  attempt 2/3, next in 2 s"
assert_screen $s " 3 Flaky             in 2s"
wait_for $s "attempt 2/3, next in 1 s"
wait_for $s "attempt 3/3, next in"
wait_for $s "3. Flaky  [Result]  done"
for line in "try number 1" "attempt 1/3 failed, exit 7" "── attempt 2/3 ──" "try number 2" \
	"attempt 2/3 failed, exit 7" "── attempt 3/3 ──" "try number 3" "attempt 3/3 done, exit 0"; do
	assert_screen $s "$line"
done
assert_not_screen $s "retry_wait"

# a background action: a marker on its step, a count in the header,
# its output under its step, labelled; stopped, it says so
keys $s Enter
dialog $s "Run step 4?"
keys $s y
wait_for $s "4. Load  [Result]  done"
wait_for $s "background 1"
assert_screen $s "── background load: running ──"
wait_for $s "load tick 3"
assert_screen $s " ✓& 4 Load"
keys $s Enter
dialog $s "Run step 5?"
keys $s y
wait_for $s "5. Stop the load  [Result]  done"
wait_gone $s "background 1"
assert_not_screen $s " ✓& 4 Load"
keys $s k k
wait_for $s "4. Load  [Output]  done"
wait_for $s "background load: ended"

# a failed on_fail=continue step: its exit status and why, and the run
# goes on (the selection to the last step)
keys $s j j
wait_for $s "Enter run 6"
keys $s Enter
dialog $s "Run step 6?"
keys $s y
wait_for $s "6. Best effort  [Result]  failed"
assert_screen $s "cleanup failed: disk busy"
assert_screen $s "failed, exit 9"
assert_screen $s "on_fail=continue:"
assert_screen $s "Enter run 7"

# the manual step's confirmation shows what is being confirmed
keys $s Enter
dialog $s "Run step 7?"
assert_screen $s "Look at the dashboard: the error rate is below one percent."
assert_screen $s "[y] yes, it is done   [n] no"
keys $s y
wait_for $s "run finished: failed"
keys $s q
wait_exit $s
assert_eq "$exit_code" 1
"$QRH_BIN" verify --journal "$TUI_DB" >/dev/null || fail "qrh verify fails on the console's journal"
echo "console output: results on settling, long lines, attempts, countdown, background, on_fail=continue, manual steps"
