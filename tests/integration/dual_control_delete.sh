#!/usr/bin/env bash
# The shipped runbooks/library/dual-control-delete.md end to end in plain
# mode: old records go, a young one and one on legal hold stay, and the
# purge waits for another OS user's approval (nobody, through the
# console's socket; the operator's own uid is refused). Needs root to act
# as nobody.
. "$(dirname "$0")/../lib.sh"

[ "$(id -u)" -eq 0 ] || { echo "skip: acting as another uid needs root"; exit 77; }
chmod 711 "$T"
mkdir -m 755 "$T/appr"
export QRH_APPROVE_DIR=$T/appr
data=$T/records
mkdir "$data"
for r in old1 old2 old3 old3.hold; do echo "$r" >"$data/$r"; touch -d '60 days ago' "$data/$r"; done
echo young >"$data/young"
db=$T/j.db
"$QRH_BIN" run --plain --yes --typed purge=PURGE --journal "$db" -v "DATA_DIR=$data" \
	-v TICKET=CHG-7 -v "JUSTIFICATION=erasure request" \
	"$QRH_SRC/runbooks/library/dual-control-delete.md" >"$T/out" 2>"$T/err" &
pid=$!
i=0
until grep -q "step 4 'purge' needs an approval" "$T/err"; do
	i=$((i + 1))
	[ $i -lt 600 ] && kill -0 $pid 2>/dev/null || fail "the purge was not asked for: $(cat "$T/err")"
	sleep 0.1
done
[ -e "$data/old1" ] || fail "a record went before the approval"
uuid=$(sqlite3 "$db" "select uuid from team_runs")
run "$QRH_BIN" approve --yes "$uuid" purge
assert_rc 1 "the operator approving the purge"
assert_contains "$err" "same identity"
run setpriv --reuid=65534 --regid=65534 --clear-groups "$QRH_BIN" approve --yes "$uuid" purge
assert_rc 0 "nobody's approval: $err"
assert_contains "$out" "It runs:"
assert_contains "$out" 'rm -f -- "$f"'
wait $pid
assert_eq "$?" 0
assert_contains "$(cat "$T/out")" "purged 2 record(s)"
assert_contains "$(cat "$T/out")" "purge: approved by nobody (uid 65534) (local)"
assert_contains "$(cat "$T/out")" "purge: approval refused: root (uid 0) (local): the same identity"
assert_eq "$(cd "$data" && ls | tr '\n' ' ')" "old3 old3.hold young "
assert_contains "$(cat "$T/out")" "[1] | purge requested by root for CHG-7: erasure request"
assert_eq "$(sqlite3 "$db" "select group_concat(type || ':' || actor, ',') from events where type like 'approval%'")" \
	"approval_request:root,approval_refused:root (uid 0),approval:nobody (uid 65534)"
echo "ok"
