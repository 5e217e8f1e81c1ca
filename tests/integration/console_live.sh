#!/usr/bin/env bash
# qrh-test: alone (it measures time: no other test beside it)
# What a running action says about itself, in the console at 120x40 (at 80 columns they are cut
# to leave the step's title room): an http
# wait against a gateway that answers 503 shows its attempts and the last
# status in the step's title while it polls (and they change), the step's
# title itself still readable; once the gateway answers 200 the step is
# done and the live values are gone.
. "$(dirname "$0")/../lib.sh"
. "$QRH_SRC/tests/tui_lib.sh"
. "$QRH_SRC/tests/servers/http.sh"
trap 'http_stop_all; tui_cleanup' EXIT
http_start gw dr || fail "the gateway did not start"
http_set_status gw 503
cat >"$T/live.md" <<RB
---
title: Live values
targets:
  gw: {kind: http, url: "$(http_url gw)"}
---
## Wait for the gateway {confirm=no}
\`\`\`http {target=gw url=/healthz until=2xx every=1s within=60s}
\`\`\`
## Report

Tell the channel.
RB
tui_start live 120 40 -- "$QRH_BIN" run --journal "$T/j.db" "$T/live.md"
wait_for live "1. Wait for the" # the title keeps its first columns
wait_for live "running: attempts 1, status 503"
wait_for live "running: attempts 2, status 503"
http_set_status gw ""
wait_for live "1. Wait for the gateway  [Result]  done"
assert_not_screen live "attempts"
assert_eq "$(journal "select json_extract(payload,'\$.status') from events where type='step_end'")" "ok"
echo "console live: an http wait's attempts and last status while it polls"
