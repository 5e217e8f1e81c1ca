#!/bin/sh
# Load time: `qrh check -q` on a generated 1000-step runbook, as Markdown
# and as the JSON `qrh convert` writes for it, against `cat FILE >/dev/null`
# of the same file, in the same run. The goal is under 20 ms per load.
#
# Each step has a heading, a paragraph and a ```sh block with attributes;
# every tenth step is a sql action and every tenth (offset) an http action,
# against targets declared in the front matter, so the validator, the
# variable checks and the lint all have real work to do.
#
# Usage: sh bench/load.sh [STEPS]        (QRH_BIN defaults to ./qrh)
# Uses hyperfine when installed (--warmup 3 --runs 30, medians from its
# JSON export, kept in $BENCH_OUT, default build/), else a date +%s%N loop.
#
# shellcheck disable=SC2016 # the $VARs in single quotes are the runbook's
set -eu
cd "$(dirname "$0")/.."
qrh=${QRH_BIN:-./qrh}
n=${1:-1000}
runs=30
out=${BENCH_OUT:-build}
work=$(mktemp -d "${TMPDIR:-/tmp}/qrh-bench-load.XXXXXX")
trap '[ -n "${BENCH_KEEP:-}" ] || rm -rf "$work"' EXIT INT TERM
mkdir -p "$out"

# ---- the runbook ----
md=$work/steps.md
json=$work/steps.json
{
	cat <<'EOF'
---
vars:
  REGION: eu-west-1
  SERVICE:
    value: checkout
    description: The service being moved.
targets:
  db:
    kind: postgres
    dsn: host=db.internal dbname=app user=ops
  api:
    kind: http
    url: https://api.internal
objectives:
  rto: 30m
  rpo: 5m
---
# Load benchmark

A generated runbook: one thousand steps of prose and commands, the size of
the largest runbooks qrh is expected to meet.

EOF
	i=1
	while [ "$i" -le "$n" ]; do
		printf '## Step %d: check shard %d\n\n' "$i" "$i"
		printf 'Confirm that shard **%d** answers before moving on. If it does\n' "$i"
		printf 'not, stop here and page the on-call owner of `shard-%d`.\n\n' "$i"
		case $((i % 10)) in
		0)
			printf '```sql {target=db expect_rows=1 timeout=10s}\n'
			printf 'SELECT 1 FROM shards WHERE id = %d AND healthy;\n```\n\n' "$i"
			;;
		5)
			printf '```http {target=api method=GET url=https://api.internal/shards/%d expect=2xx timeout=5s}\n```\n\n' "$i"
			;;
		*)
			printf '```sh {name=shard-%d timeout=30s}\n' "$i"
			printf 'echo "shard %d in $REGION"\n' "$i"
			printf 'test -n "$SERVICE" && printf '"'"'%%s\\n'"'"' "ok %d"\n```\n\n' "$i"
			;;
		esac
		i=$((i + 1))
	done
} >"$md"

# The runbook has to be valid, or we would time the error path.
if ! "$qrh" check -q "$md"; then
	echo "bench/load.sh: the generated runbook does not check clean" >&2
	exit 1
fi
"$qrh" convert --to json "$md" >"$json"
"$qrh" check -q "$json"

size() { wc -c <"$1" | tr -d ' '; }
echo "runbook: $n steps; Markdown $(size "$md") bytes, JSON $(size "$json") bytes"

# ---- timing ----
# No shell in between (hyperfine -N): at a few milliseconds, subtracting an
# estimated shell start-up would be most of the figure. hyperfine sends the
# output to /dev/null itself, so `cat FILE` is `cat FILE >/dev/null`: the
# floor, process start plus reading the file.
names="cat-md qrh-md cat-json qrh-json"
cmd_of() {
	case $1 in
	cat-md) echo "cat $md" ;;
	qrh-md) echo "$qrh check -q $md" ;;
	cat-json) echo "cat $json" ;;
	qrh-json) echo "$qrh check -q $json" ;;
	esac
}

# median of the numbers (ms) on stdin
median() {
	sort -n | awk '{ v[NR] = $1 } END {
		if (NR % 2) printf "%.2f", v[(NR + 1) / 2];
		else printf "%.2f", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

if command -v hyperfine >/dev/null 2>&1; then
	tool="hyperfine $(hyperfine --version | awk '{ print $2 }') -N --warmup 3 --runs $runs"
	set --
	for k in $names; do
		set -- "$@" -n "$k" "$(cmd_of "$k")"
	done
	if ! hyperfine -N --warmup 3 --runs "$runs" --style none \
		--export-json "$out/bench-load.json" "$@" >"$work/hyperfine.log" 2>&1; then
		cat "$work/hyperfine.log" >&2
		exit 1
	fi
	for k in $names; do
		jq -r --arg k "$k" '.results[] | select(.command == $k) |
			"\(.median * 1000) \(.min * 1000) \(.max * 1000)"' \
			"$out/bench-load.json" >"$work/$k"
	done
else
	tool="date +%s%N loop, 3 warm-up runs, $runs runs (includes the fork of date)"
	for k in $names; do
		c=$(cmd_of "$k")
		# shellcheck disable=SC2086
		for _ in 1 2 3; do $c >/dev/null; done
		r=0
		while [ "$r" -lt "$runs" ]; do
			t0=$(date +%s%N)
			# shellcheck disable=SC2086
			$c >/dev/null
			t1=$(date +%s%N)
			echo $(((t1 - t0) / 1000)) | awk '{ printf "%.3f\n", $1 / 1000 }'
			r=$((r + 1))
		done >"$work/$k.all"
		printf '%s %s %s\n' "$(median <"$work/$k.all")" \
			"$(sort -n "$work/$k.all" | head -n 1)" \
			"$(sort -n "$work/$k.all" | tail -n 1)" >"$work/$k"
	done
fi

# ---- report ----
echo "timing: $tool"
printf '%-34s %10s %9s %9s\n' "command ($n steps)" "median ms" "min ms" "max ms"
worst=0
for k in $names; do
	read -r med lo hi <"$work/$k"
	case $k in
	cat-md) label="cat steps.md >/dev/null" ;;
	qrh-md) label="qrh check -q steps.md" ;;
	cat-json) label="cat steps.json >/dev/null" ;;
	qrh-json) label="qrh check -q steps.json" ;;
	esac
	printf '%-34s %10.2f %9.2f %9.2f\n' "$label" "$med" "$lo" "$hi"
	case $k in
	qrh-*) worst=$(awk -v a="$worst" -v b="$med" 'BEGIN { print (b > a ? b : a) }') ;;
	esac
done
if awk -v m="$worst" 'BEGIN { exit !(m < 20) }'; then
	printf 'goal: met (slowest load %.2f ms < 20 ms)\n' "$worst"
else
	printf 'goal: MISSED (slowest load %.2f ms >= 20 ms)\n' "$worst"
fi
