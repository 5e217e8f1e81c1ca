#!/usr/bin/env bash
# The velero executor against the Velero simulator (sandbox/velero/velero)
# as the target's binary, driven through `qrh run --plain --yes`:
# a Completed restore is ok (the library runbook, end to end: the backup
# picked with -v, the namespace mapped, logs attached, restored files
# verified); InProgress -> PartiallyFailed is a failure, unless accepted;
# FailedValidation fails without logs; a missing backup is refused by the
# CLI; a pick outside the list is refused; a timeout leaves the restore
# running in the "cluster" and no process behind. Restores take 2 seconds.
. "$(dirname "$0")/../lib.sh"
. "$QRH_SRC/tests/servers/velero.sh"
velero_sim_available || { echo "skip: python3 is needed for the velero simulator"; exit 77; }

velero_sim_init "$T/sim"
export VELERO_SIM_DURATION=3
db=$T/j.db
newest=$(velero_sim_backup daily-)
[ -n "$newest" ] || fail "no daily backup in the simulator's seed"

journal() { sqlite3 "$db" "$1"; }
last_run() { journal "select max(id) from runs"; }
action_end() { # RUN STEP FIELD: the step's last action_end value
	journal "select json_extract(e.payload,'\$.$3') from events e where e.run_id=$1 and e.type='action_end'
		 and json_extract(e.payload,'\$.step_id')='$2' order by e.seq desc limit 1"
}
stream_of() { # RUN STREAM: what the run journaled on that stream
	journal "select cast(k.data as text) from output_chunks k join outputs o on o.id = k.output_id
		 where o.run_id=$1 and o.stream='$2' order by o.step, k.offset"
}

# ---- Completed: the library runbook end to end ----
run "$QRH_BIN" run --plain --yes --journal "$db" --typed restore-the-namespace=RESTORE \
	-v VELERO="$VELERO_SIM" -v NAMESPACE=payments -v TARGET_NAMESPACE=payments-drill \
	-v BACKUP="$newest" -v RESTORE_NAME=drill-1 -v RESTORED_DIR="$VELERO_SIM_DIR/cluster" \
	"$QRH_SRC/runbooks/library/velero-restore.md"
assert_rc 0 "library runbook against the simulator"
r=$(last_run)
assert_eq "$(journal "select outcome from runs where id=$r")" "ok"
assert_contains "$(action_end "$r" pick-the-backup summary)" "BACKUP=$newest, a Completed backup"
summary=$(action_end "$r" restore-the-namespace summary)
assert_contains "$summary" "restore drill-1 Completed:"
assert_contains "$summary" "items restored"
assert_contains "$out" 'Restore request "drill-1" submitted successfully.'
assert_contains "$out" "Restore completed with status: Completed."
assert_contains "$out" "--- velero restore logs drill-1 ---"
assert_contains "$out" 'msg="restore completed"'
assert_contains "$out" "qrh: restore drill-1 Completed:"
assert_contains "$out" "db/orders.csv: OK"
assert_contains "$out" "orders restored: 1040"
assert_contains "$out" "Namespace mappings:  payments=payments-drill"
# the context and Velero's namespace reach every command
assert_contains "$(journal "select json_extract(payload,'\$.command') from events where run_id=$r and type='action_start'
	and json_extract(payload,'\$.step_id')='restore-the-namespace'")" "--kubecontext dr-cluster -n velero"
# a run that used the simulator says so in its journaled output
assert_contains "$(stream_of "$r" stderr)" "velero-simulator: not the real Velero"
[ -f "$VELERO_SIM_DIR/cluster/payments-drill/db/refunds.csv" ] || fail "the restore did not restore the files"

# ---- InProgress -> PartiallyFailed is a failure ----
cat >"$T/partial.md" <<RB
---
vars:
  BACKUP: $newest
targets:
  dr:
    kind: kubernetes
    binary: $VELERO_SIM
    namespace: velero
---
## Restore {confirm=typed:GO}
\`\`\`velero {target=dr every=200ms}
restore create rpf --from-backup \${BACKUP} --include-namespaces payments --namespace-mappings payments:payments-pf
\`\`\`
## Verify {confirm=no}
\`\`\`sh
echo verified
\`\`\`
RB
# The simulator's clock is held while qrh follows: InProgress until qrh has
# reported it, then past the end. Nothing depends on the machine's speed.
wait_for() { # WHAT COMMAND...: up to 60 s
	local what=$1 i
	shift
	for ((i = 0; i < 300; i++)); do
		"$@" && return 0
		sleep 0.2
	done
	fail "timed out waiting for $what"
}
t0=$(date +%s)
velero_sim_clock "$t0"
VELERO_SIM_OUTCOME=PartiallyFailed "$QRH_BIN" run --plain --typed restore=GO --journal "$db" \
	"$T/partial.md" >"$T/pf.out" 2>"$T/pf.err" &
qpid=$!
wait_for "restore rpf to be created" velero_sim_exists rpf
velero_sim_clock "$((t0 + 2))"
wait_for "qrh to report InProgress" grep -q "qrh: restore rpf InProgress:" "$T/pf.out"
velero_sim_clock "$((t0 + 100))"
wait "$qpid"
rc=$?
out=$(cat "$T/pf.out")
err=$(cat "$T/pf.err")
velero_sim_clock_real
assert_rc 1 "a PartiallyFailed restore fails the step"
r=$(last_run)
assert_eq "$(journal "select outcome from runs where id=$r")" "failed"
assert_eq "$(action_end "$r" restore status)" "failed"
assert_contains "$(action_end "$r" restore summary)" "restore rpf PartiallyFailed:"
assert_contains "$out" "qrh: restore rpf InProgress:"
assert_contains "$out" "qrh: restore rpf PartiallyFailed:"
assert_contains "$out" "(partially failed)"
assert_contains "$out" "--- velero restore logs rpf ---"
assert_contains "$out" "level=error"
assert_not_contains "$out" "verified"
# exit code 0 from the CLI, failure from the phase
assert_eq "$(action_end "$r" restore exit_code)" "0"
# and it really left files out
(cd "$VELERO_SIM_DIR/cluster/payments-pf" && sha256sum --check --strict --quiet MANIFEST.sha256) >/dev/null 2>&1 &&
	fail "a PartiallyFailed restore restored every file"

# ---- ... unless the action accepts it ----
sed -i 's/every=200ms}/every=200ms accept=Completed,PartiallyFailed}/; s/rpf/rpf2/; s/payments-pf/payments-pf2/' "$T/partial.md"
VELERO_SIM_OUTCOME=PartiallyFailed run "$QRH_BIN" run --plain --typed restore=GO --journal "$db" "$T/partial.md"
assert_rc 0 "accept=Completed,PartiallyFailed"
assert_contains "$(action_end "$(last_run)" restore summary)" "restore rpf2 PartiallyFailed (accepted):"
assert_contains "$out" "verified"

# ---- FailedValidation: fails, and there are no logs to attach ----
cat >"$T/invalid.md" <<RB
## Restore {confirm=no}
\`\`\`velero {every=200ms}
restore create rfv --from-backup $newest --include-namespaces payments --exclude-namespaces payments
\`\`\`
RB
PATH=$(dirname "$VELERO_SIM"):$PATH run "$QRH_BIN" run --plain --yes --journal "$db" "$T/invalid.md"
assert_rc 1 "FailedValidation"
r=$(last_run)
assert_contains "$(action_end "$r" restore summary)" "restore rfv FailedValidation: Invalid included/excluded namespace lists"
assert_not_contains "$out" "--- velero restore logs"

# ---- a backup that does not exist: the CLI refuses, nothing to follow ----
sed -i "s/--from-backup $newest/--from-backup no-such-backup/; s/rfv/rnb/" "$T/invalid.md"
PATH=$(dirname "$VELERO_SIM"):$PATH run "$QRH_BIN" run --plain --yes --journal "$db" "$T/invalid.md"
assert_rc 1 "missing backup"
assert_eq "$(action_end "$(last_run)" restore summary)" \
	'velero exited 1: An error occurred: backups.velero.io "no-such-backup" not found'

# ---- a pick outside the list is refused; one in it passes ----
cat >"$T/pick.md" <<RB
---
vars:
  BACKUP:
    description: picked from the list
targets:
  dr: {kind: kubernetes, binary: $VELERO_SIM}
---
## List {confirm=no}
\`\`\`velero {target=dr pick=BACKUP}
backup get -o json
\`\`\`
## Use {confirm=no}
\`\`\`exec
echo "using \${BACKUP}"
\`\`\`
RB
run "$QRH_BIN" run --plain --yes --journal "$db" -v BACKUP=not-a-backup "$T/pick.md"
assert_rc 1 "a pick outside the list"
assert_contains "$(action_end "$(last_run)" list summary)" "BACKUP=not-a-backup is not one of the 5 backups listed"
assert_not_contains "$out" "using not-a-backup"
run "$QRH_BIN" run --plain --yes --journal "$db" -v BACKUP=pre-upgrade-payments "$T/pick.md"
assert_rc 0 "a pick from the list"
assert_contains "$(action_end "$(last_run)" list summary)" "BACKUP=pre-upgrade-payments, a PartiallyFailed backup"
assert_contains "$out" "using pre-upgrade-payments"

# ---- a timeout: the restore goes on, no process is left ----
cat >"$T/slow.md" <<RB
## Restore {confirm=no}
\`\`\`velero {timeout=1s every=200ms}
restore create rslow --from-backup $newest --wait
\`\`\`
RB
VELERO_SIM_DURATION=60 PATH=$(dirname "$VELERO_SIM"):$PATH run "$QRH_BIN" run --plain --yes --grace 1s \
	--journal "$db" "$T/slow.md"
assert_rc 1 "timeout"
r=$(last_run)
assert_eq "$(action_end "$r" restore status)" "timeout"
assert_contains "$(action_end "$r" restore summary)" "timed out following restore rslow"
assert_contains "$(action_end "$r" restore summary)" "it goes on in the cluster"
# only this test's session (tests/run.sh gives each test its own): another
# test's process of the same name is none of ours
pgrep -s 0 -f "restore create rslow" >/dev/null && fail "the velero CLI outlived the step"
pgrep -s 0 -f "restore get rslow" >/dev/null && fail "a poll outlived the step"
case "$(velero_sim_phase rslow)" in
InProgress | "") ;;
*) fail "restore rslow should still be running, is $(velero_sim_phase rslow)" ;;
esac
# ---- a CLI of our own: a list where one object was asked for, a phase
# with " (Deleting)" after it, and then output that is not the object ----
cat >"$T/fake-velero" <<'SH'
#!/bin/sh
# prints what a velero CLI could print; the poll count is in $FAKE_DIR/polls
case "$1 $2" in
"restore create") echo "Restore request \"rx\" submitted successfully." ;;
"restore get")
	n=$(($(cat "$FAKE_DIR/polls" 2>/dev/null || echo 0) + 1))
	echo "$n" >"$FAKE_DIR/polls"
	if [ -f "$FAKE_DIR/garbage" ]; then echo "this is not JSON"; exit 0; fi
	if [ "$n" -eq 1 ]; then
		echo '{"kind":"Restore","metadata":{"name":"rx"},"status":{"phase":"InProgress","progress":{"totalItems":10,"itemsRestored":4}}}'
	else
		echo '{"kind":"RestoreList","items":[{"kind":"Restore","metadata":{"name":"other"},"status":{"phase":"Failed"}},
		{"kind":"Restore","metadata":{"name":"rx"},"status":{"phase":"Completed (Deleting)","warnings":1,"progress":{"totalItems":10,"itemsRestored":10}}}]}'
	fi ;;
"restore logs") echo 'time="2025-03-01T09:32:02Z" level=info msg="restore completed" restore=velero/rx' ;;
esac
SH
chmod +x "$T/fake-velero"
export FAKE_DIR=$T
cat >"$T/fake.md" <<RB
---
targets:
  dr: {kind: kubernetes, binary: $T/fake-velero}
---
## Restore {confirm=no}
\`\`\`velero {target=dr every=100ms}
restore create --from-backup b
\`\`\`
RB
run "$QRH_BIN" run --plain --yes --journal "$db" "$T/fake.md"
assert_rc 0 "Completed (Deleting) is Completed"
assert_contains "$(action_end "$(last_run)" restore summary)" "restore rx Completed (Deleting): 10 of 10 items restored, 1 warning, 0 errors"
assert_contains "$out" "qrh: restore rx InProgress: 4 of 10 items"
assert_contains "$out" "--- velero restore logs rx ---"
rm -f "$T/polls"
touch "$T/garbage"
run "$QRH_BIN" run --plain --yes --journal "$db" "$T/fake.md"
assert_rc 1 "output that is not the object"
r=$(last_run)
assert_eq "$(action_end "$r" restore status)" "unknown"
assert_eq "$(action_end "$r" restore summary)" "lost track of restore rx after 5 failed polls: the output is not JSON"
assert_eq "$(cat "$T/polls")" "5"
echo "velero: ok"
