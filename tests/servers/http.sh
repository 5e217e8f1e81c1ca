# tests/servers/http.sh: HTTP(S) "gateways" on loopback for tests and the
# sandbox. Source it (bash); it needs python3 (tests/servers/httpd.py, whose
# header lists the routes) and, for TLS, openssl.
#
# Every server has a NAME and keeps its files in $HTTP_DIR/NAME.* (HTTP_DIR
# defaults to $T/http when the test library's $T is set, else a new
# temporary directory): .pid, .port, .url, .status (the /healthz status),
# .log (one line per request: CLIENT_PORT METHOD PATH), .err (stderr).
#
#   http_start NAME REGION [ADDR [PORT]]   start a server answering as REGION
#                       on ADDR (default 127.0.0.1), PORT (default: a free
#                       one, chosen by the kernel); waits until it listens
#   http_start_tls NAME REGION CERT KEY [ADDR [PORT]]   the same over HTTPS
#   http_start_app NAME REGION ADDR PORT ARGS...   the same with more
#                       arguments for httpd.py (--dsn: an application server)
#   http_start_prog NAME PROG ADDR PORT ARGS...    another server program of
#                       the same interface (--bind, --port, --port-file,
#                       --access-log), e.g. the sandbox's front door
#   http_stop NAME      stop it (SIGTERM to its pid, then wait); the port
#                       stays recorded, so http_restart can take it again
#   http_restart NAME   start it again, same region, address and port
#   http_stop_all       stop every server started here (for an EXIT trap)
#   http_port NAME      print its port
#   http_url NAME       print its base URL, e.g. http://127.0.0.1:40123
#   http_set_status NAME CODE   /healthz answers CODE from now on ("" : 200)
#   http_requests NAME  print its request log
#   http_count NAME PATH   print how many requests PATH has had
#   http_make_cert DIR NAME [ADDR]   write DIR/NAME.crt and DIR/NAME.key: a
#                       self-signed certificate for the host name NAME (and
#                       ADDR, default 127.0.0.1), which is also its own CA
#   http_wait_for COND_CMD... [timeout in $HTTP_WAIT, default 30 s]: run a
#                       command every 0.1 s until it succeeds; 1 on timeout
#
# Servers are stopped by the pid recorded at start, never by name. They
# run under Debian's /usr/bin/python3 when it exists ($HTTP_PYTHON), with
# standard input and output away from the caller's (a caller reading our
# output must not wait for the server), prefixed by the command in the
# array HTTP_LAUNCH when set (the sandbox: setsid, and a user of its own).

: "${HTTP_DIR:=${T:+$T/http}}"
: "${HTTP_DIR:=$(mktemp -d "${TMPDIR:-/tmp}/qrh-http.XXXXXX")}"
: "${HTTP_WAIT:=30}"
HTTP_SERVERS_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [ -z "${HTTP_PYTHON:-}" ]; then
	HTTP_PYTHON=python3
	[ -x /usr/bin/python3 ] && HTTP_PYTHON=/usr/bin/python3
fi
[ -n "${HTTP_LAUNCH+x}" ] || HTTP_LAUNCH=()
mkdir -p "$HTTP_DIR"

http_wait_for() {
	local i
	for ((i = 0; i < HTTP_WAIT * 10; i++)); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

# _http_launch NAME: (re)starts NAME from its recorded arguments.
_http_launch() {
	local name=$1 f=$HTTP_DIR/$1
	local -a args
	local prog=$HTTP_SERVERS_SRC/httpd.py
	mapfile -t args <"$f.args"
	[ -s "$f.prog" ] && prog=$(cat "$f.prog")
	rm -f "$f.port.new"
	[ "$prog" != "$HTTP_SERVERS_SRC/httpd.py" ] || args+=(--status-file "$f.status")
	"${HTTP_LAUNCH[@]}" "$HTTP_PYTHON" "$prog" "${args[@]}" --port-file "$f.port.new" \
		--access-log "$f.log" </dev/null >>"$f.err" 2>&1 &
	echo $! >"$f.pid"
	if ! http_wait_for test -s "$f.port.new"; then
		echo "http.sh: server $name did not start: $(tail -n 5 "$f.err")" >&2
		return 1
	fi
	mv -f "$f.port.new" "$f.port"
	local scheme=http addr
	grep -qx -- --cert "$f.args" && scheme=https
	addr=$(sed -n '/^--bind$/{n;p;}' "$f.args")
	case $addr in *:*) addr="[$addr]" ;; esac
	echo "$scheme://$addr:$(cat "$f.port")" >"$f.url"
}

# _http_record NAME REGION ADDR PORT [--cert C --key K]
_http_record() {
	local name=$1 region=$2 addr=$3 port=$4
	shift 4
	printf '%s\n' --region "$region" --bind "$addr" --port "$port" "$@" >"$HTTP_DIR/$name.args"
}

http_start() {
	rm -f "$HTTP_DIR/$1.prog"
	_http_record "$1" "$2" "${3:-127.0.0.1}" "${4:-0}" && _http_launch "$1"
}

http_start_app() {
	local name=$1 region=$2 addr=$3 port=$4
	shift 4
	rm -f "$HTTP_DIR/$name.prog"
	_http_record "$name" "$region" "$addr" "$port" "$@" && _http_launch "$name"
}

http_start_prog() {
	local name=$1 prog=$2 addr=$3 port=$4
	shift 4
	printf '%s\n' --bind "$addr" --port "$port" "$@" >"$HTTP_DIR/$name.args"
	printf '%s\n' "$prog" >"$HTTP_DIR/$name.prog"
	_http_launch "$name"
}

http_start_tls() {
	_http_record "$1" "$2" "${5:-127.0.0.1}" "${6:-0}" --cert "$3" --key "$4" &&
		_http_launch "$1"
}

http_stop() {
	local f=$HTTP_DIR/$1 pid
	[ -f "$f.pid" ] || return 0
	pid=$(cat "$f.pid")
	rm -f "$f.pid"
	kill -TERM "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	# not our child (another shell started it): wait for it to go
	http_wait_for http_gone "$pid"
}

# http_gone PID: the process has ended (a zombie nobody reaps has too: an
# init that does not reap is common in containers)
http_gone() {
	kill -0 "$1" 2>/dev/null || return 0
	[ "$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null)" = Z ]
}

http_restart() {
	local f=$HTTP_DIR/$1
	http_stop "$1"
	# take the same port again
	sed -i "/^--port$/{n;s/.*/$(cat "$f.port")/;}" "$f.args"
	_http_launch "$1"
}

http_stop_all() {
	local p
	for p in "$HTTP_DIR"/*.pid; do
		[ -f "$p" ] || continue
		http_stop "$(basename "$p" .pid)"
	done
}

http_port() { cat "$HTTP_DIR/$1.port"; }
http_url() { cat "$HTTP_DIR/$1.url"; }
http_requests() { cat "$HTTP_DIR/$1.log" 2>/dev/null; }

http_set_status() {
	printf '%s\n' "$2" >"$HTTP_DIR/$1.status.new" && mv -f "$HTTP_DIR/$1.status.new" "$HTTP_DIR/$1.status"
}

http_count() {
	awk -v p="$2" '$3 == p { n++ } END { print n + 0 }' "$HTTP_DIR/$1.log" 2>/dev/null || echo 0
}

http_make_cert() {
	local dir=$1 name=$2 addr=${3:-127.0.0.1}
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-keyout "$dir/$name.key" -out "$dir/$name.crt" -days 2 -subj "/CN=$name" \
		-addext "subjectAltName=DNS:$name,IP:$addr" \
		-addext "basicConstraints=critical,CA:TRUE" 2>/dev/null
}
