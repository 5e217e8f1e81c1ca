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

check_old_runs() { # $1: when
	same verify-1.out "$QRH_BIN" verify --journal "$J" 1
	for r in 1 2; do
		same "show-$r.out" "$QRH_BIN" show --output --journal "$J" "$r"
		same "export-$r.json" "$QRH_BIN" export --journal "$J" "$r"
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
assert_eq "$(sqlite3 "$J" 'pragma user_version')" "2"
check_old_runs "upgraded"
run "$QRH_BIN" verify --journal "$J"
assert_rc 0
assert_contains "$out" "journal ok: 3 runs"
run "$QRH_BIN" list --journal "$J"
assert_eq "$(printf '%s\n' "$out" | sed -n '3,4p')" "$(sed -n '2,3p' "$FX/list.out")"
run "$QRH_BIN" show --output --journal "$J" 3
assert_contains "$out" "| new"
echo "the old journal upgraded in place"
