#!/bin/sh
# Runs the benchmarks: every bench/*.sh but this one, in name order, each
# with its own interpreter. `sh bench/run.sh load steps` runs only those
# whose names contain one of the words. Exits 1 if any of them failed.
set -u
cd "$(dirname "$0")/.." || exit 2
status=0
for b in bench/*.sh; do
	[ "$b" = bench/run.sh ] && continue
	if [ $# -gt 0 ]; then
		want=0
		for w in "$@"; do
			case $b in *"$w"*) want=1 ;; esac
		done
		[ $want = 1 ] || continue
	fi
	echo "==== $b"
	# the scripts say which shell they need on their #! line
	if [ -x "$b" ]; then
		"./$b"
	else
		sh "$b"
	fi || {
		echo "bench: $b failed" >&2
		status=1
	}
	echo
done
exit $status
