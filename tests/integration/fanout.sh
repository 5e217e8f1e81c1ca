#!/usr/bin/env bash
# Fan-out over a group of real SSH hosts: 20 aliases of one sshd (a
# members_file), parallel=5. Never more than 5 members run at once (each
# records its start and end on the remote side, and the test replays
# them), every member's result is journaled (task_start/task_end, per-host
# output labelled with the host), the action's end carries the per-host
# table, and require= decides the step: with one host failing, require=all
# fails it and require=19 does not.
. "$(dirname "$0")/../lib.sh"
. "$QRH_SRC/tests/servers/sshd.sh"
sshd_available || { echo "skip: sshd is not installed"; exit 77; }
command -v sqlite3 >/dev/null || { echo "skip: sqlite3 is not installed"; exit 77; }
trap 'sshd_stop "$T/sshd"; rm -rf "$T"' EXIT
sshd_setup "$T/sshd"
sshd_start "$T/sshd" aliases || fail "sshd did not start"
sshd_alias_files 20 "$T/hosts" "$T/known"
mkdir -p "$T/log"
chmod 777 "$T/log"
db=$T/j.db

cat >"$T/fleet.md" <<RB
---
targets:
  fleet:
    kind: group
    members_file: $T/hosts
    user: $SSHD_USER
    identity: $T/sshd/id_ed25519
    known_hosts: $T/known
vars:
  LOG: $T/log
---
## Restart the fleet {confirm=no}
\`\`\`ssh {target=fleet parallel=5}
host=\$(hostname -I 2>/dev/null | cut -d' ' -f1)
echo "start \$(date +%s%N)" >>"\$LOG/\$QRH_TASK_LABEL"
echo "restarting on \$SSH_CONNECTION"
sleep 0.4
echo "end \$(date +%s%N)" >>"\$LOG/\$QRH_TASK_LABEL"
\`\`\`
RB
# the script names its log after the member it runs on: the engine passes
# the target's name in QRH_TARGET
sed -i 's/\$QRH_TASK_LABEL/$QRH_TARGET/g' "$T/fleet.md"
run "$QRH_BIN" run --plain --yes --journal "$db" "$T/fleet.md"
assert_rc 0 "fan-out over 20 hosts"
assert_eq "$(sqlite3 "$db" "select count(*) from events where type='task_start'")" 20
assert_eq "$(sqlite3 "$db" "select count(*) from events where type='task_end' and json_extract(payload,'\$.status')='ok'")" 20
assert_eq "$(sqlite3 "$db" "select json_array_length(payload,'\$.hosts') from events where type='action_end'")" 20
assert_eq "$(sqlite3 "$db" "select json_extract(payload,'\$.fanout.parallel') from events where type='action_start'")" 5
assert_eq "$(sqlite3 "$db" "select count(distinct label) from outputs where stream='stdout'")" 20
first=$(head -1 "$T/hosts")
assert_contains "$out" "[1 $first] | restarting on"
# replay the remote start/end stamps: at most 5 overlap at any moment
python3 - "$T/log" <<'PY' || fail "more than 5 members ran at once"
import os, sys
ev = []
for f in os.listdir(sys.argv[1]):
    for line in open(os.path.join(sys.argv[1], f)):
        kind, t = line.split()
        ev.append((int(t), 1 if kind == "start" else -1))
assert len(ev) == 40, len(ev)
ev.sort(key=lambda e: (e[0], e[1]))
now = peak = 0
for _, d in ev:
    now += d
    peak = max(peak, now)
print("fan-out: at most %d members at once" % peak)
sys.exit(0 if 1 < peak <= 5 else 1)
PY

# one host fails: require=all fails the step (and starts no more members),
# require=19 passes it
bad=$(sed -n 7p "$T/hosts")
for req in all 19; do
	sed -e "s/parallel=5}/parallel=5 require=$req}/" \
	    -e "s|^sleep 0.4|sleep 0.1; [ \"\$QRH_TARGET\" != \"$bad\" ] \\|\\| exit 9|" \
	    "$T/fleet.md" >"$T/req-$req.md"
	run "$QRH_BIN" run --plain --yes --journal "$T/r-$req.db" "$T/req-$req.md"
	if [ $req = all ]; then assert_rc 1 "require=all with a failing host"; else assert_rc 0 "require=19"; fi
	assert_eq "$(sqlite3 "$T/r-$req.db" "select json_extract(value,'\$.status') from events, json_each(json_extract(payload,'\$.hosts'))
		where events.type='action_end' and json_extract(value,'\$.label')='$bad'")" failed
	if [ $req = all ]; then
		# decided at the first failure: members still waiting never start
		assert_contains "$out" "1 failed, "
		assert_contains "$out" " not run"
	else
		assert_contains "$out" "19 of 20 members ok, 1 failed"
	fi
done
echo "fan-out: 20 ssh hosts, 5 at a time, per-host results journaled, require= decides"
