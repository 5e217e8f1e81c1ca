#!/usr/bin/env bash
# The crash campaign: kill -9 at random moments of runs that have
# foreground steps, a background action, large output, a step that fails
# once and is retried, a timed wait and the stop of the background action
# — and of the resumes that continue them, which are killed too. After
# every kill: PRAGMA integrity_check and qrh verify pass. After the run
# completes:
#   - nothing ran twice: no step_start follows a step's successful end,
#     and no step's command ran more often than the journal started it;
#   - nothing was printed that was not journaled: every event line plain
#     mode printed is an event in the journal (same time, same step), and
#     every output line printed for a step that ended is in its stored
#     output.
# QRH_CRASH_KILLS sets how many kills (default 30, `make check`); `make
# check-slow` runs 240. Prints its figures on the last line.
. "$(dirname "$0")/../lib.sh"
command -v sqlite3 >/dev/null || { echo "sqlite3 is not installed"; exit 77; }
# A sanitizer build runs fewer (what it adds is the same code paths
# checked for memory errors, which ten kills reach; CI's time is bounded)
default_kills=30
[ "${QRH_SANITIZE:-}" = 1 ] && default_kills=10
kills_wanted=${QRH_CRASH_KILLS:-$default_kills}
db=$T/j.db
export QRH_TEST_DIR=$T
cleanup() {
	# a background action killed with qrh keeps its session: stop it by
	# the pid it wrote itself
	for f in "$T"/bg.*; do [ -s "$f" ] && kill -9 "$(cat "$f")" 2>/dev/null; done
	rm -rf "$T"
}
trap cleanup EXIT

rb=$T/crash.md
# The step that fails once has retries to spare: an attempt killed before
# it counted itself uses up an attempt too, and with two retries two
# such kills made its one failure final (resume exited 1 under CI's
# sanitizer run).
cat >"$rb" <<'RB'
# Crash campaign

## Quick {id=quick confirm=no}
```sh
echo "ran quick"
echo quick >>"$QRH_TEST_DIR/ran.$QRH_RUN_ID"
```

## Start the ticker {id=ticker confirm=no}
```sh {background=true name=ticker}
echo $$ >"$QRH_TEST_DIR/bg.$QRH_RUN_ID.$$"
i=0
while [ "$i" -lt 2000 ]; do i=$((i + 1)); echo "tick $i"; sleep 0.01; done
```

## Large output {id=large confirm=no}
```sh
seq 1 330000
echo "ran large"
echo large >>"$QRH_TEST_DIR/ran.$QRH_RUN_ID"
```

## Fails once {id=flaky confirm=no retries=9 backoff=50ms}
```sh
f="$QRH_TEST_DIR/tries.$QRH_RUN_ID"
n=$(cat "$f" 2>/dev/null || echo 0)
echo $((n + 1)) >"$f"
if [ "$n" -lt 1 ]; then echo "failing once" >&2; exit 1; fi
echo "ran flaky"
echo flaky >>"$QRH_TEST_DIR/ran.$QRH_RUN_ID"
```

## Wait a little {id=pause confirm=no}
```wait {for=150ms}
```

## Stop the ticker {id=stop confirm=no}
```wait {stop=ticker timeout=10s}
```

## Both streams {id=both confirm=no}
```sh
echo "ran both"
echo "to stderr" >&2
echo both >>"$QRH_TEST_DIR/ran.$QRH_RUN_ID"
```
RB

kills=0 kills_in_resume=0 runs=0 resumes=0

check_journal() { # WHEN [RUN]: the whole file's integrity; the run's chain
	local ic
	ic=$(sqlite3 "$db" "pragma integrity_check")
	[ "$ic" = "ok" ] || fail "$1: integrity_check: $ic"
	"$QRH_BIN" verify --journal "$db" ${2:-} >"$T/verify.out" 2>&1 ||
		fail "$1: qrh verify: $(cut -c1-300 "$T/verify.out")"
}

# one qrh session with its own log, killed after a random delay of up to
# MAX_MS (0: never killed); returns its exit status, or 137 when killed
session=0
one() { # MAX_MS ARGS...
	local max=$1 pid delay
	shift
	session=$((session + 1))
	"$QRH_BIN" "$@" >"$T/log.$id_hint.$session" 2>"$T/err.$session" &
	pid=$!
	if [ "$max" -gt 0 ]; then
		delay=$((RANDOM % max))
		sleep "$(printf '%d.%03d' $((delay / 1000)) $((delay % 1000)))"
		if kill -9 $pid 2>/dev/null; then
			wait $pid 2>/dev/null
			return 137
		fi
	fi
	wait $pid
}

# The output lines a session printed for a step attempt whose end it also
# printed (step_end, or background_end for the background action): that
# attempt's stream was finished, flushed, before its end was journaled,
# so every such line must be stored. Lines of an attempt the kill cut off
# may be unstored: at most the last flush interval, as promised.
ended_lines() { # LOG -> "STEP<TAB>LINE" lines
	awk -v bg=2 -v big=3 '
	match($0, /^\[[0-9]+\] [|!] /) {
		n = substr($0, 2, index($0, "]") - 2)
		# the large step keeps only its head and tail: not compared
		if (n != big) acc[n] = acc[n] n "\t" substr($0, RLENGTH + 1) "\n"
		next
	}
	/^[0-9T:.-]+Z \[[0-9]+\/[0-9]+\] / {
		n = substr($2, 2, index($2, "/") - 2)
		if ($0 ~ /: started, attempt / && n != bg) acc[n] = ""
		ended = (n == bg) ? ($0 ~ /: background [^ ]+ ended/) : \
			($0 ~ /: (ok|failed|timeout|cancelled) in [0-9]+ ms/)
		if (ended) { printf "%s", acc[n]; acc[n] = "" }
	}' "$1"
}

# what plain mode printed against what the journal holds
check_printed() { # RUN
	local id=$1 n
	sqlite3 "$db" "select strftime('%Y-%m-%dT%H:%M:%f', wall_ms / 1000.0,
		'unixepoch') || 'Z ' || coalesce(step + 1, 0) from events where run_id = $id" |
		sort -u >"$T/journaled"
	cat "$T"/log."$id".* |
		sed -n 's/^\([0-9T:.-]*Z\) \[\([0-9]*\)\/[0-9]*\].*/\1 \2/p; s/^\([0-9T:.-]*Z\) run .*/\1 0/p' |
		sort -u >"$T/printed"
	comm -23 "$T/printed" "$T/journaled" >"$T/unjournaled"
	[ ! -s "$T/unjournaled" ] ||
		fail "run $id: printed but not journaled: $(head -3 "$T/unjournaled" | cut -c1-200)"
	"$QRH_BIN" show --output --journal "$db" "$id" >"$T/show.out" 2>&1 ||
		fail "run $id: show: $(tail -3 "$T/show.out" | cut -c1-200)"
	awk '/^  [^ ].* [0-9]+  / { n = $2 } /^        [|!] / { print n "\t" substr($0, 11) }' \
		"$T/show.out" | sort -u >"$T/stored"
	for f in "$T"/log."$id".*; do ended_lines "$f"; done | sort -u >"$T/printed.out"
	comm -23 "$T/printed.out" "$T/stored" >"$T/missing"
	[ ! -s "$T/missing" ] ||
		fail "run $id: printed output of an ended step not in the journal: $(head -3 "$T/missing" | cut -c1-200)"
	printed_lines=$((printed_lines + $(wc -l <"$T/printed") + $(wc -l <"$T/printed.out")))
}

# nothing ran twice: never started again after it ended ok, and no
# command ran more often than the journal started it
check_once() { # RUN
	local id=$1 again
	again=$(sqlite3 "$db" "select s.step + 1 from events s join events e
		on e.run_id = s.run_id and e.step = s.step and e.type = 'step_end'
		and json_extract(e.payload, '$.status') = 'ok' and s.seq > e.seq
		where s.run_id = $id and s.type = 'step_start' limit 1")
	[ -z "$again" ] || fail "run $id: step $again started again after it ended ok"
	for step in quick large flaky both; do
		local ran starts
		ran=$(grep -cx "$step" "$T/ran.$id" 2>/dev/null || true)
		starts=$(sqlite3 "$db" "select count(*) from events where run_id = $id
			and type = 'step_start' and json_extract(payload, '$.step_id') = '$step'")
		[ "${ran:-0}" -ge 1 ] || fail "run $id: step $step never ran"
		[ "$ran" -le "$starts" ] ||
			fail "run $id: step $step ran $ran times, started $starts times"
	done
}

printed_lines=0 batches=1
started=$(date +%s)
while [ $kills -lt "$kills_wanted" ]; do
	runs=$((runs + 1))
	# a fresh journal every 8 runs, the finished one verified whole and
	# removed: the checks of a long campaign stay as cheap as its first
	if [ $((runs % 8)) -eq 1 ] && [ $runs -gt 1 ]; then
		check_journal "journal $((runs / 8))"
		rm -f "$db" "$db-wal" "$db-shm"
		batches=$((batches + 1))
	fi
	id_hint=$(( $(sqlite3 "$db" "select coalesce(max(id), 0) from runs" 2>/dev/null || echo 0) + 1 ))
	# kill the run itself after 0..0.9 s (a whole run takes about 0.8 s)
	one 900 run --plain --yes --journal "$db" "$rb"
	rc=$?
	# no table yet when qrh was killed before its schema committed
	id=$(sqlite3 "$db" "select coalesce(max(id), 0) from runs" 2>/dev/null)
	[ "${id:-0}" -eq "$id_hint" ] || id=
	if [ $rc -eq 137 ]; then
		kills=$((kills + 1))
		check_journal "run $runs, kill $kills" $id
	fi
	if [ -z "$id" ]; then	# killed before the run was created
		rm -f "$T"/log."$id_hint".*
		continue
	fi
	outcome=$(sqlite3 "$db" "select coalesce(outcome, '') from runs where id = $id")
	tries=0
	while [ -z "$outcome" ]; do
		tries=$((tries + 1))
		[ $tries -le 20 ] || fail "run $id: still unfinished after 20 resumes"
		resumes=$((resumes + 1))
		# every other resume is killed too, while resuming or running
		if [ $((RANDOM % 2)) -eq 0 ] && [ $kills -lt "$kills_wanted" ]; then
			one 700 resume --plain --yes --rerun-interrupted --journal "$db" "$id"
		else
			one 0 resume --plain --yes --rerun-interrupted --journal "$db" "$id"
		fi
		rc=$?
		if [ $rc -eq 137 ]; then
			kills=$((kills + 1))
			kills_in_resume=$((kills_in_resume + 1))
			check_journal "run $id, resume killed, kill $kills" "$id"
		elif [ $rc -ne 0 ]; then
			fail "run $id: resume exited $rc: $(tail -3 "$T/err.$session" | cut -c1-200)"
		fi
		outcome=$(sqlite3 "$db" "select coalesce(outcome, '') from runs where id = $id")
	done
	assert_eq "$outcome" "ok"
	check_journal "run $id, completed" "$id"
	check_once "$id"
	check_printed "$id"
	# run ids start again in the next journal
	rm -f "$T"/log."$id".* "$T"/err.* "$T/ran.$id" "$T/tries.$id"
	for f in "$T"/bg."$id".*; do [ -s "$f" ] && kill -9 "$(cat "$f")" 2>/dev/null; rm -f "$f"; done
done
check_journal "the end"	# every run
[ $((kills - kills_in_resume)) -ge $((kills / 4)) ] ||
	fail "only $((kills - kills_in_resume)) of $kills kills landed in runs"
echo "crash campaign: $kills kills ($kills_in_resume of them in resumes), $runs runs in $batches journals, $resumes resumes, $printed_lines printed lines checked in $(( $(date +%s) - started )) s: verify ok after each kill, nothing ran twice, nothing printed unjournaled"
