#!/usr/bin/env bash
# The console driven through tmux at 80x24 and 120x40: it runs a
# confirm=no step by itself and shows its result with the next step
# selected, shows a step's output while it runs and its result once it
# settles, asks for a typed word (a wrong word runs nothing), takes a
# note, a step done by hand with a note, a skip with a reason, a retry
# from the failure dialog; and the journal records each as done. The
# first screen is compared with golden/console_initial_{80x24,120x40}.
# When the run ends the journal head is shown; leaving prints the run's
# number and outcome, then the head whole.
. "$(dirname "$0")/../lib.sh"
. "$QRH_SRC/tests/tui_lib.sh"

cat >"$T/rb.md" <<'RB'
---
title: Console test
---
## Look around {confirm=no}
A read-only check that needs no confirmation.
```sh
echo looked around
```
## Stream
Prints five lines, half a second apart.
```sh
for i in 1 2 3 4 5; do echo "tick $i"; sleep 0.5; done
```
## Promote {confirm=typed:PROMOTE}
Promotes the replica. Type the word.
```sh
echo promoted
```
## Check the dashboard
Look at the **dashboard** and confirm the error rate is down.
## Optional cleanup
```sh
echo should-not-run
```
## Flaky
```sh
if [ -e "$QRH_TEST_DIR/marker" ]; then echo second try ok; else touch "$QRH_TEST_DIR/marker"; echo first try fails >&2; exit 3; fi
```
RB

one_size() {
	local cols=$1 lines=$2 s=run$1
	export TUI_DB=$T/j$cols.db
	rm -f "$T/marker"
	tui_start $s "$cols" "$lines" -- "$QRH_BIN" run --journal "$TUI_DB" rb.md

	# open: step 1 ran by itself (confirm=no) and shows its result;
	# step 2 is selected, the key bar says Enter runs it
	wait_for $s "Steps 1/6 done"
	wait_for $s "1. Look around  [Result]  done"
	assert_screen $s "looked around"
	assert_screen $s "done, exit 0"
	assert_screen $s "Enter run 2"
	assert_screen $s "Console test"
	golden $s console_initial_${cols}x$lines
	keys $s Escape # back to the selection: step 2's instructions
	wait_for $s "2. Stream  [Instructions]  not run yet"
	assert_screen $s "Prints five lines, half a second apart."
	assert_screen $s "Runs, once confirmed:"

	# confirm and run; the output streams while the step runs, and stays
	# on show once the step has settled
	keys $s Enter
	dialog $s "[y] yes, run it"
	assert_screen $s "Run step 2?"
	assert_screen $s '[sh] for i in 1 2 3 4 5; do echo "tick $i"; sleep 0.5; done'
	keys $s y
	wait_for $s "tick 1"
	assert_contains "$last_screen" "[Output]  running" # the same screen
	assert_not_contains "$last_screen" "tick 5"
	wait_for $s "tick 3"
	wait_for $s "Steps 2/6 done"
	wait_for $s "2. Stream  [Result]  done"
	assert_screen $s "tick 5"
	assert_screen $s "Enter run 3"

	# typed confirmation: a wrong word does nothing, the right one runs
	keys $s Enter
	dialog $s "Type PROMOTE and Enter to run"
	type_text $s PROMOTe
	keys $s Enter
	wait_for $s "not confirmed: the word did not match; nothing ran"
	assert_eq "$(journal "select count(*) from events where type='step_start' and step=2")" 0
	keys $s Enter
	dialog $s "Type PROMOTE and Enter to run"
	type_text $s PROMOTE
	keys $s Enter
	wait_for $s "Steps 3/6 done"
	wait_for $s "3. Promote  [Result]  done"
	assert_screen $s "promoted"

	# a note, then the manual step done by hand with a note
	keys $s a
	dialog $s "Note for the journal"
	type_text $s "error rate back to normal at $cols cols"
	keys $s Enter
	wait_for $s "notes 1"
	keys $s d
	dialog $s "Step 4 done by hand: what was done?"
	type_text $s "looked at grafana"
	keys $s Enter
	wait_for $s "Steps 4/6 done"
	wait_for $s "done by hand by"
	assert_screen $s "looked at grafana"

	# skip with a reason (an empty reason skips nothing)
	keys $s s
	dialog $s "Skip step 5: why?"
	keys $s Enter
	wait_for $s "a skip needs a reason; the step was not skipped"
	keys $s s
	dialog $s "Skip step 5: why?"
	type_text $s "not needed in a drill"
	keys $s Enter
	wait_for $s "Steps 5/6 done"

	# a failure, then r in the failure dialog runs it again
	keys $s Enter
	dialog $s "Run step 6?"
	keys $s y
	dialog $s "choose: r"
	assert_screen $s "Step 6 failed: exit 3"
	assert_screen $s "[r] retry"
	assert_screen $s "first try fails"
	keys $s r
	wait_for $s "second try ok"
	wait_for $s "run finished: ok; journal head "
	local finished=$last_screen
	assert_screen $s "Steps 6/6 done"
	keys $s q
	wait_exit $s
	assert_eq "$exit_code" 0
	# the leave lines, for the ticket: the run, its outcome; the head
	assert_joined $s "qrh: run $(journal "select max(id) from runs") ended: ok"

	# the journal agrees
	local id head
	id=$(journal "select max(id) from runs")
	# the head to anchor: shown when the run ends, printed whole on leaving
	head=$(journal "select id || ':' || head_seq || ':' || head_hash from runs where id=$id")
	tm capture-pane -p -J -t $s | grep -qF "journal head $head" ||
		tui_timeout $s "the full head $head is not printed on leaving"
	assert_contains "$finished" "journal head ${head:0:$((${#head} - 52))}. Press q"
	assert_eq "$(journal "select outcome from runs where id=$id")" ok
	assert_eq "$(journal "select group_concat(json_extract(payload,'\$.step_id') || '=' || json_extract(payload,'\$.how'), ' ')
		from (select payload from events where run_id=$id and type='step_confirm' order by seq)")" \
		"look-around=auto stream=enter promote=typed flaky=enter flaky=enter"
	assert_eq "$(journal "select json_extract(payload,'\$.reason') from events where run_id=$id and type='step_skip'")" \
		"not needed in a drill"
	assert_eq "$(journal "select step || ':' || json_extract(payload,'\$.note') from events
		where run_id=$id and type='step_done_by_hand'")" "3:looked at grafana"
	assert_eq "$(journal "select json_extract(payload,'\$.text') from events where run_id=$id and type='note'")" \
		"error rate back to normal at $cols cols"
	assert_eq "$(journal "select count(*) from events where run_id=$id and type='step_start' and step=2")" 1
	assert_eq "$(journal "select group_concat(json_extract(payload,'\$.status'), ',') from
		(select payload from events where run_id=$id and type='step_end' and step=5 order by seq)")" "failed,ok"
	assert_eq "$(journal "select count(*) from events where run_id=$id and step=4 and type in ('step_start','step_confirm')")" 0
	"$QRH_BIN" verify --journal "$TUI_DB" >/dev/null || fail "qrh verify fails on the console's journal"
	tm kill-session -t $s
}

one_size 80 24
one_size 120 40

# Retrying a failed confirm=typed step asks for its word again.
cat >"$T/typed.md" <<'RB'
## Promote {confirm=typed:PROMOTE}
```sh
if [ -e "$QRH_TEST_DIR/typed-marker" ]; then echo promoted at last; else touch "$QRH_TEST_DIR/typed-marker"; exit 1; fi
```
RB
export TUI_DB=$T/typed.db
tui_start typed 80 24 -- "$QRH_BIN" run --journal "$TUI_DB" typed.md
wait_for typed "1. Promote  [Instructions]  not run yet"
keys typed Enter
dialog typed "Type PROMOTE and Enter to run"
type_text typed PROMOTE
keys typed Enter
dialog typed "Step 1 failed: exit 1"
keys typed r
dialog typed "Type PROMOTE and Enter to run"
assert_eq "$(journal "select count(*) from events where type='step_start'")" 1
type_text typed PROMOTE
keys typed Enter
wait_for typed "promoted at last"
wait_for typed "run finished: ok" # the output shows before the run ends
assert_eq "$(journal "select group_concat(json_extract(payload,'\$.how'), ',') from events where type='step_confirm'")" "typed,typed"
keys typed q
wait_exit typed
assert_eq "$exit_code" 0
echo "console run: 80x24 and 120x40, typed retry"
