#!/usr/bin/env bash
# The DR sandbox: a failover playground on loopback, for drills, the demo
# and the integration tests. Run by `qrh sandbox` (tui/cmd_sandbox.c), or
# directly:
#
#   sandbox.sh up       start what is not running (idempotent); a new
#                       sandbox is created first
#   sandbox.sh down [--wipe]   stop everything (no process, no port left);
#                       --wipe also removes the state directory
#   sandbox.sh reset    down --wipe, then up: a sandbox as new
#   sandbox.sh status   one line per part; exit 0 all up, 1 some part is
#                       down or a drill changed the roles, 3 not running
#   sandbox.sh env      the runbook variables (NAME=value), as qrh drill
#                       reads them from $DIR/env
#   sandbox.sh fault apply NAME[=VALUE]...   inject drill faults
#   sandbox.sh fault clear                  undo every injected fault
#
# State directory: $QRH_SANDBOX_DIR, default /tmp/qrh-sandbox. Settings are
# in $DIR/sandbox.conf (KEY=VALUE lines, written with the defaults below
# on first use; `QRH_SANDBOX_CONF=FILE sandbox.sh up` takes a file of
# settings for a new sandbox). Layout:
#   sandbox.conf env    settings; runbook variables
#   pg/                 PostgreSQL: primary/, replica/ (data), *.log, *.port
#   http/               primary-app, dr-app, frontdoor: .pid .port .log .err
#   run/acks            the marker writer's acknowledged ids (id<TAB>time)
#   run/writer.pid .log the marker writer
#   velero/             the Velero simulator's state (cluster/ is what
#                       restores write)
#   faults/             faults injected by a drill (active: one per line)
#   bin/                pg_ctl, pg_basebackup and velero as the runbooks
#                       call them (the servers' user, the simulator's dir)
#
# The parts: a PostgreSQL 15 primary and a streaming replica (database
# app, role qrh; tables orders, rpo_marker, heartbeat); the marker writer
# (tests/servers/pg_writer.c: a row every WRITER_INTERVAL_MS, each
# acknowledged id logged); a primary and a DR application server
# (tests/servers/httpd.py --dsn: /healthz names the region and checks its
# own database; each keeps a heartbeat row); a front door with Route 53
# failover semantics (sandbox/frontdoor.py); the Velero simulator
# (sandbox/velero/velero). As root every server runs as the user
# qrh-sandbox (created when missing); otherwise as the caller. Servers are
# found by the PIDs and data directories recorded here, never by name.
set -u
SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DIR=${QRH_SANDBOX_DIR:-/tmp/qrh-sandbox}
case $DIR in /*) ;; *) DIR=$PWD/$DIR ;; esac
SANDBOX_USER=qrh-sandbox
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3

say() { printf 'sandbox: %s\n' "$*"; }
die() { printf 'sandbox: %s\n' "$*" >&2; exit 1; }

# ---- settings ----

write_defaults() {
	cat <<-CONF
		# qrh sandbox settings (sandbox/sandbox.sh); change them with the
		# sandbox down, then qrh sandbox up
		PRIMARY_PORT=15432
		REPLICA_PORT=15433
		PRIMARY_APP_PORT=18080
		DR_APP_PORT=18081
		FRONTDOOR_PORT=18000
		# the front door's health checks: every CHECK_INTERVAL seconds, health
		# changes after CHECK_THRESHOLD in a row (Route 53: 30 and 3); answers
		# are kept DNS_TTL seconds
		CHECK_INTERVAL=1
		CHECK_THRESHOLD=3
		DNS_TTL=0
		WRITER_INTERVAL_MS=100
		# seconds a Velero restore takes
		VELERO_DURATION=20
	CONF
}

load_conf() {
	mkdir -p "$DIR" || die "cannot create $DIR"
	if [ ! -f "$DIR/sandbox.conf" ]; then
		if [ -n "${QRH_SANDBOX_CONF:-}" ]; then
			{ write_defaults; cat "$QRH_SANDBOX_CONF"; } >"$DIR/sandbox.conf" ||
				die "cannot read $QRH_SANDBOX_CONF"
		else
			write_defaults >"$DIR/sandbox.conf"
		fi
	fi
	# shellcheck disable=SC1091
	. "$DIR/sandbox.conf"
	local k
	for k in PRIMARY_PORT REPLICA_PORT PRIMARY_APP_PORT DR_APP_PORT FRONTDOOR_PORT \
		CHECK_THRESHOLD WRITER_INTERVAL_MS; do
		case ${!k:-} in '' | *[!0-9]*) die "$DIR/sandbox.conf: $k must be a number" ;; esac
	done
}

# ---- who the servers run as ----

runas_setup() {
	if [ "$(id -u)" -ne 0 ]; then
		RUNAS=$(id -un)
		LAUNCH=(setsid)
		return
	fi
	RUNAS=$SANDBOX_USER
	if ! id -u "$RUNAS" >/dev/null 2>&1; then
		useradd --system --user-group --no-create-home --home-dir /nonexistent \
			--shell /usr/sbin/nologin "$RUNAS" || die "cannot create the user $RUNAS"
	fi
	LAUNCH=(setsid setpriv "--reuid=$RUNAS" "--regid=$RUNAS" --init-groups --)
}

# A directory the servers' user writes in.
own_dir() {
	mkdir -p "$1"
	[ "$(id -u)" -ne 0 ] || chown "$RUNAS:" "$1"
}

libs() {
	PG_BASE=$DIR/pg PG_RUNAS=$RUNAS
	# shellcheck source=../tests/servers/pg.sh
	. "$SRC/tests/servers/pg.sh"
	HTTP_DIR=$DIR/http HTTP_PYTHON=$PY HTTP_LAUNCH=("${LAUNCH[@]}")
	# shellcheck source=../tests/servers/http.sh
	. "$SRC/tests/servers/http.sh"
	# shellcheck source=../tests/servers/velero.sh
	QRH_SRC=$SRC . "$SRC/tests/servers/velero.sh"
}

setup() {
	load_conf
	runas_setup
	chmod 755 "$DIR"
	own_dir "$DIR/pg"
	own_dir "$DIR/http"
	own_dir "$DIR/run"
	own_dir "$DIR/faults"
	mkdir -p "$DIR/bin"
	libs
}

# ---- processes ----

# Is the process of pid file $1 alive and running $2 (a word of its
# command line)? A PID the kernel gave to something else is not ours.
pid_alive() {
	local pid
	[ -s "$1" ] || return 1
	pid=$(cat "$1")
	case $pid in '' | *[!0-9]*) return 1 ;; esac
	! http_gone "$pid" || return 1
	tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "$2"
}

stop_pid() { # PIDFILE WORD
	local pid i
	if pid_alive "$1" "$2"; then
		pid=$(cat "$1")
		kill -TERM "$pid" 2>/dev/null
		for ((i = 0; i < 300; i++)); do
			http_gone "$pid" && break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null
	fi
	rm -f "$1"
}

# Something listens on 127.0.0.1:PORT (connections in TIME_WAIT do not
# count: nothing of ours is left there).
port_busy() {
	"$PY" -S - "$1" <<-'PY'
		import socket, sys
		s = socket.socket()
		s.settimeout(1)
		try:
		    s.connect(("127.0.0.1", int(sys.argv[1])))
		except OSError:
		    sys.exit(1)
		sys.exit(0)
	PY
}

wait_for() { # SECONDS CMD...: run CMD every 0.1 s until it succeeds
	local limit=$1 i
	shift
	for ((i = 0; i < limit * 10; i++)); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

# ---- PostgreSQL ----

pg_running() { [ -f "$PG_BASE/$1/postmaster.pid" ] && pg_as "$PG_BIN/pg_ctl" -D "$PG_BASE/$1" status >/dev/null 2>&1; }

pg_app_sql() { # SERVER SQL...: as role qrh in database app
	local name=$1
	shift
	"$PG_BIN/psql" -X -q -A -t -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$(pg_port "$name")" -U qrh -d app "$@"
}

schema() {
	pg_psql primary -c "create role qrh login superuser" -c "create database app owner qrh" >/dev/null || return 1
	PGOPTIONS='-c client_min_messages=warning' pg_app_sql primary <<-'SQL'
		create table orders (id serial primary key, customer text not null,
		                     amount numeric(10,2) not null, created_at timestamptz not null default now());
		insert into orders (customer, amount, created_at)
		  select 'customer-' || (i % 97), (i % 500) + 0.99, now() - make_interval(days => i % 400)
		  from generate_series(1, 1000) as i;
		create table rpo_marker (id bigserial primary key, at timestamptz not null);
		create table heartbeat (region text primary key, at timestamptz not null);
	SQL
}

pg_create() {
	[ -n "$PG_BIN" ] && [ -x "$PG_BIN/initdb" ] || die "no PostgreSQL server binaries: apt-get install postgresql (or make deps)"
	pg_setup || return 1
	say "creating PostgreSQL primary :$PRIMARY_PORT and replica :$REPLICA_PORT"
	pg_start_primary primary "$PRIMARY_PORT" || return 1
	schema || return 1
	pg_start_replica replica primary "$REPLICA_PORT"
}

pg_up() {
	if [ ! -f "$PG_BASE/primary/PG_VERSION" ]; then
		rm -rf "$PG_BASE/primary" "$PG_BASE/replica"
		pg_create || die "PostgreSQL did not start (logs in $PG_BASE)"
		return
	fi
	local name
	for name in primary replica; do
		[ -f "$PG_BASE/$name/PG_VERSION" ] || continue
		pg_running "$name" || pg_ctl_start "$name" || die "$name did not start (log: $PG_BASE/$name.log)"
	done
}

role() { # SERVER: primary, standby or down
	local r
	r=$(pg_psql "$1" -c "select pg_is_in_recovery()" 2>/dev/null) || { echo down; return; }
	[ "$r" = t ] && echo standby || echo primary
}

streaming() {
	[ "$(pg_psql replica -c "select count(*) from pg_stat_wal_receiver where status = 'streaming'" 2>/dev/null)" = 1 ]
}

# ---- the writer, the applications, the front door ----

writer_up() {
	local bin=${QRH_BUILD:-$SRC/build}/tests/pg_writer
	pid_alive "$DIR/run/writer.pid" pg_writer && return 0
	[ -x "$bin" ] || die "the marker writer $bin is not built: make $(realpath --relative-to="$SRC" "$bin" 2>/dev/null || echo build/tests/pg_writer)"
	: >>"$DIR/run/acks"
	[ "$(id -u)" -ne 0 ] || chown "$RUNAS:" "$DIR/run/acks"
	"${LAUNCH[@]}" "$bin" "host=127.0.0.1 port=$PRIMARY_PORT dbname=app user=qrh connect_timeout=2" \
		"$DIR/run/acks" "$WRITER_INTERVAL_MS" </dev/null >>"$DIR/run/writer.log" 2>&1 &
	echo $! >"$DIR/run/writer.pid"
}

app_up() { # NAME REGION APP_PORT DB_PORT
	pid_alive "$HTTP_DIR/$1.pid" httpd.py && return 0
	http_start_app "$1" "$2" 127.0.0.1 "$3" --heartbeat --fault-file "$DIR/faults/$1.json" \
		--dsn "host=127.0.0.1 port=$4 dbname=app user=qrh" ||
		die "the $2 application did not start: $(tail -n 3 "$HTTP_DIR/$1.err")"
}

frontdoor_up() {
	pid_alive "$HTTP_DIR/frontdoor.pid" frontdoor.py && return 0
	http_start_prog frontdoor "$SRC/sandbox/frontdoor.py" 127.0.0.1 "$FRONTDOOR_PORT" \
		--primary "http://127.0.0.1:$PRIMARY_APP_PORT" --secondary "http://127.0.0.1:$DR_APP_PORT" \
		--interval "$CHECK_INTERVAL" --threshold "$CHECK_THRESHOLD" --ttl "$DNS_TTL" ||
		die "the front door did not start: $(tail -n 3 "$HTTP_DIR/frontdoor.err")"
}

velero_up() {
	if [ ! -f "$DIR/velero/state.json" ]; then
		velero_sim_init "$DIR/velero" || die "the Velero simulator could not set up $DIR/velero"
	fi
	velero_config
}

# The simulator's settings: the sandbox's restore time, and the outcome a
# fault asks for.
velero_config() {
	local outcome=
	[ -s "$DIR/faults/velero-outcome" ] && outcome=$(cat "$DIR/faults/velero-outcome")
	"$PY" -S - "$DIR/velero/config.json" "$VELERO_DURATION" "$outcome" <<-'PY'
		import json, sys
		doc = {"duration": float(sys.argv[2])}
		if sys.argv[3]:
		    doc["outcome"] = sys.argv[3]
		with open(sys.argv[1], "w") as f:
		    json.dump(doc, f)
	PY
}

# ---- what the runbooks call ----

wrappers() {
	local runas="" tool
	[ "$(id -u)" -ne 0 ] || runas="runuser -u $RUNAS --"
	for tool in pg_ctl pg_basebackup; do
		cat >"$DIR/bin/$tool.new" <<-SH
			#!/bin/sh
			# $tool of the sandbox's PostgreSQL, as the servers' user
			cd /
			exec $runas $PG_BIN/$tool "\$@"
		SH
		chmod 755 "$DIR/bin/$tool.new" && mv -f "$DIR/bin/$tool.new" "$DIR/bin/$tool"
	done
	cat >"$DIR/bin/velero.new" <<-SH
		#!/bin/sh
		# the Velero simulator with the sandbox's state (see velero --help)
		VELERO_SIM_DIR='$DIR/velero' exec $PY -S '$SRC/sandbox/velero/velero' "\$@"
	SH
	chmod 755 "$DIR/bin/velero.new" && mv -f "$DIR/bin/velero.new" "$DIR/bin/velero"
}

env_file() {
	cat >"$DIR/env.new" <<-ENV
		SANDBOX_DIR=$DIR
		PGHOST=127.0.0.1
		PRIMARY_PORT=$PRIMARY_PORT
		REPLICA_PORT=$REPLICA_PORT
		PGDATABASE=app
		PGUSER=qrh
		PRIMARY_DATA=$DIR/pg/primary
		REPLICA_DATA=$DIR/pg/replica
		ACK_FILE=$DIR/run/acks
		PG_CTL=$DIR/bin/pg_ctl
		PG_BASEBACKUP=$DIR/bin/pg_basebackup
		PRIMARY_URL=http://127.0.0.1:$PRIMARY_APP_PORT
		DR_URL=http://127.0.0.1:$DR_APP_PORT
		FRONTDOOR_URL=http://127.0.0.1:$FRONTDOOR_PORT
		VELERO=$DIR/bin/velero
		RESTORED_DIR=$DIR/velero/cluster
	ENV
	mv -f "$DIR/env.new" "$DIR/env"
}

frontdoor_answer() {
	curl -fsS --max-time 2 "http://127.0.0.1:$FRONTDOOR_PORT/_frontdoor" 2>/dev/null |
		"$PY" -S -c 'import json, sys; print(json.load(sys.stdin)["answer"])' 2>/dev/null
}

primary_served() {
	curl -fsS --max-time 2 "http://127.0.0.1:$FRONTDOOR_PORT/healthz" 2>/dev/null | grep -q 'region=primary status=ok'
}

# ---- commands ----

# What the servers need and a fresh machine may lack: said before anything
# starts, not as a health check that times out a minute later.
requirements() {
	[ -x "$PY" ] || command -v "$PY" >/dev/null || die "python3 is not installed (make deps installs what the sandbox needs)"
	"$PY" -c 'import psycopg2' 2>/dev/null ||
		die "the application servers need python3-psycopg2 (make deps installs what the sandbox needs)"
}

cmd_up() {
	requirements
	setup
	wrappers
	env_file
	pg_up
	if [ "$(role primary)" != primary ] || [ "$(role replica)" != standby ]; then
		die "the primary is $(role primary) and the replica $(role replica): a drill changed the roles and did not switch back; qrh sandbox reset starts over"
	fi
	writer_up
	app_up primary-app primary "$PRIMARY_APP_PORT" "$PRIMARY_PORT"
	app_up dr-app dr "$DR_APP_PORT" "$REPLICA_PORT"
	frontdoor_up
	velero_up
	wait_for 60 streaming || die "the replica does not stream (log: $PG_BASE/replica.log)"
	wait_for 60 primary_served || die "the front door does not serve the primary application: $(curl -sS --max-time 2 "http://127.0.0.1:$FRONTDOOR_PORT/healthz" 2>&1)"
	say "up in $DIR: primary :$PRIMARY_PORT, replica :$REPLICA_PORT, apps :$PRIMARY_APP_PORT (primary) :$DR_APP_PORT (dr), front door :$FRONTDOOR_PORT"
}

cmd_down() {
	[ -d "$DIR" ] || { say "nothing in $DIR"; return 0; }
	setup
	local name port
	for name in frontdoor dr-app primary-app; do
		[ -f "$HTTP_DIR/$name.pid" ] && http_stop "$name"
	done
	stop_pid "$DIR/run/writer.pid" pg_writer
	for name in primary replica; do
		[ -f "$PG_BASE/$name/PG_VERSION" ] && pg_stop "$name" fast
		pg_running "$name" && pg_stop "$name" immediate
	done
	for port in "$PRIMARY_PORT" "$REPLICA_PORT" "$PRIMARY_APP_PORT" "$DR_APP_PORT" "$FRONTDOOR_PORT"; do
		wait_for 30 eval "! port_busy $port" || die "port $port is still in use"
	done
	if [ "${1:-}" = --wipe ]; then
		rm -rf "$DIR"
		say "down; $DIR removed"
	else
		say "down (state kept in $DIR)"
	fi
}

cmd_status() {
	[ -f "$DIR/sandbox.conf" ] || { say "no sandbox in $DIR (qrh sandbox up)"; return 3; }
	load_conf
	runas_setup
	libs
	local bad=0 up=0 r line
	row() { printf '%-10s %-8s %s\n' "$1" "$2" "$3"; }
	for name in primary replica; do
		local port=$PRIMARY_PORT
		[ $name = replica ] && port=$REPLICA_PORT
		if pg_running "$name"; then
			r=$(role "$name")
			row "$name" up ":$port $r"
			up=$((up + 1))
			[ "$name:$r" = primary:primary ] || [ "$name:$r" = replica:standby ] || bad=1
		else
			row "$name" down ":$port"
			bad=1
		fi
	done
	if pid_alive "$DIR/run/writer.pid" pg_writer; then
		row writer up "pid $(cat "$DIR/run/writer.pid"), $(wc -l <"$DIR/run/acks") acknowledged writes"
		up=$((up + 1))
	else
		row writer down ""
		bad=1
	fi
	for name in primary-app dr-app frontdoor; do
		if pid_alive "$HTTP_DIR/$name.pid" .py; then
			line=$(http_url "$name")
			[ $name = frontdoor ] && line="$line answer=$(frontdoor_answer)"
			[ $name != frontdoor ] && line="$line $(curl -sS --max-time 2 "$(http_url "$name")/healthz" 2>&1 | head -n 1)"
			row "$name" up "$line"
			up=$((up + 1))
		else
			row "$name" down ""
			bad=1
		fi
	done
	row velero "-" "simulator, state $DIR/velero, restores take ${VELERO_DURATION}s"
	if [ -s "$DIR/faults/active" ]; then
		row faults "-" "$(tr '\n' ' ' <"$DIR/faults/active")"
	fi
	[ $up -eq 0 ] && return 3
	return $bad
}

# ---- faults ----

fault_apply_one() { # NAME VALUE
	case $1 in
	replica-lag)
		pg_psql replica -c "alter system set recovery_min_apply_delay = '$2'" -c "select pg_reload_conf()" >/dev/null
		;;
	dr-slow)
		printf '{"ready_delay": %s}\n' "$("$PY" -S -c 'import sys; v = sys.argv[1]; m = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}
u = next((k for k in ("ms", "s", "m", "h") if v.endswith(k)), "s"); print(float(v[: len(v) - len(u)] if v[-1:].isalpha() else v) * m[u])' "$2")" \
			>"$DIR/faults/dr-app.json"
		;;
	velero-outcome)
		printf '%s\n' "$2" >"$DIR/faults/velero-outcome" && velero_config
		;;
	primary-refuses)
		pg_hba_first_nosql primary "host all qrh 127.0.0.1/32 reject # qrh-drill-fault"
		;;
	fail-once) ;; # qrh itself fails the step's first attempt
	*) die "unknown fault '$1'" ;;
	esac
}

# pg_hba changes reloaded by signal: the fault refuses the role the SQL
# would use.
pg_hba_first_nosql() {
	local hba=$PG_BASE/$1/pg_hba.conf
	{ printf '%s\n' "$2"; cat "$hba"; } | pg_as tee "$hba.new" >/dev/null &&
		pg_as mv "$hba.new" "$hba" &&
		pg_as "$PG_BIN/pg_ctl" -D "$PG_BASE/$1" reload >/dev/null
}

fault_clear() {
	local name
	for name in primary replica; do
		pg_running "$name" || continue
		if grep -q 'qrh-drill-fault' "$PG_BASE/$name/pg_hba.conf" 2>/dev/null; then
			grep -v 'qrh-drill-fault' "$PG_BASE/$name/pg_hba.conf" | pg_as tee "$PG_BASE/$name/pg_hba.conf.new" >/dev/null &&
				pg_as mv "$PG_BASE/$name/pg_hba.conf.new" "$PG_BASE/$name/pg_hba.conf" &&
				pg_as "$PG_BIN/pg_ctl" -D "$PG_BASE/$name" reload >/dev/null
		fi
		if [ "$(pg_psql "$name" -c "show recovery_min_apply_delay" 2>/dev/null)" != 0 ]; then
			pg_psql "$name" -c "alter system reset recovery_min_apply_delay" -c "select pg_reload_conf()" >/dev/null 2>&1
		fi
	done
	rm -f "$DIR/faults/dr-app.json" "$DIR/faults/velero-outcome" "$DIR/faults/active"
	[ -d "$DIR/velero" ] && velero_config
	return 0
}

cmd_fault() {
	[ -f "$DIR/sandbox.conf" ] || die "no sandbox in $DIR (qrh sandbox up)"
	setup
	case ${1:-} in
	apply)
		shift
		local spec name value rc=0
		for spec in "$@"; do
			name=${spec%%=*} value=
			[ "$name" = "$spec" ] || value=${spec#*=}
			if fault_apply_one "$name" "$value"; then
				printf '%s\n' "$spec" >>"$DIR/faults/active"
			else
				echo "sandbox: fault $spec could not be applied" >&2
				rc=1
			fi
		done
		return $rc
		;;
	clear) fault_clear ;;
	*) die "fault apply NAME[=VALUE]... | fault clear" ;;
	esac
}

case ${1:-} in
up) cmd_up ;;
down) shift; cmd_down "$@" ;;
reset) cmd_down --wipe && cmd_up ;;
status) cmd_status ;;
env) [ -f "$DIR/env" ] || die "no sandbox in $DIR (qrh sandbox up)"; cat "$DIR/env" ;;
fault) shift; cmd_fault "$@" ;;
*)
	echo "usage: sandbox.sh up | down [--wipe] | reset | status | env | fault apply NAME[=VALUE]... | fault clear" >&2
	exit 2
	;;
esac
