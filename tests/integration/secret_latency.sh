#!/usr/bin/env bash
# qrh-test: alone (it measures time: no other test beside it)
# With a 36-byte secret, output is released as soon as it arrives: a line
# printed before a 5 s sleep appears in plain output and in the journal
# within 300 ms of the step's start, while the step still sleeps (only
# bytes that may begin the secret are ever held back); the secret itself
# never appears. Times are taken by a watcher that reads qrh's output as
# it comes and polls the journal every 10 ms.
. "$(dirname "$0")/../lib.sh"
command -v python3 >/dev/null || { echo "python3 is not installed"; exit 77; }
db=$T/j.db
secret=0123456789abcdefghijklmnopqrstuvwxyz # 36 bytes
cat >"$T/rb.md" <<'RB'
---
vars:
  TOKEN: {secret: true}
---
## Promote {confirm=no}
```sh
echo "promotion started, waiting for WAL replay"
sleep 5
echo "token was $TOKEN"
```
RB
printf '%s' "$secret" >"$T/token"
chmod 600 "$T/token"
limit=300
[ -n "${QRH_SANITIZE:-}" ] && limit=1500
python3 - "$QRH_BIN" "$db" "$T/rb.md" "$T/token" "$secret" "$limit" <<'PY' || fail "see above"
import os, select, sqlite3, subprocess, sys, time
qrh, db, rb, token, secret, limit = sys.argv[1:7]
limit = int(limit)
p = subprocess.Popen([qrh, "run", "--plain", "--journal", db, "-v", "TOKEN=@" + token, rb],
                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
os.set_blocking(p.stdout.fileno(), False)
out, seen_out, seen_db = b"", None, None
deadline = time.time() + 30
while time.time() < deadline and (seen_out is None or seen_db is None):
    r, _, _ = select.select([p.stdout], [], [], 0.01)
    if r:
        out += p.stdout.read() or b""
        if seen_out is None and b"waiting for WAL replay" in out:
            seen_out = time.time()
    if seen_db is None and os.path.exists(db):
        try:
            c = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=0.05)
            n = c.execute("select count(*) from output_chunks where cast(data as text) like '%WAL replay%'").fetchone()[0]
            c.close()
            if n:
                seen_db = time.time()
        except sqlite3.Error:
            pass
rest, err = p.communicate(timeout=60)
out += rest
c = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
started = c.execute("select min(wall_ms) from events where type='action_start'").fetchone()[0] / 1000.0
ended = c.execute("select max(wall_ms) from events where type='step_end'").fetchone()[0] / 1000.0
leaked = c.execute("select count(*) from output_chunks where instr(cast(data as text), ?) > 0", (secret,)).fetchone()[0]
if p.returncode != 0:
    sys.exit("qrh failed: " + err.decode(errors="replace"))
if seen_out is None or seen_db is None:
    sys.exit("the line never appeared (output %s, journal %s)" % (seen_out, seen_db))
to_out, to_db = (seen_out - started) * 1000, (seen_db - started) * 1000
print("secret latency: the line reached plain output %.0f ms and the journal %.0f ms after the step started; the step ended %.0f ms after" % (to_out, to_db, (ended - started) * 1000))
if seen_out >= ended or seen_db >= ended:
    sys.exit("the line was held back until the step ended")
if to_out >= limit or to_db >= limit:
    sys.exit("over the %d ms limit" % limit)
if secret.encode() in out or leaked:
    sys.exit("the secret was shown or journaled")
if b"token was ***" not in out:
    sys.exit("the secret's line is not masked as expected")
PY
