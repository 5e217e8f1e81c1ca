#!/usr/bin/env bash
# Picking a value when its step comes up, in the console: the velero
# restore runbook against the Velero simulator lists the backups in step 1;
# the console then opens a pick list, nothing else goes on until the
# operator picks, and the pick (typed as its number) is journaled by the
# operator and used by the restore. Plain mode on a terminal lists the
# same choices the same way (tui/pick_line.c).
. "$(dirname "$0")/../lib.sh"
. "$QRH_SRC/tests/tui_lib.sh"
. "$QRH_SRC/tests/servers/velero.sh"
velero_sim_available || { echo "skip: python3 is needed for the velero simulator"; exit 77; }
velero_sim_init "$T/sim"
export VELERO_SIM_DURATION=2
newest=$(velero_sim_backup daily-)
TUI_TIMEOUT=${TUI_TIMEOUT:-30}
tui_start pick 120 40 VELERO_SIM_DIR="$T/sim" VELERO_SIM_DURATION=2 -- \
	"$QRH_BIN" run --journal "$T/j.db" -v VELERO="$VELERO_SIM" -v NAMESPACE=payments \
	-v TARGET_NAMESPACE=payments-drill -v RESTORE_NAME=drill-1 -v RESTORED_DIR="$T/sim/cluster" \
	"$QRH_SRC/runbooks/library/velero-restore.md"
dialog pick "Pick BACKUP (step 1 listed them)"
assert_screen pick "$newest"
# the header says what is true of the objectives: which steps time the RTO
assert_screen pick "RTO 30m: clock not started (steps 2-3)"
assert_not_screen pick "clock not running"
# the list numbers the newest Completed backup first
wait_for pick " 1  $newest"
type_text pick 1
keys pick Enter
wait_for pick "picked: 1"
assert_eq "$(sqlite3 "$T/j.db" "select json_extract(payload,'\$.value') || ' ' || json_extract(payload,'\$.how') || ' ' || actor
	from events where type='capture'")" "$newest picked $(id -un)"
# the restore step comes up with the picked backup in what it will run
keys pick Enter
dialog pick "Run step 2?"
# the dialog wraps the command (marked ↪) wherever the path's length puts
# the edge, a space included: join its lines again and compare without spaces
shown=$(screen pick | sed -n 's/^ *│ \(↪ \)\{0,1\}\(.*[^ ]\) *│$/\2/p' | tr -d '\n ')
case "$shown" in
*"from-backup$newest"*) ;;
*) tui_timeout pick "expected in the run dialog: from-backup $newest" ;;
esac
# the evidence names the pick and who made it
"$QRH_BIN" export --journal "$T/j.db" -f md >"$T/ev.md" 2>/dev/null || fail "export"
grep -qF "$(id -un) picked BACKUP = $newest (step " "$T/ev.md" || fail "evidence.md lacks the pick: $(grep -i pick "$T/ev.md")"
echo "console pick: the backup picked from the list when step 1 ran"

# plain mode on a terminal lists the same choices, numbered alike
tui_start plain 120 40 VELERO_SIM_DIR="$T/sim" VELERO_SIM_DURATION=2 -- \
	"$QRH_BIN" run --plain --yes --journal "$T/p.db" -v VELERO="$VELERO_SIM" -v NAMESPACE=payments \
	-v TARGET_NAMESPACE=payments-drill -v RESTORE_NAME=drill-2 -v RESTORED_DIR="$T/sim/cluster" \
	"$QRH_SRC/runbooks/library/velero-restore.md"
wait_for plain "Pick BACKUP:"
wait_for plain "   1  $newest  Completed"
echo "plain pick: the same numbered list"
