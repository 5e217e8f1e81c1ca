#!/usr/bin/env bash
# qrh-test: alone (it measures time: no other test beside it)
# notify: a local webhook (python3's HTTP server) receives the run's start,
# each step's end, the failure and the end with the head, as Slack-style
# JSON; a webhook that hangs or refuses changes no step's timing, its
# final failures are journaled and shown, never fatal; the URL is in no
# journal, export or output.
. "$(dirname "$0")/../lib.sh"

for tool in sqlite3 python3; do
	command -v $tool >/dev/null || { echo "$tool is not installed"; exit 77; }
done
servers=()
trap 'for p in "${servers[@]}"; do kill "$p" 2>/dev/null; done; rm -rf "$T"' EXIT

# serve MODE LOG: ok answers 200, hang never answers; prints the port
serve() {
	python3 - "$1" "$2" >"$T/port.$1" <<'PY' &
import http.server, sys, time
mode, log = sys.argv[1], sys.argv[2]
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with open(log, "ab") as f:
            f.write(self.headers.get("Content-Type", "").encode() + b" " + body + b"\n")
        if mode == "hang":
            time.sleep(120)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok")
    def log_message(self, *a):
        pass
http.server.ThreadingHTTPServer.daemon_threads = True
s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
print(s.server_address[1], flush=True)
s.serve_forever()
PY
	servers+=($!)
	for _ in $(seq 100); do
		[ -s "$T/port.$1" ] && break
		sleep 0.1
	done
	[ -s "$T/port.$1" ] || fail "the $1 webhook server did not start"
	cat "$T/port.$1"
}

steps='# Notified drill

## One {confirm=no}

```sh
echo one; echo "hook: $HOOK"
```

## Slow {confirm=no}

```sh
sleep 2.5
```

## Three {on_fail=continue}

```sh
exit 5
```
'
printf '%s' "$steps" >"$T/plain.md"
printf -- '---\nvars:\n  HOOK:\n    secret: true\nnotify:\n  url: ${HOOK}\n  timeout: 1s\n  retries: 1\n  backoff: 100ms\n---\n%s' \
	"$steps" >"$T/notify.md"
"$QRH_BIN" check "$T/notify.md" >/dev/null || fail "the runbook does not check"

# durations_ms DB: each step's duration, then the run's
durations() {
	sqlite3 "$1" "select json_extract(payload, '$.duration_ms') from events
		where type in ('step_end', 'run_end') order by seq" | tr '\n' ' '
}

# same_timing BASE OTHER WHAT: no step and not the run took longer because
# of the webhook (a blocked loop would add a whole timeout, 1 s, or more)
same_timing() {
	python3 - "$1" "$2" "$3" <<'PY' || fail "$3 changed the steps' timing"
import sys
base, other = [list(map(int, a.split())) for a in sys.argv[1:3]]
if len(base) != len(other):
    sys.exit(f"{sys.argv[3]}: {other} against {base}")
for b, o in zip(base, other):
    if o > b + 700:
        sys.exit(f"{sys.argv[3]}: {o} ms where the run without notifications took {b} ms")
PY
}

"$QRH_BIN" run --plain --yes --journal "$T/base.db" "$T/plain.md" >/dev/null 2>&1
base=$(durations "$T/base.db")

# ---- a webhook that answers ----
port=$(serve ok "$T/got")
url="http://127.0.0.1:$port/services/T000/B000/XXXX"
HOOK=$url run "$QRH_BIN" run --plain --yes --journal "$T/ok.db" -v HOOK=@env:HOOK "$T/notify.md"
assert_rc 1
assert_contains "$out" "hook: ***"
same_timing "$base" "$(durations "$T/ok.db")" "a webhook that answers"
head=$(sqlite3 "$T/ok.db" "select id || ':' || head_seq || ':' || head_hash from runs")
python3 - "$T/got" "$head" <<'PY' || fail "the webhook did not get what it should (see above)"
import json, sys
lines = open(sys.argv[1]).read().splitlines()
texts = []
for l in lines:
    ctype, body = l.split(" ", 1)
    if ctype != "application/json":
        sys.exit(f"content type {ctype}")
    texts.append(json.loads(body)["text"])
want = ["started by", "step 1/3 one (One) ok", "step 2/3 slow (Slow) ok",
        "FAILED: step 3/3 three (Three) failed", "run ended: failed", "journal head " + sys.argv[2]]
for w in want:
    if not any(w in t for t in texts):
        sys.exit(f"no message with {w!r} in {texts}")
if len(texts) != 5:
    sys.exit(f"{len(texts)} messages: {texts}")
PY

# qrh export posts the head it exported
HOOK=$url run "$QRH_BIN" export --journal "$T/ok.db" -f json -o "$T/ok.json" --head-notify @env:HOOK
assert_rc 0
tail -n 1 "$T/got" | grep -q "journal head $head " || fail "export --head-notify: $(tail -n 1 "$T/got")"

# ---- a webhook that hangs, one that refuses ----
port=$(serve hang "$T/hung")
HOOK="http://127.0.0.1:$port/hook" run "$QRH_BIN" run --plain --yes --journal "$T/hang.db" -v HOOK=@env:HOOK "$T/notify.md"
assert_rc 1
same_timing "$base" "$(durations "$T/hang.db")" "a webhook that hangs"
assert_contains "$out" "notification not delivered (run_start, 2 attempts): timeout was reached; the run goes on"

closed=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
HOOK="http://127.0.0.1:$closed/hook" run "$QRH_BIN" run --plain --yes --journal "$T/refused.db" -v HOOK=@env:HOOK "$T/notify.md"
assert_rc 1
same_timing "$base" "$(durations "$T/refused.db")" "a webhook that refuses"
assert_contains "$out" "notification not delivered (step_end of one, 2 attempts): couldn't connect to server"
assert_contains "$err" "not delivered after the run ended (so not journaled)"
n=$(sqlite3 "$T/refused.db" "select count(*) from events where type = 'notify_failed'")
[ "$n" -ge 2 ] || fail "only $n notify_failed events journaled"
run "$QRH_BIN" export --journal "$T/refused.db"
assert_contains "$out" '"notifications_failed"'

# the URL is in no journal, export or output (its path is the secret part)
for db in ok hang refused; do
	sqlite3 "$T/$db.db" .dump | grep -q "127.0.0.1:" && fail "the webhook URL is in the $db journal"
	"$QRH_BIN" export --journal "$T/$db.db" -o "$T/bundle-$db" 2>/dev/null
	grep -rq "127.0.0.1:" "$T/bundle-$db" && fail "the webhook URL is in the $db bundle"
done
grep -q "T000/B000" "$T"/*.db 2>/dev/null && fail "the webhook URL is in a journal file"

# a notify url written in the runbook is refused
printf -- '---\nnotify:\n  url: https://hooks.example/x\n---\n%s' "$steps" >"$T/bad.md"
run "$QRH_BIN" check "$T/bad.md"
assert_rc 2
assert_contains "$err" "the notify url must come from a secret variable or the environment"
echo "notify: delivered, hung and refused webhooks checked"
