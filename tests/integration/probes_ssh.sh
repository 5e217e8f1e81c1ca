#!/usr/bin/env bash
# ssh probes against a real OpenSSH sshd (tests/servers/sshd.sh): a probe
# runs its script on the target every sample, after the host key is
# checked; its state follows the script's exit status and its value the
# JSON line the script prints; a target whose host key is not known is
# never logged in to, and its probe is unknown, never ok; the samples
# verify.
. "$(dirname "$0")/../lib.sh"
. "$QRH_SRC/tests/servers/sshd.sh"
sshd_available || { echo "skip: no sshd"; exit 77; }
trap 'sshd_stop "$T/sshd"; rm -rf "$T"' EXIT

sshd_setup "$T/sshd" || fail "cannot create keys"
sshd_start "$T/sshd" || fail "cannot start sshd"
S=$SSHD_DIR
# the login user (not us, as root) looks for the flag here
chmod 755 "$T"
mkdir -m 777 "$T/flags"
: >"$T/empty_known"

target() { # KNOWN_HOSTS
	printf '{kind: ssh, host: 127.0.0.1, port: %s, user: %s, identity: %s, known_hosts: %s}' \
		"$SSHD_PORT" "$SSHD_USER" "$S/id_ed25519" "$1"
}
cat >"$T/p.md" <<EOF
---
targets:
  box: $(target "$S/known_hosts")
  stranger: $(target "$T/empty_known")
probes:
  - name: box
    kind: ssh
    target: box
    every: 200ms
    timeout: 10s
    script: |
      if [ -e $T/flags/down ]; then echo '{"lag_seconds": 40}'; exit 3; fi
      echo '{"lag_seconds": 2}'
    ok: exit=0
    fail: exit!=0
    value: lag_seconds
  - name: stranger
    kind: ssh
    target: stranger
    every: 300ms
    timeout: 10s
    script: echo should not run
    ok: exit=0
---
# ssh probes

## Until the box is down {confirm=no}

\`\`\`wait {until=box:fail within=2m}
\`\`\`

## Until it is back {confirm=no}

\`\`\`wait {until=box:ok within=2m}
\`\`\`
EOF

"$QRH_BIN" run --plain --yes --journal "$T/j.db" "$T/p.md" >"$T/run.out" 2>&1 &
pid=$!
seen() { # TEXT: in qrh's output, within a minute
	for _ in $(seq 1 1200); do
		grep -qF -- "$1" "$T/run.out" && return 0
		kill -0 $pid 2>/dev/null || break
		sleep 0.05
	done
	kill $pid 2>/dev/null
	fail "never saw '$1': $(cat "$T/run.out")"
}
seen "probe box: ok"
touch "$T/flags/down"
seen "probe box: fail (was ok), 40"
rm "$T/flags/down"
wait $pid || fail "qrh failed: $(cat "$T/run.out")"
out=$(cat "$T/run.out")
assert_contains "$out" "probe box: ok (was fail), 2"
assert_not_contains "$out" "probe stranger: ok"

q() { sqlite3 "$T/j.db" "$1"; }
[ "$(q "select count(*) from probe_samples where probe = 'box' and state = 'ok'")" -ge 2 ] ||
	fail "too few ok samples of box"
[ "$(q "select count(*) from probe_samples where probe = 'box' and state = 'fail' and value = '40'")" -ge 1 ] ||
	fail "no fail sample of box with its value"
# the stranger: refused at the host key, every sample unknown
assert_eq "$(q "select count(*) from probe_samples where probe = 'stranger' and not (result = 'error' and state = 'unknown')")" 0
[ "$(q "select count(*) from probe_samples where probe = 'stranger'")" -ge 1 ] || fail "the stranger was never sampled"
assert_contains "$(q "select values_json from probe_samples where probe = 'stranger' limit 1")" "is not in $T/empty_known"
assert_not_contains "$(cat "$S/sshd.log")" "should not run"
run "$QRH_BIN" verify --journal "$T/j.db"
assert_rc 0 "verify"
echo "probes_ssh: ok"
