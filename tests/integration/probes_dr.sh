#!/usr/bin/env bash
# qrh-test: alone (it measures time: no other test beside it)
# The issue's failover, against real servers: a Postgres primary with a
# streaming replica and a marker writer, and a DR HTTP gateway answering
# 503 until the runbook opens it. The test crashes the primary
# (pg_ctl -m immediate stop) during the run:
#   - its sql probe turns fail within 2 intervals;
#   - the runbook promotes the replica, opens the gateway and waits for
#     the dr probe's first 2xx, which stops the RTO clock;
#   - the measured RTO equals, within 50 ms (or what the samples' spacing
#     allows on a loaded machine, printed), the time between the crash and
#     the first 2xx an independent client polling the gateway every 10 ms
#     records;
#   - the replica is cut off first, so the writer's last acknowledged rows
#     are lost: the RPO's rows lost equal the acknowledged ids of the
#     test's own writer that are missing on the promoted replica.
# Skipped (77) when PostgreSQL is not installed.
. "$(dirname "$0")/../lib.sh"
command -v python3 >/dev/null || { echo "python3 is not installed"; exit 77; }

. "$QRH_SRC/tests/servers/pg.sh"
. "$QRH_SRC/tests/servers/http.sh"
[ -n "$PG_BIN" ] || { echo "PostgreSQL server binaries are not installed"; exit 77; }

POLLER_PID=
QRH_PID=
cleanup() {
	for pid in $QRH_PID $POLLER_PID; do
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null # by PID: a bare wait would wait for the servers too
	done
	pg_cleanup
	http_stop_all
	rm -rf "$T"
}
trap cleanup EXIT

pg_setup
pg_start_primary primary || fail "cannot start the primary"
pg_start_replica replica primary || fail "cannot start the replica"
http_start gw dr || fail "cannot start the DR gateway"
http_set_status gw 503
ACKS=$T/acks
pg_writer_start primary "$ACKS" 0.02
EVERY=20

cat >"$T/dr.md" <<EOF
---
targets:
  primary-db:
    kind: postgres
    dsn: $(pg_dsn primary)
  replica-db:
    kind: postgres
    dsn: $(pg_dsn replica)
  dr-gateway:
    kind: http
    url: $(http_url gw)
probes:
  - name: primary-health
    kind: sql
    target: primary-db
    query: select 1
    every: ${EVERY}ms
    timeout: 2s
    ok: result=ok
    fail: result!=ok
  - name: dr-health
    kind: http
    target: dr-gateway
    url: /healthz
    every: ${EVERY}ms
    timeout: 2s
    ok: status=2xx and body~region=dr
    value: status
  - name: replica-lag
    kind: sql
    target: replica-db
    recipe: lag
    every: 500ms
    warn: lag_seconds>30s
    value: lag_seconds
    until_step: promote
objectives:
  rto: 15m
  rpo: 5m
  rto_start: probe:primary-health:fail
  rto_stop: probe:dr-health:ok
  rpo_from: step:measure-rpo
---
# DR failover against real servers

## Wait for the primary to fail {confirm=no}

\`\`\`wait {until=primary-health:fail within=5m}
\`\`\`

## Promote the replica {id=promote confirm=no}

\`\`\`sql {target=replica-db recipe=promote}
\`\`\`

## Open the DR gateway {confirm=no}

\`\`\`sh
printf '\n' >"$HTTP_DIR/gw.status"
\`\`\`

## Wait for the DR gateway {confirm=no}

\`\`\`wait {until=dr-health:ok within=5m}
\`\`\`

## Measure the RPO {id=measure-rpo confirm=no}

\`\`\`sql {target=replica-db recipe=rpo marker_table=rpo_marker ack_file=$ACKS}
\`\`\`
EOF
"$QRH_BIN" check "$T/dr.md" >"$T/check.out" 2>&1 || fail "the runbook does not check: $(cat "$T/check.out")"

J=$T/j.db
"$QRH_BIN" run --plain --yes --journal "$J" "$T/dr.md" >"$T/run.out" 2>&1 &
QRH_PID=$!
waited=0
until grep -q 'probe primary-health: ok' "$T/run.out" && grep -q 'probe dr-health: fail' "$T/run.out"; do
	sleep 0.05
	waited=$((waited + 1))
	[ $waited -lt 1200 ] || fail "the probes never reported: $(cat "$T/run.out")"
done
[ -s "$ACKS" ] || fail "the writer acknowledged nothing"

# a partition first: the replica stops receiving while the writer goes on,
# so the crash loses rows the writer was told were committed
pg_detach_replica replica || fail "cannot detach the replica"
acked=$(wc -l <"$ACKS")
waited=0
until [ "$(wc -l <"$ACKS")" -ge $((acked + 10)) ]; do
	sleep 0.05
	waited=$((waited + 1))
	[ $waited -lt 600 ] || fail "the writer stopped acknowledging"
done

# the independent client: the crash is the moment its own idle session on
# the primary is ended by it; then it GETs the gateway every 10 ms until the
# first 2xx (the middle of that request)
cat >"$T/poller.py" <<'EOF'
import socket, struct, sys, time, urllib.request
port, url, ready, out = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
# a session of its own on the primary, idle until the crash ends it
s = socket.create_connection(("127.0.0.1", port), timeout=30)
params = b"user\0postgres\0database\0postgres\0\0"
s.sendall(struct.pack("!II", 8 + len(params), 196608) + params)
got = b""
while b"Z\0\0\0\x05" not in got:  # ReadyForQuery
    chunk = s.recv(4096)
    if not chunk:
        sys.exit("the primary closed the session at once")
    got += chunk
open(ready, "w").close()
s.settimeout(None)
try:
    s.recv(4096)  # the server's last words, or the end
except OSError:
    pass
crash = time.time()
while True:
    start = time.time()
    try:
        with urllib.request.urlopen(url, timeout=1) as r:
            if 200 <= r.status < 300:
                up = (start + time.time()) / 2
                break
    except Exception:
        pass
    time.sleep(max(0.0, 0.01 - (time.time() - start)))
with open(out, "w") as f:
    f.write("%d %d\n" % (round(crash * 1000), round(up * 1000)))
EOF
python3 "$T/poller.py" "$(pg_port primary)" "$(http_url gw)/healthz" "$T/poller.ready" "$T/independent" &
POLLER_PID=$!
waited=0
until [ -e "$T/poller.ready" ]; do
	sleep 0.05
	waited=$((waited + 1))
	[ $waited -lt 600 ] || fail "the independent client never reached the primary"
done

pg_stop primary immediate
pg_writer_stop

wait "$POLLER_PID" || fail "the independent client failed"
POLLER_PID=
wait "$QRH_PID"
rc=$?
QRH_PID=
[ $rc -eq 0 ] || fail "qrh exited $rc: $(tail -n 30 "$T/run.out")"

# the test's own account of what was lost: acknowledged, not on the new primary
lost=$(pg_psql replica -c "select count(*) from unnest(array[$(cut -f1 "$ACKS" | paste -sd, -)]::bigint[]) a(id) where not exists (select 1 from rpo_marker m where m.id = a.id)")
read -r crash first_ok <"$T/independent"
run "$QRH_BIN" export 1 -f json --journal "$J"
assert_rc 0
printf '%s\n' "$out" >"$T/export.json"
python3 - "$T/export.json" "$J" "$((first_ok - crash))" "$crash" "$EVERY" "$lost" <<'EOF' || fail "the export does not hold"
import json, sqlite3, sys
doc = json.load(open(sys.argv[1]))
db = sqlite3.connect(sys.argv[2])
independent, crash, every, lost = (int(a) for a in sys.argv[3:7])
rto, rpo = doc["objectives"]["rto"], doc["objectives"]["rpo"]
def bracket(event_seq):
    payload = json.loads(db.execute("select payload from events where run_id = 1 and seq = ?",
                                    (event_seq,)).fetchone()[0])
    probe, n = payload["probe"], payload["sample"]
    start, dur, late, skipped = db.execute("select wall_ms, duration_ms, late_ms, skipped from "
                                           "probe_samples where seq = ?", (n,)).fetchone()
    prev = db.execute("select max(wall_ms) from probe_samples where probe = ? and seq < ?",
                      (probe, n)).fetchone()[0]
    return max(start + dur / 2 - prev, dur / 2), start - late, skipped
b_start, due_fail, skipped = bracket(rto["start_event"]["seq"])
b_stop, _, _ = bracket(rto["stop_event"]["seq"])
bound = max(50, b_start + b_stop + 15)
diff = rto["measured_ms"] - independent
sys.stderr.write("qrh RTO %d ms, independent %d ms, difference %d ms (bound %d ms); primary "
                 "failing by the sample due %d ms after the crash; rows lost %s, the test "
                 "counts %d\n" % (rto["measured_ms"], independent, diff, bound,
                                  due_fail - crash, rpo["rows_lost"], lost))
assert rto["start_event"]["mark"] == "probe:primary-health:fail"
assert rto["stop_event"]["mark"] == "probe:dr-health:ok"
assert rto["met"] is True
assert abs(diff) <= bound, "RTO off by more than %d ms" % bound
around = db.execute("select seq, wall_ms - late_ms - ?, wall_ms - ?, duration_ms, skipped, result, "
                    "state from probe_samples where probe = 'primary-health' and wall_ms "
                    "between ? and ? order by seq", (crash, crash, crash - 200, crash + 400)).fetchall()
assert due_fail - crash <= (2 + skipped) * every, \
    "the primary's failure seen too late: (seq, due, started, ms, skipped, result, state) " \
    "after the crash: %s" % around
assert rpo["source"] == "step:measure-rpo" and "event" in rpo["evidence"]
assert lost >= 10, "the test lost only %d rows" % lost
assert rpo["rows_lost"] == lost, "rows lost: qrh %s, the test %d" % (rpo["rows_lost"], lost)
assert rpo["met"] is True
probes = {p["name"]: p for p in doc["probes"]}
assert probes["dr-health"]["states"][-1]["value"] == "200"
EOF
run "$QRH_BIN" verify --journal "$J"
assert_rc 0 "verify"
echo "probes_dr: ok"
