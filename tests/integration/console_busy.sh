#!/usr/bin/env bash
# qrh-test: alone (it measures time: no other test beside it)
# No executor blocks the loop: the console answers a key (o, which toggles
# the detail pane's view) as fast while 20 SSH sessions run a command at
# once and while an http wait polls a gateway that never answers, as it
# does while a step only sleeps. The median of 5 tries in each phase must
# stay under 100 ms, or under 3 times the quiet phase's median on a
# machine so loaded that even that one is slow.
. "$(dirname "$0")/../lib.sh"
. "$QRH_SRC/tests/tui_lib.sh"
. "$QRH_SRC/tests/servers/sshd.sh"
. "$QRH_SRC/tests/servers/http.sh"
sshd_available || { echo "skip: sshd is not installed"; exit 77; }
trap 'sshd_stop "$T/sshd"; http_stop_all; tui_cleanup' EXIT
sshd_setup "$T/sshd"
sshd_start "$T/sshd" aliases || fail "sshd did not start"
sshd_alias_files 20 "$T/hosts" "$T/known"
http_start gw dr || fail "the gateway did not start"

cat >"$T/busy.md" <<RB
---
title: Busy loop
targets:
  fleet:
    kind: group
    members_file: $T/hosts
    user: $SSHD_USER
    identity: $T/sshd/id_ed25519
    known_hosts: $T/known
  gw: {kind: http, url: "$(http_url gw)"}
---
## Quiet {confirm=no}
\`\`\`sh
sleep 4
\`\`\`
## Fleet {confirm=no}
\`\`\`ssh {target=fleet parallel=20}
sleep 5
\`\`\`
## Gateway {confirm=no on_fail=continue}
\`\`\`http {target=gw url=/hang until=2xx every=1s within=8s connect_timeout=2s request_timeout=30s}
\`\`\`
RB
tui_start lat 100 30 -- "$QRH_BIN" run --journal "$T/j.db" "$T/busy.md"
python3 - "$TUI_SOCK" <<'PY' >"$T/latency" || fail "$(cat "$T/latency")"
import statistics, subprocess, sys, time
sock = sys.argv[1]
def tm(*a):
    return subprocess.run(["tmux", "-L", sock, "-f", "/dev/null", *a],
                          capture_output=True, text=True).stdout
def screen():
    return tm("capture-pane", "-p", "-t", "lat")
def wait(pred, limit=60.0):
    t0 = time.monotonic()
    while not pred(screen()):
        if time.monotonic() - t0 > limit:
            print("timed out:\n" + screen())
            sys.exit(1)
        time.sleep(0.02)
def title(s):
    lines = s.splitlines()
    return "[Output]" if len(lines) > 2 and "[Output]" in lines[2] else "[Instructions]"
def tries(n=5):
    out = []
    for _ in range(n):
        before = title(screen())
        t0 = time.monotonic()
        tm("send-keys", "-t", "lat", "o")
        wait(lambda s: title(s) != before, 10)
        out.append((time.monotonic() - t0) * 1000)
        time.sleep(0.1)
    return out
wait(lambda s: "1. Quiet" in s and "running" in s)
quiet = tries()
wait(lambda s: "2. Fleet" in s and "running" in s)
time.sleep(1.0)  # the sessions are up and their commands run
fleet = tries()
wait(lambda s: "3. Gateway" in s and "running" in s)
time.sleep(1.5)  # a few attempts hang
gw = tries()
print("%.0f %.0f %.0f" % (statistics.median(quiet), statistics.median(fleet), statistics.median(gw)))
PY
read -r quiet fleet gw <"$T/latency"
echo "key o to screen, median of 5: quiet step ${quiet} ms, 20 ssh sessions ${fleet} ms, a hanging http wait ${gw} ms"
limit=$((quiet * 3 > 100 ? quiet * 3 : 100))
[ "$fleet" -lt "$limit" ] || fail "the console took ${fleet} ms to answer during the ssh fan-out (limit $limit)"
[ "$gw" -lt "$limit" ] || fail "the console took ${gw} ms to answer during the http wait (limit $limit)"
# the fan-out did run on 20 hosts at once
assert_eq "$(journal "select count(*) from events where type='task_end' and step=1")" 20
