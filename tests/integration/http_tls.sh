#!/usr/bin/env bash
# TLS is verified: a self-signed certificate is refused; the same
# certificate given as cacert= is accepted for its own name (reached with
# resolve=) and refused for another name; insecure=true (on the action or
# its target) accepts it, and the journal records that verification was
# off. Real HTTPS server on loopback, certificate made by openssl here.
. "$(dirname "$0")/../lib.sh"
. "$QRH_SRC/tests/servers/http.sh"
trap 'http_stop_all; rm -rf "$T"' EXIT
command -v python3 >/dev/null || { echo "no python3"; exit 77; }
command -v openssl >/dev/null || { echo "no openssl"; exit 77; }

http_make_cert "$T" svc.test || fail "openssl could not make a certificate"
http_start_tls dr dr "$T/svc.test.crt" "$T/svc.test.key" || fail "the https server did not start"
U=$(http_url dr)
port=$(http_port dr)
case $U in https://127.0.0.1:*) ;; *) fail "unexpected url $U" ;; esac

cat >"$T/tls.md" <<RB
---
targets:
  lax:
    kind: http
    url: $U
    insecure: true
---
## Self-signed: refused {confirm=no on_fail=continue}
\`\`\`http {url=$U/healthz}
\`\`\`
## Its own CA, its own name {confirm=no on_fail=continue}
\`\`\`http {url=https://svc.test:$port/healthz cacert=$T/svc.test.crt resolve=svc.test:$port:127.0.0.1 contains=region=dr}
\`\`\`
## Its own CA, another name {confirm=no on_fail=continue}
\`\`\`http {url=https://other.test:$port/healthz cacert=$T/svc.test.crt resolve=other.test:$port:127.0.0.1}
\`\`\`
## Not verified, on the action {confirm=no on_fail=continue}
\`\`\`http {url=$U/healthz insecure=true}
\`\`\`
## Not verified, on the target {confirm=no on_fail=continue}
\`\`\`http {target=lax url=/healthz}
\`\`\`
RB
run "$QRH_BIN" run --plain --journal "$T/j.db" "$T/tls.md"
assert_rc 1
status() {
	sqlite3 "$T/j.db" "select json_extract(payload,'\$.status') || ': ' || json_extract(payload,'\$.summary') from events where type='action_end' and step=$1"
}
command_of() {
	sqlite3 "$T/j.db" "select json_extract(payload,'\$.command') from events where type='action_start' and step=$1"
}
assert_contains "$(status 0)" "failed: no response: SSL certificate problem: self-signed certificate"
assert_eq "$(status 1)" "ok: 200 in $(sed -n 's/^\[2\] ! HTTP\/1.1 200 OK in \([0-9]*\) ms.*/\1/p' <<<"$out") ms"
assert_contains "$(status 2)" "failed: no response: SSL: no alternative certificate subject name matches target host name 'other.test'"
assert_contains "$(status 3)" "ok: 200 in"
assert_contains "$(status 4)" "ok: 200 in"
assert_contains "$(command_of 1)" "TLS verified with the CA file $T/svc.test.crt"
assert_contains "$(command_of 1)" "resolve svc.test:$port:127.0.0.1"
for s in 3 4; do
	assert_contains "$(command_of $s)" "TLS certificate NOT verified (insecure=true)"
done
assert_not_contains "$(command_of 0)" "NOT verified"
assert_contains "$out" "[4] ! TLS certificates are not verified for this request (insecure=true)"
assert_contains "$out" "[5] ! TLS certificates are not verified for this request (insecure=true)"
assert_contains "$out" "[2] | region=dr status=ok"
# only the requests that were let through reached the application
[ "$(http_count dr /healthz)" -eq 3 ] || fail "expected 3 requests served: $(http_requests dr)"
echo "http_tls: ok"
