#!/usr/bin/env bash
# A DNS change is seen on the next attempt of an http wait.
#
# The name svc.test is resolved by the system resolver (getaddrinfo, which
# libcurl's threaded resolver calls) from a hosts file this test controls:
# qrh runs with cwrap's nss_wrapper preloaded (NSS_WRAPPER_HOSTS), which
# answers host lookups from that file and re-reads it whenever it changes.
# Two gateways listen on the same port of two loopback addresses: the
# primary on 127.0.0.2, DR on 127.0.0.3. The wait polls
# http://svc.test:PORT/healthz until it answers region=dr; while it polls,
# svc.test points at the primary (region=primary: not yet). The test then
# moves the name to DR, as a DNS failover does, and checks that the very
# next attempt went to DR: qrh keeps no DNS answer and no connection from
# one attempt to the next.
. "$(dirname "$0")/../lib.sh"
. "$QRH_SRC/tests/servers/http.sh"
trap 'http_stop_all; rm -rf "$T"' EXIT
command -v python3 >/dev/null || { echo "no python3"; exit 77; }
nssw=
for d in /usr/lib/x86_64-linux-gnu /usr/lib/aarch64-linux-gnu /usr/lib64 /usr/lib; do
	[ -f "$d/libnss_wrapper.so" ] && nssw=$d/libnss_wrapper.so && break
done
[ -n "$nssw" ] || { echo "no libnss_wrapper.so (package libnss-wrapper)"; exit 77; }

http_start primary primary 127.0.0.2 || fail "primary did not start"
port=$(http_port primary)
http_start dr dr 127.0.0.3 "$port" || fail "dr did not start on 127.0.0.3:$port"

printf '127.0.0.2 svc.test\n' >"$T/hosts"
cat >"$T/dns.md" <<RB
## Wait for DR behind the name {confirm=no}
\`\`\`http {url=http://svc.test:$port/healthz until=2xx contains=region=dr every=300ms within=30s}
\`\`\`
RB
# An ASan build loads its runtime itself: nss_wrapper must neither trip its
# check of the load order nor dlopen libc with RTLD_DEEPBIND.
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
	LD_PRELOAD="$nssw" NSS_WRAPPER_HOSTS="$T/hosts" NSS_WRAPPER_DISABLE_DEEPBIND=1 \
	"$QRH_BIN" run --plain --journal "$T/j.db" "$T/dns.md" >"$T/out" 2>"$T/err" &
qrh=$!

http_wait_for eval '[ "$(http_count primary /healthz)" -ge 3 ]' ||
	fail "no attempts reached the primary: $(cat "$T/out" "$T/err")"
printf '127.0.0.3 svc.test\n' >"$T/hosts.new"
mv -f "$T/hosts.new" "$T/hosts"
before=$(http_count primary /healthz)
wait $qrh
rc=$?
out=$(cat "$T/out")
[ $rc -eq 0 ] || fail "qrh exited $rc: $out $(cat "$T/err")"

after=$(http_count primary /healthz)
to_dr=$(http_count dr /healthz)
summary=$(sqlite3 "$T/j.db" "select json_extract(payload,'\$.summary') from events where type='action_end'")
[[ $summary =~ ^200\ at\ attempt\ ([0-9]+), ]] || fail "unexpected summary: $summary"
attempts=${BASH_REMATCH[1]}
[ "$to_dr" -eq 1 ] || fail "expected one request to DR, got $to_dr"
# attempts never overlap: one that had resolved the name before the change
# may reach the primary after the count above; the one after it must not
[ "$after" -le $((before + 1)) ] || fail "the primary got $((after - before)) requests after the change"
[ "$attempts" -eq $((after + 1)) ] || fail "$attempts attempts, $after to the primary and 1 to DR"
assert_contains "$out" "attempt 1: HTTP/1.1 200 OK in"
assert_contains "$out" "from 127.0.0.2 port $port: 200, but the body does not contain 'region=dr'"
assert_contains "$out" "attempt $attempts: HTTP/1.1 200 OK in"
grep -q "attempt $attempts: .* from 127.0.0.3 port $port: ok" "$T/out" || fail "the last attempt was not answered by 127.0.0.3: $out"
ports=$(awk '{ print $1 }' "$HTTP_DIR/primary.log" | sort | uniq -d)
[ -z "$ports" ] || fail "a connection to the primary was reused: $ports"
echo "http_dns: the name moved after $before attempts; attempt $attempts reached DR"
