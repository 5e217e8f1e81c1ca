#!/usr/bin/env bash
# A DR failover watched by http waits, against real servers on loopback:
#   1. the primary gateway's health flips to 503 while a wait for 5xx polls
#      it (the health checks must see the outage);
#   2. the DR gateway is down (its server stopped) while a wait polls it
#      until 2xx with region=dr; the test starts the server again after
#      several failed attempts, and the wait measures the gap it saw.
# Nothing here assumes speed: the test waits for attempts it can see.
. "$(dirname "$0")/../lib.sh"
. "$QRH_SRC/tests/servers/http.sh"
trap 'http_stop_all; rm -rf "$T"' EXIT
command -v python3 >/dev/null || { echo "no python3"; exit 77; }

http_start primary primary || fail "primary did not start"
http_start dr dr || fail "dr did not start"
P=$(http_url primary)
D=$(http_url dr)
http_stop dr # the DR region is not serving yet

cat >"$T/failover.md" <<RB
---
targets:
  dr-gateway:
    kind: http
    url: $D
---
## The health checks flip {confirm=no}
\`\`\`http {url=$P/healthz until=5xx every=200ms within=2m}
\`\`\`
## First 2xx from the DR region {confirm=no}
\`\`\`http {target=dr-gateway url=/healthz until=2xx contains=region=dr every=200ms within=2m}
\`\`\`
RB
"$QRH_BIN" run --plain --journal "$T/j.db" "$T/failover.md" >"$T/out" 2>"$T/err" &
qrh=$!

# the primary answers 200 a few times, then fails
http_wait_for eval '[ "$(http_count primary /healthz)" -ge 3 ]' || fail "no attempts on the primary: $(cat "$T/out")"
http_set_status primary 503
# the DR wait has begun and failed at least 3 times: bring DR up
http_wait_for grep -q '\[2\] ! attempt 3: no response' "$T/out" || fail "no failed attempts on DR: $(cat "$T/out")"
up_requested=$(date +%s%N)
http_restart dr || fail "dr did not start again"
wait $qrh
rc=$?
out=$(cat "$T/out")
[ $rc -eq 0 ] || fail "qrh exited $rc: $out $(cat "$T/err")"

s1=$(sqlite3 "$T/j.db" "select json_extract(payload,'\$.summary') from events where type='action_end' and step=0")
s2=$(sqlite3 "$T/j.db" "select json_extract(payload,'\$.summary') from events where type='action_end' and step=1")
assert_contains "$s1" "503 at attempt"
[[ $s1 =~ \;\ not\ 5xx\ from\ 0\.[0-4][0-9]\ s ]] || fail "the first attempt on the primary should not have met 5xx: $s1"
assert_contains "$out" "[1] ! attempt 1: HTTP/1.1 200 OK"
assert_contains "$out" "[2] ! attempt 1: no response: Failed to connect"
assert_contains "$out" "[2] | region=dr status=ok"

# "200 at attempt N, U s after the start; not 2xx from D s (G s)"
re='^200 at attempt ([0-9]+), ([0-9.]+) s after the start; not 2xx from ([0-9.]+) s \(([0-9.]+) s\)$'
[[ $s2 =~ $re ]] || fail "unexpected summary: $s2"
attempts=${BASH_REMATCH[1]} up=${BASH_REMATCH[2]} down=${BASH_REMATCH[3]} gap=${BASH_REMATCH[4]}
[ "$attempts" -ge 4 ] || fail "DR answered at attempt $attempts, expected 4 or later"
awk -v d="$down" 'BEGIN { exit !(d < 0.5) }' || fail "the first DR attempt should have failed at once, not at $down s"
# at least three failed attempts, 200 ms apart, before DR came up
awk -v g="$gap" 'BEGIN { exit !(g >= 0.4) }' || fail "gap $gap s, expected at least 0.4 s"
[ "$(http_count dr /healthz)" -eq 1 ] || fail "expected exactly one request to reach DR: $(http_requests dr)"
lines=$(grep -c '^\[2\] ! attempt' "$T/out")
[ "$lines" -eq "$attempts" ] || fail "$lines attempt lines for $attempts attempts"
echo "http_failover: DR up after $attempts attempts, outage seen ${gap} s (first 2xx at ${up} s)"
