# The run the evidence tests export: sourced after tests/lib.sh.
#
# evidence_runbook FILE   a drill with a variable, a secret, an RTO budget,
#                         a step that prints (the secret too), one that
#                         fails twice and is passed by, one that sleeps, one
#                         on a target then fanned out over a group of three
#                         (one member fails, require=2), a typed step and a
#                         manual one
# evidence_first DB RB    alice runs it until the typed step stops plain
#                         mode (exit 2): the run stays open, in progress
# evidence_second DB RB   bob resumes it to the end: a handover
# The secret's value is $EVIDENCE_SECRET; the runs leave their heads in
# $T/heads (--head-file).
EVIDENCE_SECRET=s3cr3t-Value-42

evidence_runbook() {
	cat >"$1" <<'RB'
---
vars:
  TICKET:
    prompt: Change ticket
  TOKEN:
    secret: true
objectives:
  rto: 10m
targets:
  web1: {kind: ssh, host: web1.invalid, user: ops}
  web2: {kind: ssh, host: web2.invalid, user: ops}
  web3: {kind: ssh, host: web3.invalid, user: ops}
  fleet: {kind: group, members: [web1, web2, web3]}
---
# Evidence drill | <b>bold</b>

## Check the service {confirm=no}

```sh
echo "checking for $TICKET"; echo "token $TOKEN"; echo "a warning" >&2
```

## Flaky probe {retries=1 backoff=100ms on_fail=continue}

```sh
echo trying; exit 3
```

## Settle {confirm=no}

```sh
sleep 0.4; echo settled
```

## Restart the fleet {confirm=no}

```sh {target=web1}
echo "draining $QRH_TARGET_HOST"
```

```sh {target=fleet parallel=1 require=2}
[ "$QRH_TARGET" != web2 ] || { echo "web2 refused" >&2; exit 9; }
echo "restarted $QRH_TARGET"
```

## Promote {confirm=typed:PROMOTE}

```sh
echo promoted
```

## Tell the channel

Post in #incident that the drill is over.
RB
}

evidence_first() {
	TOKEN=$EVIDENCE_SECRET "$QRH_BIN" run --plain --yes --operator alice --journal "$1" \
		-v TICKET=CHG-1234 -v TOKEN=@env:TOKEN --head-file "$T/heads" "$2" \
		>"$T/first.out" 2>"$T/first.err"
}

evidence_second() {
	TOKEN=$EVIDENCE_SECRET "$QRH_BIN" resume --plain --yes --operator bob --journal "$1" \
		-v TOKEN=@env:TOKEN --typed promote=PROMOTE --head-file "$T/heads" \
		>"$T/second.out" 2>"$T/second.err"
}
