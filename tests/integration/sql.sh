#!/usr/bin/env bash
# sql actions against a real PostgreSQL 15 primary and streaming replica
# on loopback (tests/servers/pg.sh): parameters that are never pasted,
# result tables and values, expect/expect_rows/capture_col, connection
# reuse, cancel on timeout, connect errors, name lookup, password_var;
# recipe=lag on a replica, on a primary and on a detached replica;
# recipe=promote; recipe=rpo after a clean switchover (nothing lost) and
# after a crash with writes in flight (the loss the writer's own log
# shows). One primary and replica serve every case; the crash case runs
# on a second replica made from the promoted one.
. "$(dirname "$0")/../lib.sh"
. "$QRH_SRC/tests/servers/pg.sh"
trap 'pg_cleanup; rm -rf "$T"' EXIT

[ -n "$PG_BIN" ] || { echo "skip: no PostgreSQL server binaries"; exit 77; }
pg_setup || exit 1
pg_start_primary p || fail "the primary did not start"
pg_start_replica r p || fail "the replica did not start"
P=$(pg_port p)
R=$(pg_port r)
db=$T/j.db

# journaled values of step $1's last action_end in the last run: $2 a JSON path
val() {
	sqlite3 "$db" "select json_extract(payload, '\$.$2') from events
		where run_id = (select max(id) from runs) and type = 'action_end'
		and json_extract(payload, '\$.step_id') = '$1' order by seq desc limit 1"
}

qrh_run() { run "$QRH_BIN" run --plain --yes --journal "$db" "$@"; }

targets() {
	cat <<-YAML
	targets:
	  p:
	    kind: postgres
	    dsn: host=127.0.0.1 port=$P user=postgres dbname=postgres
	  r:
	    kind: postgres
	    dsn: host=127.0.0.1 port=$R user=postgres dbname=postgres
	YAML
}

pg_psql p -c "create table victims (n int); insert into victims values (1)" || fail "setup"

# ---- queries: parameters, table, values, expect, capture, reuse ----
{
	echo "---"
	echo "vars:"
	echo "  WHO: \"x'); drop table victims; --\""
	echo "  N: \"41\""
	targets
	echo "---"
	cat <<'RB'
## Ask {confirm=no capture=GOT}
```sql {target=p expect="who=x'); drop table victims; --, n>40, flag=t, gone=NULL" capture_col=n}
select ${WHO} as who, ${N}::int + 1 as n, true as flag, null as gone,
       'two
lines' as text, '$1' as literal, pg_backend_pid() as pid
```
## Reuse {confirm=no}
```sql {target=p params=${GOT} params=plain}
select $1::int * 2 as doubled, $2 as second, pg_backend_pid() as pid
```
RB
} >"$T/q.md"
qrh_run "$T/q.md"
assert_rc 0 "queries"
assert_contains "$out" "[1] |              who             | n  | flag | gone |    text    | literal |"
assert_contains "$out" "[1] | -----------------------------+----+------+------+------------+---------+-"
assert_contains "$out" "[1] |  x'); drop table victims; -- | 42 | t    |      | two\\nlines | \$1      |"
assert_contains "$out" "[1] | (1 row)"
assert_contains "$out" "[2] |  doubled | second |"
assert_contains "$out" "captured GOT"
assert_eq "$(val ask values.first_row.who)" "x'); drop table victims; --"
assert_eq "$(val ask values.first_row.gone)" ""
assert_eq "$(val ask values.rows)" "1"
assert_eq "$(val ask values.command)" "SELECT 1"
assert_eq "$(val ask values.columns)" '["who","n","flag","gone","text","literal","pid"]'
assert_eq "$(val ask values.capture)" "42"
assert_eq "$(val ask values.expect[1].got)" "42"
assert_eq "$(val reuse values.first_row.doubled)" "84"
assert_eq "$(val reuse values.first_row.second)" "plain"
assert_eq "$(val reuse values.reused)" "1"
assert_eq "$(val ask values.backend_pid)" "$(val reuse values.backend_pid)"
assert_eq "$(pg_psql p -c 'select count(*) from victims')" "1"
cmd=$(sqlite3 "$db" "select json_extract(payload, '\$.command') from events where run_id = (select max(id) from runs) and type = 'action_start' limit 1")
assert_contains "$cmd" "sql on p (host=127.0.0.1 port=$P dbname=postgres user=postgres)"
assert_contains "$cmd" "select \$1 as who, \$2::int + 1 as n"
assert_contains "$cmd" "\$1 = \${WHO} = x'); drop table victims; --"

# ---- a connection the server closed is replaced, not reused ----
cat >"$T/k.md" <<RB
---
$(targets)
  killer:
    kind: postgres
    dsn: host=127.0.0.1 port=$P user=postgres dbname=postgres application_name=killer
---
## First {confirm=no capture=PID}
\`\`\`sql {target=p capture_col=pid}
select pg_backend_pid() as pid
\`\`\`
## Kill it {confirm=no}
\`\`\`sql {target=killer expect="killed=t"}
select pg_terminate_backend(\${PID}::int, 10000) as killed
\`\`\`
## Again {confirm=no}
\`\`\`sql {target=p}
select pg_backend_pid() as pid
\`\`\`
RB
qrh_run "$T/k.md"
assert_rc 0 "reconnect: $out"
assert_eq "$(val again status)" "ok"
assert_eq "$(val again values.reused)" "0"
[ "$(val again values.backend_pid)" != "$(val first values.backend_pid)" ] || fail "the killed connection was reused"

# ---- a column captured into a secret is neither journaled nor shown ----
cat >"$T/s.md" <<RB
---
vars:
  TOKEN:
    secret: true
$(targets)
---
## Fetch {confirm=no capture=TOKEN}
\`\`\`sql {target=p capture_col=t}
select md5('qrh') as t
\`\`\`
## Use {confirm=no}
\`\`\`sql {target=p expect="same=t"}
select \${TOKEN} = md5('qrh') as same
\`\`\`
RB
token=$(pg_psql p -c "select md5('qrh')")
qrh_run "$T/s.md"
assert_rc 0 "secret capture"
assert_not_contains "$out" "$token"
assert_eq "$(sqlite3 "$db" "select count(*) from events where payload like '%$token%'")" "0"
assert_eq "$(sqlite3 "$db" "select count(*) from output_chunks where cast(data as text) like '%$token%'")" "0"
assert_eq "$(val fetch values.first_row.t)" "***"
assert_eq "$(val use values.first_row.same)" "t"

# ---- failures: expect, expect_rows, an SQL error, a refused connection ----
{
	echo "---"
	targets
	echo "  dead:"
	echo "    kind: postgres"
	echo "    dsn: host=127.0.0.1 port=$(pg_free_port) user=postgres connect_timeout=5"
	echo "---"
	cat <<'RB'
## Wrong value {confirm=no on_fail=continue}
```sql {target=p expect="n=3"}
select 2 as n
```
## Too few rows {confirm=no on_fail=continue}
```sql {target=p expect_rows=">1"}
select 1
```
## No column {confirm=no on_fail=continue}
```sql {target=p expect="nope=1"}
select 1 as n
```
## Bad sql {confirm=no on_fail=continue}
```sql {target=p}
select * from no_such_table
```
## Refused {confirm=no on_fail=continue}
```sql {target=dead}
select 1
```
## Many {confirm=no}
```sql {target=p expect_rows=1500}
select g from generate_series(1, 1500) as g
```
RB
} >"$T/f.md"
qrh_run "$T/f.md"
assert_rc 1 "failures"
assert_eq "$(val wrong-value status)" "failed"
assert_eq "$(val wrong-value summary)" "expect failed: n: expected 3, got 2"
assert_eq "$(val too-few-rows summary)" "expect_rows failed: expected >1 rows, got 1"
assert_eq "$(val no-column summary)" "expect: no column 'nope' (columns: n)"
assert_eq "$(val bad-sql summary)" 'relation "no_such_table" does not exist (sqlstate 42P01)'
assert_eq "$(val bad-sql values.sqlstate)" "42P01"
assert_contains "$out" '[4] ! ERROR:  relation "no_such_table" does not exist'
assert_eq "$(val refused status)" "error"
assert_contains "$(val refused summary)" "cannot connect to dead: "
assert_contains "$(val refused summary)" "Connection refused"
assert_eq "$(val many status)" "ok"
assert_eq "$(val many values.rows)" "1500"
assert_eq "$(val many values.rows_shown)" "1000"
assert_contains "$out" "[6] | (1500 rows, the first 1000 shown)"

# ---- a timeout cancels the statement on the server ----
cat >"$T/t.md" <<RB
---
$(targets)
---
## Slow {confirm=no}
\`\`\`sql {target=p timeout=1s}
select pg_sleep(60) as slept
\`\`\`
RB
start=$(date +%s)
qrh_run "$T/t.md"
assert_rc 1 "timeout"
[ $(($(date +%s) - start)) -lt 30 ] || fail "the timed out statement was not cancelled in time"
assert_eq "$(val slow status)" "timeout"
assert_eq "$(val slow summary)" "timed out; the server cancelled the statement"
assert_eq "$(val slow values.sqlstate)" "57014"
assert_eq "$(pg_psql p -c "select count(*) from pg_stat_activity where query like '%pg_sleep(60)%' and pid <> pg_backend_pid()")" "0"

# ---- a host name is looked up off the loop; a password from a secret ----
pg_psql p -c "create role qrh_pw login password 'n0t-in-the-journal'" || fail "setup role"
pg_hba_first p "host all qrh_pw 127.0.0.1/32 scram-sha-256" || fail "setup hba"
cat >"$T/n.md" <<RB
---
vars:
  PW:
    secret: true
targets:
  named:
    kind: postgres
    dsn: host=localhost port=$P user=qrh_pw dbname=postgres
    password_var: PW
---
## Who {confirm=no}
\`\`\`sql {target=named}
select current_user as me
\`\`\`
RB
qrh_run -v PW=n0t-in-the-journal "$T/n.md"
assert_rc 0 "name and password"
assert_eq "$(val who values.first_row.me)" "qrh_pw"
assert_contains "$(val who values.server)" "localhost ("
assert_eq "$(sqlite3 "$db" "select count(*) from events where payload like '%n0t-in-the-journal%'")" "0"
qrh_run -v PW=wrong "$T/n.md"
assert_rc 1 "wrong password"
assert_contains "$(val who summary)" 'password authentication failed for user "qrh_pw"'

# ---- recipe=lag: on the replica while a writer runs, on the primary ----
pg_writer_start p "$T/ack1" 0.02 || fail "writer"
cat >"$T/lag.md" <<RB
---
$(targets)
---
## Replica lag {confirm=no}
\`\`\`sql {target=r recipe=lag expect="lag_seconds<60" capture=LAG capture_col=lag_seconds}
\`\`\`
## Primary lag {confirm=no on_fail=continue}
\`\`\`sql {target=p recipe=lag}
\`\`\`
RB
qrh_run "$T/lag.md"
assert_rc 1 "lag"
assert_eq "$(val replica-lag status)" "ok"
assert_eq "$(val replica-lag values.recipe)" "lag"
assert_eq "$(val replica-lag values.in_recovery)" "1"
assert_eq "$(val replica-lag values.streaming)" "1"
[[ $(val replica-lag values.lag_bytes) =~ ^[0-9]+$ ]] || fail "lag_bytes is not a number: $(val replica-lag values.lag_bytes)"
[[ $(val replica-lag values.lag_seconds) =~ ^[0-9.]+$ ]] || fail "lag_seconds is not a number"
assert_contains "$(val replica-lag summary)" "replica "
assert_eq "$(val replica-lag values.capture)" "$(val replica-lag values.lag_seconds)"
assert_eq "$(val primary-lag status)" "failed"
assert_eq "$(val primary-lag summary)" "not a replica: the node is not in recovery (a primary, or already promoted)"

# ---- a clean switchover: nothing acknowledged is lost ----
sleep 0.5
pg_stop p fast || fail "fast stop of the primary"
pg_writer_stop
[ "$(wc -l <"$T/ack1")" -gt 5 ] || fail "the writer acknowledged only $(wc -l <"$T/ack1") writes"
cat >"$T/sw.md" <<RB
---
$(targets)
---
## Promote {confirm=no}
\`\`\`sql {target=r recipe=promote within=30s}
\`\`\`
## Promote again {confirm=no}
\`\`\`sql {target=r recipe=promote}
\`\`\`
## Rpo {confirm=no}
\`\`\`sql {target=r recipe=rpo ack_file=$T/ack1 expect="rows_lost=0"}
\`\`\`
RB
qrh_run "$T/sw.md"
assert_rc 0 "switchover"
assert_eq "$(val promote values.promoted)" "1"
assert_eq "$(val promote values.in_recovery)" "0"
assert_eq "$(val promote values.pg_promote_returned)" "1"
assert_contains "$(val promote summary)" "promoted in "
assert_eq "$(val promote-again values.already_primary)" "1"
assert_eq "$(val promote-again summary)" "already a primary: the node is not in recovery, nothing was promoted"
assert_eq "$(pg_psql r -c 'select pg_is_in_recovery()')" "f"
acked=$(wc -l <"$T/ack1")
assert_eq "$(val rpo values.acked)" "$acked"
assert_eq "$(val rpo values.rows_lost)" "0"
assert_eq "$(val rpo values.window_ms)" "0"
assert_eq "$(val rpo values.last_acked_id)" "$(tail -n 1 "$T/ack1" | cut -f1)"

# ---- a crash with writes in flight: the loss the writer's log shows ----
pg_start_replica r2 r || fail "the second replica did not start"
R2=$(pg_port r2)
pg_writer_start r "$T/ack2" 0.01 || fail "writer 2"
n=$(wc -l <"$T/ack2")
deadline=$((SECONDS + 30))
while [ "$(wc -l <"$T/ack2")" -lt $((n + 10)) ]; do
	[ $SECONDS -lt $deadline ] || fail "the writer stalled"
	sleep 0.1
done
# the replica stops receiving (a partition); the primary goes on acknowledging
pg_detach_replica r2 || fail "detach"
n=$(wc -l <"$T/ack2")
while [ "$(wc -l <"$T/ack2")" -lt $((n + 20)) ]; do
	[ $SECONDS -lt $deadline ] || fail "the writer stalled after the detach"
	sleep 0.1
done
cat >"$T/cr.md" <<RB
---
targets:
  r2:
    kind: postgres
    dsn: host=127.0.0.1 port=$R2 user=postgres dbname=postgres
---
## Detached lag {confirm=no on_fail=continue}
\`\`\`sql {target=r2 recipe=lag}
\`\`\`
## Promote {confirm=no}
\`\`\`sql {target=r2 recipe=promote}
\`\`\`
## Rpo {confirm=no}
\`\`\`sql {target=r2 recipe=rpo ack_file=$T/ack2}
\`\`\`
RB
pg_stop r immediate || fail "crash of the primary"
pg_writer_stop
qrh_run "$T/cr.md"
assert_rc 1 "crash"
assert_eq "$(val detached-lag status)" "failed"
assert_contains "$(val detached-lag summary)" "replica not streaming"
assert_eq "$(val promote values.promoted)" "1"
cut -f1 "$T/ack2" | sort >"$T/acked.ids"
pg_psql r2 -c "select id from rpo_marker" | sort >"$T/present.ids"
lost=$(comm -23 "$T/acked.ids" "$T/present.ids" | wc -l)
[ "$lost" -gt 0 ] || fail "the crash lost no acknowledged write: the test did not partition the replica"
assert_eq "$(val rpo values.rows_lost)" "$lost"
assert_eq "$(val rpo values.acked)" "$(wc -l <"$T/ack2")"
assert_eq "$(val rpo values.first_lost_id)" "$(comm -23 "$T/acked.ids" "$T/present.ids" | sort -n | head -n 1)"
[ "$(val rpo values.window_ms)" -gt 0 ] || fail "window_ms is $(val rpo values.window_ms)"
assert_contains "$(val rpo summary)" "rpo: $lost of $(wc -l <"$T/ack2") acknowledged rows lost"
echo "sql: ok"
