#!/usr/bin/env bash
# The DR failover runbook (runbooks/library/stage-dr-failover.md) in plain
# mode against real servers on loopback: a PostgreSQL primary and its
# streaming replica, and a primary and a DR HTTP gateway. Steps 1-6 pass:
# announce, check the replica's lag (sql recipe=lag), start the load (a
# background psql writer logging acknowledged ids), see the marker rows
# arrive and the primary gateway answer, crash the primary (typed FAIL; pg_ctl -m immediate),
# and wait until the primary gateway reports the outage (an http wait
# until=5xx). The run then stops at step 7, the promotion, which needs its
# own typed word, and stays open.
. "$(dirname "$0")/../lib.sh"
. "$QRH_SRC/tests/servers/pg.sh"
. "$QRH_SRC/tests/servers/http.sh"
command -v sqlite3 >/dev/null || { echo "skip: sqlite3 is not installed"; exit 77; }
pg_setup 2>/dev/null || { echo "skip: PostgreSQL server binaries are not installed"; exit 77; }
watcher=
trap '[ -n "$watcher" ] && kill $watcher 2>/dev/null; http_stop_all; pg_cleanup; rm -rf "$T"' EXIT

pg_start_primary primary || fail "the primary did not start"
pg_psql primary -c "create role qrh login superuser" -c "create database app owner qrh" >/dev/null
pg_psql primary -d app -c "create table rpo_marker (id bigserial primary key, at timestamptz not null)" >/dev/null 2>&1 ||
	PGDATABASE=app pg_psql primary -c "create table rpo_marker (id bigserial primary key, at timestamptz not null)" >/dev/null
pg_start_replica replica primary || fail "the replica did not start"
http_start primary-gw primary || fail "the primary gateway did not start"
http_start dr-gw dr || fail "the DR gateway did not start"

# pg_ctl refuses root: the runbook's PG_CTL runs it as the server's user
cat >"$T/pg_ctl" <<SH
#!/bin/sh
if [ "\$(id -u)" -eq 0 ]; then exec runuser -u $PG_RUNAS -- $PG_BIN/pg_ctl "\$@"; fi
exec $PG_BIN/pg_ctl "\$@"
SH
chmod 755 "$T/pg_ctl"

db=$T/j.db
# the primary gateway reports the outage once its database is down, as a
# real health check would: the test plays that part
(
	for _ in $(seq 1 1200); do
		n=$(sqlite3 "$db" "select count(*) from events where type='step_end' and step=4
			and json_extract(payload,'\$.status')='ok'" 2>/dev/null)
		if [ "${n:-0}" -gt 0 ]; then http_set_status primary-gw 503; exit 0; fi
		sleep 0.1
	done
) &
watcher=$!

run "$QRH_BIN" run --plain --yes --journal "$db" \
	--typed simulate-the-primary-failure=FAIL \
	-v REASON="qrh test" -v PGHOST=127.0.0.1 \
	-v PRIMARY_PORT="$(pg_port primary)" -v REPLICA_PORT="$(pg_port replica)" \
	-v PRIMARY_DATA="$PG_BASE/primary" -v ACK_FILE="$T/acks" -v PG_CTL="$T/pg_ctl" \
	-v PRIMARY_URL="$(http_url primary-gw)" -v DR_URL="$(http_url dr-gw)" \
	"$QRH_SRC/runbooks/library/stage-dr-failover.md" </dev/null
assert_rc 2 "the run stops at the promotion, which needs its word"
assert_contains "$err" "give --typed promote-the-replica=PROMOTE"
status() { sqlite3 "$db" "select json_extract(payload,'\$.status') from events where type='step_end' and step=$1 order by seq desc limit 1"; }
for i in 0 1 2 3 4 5; do
	assert_eq "$(status $i)" ok
done
assert_eq "$(sqlite3 "$db" "select count(*) from events where type='step_start' and step=6")" 0
# what each step measured is in the journal
assert_eq "$(sqlite3 "$db" "select json_extract(payload,'\$.values.in_recovery') from events where type='action_end' and step=1")" 1
assert_eq "$(sqlite3 "$db" "select json_extract(payload,'\$.values.status') from events where type='action_end' and step=3 and json_extract(payload,'\$.action')=1")" 200
[ "$(sqlite3 "$db" "select json_extract(payload,'\$.values.first_row.recent') from events where type='action_end' and step=3 and json_extract(payload,'\$.action')=0 order by seq desc limit 1")" -gt 0 ] ||
	fail "the load was not seen arriving"
[ "$(sqlite3 "$db" "select json_extract(payload,'\$.values.status') from events where type='action_end' and step=5")" -ge 500 ] ||
	fail "the health check never saw the outage"
# the load wrote and saw its writes acknowledged before the crash
[ -s "$T/acks" ] || fail "the background load logged no acknowledged write: $(sqlite3 "$db" "select type, payload from events where type like 'background%' or type='task_reaped'")"
assert_contains "$out" "[1] | DR drill started by"
assert_contains "$(pg_as "$PG_BIN/pg_ctl" -D "$PG_BASE/primary" status 2>&1)" "no server running"
run "$QRH_BIN" verify --journal "$db"
assert_rc 0
echo "dr failover: steps 1-6 of stage-dr-failover.md against a real primary, replica and gateways; $(wc -l <"$T/acks") writes acknowledged before the crash"
