#!/usr/bin/env bash
# qrh-test: alone (it measures time: no other test beside it)
# The run's RTO measured by probes against one measured by the test itself:
# a "primary" (a command probe on a flag file) crashes when the test removes
# the flag, and the "DR gateway" (a python3 HTTP server the test starts
# later) answers its first 2xx; an independent client polling the gateway
# every 10 ms records the crash and the first 2xx. qrh's RTO (from
# probe:primary:fail to probe:dr:ok) must equal that within 50 ms, the
# primary's probe must turn fail within 2 intervals of the crash, and the
# journal must verify (samples and their digests included).
. "$(dirname "$0")/../lib.sh"
command -v python3 >/dev/null || { echo "python3 is not installed"; exit 77; }

J=$T/j.db
FLAG=$T/primary-up
WWW=$T/www
mkdir -p "$WWW"
: >"$FLAG"
: >"$WWW/healthz"
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
EVERY=20

cat >"$T/rto.md" <<EOF
---
probes:
  - name: primary
    kind: command
    script: test -e "$FLAG"
    every: ${EVERY}ms
    timeout: 2s
    ok: exit=0
  - name: dr
    kind: command
    argv: [bash, -c, 'exec 3<>/dev/tcp/127.0.0.1/$PORT && printf "GET /healthz HTTP/1.0\\r\\n\\r\\n" >&3 && read -r _ code _ <&3 && echo "\$code"']
    every: ${EVERY}ms
    timeout: 2s
    ok: line=2xx
objectives:
  rto: 30s
  rto_start: probe:primary:fail
  rto_stop: probe:dr:ok
---
# RTO against an independent clock

## Wait for the DR gateway {confirm=no}

\`\`\`wait {until=dr:ok within=60s}
\`\`\`
EOF

SERVER_PID=
POLLER_PID=
QRH_PID=
cleanup() {
	for pid in $QRH_PID $POLLER_PID $SERVER_PID; do
		kill "$pid" 2>/dev/null
	done
	wait 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
[ -n "${QRH_KEEP:-}" ] && trap "cp $J $QRH_KEEP; cleanup" EXIT

"$QRH_BIN" run --plain --yes --journal "$J" "$T/rto.md" >"$T/run.out" 2>&1 &
QRH_PID=$!

# wait until the primary is seen up and the gateway down (refused)
waited=0
until grep -q 'probe primary: ok' "$T/run.out" && grep -q 'probe dr: fail' "$T/run.out"; do
	sleep 0.05
	waited=$((waited + 1))
	[ $waited -lt 600 ] || fail "the probes never reported: $(cat "$T/run.out")"
done

# The independent client: it crashes the primary, then polls the gateway
# every 10 ms and records the first 2xx (wall clock, as qrh's export).
cat >"$T/poller.py" <<'EOF'
import os, sys, time, urllib.request
flag, url, out = sys.argv[1], sys.argv[2], sys.argv[3]
before = time.time()
os.unlink(flag)
crash = (before + time.time()) / 2
while True:
    start = time.time()
    try:
        with urllib.request.urlopen(url, timeout=1) as r:
            if 200 <= r.status < 300:
                up = (start + time.time()) / 2  # the answer came in between
                break
    except Exception:
        pass
    time.sleep(max(0.0, 0.01 - (time.time() - start)))
with open(out, "w") as f:
    f.write("%d %d\n" % (round(crash * 1000), round(up * 1000)))
EOF
python3 "$T/poller.py" "$FLAG" "http://127.0.0.1:$PORT/healthz" "$T/independent" &
POLLER_PID=$!

# the failover: the DR gateway comes up a while after the crash
sleep 1.5
python3 -m http.server --bind 127.0.0.1 --directory "$WWW" "$PORT" >"$T/server.log" 2>&1 &
SERVER_PID=$!

wait "$POLLER_PID" || fail "the independent client failed"
POLLER_PID=
wait "$QRH_PID"
rc=$?
QRH_PID=
[ $rc -eq 0 ] || fail "qrh exited $rc: $(cat "$T/run.out")"

read -r crash first_ok <"$T/independent"
independent=$((first_ok - crash))
run "$QRH_BIN" export 1 -f json --journal "$J"
assert_rc 0
printf '%s\n' "$out" >"$T/export.json"
python3 - "$T/export.json" "$J" "$independent" "$crash" "$EVERY" <<'EOF' || fail "the export does not hold"
import json, sqlite3, sys, datetime
doc = json.load(open(sys.argv[1]))
db = sqlite3.connect(sys.argv[2])
independent, crash, every = int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
rto = doc["objectives"]["rto"]
def bracket(event_seq):
    """How far the moment qrh took for a change can be from the change:
    the middle of the sample that saw it, against the sample before (in
    the old state) and its own end."""
    payload = json.loads(db.execute("select payload from events where run_id = 1 and seq = ?",
                                    (event_seq,)).fetchone()[0])
    probe, n = payload["probe"], payload["sample"]
    start, dur, late, skipped = db.execute("select wall_ms, duration_ms, late_ms, skipped from "
                                           "probe_samples where seq = ?", (n,)).fetchone()
    prev = db.execute("select max(wall_ms) from probe_samples where probe = ? and seq < ?",
                      (probe, n)).fetchone()[0]
    mid = start + dur / 2
    return max(mid - prev, dur / 2), start - late, skipped
b_start, due_fail, skipped = bracket(rto["start_event"]["seq"])
b_stop, _, _ = bracket(rto["stop_event"]["seq"])
# 50 ms, unless the samples themselves say the machine could not resolve
# that finely (each change is known only between two samples); the
# independent client adds its own 10 ms
bound = max(50, b_start + b_stop + 15)
diff = rto["measured_ms"] - independent
sys.stderr.write("qrh RTO %d ms, independent %d ms, difference %d ms (bound %d ms: changes "
                 "known to %d and %d ms)\n" % (rto["measured_ms"], independent, diff, bound,
                                               b_start, b_stop))
assert rto["budget_ms"] == 30000, rto
assert rto["met"] is True, rto
assert rto["start_event"]["mark"] == "probe:primary:fail", rto
assert rto["stop_event"]["mark"] == "probe:dr:ok", rto
assert abs(diff) <= bound, "RTO off by more than %d ms" % bound
# the primary's probe turned fail within 2 intervals of the crash (by its
# schedule; ticks skipped because a sample was still running add theirs)
sys.stderr.write("primary seen failing by the sample due %d ms after the crash (%d skipped)\n"
                 % (due_fail - crash, skipped))
assert due_fail - crash <= (2 + skipped) * every, "fail seen too late"
probes = {p["name"]: p for p in doc["probes"]}
assert probes["primary"]["interval_ms"] == every
assert [s["state"] for s in probes["primary"]["states"]] == ["ok", "fail"], probes["primary"]
assert [s["state"] for s in probes["dr"]["states"]] == ["fail", "ok"], probes["dr"]
assert probes["dr"]["states"][-1]["value"] == "200"
assert probes["primary"]["samples"] > 10
kinds = [e["type"] for e in doc["events"]]
assert kinds.count("probe_state") == 4, kinds
assert "probe_digest" in kinds and "objectives" in kinds
EOF
python3 -c "import json; assert json.load(open('$T/export.json'))['objectives']['rpo'] is None" || fail "an objective not given is null"

# every number from the journal: the samples the export counts are stored
n=$(sqlite3 "$J" "select count(*) from probe_samples where probe = 'primary'")
python3 -c "import json,sys; d=json.load(open('$T/export.json')); assert [p for p in d['probes'] if p['name']=='primary'][0]['samples'] == $n" ||
	fail "the export's sample count is not the journal's ($n)"
run "$QRH_BIN" verify --journal "$J"
assert_rc 0 "verify"
echo "probes_rto: ok"
