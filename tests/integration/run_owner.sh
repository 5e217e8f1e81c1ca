#!/usr/bin/env bash
# A run has one owner: `qrh resume` of a run another qrh is still running
# is refused before anything is written, and says who runs it; qrh watch,
# show and verify keep working on the owned run (readers take no lock);
# once the owner is gone (killed), resume takes the run over.
. "$(dirname "$0")/../lib.sh"
db=$T/j.db
export QRH_TEST_DIR=$T

pid=
trap '[ -n "$pid" ] && kill -9 $pid 2>/dev/null; touch "$T/go"; sleep 0.2; rm -rf "$T"' EXIT

events() { sqlite3 "$db" "select count(*) from events where run_id=1"; }

cat >"$T/hold.md" <<'RB'
## Hold {confirm=no}
```sh
echo holding
i=0
while [ ! -e "$QRH_TEST_DIR/go" ] && [ $i -lt 2400 ]; do sleep 0.05; i=$((i + 1)); done
echo released
```
## After {confirm=no}
```sh
echo after
```
RB
# hold LOG: qrh runs hold.md as alice in the background until its step
# holds (sets pid)
hold() {
	"$QRH_BIN" run --plain --operator alice --journal "$db" "$T/hold.md" >"$1" 2>&1 &
	pid=$!
	for _ in $(seq 1 400); do
		grep -q "holding" "$1" && return 0
		sleep 0.05
	done
	fail "the run never started: $(cat "$1")"
}
hold "$T/run.log"

lock=$db-run-1.lock
[ -f "$lock" ] || fail "no lock file beside the journal"
assert_eq "$(stat -c %a "$lock")" "600"
n=$(events)
run "$QRH_BIN" resume --plain --yes --rerun-interrupted --journal "$db" 1
assert_rc 2 "resume of a run another qrh runs"
assert_contains "$err" "run 1 is being run by alice (pid $pid on host $(hostname)) since "
assert_eq "$(events)" "$n"
assert_eq "$(sqlite3 "$db" "select count(*) from events where type in ('run_resume','step_interrupted')")" "0"
# the same without a run number: the newest unfinished run is this one
run "$QRH_BIN" resume --plain --yes --journal "$db"
assert_rc 2
assert_contains "$err" "is being run by alice"

# readers take no lock
run "$QRH_BIN" show --output --journal "$db" 1
assert_rc 0
assert_contains "$out" "| holding"
run "$QRH_BIN" verify --journal "$db"
assert_rc 0

touch "$T/go"
wait $pid
rc=$?
[ $rc -eq 0 ] || fail "the owner's run: exit $rc: $(cat "$T/run.log")"
[ ! -e "$lock" ] || fail "the lock file outlived its run"
assert_eq "$(sqlite3 "$db" "select outcome from runs where id=1")" "ok"
run "$QRH_BIN" verify --journal "$db"
assert_rc 0

# kill -9 the owner mid-step: the run is free to resume at once
rm -f "$T/go"
hold "$T/run2.log"
kill -9 $pid
wait $pid 2>/dev/null
touch "$T/go"
run "$QRH_BIN" resume --plain --yes --rerun-interrupted --operator bob --journal "$db" 2
assert_rc 0 "resume after the owner was killed"
assert_contains "$out" "[1] | released"
assert_eq "$(sqlite3 "$db" "select outcome from runs where id=2")" "ok"
[ ! -e "$db-run-2.lock" ] || fail "the lock file outlived the resumed run"
run "$QRH_BIN" verify --journal "$db"
assert_rc 0
echo "one owner per run"
