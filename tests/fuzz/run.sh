#!/bin/sh
# Builds the libFuzzer targets (tests/fuzz/fuzz_*.c) against every loader
# source, with ASan and UBSan, into build-fuzz/, then runs them side by side
# for $FUZZ_SECONDS each and prints how many inputs each one executed.
#
#   FUZZ_SECONDS=600 sh tests/fuzz/run.sh      (make fuzz FUZZ_SECONDS=600)
#   FUZZ_TARGETS="fuzz_json" ...               only these targets
#   FUZZ_ARGS="-only_ascii=1" ...              extra libFuzzer flags
#   FUZZ_ROUNDTRIP=record ...                  see below
#   FUZZ_KEEP_GOING=1 ...                      go on after a crash (libFuzzer
#                                              -fork=1 -ignore_crashes=1): for
#                                              long campaigns; every crash is
#                                              kept in build-fuzz/artifacts/
#
# The targets assert that a runbook which loads converts MD -> JSON -> MD
# -> JSON to the same JSON (tests/fuzz/roundtrip.h). FUZZ_ROUNDTRIP=abort
# (the default) makes a broken round trip a finding like a crash; =record
# writes such inputs to build-fuzz/unstable-TARGET/ and carries on, for a
# long campaign that should keep hunting memory errors while a round-trip
# bug is still open; =off does not judge the round trip at all.
#
# Working corpora live in tests/fuzz/corpus-NAME/ (git-ignored); they start
# as a copy of tests/fuzz/seeds/FORMAT/ and keep what libFuzzer adds, so a
# second run starts where the first stopped. Crash inputs are written to
# build-fuzz/artifacts/ (emptied at the start of each run: copy what you
# keep to tests/fuzz/regressions/). Exits 1 when any target found a crash,
# leak, timeout or unstable round trip, 2 when the build failed.
set -u
cd "$(dirname "$0")/../.." || exit 2

: "${FUZZ_SECONDS:=60}"
: "${FUZZ_TARGETS:=fuzz_markdown fuzz_json}"
: "${FUZZ_ARGS:=}"
: "${CC_FUZZ:=clang}"
: "${FUZZ_ROUNDTRIP:=abort}"
: "${FUZZ_KEEP_GOING:=0}"
# UBSan reports without a stack are hard to act on
UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}
export UBSAN_OPTIONS
OUT=build-fuzz

CFLAGS="-std=c17 -g -O1 -fno-omit-frame-pointer \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all"
PKGS="libcjson libcmark-gfm yaml-0.1 libcrypto"
# shellcheck disable=SC2086
if ! PKG_CFLAGS=$(pkg-config --cflags $PKGS) ||
   ! PKG_LIBS=$(pkg-config --libs $PKGS); then
	echo "fuzz: pkg-config cannot find the libraries (make deps)" >&2
	exit 2
fi
LIBS="$PKG_LIBS -lcmark-gfm-extensions"

# ---- build ----
# Every qrh source that builds without curses. The loaders need runbooks/
# and util/{buf,xalloc}; anything else in util/ (loop.c, clock.c ...) is
# welcome but optional: if it does not build with clang it is left out and
# the archive below simply does not offer it to the linker.
rm -rf "$OUT/obj" "$OUT/artifacts" && mkdir -p "$OUT/obj" "$OUT/artifacts" || exit 2
objs=
for src in util/*.c runbooks/*.c tui/sanitize.c; do
	[ -f "$src" ] || continue
	obj="$OUT/obj/$(echo "$src" | tr / _).o"
	# shellcheck disable=SC2086
	if $CC_FUZZ $CFLAGS -I. -D_GNU_SOURCE $PKG_CFLAGS -c "$src" -o "$obj" \
		2>"$obj.log"; then
		objs="$objs $obj"
		continue
	fi
	case $src in
	runbooks/*|util/buf.c|util/xalloc.c)
		cat "$obj.log" >&2
		echo "fuzz: $src does not build" >&2
		exit 2 ;;
	*)
		echo "fuzz: skipping $src (does not build with $CC_FUZZ):" >&2
		head -n 3 "$obj.log" | sed 's/^/    /' >&2 ;;
	esac
done
rm -f "$OUT/libqrh-fuzz.a"
# shellcheck disable=SC2086
ar rcs "$OUT/libqrh-fuzz.a" $objs || exit 2

for t in $FUZZ_TARGETS; do
	# shellcheck disable=SC2086
	$CC_FUZZ $CFLAGS -I. -D_GNU_SOURCE $PKG_CFLAGS "tests/fuzz/$t.c" \
		"$OUT/libqrh-fuzz.a" $LIBS -o "$OUT/$t" || exit 2
done
echo "fuzz: built $(echo "$FUZZ_TARGETS" | wc -w) targets in $OUT/"

# ---- run ----
# count 'GLOB': how many files match (0 when none do)
count() {
	n=0
	for f in $1; do
		[ -e "$f" ] && n=$((n + 1))
	done
	echo "$n"
}

format_of() {
	case $1 in
	*markdown*) echo markdown ;;
	*json*) echo json ;;
	*) echo "$1" ;;
	esac
}

for t in $FUZZ_TARGETS; do
	fmt=$(format_of "$t")
	corpus=tests/fuzz/corpus-$fmt
	mkdir -p "$corpus"
	# -n: keep what earlier runs found; seeds only fill the gaps
	cp -n tests/fuzz/seeds/"$fmt"/* "$corpus"/ 2>/dev/null
	keep=
	[ "$FUZZ_KEEP_GOING" = 1 ] && keep="-fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1"
	dict=
	[ -f "tests/fuzz/$fmt.dict" ] && dict="-dict=tests/fuzz/$fmt.dict"
	rt=$FUZZ_ROUNDTRIP
	if [ "$rt" = record ]; then
		rm -rf "$OUT/unstable-$t" && mkdir -p "$OUT/unstable-$t"
		rt="record:$OUT/unstable-$t"
	fi
	echo "fuzz: $t for ${FUZZ_SECONDS}s, corpus $corpus ($(count "$corpus/*") inputs), round trip: $FUZZ_ROUNDTRIP"
	rm -f "$OUT/$t.rc" "$OUT/$t.end"
	date +%s >"$OUT/$t.start"
	# shellcheck disable=SC2086
	( QRH_FUZZ_ROUNDTRIP=$rt "./$OUT/$t" -max_total_time="$FUZZ_SECONDS" -max_len=65536 \
		-timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$OUT/artifacts/$t-" $dict $keep $FUZZ_ARGS \
		"$corpus" >"$OUT/$t.log" 2>&1
	  echo $? >"$OUT/$t.rc"; date +%s >"$OUT/$t.end" ) &
done
wait

status=0
printf '\n%-16s %8s %14s %10s  %s\n' target seconds executions 'exec/s' result
for t in $FUZZ_TARGETS; do
	rc=$(cat "$OUT/$t.rc")
	wall=$(( $(cat "$OUT/$t.end") - $(cat "$OUT/$t.start") ))
	if [ "$FUZZ_KEEP_GOING" = 1 ]; then
		# the fork-mode parent prints no final stats, only progress
		# lines "#EXECS: cov: ..."
		execs=$(sed -n 's/^#\([0-9]*\): cov:.*/\1/p' "$OUT/$t.log" | tail -n 1)
	else
		execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$OUT/$t.log" | tail -n 1)
	fi
	: "${execs:=0}"
	rate=$(( execs / (wall > 0 ? wall : 1) ))
	# in fork mode the exit status does not say whether a job crashed
	found=$(count "$OUT/artifacts/$t-*")
	if [ "$rc" = 0 ] && [ "$found" = 0 ]; then
		result="no findings"
	else
		status=1
		result="FOUND $found (exit $rc), see $OUT/artifacts/$t-*"
	fi
	if [ "$FUZZ_ROUNDTRIP" = record ]; then
		result="$result; $(count "$OUT/unstable-$t/*") unstable round trips in $OUT/unstable-$t/"
	fi
	printf '%-16s %8s %14s %10s  %s\n' "$t" "$wall" "$execs" "$rate" "$result"
done
if [ $status -ne 0 ]; then
	echo
	for t in $FUZZ_TARGETS; do
		[ "$(cat "$OUT/$t.rc")" = 0 ] &&
			[ "$(count "$OUT/artifacts/$t-*")" = 0 ] && continue
		echo "---- $OUT/$t.log (tail)"
		tail -n 60 "$OUT/$t.log"
	done
	echo
	echo "fuzz: minimise with ./$OUT/TARGET -minimize_crash=1 -runs=10000 CRASH"
	echo "fuzz: (QRH_FUZZ_ROUNDTRIP=off keeps a memory error from turning into"
	echo "fuzz: a round-trip failure while it shrinks),"
	echo "fuzz: then keep it in tests/fuzz/regressions/FORMAT/ with a .expect file"
fi
exit $status
