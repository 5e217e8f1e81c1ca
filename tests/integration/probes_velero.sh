#!/usr/bin/env bash
# A velero probe against the Velero simulator: `restore get NAME -o json`
# sampled through the velero executor gives the restore's phase and item
# counts; the probe is warn until the restore exists and while it runs,
# ok once it is Completed, and a wait {until} follows it.
. "$(dirname "$0")/../lib.sh"
. "$QRH_SRC/tests/servers/velero.sh"
velero_sim_available || { echo "skip: python3 is needed for the velero simulator"; exit 77; }

velero_sim_init "$T/sim"
export VELERO_SIM_DURATION=2
backup=$(velero_sim_backup daily-)
[ -n "$backup" ] || fail "no daily backup in the simulator's seed"

cat >"$T/v.md" <<RB
---
targets:
  cluster:
    kind: kubernetes
    binary: $VELERO_SIM
    context: dr-cluster
    namespace: velero
probes:
  - name: restore
    kind: velero
    target: cluster
    args: [restore, get, drill-1, -o, json]
    every: 200ms
    timeout: 5s
    ok: phase=Completed
    warn: phase!=Completed or result=failed
    value: phase
    from_step: start-the-restore
---
# A restore watched by a probe

## Start the restore {confirm=no}

\`\`\`velero {target=cluster}
restore create drill-1 --from-backup $backup --namespace-mappings payments:payments-drill --wait=false
\`\`\`

## Wait for it {confirm=no}

\`\`\`wait {until=restore:ok within=2m}
\`\`\`
RB
run "$QRH_BIN" run --plain --yes --journal "$T/j.db" "$T/v.md"
assert_rc 0 "the run: $out $err"
all="$out$err"
assert_contains "$all" "probe restore: polled every 200 ms"
assert_contains "$all" "probe restore: ok (was warn), Completed: restore drill-1 Completed:"
python3 - "$T/j.db" <<'PY' || fail "the samples do not hold"
import json, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
rows = db.execute("select state, value, values_json from probe_samples where probe = 'restore' "
                  "order by seq").fetchall()
assert rows[-1][:2] == ("ok", "Completed"), rows[-1]
last = json.loads(rows[-1][2])
assert last["items_restored"] == last["total_items"] > 0, last
assert any(r[0] == "warn" and r[1] == "InProgress" for r in rows), [r[:2] for r in rows]
PY
run "$QRH_BIN" verify --journal "$T/j.db"
assert_rc 0 "verify"
echo "probes_velero: ok"
