#!/usr/bin/env bash
# http actions against real HTTP servers on loopback (tests/servers/http.sh):
# a url joined with its target, method/headers/body, JSON and regex checks,
# a secret header kept out of the journal, redirects, the body cap, a
# capture of a response body, and what a failure says.
. "$(dirname "$0")/../lib.sh"
. "$QRH_SRC/tests/servers/http.sh"
trap 'http_stop_all; rm -rf "$T"' EXIT
command -v python3 >/dev/null || { echo "no python3"; exit 77; }

http_start primary primary || fail "primary did not start"
http_start dr dr || fail "dr did not start"
P=$(http_url primary)
D=$(http_url dr)
secret="tok-$$-$RANDOM-secret"

cat >"$T/ok.md" <<RB
---
vars:
  TOKEN:
    secret: true
targets:
  dr-gateway:
    kind: http
    url: $D
---
## Joined with the target {confirm=no}
\`\`\`http {target=dr-gateway url=/healthz contains=region=dr}
\`\`\`
## Method, headers, body, JSON {confirm=no}
\`\`\`http {target=dr-gateway url=/echo method=PUT headers="Content-Type: application/json" headers="Authorization: Bearer \${TOKEN}" json=.method=PUT json=".headers.content-type==application/json" json=.region!=primary}
{"promote": true}
\`\`\`
## A regex and a JSON number {confirm=no}
\`\`\`http {url=$D/health.json matches="\"status\": *\"ok\"" json=.lag<1 json=.checks[0].ok}
\`\`\`
## A redirect followed {confirm=no}
\`\`\`http {url=$P/redirect?to=$D/healthz follow=true contains=region=dr}
\`\`\`
## Cut at max_bytes {confirm=no}
\`\`\`http {url=$D/big?bytes=300000 max_bytes=4KiB}
\`\`\`
## Capture a body {confirm=no capture=REGION_LINE}
\`\`\`http {url=$D/healthz}
\`\`\`
## Use it {confirm=no}
\`\`\`exec
echo "captured: \${REGION_LINE}"
\`\`\`
RB
run "$QRH_BIN" check "$T/ok.md"
assert_rc 0 "qrh check: $out"
run "$QRH_BIN" run --plain --journal "$T/j.db" -v "TOKEN=$secret" "$T/ok.md"
assert_rc 0 "$out"
assert_contains "$out" "[1] | region=dr status=ok"
assert_contains "$out" "[1] ! HTTP/1.1 200 OK in "
assert_contains "$out" "(http): GET $D/healthz (target dr-gateway)"
assert_contains "$out" '"method": "PUT"'
assert_contains "$out" '"body": "{\"promote\": true}'
assert_contains "$out" '"authorization": "Bearer ***"'
assert_contains "$out" "[5] ! body cut at 4096 bytes (max_bytes)"
assert_contains "$out" "200 in"
assert_contains "$out" "[7] | captured: region=dr status=ok"
assert_not_contains "$out" "$secret"
for f in "$T"/j.db*; do
	LC_ALL=C grep -aqF "$secret" "$f" && fail "the secret is in $f"
done
cmd=$(sqlite3 "$T/j.db" "select json_extract(payload,'\$.command') from events where type='action_start' and step=1")
assert_contains "$cmd" "header Authorization: Bearer ***"
assert_contains "$cmd" "json .method=PUT"
[ "$(http_count dr /echo)" -eq 1 ] || fail "expected one request to /echo: $(http_requests dr)"
# every request came on a connection of its own
ports=$(awk '{ print $1 }' "$HTTP_DIR/dr.log" | sort | uniq -d)
[ -z "$ports" ] || fail "a connection was reused: $ports"

# failures say what failed, and show the body
cat >"$T/bad.md" <<RB
## Wrong region {confirm=no on_fail=continue}
\`\`\`http {url=$P/healthz contains=region=dr}
\`\`\`
## Not JSON {confirm=no on_fail=continue}
\`\`\`http {url=$P/healthz json=.region=dr}
\`\`\`
## JSON field {confirm=no on_fail=continue}
\`\`\`http {url=$P/health.json json=.region=dr}
\`\`\`
## A redirect not followed {confirm=no on_fail=continue}
\`\`\`http {url=$P/redirect?to=/healthz}
\`\`\`
## Expect a status {confirm=no on_fail=continue}
\`\`\`http {url=$P/status/404 expect=200,204}
\`\`\`
## Nobody there {confirm=no on_fail=continue}
\`\`\`http {url=http://127.0.0.1:1/ connect_timeout=2s}
\`\`\`
RB
run "$QRH_BIN" run --plain --journal "$T/j2.db" "$T/bad.md"
assert_rc 1
summaries=$(sqlite3 "$T/j2.db" "select json_extract(payload,'\$.status') || ': ' || json_extract(payload,'\$.summary') from events where type='action_end' order by seq")
assert_contains "$summaries" "failed: 200, but the body does not contain 'region=dr'"
assert_contains "$summaries" "failed: 200, but the body is not JSON"
assert_contains "$summaries" "failed: 200, but json .region=dr failed: '.region' is \"primary\""
assert_contains "$summaries" "failed: 302, not 2xx"
assert_contains "$summaries" "failed: 404, not 200,204"
assert_contains "$summaries" "failed: no response: Failed to connect to 127.0.0.1 port 1"
assert_contains "$out" "[1] | region=primary status=ok"
assert_contains "$out" "[4] ! redirect to $P/healthz not followed (follow=true follows it)"
assert_contains "$out" "[5] | status 404 from primary"
echo "http_basics: ok"
