#!/usr/bin/env bash
# qrh watch in a second tmux session follows a run that a console in the
# first is running: step states, output while the step runs, notes, the
# end of the run; keys that would change the run are refused and the
# journal gains nothing from the watcher. Twice: a console at 80x24
# watched at 120x40, and the other way round.
. "$(dirname "$0")/../lib.sh"
. "$QRH_SRC/tests/tui_lib.sh"

cat >"$T/rb.md" <<'RB'
---
title: Watch test
---
## Look {confirm=no}
```sh
echo looked
```
## Stream
```sh
for i in 1 2 3 4 5 6; do echo "tick $i"; sleep 0.5; done
```
## Manual
Check the dashboard.
RB

one_round() {
	local rc=$1 rl=$2 wc=$3 wl=$4 r=run$1 w=watch$1 n
	export TUI_DB=$T/j$rc.db
	tui_start $r "$rc" "$rl" -- "$QRH_BIN" run --journal "$TUI_DB" rb.md
	wait_for $r "1. Look  [Result]  done"
	tui_start $w "$wc" "$wl" -- "$QRH_BIN" watch --journal "$TUI_DB"
	wait_for $w "Watch test"
	wait_for $w "Steps 1/3 done"
	wait_for $w "1. Look  [Result]  done" # as the console shows it
	assert_screen $w "read-only"

	# the watcher follows the step and its output while it runs
	keys $r Enter
	dialog $r "[y] yes"
	keys $r y
	wait_for $w "2. Stream  [Output]  running"
	wait_for $w "tick 2"
	assert_contains "$last_screen" "2. Stream  [Output]  running" # on the same screen

	# keys that would change the run are refused; the journal gains nothing
	n=$(journal "select count(*) from events")
	for k in Enter s d a x C-c A; do
		keys $w "$k"
		if [ "$k" = a ]; then # a local watcher's note has no way to the run
			wait_for $w "read-only: a watcher's notes go through the team database"
		else
			wait_for $w "read-only: qrh watch follows the run, it cannot change it"
		fi
		keys $w Escape
		wait_gone $w "read-only:"
	done
	assert_not_screen $w "Skip step"
	assert_not_screen $w "Note for the journal"
	wait_for $r "Steps 2/3 done"
	assert_eq "$(journal "select count(*) from events where type in ('note','step_skip','step_done_by_hand','step_confirm')")" 2

	# what the console does next shows in the watcher
	wait_for $w "Steps 2/3 done"
	wait_for $r "2. Stream  [Result]  done"
	keys $r a
	dialog $r "Note for the journal"
	type_text $r "watched at ${wc}x$wl"
	keys $r Enter
	wait_for $w "notes 1"
	keys $r d
	dialog $r "done by hand: what was done?"
	type_text $r "dashboard green"
	keys $r Enter
	wait_for $w "Steps 3/3 done"
	wait_for $w "the run has ended; q leaves"
	keys $w l # the notes, read-only
	dialog $w "Notes of run"
	assert_screen $w "watched at ${wc}x$wl"
	keys $w Escape
	wait_gone $w "Notes of run"
	keys $w k # a step's stored output, on request
	wait_for $w "2. Stream  [Output]  done"
	assert_screen $w "tick 6"
	keys $w q
	wait_exit $w
	assert_eq "$exit_code" 0
	keys $r q
	wait_exit $r
	assert_eq "$exit_code" 0
	assert_eq "$(journal "select outcome from runs")" ok
	tm kill-session -t $r
	tm kill-session -t $w
}

one_round 80 24 120 40
one_round 120 40 80 24
echo "console watch: both sizes"
