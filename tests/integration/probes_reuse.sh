#!/usr/bin/env bash
# An http probe keeps its connection between samples (at most 10 s);
# `reuse: false` and every step's request take a fresh one; a
# gateway restarted under a kept connection is answered again at once (the
# dead connection is not reused). Connections are told apart by the client
# port each request came from, in the gateways' logs (tests/servers/http.sh).
. "$(dirname "$0")/../lib.sh"
command -v python3 >/dev/null || { echo "python3 is not installed"; exit 77; }
. "$QRH_SRC/tests/servers/http.sh"
trap 'http_stop_all; rm -rf "$T"' EXIT

# one gateway a probe, so that their connections are told apart
for g in kept fresh; do
	http_start "$g" "$g" || fail "cannot start gateway $g"
done

cat >"$T/r.md" <<EOF
---
probes:
  - {name: kept, kind: http, url: "$(http_url kept)/healthz", every: 100ms, timeout: 5s, ok: status=2xx}
  - {name: fresh, kind: http, url: "$(http_url fresh)/healthz", every: 100ms, timeout: 5s, reuse: false, ok: status=2xx}
---
# Connections

## A step's request {confirm=no}

\`\`\`http {url=$(http_url kept)/status/200 expect=200}
\`\`\`

## Until the gateway was restarted {confirm=no timeout=2m}

\`\`\`sh
while [ ! -e "$T/restarted" ]; do sleep 0.05; done
\`\`\`

## Samples after it {confirm=no}

\`\`\`wait {for=1500ms}
\`\`\`

## Another request {confirm=no}

\`\`\`http {url=$(http_url kept)/status/200 expect=200}
\`\`\`
EOF

"$QRH_BIN" run --plain --yes --journal "$T/j.db" "$T/r.md" >"$T/run.out" 2>&1 &
pid=$!
# samples() NAME: how many requests gateway NAME has had for /healthz
samples() { http_count "$1" /healthz; }
enough() { [ "$(samples kept)" -ge 10 ]; }
http_wait_for enough || { kill $pid; fail "too few samples: $(cat "$T/run.out")"; }
http_restart kept || { kill $pid; fail "cannot restart the kept gateway"; }
touch "$T/restarted"
wait $pid || fail "qrh failed: $(cat "$T/run.out")"

python3 - "$HTTP_DIR" "$T/j.db" <<'EOF' || fail "connections were not kept as promised"
import sqlite3, sys
d, db = sys.argv[1], sqlite3.connect(sys.argv[2])
def log(name):
    return [l.split() for l in open(f"{d}/{name}.log")]
def ports(lines, path):
    return [int(p) for p, _, q in lines if q == path]
kept = log("kept")
k = ports(kept, "/healthz")
# one connection served every sample before the restart, one after it
runs = [p for i, p in enumerate(k) if i == 0 or k[i - 1] != p]
assert len(runs) == 2 and runs[0] != runs[1], ("kept", k)
assert k.count(runs[1]) >= 5, ("samples after the restart", k)
# a step's request is a connection of its own, used once
steps = ports(kept, "/status/200")
assert len(steps) == 2, steps
for p in steps:
    assert [l for l in kept if int(l[0]) == p] == [[str(p), "GET", "/status/200"]], p
# fresh: a connection a sample
f = ports(log("fresh"), "/healthz")
assert len(set(f)) == len(f), f
# the restart cost no sample an error past the first ones after it: the
# dead connection was noticed, not handed to a sample
rows = db.execute("select result, state from probe_samples where probe = 'kept' "
                  "order by seq").fetchall()
assert rows[-5:] == [("ok", "ok")] * 5, rows[-5:]
EOF
assert_contains "$(cat "$T/run.out")" "ended: ok"
run "$QRH_BIN" verify --journal "$T/j.db"
assert_rc 0 "verify"
echo "probes_reuse: ok"
