#!/usr/bin/env bash
# One ssh step on N targets through qrh's engine (a fan-out over a group
# read from a members_file, P at a time), against `ansible -m command
# -f P` on the same N hosts and a serial loop of OpenSSH `ssh`, in the
# same run. The hosts are N loopback aliases of one real sshd
# (tests/servers/sshd.sh); every run executes `echo "$(hostname) ok"` on
# every host and must succeed on all of them.
#   bash bench/fanout.sh [N] [P]     (default 100 20; QRH_BIN defaults to ./qrh)
set -eu
cd "$(dirname "$0")/.."
qrh=$(realpath "${QRH_BIN:-./qrh}")
n=${1:-100}
p=${2:-20}
. tests/servers/sshd.sh
sshd_available || { echo "fanout: no sshd, skipped"; exit 0; }
dir=$(mktemp -d "${TMPDIR:-/tmp}/qrh-bench-fanout.XXXXXX")
trap 'sshd_stop "$dir/sshd"; rm -rf "$dir"' EXIT
sshd_setup "$dir/sshd"
sshd_start "$dir/sshd" aliases
sshd_alias_files "$n" "$dir/members" "$dir/known"
key=$SSHD_DIR/id_ed25519

ms() { # wall milliseconds of "$@", which must succeed
	local t0 t1
	t0=$(date +%s%N)
	"$@" >"$dir/out" 2>&1 || { echo "fanout: failed: $*" >&2; tail -5 "$dir/out" >&2; exit 1; }
	t1=$(date +%s%N)
	echo $(((t1 - t0) / 1000000))
}

cat >"$dir/fleet.md" <<RB
---
targets:
  fleet: {kind: group, members_file: $dir/members, user: $SSHD_USER, identity: $key, known_hosts: $dir/known}
---
## Everywhere {confirm=no}
\`\`\`ssh {target=fleet parallel=$p}
echo "\$(hostname) ok"
\`\`\`
RB
qrh_ms=$(ms "$qrh" run --plain --journal "$dir/j.db" "$dir/fleet.md")
qrh_ok=$(sqlite3 "$dir/j.db" "select count(*) from events where type='task_end' and json_extract(payload,'\$.status')='ok'")

ansible_ms=- ansible_ok=-
if command -v ansible >/dev/null; then
	{
		echo "[fleet]"
		while IFS=: read -r h port; do
			echo "$h ansible_host=$h ansible_port=$port"
		done <"$dir/members"
		echo "[fleet:vars]"
		echo "ansible_user=$SSHD_USER"
		echo "ansible_ssh_private_key_file=$key"
		echo "ansible_ssh_common_args='-o UserKnownHostsFile=$dir/known -o GlobalKnownHostsFile=/dev/null -o StrictHostKeyChecking=yes'"
		echo "ansible_python_interpreter=/usr/bin/python3"
		echo "ansible_remote_tmp=/tmp/.ansible-qrh-bench"
	} >"$dir/inventory"
	ansible_ms=$(ANSIBLE_HOST_KEY_CHECKING=True ms ansible fleet -i "$dir/inventory" -f "$p" \
		-m command -a 'sh -c "echo $(hostname) ok"')
	ansible_ok=$(grep -c "CHANGED\|SUCCESS" "$dir/out" || true)
fi

serial_ms=$(ms sh -c "while IFS=: read -r h port; do
	ssh -n -o BatchMode=yes -o UserKnownHostsFile=$dir/known -o GlobalKnownHostsFile=/dev/null \
		-i $key -p \$port $SSHD_USER@\$h 'echo \"\$(hostname) ok\"' || exit 1
done <$dir/members")

printf '%-42s %8s %8s\n' "one ssh step on $n hosts, $p at a time" "wall ms" "hosts ok"
printf '%-42s %8s %8s\n' "qrh run --plain (fan-out, journaled)" "$qrh_ms" "$qrh_ok"
printf '%-42s %8s %8s\n' "ansible -m command -f $p" "$ansible_ms" "$ansible_ok"
printf '%-42s %8s %8s\n' "ssh in a serial loop (OpenSSH)" "$serial_ms" "$n"
[ "$ansible_ms" = - ] || awk -v q="$qrh_ms" -v a="$ansible_ms" -v s="$serial_ms" \
	'BEGIN { printf "qrh is %.1fx faster than ansible and %.1fx faster than the serial loop\n", a / q, s / q }'
