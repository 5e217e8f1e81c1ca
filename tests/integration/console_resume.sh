#!/usr/bin/env bash
# Quit and resume in the console, at 80x24 and 120x40: q while idle leaves
# the run open (the leave lines say so, with the journal head) and `qrh
# resume` opens the console on the same run, its notes and their counter
# kept; after kill -9 of qrh in the middle of a step, `qrh resume` asks
# about the interrupted step, showing its last lines and that its process
# is still alive, offering done by hand too; stopped, then r runs it
# again. The terminal works normally after qrh quits.
. "$(dirname "$0")/../lib.sh"
. "$QRH_SRC/tests/tui_lib.sh"

cat >"$T/rb.md" <<'RB'
---
title: Resume test
---
## First
```sh
echo first done
```
## Long one
```sh
echo "attempt started"
if [ -e "$QRH_TEST_DIR/ran-once" ]; then echo "second attempt done"; exit 0; fi
touch "$QRH_TEST_DIR/ran-once"
echo $$ >"$QRH_TEST_DIR/sleeper"
sleep 60
```
## Last
```sh
echo last done
```
RB

# kills what the first attempt of "Long one" left running (its group)
kill_sleeper() {
	[ -f "$T/sleeper" ] && kill -9 -- -"$(cat "$T/sleeper")" 2>/dev/null
	rm -f "$T/sleeper"
}
trap 'kill_sleeper; tui_cleanup' EXIT

one_size() {
	local cols=$1 lines=$2 s=a$1 id pid
	export TUI_DB=$T/j$cols.db
	rm -f "$T/ran-once"

	# q while idle: asks, leaves the run open, exit 3 (interrupted)
	tui_start $s "$cols" "$lines" -- "$QRH_BIN" run --journal "$TUI_DB" rb.md
	wait_for $s "1. First  [Instructions]  not run yet"
	keys $s Enter
	dialog $s "[y] yes"
	keys $s y
	wait_for $s "Steps 1/3 done"
	keys $s a
	dialog $s "Note for the journal"
	type_text $s "before the resume"
	keys $s Enter
	wait_for $s "notes 1"
	keys $s q
	# the journal given with --journal is named: the words work as printed
	dialog $s "Quit? The run stays open: qrh resume --journal"
	keys $s n
	wait_gone $s "Quit? The run stays open"
	keys $s q
	dialog $s "[y] yes"
	keys $s y
	wait_exit $s
	assert_eq "$exit_code" 3
	# the terminal is usable again: typing echoes, Enter ends the line
	type_text $s "typed after quit"
	keys $s Enter
	wait_for $s "[read typed after quit]"
	id=$(journal "select max(id) from runs")
	assert_eq "$(journal "select coalesce(outcome, 'open') from runs where id=$id")" open
	assert_joined $s "qrh: run $id left open (qrh resume $id continues it)"
	assert_joined $s "journal head $id:$(journal "select seq || ':' || hash from events where run_id=$id order by seq desc limit 1")"

	# qrh resume opens the console on the same run
	tui_start b$cols "$cols" "$lines" -- "$QRH_BIN" resume --journal "$TUI_DB"
	s=b$cols
	wait_for $s "Resume test"
	wait_for $s "2. Long one  [Instructions]  not run yet"
	assert_screen $s "run $id |"
	assert_screen $s "Steps 1/3 done"
	# the notes made before the resume count, and are listed
	assert_screen $s "notes 1"
	keys $s l
	dialog $s "Notes of run $id: 1"
	assert_screen $s "before the resume"
	assert_screen $s "$(id -un)"
	keys $s Escape
	wait_gone $s "Notes of run"
	keys $s a
	dialog $s "Note for the journal"
	type_text $s "after the resume"
	keys $s Enter
	wait_for $s "notes 2"
	keys $s Enter
	dialog $s "[y] yes"
	keys $s y
	wait_for $s "attempt started"
	wait_for $s "[Output]  running"
	# the journal keeps output in batches: kill once it holds some
	local i=0
	until [ "$(journal "select count(*) from output_chunks k join outputs o on o.id = k.output_id
		where o.run_id=$id and o.step=1")" -gt 0 ]; do
		[ $i -lt $((TUI_TIMEOUT * 20)) ] || fail "the journal never got the step's output"
		sleep 0.05
		i=$((i + 1))
	done
	pid=$(qrh_pid $s)
	[ -n "$pid" ] || fail "no qrh process in the pane"
	kill -9 "$pid"
	wait_exit $s
	assert_eq "$exit_code" 137
	assert_eq "$(sqlite3 "$TUI_DB" "pragma integrity_check")" ok
	"$QRH_BIN" verify --journal "$TUI_DB" >/dev/null || fail "qrh verify fails after kill -9"

	# resume after kill -9: interrupted, outcome unknown, and its script
	# still runs: not offered to run again until it is stopped; then r
	tui_start c$cols "$cols" "$lines" -- "$QRH_BIN" resume --journal "$TUI_DB"
	s=c$cols
	dialog $s "Step 2 was running when qrh stopped: its outcome is unknown"
	assert_screen $s "[k] stop its process"
	assert_screen $s "[d] done by hand"
	assert_screen $s "Its process is still running: pid"
	assert_screen $s "(/bin/sh -e -c echo"
	assert_screen $s "Its last lines:"
	assert_not_screen $s "[r] run it again"
	wait_for $s "attempt started" # what it printed before qrh died
	assert_screen $s "[Output]  interrupted, outcome unknown"
	assert_screen $s "notes 2"
	keys $s k
	dialog $s "[r] run it again"
	assert_screen $s "Its process has ended since."
	assert_screen $s "[d] done by hand"
	# gone, or a zombie waiting for init to reap it
	local sl
	sl=$(cat "$T/sleeper")
	[ ! -r /proc/$sl/stat ] || [ "$(cut -d' ' -f3 /proc/$sl/stat)" = Z ] ||
		fail "k did not stop the step's surviving process"
	keys $s r
	wait_for $s "Steps 2/3 done"
	# its result: both attempts, the first one's end unknown
	wait_for $s "2. Long one  [Result]  done"
	wait_for $s "second attempt done"
	assert_screen $s "attempt 2"
	keys $s Enter
	dialog $s "[y] yes"
	keys $s y
	wait_for $s "run finished: ok; journal head "
	keys $s l
	dialog $s "Notes of run $id: 2"
	assert_screen $s "before the resume"
	assert_screen $s "after the resume"
	keys $s Escape
	wait_gone $s "Notes of run"
	keys $s q
	wait_exit $s
	assert_eq "$exit_code" 0
	assert_joined $s "qrh: run $id ended: ok"
	assert_joined $s "journal head $id:$(journal "select seq || ':' || hash from events where run_id=$id order by seq desc limit 1")"

	assert_eq "$(journal "select count(*) from runs")" 1
	assert_eq "$(journal "select outcome from runs where id=$id")" ok
	assert_eq "$(journal "select count(*) from events where run_id=$id and type='run_resume'")" 2
	assert_eq "$(journal "select count(*) from events where run_id=$id and type='step_interrupted' and step=1")" 1
	assert_eq "$(journal "select json_extract(payload,'\$.how') from events where run_id=$id
		and type='step_confirm' and step=1 order by seq desc limit 1")" rerun-interrupted
	assert_eq "$(journal "select count(*) from events where run_id=$id and type='step_start' and step=0")" 1
	# k is journaled as the operator's choice, with the group it stopped
	local fg
	fg=$(journal "select json_extract(payload,'\$.survivors[0].pgid') from events
		where run_id=$id and type='step_interrupted'")
	assert_eq "$(journal "select json_extract(payload,'\$.pgids[0]') || ' ' || (actor != 'qrh')
		from events where run_id=$id and type='survivor_stop' and step=1")" "$fg 1"
	assert_eq "$(journal "select json_extract(payload,'\$.pgid') || ' ' || json_extract(payload,'\$.how')
		from events where run_id=$id and type='survivor_end' and step=1")" "$fg stopped"
	"$QRH_BIN" verify --journal "$TUI_DB" >/dev/null || fail "qrh verify fails after the resumed run"
	tm kill-session -t a$cols
	tm kill-session -t b$cols
	tm kill-session -t c$cols
}

one_size 80 24
one_size 120 40
echo "console resume: 80x24 and 120x40"
