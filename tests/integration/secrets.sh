#!/usr/bin/env bash
# A secret never reaches the journal (database, WAL, anything on disk) nor
# what qrh prints, even when the command prints it, split across reads.
. "$(dirname "$0")/../lib.sh"
secret="Tr0ub4dor-and-3-unique-$$-$RANDOM"
cat >"$T/s.md" <<'RB'
---
vars:
  PASSWORD:
    secret: true
    prompt: the database password
---
## Print it {confirm=no}
```sh
echo "password=$PASSWORD"
echo "$PASSWORD" >&2
i=0
while [ $i -lt 20000 ]; do
  printf 'line %d %s|' "$i" "$PASSWORD"
  i=$((i + 1))
done
echo
```
## Use it in a word {confirm=no}
```exec
echo user:${PASSWORD}@db
```
## Capture it {confirm=no capture=PASSWORD}
```sh
echo "$PASSWORD"
```
RB
run "$QRH_BIN" run --plain --journal "$T/j.db" -v "PASSWORD=$secret" "$T/s.md"
assert_rc 0
assert_not_contains "$out" "$secret"
assert_not_contains "$err" "$secret"
assert_contains "$out" "[1] | password=***"
assert_contains "$out" "[2] | user:***@db"
# the redacted stream is what is counted and hashed
n=$(sqlite3 "$T/j.db" "select json_extract(payload,'\$.stdout.bytes') from events where type='action_end' and step=0")
[ "$n" -gt 250000 ] || fail "expected the long output to be stored, got $n bytes"
for f in "$T"/j.db*; do
	if LC_ALL=C grep -aqF "$secret" "$f"; then
		fail "the secret is in $f"
	fi
done
# and the part of the secret is not stored either, e.g. split at a chunk edge
half=${secret:0:12}
for f in "$T"/j.db*; do
	LC_ALL=C grep -aqF "$half" "$f" && fail "part of the secret is in $f"
done
# nor the evidence export
"$QRH_BIN" export 1 -f json --journal "$T/j.db" >"$T/export.json" || fail "export failed"
LC_ALL=C grep -aqF "$secret" "$T/export.json" && fail "the secret is in the export"
grep -q '"output_bytes"' "$T/export.json" || fail "the export has no output_bytes"
"$QRH_BIN" show 1 --output --journal "$T/j.db" >"$T/show.txt" 2>&1 || fail "show failed"
LC_ALL=C grep -aqF "$secret" "$T/show.txt" && fail "the secret is in qrh show"
echo "secrets: ok"
