#!/usr/bin/env bash
# Probes under load: N probes sampled at 1 Hz for S seconds while a step
# prints MB megabytes, against the same run without probes (the baseline,
# in the same run of this script). Prints qrh's own CPU (user + system, %
# of one core, from /proc/PID/stat: the probes' processes are not counted),
# the worst lateness of a sample against its schedule, the samples taken
# and skipped, and the journal's probe_samples rows and digests.
#
# Usage: bench/probes.sh [N [S [MB]]]   (defaults 200 60 50)
#   KIND=http (default): each probe GETs a local python3 server (HTTP/1.1,
#     keep-alive, a response in one write, as a real server sends it); run
#     twice: with the probes' default connection reuse, and with reuse: false
#     (a fresh connection every sample, as a step's request has)
#   KIND=command: each probe runs /bin/true (exec, no shell)
# QRH_BIN defaults to ./qrh.
set -eu
cd "$(dirname "$0")/.."
qrh=$(realpath "${QRH_BIN:-./qrh}")
n=${1:-200}
secs=${2:-60}
mb=${3:-50}
kind=${KIND:-http}
work=$(mktemp -d "${TMPDIR:-/tmp}/qrh-bench.XXXXXX")
server=
cleanup() {
	[ -n "$server" ] && kill "$server" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

if [ "$kind" = http ]; then
	port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	# a server that keeps up: a deep accept queue, a thread a request
	python3 - "$port" >/dev/null 2>&1 <<'PY' &
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    wbufsize = -1  # headers and body in one write, flushed per response
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", "9")
        self.end_headers()
        self.wfile.write(b"region=dr")
    def log_message(self, *a):
        pass
class S(ThreadingHTTPServer):
    request_queue_size = 1024
    daemon_threads = True
S(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PY
	server=$!
	sleep 1
fi

# runbook MODE: the printing step, then a wait filling the time; MODE 0:
# no probes, 1: probes, 2: http probes with a fresh connection a sample
runbook() {
	echo "---"
	if [ "$1" != 0 ]; then
		local reuse=
		[ "$1" = 2 ] && reuse=", reuse: false"
		echo "probes:"
		for i in $(seq 1 "$n"); do
			if [ "$kind" = http ]; then
				printf '  - {name: p%d, kind: http, url: "http://127.0.0.1:%s/healthz", every: 1s, ok: status=2xx%s}\n' "$i" "$port" "$reuse"
			else
				printf '  - {name: p%d, kind: command, argv: [/bin/true], every: 1s, ok: exit=0}\n' "$i"
			fi
		done
	fi
	printf -- "---\n# Probes under load\n\n## Print {confirm=no}\n\n"
	printf '```sh\nyes "qrh probes benchmark line: 0123456789 abcdefghijklmnopqrstuvwxyz" | head -c %d\n```\n\n' \
		$((mb * 1000 * 1000))
	printf '## Wait {confirm=no}\n\n```wait {for=%ds}\n```\n' "$secs"
}

# one_run MODE: prints "ticks ticks_per_second start end"
one_run() {
	local db=$work/j$1.db ticks=0 start end
	runbook "$1" >"$work/rb$1.md"
	start=$(date +%s.%N)
	"$qrh" run --plain --quiet-output --yes --journal "$db" "$work/rb$1.md" >/dev/null 2>"$work/err$1" &
	local pid=$!
	# qrh's own ticks, read until it exits (the last reading is at most
	# 0.2 s before the end)
	while [ -r "/proc/$pid/stat" ]; do
		t=$(awk '{ print $14 + $15 }' "/proc/$pid/stat" 2>/dev/null) && ticks=${t:-$ticks}
		sleep 0.2
	done
	wait "$pid" || { echo "bench: qrh failed: $(cat "$work/err$1")" >&2; exit 1; }
	end=$(date +%s.%N)
	echo "$ticks $(getconf CLK_TCK) $start $end"
}

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
echo "$n $kind probes at 1 Hz for ${secs} s while a step prints ${mb} MB; one core: 100 %"
read -r b_ticks hz b_start b_end <<<"$(one_run 0)"
read -r p_ticks hz p_start p_end <<<"$(one_run 1)"
f_ticks=0 f_start=0 f_end=1
[ "$kind" = http ] && read -r f_ticks hz f_start f_end <<<"$(one_run 2)"
python3 - "$work" "$kind" "$hz" "$n" "$secs" "$b_ticks" "$b_start" "$b_end" \
	"$p_ticks" "$p_start" "$p_end" "$f_ticks" "$f_start" "$f_end" <<'PY'
import sqlite3, sys
work, kind, hz, n, secs = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
runs = [tuple(float(a) for a in sys.argv[6 + 3 * k:9 + 3 * k]) for k in range(3)]
cpu = [t / hz / (e - s) * 100 for t, s, e in runs]
names = ["baseline: the step alone", "with the probes", "with the probes, reuse: false"]
modes = (1, 2) if kind == "http" else (1,)
print(f"{'run':34} {'qrh CPU':>8} {'wall s':>7}")
for k in (0,) + modes:
    print(f"{names[k]:34} {cpu[k]:7.1f}% {runs[k][2] - runs[k][1]:7.1f}")
print(f"probes' own cost: {cpu[1] - cpu[0]:.1f} % of a core", end="")
print(f" ({cpu[2] - cpu[0]:.1f} % with a fresh connection a sample)" if kind == "http" else "")
for k in modes:
    db = sqlite3.connect(f"{work}/j{k}.db")
    print(f"-- {names[k]}")
    samples, late_max, late_avg, skipped = db.execute(
        "select count(*), max(late_ms), avg(late_ms), sum(skipped) from probe_samples").fetchone()
    late99 = db.execute("select late_ms from probe_samples order by late_ms desc limit 1 offset ?",
                        (max(0, samples // 100 - 1),)).fetchone()[0]
    digests = db.execute("select count(*) from events where type = 'probe_digest'").fetchone()[0]
    events = db.execute("select count(*) from events").fetchone()[0]
    print(f"samples {samples} (expected about {n * secs}), skipped {skipped or 0}")
    print(f"lateness against the schedule: worst {late_max} ms, 99th percentile {late99} ms, "
          f"mean {late_avg:.1f} ms")
    print(f"journal: {samples} sample rows, {digests} digests, {events} events in all")
    # the printing step against the rest: which part holds the probes up
    end = db.execute("select wall_ms from events where type = 'step_end' and step = 0").fetchone()[0]
    for label, cond in (("while the step prints", "<="), ("after it", ">")):
        c, worst, avg = db.execute("select count(*), max(late_ms), avg(late_ms) from probe_samples "
                                   f"where wall_ms {cond} ?", (end,)).fetchone()
        if c:
            print(f"  {label}: {c} samples, worst {worst} ms, mean {avg:.1f} ms")
PY
