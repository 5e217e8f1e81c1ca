#!/usr/bin/env bash
# Dual control in the console (tmux): Enter on a dual_control step asks for
# an approval and says who is awaited and how to approve; the operator's
# own approval is refused and the console says so; another uid (nobody)
# approves, the console says who, and the step runs once confirmed. Needs
# root to act as nobody.
. "$(dirname "$0")/../lib.sh"
. "$QRH_SRC/tests/tui_lib.sh"

[ "$(id -u)" -eq 0 ] || { echo "skip: acting as another uid needs root"; exit 77; }
chmod 711 "$T"
mkdir -m 755 "$T/appr"
export QRH_APPROVE_DIR=$T/appr
cat >"$T/rb.md" <<'RB'
---
title: Dual console
---
## Delete the old data {dual_control=true}
```sh
echo deleted by two
```
RB
db=$T/j.db
tui_start c 200 30 QRH_APPROVE_DIR="$T/appr" -- "$QRH_BIN" run --journal "$db" rb.md
wait_for c "Steps 0/1 done"
keys c Enter
wait_for c "awaits an approval by another OS user than root (uid 0)"
uuid=$(sqlite3 "$db" "select uuid from team_runs")
assert_contains "$last_screen" "qrh approve $uuid delete-the-old-data"
run "$QRH_BIN" approve --yes "$uuid" delete-the-old-data
assert_rc 1 "the operator's own approval"
wait_for c "refused: root (uid 0): the same identity as the operator cannot approve"
run setpriv --reuid=65534 --regid=65534 --clear-groups "$QRH_BIN" approve --yes "$uuid" 1
assert_rc 0 "nobody's approval: $err"
wait_for c "approved by nobody (uid 65534) (local): Enter to run it"
keys c Enter
dialog c "Run step 1?"
keys c y
wait_for c "Steps 1/1 done"
wait_for c "deleted by two"
keys c q
wait_exit c
assert_eq "$(sqlite3 "$db" "select group_concat(type, ',') from events where type like 'approval%' or type = 'step_confirm'")" \
	"approval_request,approval_refused,approval,step_confirm"
echo "ok"
