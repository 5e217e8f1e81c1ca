#!/usr/bin/env bash
# Team mode against a real PostgreSQL 15 on loopback (tests/servers/pg.sh)
# with three roles: the schema owner and two operators, alice and bob
# (members of qrh_writer). One server serves every case:
#  - a run shipped while the database is stopped and started again mid-run
#    arrives complete, with no duplicate, and verifies centrally;
#  - a remote watcher in tmux (qrh watch --team, as bob) follows it live;
#  - dual control: alice (the operator) approving her own step through the
#    team database is refused, bob's approval runs it; on this machine the
#    operator's own uid is refused and another uid (nobody) approves;
#  - notes by a team member, from qrh note --team and from the watch
#    console's a key, are journaled with the role as their author; a note
#    on a run that has ended is refused;
#  - UPDATE and DELETE by a writer role are refused by the server;
#  - verify --team catches an event the owner changed in the central copy.
. "$(dirname "$0")/../lib.sh"
. "$QRH_SRC/tests/tui_lib.sh"
. "$QRH_SRC/tests/servers/pg.sh"
trap 'pg_cleanup; tui_cleanup' EXIT

[ -n "$PG_BIN" ] || { echo "skip: no PostgreSQL server binaries"; exit 77; }
pg_setup || exit 1
pg_start_primary p || fail "postgres did not start"
P=$(pg_port p)
{ pg_psql p -c "create role owner login createrole" && pg_psql p -c "create database team owner owner"; } ||
	fail "setup: the owner role"
conn() { printf 'host=127.0.0.1 port=%s dbname=team user=%s connect_timeout=5' "$P" "$1"; }
OWNER=$(conn owner)
ALICE=$(conn alice)
BOB=$(conn bob)
as() { "$PG_BIN/psql" -X -q -A -t -v ON_ERROR_STOP=1 "$(conn "$1")" -c "$2"; }

run "$QRH_BIN" team init "$OWNER"
assert_rc 0 "team init"
assert_contains "$out" "CREATE TABLE qrh.events"
as owner "create role alice login in role qrh_writer; create role bob login in role qrh_writer" ||
	fail "setup: the operators"
run "$QRH_BIN" team check "$OWNER"
assert_rc 0 "team check"

db=$T/j.db
export QRH_TEAM_DRAIN=60
cd "$T" || exit 1

# ---- a run through a stop and a start of the database, watched by bob ----
cat >rb.md <<'RB'
---
title: Team test
---
## One {confirm=no}
```sh
echo one
```
## Hold {confirm=no}
```sh
for i in $(seq 1200); do [ -e go1 ] && break; sleep 0.1; done; echo after-go1
```
## Many {confirm=no}
```sh
for i in $(seq 40); do echo "line $i"; done
```
## Again {confirm=no}
```sh
for i in $(seq 1200); do [ -e go2 ] && break; sleep 0.1; done; echo after-go2
```
## Last {confirm=no}
```sh
echo last
```
RB
"$QRH_BIN" run --plain --yes --journal "$db" --team "$ALICE" rb.md >run1.out 2>run1.err &
pid=$!
local_started() { # STEP: its step_start is in the local journal
	[ "$(sqlite3 "$db" "select count(*) from events where type = 'step_start' and
		json_extract(payload, '\$.step_id') = '$1'" 2>/dev/null)" -gt 0 ] 2>/dev/null
}
wait_until() { # SECONDS CMD...
	local limit=$1 i=0
	shift
	until "$@"; do
		i=$((i + 1))
		[ $i -lt $((limit * 10)) ] || return 1
		sleep 0.1
	done
}
central() { as owner "$1"; }
wait_until 60 local_started hold || fail "step hold never started: $(cat run1.err)"
U1=$(sqlite3 "$db" "select uuid from team_runs where run_id = 1")
central_started() { # N: the team database has the run's first N step_starts
	[ "$(central "select count(*) from qrh.events where run_uuid = '$U1' and type = 'step_start'")" = "$1" ]
}
wait_until 60 central_started 2 ||
	fail "the run did not reach the team database: $(cat run1.err)"

TUI_DB=$db tui_start w 100 30 -- "$QRH_BIN" watch --team "$BOB" "$U1"
wait_for w "Team test"
wait_for w "Steps 1/5 done"

(cd / && pg_stop p)
touch go1
wait_until 60 local_started again || fail "step again never started: $(cat run1.err)"
wait_until 30 grep -q "team: unreachable" run1.out || fail "plain mode did not say the link is down: $(cat run1.out)"
(cd / && pg_ctl_start p) || fail "postgres did not start again"
touch go2
wait_until 120 eval '! kill -0 $pid 2>/dev/null' || fail "the run did not end: $(cat run1.err)"
wait $pid
assert_eq "$?" 0
assert_contains "$(cat run1.out)" "after-go2"
wait_for w "Steps 5/5 done"
assert_screen w "the run has ended"

n_local=$(sqlite3 "$db" "select count(*) from events where run_id = 1")
n_central=$(central "select count(*) || ' ' || count(distinct seq) || ' ' || max(seq) from qrh.events where run_uuid = '$U1'")
assert_eq "$n_central" "$n_local $n_local $n_local"
lines=$(central "select count(*) from qrh.output_chunks where run_uuid = '$U1' and convert_from(data, 'UTF8') like '%line 40%'")
[ "$lines" -ge 1 ] || fail "the output written while the database was down is not central"
run "$QRH_BIN" verify --journal "$db" --team "$BOB" "$U1"
assert_rc 0 "verify --team of an intact copy"
run "$QRH_BIN" list --team "$BOB"
assert_rc 0 "list --team"
assert_contains "$out" "${U1:0:8}"
assert_contains "$out" "Team test"

# ---- writers may not change history; the owner can, and verify sees it ----
for sql in "update qrh.events set actor = 'x' where run_uuid = '$U1'" \
	"delete from qrh.events where run_uuid = '$U1'" \
	"delete from qrh.approvals"; do
	run as alice "$sql"
	[ "$rc" -ne 0 ] || fail "a writer could run: $sql"
	assert_contains "$err" "permission denied"
done
central "update qrh.events set payload = replace(payload, 'one', 'uno') where run_uuid = '$U1' and seq = 3" ||
	fail "the owner could not change the central copy"
run "$QRH_BIN" verify --journal "$db" --team "$BOB" "$U1"
[ "$rc" -ne 0 ] || fail "verify --team missed an event changed centrally: $out"
assert_contains "$out" "event 3 was changed"
assert_contains "$out" "differ at event 3: the same hash over different content"

# ---- dual control: through the team database, and on this machine ----
cat >dc.md <<'RB'
---
title: Dual control
notes: anyone
---
## Delete {dual_control=true}
```sh
echo deleted-by-team-approval
```
## Purge {dual_control=true}
```sh
echo purged-by-local-approval
```
RB
mkdir -m 755 appr
chmod 711 "$T"
export QRH_APPROVE_DIR=$T/appr
"$QRH_BIN" run --plain --yes --journal "$db" --team "$ALICE" dc.md >run2.out 2>run2.err &
pid=$!
asked() { # STEP
	[ "$(central "select count(*) from qrh.events e join qrh.runs r on r.uuid = e.run_uuid
		where r.title = 'Dual control' and e.type = 'approval_request' and
		e.payload::json->>'step_id' = '$1'")" = 1 ]
}
wait_until 60 asked delete || fail "no approval request reached the team database: $(cat run2.err)"
U2=$(sqlite3 "$db" "select uuid from team_runs where run_id = 2")
run "$QRH_BIN" approve --team "$ALICE" --yes "$U2" delete
assert_rc 1 "the operator's own role approving"
assert_contains "$err" "same identity"
run "$QRH_BIN" approve --team "$BOB" --yes --comment "checked the retention" "${U2:0:8}" delete
assert_rc 0 "bob's approval: $err"
assert_contains "$out" "approved"

wait_until 60 grep -q "step 2 'purge' needs an approval" run2.err || fail "purge was not asked: $(cat run2.err)"
# a team member's notes (notes: anyone) are journaled with the role as author
run "$QRH_BIN" note --team "$BOB" "${U2:0:8}" bob watched the purge
assert_rc 0 "bob's note: $err"
assert_contains "$out" "note journaled in run $U2 as event"
assert_contains "$out" "by role bob"
run "$QRH_BIN" note --team "$BOB" "$U1" too late
assert_rc 1 "a note on a run that has ended"
assert_contains "$err" "has ended: it takes no more notes"
TUI_DB=$db tui_start w2 100 30 -- "$QRH_BIN" watch --team "$BOB" "$U2"
wait_for w2 "Dual control"
keys w2 a
dialog w2 "through the team database"
type_text w2 "bob from the watch console"
keys w2 Enter
wait_for w2 "note sent as bob"
noted() { [ "$(sqlite3 "$db" "select count(*) from events where run_id = 2 and type = 'note' and actor = 'role:bob'")" = 2 ]; }
wait_until 30 noted || fail "bob's notes were not both journaled"
assert_contains "$(sqlite3 "$db" "select payload from events where run_id = 2 and type = 'note'")" "bob from the watch console"
wait_for w2 "notes 2"
run "$QRH_BIN" approve --yes "$U2" purge
assert_rc 1 "the operator's own uid approving"
assert_contains "$err" "same identity"
if [ "$(id -u)" -eq 0 ]; then
	run setpriv --reuid=65534 --regid=65534 --clear-groups "$QRH_BIN" approve --yes "$U2" purge
	assert_rc 0 "nobody's approval: $err"
else
	echo "skip: the local different-uid approval needs root to act as nobody"
	kill "$pid"
fi
wait_until 60 eval '! kill -0 $pid 2>/dev/null' || fail "the dual-control run did not end: $(cat run2.err)"
wait $pid
rc=$?
[ "$(id -u)" -ne 0 ] && exit 0
assert_eq "$rc" 0
assert_contains "$(cat run2.out)" "deleted-by-team-approval"
assert_contains "$(cat run2.out)" "purged-by-local-approval"
j() { sqlite3 "$db" "select $1 from events where run_id = 2 and type like 'approval%' order by seq"; }
assert_eq "$(j "type || ' ' || actor" | tr '\n' ',')" \
	"approval_request root,approval_refused role:alice,approval role:bob,approval_request root,approval_refused root (uid 0),approval nobody (uid 65534),"
assert_contains "$(j payload)" '"comment":"checked the retention"'
# the evidence lists who asked, who approved and who was refused
run "$QRH_BIN" export -f md --journal "$db" 2
assert_rc 0 "export of the dual-control run"
assert_contains "$out" "step delete: approved by role:bob (team)"
assert_contains "$out" "step delete: refused, from role:alice (team): the same identity"
assert_contains "$out" "step purge: approved by nobody (uid 65534) (local)"
n_local=$(sqlite3 "$db" "select count(*) from events where run_id = 2")
assert_eq "$(central "select count(*) from qrh.events where run_uuid = '$U2'")" "$n_local"
assert_eq "$(central "select string_agg(by_role || ':' || decision, ',' order by at) from qrh.approvals where run_uuid = '$U2'")" \
	"alice:approve,bob:approve"
echo "ok"
