#!/usr/bin/env bash
# qrh-test: alone (it measures time: no other test beside it)
# ssh actions against a real OpenSSH sshd (tests/servers/sshd.sh) on a free
# loopback port, one server for every case: exit codes, stdout and stderr
# apart, variables exported and quoted; unknown, changed, revoked and
# unreadable host keys refused before any authentication request (the
# sshd log shows the key exchange but no userauth-request); trust_new and
# the fingerprint in the journaled values; known_hosts listing only the
# ECDSA host key; ed25519, ECDSA and agent logins; an RSA key refused with
# the reason before connecting; a key the server does not know; a name
# resolved off the loop; a port nobody listens on; session reuse.
. "$(dirname "$0")/../lib.sh"
. "$QRH_SRC/tests/servers/sshd.sh"
sshd_available || { echo "skip: no sshd"; exit 77; }

AGENT_PID=
cleanup() {
	sshd_stop "$T/sshd"
	[ -n "$AGENT_PID" ] && kill "$AGENT_PID" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT

sshd_setup "$T/sshd" || fail "cannot create keys"
sshd_start "$T/sshd" || fail "cannot start sshd"
S=$SSHD_DIR

fp() { ssh-keygen -lf "$1" -E sha256 | cut -d' ' -f2; }
HOST_FP=$(fp "$S/host_ed25519.pub")

# runbook NAME TARGET_FIELDS SCRIPT [STEP_ATTRS]: one ssh step on target t
runbook() {
	local name=$1 fields=$2 script=$3 attrs=${4:-}
	{
		printf -- '---\nvars:\n  V1:\n    value: %s\ntargets:\n  t:\n    kind: ssh\n' \
			"'it''s \"q\" \$(touch $T/pwned) \`x\` ;|&'"
		printf '%s\n' "$fields"
		printf -- '---\n# ssh %s\n\n## Step {confirm=no}\n\n```ssh {target=t %s}\n%s\n```\n' \
			"$name" "$attrs" "$script"
	} >"$T/$name.md"
}

# the usual target: 127.0.0.1, the test user and key, the test known_hosts
fields() {
	printf '    host: %s\n    port: %s\n    user: %s\n' "${HOST:-127.0.0.1}" "$SSHD_PORT" "$SSHD_USER"
	printf '    identity: %s\n    known_hosts: %s\n' "${KEY:-$S/id_ed25519}" "${KNOWN:-$S/known_hosts}"
	[ -n "${EXTRA:-}" ] && printf '%s\n' "$EXTRA"
	return 0
}

qrun() { # NAME: runs it, journal in $T/NAME.db
	run "$QRH_BIN" run --plain --yes --journal "$T/$1.db" "$T/$1.md"
}

end() { # NAME JSONPATH: from the action_end event
	sqlite3 "$T/$1.db" "select json_extract(payload, '\$.$2') from events where type='action_end'"
}

log_mark() { LOG_AT=$(wc -c <"$S/sshd.log"); }
log_since() { tail -c +"$((LOG_AT + 1))" "$S/sshd.log"; }

# A refusal of the host key: the server saw a key exchange, never a login.
assert_no_auth() {
	local new
	new=$(log_since)
	assert_contains "$new" "KEX done"
	assert_not_contains "$new" "userauth-request"
	assert_not_contains "$new" "Accepted publickey"
}

# ---- exit codes, streams, variables ----
runbook exit "$(fields)" 'echo "out:$V1"
echo "err line" >&2
printf partial
exit 7'
qrun exit
assert_rc 1
assert_eq "$(end exit status)" failed
assert_eq "$(end exit exit_code)" 7
assert_eq "$(end exit values.exit_code)" 7
assert_eq "$(end exit values.exit_status_from)" marker
assert_eq "$(end exit values.host_key)" "$HOST_FP"
assert_eq "$(end exit values.user)" "$SSHD_USER"
assert_eq "$(end exit values.port)" "$SSHD_PORT"
assert_contains "$out" "out:it's \"q\" \$(touch $T/pwned) \`x\` ;|&"
[ -e "$T/pwned" ] && fail "a variable's value was run as a command"
shown=$("$QRH_BIN" show --output --journal "$T/exit.db")
assert_contains "$shown" "! err line"
assert_contains "$shown" "| partial"
assert_not_contains "$shown" "QRH_EXIT"
assert_not_contains "$shown" "| err line"
[ "$(end exit values.stderr_bytes)" -eq 9 ] || fail "stderr bytes: $(end exit values.stderr_bytes), want 9 (the marker is not output)"

runbook ok "$(fields)" 'set -u
echo "step $QRH_STEP_ID as $(id -un)"
true'
qrun ok
assert_rc 0
assert_eq "$(end ok status)" ok
assert_eq "$(end ok exit_code)" 0
assert_contains "$out" "step step as $SSHD_USER"

# ---- a large script and large output on both streams ----
{
	for i in $(seq 1 4000); do echo "# padding line $i of a long script, to be sent in many packets"; done
	echo 'head -c 3000000 /dev/zero | tr "\0" o'
	echo 'head -c 1000000 /dev/zero | tr "\0" e >&2'
} >"$T/big_script"
runbook big "$(fields)" "$(cat "$T/big_script")"
qrun big
assert_rc 0
assert_eq "$(end big values.stdout_bytes)" 3000000
assert_eq "$(end big values.stderr_bytes)" 1000000
assert_eq "$(sqlite3 "$T/big.db" "select group_concat(total_bytes) from (select total_bytes from outputs order by stream desc)")" "3000000,1000000"

# errexit, as for sh: a failing command fails the script
runbook errexit "$(fields)" 'false
echo not reached'
qrun errexit
assert_eq "$(end errexit status)" failed
assert_eq "$(end errexit exit_code)" 1
assert_not_contains "$out" "not reached"

# ---- two steps: the second reuses the session ----
{
	cat "$T/ok.md"
	printf '\n## Again {confirm=no}\n\n```ssh {target=t}\necho again\n```\n'
} >"$T/reuse.md"
log_mark
qrun reuse
assert_rc 0
assert_eq "$(sqlite3 "$T/reuse.db" "select group_concat(json_extract(payload,'\$.values.session_reused')) from events where type='action_end'")" "0,1"
[ "$(log_since | grep -c 'Accepted publickey')" -eq 1 ] || fail "two steps logged in $(log_since | grep -c 'Accepted publickey') times, want 1"

# ---- an idle session that died is reopened by the next action ----
runbook reconnect "$(fields)" 'echo first'
cat >>"$T/reconnect.md" <<RB

## Kill the idle session {confirm=no}

\`\`\`sh
. "$QRH_SRC/tests/servers/sshd.sh"
SSHD_PID=$SSHD_PID
pids=\$(sshd_session_pids)
[ -n "\$pids" ] && kill -KILL \$pids
\`\`\`

## Again {confirm=no}

\`\`\`ssh {target=t}
echo second
\`\`\`
RB
qrun reconnect
assert_rc 0
assert_contains "$out" "| second"
assert_eq "$(sqlite3 "$T/reconnect.db" "select json_extract(payload,'\$.values.session_reconnected') from events where type='action_end' and json_extract(payload,'\$.step_id')='again'")" 1

# ---- host keys ----
: >"$T/empty_known"
KNOWN=$T/empty_known runbook unknown "$(KNOWN=$T/empty_known fields)" 'echo should not run'
log_mark
qrun unknown
assert_rc 1
assert_eq "$(end unknown status)" error
assert_contains "$(end unknown summary)" "is not in $T/empty_known"
assert_contains "$(end unknown summary)" "$HOST_FP"
assert_eq "$(end unknown values.host_key)" "$HOST_FP"
assert_no_auth

runbook missing "$(KNOWN=$T/no_such_file fields)" 'echo should not run'
qrun missing
assert_eq "$(end missing status)" error
assert_contains "$(end missing summary)" "which does not exist"

# trust_new: accepted, the fingerprint journaled, known_hosts untouched
runbook trust "$(KNOWN=$T/empty_known EXTRA='    trust_new: true' fields)" 'echo trusted'
qrun trust
assert_rc 0
assert_eq "$(end trust status)" ok
assert_eq "$(end trust values.host_key)" "$HOST_FP"
assert_eq "$(end trust values.host_key_trusted_new)" 1
[ -s "$T/empty_known" ] && fail "trust_new wrote known_hosts"

# changed: another key listed for this host, refused even with trust_new
OTHER_FP=$(fp "$S/id_other.pub")
printf '[127.0.0.1]:%s %s\n' "$SSHD_PORT" "$(cut -d' ' -f1,2 "$S/id_other.pub")" >"$T/changed_known"
runbook changed "$(KNOWN=$T/changed_known EXTRA='    trust_new: true' fields)" 'echo should not run'
log_mark
qrun changed
assert_eq "$(end changed status)" error
assert_contains "$(end changed summary)" "has changed"
assert_contains "$(end changed summary)" "$OTHER_FP"
assert_contains "$(end changed summary)" "$HOST_FP"
assert_contains "$(end changed summary)" "line 1"
assert_eq "$(end changed values.host_key_known)" "$OTHER_FP"
assert_no_auth

# a plain "host" entry does not vouch for another port
printf '127.0.0.1 %s\n' "$(cut -d' ' -f1,2 "$S/host_ed25519.pub")" >"$T/noport_known"
runbook noport "$(KNOWN=$T/noport_known fields)" 'echo should not run'
qrun noport
assert_eq "$(end noport status)" error
assert_contains "$(end noport summary)" "is not in"

# @revoked (the right key, revoked), @cert-authority (ignored), a key type
# libssh2 cannot read for another host (ignored), then the key itself
{
	echo "@cert-authority *.example.com $(cut -d' ' -f1,2 "$S/id_other.pub")"
	echo "other.example.com sk-ssh-ed25519@openssh.com AAAAGnNrLXNzaC1lZDI1NTE5QG9wZW5zc2guY29tAAAAIA=="
	cat "$S/known_hosts"
} >"$T/odd_known"
runbook oddok "$(KNOWN=$T/odd_known fields)" 'echo fine'
qrun oddok
assert_rc 0
{ echo "@revoked * $(cut -d' ' -f1,2 "$S/host_ed25519.pub")"; cat "$S/known_hosts"; } >"$T/revoked_known"
runbook revoked "$(KNOWN=$T/revoked_known fields)" 'echo should not run'
log_mark
qrun revoked
assert_eq "$(end revoked status)" error
assert_contains "$(end revoked summary)" "@revoked in $T/revoked_known:1"
assert_no_auth
# an entry for this host that libssh2 cannot read: refused, with its line
{
	echo "# a comment"
	echo "[127.0.0.1]:$SSHD_PORT sk-ssh-ed25519@openssh.com AAAAGnNrLXNzaC1lZDI1NTE5QG9wZW5zc2guY29tAAAAIA=="
} >"$T/unreadable_known"
runbook unreadable "$(KNOWN=$T/unreadable_known EXTRA='    trust_new: true' fields)" 'echo should not run'
qrun unreadable
assert_eq "$(end unreadable status)" error
assert_contains "$(end unreadable summary)" "$T/unreadable_known:2"
assert_contains "$(end unreadable summary)" "cannot read"

# known by its ECDSA key only: the ECDSA key is asked for, not ed25519
sshd_known_hosts_line 127.0.0.1 ecdsa >"$T/ecdsa_known"
runbook ecdsahost "$(KNOWN=$T/ecdsa_known fields)" 'echo ecdsa host'
qrun ecdsahost
assert_rc 0
assert_eq "$(end ecdsahost values.host_key_type)" ecdsa-sha2-nistp256
assert_eq "$(end ecdsahost values.host_key)" "$(fp "$S/host_ecdsa.pub")"

# ---- user keys ----
runbook ecdsa "$(KEY=$S/id_ecdsa fields)" 'echo ecdsa user'
# libssh2 1.10 leaks a BIGNUM reading an OpenSSH-format ECDSA key; qrh
# suppresses that leak by the libssh2 call it happens under, which a
# sanitizer build can only see with the slow unwinder (libcrypto has no
# frame pointers)
ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}fast_unwind_on_malloc=0 qrun ecdsa
assert_rc 0
assert_contains "$out" "ecdsa user"

log_mark
runbook rsa "$(KEY=$S/id_rsa fields)" 'echo should not run'
qrun rsa
assert_rc 1
assert_eq "$(end rsa status)" error
assert_contains "$(end rsa summary)" "libssh2 1.10 cannot sign with RSA SHA-2; OpenSSH 8.8+ refuses ssh-rsa: use an ed25519 or ECDSA key"
assert_not_contains "$(log_since)" "Connection from" # refused before connecting
# the same key without its .pub: told from the key file itself
cp "$S/id_rsa" "$T/rsa_nopub"
runbook rsa2 "$(KEY=$T/rsa_nopub fields)" 'echo should not run'
qrun rsa2
assert_contains "$(end rsa2 summary)" "cannot sign with RSA SHA-2"

runbook other "$(KEY=$S/id_other fields)" 'echo should not run'
qrun other
assert_eq "$(end other status)" error
assert_contains "$(end other summary)" "authentication as '$SSHD_USER'"

# the agent: its ed25519 key logs in; with only its RSA key, the reason
eval "$(ssh-agent -s -a "$T/agent.sock")" >/dev/null
AGENT_PID=$SSH_AGENT_PID
ssh-add -q "$S/id_rsa" 2>/dev/null
runbook agentrsa "$(KEY=/dev/null EXTRA='    agent: true' fields | grep -v identity)" 'echo should not run'
qrun agentrsa
assert_eq "$(end agentrsa status)" error
assert_contains "$(end agentrsa summary)" "only RSA or DSA keys"
ssh-add -q "$S/id_ed25519" 2>/dev/null
runbook agent "$(EXTRA='    agent: true' fields | grep -v identity)" 'echo via agent'
qrun agent
assert_rc 0
assert_eq "$(end agent values.auth)" agent
assert_eq "$(end agent values.auth_key)" "$(fp "$S/id_ed25519.pub")"

# ---- names and ports ----
sshd_known_hosts_line localhost >"$T/localhost_known"
runbook name "$(HOST=localhost KNOWN=$T/localhost_known fields)" 'echo by name'
qrun name
assert_rc 0
assert_contains "$out" "by name"

runbook nohost "$(HOST=no-such-host.invalid fields)" 'echo should not run'
qrun nohost
assert_eq "$(end nohost status)" error
assert_contains "$(end nohost summary)" "cannot resolve 'no-such-host.invalid'"

closed=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
runbook refused "$(fields | sed "s/port: .*/port: $closed/")" 'echo should not run'
qrun refused
assert_eq "$(end refused status)" error
assert_contains "$(end refused summary)" "cannot connect to 127.0.0.1 port $closed"

# ---- a session dropped mid-command: unknown, never ok ----
# remote processes of the test user running `sleep N`
remote_sleeps() {
	ps -u "$SSHD_USER" -o args= 2>/dev/null | grep -c "^sleep $1\$"
}
wait_for() { # SECONDS CMD...: until CMD succeeds
	local i
	for i in $(seq 1 $(($1 * 10))); do
		"${@:2}" && return 0
		sleep 0.1
	done
	return 1
}
no_remote_sleep() { [ "$(remote_sleeps "$1")" -eq 0 ]; }
runbook drop "$(fields)" 'echo started
sleep 37
echo never'
"$QRH_BIN" run --plain --yes --journal "$T/drop.db" "$T/drop.md" >"$T/drop.out" 2>&1 &
qpid=$!
wait_for 30 grep -q "| started" "$T/drop.out" || fail "the script did not start: $(cat "$T/drop.out")"
wait_for 10 test "$(remote_sleeps 37)" -eq 1 || fail "no remote sleep 37"
sessions=$(sshd_session_pids)
[ -n "$sessions" ] || fail "no sshd session process"
kill -KILL $sessions
wait "$qpid"
rc=$?
[ "$rc" -ne 0 ] || fail "a dropped session ended qrh with 0"
assert_eq "$(end drop status)" unknown
assert_contains "$(end drop summary)" "was lost while the script ran: its outcome is unknown"
assert_eq "$(end drop values.exit_code)" ""
assert_eq "$(end drop values.exit_status_from)" none
assert_eq "$(sqlite3 "$T/drop.db" "select json_extract(payload,'\$.status') from events where type='step_end'")" failed
# the remote watchdog saw stdin end and stopped the script
wait_for 15 no_remote_sleep 37 || fail "the remote sleep outlived its session"

# ---- a timeout (a cancel): the remote script is stopped ----
runbook slow "$(fields)" 'echo started
sleep 38
echo never' 'timeout=1s'
qrun slow
assert_eq "$(end slow status)" timeout
assert_contains "$(end slow summary)" "timed out: the remote script was stopped by SIGTERM"
assert_eq "$(end slow values.exit_signal)" TERM
[ "$(end slow duration_ms)" -lt 8000 ] || fail "the timeout took $(end slow duration_ms) ms"
assert_contains "$out" "| started"
assert_not_contains "$out" "never"
wait_for 10 no_remote_sleep 38 || fail "the remote sleep outlived the timeout"

# ---- a server that never answers: the timeout cancels the setup ----
python3 -c '
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(16)
print(s.getsockname()[1], flush=True)
conns = []
while True:
    c, _ = s.accept(); conns.append(c)
' >"$T/tarpit.port" &
tarpit=$!
wait_for 10 test -s "$T/tarpit.port" || fail "no tarpit"
runbook tarpit "$(fields | sed "s/port: .*/port: $(cat "$T/tarpit.port")/")" 'echo should not run' 'timeout=1s'
qrun tarpit
kill "$tarpit"
assert_eq "$(end tarpit status)" timeout
assert_contains "$(end tarpit summary)" "before the script started"
assert_eq "$(end tarpit values.phase)" handshake
# the timer fired on time: the pending handshake did not hold the loop
[ "$(end tarpit duration_ms)" -lt 5000 ] || fail "a 1s timeout took $(end tarpit duration_ms) ms"

# ---- a background ssh action, stopped by wait {stop=...} ----
mkdir -m 1777 "$T/shared"
runbook bg "$(fields)" "echo bg-started; touch $T/shared/started; sleep 39" 'name=load background=true'
cat >>"$T/bg.md" <<RB

## Wait for it {confirm=no}

\`\`\`sh {timeout=30s}
while [ ! -e "$T/shared/started" ]; do sleep 0.1; done
\`\`\`

## Stop it {confirm=no}

\`\`\`wait {stop=load}
\`\`\`
RB
qrun bg
assert_rc 0
assert_eq "$(sqlite3 "$T/bg.db" "select count(*) from events where type='background_end'")" 1
wait_for 10 no_remote_sleep 39 || fail "the remote sleep outlived wait {stop=load}"

echo "ssh: all cases passed"
