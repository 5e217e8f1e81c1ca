#!/usr/bin/env bash
# The DR sandbox and the drills against it, on one sandbox shared by every
# part (bringing it up is the slow part): qrh sandbox up twice (the second
# finds everything running and starts nothing), each library runbook end
# to end as a drill in plain mode (dual-control-delete.md has its own
# test, dual_control_delete.sh), each fault injected and seen in the
# outcome, the score card, qrh drill --history, and qrh sandbox down
# leaving no process and no port behind.
. "$(dirname "$0")/../lib.sh"
. "$QRH_SRC/tests/servers/sandbox.sh"
ports=("${SANDBOX_PORTS[@]}")
echo "VELERO_DURATION=2" >>"$T/conf"
J=$T/j.db

# ---- up, and up again ----
run env QRH_SANDBOX_CONF="$T/conf" "$QRH_BIN" sandbox up
assert_rc 0
run "$QRH_BIN" sandbox status
assert_rc 0
assert_contains "$out" "answer=primary"
pids() {
	cat "$QRH_SANDBOX_DIR"/http/*.pid "$QRH_SANDBOX_DIR/run/writer.pid"
	head -n1 -q "$QRH_SANDBOX_DIR"/pg/*/postmaster.pid
}
before=$(pids | sort)
[ "$(echo "$before" | wc -l)" -eq 6 ] || fail "6 servers expected, got: $before"
run "$QRH_BIN" sandbox up
assert_rc 0
assert_eq "$(pids | sort)" "$before"

drill() { # RUNBOOK ARGS...: a drill in plain mode, answering everything
	local rb=$1
	shift
	run "$QRH_BIN" drill --plain --yes --journal "$J" "$@" "$QRH_SRC/runbooks/library/$rb"
}

# ---- replica-lag-check: ok, then each of its faults ----
drill replica-lag-check.md
assert_rc 0
assert_contains "$out" "Drill score card: ok"
assert_contains "$out" "faults injected: none"
drill replica-lag-check.md --fault replica-lag=30s
assert_rc 1
# the trainee sees that faults were injected, not which, until the end
assert_contains "$out" "drill: 1 faults injected (shown at the end)"
before_card=${out%%Drill score card*}
assert_not_contains "$before_card" "replica-lag=30s"
assert_contains "$out" "caught_up: expected t, got false"
assert_contains "$out" "faults injected: replica-lag=30s"
drill replica-lag-check.md --fault primary-refuses
assert_rc 1
assert_contains "$out" "[1/3] primary-view: failed"
assert_contains "$out" "faults injected: primary-refuses"
# the faults were cleared when those drills ended
drill replica-lag-check.md
assert_rc 0

# ---- --history: the four drills of replica-lag-check ----
run "$QRH_BIN" drill --history --journal "$J" "$QRH_SRC/runbooks/library/replica-lag-check.md"
assert_rc 0
assert_contains "$out" "drills of Replica lag check: 4"
assert_eq "$(grep -cE '^[0-9]+ +20[0-9-]+ [0-9:]+ +(ok|failed) ' <<<"$out")" 4
assert_contains "$out" "per step, oldest drill first:"
assert_contains "$out" "The replica receives and replays"

# ---- velero-restore against the simulator: Completed, then PartiallyFailed ----
velero=$QRH_SANDBOX_DIR/bin/velero
backup=$("$velero" backup get -o json | python3 -c 'import json, sys
d = json.load(sys.stdin)
items = [b for b in d.get("items", [d]) if b["status"]["phase"] == "Completed"]
items.sort(key=lambda b: b["metadata"]["creationTimestamp"], reverse=True)
print(items[0]["metadata"]["name"])')
[ -n "$backup" ] || fail "no Completed backup in the simulator"
vargs=(-v NAMESPACE=payments -v TARGET_NAMESPACE=payments-drill -v BACKUP="$backup" --typed restore-the-namespace=RESTORE)
drill velero-restore.md "${vargs[@]}" -v RESTORE_NAME=drill-ok
assert_rc 0
assert_contains "$out" "Drill score card: ok"
assert_contains "$out" "simulator"
assert_contains "$out" "RTO"
assert_contains "$out" "of 30m00s: met"
drill velero-restore.md "${vargs[@]}" -v RESTORE_NAME=drill-partial --fault velero-outcome=PartiallyFailed
assert_rc 1
assert_contains "$out" "PartiallyFailed"
assert_contains "$out" "RTO never stopped of 30m00s: NOT MET"
assert_contains "$out" "faults injected: velero-outcome=PartiallyFailed"

# ---- practice-drill: its step 5 fails as designed, and the drill is ok ----
(cd "$T" && run "$QRH_BIN" drill --plain --yes --journal "$J" -v REASON=test --typed break-the-service=BREAK \
	--typed restore-the-data-from-the-backup=RESTORE "$QRH_SRC/runbooks/library/practice-drill.md"
	assert_rc 0
	assert_contains "$out" "check-the-service-health: failed"
	assert_contains "$out" "Drill score card: ok") || exit 1

# ---- stage-dr-failover, the whole drill, with a slow DR and a step failing once ----
drill stage-dr-failover.md -v REASON=test --typed crash=FAIL --typed promote=PROMOTE \
	--typed rebuild=REBUILD --typed stop-dr=SWITCHBACK --fault dr-slow=3s --fault fail-once=confirm-load
assert_rc 0
assert_contains "$out" "Drill score card: ok"
assert_contains "$out" "faults injected: dr-slow=3s fail-once=confirm-load"
rto=$(awk '/^  RTO [0-9.]+s of 15m00s: met$/ { sub(/s$/, "", $2); print $2 }' <<<"$out")
[ -n "$rto" ] || fail "no RTO met in: $out"
awk -v r="$rto" 'BEGIN { exit !(r >= 3) }' || fail "RTO ${rto}s is shorter than the 3 s the DR gateway was slowed by"
assert_contains "$out" "RPO 0ms of 5m00s: met (0 acknowledged rows lost)"
assert_contains "$out" "done [fault: fail-once]"
run_id=$(sqlite3 "$J" "select max(id) from runs")
# the score card in qrh show and in the export, faults and all
run "$QRH_BIN" show --journal "$J" "$run_id"
assert_rc 0
assert_contains "$out" "Drill score card: ok"
run "$QRH_BIN" export --journal "$J" -f json "$run_id"
assert_rc 0
assert_contains "$out" "fail-once=confirm-load"
# the drill switched back: the roles are as they were
run "$QRH_BIN" sandbox status
assert_rc 0
assert_contains "$out" "answer=primary"

# ---- down: no process, no port ----
all=$(pids)
run "$QRH_BIN" sandbox down
assert_rc 0
# down waits for the servers it stops; a process may still be leaving
# the kernel's tables: give it time, then name it
for p in $all; do
	i=0
	while kill -0 "$p" 2>/dev/null && [ $i -lt 300 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	kill -0 "$p" 2>/dev/null && fail "process $p is still running after down: $(ps -o pid,user,args -p "$p" | tail -n1)"
done
for p in "${ports[@]}"; do
	python3 -c 'import socket, sys
s = socket.socket()
s.settimeout(2)
sys.exit(1 if s.connect_ex(("127.0.0.1", int(sys.argv[1]))) == 0 else 0)' "$p" || fail "port $p still answers after down"
done
echo "sandbox: up twice, every library runbook as a drill, 5 faults, scores, history, down clean"
