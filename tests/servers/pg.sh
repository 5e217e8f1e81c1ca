# pg.sh: a PostgreSQL 15 primary and streaming replicas on loopback, for
# tests and the sandbox. Source it (bash), then call the functions below.
# Every server listens on 127.0.0.1 and keeps its Unix socket in its own
# directory; pg_hba trusts loopback for every user and for replication, so
# use it only for throwaway test clusters.
#
# The server binaries refuse to run as root: as root, everything runs as
# the `postgres` user (Debian's package creates it) in a base directory
# that user owns; as another user, as that user. Servers are stopped with
# pg_ctl on their data directory, the writer by its PID: nothing is found
# or killed by name.
#
# Functions (NAME is a server's name, a short word: its data directory is
# $PG_BASE/NAME):
#   pg_setup                  create the base directory ($PG_BASE: a new
#                             temporary one unless PG_BASE is set); call first
#   pg_free_port              print a free TCP port on 127.0.0.1
#   pg_start_primary NAME [PORT]
#                             initdb (wal_level=replica, a `host replication`
#                             line in pg_hba.conf) and start; prints nothing,
#                             sets the port in $PG_BASE/NAME.port
#   pg_start_replica NAME FROM [PORT]
#                             pg_basebackup -R -X stream from server FROM, then
#                             start it and wait until it streams
#   pg_port NAME              print the port of server NAME
#   pg_dsn NAME               print a conninfo for it (user postgres, dbname postgres)
#   pg_psql NAME ARGS...      psql -XqAt as role postgres against server NAME
#                             (ON_ERROR_STOP; the client runs as the caller)
#   pg_wait_true NAME SQL [SECONDS]
#                             wait (default 60 s) until SQL prints t on NAME
#   pg_wait_streaming NAME    wait until replica NAME's WAL receiver streams
#   pg_wait_caught_up PRIMARY REPLICA
#                             wait until the replica has replayed everything
#                             the primary has written so far
#   pg_detach_replica NAME    point the replica's primary_conninfo at a closed
#                             port and reload: it stops receiving WAL (a
#                             network partition without iptables)
#   pg_hba_first NAME LINE    put LINE first in server NAME's pg_hba.conf and
#                             reload (e.g. a password rule for one user)
#   pg_promote NAME           pg_ctl promote -w
#   pg_stop NAME [MODE]       pg_ctl stop -m MODE (fast by default; immediate
#                             is a crash); harmless when it is not running
#   pg_writer_start NAME ACK [INTERVAL]
#                             a marker writer against server NAME: creates
#                             table rpo_marker (id bigserial, at timestamptz)
#                             if missing, then inserts one row per INTERVAL
#                             seconds (default 0.02) and appends
#                             `id<TAB>at` to file ACK for each acknowledged
#                             commit; the writer's PID is in $PG_WRITER_PID.
#                             It is $PG_WRITER_BIN (tests/servers/pg_writer.c,
#                             built by `make tests`) or else a psql loop.
#   pg_writer_stop            stop the writer (by PID) and wait for it
#   pg_cleanup                stop the writer and every server started here,
#                             remove $PG_BASE (set it as an EXIT trap)
#
# Internal: pg_as (run as $PG_RUNAS), pg_ctl_start.
# Variables: PG_BIN (server binaries: /usr/lib/postgresql/15/bin, or
# `pg_config --bindir`), PG_RUNAS (the user servers run as; as root,
# postgres unless set before pg_setup), PG_BASE (set it before pg_setup to
# keep the servers in a directory of your own, as the sandbox does),
# PG_WRITER_BIN, PG_WRITER_PID.

PG_BIN=${PG_BIN:-}
if [ -z "$PG_BIN" ]; then
	if [ -x /usr/lib/postgresql/15/bin/initdb ]; then
		PG_BIN=/usr/lib/postgresql/15/bin
	elif command -v pg_config >/dev/null 2>&1 && [ -x "$(pg_config --bindir)/initdb" ]; then
		PG_BIN=$(pg_config --bindir)
	fi
fi
PG_BASE=${PG_BASE:-}
PG_RUNAS=${PG_RUNAS:-}
# the C writer built with the tests (a psql loop when it is missing)
PG_WRITER_BIN=${PG_WRITER_BIN:-${QRH_BUILD:-}/tests/pg_writer}
PG_WRITER_PID=
PG_SERVERS=()

# Runs a command as the server user.
pg_as() {
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u "$PG_RUNAS" -- "$@"
	else
		"$@"
	fi
}

pg_setup() {
	[ -n "$PG_BIN" ] && [ -x "$PG_BIN/initdb" ] || { echo "pg.sh: no PostgreSQL server binaries (install postgresql)" >&2; return 1; }
	if [ "$(id -u)" -eq 0 ]; then
		PG_RUNAS=${PG_RUNAS:-postgres}
		id -u "$PG_RUNAS" >/dev/null 2>&1 || { echo "pg.sh: user $PG_RUNAS does not exist" >&2; return 1; }
	else
		PG_RUNAS=$(id -un)
	fi
	if [ -n "$PG_BASE" ]; then
		mkdir -p "$PG_BASE" || return 1
	else
		PG_BASE=$(mktemp -d "${TMPDIR:-/tmp}/qrh-pg.XXXXXX") || return 1
	fi
	chmod 755 "$PG_BASE"
	[ "$(id -u)" -ne 0 ] || chown "$PG_RUNAS" "$PG_BASE"
}

pg_free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

pg_port() { cat "$PG_BASE/$1.port"; }

pg_dsn() { printf 'host=127.0.0.1 port=%s user=postgres dbname=postgres' "$(pg_port "$1")"; }

pg_psql() {
	local name=$1
	shift
	"$PG_BIN/psql" -X -q -A -t -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$(pg_port "$name")" -U postgres -d postgres "$@"
}

# Waits up to $2 seconds (default 60) for `pg_psql NAME -c SQL` to print t.
pg_wait_true() {
	local name=$1 sql=$2 limit=${3:-60} i=0
	while [ $i -lt $((limit * 10)) ]; do
		[ "$(pg_psql "$name" -c "$sql" 2>/dev/null)" = t ] && return 0
		sleep 0.1
		i=$((i + 1))
	done
	echo "pg.sh: $name: timed out waiting for: $sql" >&2
	return 1
}

pg_ctl_start() {
	local name=$1
	pg_as "$PG_BIN/pg_ctl" -D "$PG_BASE/$name" -l "$PG_BASE/$name.log" -w -t 60 start >/dev/null ||
		{ echo "pg.sh: $name did not start:" >&2; tail -n 20 "$PG_BASE/$name.log" >&2; return 1; }
	PG_SERVERS+=("$name")
}

pg_start_primary() {
	local name=$1 port=${2:-$(pg_free_port)} dir=$PG_BASE/$1
	echo "$port" >"$PG_BASE/$name.port"
	pg_as "$PG_BIN/initdb" -D "$dir" -U postgres -A trust --no-sync -E UTF8 --locale=C.UTF-8 >"$PG_BASE/$name.initdb.log" 2>&1 ||
		{ cat "$PG_BASE/$name.initdb.log" >&2; return 1; }
	pg_as tee -a "$dir/postgresql.conf" >/dev/null <<-CONF
		listen_addresses = '127.0.0.1'
		port = $port
		unix_socket_directories = '$PG_BASE'
		wal_level = replica
		max_wal_senders = 8
		hot_standby = on
		fsync = off
		full_page_writes = off
		wal_keep_size = 256MB
		wal_sender_timeout = 10s
		wal_receiver_status_interval = 1s
		wal_retrieve_retry_interval = 200ms
	CONF
	pg_as tee "$dir/pg_hba.conf" >/dev/null <<-HBA
		local all all trust
		host all all 127.0.0.1/32 trust
		host replication all 127.0.0.1/32 trust
	HBA
	pg_ctl_start "$name"
}

pg_start_replica() {
	local name=$1 from=$2 port=${3:-$(pg_free_port)} dir=$PG_BASE/$1
	echo "$port" >"$PG_BASE/$name.port"
	pg_as "$PG_BIN/pg_basebackup" -h 127.0.0.1 -p "$(pg_port "$from")" -U postgres -D "$dir" -R -X stream -c fast --no-sync >"$PG_BASE/$name.basebackup.log" 2>&1 ||
		{ cat "$PG_BASE/$name.basebackup.log" >&2; return 1; }
	pg_as sed -i "s/^port = .*/port = $port/" "$dir/postgresql.conf"
	pg_ctl_start "$name" && pg_wait_streaming "$name"
}

pg_wait_streaming() {
	pg_wait_true "$1" "select count(*) = 1 from pg_stat_wal_receiver where status = 'streaming'"
}

pg_wait_caught_up() {
	local lsn
	lsn=$(pg_psql "$1" -c "select pg_current_wal_lsn()") || return 1
	pg_wait_true "$2" "select pg_last_wal_replay_lsn() >= '$lsn'::pg_lsn"
}

pg_detach_replica() {
	local dead
	dead=$(pg_free_port)
	pg_psql "$1" -c "alter system set primary_conninfo = 'host=127.0.0.1 port=$dead user=postgres connect_timeout=2'" &&
		pg_psql "$1" -c "select pg_reload_conf()" >/dev/null &&
		pg_wait_true "$1" "select count(*) = 0 from pg_stat_wal_receiver where status = 'streaming'"
}

pg_hba_first() {
	local hba=$PG_BASE/$1/pg_hba.conf
	{ printf '%s\n' "$2"; cat "$hba"; } | pg_as tee "$hba.new" >/dev/null &&
		pg_as mv "$hba.new" "$hba" &&
		pg_psql "$1" -c "select pg_reload_conf()" >/dev/null
}

pg_promote() {
	pg_as "$PG_BIN/pg_ctl" -D "$PG_BASE/$1" -w -t 60 promote >/dev/null
}

pg_stop() {
	local name=$1 mode=${2:-fast}
	[ -f "$PG_BASE/$name/postmaster.pid" ] || return 0
	pg_as "$PG_BIN/pg_ctl" -D "$PG_BASE/$name" -m "$mode" -w -t 60 stop >/dev/null 2>&1
}

pg_writer_start() {
	local name=$1 ack=$2 interval=${3:-0.02} port
	port=$(pg_port "$name")
	PGOPTIONS='-c client_min_messages=warning' pg_psql "$name" -c "create table if not exists rpo_marker (id bigserial primary key, at timestamptz not null)" || return 1
	: >>"$ack"
	if [ -x "$PG_WRITER_BIN" ]; then
		"$PG_WRITER_BIN" "$(pg_dsn "$name") connect_timeout=2" "$ack" \
			"$(awk -v s="$interval" 'BEGIN { printf "%d", s * 1000 }')" &
		PG_WRITER_PID=$!
		return 0
	fi
	(
		trap - EXIT
		while :; do
			# psql prints the row only once the commit is acknowledged
			line=$("$PG_BIN/psql" -X -q -A -t -F "$(printf '\t')" -h 127.0.0.1 -p "$port" -U postgres -d postgres \
				-c "insert into rpo_marker (at) values (clock_timestamp()) returning id, at" 2>/dev/null) &&
				[ -n "$line" ] && printf '%s\n' "$line" >>"$ack"
			sleep "$interval"
		done
	) &
	PG_WRITER_PID=$!
}

pg_writer_stop() {
	[ -n "$PG_WRITER_PID" ] || return 0
	kill "$PG_WRITER_PID" 2>/dev/null
	wait "$PG_WRITER_PID" 2>/dev/null
	PG_WRITER_PID=
}

pg_cleanup() {
	pg_writer_stop
	local name
	for name in "${PG_SERVERS[@]}"; do
		pg_stop "$name" immediate
	done
	PG_SERVERS=()
	[ -n "$PG_BASE" ] && rm -rf "$PG_BASE"
	PG_BASE=
}
