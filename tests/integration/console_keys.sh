#!/usr/bin/env bash
# Keys that cannot do harm by accident, at 80x24: `yy` and `Enter y` typed
# ahead run nothing (the dialog drops keys typed in its first moment and
# says so); Enter opens the run dialog and does not confirm it; a sentence
# typed at a settled step journals nothing (the refused key locks typing,
# and the console says why); after a step settles the selection moves to
# the first step not settled while its result stays on show; a step run
# out of order takes the word OUT-OF-ORDER; on_fail=stop offers only retry
# or abort (s and d refused, in words), on_fail=ask the full choice; `a`
# in the failure dialog does not abort; A asks for ABORT typed, and a
# wrong word aborts nothing. The journal is the judge of each.
. "$(dirname "$0")/../lib.sh"
. "$QRH_SRC/tests/tui_lib.sh"

cat >"$T/rb.md" <<'RB'
---
title: Keys test
---
## Look {confirm=no}
```sh
echo looked
```
## Switch traffic
```sh
echo switched
```
## Let traffic settle
```sh
echo settled
```
## Promote {on_fail=stop}
```sh
echo "promotion failed" >&2; exit 4
```
## Tidy up {on_fail=ask}
```sh
echo "tidy failed" >&2; exit 5
```
## Report
By hand: write the report.
RB

s=k
export TUI_DB=$T/j.db
events() {
	journal "select count(*) from events"
}
tui_start $s 80 24 -- "$QRH_BIN" run --journal "$TUI_DB" rb.md
wait_for $s "1. Look  [Result]  done"
assert_screen $s "Enter run 2"

# yy on the main screen: y is no key; nothing is journaled
n=$(events)
type_text $s yy
wait_for $s "'y' is not a key of the console"
assert_eq "$(events)" "$n"
keys $s Escape
wait_gone $s "'y' is not a key"

# Enter y typed at once: the dialog opens, y is dropped and counted
keys $s Enter y
wait_for $s "Run step 2?"
wait_for $s "1 key typed ahead was ignored"
wait_gone $s "$TUI_GUARD"
assert_screen $s "[y] yes, run it   [n] no"
assert_eq "$(journal "select count(*) from events where type in ('step_confirm','step_start') and step=1")" 0
# Enter opened the dialog; Enter does not confirm it
keys $s Enter
assert_screen $s "Run step 2?"
keys $s Escape
wait_gone $s "Run step 2?"
assert_eq "$(journal "select count(*) from events where type in ('step_confirm','step_start') and step=1")" 0

# running step 3 before step 2 takes the word OUT-OF-ORDER, not y
keys $s j Enter
dialog $s "Type OUT-OF-ORDER and Enter to run it"
assert_screen $s "Out of order: step 2 'switch-traffic' is not settled yet."
keys $s y Enter
wait_for $s "not confirmed: the word did not match; nothing ran"
keys $s Enter
dialog $s "Type OUT-OF-ORDER and Enter to run it"
type_text $s OUT-OF-ORDER
keys $s Enter
# it settles: its result on show, the selection back on step 2
wait_for $s "3. Let traffic settle  [Result]  done"
assert_screen $s "settled"
assert_screen $s "Enter run 2"
assert_eq "$(journal "select json_extract(payload,'\$.how') || ':' || json_extract(payload,'\$.out_of_order')
	from events where type='step_confirm' and step=2")" "typed:1"

# step 2 in order: plain y; then the selection goes to step 4, the first
# step not settled, and step 2's result stays on show
keys $s Enter
dialog $s "Run step 2?"
keys $s y
wait_for $s "2. Switch traffic  [Result]  done"
assert_screen $s "switched"
assert_screen $s "Enter run 4"

# a sentence typed at a settled step: s is refused in words, the rest of
# the sentence is dropped, and nothing reaches the journal
keys $s k k k
wait_for $s "1. Look  [Output]  done"
n=$(events)
type_text $s "skipped: the network was flaky and nobody answered the page, so I moved on"
keys $s Enter
wait_for $s "step 1 'look' was already done (keys typed after it are ignored)"
assert_not_screen $s "Note for the journal"
assert_not_screen $s "Skip step"
assert_not_screen $s "Run step"
sleep 1 # nothing comes later either
assert_eq "$(events)" "$n"
assert_eq "$(journal "select count(*) from events where type in ('note','step_skip')")" 0
keys $s Escape

# on_fail=stop: the dialog offers retry and abort; s and d are refused
keys $s G k k
wait_for $s "4. Promote"
keys $s Enter
dialog $s "Run step 4?"
keys $s y
dialog $s "Step 4 failed: exit 4"
assert_screen $s "on_fail=stop: the run stops here"
assert_screen $s "[r] retry"
assert_screen $s "[A] abort the run"
assert_not_screen $s "[s] skip"
assert_not_screen $s "[d] done by hand"
assert_screen $s "promotion failed"
# a in the failure dialog: not a choice, and certainly no abort
keys $s a
wait_for $s "'a' is not one of the choices here: rA, or Esc"
assert_screen $s "Step 4 failed: exit 4"
assert_eq "$(journal "select count(*) from events where type='run_end'")" 0
keys $s Escape
wait_gone $s "Step 4 failed"
keys $s s
wait_for $s "step 4 'promote' failed and has on_fail=stop: it can be retried"
sleep 0.6
keys $s d
wait_for $s "step 4 'promote' failed and has on_fail=stop"
assert_eq "$(journal "select count(*) from events where type in ('step_skip','step_done_by_hand')")" 0
keys $s Escape

# on_fail=ask: the full choice (step 5, out of order past step 4)
keys $s j Enter
dialog $s "Type OUT-OF-ORDER"
type_text $s OUT-OF-ORDER
keys $s Enter
dialog $s "Step 5 failed: exit 5"
assert_screen $s "[r] retry"
assert_screen $s "[s] skip it (asks why)"
assert_screen $s "[d] done by hand (asks what was done)"
assert_screen $s "[A] abort the run"
keys $s d
dialog $s "Step 5 done by hand: what was done?"
type_text $s "tidied by hand"
keys $s Enter
wait_for $s "5. Tidy up  [Result]  done by hand"
assert_screen $s "tidied by hand"
keys $s j j
wait_for $s "6. Report"
keys $s d
dialog $s "Step 6 done by hand"
type_text $s "wrote it"
keys $s Enter
wait_for $s "6. Report  [Result]  done by hand"
assert_screen $s "Enter decide 4" # back to the step that stops the run
keys $s G
wait_for $s "6. Report  [Output]  done by hand"
keys $s d
wait_for $s "step 6 'report' was already done by hand"
keys $s Escape

# A asks for ABORT: a wrong word aborts nothing, the word does
sleep 0.6
keys $s A
dialog $s "Abort the run?"
assert_screen $s "The remaining steps will not run"
type_text $s abort
keys $s Enter
wait_for $s "not aborted: the word did not match; the run goes on"
assert_eq "$(journal "select count(*) from events where type='run_end'")" 0
keys $s A
dialog $s "Type ABORT and Enter to abort the run"
type_text $s ABORT
keys $s Enter
wait_exit $s
assert_eq "$exit_code" 1
assert_eq "$(journal "select json_extract(payload,'\$.outcome') from events where type='run_end'")" aborted
id=$(journal "select max(id) from runs")
assert_joined $s "qrh: run $id aborted"
assert_joined $s "journal head $id:$(journal "select seq || ':' || hash from events order by seq desc limit 1")"
"$QRH_BIN" verify --journal "$TUI_DB" >/dev/null || fail "qrh verify fails on the console's journal"
echo "console keys: typed-ahead keys dropped, refused keys lock typing, one selection rule, stop and ask, abort typed"
