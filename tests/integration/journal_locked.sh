#!/usr/bin/env bash
# The journal locked mid-step (another process holds a write transaction
# past qrh's busy timeout) while the step prints more than qrh buffers:
# what could not be stored is recorded as lost, with its byte count, once
# the journal can be written again — not as truncated, not silently — and
# show, export and verify say so.
. "$(dirname "$0")/../lib.sh"
command -v sqlite3 >/dev/null || { echo "sqlite3 is not installed"; exit 77; }
db=$T/j.db
export QRH_TEST_DIR=$T
holder=
trap '[ -n "$holder" ] && kill $holder 2>/dev/null; touch "$T/unlocked"; rm -rf "$T"' EXIT

wait_file() { # FILE
	for _ in $(seq 1 600); do
		[ -e "$1" ] && return 0
		sleep 0.05
	done
	fail "$1 never appeared"
}

cat >"$T/locked.md" <<'RB'
## Print while the journal is locked {confirm=no}
```sh
touch "$QRH_TEST_DIR/started"
i=0; while [ ! -e "$QRH_TEST_DIR/locked" ] && [ "$i" -lt 1200 ]; do sleep 0.05; i=$((i+1)); done
seq 1 40000
i=0; while [ ! -e "$QRH_TEST_DIR/unlocked" ] && [ "$i" -lt 1200 ]; do sleep 0.05; i=$((i+1)); done
echo last
```
RB
"$QRH_BIN" run --plain --yes --journal "$db" "$T/locked.md" >"$T/run.log" 2>&1 &
qrh=$!
wait_file "$T/started"
# hold a write transaction until qrh's flush has given up (busy timeout 5 s)
# on the step's output, which is more than qrh buffers (64 KiB)
{
	echo "BEGIN IMMEDIATE;"
	echo ".shell touch '$T/locked'"
	# until qrh's flush has given up and said so (no longer than 60 s)
	for _ in $(seq 1 1200); do
		grep -q "is no longer stored" "$T/run.log" && break
		sleep 0.05
	done
	echo "COMMIT;"
	echo ".shell touch '$T/unlocked'"
} | sqlite3 "$db" &
holder=$!
wait $qrh
rc=$?
wait $holder
holder=
assert_contains "$(cat "$T/run.log")" "the journal cannot be written"
assert_contains "$(cat "$T/run.log")" "bytes of its output lost: the journal could not be written"

total=$(seq 1 40000 | wc -c)
total=$((total + 5))	# "last\n"
lost=$(sqlite3 "$db" "select lost_bytes from outputs where step=0 and stream='stdout'")
[ "${lost:-0}" -gt 0 ] || fail "no bytes recorded as lost"
assert_eq "$(sqlite3 "$db" "select total_bytes || ' ' || finished || ' ' || truncated from outputs where step=0 and stream='stdout'")" "$total 1 0"
assert_eq "$(sqlite3 "$db" "select json_extract(payload,'\$.stdout.lost') || ' ' || json_extract(payload,'\$.stdout.truncated') from events where type='action_end'")" "$lost 0"

run "$QRH_BIN" show --output --journal "$db" 1
assert_rc 0
assert_contains "$out" "stdout, attempt 1: $total bytes, "
assert_contains "$out" ", $lost lost (the journal could not be written)"
assert_contains "$out" "| [$lost bytes lost: the journal could not be written]"
assert_contains "$out" "| 1"
run "$QRH_BIN" export --journal "$db" 1
assert_rc 0
assert_contains "$out" '"output_truncated":	false'
assert_contains "$out" "\"output_lost_bytes\":	$lost"
run "$QRH_BIN" verify --journal "$db"
assert_rc 0
echo "lost output recorded as lost: $lost of $total bytes"
