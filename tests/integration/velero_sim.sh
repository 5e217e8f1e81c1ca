#!/usr/bin/env bash
# The Velero simulator speaks the real CLI's formats: its --help says what
# it is; every command marks stderr; `get -o json` prints a bare object for
# one item and a *List otherwise, with the fields of the samples in
# tests/fixtures/velero/ in the same order and zero counts left out; create,
# describe and logs print the samples' lines; logs wait for the end; a
# restore progresses (phases in order, counts that only grow) and restores
# files a verify can check (all of them when Completed, not all when
# PartiallyFailed); the CLI's own refusals are the CLI's messages.
. "$(dirname "$0")/../lib.sh"
. "$QRH_SRC/tests/servers/velero.sh"
velero_sim_available || { echo "skip: python3 is needed for the velero simulator"; exit 77; }
# it runs no qrh code: a sanitizer build has nothing to find here
[ "${QRH_SANITIZE:-}" = 1 ] && { echo "skip: no qrh code runs here (sanitizer build)"; exit 77; }
fx=$QRH_SRC/tests/fixtures/velero
py() { /usr/bin/python3 -S "$@"; }

# ---- --help, and the marker ----
run "$VELERO_SIM" --help
assert_rc 0
assert_contains "$out" "velero simulator for qrh drills: not the real Velero"
run "$VELERO_SIM" restore create --help
assert_contains "$out" "not the real Velero"

velero_sim_init "$T/sim"
export VELERO_SIM_DURATION=2
run "$VELERO_SIM" backup get -o json
assert_rc 0
assert_contains "$err" "velero-simulator: not the real Velero"
printf '%s\n' "$out" | py -c 'import json, sys; json.load(sys.stdin)' || fail "stdout of -o json is not pure JSON"

# ---- shapes: fields in the samples' order, omitempty ----
# Every key the sample has that the simulator's object also has comes in
# the same order, recursively; no count is 0; the top level matches.
same_shape() { # SAMPLE-FILE (the simulator's JSON on stdin)
	py -c '
import json, sys
sample = json.load(open(sys.argv[1]))
got = json.load(sys.stdin)
def walk(a, b, path):
    if isinstance(a, dict) and isinstance(b, dict):
        common = [k for k in a if k in b]
        order = [k for k in b if k in a]
        if common != order:
            sys.exit("%s: keys %s, the sample has %s" % (path, order, common))
        for k in common:
            walk(a[k], b[k], path + "." + k)
def zeros(o, path):
    if isinstance(o, dict):
        for k, v in o.items():
            if k in ("warnings", "errors", "totalItems", "itemsRestored", "itemsBackedUp") and v == 0:
                sys.exit("%s.%s is 0: omitempty counts are left out" % (path, k))
            zeros(v, path + "." + k)
    elif isinstance(o, list):
        for v in o:
            zeros(v, path)
if list(sample)[:2] != list(got)[:2]:
    sys.exit("top level %s, the sample has %s" % (list(got)[:2], list(sample)[:2]))
walk(sample, got, "")
zeros(got, "")
' "$1"
}

run "$VELERO_SIM" backup get -o json
printf '%s\n' "$out" | same_shape "$fx/backup-list.json" || fail "backup get -o json differs from the sample"
assert_contains "$out" '"kind": "BackupList"'
b=$(velero_sim_backup daily-)
run "$VELERO_SIM" backup get "$b" -o json
assert_contains "$out" '"kind": "Backup"'
assert_not_contains "$out" "BackupList"
printf '%s\n' "$out" | py -c '
import json, sys
sample = json.load(open(sys.argv[1]))["items"][0]
got = json.load(sys.stdin)
assert list(got) == list(sample), (list(got), list(sample))
assert list(got["status"])[:4] == list(sample["status"])[:4], list(got["status"])
' "$fx/backup-list.json" || fail "a single backup is not the bare Backup of the sample"
run "$VELERO_SIM" backup get
assert_contains "$out" "NAME"
assert_contains "$out" "STORAGE LOCATION"
assert_contains "$out" "Deleting"
run "$VELERO_SIM" backup describe "$b"
assert_contains "$out" "Phase:"
assert_contains "$out" "Storage Location:"
run "$VELERO_SIM" backup describe "$b" -o json
printf '%s\n' "$out" | py -c 'import json, sys; d = json.load(sys.stdin); assert d["phase"] == "Completed"' ||
	fail "backup describe -o json"

# no restore yet: an empty list
run "$VELERO_SIM" restore get -o json
assert_contains "$out" '"kind": "RestoreList"'
assert_contains "$out" '"items": []'

# ---- create: the CLI's lines ----
# The clock is frozen and stepped: what is checked is the order, not speed.
export VELERO_SIM_DURATION=4
t0=$(date +%s)
velero_sim_clock "$t0"
run "$VELERO_SIM" restore create r1 --from-backup "$b" --include-namespaces payments \
	--namespace-mappings payments:payments-r1 --labels drill=2025-q1
assert_rc 0
assert_eq "$(printf '%s\n' "$out" | head -n 1)" 'Restore request "r1" submitted successfully.'
assert_contains "$out" 'Run `velero restore describe r1` or `velero restore logs r1` for more details.'
run "$VELERO_SIM" restore get r1 -o json
assert_contains "$out" '"kind": "Restore"'

# logs only once it has finished, with the CLI's message
run "$VELERO_SIM" restore logs r1
assert_rc 1
assert_contains "$err" "Logs for restore \"r1\" are not available until it's finished processing."

# the phases in order, counts that never go down, New without a phase:
# New for 0.4s, InProgress until 3.6s (counts once a second), then
# WaitingForPluginOperations, Finalizing, Completed at 4.4s
phases=$T/phases
for dt in 0.1 0.5 1.5 2.5 3.5 3.8 4.2 5; do
	velero_sim_clock "$(awk -v a="$t0" -v b="$dt" 'BEGIN { printf "%.1f", a + b }')"
	"$VELERO_SIM" restore get r1 -o json 2>/dev/null >"$T/r1.json"
	field() { sed -n "s/^ *\"$1\": \"\{0,1\}\([A-Za-z0-9]*\).*/\1/p" "$T/r1.json" | head -n 1; }
	phase=$(field phase)
	echo "${phase:--} $(field itemsRestored) $(field totalItems)" >>"$phases"
done
assert_eq "$(cut -d' ' -f1 "$phases" | tr '\n' ' ')" \
	"- InProgress InProgress InProgress InProgress WaitingForPluginOperations Finalizing Completed "
py -c '
import sys
rows = [l.split() + ["0", "0"] for l in open(sys.argv[1])]
done = [int(r[1]) for r in rows]
assert done == sorted(done), done
assert len(set(done[1:5])) == 4, done  # one step a second while InProgress
assert done[-1] == int(rows[-1][2]) > 0, rows[-1]
' "$phases" || fail "restore r1's counts: $(tr '\n' ' ' <"$phases")"
same_shape "$fx/restore-completed.json" <"$T/r1.json" || fail "a Completed restore differs from the sample"
py -c '
import json, sys
r = json.load(open(sys.argv[1]))
assert r["spec"]["namespaceMapping"] == {"payments": "payments-r1"}, r["spec"]
assert r["metadata"]["labels"] == {"drill": "2025-q1"}
assert r["metadata"]["finalizers"] == ["restores.velero.io/external-resources-finalizer"]
s = r["status"]
assert s["progress"]["itemsRestored"] == s["progress"]["totalItems"] > 0
assert s["startTimestamp"] <= s["completionTimestamp"]
' "$T/r1.json" || fail "restore r1's fields"
(cd "$VELERO_SIM_DIR/cluster/payments-r1" && sha256sum --check --strict --quiet MANIFEST.sha256) ||
	fail "a Completed restore did not restore every file"

run "$VELERO_SIM" restore logs r1
assert_rc 0
while IFS= read -r line; do
	[[ $line =~ ^time=\"[0-9-]{10}T[0-9:]{8}Z\"\ level=(info|warning|error)\ msg=\".*\"\ logSource=\"pkg/[a-z_/]+\.go:[0-9]+\".*\ restore=velero/r1$ ]] ||
		fail "not a Velero log line: $line"
done <<<"$out"
assert_contains "$out" 'msg="restore completed"'
run "$VELERO_SIM" restore describe r1
assert_contains "$out" "Name:         r1"
assert_contains "$out" "Phase:                       Completed"
assert_contains "$out" "Namespace mappings:  payments=payments-r1"
assert_contains "$out" 'ConfigMap "kube-root-ca.crt" already exists'
run "$VELERO_SIM" restore get
assert_contains "$out" "NAME"
assert_contains "$out" "COMPLETED"

# two restores: a list; one named: bare (on the wall clock: --wait sleeps)
velero_sim_clock_real
export VELERO_SIM_DURATION=2
VELERO_SIM_OUTCOME=PartiallyFailed run "$VELERO_SIM" restore create r2 --from-backup "$b" --include-namespaces payments \
	--namespace-mappings payments:payments-r2 --wait
assert_rc 0
assert_contains "$out" "Waiting for restore to complete."
assert_contains "$out" "Restore completed with status: PartiallyFailed. You may check for more information using the commands \`velero restore describe r2\` and \`velero restore logs r2\`."
run "$VELERO_SIM" restore get -o json
assert_contains "$out" '"kind": "RestoreList"'
printf '%s\n' "$out" | py -c 'import json, sys; assert len(json.load(sys.stdin)["items"]) == 2' || fail "two restores"
run "$VELERO_SIM" restore get r2 -o json
assert_not_contains "$out" "RestoreList"
printf '%s\n' "$out" | same_shape "$fx/restore-partiallyfailed.json" || fail "a PartiallyFailed restore differs from the sample"
(cd "$VELERO_SIM_DIR/cluster/payments-r2" && sha256sum --check --strict --quiet MANIFEST.sha256) >/dev/null 2>&1 &&
	fail "a PartiallyFailed restore restored every file"
run "$VELERO_SIM" restore logs r2
assert_contains "$out" "level=error"
run "$VELERO_SIM" restore describe r2
assert_contains "$out" "PartiallyFailed (run 'velero restore logs r2' for more information)"

# FailedValidation: no timestamps, the controller's message
run "$VELERO_SIM" restore create r3 --from-backup "$b" --include-resources backups.velero.io
velero_sim_wait_phase r3 FailedValidation 30 || fail "r3 did not fail validation"
run "$VELERO_SIM" restore get r3 -o json
printf '%s\n' "$out" | same_shape "$fx/restore-failedvalidation.json" || fail "FailedValidation differs from the sample"
assert_contains "$out" "backups.velero.io are non-restorable resources"
assert_not_contains "$out" "startTimestamp"
run "$VELERO_SIM" restore logs r3
assert_rc 1

# ---- the CLI's own refusals ----
run "$VELERO_SIM" restore create --from-backup no-such
assert_rc 1
assert_eq "$err" 'velero-simulator: not the real Velero (state in '"$VELERO_SIM_DIR"')
An error occurred: backups.velero.io "no-such" not found'
run "$VELERO_SIM" restore create r1 --from-backup "$b"
assert_rc 1
assert_contains "$err" 'An error occurred: restores.velero.io "r1" already exists'
run "$VELERO_SIM" restore get nope -o json
assert_rc 1
assert_contains "$err" 'restores.velero.io "nope" not found'
run "$VELERO_SIM" restore create --from-backup "$b" -o json
assert_rc 0
assert_not_contains "$out" "submitted"
run "$VELERO_SIM" restore get -o json
printf '%s\n' "$out" | py -c 'import json, sys; assert len(json.load(sys.stdin)["items"]) == 3' ||
	fail "create -o json created a restore"
run "$VELERO_SIM" schedule get
assert_rc 1
assert_contains "$err" "is not simulated"

# the default name: <backup>-<timestamp>
run "$VELERO_SIM" restore create --from-backup pre-upgrade-payments
[[ $out =~ Restore\ request\ \"pre-upgrade-payments-[0-9]{14}\"\ submitted ]] || fail "default name: $out"

# ---- backup create copies the cluster into a new backup ----
VELERO_SIM_DURATION=1 run "$VELERO_SIM" backup create b-new --include-namespaces payments-r1 --wait
assert_rc 0
assert_contains "$out" 'Backup request "b-new" submitted successfully.'
assert_contains "$out" "Backup completed with status: Completed."
[ -f "$VELERO_SIM_DIR/storage/b-new/payments-r1/MANIFEST.sha256" ] || fail "backup create copied nothing"
echo "velero_sim: ok"
