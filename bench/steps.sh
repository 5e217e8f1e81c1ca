#!/usr/bin/env bash
# Per-step cost: 1000 trivial steps in plain mode with the durable journal,
# against `sh -c true` x1000 and ansible-playbook running the same 1000
# `command: /bin/true` tasks over a local connection, in the same run.
# Usage: bench/steps.sh [N]   (QRH_BIN defaults to ./qrh)
set -eu
cd "$(dirname "$0")/.."
qrh=${QRH_BIN:-./qrh}
n=${1:-1000}
work=$(mktemp -d "${TMPDIR:-/tmp}/qrh-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT

for i in $(seq 1 "$n"); do
	printf '## Step %d {confirm=no}\n\n```exec\n/bin/true\n```\n\n' "$i"
done >"$work/steps.md"
{
	echo "- hosts: localhost"
	echo "  connection: local"
	echo "  gather_facts: false"
	echo "  tasks:"
	for i in $(seq 1 "$n"); do
		printf '    - name: step %d\n      command: /bin/true\n' "$i"
	done
} >"$work/steps.yml"

ms() { # run "$@" and print wall milliseconds
	local t0 t1
	t0=$(date +%s%N)
	"$@" >/dev/null 2>&1
	t1=$(date +%s%N)
	echo $(((t1 - t0) / 1000000))
}

best() { # best of 3, in ms
	local b=999999999 t
	for _ in 1 2 3; do
		t=$("$@")
		[ "$t" -lt "$b" ] && b=$t
	done
	echo "$b"
}

qrh_once() { rm -f "$work"/j.db*; ms "$qrh" run --plain --journal "$work/j.db" "$work/steps.md"; }
sh_once() { ms sh -c "i=0; while [ \$i -lt $n ]; do sh -c true; i=\$((i+1)); done"; }

q=$(best qrh_once)
s=$(best sh_once)
a=
if command -v ansible-playbook >/dev/null 2>&1; then
	a=$(ANSIBLE_NOCOLOR=1 ANSIBLE_LOCALHOST_WARNING=False ANSIBLE_INVENTORY_UNPARSED_WARNING=False \
		ms ansible-playbook -i localhost, "$work/steps.yml")
fi
per() { awk -v t="$1" -v n="$n" 'BEGIN { printf "%.2f", t / n }'; }
printf '%-34s %10s %12s\n' "what ($n steps)" "total ms" "ms per step"
printf '%-34s %10d %12s\n' "qrh run --plain (durable journal)" "$q" "$(per "$q")"
printf '%-34s %10d %12s\n' "sh -c true" "$s" "$(per "$s")"
if [ -n "$a" ]; then
	printf '%-34s %10d %12s\n' "ansible-playbook (local)" "$a" "$(per "$a")"
	awk -v a="$a" -v q="$q" 'BEGIN { printf "qrh is %.0fx faster than ansible-playbook\n", a / q }'
fi
