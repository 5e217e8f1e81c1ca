#!/usr/bin/env bash
# The ssh kind against a real sshd (tests/servers/sshd.sh) on N loopback
# aliases: N actions, P at a time, on one loop, with a 5 ms timer showing
# how late the loop answers (what a key press would wait for), against the
# same timer on an idle loop.
#   bash bench/ssh_loop.sh [N] [P]     (default 100 20)
# Needs a built library (make); BUILD selects the build directory. Also
# prints the time of a serial loop of OpenSSH `ssh` over the same aliases.
set -eu
cd "$(dirname "$0")/.."
: "${BUILD:=build}"
n=${1:-100}
p=${2:-20}
. tests/servers/sshd.sh
sshd_available || { echo "ssh_loop: no sshd, skipped"; exit 0; }
dir=$(mktemp -d "${TMPDIR:-/tmp}/qrh-bench-ssh.XXXXXX")
trap 'sshd_stop "$dir/sshd"; rm -rf "$dir"' EXIT
sshd_setup "$dir/sshd"
sshd_start "$dir/sshd" aliases
sshd_alias_files "$n" "$dir/members" "$dir/known"

make -s "$BUILD/libqrh.a"
PKGS="ncursesw libcurl libcjson libssh2 sqlite3 libpq libcmark-gfm yaml-0.1 libcrypto"
# shellcheck disable=SC2046
${CC:-cc} -std=c17 -O2 -g -Wall -Wextra -Werror -I. -D_GNU_SOURCE \
	$(pkg-config --cflags $PKGS) -o "$BUILD/bench_ssh_loop" \
	bench/ssh_loop.c "$BUILD/libqrh.a" \
	$(pkg-config --libs $PKGS) -lcmark-gfm-extensions

# shellcheck disable=SC2046
"$BUILD/bench_ssh_loop" -u "$SSHD_USER" -i "$SSHD_DIR/id_ed25519" -k "$dir/known" \
	-n "$n" -p "$p" $(cat "$dir/members")

start=$(date +%s%N)
while IFS=: read -r h port; do
	ssh -n -o BatchMode=yes -o UserKnownHostsFile="$dir/known" -o GlobalKnownHostsFile=/dev/null \
		-i "$SSHD_DIR/id_ed25519" -p "$port" "$SSHD_USER@$h" 'echo "$(hostname) ok"' >/dev/null
done <"$dir/members"
ms=$((($(date +%s%N) - start) / 1000000))
printf 'ssh loop  actions %4d serial     wall %7d ms  %6.1f/s (OpenSSH client, one after another)\n' \
	"$n" "$ms" "$(echo "$n $ms" | awk '{ printf "%.1f", $1 / ($2 / 1000) }')"
