#!/usr/bin/env bash
# qrh list, show, verify, export against journals written by real runs
# (qrh run --plain), a run killed mid-step, and journals tampered with
# through sqlite3.
. "$(dirname "$0")/../lib.sh"

command -v sqlite3 >/dev/null || { echo "sqlite3 is not installed"; exit 77; }
"$QRH_BIN" help run >/dev/null 2>&1 || { echo "qrh run does not exist yet"; exit 77; }

J=$T/journal.db
export QRH_JOURNAL=$T/not-this-one.db	# --journal must win over it

# A JSON value out of an exported document: json FILE PATH
json() {
	sqlite3 :memory: "SELECT json_extract(readfile('$1'), '$2')"
}

# ---- three real runs: ok, failed, a drill ----
printf '# Evil \033]0;pwned\007 title\n\n## Say hello {id=hello confirm=no}\n\n```sh\necho hello; printf '"'"'evil \\033]0;x\\007 done\\n'"'"'; echo oops >&2\n```\n\n## Check {id=check}\n\n```sh\ntrue\n```\n' >"$T/ok.md"
printf '# Flaky\n\n## Fail {id=fail retries=1 backoff=10ms}\n\n```sh\necho trying; exit 3\n```\n\n## Never {id=never}\n\nNot reached.\n' >"$T/fail.md"
run "$QRH_BIN" run --plain --yes --journal "$J" "$T/ok.md"
assert_rc 0 "run ok.md"
run "$QRH_BIN" run --plain --yes --journal "$J" "$T/fail.md"
assert_rc 1 "run fail.md"
run "$QRH_BIN" run --plain --yes --drill --journal "$J" "$T/ok.md"
assert_rc 0 "run ok.md --drill"

# ---- list ----
run "$QRH_BIN" list --journal "$J"
assert_rc 0
assert_not_contains "$out" $'\033'
assert_contains "$out" "Evil ^[]0;pwned^G title"
[ "$(printf '%s\n' "$out" | wc -l)" -eq 4 ] || fail "expected a header and 3 runs: $out"
line() { printf '%s\n' "$out" | sed -n "$1p"; }
assert_contains "$(line 1)" "RUN"
assert_contains "$(line 2)" "    3  "
assert_contains "$(line 2)" "drill"
assert_contains "$(line 2)" "2/2"
assert_contains "$(line 3)" "    2  "
assert_contains "$(line 3)" "failed"
assert_contains "$(line 3)" "0/2"
assert_contains "$(line 3)" "Flaky"
assert_contains "$(line 4)" "live"
assert_contains "$(line 4)" "ok"

# ---- show ----
run "$QRH_BIN" show --journal "$J" 2
assert_rc 0
assert_contains "$out" "run 2: Flaky"
assert_contains "$out" "steps: 0 of 2 done"
assert_contains "$out" "failed in "
assert_contains "$out" "exit 3"
assert_contains "$out" "2 attempts"
assert_contains "$out" "confirmed by "
assert_contains "$out" "(yes-flag)"
assert_contains "$out" "outcome failed"
assert_contains "$out" "Never [never]"
assert_contains "$out" "pending"
assert_not_contains "$out" "| trying"

# the newest run by default; --output prints what each step printed
run "$QRH_BIN" show --output --journal "$J"
assert_rc 0
assert_contains "$out" "run 3: Evil ^[]0;pwned^G title"
assert_contains "$out" "mode      drill"
assert_contains "$out" "(auto)"
assert_contains "$out" "| hello"
assert_contains "$out" "| evil ^[]0;x^G done"
assert_contains "$out" "! oops"
assert_not_contains "$out" $'\033'
assert_not_contains "$out" $'\007'
run "$QRH_BIN" show --output --journal "$J" 2
assert_contains "$out" "stdout, attempt 1: 7 bytes"
assert_contains "$out" "stdout, attempt 2: 7 bytes"
assert_contains "$out" "| trying"

# ---- verify ----
run "$QRH_BIN" verify --journal "$J"
assert_rc 0
head3=$(sqlite3 "$J" "SELECT head_seq || ':' || substr(head_hash, 1, 12) FROM runs WHERE id = 3")
events=$(sqlite3 "$J" "SELECT count(*) FROM events")
assert_eq "$out" "journal ok: 3 runs, $events events, head 3:$head3"
run "$QRH_BIN" verify --journal "$J" 2
assert_rc 0
assert_contains "$out" "journal ok: 1 run, "
assert_contains "$out" "head 2:"

# ---- export ----
run "$QRH_BIN" export --journal "$J" -f json -o "$T/e2.json" 2
assert_rc 0
assert_eq "$out" ""
assert_eq "$(json "$T/e2.json" '$.run.id')" 2
assert_eq "$(json "$T/e2.json" '$.run.title')" "Flaky"
assert_eq "$(json "$T/e2.json" '$.run.mode')" "live"
assert_eq "$(json "$T/e2.json" '$.run.outcome')" "failed"
assert_eq "$(json "$T/e2.json" '$.run.runbook_sha256')" "$(sha256sum <"$T/fail.md" | cut -d' ' -f1)"
[[ $(json "$T/e2.json" '$.run.started_at') =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z$ ]] ||
	fail "started_at is not RFC 3339 with milliseconds"
assert_eq "$(json "$T/e2.json" '$.steps[0].status')" "failed"
assert_eq "$(json "$T/e2.json" '$.steps[0].attempts')" 2
assert_eq "$(json "$T/e2.json" '$.steps[0].exit_code')" 3
assert_eq "$(json "$T/e2.json" '$.steps[0].output_bytes')" 7
assert_eq "$(json "$T/e2.json" '$.steps[0].output_sha256')" "$(printf 'trying\n' | sha256sum | cut -d' ' -f1)"
assert_eq "$(json "$T/e2.json" '$.steps[0].confirmed_by.how')" "yes-flag"
assert_eq "$(json "$T/e2.json" '$.steps[1].status')" "pending"
assert_eq "$(json "$T/e2.json" '$.steps[1].exit_code')" ""
assert_eq "$(json "$T/e2.json" '$.events[0].type')" "run_start"
assert_eq "$(json "$T/e2.json" '$.events[0].prev_hash')" "0000000000000000000000000000000000000000000000000000000000000000"
n=$(sqlite3 :memory: "SELECT json_array_length(readfile('$T/e2.json'), '\$.events')")
assert_eq "$n" "$(sqlite3 "$J" "SELECT count(*) FROM events WHERE run_id = 2")"
assert_eq "$(json "$T/e2.json" '$.head.seq')" "$n"
assert_eq "$(json "$T/e2.json" '$.head.hash')" "$(sqlite3 "$J" "SELECT head_hash FROM runs WHERE id = 2")"
assert_eq "$(json "$T/e2.json" "\$.events[$((n - 1))].hash")" "$(json "$T/e2.json" '$.head.hash')"
# the newest run to standard output (a pipe: byte for byte)
run "$QRH_BIN" export --journal "$J"
assert_rc 0
printf '%s\n' "$out" >"$T/e3.json"
assert_eq "$(json "$T/e3.json" '$.run.id')" 3
assert_eq "$(json "$T/e3.json" '$.run.title')" $'Evil \033]0;pwned\007 title'

# ---- usage and missing things ----
run "$QRH_BIN" export --journal "$J" -f md --sign /nonexistent 1
assert_rc 2
assert_contains "$err" "--sign signs a bundle"
run "$QRH_BIN" export --journal "$J" -f xml 1
assert_rc 2
assert_contains "$err" "unknown format"
run "$QRH_BIN" export --journal "$J" -f json -o "$T/no/such/dir/e.json" 1
assert_rc 1
assert_contains "$err" "cannot write"
for cmd in show verify export; do
	run "$QRH_BIN" $cmd --journal "$J" 99
	assert_rc 2 "$cmd 99"
	assert_contains "$err" "no run 99"
	run "$QRH_BIN" $cmd --journal "$J" abc
	assert_rc 2 "$cmd abc"
	run "$QRH_BIN" $cmd --journal "$J" 1 2
	assert_rc 2 "$cmd 1 2"
done
for cmd in list show verify export; do
	run "$QRH_BIN" $cmd --journal "$T/missing.db"
	assert_rc 2 "$cmd with no journal"
	assert_contains "$err" "cannot open journal"
	[ ! -e "$T/missing.db" ] || fail "$cmd created the journal"
	run "$QRH_BIN" $cmd --bogus
	assert_rc 2 "$cmd --bogus"
	run "$QRH_BIN" $cmd --help
	assert_rc 0 "$cmd --help"
	assert_contains "$out" "usage: qrh $cmd"
done

# ---- a run killed mid-step: running, then interrupted on resume ----
printf '# Slow\n\n## Wait {id=wait confirm=no}\n\n```sh\necho $$ >%s/slow.pid; echo started; exec sleep 30\n```\n' "$T" >"$T/slow.md"
K=$T/killed.db
"$QRH_BIN" run --plain --yes --journal "$K" "$T/slow.md" >"$T/slow.out" 2>&1 &
pid=$!
# should an assertion fail, leave neither qrh nor its step behind
trap 'kill -9 "$pid" $(cat "$T/slow.pid" 2>/dev/null) 2>/dev/null; rm -rf "$T"' EXIT
for _ in $(seq 100); do
	[ -s "$T/slow.pid" ] && break
	sleep 0.1
done
[ -s "$T/slow.pid" ] || fail "the slow step never started"
kill -9 "$pid"
wait "$pid" 2>/dev/null
kill -9 "$(cat "$T/slow.pid")" 2>/dev/null	# the orphaned step, by its pid
run "$QRH_BIN" list --journal "$K"
assert_rc 0
assert_contains "$out" "unfinished"
run "$QRH_BIN" show --journal "$K"
assert_rc 0
assert_contains "$out" "running since"
assert_contains "$out" "not yet: the run has no outcome"
run "$QRH_BIN" verify --journal "$K"
assert_rc 0
"$QRH_BIN" resume --plain --yes --skip-interrupted --journal "$K" >/dev/null 2>&1
run "$QRH_BIN" show --journal "$K"
assert_contains "$out" "Wait [wait]"
assert_not_contains "$out" "running since"

# ---- tampering, end to end ----
# tamper NAME SQL: a copy of the journal with SQL applied, triggers gone
tamper() {
	local db=$T/tampered-$1.db
	rm -f "$db"
	sqlite3 "$J" "VACUUM INTO '$db'"
	sqlite3 "$db" "DROP TRIGGER events_no_update; DROP TRIGGER events_no_delete; $2" ||
		fail "tampering '$1' failed"
	TAMPERED=$db
}
id_of() { # RUN SEQ: the row id of an event
	sqlite3 "$J" "SELECT id FROM events WHERE run_id = $1 AND seq = $2"
}

tamper payload "UPDATE events SET payload = replace(payload, '\"attempt\":1', '\"attempt\":7') WHERE run_id = 1 AND seq = 3"
run "$QRH_BIN" verify --journal "$TAMPERED"
assert_rc 1 "payload byte"
assert_eq "$out" "run 1 event 3: hash mismatch: event 3 was changed: its content does not match its hash"
run "$QRH_BIN" verify --journal "$TAMPERED" 2
assert_rc 0 "the other run is intact"

tamper delete "DELETE FROM events WHERE run_id = 1 AND seq = 4"
run "$QRH_BIN" verify --journal "$TAMPERED"
assert_rc 1 "delete"
assert_contains "$out" "run 1 event 4: event missing:"

a=$(id_of 2 3) b=$(id_of 2 5)
tamper swap "
	CREATE TEMP TABLE a AS SELECT * FROM events WHERE id = $a;
	CREATE TEMP TABLE b AS SELECT * FROM events WHERE id = $b;
	DELETE FROM events WHERE id IN ($a, $b);
	INSERT INTO events SELECT $a, run_id, seq, wall_ms, mono_ns, step, type, actor, payload, prev_hash, hash FROM b;
	INSERT INTO events SELECT $b, run_id, seq, wall_ms, mono_ns, step, type, actor, payload, prev_hash, hash FROM a;"
run "$QRH_BIN" verify --journal "$TAMPERED"
assert_rc 1 "swap"
assert_contains "$out" "run 2 event 3: events reordered:"
run "$QRH_BIN" verify --journal "$TAMPERED" 1
assert_rc 0

tamper title "UPDATE runs SET title = 'Nothing happened' WHERE id = 2"
run "$QRH_BIN" verify --journal "$TAMPERED"
assert_rc 1 "title"
assert_contains "$out" "run 2 event 1: run record does not match its chain:"

# the outcome is the chain's (run_end), not the run row's to decide
tamper outcome "UPDATE runs SET outcome = 'ok' WHERE id = 2"
run "$QRH_BIN" verify --journal "$TAMPERED"
assert_rc 1 "outcome"
assert_contains "$out" "run 2 event $(sqlite3 "$J" "SELECT head_seq FROM runs WHERE id = 2"): run outcome does not match its chain: run 2 is recorded with outcome 'ok' but its run_end says 'failed'"
tamper ended "UPDATE runs SET ended_at = ended_at + 3600000 WHERE id = 2"
run "$QRH_BIN" verify --journal "$TAMPERED"
assert_rc 1 "ended_at"
assert_contains "$out" "run outcome does not match its chain"

# stored output is checked against the SHA-256 on the chain
oid=$(sqlite3 "$J" "SELECT id FROM outputs WHERE run_id = 1 AND step = 0 AND stream = 'stdout'")
tamper output "UPDATE output_chunks SET data = CAST(replace(CAST(data AS TEXT), 'hello', 'HACKD') AS BLOB) WHERE output_id = $oid"
run "$QRH_BIN" verify --journal "$TAMPERED"
assert_rc 1 "forged output"
assert_contains "$out" "stored output does not match its chain: stdout of step 1 attempt 1 (task 1): its stored bytes hash to"
run "$QRH_BIN" show --output --journal "$TAMPERED" 1
assert_rc 1 "show of a forged stream"
assert_contains "$out" "stdout, attempt 1: NOT SHOWN: the stored copy is not what the journal's chain"
assert_not_contains "$out" "HACKD"
assert_contains "$out" "! oops"
assert_contains "$err" "see qrh verify"
run "$QRH_BIN" show --output --journal "$J" 1
assert_rc 0
assert_not_contains "$out" "NOT SHOWN"

last=$(sqlite3 "$J" "SELECT head_seq FROM runs WHERE id = 3")
tamper tail "DELETE FROM events WHERE run_id = 3 AND seq = $last"
run "$QRH_BIN" verify --journal "$TAMPERED"
assert_rc 1 "cut tail"
assert_contains "$out" "run 3 event $last: chain ends before its recorded head:"

# hostile bytes in a forged detail never reach the terminal raw
tamper actor "UPDATE events SET actor = 'x' || char(27) || '[2J' WHERE run_id = 1 AND seq = 2"
run "$QRH_BIN" verify --journal "$TAMPERED"
assert_rc 1
run "$QRH_BIN" show --journal "$TAMPERED" 1
assert_rc 0
assert_contains "$out" "confirmed by x^[[2J"
assert_not_contains "$out" $'\033'

# a journal file left blank by a qrh killed while creating it reads as an
# empty journal; an SQLite file of something else is refused
sqlite3 "$T/blank.db" "PRAGMA journal_mode=WAL;" >/dev/null
run "$QRH_BIN" verify --journal "$T/blank.db"
assert_rc 0
assert_contains "$out" "journal ok: 0 runs"
run "$QRH_BIN" list --journal "$T/blank.db"
assert_rc 0
sqlite3 "$T/other.db" "create table notes(text);"
run "$QRH_BIN" verify --journal "$T/other.db"
assert_rc 2
assert_contains "$err" "is not a qrh journal"

echo "journal_cmds: ok"
