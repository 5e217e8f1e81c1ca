#!/usr/bin/env bash
# Output throughput: one step emitting 200 MB through qrh plain mode (the
# journal keeps head, tail, byte count and SHA-256; the terminal side goes
# to /dev/null) against `cat > /dev/null` of the same stream, in the same
# run; and qrh's peak RSS.
# Usage: bench/output.sh [MB]   (QRH_BIN defaults to ./qrh)
set -eu
cd "$(dirname "$0")/.."
qrh=$(realpath "${QRH_BIN:-./qrh}")
mb=${1:-200}
bytes=$((mb * 1000 * 1000))
work=$(mktemp -d "${TMPDIR:-/tmp}/qrh-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
line='qrh output benchmark line: 0123456789 abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ'
yes "$line" | head -c "$bytes" >"$work/stream"
printf '## Flood {confirm=no}\n\n```exec\ncat %s\n```\n' "$work/stream" >"$work/flood.md"

python3 - "$qrh" "$work" "$bytes" <<'PY'
import os, resource, subprocess, sys, time
qrh, work, size = sys.argv[1], sys.argv[2], int(sys.argv[3])
def timed(argv, **kw):
    best = None
    for _ in range(3):
        for f in os.listdir(work):
            if f.startswith("j.db"):
                os.unlink(os.path.join(work, f))
        t0 = time.monotonic()
        subprocess.run(argv, check=True, **kw)
        t = time.monotonic() - t0
        best = t if best is None or t < best else best
    return best
null = subprocess.DEVNULL
cat = timed(["cat", os.path.join(work, "stream")], stdout=null)
q = timed([qrh, "run", "--plain", "--journal", os.path.join(work, "j.db"),
           os.path.join(work, "flood.md")], stdout=null)
quiet = timed([qrh, "run", "--plain", "--quiet-output", "--journal",
               os.path.join(work, "j.db"), os.path.join(work, "flood.md")], stdout=null)
rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
mb = size / 1e6
print(f"{'what (' + str(int(mb)) + ' MB, best of 3)':40} {'seconds':>8} {'MB/s':>8}")
print(f"{'cat > /dev/null':40} {cat:8.3f} {mb / cat:8.0f}")
print(f"{'qrh run --plain > /dev/null':40} {q:8.3f} {mb / q:8.0f}")
print(f"{'qrh run --plain --quiet-output':40} {quiet:8.3f} {mb / quiet:8.0f}")
print(f"peak RSS of the largest process (qrh): {rss / 1024:.1f} MiB")
PY
