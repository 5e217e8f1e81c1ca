#!/usr/bin/env bash
# qrh-test: alone (it measures time: no other test beside it)
# The console's probe pane and clocks, on a monochrome terminal (NO_COLOR):
# the RTO clock runs when the primary's probe turns FAIL, counts down what
# is left, turns OVER (reversed) past a 5 s budget and NOT MET once the
# primary is back; a wait on a probe counts down; six probes fit 80x24
# with states, values, ages and sparklines (golden screens at 80x24 and,
# after a resize, 120x40, with clocks and ages normalised); eight probes
# page by themselves ("Probes 1-6/8", then "7-8/8"); TERM=vt100 reads the
# same words.
. "$(dirname "$0")/../lib.sh"
. "$QRH_SRC/tests/tui_lib.sh"

FLAG=$T/primary-up
: >"$FLAG"
# replica lag, one value a sample once lag-go exists (the first until
# then: a slow machine never reaches the fail mark before the test is
# ready), the last one past the fail mark
python3 - "$T/lag" <<'EOF'
import json, sys
lags = [1, 2, 4, 3, 6, 9, 14, 22, 35, 50, 42, 31, 18, 12, 9, 7, 5, 4, 3, 400]
with open(sys.argv[1], "w") as f:
    for i, lag in enumerate(lags):
        f.write(json.dumps({"lag_seconds": lag, "window_ms": 2500, "rows_lost": 7}) + "\n")
EOF

cat >"$T/pane.md" <<EOF
---
vars:
  DIR: "$T"
probes:
  - name: primary-health
    kind: command
    script: test -e "\$DIR/primary-up" && echo 200 || { echo 503; exit 1; }
    every: 100ms
    timeout: 5s
    ok: exit=0
  - name: dr-health
    kind: command
    script: echo 200
    every: 1s
  - name: replica-lag
    kind: command
    script: |
      n=\$(cat "\$DIR/n" 2>/dev/null || echo 0)
      [ -e "\$DIR/lag-go" ] && echo \$((n + 1)) >"\$DIR/n"
      sed -n "\$((n + 1))p" "\$DIR/lag" | grep . || tail -n 1 "\$DIR/lag"
    every: 700ms
    warn: lag_seconds>30s
    fail: lag_seconds>5m
    value: lag_seconds
  - name: restore
    kind: command
    argv: [echo, '{"phase": "WaitingForPluginOperationsPartiallyFailed"}']
    every: 1s
    warn: phase~PartiallyFailed
    value: phase
  - name: unreachable
    kind: command
    script: sleep 5
    every: 1s
    timeout: 200ms
  - name: disk
    kind: command
    script: echo 42
    every: 1s
    warn: line>80
objectives:
  rto: 5s
  rpo: 5m
  rto_start: probe:primary-health:fail
  rto_stop: probe:primary-health:ok
  rpo_from: probe:replica-lag
---
# Probe pane

## Watch the lag {confirm=no}

Until the replica falls too far behind.

\`\`\`wait {until=replica-lag:fail within=5m}
\`\`\`

## Note it {confirm=no}

\`\`\`sh
echo lag noted
\`\`\`
EOF

# clocks and sample ages vary from run to run
normalize_probes() {
	normalize | sed -E -e 's/head N:HASH:[0-9a-f]+/head N:HASH/g' \
		-e 's/[0-9]{2}:[0-9]{2}(\.[0-9])?/MM:SS/g' \
		-e 's/([^0-9.])[0-9]{1,2}[smh]( |$)/\1Ns\2/g'
}

golden_probes() { # NAME FILE
	local file=$TUI_GOLDEN/$2
	screen "$1" | normalize_probes >"$T/.golden"
	if [ -n "${QRH_GOLDEN_UPDATE:-}" ]; then
		cp "$T/.golden" "$file"
		return 0
	fi
	[ -f "$file" ] || fail "no golden file $file (QRH_GOLDEN_UPDATE=1 writes it)"
	diff -u "$file" "$T/.golden" >&2 || fail "screen differs from golden/$2"
}

# Is TEXT on the screen drawn reversed (SGR 7 in effect)?
reversed() { # NAME TEXT
	tm capture-pane -p -e -t "$1" | python3 -c '
import re, sys
text, rev, out = sys.argv[1], False, []
for line in sys.stdin:
    for part in re.split(r"(\x1b\[[0-9;]*m)", line):
        m = re.fullmatch(r"\x1b\[([0-9;]*)m", part)
        if not m:
            if rev:
                out.append(part)
            continue
        for code in (m.group(1) or "0").split(";"):
            if code in ("0", "27"):
                rev = False
            elif code == "7":
                rev = True
    out.append("\n")
sys.exit(0 if text in "".join(out) else 1)' "$2"
}

export TUI_DB=$T/j.db
tui_start p 80 24 NO_COLOR=1 -- "$QRH_BIN" run --journal "$TUI_DB" pane.md
wait_for p "primary-he ok"
wait_for p "RTO 00:05 not started"
wait_for p "wait replica-lag:fail"
assert_screen p "restore"
assert_screen p "unreachabl ??"

# the primary goes down: the clock runs, then passes its budget
rm -f "$FLAG"
wait_for p "primary-he FAIL 503"
wait_for p "of 00:05, 00:0"
assert_screen p "left"
wait_for p "OVER by"
reversed p "RTO" || tui_timeout p "the clock past its budget is not reversed"
reversed p "FAIL" || tui_timeout p "a failing probe is not reversed"
reversed p "notes 0" && tui_timeout p "the check of reversed text sees everything reversed"
: >"$FLAG"
wait_for p "of 00:05: NOT MET"
wait_for p "primary-he ok   200"
: >"$T/lag-go"

# the lag runs past its fail mark: the wait ends, the run with it
TUI_TIMEOUT=60 wait_for p "run finished: ok" # 20 samples 700 ms apart
wait_for p "RPO 2.50 s of 05:00, 7 rows lost: met"
golden_probes p console_probes_80x24
tm resize-window -t p -x 120 -y 40
wait_for p "primary-health ok"
golden_probes p console_probes_120x40
keys p q
wait_exit p

# more probes than rows: they page by themselves
{
	echo "---"
	echo "probes:"
	for i in 1 2 3 4 5 6 7 8; do
		printf '  - {name: probe-%d, kind: command, script: echo %d, every: 1s}\n' "$i" "$i"
	done
	printf -- "---\n# Eight probes\n\n## Look\n"
} >"$T/eight.md"
export TUI_DB=$T/j8.db
tui_start e 80 24 NO_COLOR=1 -- "$QRH_BIN" run --journal "$TUI_DB" eight.md
wait_for e "Probes 1-6/8"
wait_for e " probe-6 ok   6"
assert_not_screen e " probe-7 ok   7"
wait_for e "Probes 7-8/8"
assert_screen e " probe-8 ok   8"
assert_not_screen e " probe-1 ok   1"
keys e q
dialog e "Quit?"
keys e y
wait_exit e

# TERM=vt100, no colour: the same words
: >"$FLAG"
rm -f "$T/n" "$T/lag-go"
export TUI_DB=$T/jv.db
tui_start v 80 24 NO_COLOR=1 TERM=vt100 -- "$QRH_BIN" run --journal "$TUI_DB" pane.md
wait_for v "primary-he ok"
rm -f "$FLAG"
wait_for v "primary-he FAIL"
wait_for v "of 00:05, 00:0"
wait_for v "left"
echo "console_probes: ok"
