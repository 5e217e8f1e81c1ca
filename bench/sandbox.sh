#!/usr/bin/env bash
# The DR sandbox and the failover drill, timed: `qrh sandbox up` from cold
# (a wiped state directory: two initdb, a base backup, five servers), with
# a bare `initdb` + `pg_ctl start` of one cluster measured in the same run
# as the floor; then the whole stage-dr-failover drill in plain mode
# (crash, failover, promotion, RTO and RPO, rebuild, switch back): wall
# time and its RTO, against the front door's detection floor (health-check
# interval x failure threshold). Runs as root or not; ports are free ones.
# Usage: bench/sandbox.sh [DRILLS]   (default 3; QRH_BIN defaults to ./qrh)
set -eu
cd "$(dirname "$0")/.."
qrh=${QRH_BIN:-./qrh}
n=${1:-3}
work=$(mktemp -d "${TMPDIR:-/tmp}/qrh-bench.XXXXXX")
chmod 755 "$work"
export QRH_SANDBOX_DIR=$work/sb
trap '"$qrh" sandbox down >/dev/null 2>&1; rm -rf "$work"' EXIT
for k in PRIMARY_PORT REPLICA_PORT PRIMARY_APP_PORT DR_APP_PORT FRONTDOOR_PORT; do
	echo "$k=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
done >"$work/conf"
now() { date +%s%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", (b - a) / 1e9 }'; }

# floor: one bare cluster, initdb and start, as the sandbox's user would
pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n1)
as=()
if [ "$(id -u)" -eq 0 ]; then
	id -u qrh-sandbox >/dev/null 2>&1 || useradd --system --user-group --no-create-home \
		--home-dir /nonexistent --shell /usr/sbin/nologin qrh-sandbox
	as=(setpriv --reuid=qrh-sandbox --regid=qrh-sandbox --init-groups --)
	mkdir -p "$work/bare" && chown qrh-sandbox: "$work/bare"
fi
bport=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
t0=$(now)
"${as[@]}" "$pgbin/initdb" -D "$work/bare/data" -A trust -U postgres >/dev/null
"${as[@]}" "$pgbin/pg_ctl" -D "$work/bare/data" -o "-p $bport -k /tmp -c listen_addresses=127.0.0.1" -l "$work/bare/log" -w start >/dev/null
t1=$(now)
"${as[@]}" "$pgbin/pg_ctl" -D "$work/bare/data" -m immediate -w stop >/dev/null
bare=$(secs "$t0" "$t1")

t0=$(now)
QRH_SANDBOX_CONF=$work/conf "$qrh" sandbox up >/dev/null
t1=$(now)
cold=$(secs "$t0" "$t1")
t0=$(now)
"$qrh" sandbox up >/dev/null
t1=$(now)
warm=$(secs "$t0" "$t1")
. "$QRH_SANDBOX_DIR/sandbox.conf"
printf 'sandbox up from cold: %ss (one bare initdb + start: %ss); up again with everything running: %ss\n' \
	"$cold" "$bare" "$warm"

printf 'failover drill in plain mode, %d runs (front door detection floor %ss x %s = %ss):\n' \
	"$n" "$CHECK_INTERVAL" "$CHECK_THRESHOLD" "$(awk -v a="$CHECK_INTERVAL" -v b="$CHECK_THRESHOLD" 'BEGIN { print a * b }')"
for i in $(seq 1 "$n"); do
	t0=$(now)
	out=$("$qrh" drill --plain --yes --journal "$work/j.db" -v REASON=bench --typed crash=FAIL \
		--typed promote=PROMOTE --typed rebuild=REBUILD --typed stop-dr=SWITCHBACK \
		runbooks/library/stage-dr-failover.md 2>&1) || { echo "$out" | tail -20; exit 1; }
	t1=$(now)
	rto=$(echo "$out" | sed -n 's/^  RTO \(.*\) of .*/\1/p')
	rpo=$(echo "$out" | sed -n 's/^  RPO \(.*\) of .*(\(.*\))$/\1, \2/p')
	printf '  run %d: wall %ss, RTO %s, RPO %s\n' "$i" "$(secs "$t0" "$t1")" "$rto" "$rpo"
done
