#!/usr/bin/env bash
# qrh-test: alone (it measures time: no other test beside it)
# http probes against real gateways on loopback (tests/servers/http.sh):
# status patterns and a body marker decide the state, a gateway that hangs
# is unknown (its sample times out), a wait {until} follows a gateway
# brought back, and the export and verify agree with the journal. The
# gateways that answer have a long timeout: a sample of a loaded sanitizer
# build can take more than the 50 ms interval, and the states asserted are
# the gateway's, not the machine's.
. "$(dirname "$0")/../lib.sh"
command -v python3 >/dev/null || { echo "python3 is not installed"; exit 77; }
. "$QRH_SRC/tests/servers/http.sh"
trap 'http_stop_all; rm -rf "$T"' EXIT

http_start primary primary || fail "cannot start the primary gateway"
http_start dr dr || fail "cannot start the DR gateway"
http_set_status dr 503

cat >"$T/h.md" <<EOF
---
probes:
  - name: primary
    kind: http
    url: $(http_url primary)/healthz
    every: 50ms
    timeout: 5s
    ok: status=2xx and body~region=primary
    fail: status=5xx
    value: status
  - name: dr
    kind: http
    url: $(http_url dr)/healthz
    every: 50ms
    timeout: 5s
    ok: status=2xx and body~region=dr
    fail: status=5xx
    value: status
  - name: hung
    kind: http
    url: $(http_url primary)/hang
    every: 200ms
    timeout: 100ms
    ok: status=2xx
---
# http probes

## Wait for the DR gateway {confirm=no}

\`\`\`wait {until=dr:ok within=1m}
\`\`\`
EOF

"$QRH_BIN" run --plain --yes --journal "$T/j.db" "$T/h.md" >"$T/run.out" 2>&1 &
pid=$!
waited=0
# hung_samples: how many samples of the hung gateway are in the journal
hung_samples() {
	python3 -c 'import sqlite3, sys
try:
    print(sqlite3.connect(sys.argv[1]).execute("select count(*) from probe_samples where probe = \x27hung\x27").fetchone()[0])
except sqlite3.Error:
    print(0)' "$T/j.db"
}
until grep -q 'probe dr: fail' "$T/run.out" && grep -q 'probe primary: ok' "$T/run.out" &&
	[ "$(hung_samples)" -gt 0 ]; do
	sleep 0.05
	waited=$((waited + 1))
	[ $waited -lt 600 ] || { kill $pid; fail "the probes never reported: $(cat "$T/run.out")"; }
done
http_set_status dr ""
wait $pid || fail "qrh failed: $(cat "$T/run.out")"
out=$(cat "$T/run.out")
assert_contains "$out" "probe dr: ok (was fail), 200"
assert_not_contains "$out" "probe hung: ok"

run "$QRH_BIN" export 1 -f json --journal "$T/j.db"
assert_rc 0
printf '%s\n' "$out" >"$T/export.json"
python3 - "$T/export.json" "$T/j.db" <<'EOF' || fail "the export does not hold"
import json, sqlite3, sys
doc = json.load(open(sys.argv[1]))
db = sqlite3.connect(sys.argv[2])
probes = {p["name"]: p for p in doc["probes"]}
assert probes["dr"]["kind"] == "http"
assert [s["state"] for s in probes["dr"]["states"]] == ["fail", "ok"], probes["dr"]
assert [s["value"] for s in probes["dr"]["states"]] == ["503", "200"], probes["dr"]
assert probes["hung"]["states"] == [], probes["hung"]
n = db.execute("select count(*) from probe_samples where probe = 'hung' and result = 'timeout' "
               "and state = 'unknown'").fetchone()[0]
assert n >= 1, n
EOF
run "$QRH_BIN" verify --journal "$T/j.db"
assert_rc 0 "verify"
echo "probes_http: ok"
