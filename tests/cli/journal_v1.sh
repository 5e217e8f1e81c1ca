#!/usr/bin/env bash
# A journal written by qrh 0.1.0 (schema 1, tests/fixtures/journal-v1)
# still verifies, lists, shows and exports exactly as that qrh printed it:
# read-only (nothing in the file changes), and after a new run upgraded it
# to the current schema.
. "$(dirname "$0")/../lib.sh"

command -v sqlite3 >/dev/null || { echo "sqlite3 is not installed"; exit 77; }
export LC_ALL=C.UTF-8
FX=$QRH_SRC/tests/fixtures/journal-v1
J=$T/journal.db
cp "$FX/journal.db" "$J"
chmod 600 "$J"

same() { # NAME COMMAND...: stdout of COMMAND must be the golden NAME
	local name=$1
	shift
	"$@" >"$T/got" 2>"$T/err" || fail "$name: exit $? ($(cat "$T/err"))"
	cmp -s "$T/got" "$FX/$name" ||
		fail "$name differs from qrh 0.1.0's: $(diff "$FX/$name" "$T/got" | head -20)"
}

# The evidence document may gain members, never lose or change one: every
# member of 0.1.0's document is in ours with the same value.
extends() { # NAME COMMAND...
	local name=$1
	shift
	"$@" >"$T/got" 2>"$T/err" || fail "$name: exit $? ($(cat "$T/err"))"
	python3 - "$FX/$name" "$T/got" <<'PY' || fail "$name no longer holds what qrh 0.1.0 exported"
import json, sys
def within(old, new, path):
    if isinstance(old, dict):
        if not isinstance(new, dict):
            sys.exit(f"{path}: not an object any more")
        for k, v in old.items():
            if k not in new:
                sys.exit(f"{path}.{k}: missing")
            within(v, new[k], f"{path}.{k}")
    elif isinstance(old, list):
        if not isinstance(new, list) or len(old) != len(new):
            sys.exit(f"{path}: a list of another length")
        for i, (a, b) in enumerate(zip(old, new)):
            within(a, b, f"{path}[{i}]")
    elif old != new:
        sys.exit(f"{path}: {old!r} became {new!r}")
within(json.load(open(sys.argv[1])), json.load(open(sys.argv[2])), "$")
PY
}

# What qrh show prints may gain lines, never lose or change one: 0.1.0's
# lines are all there, in order.
keeps() { # NAME COMMAND...
	local name=$1
	shift
	"$@" >"$T/got" 2>"$T/err" || fail "$name: exit $? ($(cat "$T/err"))"
	python3 - "$FX/$name" "$T/got" <<'PY' || fail "$name lost what qrh 0.1.0 showed"
import sys
old = open(sys.argv[1]).read().splitlines()
new = iter(open(sys.argv[2]).read().splitlines())
for line in old:
    if not any(line == n for n in new):
        sys.exit(f"missing or changed: {line!r}")
PY
}

check_old_runs() { # $1: when
	same verify-1.out "$QRH_BIN" verify --journal "$J" 1
	for r in 1 2; do
		keeps "show-$r.out" "$QRH_BIN" show --output --journal "$J" "$r"
		extends "export-$r.json" "$QRH_BIN" export --journal "$J" "$r"
	done
	echo "runs 1 and 2 read as before ($1)"
}

before=$(sha256sum <"$J")
same verify.out "$QRH_BIN" verify --journal "$J"
same list.out "$QRH_BIN" list --journal "$J"
check_old_runs "read-only"
assert_eq "$(sha256sum <"$J")" "$before"
assert_eq "$(sqlite3 "$J" 'pragma user_version')" "1"

# a new run opens it for writing: upgraded, old runs untouched
printf '# New\n\n## Hi {confirm=no}\n\n```sh\necho new\n```\n' >"$T/new.md"
run "$QRH_BIN" run --plain --yes --journal "$J" "$T/new.md"
assert_rc 0 "a new run on the old journal"
current=$(sed -n 's/^#define JOURNAL_SCHEMA_VERSION \([0-9]*\).*/\1/p' "$QRH_SRC/state/journal.h")
assert_eq "$(sqlite3 "$J" 'pragma user_version')" "$current"
check_old_runs "upgraded"
run "$QRH_BIN" verify --journal "$J"
assert_rc 0
assert_contains "$out" "journal ok: 3 runs"
run "$QRH_BIN" list --journal "$J"
assert_eq "$(printf '%s\n' "$out" | sed -n '3,4p')" "$(sed -n '2,3p' "$FX/list.out")"
run "$QRH_BIN" show --output --journal "$J" 3
assert_contains "$out" "| new"
echo "the old journal upgraded in place"
