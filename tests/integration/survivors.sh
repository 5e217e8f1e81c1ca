#!/usr/bin/env bash
# Processes that outlive qrh. kill -9 of qrh while a background action and
# a foreground step run: the background action's whole process group is
# stopped (by the guard), children included; the foreground step's
# process may go on, and `qrh resume` says so (pid, command, age) and will
# not run the step again while it lives, only after it has ended; the
# operator's wait for it and its end are journaled.
. "$(dirname "$0")/../lib.sh"
db=$T/j.db
export QRH_TEST_DIR=$T
groups=()
cleanup() {
	for g in "${groups[@]}"; do kill -KILL -- "-$g" 2>/dev/null; done
	rm -rf "$T"
}
trap cleanup EXIT

# live (not zombie) processes of process group $1
live_in_group() {
	ps -o stat= -g "$1" 2>/dev/null | grep -vc '^Z' || true
}

cat >"$T/rb.md" <<'RB'
## Start the load {confirm=no}
```sh {background=true name=load}
sleep 300 &
sleep 300 &
while :; do echo tick; sleep 0.1; done
```
## Promote {confirm=no}
```sh
echo promoting
if [ ! -e "$QRH_TEST_DIR/quick" ]; then sleep 300; fi
echo promoted
```
RB
"$QRH_BIN" run --plain --journal "$db" "$T/rb.md" >"$T/run.log" 2>&1 &
pid=$!
for _ in $(seq 1 400); do
	n=$(sqlite3 "$db" "select count(*) from events where type='task_process'" 2>/dev/null)
	[ "${n:-0}" -ge 2 ] && grep -q promoting "$T/run.log" && break
	sleep 0.05
done
bg=$(sqlite3 "$db" "select json_extract(p.payload,'\$.pgid') from events p join events s
	on json_extract(s.payload,'\$.task') = json_extract(p.payload,'\$.task')
	where p.type='task_process' and s.type='background_start'")
fg=$(sqlite3 "$db" "select json_extract(p.payload,'\$.pgid') from events p join events s
	on json_extract(s.payload,'\$.task') = json_extract(p.payload,'\$.task')
	where p.type='task_process' and s.type='action_start' and s.step=1")
[ -n "$bg" ] && [ -n "$fg" ] || fail "no process groups journaled (bg '$bg', fg '$fg')"
groups+=("$bg" "$fg")
[ "$(live_in_group "$bg")" -ge 3 ] || fail "the background action is not running: $(ps -o pid,stat,args -g "$bg")"
kill -9 $pid
wait $pid 2>/dev/null

# the background group goes (after the guard's grace), children too
for _ in $(seq 1 300); do
	[ "$(live_in_group "$bg")" -eq 0 ] && break
	sleep 0.05
done
[ "$(live_in_group "$bg")" -eq 0 ] || fail "background processes outlived qrh: $(ps -o pid,stat,args -g "$bg")"
# the foreground step's process is still there
[ "$(live_in_group "$fg")" -ge 1 ] || fail "the foreground step's process is gone"

# resume names it and does not run the step again while it lives
run "$QRH_BIN" resume --plain --yes --journal "$db"
assert_rc 2
assert_contains "$err" "step 2 'promote' was interrupted, and its pid $fg"
assert_contains "$err" "is still running, started"
assert_not_contains "$out" "promoted"
assert_eq "$(sqlite3 "$db" "select json_extract(payload,'\$.survivors[0].pgid') from events where type='step_interrupted'")" "$fg"
assert_eq "$(sqlite3 "$db" "select count(*) from events where type='task_reaped'")" "1"
assert_eq "$(sqlite3 "$db" "select count(*) from events where type='step_start' and step=1")" "1"

# asked to run it again, resume waits for it (and journals that it does);
# ended by someone else, the step runs again
"$QRH_BIN" resume --plain --yes --rerun-interrupted --journal "$db" >"$T/resume.out" 2>"$T/resume.err" &
rpid=$!
for _ in $(seq 1 400); do
	[ "$(sqlite3 "$db" "select count(*) from events where type='survivor_wait'" 2>/dev/null)" = 1 ] && break
	sleep 0.05
done
assert_eq "$(sqlite3 "$db" "select json_extract(payload,'\$.pgids[0]') || ' ' || actor || ' ' ||
	json_extract(payload,'\$.uid') from events where type='survivor_wait' and step=1")" "$fg $(id -un) $(id -u)"
assert_contains "$(cat "$T/resume.err")" "waiting for it to end before running the step again"
touch "$T/quick"
kill -TERM -- "-$fg"
wait $rpid || fail "resume failed: $(cat "$T/resume.out" "$T/resume.err")"
assert_contains "$(cat "$T/resume.out")" "[2] | promoted"
assert_contains "$(cat "$T/resume.out")" "promote: waiting for its process left running (pid $fg): chosen by $(id -un)"
assert_contains "$(cat "$T/resume.out")" "promote: its process left running (pid $fg) ended on its own, "
assert_eq "$(sqlite3 "$db" "select json_extract(payload,'\$.pgid') || ' ' || json_extract(payload,'\$.how')
	from events where type='survivor_end' and step=1")" "$fg ended"
assert_eq "$(sqlite3 "$db" "select count(*) from events e where type='step_start' and step=1
	and seq > (select seq from events where type='survivor_end')")" "1"
run "$QRH_BIN" verify --journal "$db"
assert_rc 0
# the evidence says what the resume found: the survivor and the reaped load
run "$QRH_BIN" export --journal "$db" -f md
assert_rc 0
assert_contains "$out" "step promote attempt 1 was running when qrh stopped, its outcome unknown; still running then: task"
assert_contains "$out" "process group $fg, "
assert_contains "$out" "chose to wait for the processes step promote left running (process group $fg)"
assert_contains "$out" "process group $fg of step promote ended on its own, "
how=$(sqlite3 "$db" "select json_extract(payload,'\$.how') from events where type='task_reaped'")
if [ "$how" = gone ]; then words="had ended"; else words="was still running: killed"; fi
assert_contains "$out" "background task 1 of an earlier session $words"
echo "survivors: background stopped with qrh, a foreground survivor reported and not rerun while alive"
