#!/usr/bin/env bash
# A cleanly closed journal reads from read-only media: verify, list, show
# and export work on a read-only bind mount of a copy (in a private mount
# namespace), or, where mounting is not allowed, as a user who cannot
# write the directory. A journal that was not closed cleanly cannot be
# read there, and qrh says why instead of "unable to open database file".
. "$(dirname "$0")/../lib.sh"
command -v sqlite3 >/dev/null || { echo "sqlite3 is not installed"; exit 77; }

printf '# RO\n\n## Hello {confirm=no}\n\n```sh\necho hello from the past\n```\n' >"$T/ro.md"
mkdir -p "$T/src" "$T/dirty" "$T/ro"
run "$QRH_BIN" run --plain --yes --journal "$T/src/j.db" "$T/ro.md"
assert_rc 0
[ ! -e "$T/src/j.db-wal" ] || fail "a clean close left a -wal file"

# a journal still being written: its -wal holds what the file does not
export QRH_TEST_DIR=$T
printf '# Dirty\n\n## Hold {confirm=no}\n\n```sh\necho held\ni=0; while [ ! -e "$QRH_TEST_DIR/go" ] && [ $i -lt 2400 ]; do sleep 0.05; i=$((i+1)); done\n```\n' >"$T/dirty.md"
"$QRH_BIN" run --plain --yes --journal "$T/dirty/j.db" "$T/dirty.md" >"$T/dirty.log" 2>&1 &
pid=$!
trap 'kill -9 $pid 2>/dev/null; touch "$T/go"; rm -rf "$T"' EXIT
for _ in $(seq 1 400); do
	[ -s "$T/dirty/j.db-wal" ] && grep -q held "$T/dirty.log" && break
	sleep 0.05
done
kill -9 $pid
wait $pid 2>/dev/null
touch "$T/go"
[ -s "$T/dirty/j.db-wal" ] || fail "the killed run left no -wal to test with"
# copied without its -shm (SQLite can read a -wal through an existing -shm
# even on read-only media, but not without one)
rm -f "$T/dirty/j.db-shm"
chmod -R a+rX "$T"

cat >"$T/readers.sh" <<'EOF'
# $1: the read-only directory holding j.db; prints what the readers said
set -u
d=$1
"$QRH_BIN" verify --journal "$d/j.db"; echo "verify=$?"
"$QRH_BIN" list --journal "$d/j.db"; echo "list=$?"
"$QRH_BIN" show --output --journal "$d/j.db" 1; echo "show=$?"
"$QRH_BIN" export --journal "$d/j.db" 1 >/dev/null; echo "export=$?"
EOF

how=
if unshare -m --propagation private true 2>/dev/null; then
	cat >"$T/ns.sh" <<'EOF'
set -u
mount --bind "$1" "$2" && mount -o remount,bind,ro "$2" || exit 77
touch "$2/probe" 2>/dev/null && exit 77	# not really read-only
bash "$3" "$2"
EOF
	unshare -m --propagation private bash "$T/ns.sh" "$T/src" "$T/ro" "$T/readers.sh" >"$T/clean.out" 2>&1
	rc=$?
	if [ $rc -ne 77 ]; then
		unshare -m --propagation private bash "$T/ns.sh" "$T/dirty" "$T/ro" "$T/readers.sh" >"$T/dirty.out" 2>&1
		how="a read-only bind mount"
	fi
fi
if [ -z "$how" ] && id nobody >/dev/null 2>&1 && command -v runuser >/dev/null; then
	chmod a-w "$T/src" "$T/dirty"
	runuser -u nobody -- bash "$T/readers.sh" "$T/src" >"$T/clean.out" 2>&1
	runuser -u nobody -- bash "$T/readers.sh" "$T/dirty" >"$T/dirty.out" 2>&1
	chmod u+w "$T/src" "$T/dirty"
	how="a directory user nobody cannot write"
fi
[ -n "$how" ] || { echo "neither a mount namespace nor runuser is available"; exit 77; }

clean=$(cat "$T/clean.out")
assert_contains "$clean" "journal ok: 1 run"
assert_contains "$clean" "verify=0"
assert_contains "$clean" "list=0"
assert_contains "$clean" "| hello from the past"
assert_contains "$clean" "show=0"
assert_contains "$clean" "export=0"
assert_not_contains "$clean" "unable to open"
[ ! -e "$T/src/j.db-shm" ] || fail "reading left a -shm file"

dirty=$(cat "$T/dirty.out")
assert_contains "$dirty" "was not closed cleanly"
assert_contains "$dirty" "copy '"
assert_not_contains "$dirty" "verify=0"
assert_not_contains "$dirty" "unable to open"
echo "read-only media read through $how"
