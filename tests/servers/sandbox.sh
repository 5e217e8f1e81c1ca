# sandbox.sh: a private DR sandbox (sandbox/sandbox.sh) for a test. Source
# it after tests/lib.sh (bash): it skips the test (exit 77) when Python,
# PostgreSQL or the marker writer is missing, puts the sandbox in
# $T/sb (QRH_SANDBOX_DIR, exported) with free loopback ports in $T/conf
# (give it as QRH_SANDBOX_CONF to the first up), and takes the sandbox
# down when the test exits. SANDBOX_PORTS lists the ports.
[ -x /usr/bin/python3 ] || { echo "skip: python3 is needed"; exit 77; }
ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || { echo "skip: PostgreSQL is not installed"; exit 77; }
[ -x "$QRH_BUILD/tests/pg_writer" ] || { echo "skip: build/tests/pg_writer is not built"; exit 77; }

# As root the servers run as qrh-sandbox: they must reach the sandbox.
chmod 755 "$T"
export QRH_SANDBOX_DIR=$T/sb
SANDBOX_PORTS=()
for k in PRIMARY_PORT REPLICA_PORT PRIMARY_APP_PORT DR_APP_PORT FRONTDOOR_PORT; do
	p=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	SANDBOX_PORTS+=("$p")
	echo "$k=$p" >>"$T/conf"
done
# the EXIT trap in force (lib.sh's or tui_lib.sh's) runs after the down
sandbox_prev_trap=$(trap -p EXIT | sed "s/^trap -- '\(.*\)' EXIT$/\1/")
trap '"$QRH_BIN" sandbox down >/dev/null 2>&1; eval "$sandbox_prev_trap"' EXIT
