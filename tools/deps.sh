#!/bin/sh
# Install every build and test dependency of qrh on Debian 12.
# Skips what is present; runs `apt-get update` only when something is missing;
# when not root, prints the one sudo line instead of running it.
set -eu

PKGS="build-essential make pkg-config
libncurses-dev libcurl4-openssl-dev libcjson-dev libssh2-1-dev libssl-dev
libsqlite3-dev sqlite3 libcmocka-dev libpq-dev
libcmark-gfm-dev libcmark-gfm-extensions-dev libyaml-dev
tmux postgresql openssh-server openssh-client
clang libclang-rt-14-dev python3 ansible-core hyperfine procps
openssl libnss-wrapper man-db groff-base python3-psycopg2
libxml2-utils chromium fonts-dejavu-core"

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done

if [ -z "$missing" ]; then
	echo "deps: everything is installed"
	exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing:$missing"
	echo "sudo apt-get update && sudo apt-get install -y$missing"
	exit 1
fi

echo "deps: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing
