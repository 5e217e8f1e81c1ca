#!/usr/bin/env bash
# The console's screens at 80x24 and 120x40: help (?, golden at 80x24),
# search (/ pattern, n, N, not found), a resize to 40x12 ("terminal too
# small", keys still answered) and back; then NO_COLOR=1 (no colour, the
# same screen otherwise), TERM=vt100 with LANG=C and QRH_ASCII=1 (nothing
# but ASCII on the screen); a view scrolled back while output arrives
# stays where it is.
. "$(dirname "$0")/../lib.sh"
. "$QRH_SRC/tests/tui_lib.sh"

cat >"$T/rb.md" <<'RB'
---
title: Screens test
---
## Print rows {confirm=no}
Prints 200 rows with two needles.
```sh
for i in $(seq 1 100); do echo "row $i"; done
echo "needle one"
for i in $(seq 101 200); do echo "row $i"; done
echo "Needle two"
echo "row end"
```
## Broken
A step that fails, to see its colour.
```sh
echo "it broke" >&2; exit 2
```
## Later
Nothing to see.
RB

# every SGR colour (foreground or background, any palette) but the defaults
colours() {
	tm capture-pane -p -e -t "$1" | grep -oE $'\e\\[[0-9;]*m' |
		grep -E '\[([0-9;]*;)?(3[0-7]|38;5;[0-9]+|4[0-7]|48;5;[0-9]+|9[0-7]|10[0-7])(;[0-9;]*)?m' || true
}

one_size() {
	local cols=$1 lines=$2 s=s$1
	export TUI_DB=$T/j$cols.db
	tui_start $s "$cols" "$lines" -- "$QRH_BIN" run --journal "$TUI_DB" rb.md
	wait_for $s "Steps 1/3 done"
	wait_for $s "1. Print rows  [Result]  done"

	# help lists every key, any key closes it
	keys $s '?'
	wait_for $s "any key closes"
	assert_screen $s "Enter        the selected step: run it (y confirms), or decide"
	assert_screen $s "A            abort the run (asks for the word ABORT)"
	assert_screen $s "q            quit (asks; the run stays open for qrh resume)"
	assert_not_screen $s "rows 1-"
	golden $s console_help_${cols}x$lines
	keys $s x # closes help, does nothing else
	wait_gone $s "any key closes"
	assert_not_screen $s "Cancel the running step?"

	# search the first step's output
	keys $s k
	wait_for $s "1. Print rows  [Output]  done"
	assert_screen $s "row end"
	keys $s /
	dialog $s "Search the output:"
	type_text $s needle
	keys $s Enter
	wait_for $s "found; n next, N previous, Esc ends the search"
	assert_screen $s "needle one"
	assert_not_screen $s "row end"
	assert_screen $s "(scrolled"
	tm capture-pane -p -e -t $s | grep -q $'\e\\[[0-9;]*7[0-9;]*mneedle one' ||
		fail "the match is not highlighted"
	keys $s n # next, ignoring case
	wait_for $s "Needle two"
	assert_not_screen $s "needle one"
	keys $s n # wraps around
	wait_for $s "needle one"
	keys $s N # previous, wrapping backwards
	wait_for $s "Needle two"
	keys $s Escape
	keys $s Tab G # in the output pane, G follows the end again
	wait_gone $s "(scrolled"
	assert_screen $s "row end"
	keys $s Tab
	keys $s /
	dialog $s "Search the output:"
	type_text $s "no such thing"
	keys $s Enter
	wait_for $s "not found: no such thing"

	# too small, keys still answered; back to normal
	tm resize-window -t $s -x 40 -y 12
	wait_for $s "terminal too small"
	wait_for $s "40x12; qrh needs 60x16"
	assert_screen $s "the run goes on; q quits"
	keys $s q
	wait_for $s "[y] yes   [n] no"
	keys $s n
	wait_for $s "the run goes on; q quits"
	tm resize-window -t $s -x "$cols" -y "$lines"
	wait_for $s "Steps 1/3 done"
	assert_not_screen $s "terminal too small"
	assert_screen $s "1. Print rows  [Output]  done"
	keys $s q
	dialog $s "[y] yes"
	keys $s y
	wait_exit $s
	assert_eq "$exit_code" 3
	tm kill-session -t $s
}

one_size 80 24
one_size 120 40

# Colour by default, none with NO_COLOR; the same screen either way.
run_to_failure() { # NAME ENV...
	local s=$1
	shift
	tui_start $s 80 24 "$@" -- "$QRH_BIN" run --journal "$T/$s.db" rb.md
	wait_for $s "1. Print rows  [Result]  done"
	keys $s Enter
	dialog $s "[y] yes, run it"
	keys $s y
	dialog $s "Step 2 failed: exit 2"
	keys $s Escape
	wait_gone $s "Step 2 failed: exit 2"
	wait_for $s "it broke"
}
run_to_failure colour
[ -n "$(colours colour)" ] || fail "no colour on a colour terminal: the NO_COLOR check below proves nothing"
run_to_failure nocolour NO_COLOR=1
c=$(colours nocolour)
[ -z "$c" ] || fail "NO_COLOR=1 but colours drawn: $(printf '%q' "$c")"
assert_eq "$(screen nocolour | normalize)" "$(screen colour | normalize)"
for s in colour nocolour; do
	keys $s q
	dialog $s "[y] yes"
	keys $s y
	wait_exit $s
done

# ASCII: a vt100 in the C locale, and QRH_ASCII on a UTF-8 terminal
n=0
for how in "TERM=vt100 LANG=C" "QRH_ASCII=1"; do
	s=ascii$((++n))
	# shellcheck disable=SC2086 # word-split on purpose: VAR=value pairs
	run_to_failure $s $how
	keys $s k
	wait_for $s "1. Print rows"
	keys $s '?'
	wait_for $s "any key closes"
	screen $s >"$T/$s.txt"
	if LC_ALL=C grep -n '[^ -~]' "$T/$s.txt" >&2; then
		fail "$how: non-ASCII bytes on the screen (lines above)"
	fi
	[ "$how" = "QRH_ASCII=1" ] || [ -z "$(colours $s)" ] || fail "$how: colours on a monochrome terminal"
	keys $s Escape
	wait_gone $s "any key closes"
	assert_screen $s " +  1 Print rows"
	assert_screen $s " x  2 Broken"
	keys $s q
	dialog $s "[y] yes"
	keys $s y
	wait_exit $s
done
# Scrolled back while a step prints, the view stays on the lines read.
cat >"$T/ticker.md" <<'RB'
## Ticker {confirm=no}
```sh
for i in $(seq 1 40); do echo "tick $i"; done
for i in $(seq 41 70); do echo "tick $i"; sleep 0.1; done
```
RB
s=ticker
tui_start $s 80 24 -- "$QRH_BIN" run --journal "$T/ticker.db" ticker.md
wait_for $s "tick 44"
keys $s Tab k k k k k k k k k k
wait_for $s "(scrolled"
first=$(screen $s | sed -n 4p | cut -c31-)
wait_for $s "[Output]  done" # 26 lines later
assert_eq "$(screen $s | sed -n 4p | cut -c31-)" "$first"
keys $s G
wait_for $s "tick 70"
wait_for $s "run finished" # else q asks first
keys $s q
wait_exit $s
echo "console screens: help, search, resize, NO_COLOR, ASCII, scrolled view"
