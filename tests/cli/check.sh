#!/usr/bin/env bash
# qrh check: exit codes, the report format, --strict, several files.
. "$(dirname "$0")/../lib.sh"

for f in "$QRH_SRC"/runbooks/library/*.md "$QRH_SRC"/tests/runbooks/*; do
	run "$QRH_BIN" check "$f"
	assert_rc 0 "$f"
	assert_contains "$out" "$f: ok,"
done

printf '## A {retries=x}\n\n```sh {tiemout=1s}\necho\n```\n' >"$T/bad.md"
printf '## Fine\n\n```sh\necho "$X"\n```\n' >"$T/good.md"
run "$QRH_BIN" check "$T/bad.md" "$T/good.md"
assert_rc 2
assert_contains "$err" "$T/bad.md:1:15: error: 'retries' must be an integer"
assert_contains "$err" "$T/bad.md:3:8: error: unknown attribute 'tiemout' (did you mean 'timeout'?)"
assert_contains "$out" "$T/good.md: ok, 1 step"
[ "$(printf '%s\n' "$err" | wc -l)" -eq 2 ] || fail "expected exactly two lines: $err"

# warnings pass unless --strict
printf '## A\n\n```sh\nrm -r -- $DIR\n```\n' >"$T/warn.md"
run "$QRH_BIN" check "$T/warn.md"
assert_rc 0
assert_contains "$err" "$T/warn.md:4:10: warning: unquoted \$DIR"
run "$QRH_BIN" check --strict "$T/warn.md"
assert_rc 2
run "$QRH_BIN" check -q "$T/good.md"
assert_rc 0
assert_eq "$out" ""

# unreadable, missing, a directory, usage
run "$QRH_BIN" check "$T/nope.md"
assert_rc 2
assert_contains "$err" "$T/nope.md:1:1: error: cannot read the file: No such file or directory"
run "$QRH_BIN" check "$T"
assert_rc 2
assert_contains "$err" "error: not a regular file"
run "$QRH_BIN" check
assert_rc 2
assert_contains "$err" "no runbook given"
run "$QRH_BIN" check --bogus "$T/good.md"
assert_rc 2

# a NUL in a decoded string would cut it short: "rm -rf data/old\u0000/x"
# must never run as "rm -rf data/old"
printf '{"title": "x", "steps": [{"title": "Clean", "actions": [{"kind": "exec",\n  "argv": ["rm", "-rf", "data/old\\u0000/snapshot"]}]}]}\n' >"$T/nul.json"
run "$QRH_BIN" check "$T/nul.json"
assert_rc 2 "\\u0000 in JSON"
assert_contains "$err" "$T/nul.json:2:34: error: a string holds a NUL character"
run "$QRH_BIN" run --plain --yes --journal "$T/nul.db" "$T/nul.json"
assert_rc 2 "run of a runbook with \\u0000"
[ ! -e "$T/nul.db" ] || [ "$(sqlite3 "$T/nul.db" 'select count(*) from runs' 2>/dev/null)" = 0 ] ||
	fail "a run was started from a runbook with a NUL"
printf '{"title": "a\\\\u0000 is a backslash and text", "steps": [{"title": "k", "actions": [{"kind": "sh", "script": "echo"}]}]}' >"$T/escaped.json"
run "$QRH_BIN" check "$T/escaped.json"
assert_rc 0 "an escaped backslash before u0000 is text"
printf -- '---\nvars:\n  P:\n    value: "data/old\\0/snap"\n---\n# T\n\n## S\n\n```sh\necho "$P"\n```\n' >"$T/nul.md"
run "$QRH_BIN" check "$T/nul.md"
assert_rc 2 "\\0 in YAML front matter"
assert_contains "$err" "$T/nul.md:4:12: error: a string holds a NUL character"

# a FIFO is no runbook: refused at once, not waited on
mkfifo "$T/fifo.md"
run timeout 20 "$QRH_BIN" check "$T/fifo.md"
assert_rc 2 "check of a FIFO"
assert_contains "$err" "$T/fifo.md:1:1: error: not a regular file (a FIFO)"
run timeout 20 "$QRH_BIN" run --plain --yes --journal "$T/fifo.db" "$T/fifo.md"
assert_rc 2 "run of a FIFO"
assert_contains "$err" "not a regular file (a FIFO)"

# every file name qrh prints is sanitized, the ok line's too
evil=$T/$'evil\033]0;pwned\007.md'
cp "$T/good.md" "$evil"
run "$QRH_BIN" check "$evil"
assert_rc 0
assert_contains "$out" "evil^[]0;pwned^G.md: ok, 1 step"
assert_not_contains "$out" $'\033'
run "$QRH_BIN" run --plain --yes --journal "$T/good.md/"$'\033]0;x\007/j.db' "$evil"
assert_rc 2
assert_contains "$err" "cannot open the journal $T/good.md/^[]0;x^G/j.db"
assert_not_contains "$err" $'\033'
assert_not_contains "$err" $'\007'
run "$QRH_BIN" list --journal "$T/"$'nothing\033[2J.db'
assert_not_contains "$err" $'\033'
run "$QRH_BIN" show --journal "$T/j.db" $'1\033[2J'
assert_rc 2
assert_not_contains "$err" $'\033'
run "$QRH_BIN" help $'\033]0;x\007'
assert_not_contains "$err" $'\033'

# hostile text in a message is shown visibly, never raw
printf '## A {\033]0;pwned\007=1}\n' >"$T/esc.md"
run "$QRH_BIN" check "$T/esc.md"
assert_rc 2
assert_not_contains "$err" $'\033'
echo "check: ok"
