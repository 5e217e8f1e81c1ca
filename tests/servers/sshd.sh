# sshd.sh: a real OpenSSH sshd on a free loopback port, for tests, benches
# and the sandbox. Source it (bash), then:
#
#   sshd_available                 0 if /usr/sbin/sshd and ssh-keygen exist
#   sshd_setup DIR                 keys in DIR (created): host keys
#                                  host_ed25519 and host_ecdsa; user keys
#                                  id_ed25519, id_ecdsa, id_rsa (all three in
#                                  DIR/authorized_keys) and id_other (not
#                                  authorized); no passphrases
#   sshd_start DIR [aliases]       writes DIR/sshd_config and starts
#                                  `/usr/sbin/sshd -D -f DIR/sshd_config
#                                  -E DIR/sshd.log` on a free port of
#                                  127.0.0.1 (with `aliases`: of every
#                                  127.0.0.0/8 address, logins allowed from
#                                  loopback only); waits until it listens;
#                                  writes DIR/known_hosts with the ed25519
#                                  host key as [127.0.0.1]:PORT; sets
#                                  SSHD_DIR, SSHD_PORT, SSHD_PID and
#                                  SSHD_USER (the user to log in as)
#   sshd_stop [DIR]                stops that sshd and its sessions, by PID
#   sshd_known_hosts_line HOST [TYPE]
#                                  prints "[HOST]:PORT KEYTYPE KEY" for the
#                                  host key of TYPE (ed25519 or ecdsa)
#   sshd_alias_hosts N             prints N loopback addresses other than
#                                  127.0.0.1 (127.0.0.2, ...), one a line
#   sshd_aliases N                 prints N lines "HOST:PORT<TAB>KNOWN_HOSTS
#                                  LINE": each alias as a members_file line
#                                  and the line that makes its key known
#   sshd_alias_files N MEMBERS KNOWN
#                                  writes the N aliases to MEMBERS (a
#                                  members_file) and their keys to KNOWN
#   sshd_session_pids              prints the PIDs of the sshd processes
#                                  serving connections (children of
#                                  SSHD_PID and theirs), not the shells
#
# The server: public keys only (no passwords, no PAM), StrictModes off (test
# directories), MaxStartups and MaxSessions raised so that a fan-out over
# many aliases is not throttled, LogLevel DEBUG1 (the log shows every
# authentication request, so a test can prove none was made). As root it
# runs as root and logs in a dedicated user, SSHD_LOGIN_USER (default
# qrh-ssh, created if missing: login shell /bin/sh, home /, no password),
# so that no rc file of root's (a slow ~/.bashrc, processes it leaves
# holding the output) gets into what is measured; DIR and its parents are
# made traversable and authorized_keys readable for that user. Not as
# root, it can only log in the user who started it. Aliases need no
# /etc/hosts: every 127.0.0.0/8 address reaches loopback on Linux, and
# each is a distinct host to a client.
#
# Needs: /usr/sbin/sshd, ssh-keygen (openssh-server, openssh-client),
# python3 (to find a free port), and as root useradd (passwd).

SSHD_BIN=${SSHD_BIN:-/usr/sbin/sshd}

sshd_available() {
	[ -x "$SSHD_BIN" ] && command -v ssh-keygen >/dev/null 2>&1 &&
		command -v python3 >/dev/null 2>&1
}

# The user sessions log in as; as root, created if missing.
_sshd_login_user() {
	if [ "$(id -u)" -ne 0 ]; then
		id -un
		return 0
	fi
	local u=${SSHD_LOGIN_USER:-qrh-ssh}
	if ! id "$u" >/dev/null 2>&1; then
		# '*': no password, but not locked (sshd refuses locked accounts)
		useradd --system --no-create-home --home-dir / --shell /bin/sh \
			--password '*' "$u" >/dev/null 2>&1 || id "$u" >/dev/null 2>&1 || return 1
	fi
	echo "$u"
}

# Lets the login user reach DIR/authorized_keys (sshd reads it as the user).
_sshd_traversable() {
	local d=$1
	while [ -n "$d" ] && [ "$d" != / ]; do
		chmod o+x "$d" 2>/dev/null
		d=$(dirname "$d")
	done
}

sshd_setup() {
	local dir=$1 t
	mkdir -p "$dir" || return 1
	dir=$(cd "$dir" && pwd)
	chmod 711 "$dir"
	ssh-keygen -q -t ed25519 -N '' -C qrh-test-host -f "$dir/host_ed25519" || return 1
	ssh-keygen -q -t ecdsa -b 256 -N '' -C qrh-test-host -f "$dir/host_ecdsa" || return 1
	for t in ed25519 ecdsa; do
		ssh-keygen -q -t "$t" -N '' -C "qrh-test-$t" -f "$dir/id_$t" || return 1
	done
	# RSA only to be refused: a small key is quick to make
	ssh-keygen -q -t rsa -b 2048 -N '' -C qrh-test-rsa -f "$dir/id_rsa" || return 1
	ssh-keygen -q -t ed25519 -N '' -C qrh-test-other -f "$dir/id_other" || return 1
	cat "$dir/id_ed25519.pub" "$dir/id_ecdsa.pub" "$dir/id_rsa.pub" >"$dir/authorized_keys"
	chmod 644 "$dir/authorized_keys"
	[ "$(id -u)" -eq 0 ] && _sshd_traversable "$dir"
	return 0
}

_sshd_free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

_sshd_config() { # DIR PORT LISTEN
	local dir=$1 port=$2 listen=$3
	cat <<EOF
Port $port
ListenAddress $listen
HostKey $dir/host_ed25519
HostKey $dir/host_ecdsa
PidFile $dir/sshd.pid
AuthorizedKeysFile $dir/authorized_keys
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
PermitUserRC no
StrictModes no
UsePAM no
UseDNS no
PrintMotd no
PrintLastLog no
LogLevel DEBUG1
MaxStartups 1000
MaxSessions 64
MaxAuthTries 10
EOF
	[ "$listen" = 0.0.0.0 ] && echo "AllowUsers $SSHD_USER@127.0.0.0/8"
	return 0
}

sshd_start() {
	local dir=$1 listen=127.0.0.1 try port pid
	[ "${2:-}" = aliases ] && listen=0.0.0.0
	SSHD_DIR=$(cd "$dir" && pwd)
	dir=$SSHD_DIR
	SSHD_USER=$(_sshd_login_user) || return 1
	# sshd as root needs its privilege separation directory
	[ "$(id -u)" -eq 0 ] && mkdir -p /run/sshd && chmod 755 /run/sshd
	for try in 1 2 3 4 5; do
		port=$(_sshd_free_port) || return 1
		_sshd_config "$dir" "$port" "$listen" >"$dir/sshd_config"
		: >"$dir/sshd.log"
		"$SSHD_BIN" -D -f "$dir/sshd_config" -E "$dir/sshd.log" </dev/null &
		pid=$!
		local i
		for i in $(seq 1 200); do
			grep -q "Server listening on .* port $port" "$dir/sshd.log" 2>/dev/null && break
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.05
		done
		if grep -q "Server listening on .* port $port" "$dir/sshd.log" 2>/dev/null; then
			SSHD_PORT=$port
			SSHD_PID=$pid
			sshd_known_hosts_line 127.0.0.1 >"$dir/known_hosts"
			export SSHD_DIR SSHD_PORT SSHD_PID SSHD_USER
			return 0
		fi
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	echo "sshd did not start; its log:" >&2
	cat "$dir/sshd.log" >&2
	return 1
}

# The PIDs (and command names) of the descendants of $1, from one ps.
_sshd_descendants() {
	ps -e -o pid= -o ppid= -o comm= | awk -v root="$1" '
		{ parent[$1] = $2; comm[$1] = $3 }
		END {
			for (p in parent) {
				for (q = parent[p]; q != "" && q > 1; q = parent[q])
					if (q == root) { print p, comm[p]; break }
			}
		}'
}

sshd_session_pids() {
	_sshd_descendants "$SSHD_PID" | awk '$2 == "sshd" { print $1 }'
}

sshd_stop() {
	local pid=${SSHD_PID:-} p i
	[ -n "${1:-}" ] && [ -f "$1/sshd.pid" ] && pid=$(cat "$1/sshd.pid")
	[ -n "$pid" ] || return 0
	local sessions
	sessions=$(_sshd_descendants "$pid" | awk '{ print $1 }')
	kill "$pid" 2>/dev/null
	for p in $sessions; do
		kill "$p" 2>/dev/null
	done
	for i in $(seq 1 100); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	kill -9 "$pid" $sessions 2>/dev/null
	wait "$pid" 2>/dev/null
	return 0
}

sshd_known_hosts_line() {
	local host=$1 type=${2:-ed25519}
	printf '[%s]:%s %s\n' "$host" "$SSHD_PORT" "$(cut -d' ' -f1,2 "$SSHD_DIR/host_$type.pub")"
}

sshd_alias_hosts() {
	local n=$1 i=0 a=0 b=2
	while [ "$i" -lt "$n" ]; do
		echo "127.0.$a.$b"
		i=$((i + 1))
		b=$((b + 1))
		if [ "$b" -gt 254 ]; then
			a=$((a + 1))
			b=1
		fi
	done
}

sshd_aliases() {
	local h
	for h in $(sshd_alias_hosts "$1"); do
		printf '%s:%s\t%s\n' "$h" "$SSHD_PORT" "$(sshd_known_hosts_line "$h")"
	done
}

sshd_alias_files() {
	local n=$1 members=$2 known=$3
	sshd_aliases "$n" | cut -f1 >"$members"
	sshd_aliases "$n" | cut -f2 >"$known"
}
