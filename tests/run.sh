#!/usr/bin/env bash
# Runs every test program and shell test, then prints the closing line
# "N passed, N failed". Unit tests are cmocka binaries in $QRH_BUILD/tests;
# shell tests are tests/cli/*.sh and tests/integration/*.sh, each driving the
# real binary ($QRH_BIN). A shell test exits 0 (pass), 77 (skip) or other (fail).
set -u
cd "$(dirname "$0")/.."
: "${QRH_BIN:?}" "${QRH_BUILD:?}"
export QRH_BIN QRH_BUILD
export QRH_SRC="$PWD"
passed=0 failed=0 skipped=0 failures=()
logdir=$(mktemp -d "${TMPDIR:-/tmp}/qrh-tests.XXXXXX")

run_one() {
	local name=$1; shift
	local log="$logdir/${name//\//_}.log"
	local start=$(date +%s%N)
	"$@" >"$log" 2>&1
	local rc=$?
	local ms=$(( ($(date +%s%N) - start) / 1000000 ))
	if [ $rc -eq 0 ]; then
		passed=$((passed + 1)); printf 'PASS %-44s %6d ms\n' "$name" "$ms"
	elif [ $rc -eq 77 ]; then
		skipped=$((skipped + 1)); printf 'SKIP %-44s %s\n' "$name" "$(tail -n1 "$log")"
	else
		failed=$((failed + 1)); failures+=("$name")
		printf 'FAIL %-44s (exit %d)\n' "$name" "$rc"
		sed 's/^/    | /' "$log" | tail -n 60
	fi
}

for t in "$QRH_BUILD"/tests/test_*; do
	[ -x "$t" ] || continue
	run_one "unit/$(basename "$t")" "$t"
done
for t in tests/cli/*.sh tests/integration/*.sh; do
	[ -f "$t" ] || continue
	run_one "${t#tests/}" bash "$t"
done

rm -rf "$logdir"
echo
[ ${#failures[@]} -eq 0 ] || printf 'failed: %s\n' "${failures[*]}"
if [ $skipped -gt 0 ]; then
	echo "$passed passed, $failed failed, $skipped skipped"
else
	echo "$passed passed, $failed failed"
fi
[ $failed -eq 0 ]
