#!/usr/bin/env bash
# The journal deleted (or replaced) in the middle of a run: no later step
# starts, qrh says why and does not exit 0 — as on a full disk.
. "$(dirname "$0")/../lib.sh"
export QRH_TEST_DIR=$T

# runbook NAME COMMAND: step 1 runs COMMAND, step 2 marks that it ran
runbook() {
	printf '## Lose the journal {confirm=no}\n```sh\n%s\n```\n## Must not run {confirm=no}\n```sh\ntouch "$QRH_TEST_DIR/ran"\n```\n' "$2" >"$T/$1"
}
runbook gone.md 'rm -f "$QRH_TEST_DIR/j.db" "$QRH_TEST_DIR/j.db-wal" "$QRH_TEST_DIR/j.db-shm"'
run "$QRH_BIN" run --plain --yes --journal "$T/j.db" "$T/gone.md"
[ "$rc" -ne 0 ] || fail "qrh exited 0 with its journal deleted: $err"
assert_contains "$err" "the journal file '$T/j.db' was deleted"
assert_contains "$err" "no step may start"
[ ! -e "$T/ran" ] || fail "a step ran after the journal was deleted"

# replaced: the path names a new file, the run's writes would go nowhere
runbook swap.md 'cp "$QRH_TEST_DIR/k.db" "$QRH_TEST_DIR/k.copy" && mv "$QRH_TEST_DIR/k.copy" "$QRH_TEST_DIR/k.db"'
run "$QRH_BIN" run --plain --yes --journal "$T/k.db" "$T/swap.md"
[ "$rc" -ne 0 ] || fail "qrh exited 0 with its journal replaced: $err"
assert_contains "$err" "was replaced by another file"
[ ! -e "$T/ran" ] || fail "a step ran after the journal was replaced"

# an intact journal is left alone
printf '## A {confirm=no}\n```sh\necho a\n```\n## B {confirm=no}\n```sh\necho b\n```\n' >"$T/ok.md"
run "$QRH_BIN" run --plain --yes --journal "$T/ok.db" "$T/ok.md"
assert_rc 0
echo "a deleted or replaced journal stops the run"
