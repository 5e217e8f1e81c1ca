#!/usr/bin/env bash
# A step printing 1 GiB: qrh's peak RSS stays under 64 MiB, the journal
# keeps head and tail with a truncation marker, and the recorded byte count
# and SHA-256 equal those of the same stream measured by wc -c and sha256sum.
. "$(dirname "$0")/../lib.sh"
bytes=${QRH_BIG_BYTES:-1073741824}
if [ -n "${QRH_SANITIZE:-}" ]; then
	bytes=$((64 * 1024 * 1024)) # sanitizer builds are slow and their shadow memory is not ours
fi
cat >"$T/big.md" <<RB
## Flood {confirm=no}
\`\`\`sh
yes 'qrh big output test line 0123456789 abcdefghijklmnopqrstuvwxyz' | head -c $bytes
\`\`\`
RB
yes 'qrh big output test line 0123456789 abcdefghijklmnopqrstuvwxyz' | head -c "$bytes" >"$T/expected" &
gen=$!
python3 - "$QRH_BIN" "$T/j.db" "$T/big.md" >"$T/rss" <<'PY'
import resource, subprocess, sys
qrh, db, rb = sys.argv[1:4]
rc = subprocess.call([qrh, "run", "--plain", "--journal", db, rb],
                     stdout=subprocess.DEVNULL)
print(rc, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
PY
wait $gen
read -r rc rss_kb <"$T/rss"
[ "$rc" -eq 0 ] || fail "qrh run exited $rc"
want_bytes=$(wc -c <"$T/expected")
want_sha=$(sha256sum "$T/expected" | cut -d' ' -f1)
rm -f "$T/expected"
# the stream's record is in the end event of the task that wrote it
q() { sqlite3 "$T/j.db" "select json_extract(payload,'\$.$1') from events where type='action_end'"; }
assert_eq "$(q stdout.bytes)" "$want_bytes"
assert_eq "$(q stdout.sha256)" "$want_sha"
assert_eq "$(q stdout.truncated)" "1"
stored=$(sqlite3 "$T/j.db" "select sum(length(data)) from output_chunks")
[ "$stored" -le $((5 * 1024 * 1024)) ] || fail "stored $stored bytes of output, expected head and tail only"
if [ -z "${QRH_SANITIZE:-}" ]; then
	[ "$rss_kb" -lt $((64 * 1024)) ] || fail "peak RSS $rss_kb KiB, over 64 MiB"
fi
if "$QRH_BIN" help show >/dev/null 2>&1; then
	"$QRH_BIN" show 1 --output --journal "$T/j.db" >"$T/show" 2>&1 || fail "qrh show failed"
	grep -qi "truncat" "$T/show" || fail "no truncation marker in qrh show --output"
fi
echo "big output: $want_bytes bytes, peak RSS $rss_kb KiB"
