#!/usr/bin/env bash
# Every shipped and test runbook survives Markdown -> JSON -> Markdown ->
# JSON unchanged, and JSON files survive JSON -> Markdown -> JSON.
. "$(dirname "$0")/../lib.sh"

n=0
for f in "$QRH_SRC"/runbooks/library/*.md "$QRH_SRC"/tests/runbooks/*; do
	name=$(basename "$f")
	"$QRH_BIN" convert --to json "$f" >"$T/$name.1.json" || fail "convert $f"
	"$QRH_BIN" convert --to md "$T/$name.1.json" >"$T/$name.2.md" || fail "convert back $f"
	"$QRH_BIN" convert --to json "$T/$name.2.md" >"$T/$name.3.json" || fail "convert again $f"
	cmp -s "$T/$name.1.json" "$T/$name.3.json" ||
		fail "$f changed on the round trip: $(diff "$T/$name.1.json" "$T/$name.3.json")"
	"$QRH_BIN" convert --to md "$T/$name.2.md" >"$T/$name.4.md" || fail "md to md $f"
	cmp -s "$T/$name.2.md" "$T/$name.4.md" || fail "$f: Markdown output is not stable"
	n=$((n + 1))
done
[ $n -ge 5 ] || fail "expected at least 5 runbooks, found $n"

# default direction: the other format
"$QRH_BIN" convert "$QRH_SRC/tests/runbooks/ordered.md" >"$T/o.json"
head -c1 "$T/o.json" | grep -q '{' || fail "md should convert to json by default"
"$QRH_BIN" convert "$T/o.json" | grep -q '^## ' || fail "json should convert to md by default"

run "$QRH_BIN" convert --to yaml "$QRH_SRC/tests/runbooks/ordered.md"
assert_rc 2
printf '## A {retries=x}\n' >"$T/bad.md"
run "$QRH_BIN" convert "$T/bad.md"
assert_rc 2
assert_eq "$out" ""
# prose that Markdown would run is never written as Markdown
printf '{"steps": [{"title": "a", "doc": "Example:\\n```sh\\nrm -rf /\\n```"}]}' >"$T/doc.json"
run "$QRH_BIN" convert --to md "$T/doc.json"
assert_rc 2
assert_contains "$err" "in Markdown it would become a command that runs"
assert_eq "$out" ""
echo "roundtrip: $n runbooks ok"
