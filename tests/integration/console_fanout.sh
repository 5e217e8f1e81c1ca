#!/usr/bin/env bash
# A fan-out in the console, at 80x24: each host's output under a header of
# its own (its lines never mixed with another host's), the header saying
# how it ended there (exit status, duration), a host that failed marked so
# while require= lets the step succeed; after q and `qrh resume`, the same
# view read back from the journal.
. "$(dirname "$0")/../lib.sh"
. "$QRH_SRC/tests/tui_lib.sh"

cat >"$T/fleet.md" <<'RB'
---
targets:
  web1: {kind: ssh, host: web1.example.com}
  web2: {kind: ssh, host: web2.example.com}
  web3: {kind: ssh, host: web3.example.com}
  web: {kind: group, members: [web1, web2, web3]}
---
# Fleet

## Drain the web servers {confirm=no}

```sh {target=web parallel=3 require=2}
echo "draining $QRH_TARGET_HOST"
sleep 0.3
echo "drained $QRH_TARGET_HOST"
[ "$QRH_TARGET" != web2 ] || { echo "web2 refused" >&2; exit 3; }
```

## Report

Tell the channel.
RB

# each host's lines follow its own header, in order, and nothing else's
check_hosts() { # NAME
	local shown h
	shown=$(screen "$1" | sed -n 's/^[^│]*│.\(.*\)$/\1/p' | sed 's/ *$//')
	for h in web1 web2 web3; do
		local block
		block=$(printf '%s\n── end\n' "$shown" | sed -n "/^── on $h: /,/^── /p" | sed '$d')
		case "$h" in
		web2) assert_contains "$block" "── on web2: failed, exit 3," ;;
		*) assert_contains "$block" "── on $h: done, exit 0," ;;
		esac
		assert_eq "$(printf '%s\n' "$block" | sed -n 2,3p)" "draining $h.example.com
drained $h.example.com"
	done
	assert_contains "$shown" "web2 refused"
	assert_contains "$shown" "2 of 3 members ok, 1 failed"
}

tui_start f 80 24 -- "$QRH_BIN" run --journal "$T/j.db" "$T/fleet.md"
wait_for f "── on web3: done"
wait_for f "Steps 1/2 done"
check_hosts f
keys f q
dialog f "Quit?"
keys f y
wait_exit f

tui_start g 80 24 -- "$QRH_BIN" resume --journal "$T/j.db"
wait_for g "Steps 1/2 done"
keys g Up
wait_for g "1. Drain the web servers  [Instructions]"
keys g o
wait_for g "── on web1: done"
check_hosts g
keys g q
dialog g "Quit?"
keys g y
wait_exit g
echo "console fan-out: each host under its own header, live and after a resume"
