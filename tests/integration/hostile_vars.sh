#!/usr/bin/env bash
# Hostile variable values reach commands as exact bytes and never execute:
# exec words are expanded one argument each; sh scripts get values in the
# environment, never pasted into the script.
. "$(dirname "$0")/../lib.sh"
pw="$T/pwned"
values=(
	"\$(touch $pw-1)"
	"\`touch $pw-2\`"
	"it's \"quoted\" \\ back"
	$'two\nlines'
	"; touch $pw-3; #"
	"-rf"
	"--help"
	"\${HOME} \$HOME *"
)
cat >"$T/h.md" <<'RB'
---
vars:
  A: {prompt: a}
  B: {prompt: b}
  C: {prompt: c}
  D: {prompt: d}
  E: {prompt: e}
  F: {prompt: f}
  G: {prompt: g}
  H: {prompt: h}
---
## Exec words {confirm=no}
```exec
sh -c 'printf "%s\0" "$@" >"$QRH_TEST_DIR/exec.out"' sh ${A} ${B} ${C} ${D} ${E} ${F} ${G} ${H}
```
## Shell environment {confirm=no}
```sh
printf '%s\0' "$A" "$B" "$C" "$D" "$E" "$F" "$G" "$H" >"$QRH_TEST_DIR/sh.out"
```
RB
export QRH_TEST_DIR=$T
args=()
names=(A B C D E F G H)
for i in "${!values[@]}"; do
	args+=(-v "${names[$i]}=${values[$i]}")
done
run "$QRH_BIN" run --plain --journal "$T/j.db" "${args[@]}" "$T/h.md"
assert_rc 0
printf '%s\0' "${values[@]}" >"$T/expected"
cmp "$T/expected" "$T/exec.out" || fail "exec arguments differ: $(od -c "$T/exec.out" | head)"
cmp "$T/expected" "$T/sh.out" || fail "sh environment differs: $(od -c "$T/sh.out" | head)"
for k in 1 2 3; do
	[ ! -e "$pw-$k" ] || fail "a variable value was executed ($pw-$k exists)"
done
# the displayed command shows the values as single words, visibly
assert_contains "$out" "'\$(touch $pw-1)'"
echo "hostile vars: ok"
