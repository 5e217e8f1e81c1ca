#!/usr/bin/env bash
# The console under a flood of output, inside tmux:
#  1. a step emitting 200 MB in the console (qrh run in an 80x24 tmux pane;
#     the step's duration from the journal, and the time until the screen
#     says the run finished), against the same stream cat-ed in a bare
#     tmux pane (time until cat finished) and against cat > /dev/null;
#  2. qrh's peak RSS (VmHWM) after the flood;
#  3. keystroke-to-screen latency: o (output/instructions) sent with
#     tmux send-keys, capture-pane polled until the pane title changes;
#     the median of 11 tries while a step floods output without end,
#     and the same with the console idle for comparison.
# Goals: >= 10x faster than the bare pane, RSS < 64 MiB, latency < 100 ms.
# Usage: bench/console.sh [MB]   (QRH_BIN defaults to ./qrh)
set -eu
cd "$(dirname "$0")/.."
qrh=$(realpath "${QRH_BIN:-./qrh}")
mb=${1:-200}
bytes=$((mb * 1000 * 1000))
command -v tmux >/dev/null || { echo "bench/console.sh: needs tmux" >&2; exit 1; }
work=$(mktemp -d "${TMPDIR:-/tmp}/qrh-bench.XXXXXX")
sock=qrh-bench-$$
tm() { tmux -L "$sock" -f /dev/null "$@"; }
trap 'tm kill-server 2>/dev/null || true; rm -f "${TMUX_TMPDIR:-/tmp}/tmux-$(id -u)/$sock"; rm -rf "$work"' EXIT

line='qrh output benchmark line: 0123456789 abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ'
yes "$line" | head -c "$bytes" >"$work/stream"
printf -- '---\ntitle: Console flood\n---\n## Flood {confirm=no}\n```exec\ncat %s\n```\n' \
	"$work/stream" >"$work/flood.md"
printf -- '---\ntitle: Console latency\n---\n## Idle\nNothing runs.\n## Endless {confirm=no}\n```sh\nwhile :; do cat %s; done\n```\n' \
	"$work/stream" >"$work/endless.md"

export LANG=C.UTF-8
# a session for the whole run: the server never exits between the others
tm new-session -d -s keep "exec sleep 3600"
term=tmux-256color
infocmp $term >/dev/null 2>&1 || term=screen

# 1. cat > /dev/null, best of 3
best() { sort -n | head -n1; }
for i in 1 2 3; do
	s=$(date +%s%N)
	cat "$work/stream" >/dev/null
	echo $(($(date +%s%N) - s))
done | best >"$work/devnull.ns"

# 2. cat in a bare tmux pane, until cat finished
cat >"$work/bare.sh" <<EOF
s=\$(date +%s%N); cat "$work/stream"; e=\$(date +%s%N)
echo \$((e - s)) >"$work/bare.ns.tmp"; mv "$work/bare.ns.tmp" "$work/bare.ns"
exec sleep 600
EOF
tm new-session -d -x 80 -y 24 -s bare "TERM=$term exec bash $work/bare.sh"
until [ -f "$work/bare.ns" ]; do sleep 0.05; done
tm kill-session -t bare

# 3. the console in a tmux pane: flood, then the screen says finished
cat >"$work/console.sh" <<EOF
export TERM=$term
echo \$(date +%s%N) >"$work/console.start"
exec "$qrh" run --journal "$work/j.db" "$work/flood.md"
EOF
tm new-session -d -x 80 -y 24 -s console "exec bash $work/console.sh"
until tm capture-pane -p -t console | grep -q "run finished"; do sleep 0.01; done
shown=$(date +%s%N)
pid=$(tm display -p -t console '#{pane_pid}')
hwm=$(awk '/VmHWM/ { print $2 }' /proc/"$pid"/status)
step_ms=$(sqlite3 "$work/j.db" "select json_extract(payload, '\$.duration_ms') from events where type='step_end'")
out_bytes=$(sqlite3 "$work/j.db" "select json_extract(payload, '\$.stdout_bytes') from events where type='step_end'")
[ "$out_bytes" = "$bytes" ] || { echo "bench/console.sh: the step saw $out_bytes bytes, not $bytes" >&2; exit 1; }
console_ns=$((shown - $(cat "$work/console.start")))
tm send-keys -t console q
tm kill-session -t console

# 4. latency of o, idle and while a step floods the console without end
cat >"$work/latency.sh" <<EOF
export TERM=$term
exec "$qrh" run --journal "$work/j2.db" "$work/endless.md"
EOF
python3 - "$sock" "$work" <<'PY' >"$work/latency"
import statistics, subprocess, sys, time
sock, work = sys.argv[1], sys.argv[2]
def tm(*a):
    return subprocess.run(["tmux", "-L", sock, "-f", "/dev/null", *a],
                          capture_output=True, text=True).stdout
def screen():
    return tm("capture-pane", "-p", "-t", "lat")
def wait(pred, limit=30.0):
    t0 = time.monotonic()
    while not pred(screen()):
        if time.monotonic() - t0 > limit:
            sys.exit("timed out: " + screen())
def title(s):
    return "[Output]" if "[Output]" in s.splitlines()[2] else "[Instructions]"
def tries(n=11):
    out = []
    for _ in range(n):
        before = title(screen())
        t0 = time.monotonic()
        tm("send-keys", "-t", "lat", "o")
        wait(lambda s: title(s) != before)
        out.append((time.monotonic() - t0) * 1000)
        time.sleep(0.1)
    return out
tm("new-session", "-d", "-x", "80", "-y", "24", "-s", "lat", "exec bash " + work + "/latency.sh")
wait(lambda s: "1. Idle  [Instructions]" in s)
idle = tries()
# skip the manual step: the endless one then starts by itself
tm("send-keys", "-t", "lat", "s")
wait(lambda s: "why?" in s)
tm("send-keys", "-t", "lat", "-l", "bench")
tm("send-keys", "-t", "lat", "Enter")
wait(lambda s: "2. Endless  [Output]  running" in s)
time.sleep(1.0)  # well into the flood
flood = tries()
pid = tm("display", "-p", "-t", "lat", "#{pane_pid}").strip()
hwm = [l.split()[1] for l in open(f"/proc/{pid}/status") if l.startswith("VmHWM")][0]
tm("send-keys", "-t", "lat", "x")
wait(lambda s: "Cancel the running step?" in s)
tm("send-keys", "-t", "lat", "y")
q = "select json_extract(payload, '$.stdout_bytes') from events where type='step_end'"
t0 = time.monotonic()
while True:
    got = subprocess.run(["sqlite3", work + "/j2.db", q], capture_output=True, text=True).stdout.strip()
    if got or time.monotonic() - t0 > 30:
        break
    time.sleep(0.1)
print(statistics.median(idle), max(idle), statistics.median(flood), max(flood), hwm, got or "?")
PY
read -r idle_med idle_max flood_med flood_max flood_hwm flood_bytes <"$work/latency"

devnull_ns=$(cat "$work/devnull.ns")
bare_ns=$(cat "$work/bare.ns")
python3 - "$mb" "$devnull_ns" "$bare_ns" "$step_ms" "$console_ns" "$hwm" \
	"$idle_med" "$idle_max" "$flood_med" "$flood_max" "$flood_hwm" "$flood_bytes" <<'PY'
import sys
mb = float(sys.argv[1])
devnull, bare = int(sys.argv[2]) / 1e9, int(sys.argv[3]) / 1e9
step, shown = int(sys.argv[4]) / 1e3, int(sys.argv[5]) / 1e9
hwm = int(sys.argv[6]) / 1024
idle_med, idle_max, flood_med, flood_max = map(float, sys.argv[7:11])
flood_hwm = int(sys.argv[11]) / 1024
print(f"{'what (' + str(int(mb)) + ' MB, 80x24 tmux pane)':46} {'seconds':>8} {'MB/s':>8}")
print(f"{'cat > /dev/null (best of 3)':46} {devnull:8.3f} {mb / devnull:8.0f}")
print(f"{'cat in a bare tmux pane':46} {bare:8.3f} {mb / bare:8.0f}")
print(f"{'qrh console: the step (journal duration)':46} {step:8.3f} {mb / step:8.0f}")
print(f"{'qrh console: start until run finished shown':46} {shown:8.3f} {mb / shown:8.0f}")
print(f"qrh console vs bare tmux pane: {bare / step:.1f}x faster (goal >= 10x)")
print(f"qrh peak RSS (VmHWM): {hwm:.1f} MiB after {int(mb)} MB; "
      f"{flood_hwm:.1f} MiB during the endless flood ({int(sys.argv[12]) / 1e9:.1f} GB by its end) (goal < 64 MiB)")
print(f"key o to screen, median of 11: idle {idle_med:.0f} ms (max {idle_max:.0f}), "
      f"during the flood {flood_med:.0f} ms (max {flood_max:.0f}) (goal < 100 ms)")
PY
