#!/usr/bin/env bash
# Hostile output in the console: one step per sample of what children
# print to take over a terminal (title set, clipboard, links, unterminated
# OSC, cursor moves, carriage-return overwrite, a raw C1 byte, invalid
# UTF-8, a 10 MB line, bidi overrides, writing to /dev/tty) and a runbook
# whose step title and prose carry escapes. The pane title and tmux's paste
# buffers stay untouched, every escape shows as visible text, "pwned"
# never reaches the screen, the console answers keys, and the terminal
# works normally after qrh quits.
. "$(dirname "$0")/../lib.sh"
. "$QRH_SRC/tests/tui_lib.sh"

big=10000000
[ -n "${QRH_SANITIZE:-}" ] && big=1000000 # sanitizer builds are slow
{
	printf -- '---\ntitle: Hostile output\n---\n'
	printf '## Prose \033]2;STEPTITLE\007 escapes {confirm=no}\n'
	printf 'Instructions with \033[2J a clear and \033]0;DOCTITLE\007 a title.\n'
	printf '```sh\necho prose ok\n```\n'
	step() { # TITLE SCRIPT
		printf '## %s {confirm=no}\n```sh\n%s\n```\n' "$1" "$2"
	}
	step "OSC title" "printf 'a\\033]0;HACKED-0\\007b\\n'; printf 'c\\033]2;HACKED-2\\033\\\\d\\n'"
	step "OSC 52" "printf 'x\\033]52;c;cHduZWQ=\\007y\\n'"
	step "OSC 8" "printf '\\033]8;;http://evil.example/\\033\\\\click\\033]8;;\\033\\\\ end\\n'"
	step "Unterminated OSC" "printf 'before\\033]0;never ends'; echo; echo after-osc"
	step "CSI" "printf 'A\\033[HB\\033[2JC\\033[10;10HD\\n'"
	step "Carriage return" "printf 'secret\\rXXXXXX\\n'"
	step "C1" "printf 'p\\233[2Jq\\n'"
	step "Invalid UTF-8" "printf 'bad \\377 end\\n'"
	step "Long line" "head -c $big /dev/zero | tr '\\0' z; echo; echo after-big"
	step "Bidi" "printf 'abc \\342\\200\\256cba\\n'"
	step "TTY" "echo pwned >/dev/tty || echo 'no terminal for the step'; printf pwned >/dev/tty || true"
} >"$T/hostile.md"
"$QRH_BIN" check "$T/hostile.md" >/dev/null || fail "the hostile runbook does not load: $("$QRH_BIN" check "$T/hostile.md" 2>&1)"

s=h
export TUI_DB=$T/j.db
tui_start $s 120 40 -- "$QRH_BIN" run --journal "$TUI_DB" hostile.md
wait_for $s "Hostile"
title=$(tm display -p -t $s '#{pane_title}')
wait_for $s "run finished: ok; journal head "
wait_for $s "Steps 12/12 done"

# step N's output (the console is on the last step, output view)
show() { # N TITLE
	keys $s g
	local k
	for ((k = 1; k < $1; k++)); do keys $s j; done
	wait_for $s "$1. $2  [Output]  done"
}
expect() { # N TITLE TEXT...
	local n=$1 t=$2
	shift 2
	show "$n" "$t"
	for x in "$@"; do
		wait_for $s "$x"
	done
}
expect 2 "OSC title" 'a^[]0;HACKED-0^Gb' 'c^[]2;HACKED-2^[\d'
expect 3 "OSC 52" 'x^[]52;c;cHduZWQ=^Gy'
expect 4 "OSC 8" '^[]8;;http://evil.example/^[\click^[]8;;^[\ end'
expect 5 "Unterminated OSC" 'before^[]0;never ends' 'after-osc'
expect 6 "CSI" 'A^[[HB^[[2JC^[[10;10HD'
expect 7 "Carriage return" 'secret^MXXXXXX'
expect 8 "C1" 'p<9B>[2Jq'
expect 9 "Invalid UTF-8" 'bad � end'
expect 10 "Long line" 'after-big' '+zzzzzzzzzzzzzzzz'
expect 11 "Bidi" 'abc <U+202E>cba'
expect 12 "TTY" 'no terminal for the step' 'cannot create /dev/tty'
assert_not_screen $s pwned
# the runbook's own text: title, step title, prose
show 1 'Prose ^[]2;STEPTITLE^G escapes'
keys $s o
wait_for $s 'Instructions with ^[[2J a clear and ^[]0;DOCTITLE^G a title.'

# nothing reached the terminal: title, clipboard
assert_eq "$(tm display -p -t $s '#{pane_title}')" "$title"
case "$title" in *HACKED* | *TITLE*) fail "the pane title was set: $title" ;; esac
assert_eq "$(tm list-buffers 2>/dev/null)" ""

# still answering keys
keys $s '?'
wait_for $s "any key closes"
keys $s Escape
wait_gone $s "any key closes"
keys $s j j
wait_for $s "3. OSC 52  [Instructions]  done"

# quits cleanly; the terminal echoes and ends lines as usual afterwards
wait_for $s "run finished" # else q asks first
keys $s q
wait_exit $s
assert_eq "$exit_code" 0
type_text $s "still works"
keys $s Enter
wait_for $s "[read still works]"
screen $s | grep -qx 'still works' || fail "typed text not echoed on a line of its own: $(screen $s)"
assert_not_screen $s pwned
assert_eq "$(tm display -p -t $s '#{pane_title}')" "$title"
echo "console hostile: 12 samples shown as text, terminal intact"
