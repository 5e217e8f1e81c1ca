#!/usr/bin/env bash
# qrh-test: alone (it measures time: no other test beside it)
# Probes end to end with command probes: a sample slower than its interval
# is skipped, never run twice at once; states, values and the RPO from a
# probe's values in show and export; a wait on a probe; samples written in
# batches (far fewer commits than samples) and digested on the chain; a
# sample changed, removed or added afterwards is caught by qrh verify.
. "$(dirname "$0")/../lib.sh"
command -v python3 >/dev/null || { echo "python3 is not installed"; exit 77; }
command -v sqlite3 >/dev/null || { echo "sqlite3 is not installed"; exit 77; }

J=$T/j.db
# The test's writer: acknowledged rows 1..100, 50 ms apart; the replica
# kept 1..97. The rpo probe reads both, as a real check would.
python3 - "$T" <<'EOF'
import sys
d = sys.argv[1]
with open(d + "/acks", "w") as f:
    for i in range(1, 101):
        f.write("%d\t%d\n" % (i, 1700000000000 + 50 * i))
with open(d + "/replica", "w") as f:
    for i in range(1, 98):
        f.write("%d\n" % i)
EOF

cat >"$T/rpo.sh" <<'EOF'
# rows acknowledged but missing on the replica, and the time between the
# newest surviving row and the last acknowledged write
awk -F'\t' 'NR == FNR { have[$1] = 1; next }
	{ last = $2; if ($1 in have) kept = $2; else lost++ }
	END { printf "{\"rows_lost\": %d, \"window_ms\": %d}\n", lost, last - kept }' "$1/replica" "$1/acks"
EOF

cat >"$T/p.md" <<EOF
---
vars:
  DIR: "$T"
probes:
  - name: slow
    kind: command
    script: |
      echo "start \$\$" >>"\$DIR/slow.log"
      sleep 0.3
      echo "end \$\$" >>"\$DIR/slow.log"
      echo 1
    every: 100ms
    timeout: 5s
  - name: rpo
    kind: command
    argv: [sh, "$T/rpo.sh", "$T"]
    every: 100ms
    ok: rows_lost=0
    warn: rows_lost>0 and window_ms<=1s
    fail: window_ms>1s
    value: rows_lost
objectives:
  rpo: 1s
  rpo_from: probe:rpo
---
# Probes end to end

## Let the probes sample {confirm=no}

\`\`\`wait {until=rpo:warn within=30s}
\`\`\`

\`\`\`sh
sleep 1.2
\`\`\`
EOF

run "$QRH_BIN" run --plain --yes --journal "$J" "$T/p.md"
assert_rc 0 "$out"
assert_contains "$out" "probe rpo: warn (was unknown), 3"
assert_contains "$out" "probe slow: polled every 100 ms"
assert_contains "$out" "wait until probe 'rpo' is warn (within 30s)"
assert_contains "$out" "objectives: RPO 150 ms of 1.00 s, 3 rows lost: met"

# never two samples of one probe at once: starts and ends alternate
python3 - "$T/slow.log" <<'EOF' || fail "samples of one probe overlapped: $(cat "$T/slow.log")"
import sys
lines = [l.split() for l in open(sys.argv[1])]
assert len(lines) >= 4
for i, (what, pid) in enumerate(lines[:len(lines) // 2 * 2]):
    assert what == ("start" if i % 2 == 0 else "end"), lines
EOF
skipped=$(sqlite3 "$J" "select sum(skipped) from probe_samples where probe = 'slow'")
[ "${skipped:-0}" -gt 0 ] || fail "a probe slower than its interval skipped nothing"

# show and export
run "$QRH_BIN" show 1 --journal "$J"
assert_rc 0
assert_contains "$out" "objectives: RPO 150 ms of 1.00 s, 3 rows lost: met"
assert_contains "$out" "RPO measured by probe:rpo (sample "
assert_contains "$out" "rpo (exec, every 100 ms): "
assert_contains "$out" " warn    3"
run "$QRH_BIN" export 1 -f json --journal "$J"
assert_rc 0
printf '%s\n' "$out" >"$T/export.json"
python3 - "$T/export.json" "$J" <<'EOF' || fail "the export does not hold"
import json, sqlite3, sys
doc = json.load(open(sys.argv[1]))
db = sqlite3.connect(sys.argv[2])
rpo = doc["objectives"]["rpo"]
assert rpo == {"budget_ms": 1000, "measured_ms": 150, "rows_lost": 3, "met": True,
               "source": "probe:rpo", "evidence": rpo["evidence"]}, rpo
# the evidence is a stored sample whose values say so
values = json.loads(db.execute("select values_json from probe_samples where seq = ?",
                               (rpo["evidence"]["sample"],)).fetchone()[0])
assert values["rows_lost"] == 3 and values["window_ms"] == 150, values
assert doc["objectives"]["rto"] is None
probes = {p["name"]: p for p in doc["probes"]}
for name, p in probes.items():
    n, skipped = db.execute("select count(*), sum(skipped) from probe_samples where probe = ?",
                            (name,)).fetchone()
    assert p["samples"] == n and p["skipped"] == skipped, (p, n, skipped)
assert probes["slow"]["kind"] == "sh" and probes["rpo"]["kind"] == "exec"
assert probes["rpo"]["states"][0]["state"] == "warn" and probes["rpo"]["states"][0]["value"] == "3"
EOF

# samples ride in the output batches: far fewer commits than samples
samples=$(sqlite3 "$J" "select count(*) from probe_samples")
digests=$(sqlite3 "$J" "select count(*) from events where type = 'probe_digest'")
[ "$samples" -ge 8 ] || fail "too few samples: $samples"
[ "$digests" -ge 1 ] || fail "no digest"
[ "$(sqlite3 "$J" "select max(json_extract(payload, '$.last')) from events where type = 'probe_digest'")" = \
  "$(sqlite3 "$J" "select max(seq) from probe_samples")" ] || fail "the last digest does not cover the last sample"
run "$QRH_BIN" verify --journal "$J"
assert_rc 0 "verify"

# tampering with a sample is caught
tampered() { # SQL WHAT
	cp "$J" "$T/t.db"
	sqlite3 "$T/t.db" "drop trigger probe_samples_no_update; drop trigger probe_samples_no_delete; $1"
	run "$QRH_BIN" verify --journal "$T/t.db"
	[ "$rc" -ne 0 ] || fail "verify did not catch: $2"
	assert_contains "$out" "probe samples do not match their digests"
	rm -f "$T/t.db"
}
tampered "update probe_samples set value = '0' where probe = 'rpo' and seq = (select max(seq) from probe_samples where probe = 'rpo')" "a value changed"
tampered "update probe_samples set state = 'ok' where state = 'warn'" "states changed"
tampered "delete from probe_samples where seq = 2" "a sample removed"
tampered "insert into probe_samples (run_id, seq, probe, wall_ms, mono_ns, duration_ms, late_ms, skipped, result, state, value, values_json) values (1, 100000, 'rpo', 1, 1, 1, 0, 0, 'ok', 'ok', '0', '{}')" "a sample added"
echo "probes: ok"
