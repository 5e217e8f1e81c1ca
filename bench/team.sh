#!/usr/bin/env bash
# Team mode's cost: N trivial steps in plain mode with the durable journal,
# without --team and with --team to a local PostgreSQL 15 (started here by
# tests/servers/pg.sh), alternated in the same run, REPS times each
# (default 7; the median and the best are shown); the run's own time is
# the journal's run_end duration (what the operator waits for), the wall
# time includes the end's wait for the last events.
# Then the shipping rate: a run made while the database was unreachable
# (a closed port) is shipped by `qrh team sync`: events per second.
# Usage: bench/team.sh [N]   (QRH_BIN defaults to ./build/qrh)
#   CENTRAL_DIR=DIR: the central PostgreSQL's data there (e.g. /dev/shm),
#   the journal still in TMPDIR: the central database is another machine's
#   in team mode, and on one shared disk its writes and the journal's
#   fsyncs wait for each other, which is not the link's cost
set -eu
cd "$(dirname "$0")/.."
QRH_SRC=$PWD
qrh=${QRH_BIN:-./build/qrh}
n=${1:-500}
. tests/servers/pg.sh
work=$(mktemp -d "${TMPDIR:-/tmp}/qrh-bench.XXXXXX")
[ -z "${CENTRAL_DIR:-}" ] || PG_BASE=$(mktemp -d "$CENTRAL_DIR/qrh-pg.XXXXXX")
echo "journal in $(df --output=fstype "$work" | tail -1) $work; central PostgreSQL in $(df --output=fstype "${PG_BASE:-$work}" | tail -1)"
trap 'pg_cleanup; rm -rf "$work"' EXIT
[ -n "$PG_BIN" ] || { echo "no PostgreSQL server binaries" >&2; exit 1; }
pg_setup
pg_start_primary b
TEAM="host=127.0.0.1 port=$(pg_port b) user=postgres dbname=postgres"
"$qrh" team init "$TEAM" >/dev/null

for i in $(seq 1 "$n"); do
	printf '## Step %d {confirm=no}\n\n```exec\n/bin/true\n```\n\n' "$i"
done >"$work/steps.md"

# one run: "RUN_MS WALL_MS"
once() {
	rm -f "$work"/j.db*
	local t0 t1
	t0=$(date +%s%N)
	"$qrh" run --plain --journal "$work/j.db" "$@" "$work/steps.md" >/dev/null 2>&1
	t1=$(date +%s%N)
	echo "$(sqlite3 "$work/j.db" "select json_extract(payload, '\$.duration_ms') from events where type = 'run_end'") $(((t1 - t0) / 1000000))"
}

reps=${REPS:-7}
: >"$work/plain" && : >"$work/team"
for _ in $(seq 1 "$reps"); do
	once >>"$work/plain"
	QRH_TEAM_DRAIN=60 once --team "$TEAM" >>"$work/team"
done
# stat FILE: "median_run best_run median_wall" over the lines "RUN WALL"
stat() {
	sort -n "$1" | awk '{ r[NR] = $1; w[NR] = $2 } END {
		m = int((NR + 1) / 2); print r[m], r[1], w[m] }'
}
read -r bp bb bw < <(stat "$work/plain")
read -r tp tb tw < <(stat "$work/team")
per() { awk -v t="$1" -v n="$n" 'BEGIN { printf "%.3f", t / n }'; }
printf '%-30s %10s %12s %10s %9s\n' "what ($n steps, $reps runs)" "median ms" "ms per step" "wall ms" "best ms"
printf '%-30s %10d %12s %10d %9d\n' "qrh run --plain" "$bp" "$(per "$bp")" "$bw" "$bb"
printf '%-30s %10d %12s %10d %9d\n' "qrh run --plain --team" "$tp" "$(per "$tp")" "$tw" "$tb"
awk -v a="$bp" -v b="$tp" -v c="$bb" -v d="$tb" 'BEGIN {
	printf "--team costs %+.1f %% per step (medians; best against best %+.1f %%)\n",
		(b - a) * 100 / a, (d - c) * 100 / c }'

# shipping rate: a backlog left while unreachable, shipped by team sync
rm -f "$work"/j.db*
QRH_TEAM_DRAIN=0 "$qrh" run --plain --journal "$work/j.db" \
	--team "host=127.0.0.1 port=$(pg_free_port) user=postgres connect_timeout=1" \
	"$work/steps.md" >/dev/null 2>&1 || true
ev=$(sqlite3 "$work/j.db" "select count(*) from events")
t0=$(date +%s%N)
"$qrh" team sync --journal "$work/j.db" "$TEAM" >/dev/null
t1=$(date +%s%N)
central=$(pg_psql b -c "select count(*) from qrh.events e join qrh.runs r on r.uuid = e.run_uuid where r.local_id = 1 and r.started_at = (select max(started_at) from qrh.runs)")
ms=$(((t1 - t0) / 1000000))
echo "team sync: $ev events ($central central) in $ms ms: $(awk -v e="$ev" -v m="$ms" 'BEGIN { printf "%.0f", e * 1000 / m }') events/s"
