#!/bin/sh
# make demo: everything a new user needs for the failover drill, in one
# command. Installs the dependencies when one is missing (tools/deps.sh),
# builds qrh, brings the DR sandbox up (qrh sandbox up; it stays up
# after the demo for another try: make demo-stop takes it down) and opens
# the console on runbooks/library/stage-dr-failover.md as a drill. An
# unfinished drill in the demo's journal is offered for resuming first.
# Leaving the demo (quitting, or the drill ending, well or not) is not an
# error: exit 0; a failure to set it up is.
#
#   QRH_DEMO_DIR   the demo's journal directory (default $TMPDIR/qrh-demo)
#   QRH_SANDBOX_DIR  the sandbox (default /tmp/qrh-sandbox)
#   QRH_DEMO_BIN   a qrh already built: skip the dependencies and the
#                  build (the tests give theirs)
set -u
cd "$(dirname "$0")/.." || exit 1
MAKE=${MAKE:-make}
DEMO_DIR=${QRH_DEMO_DIR:-${TMPDIR:-/tmp}/qrh-demo}
JOURNAL=$DEMO_DIR/journal.db
RUNBOOK=runbooks/library/stage-dr-failover.md

# The build's libraries, the sandbox's servers, the console's terminal.
deps_present() {
	command -v pkg-config >/dev/null 2>&1 &&
		pkg-config --exists ncursesw libcurl libcjson libssh2 sqlite3 libpq \
			libcmark-gfm yaml-0.1 libcrypto 2>/dev/null &&
		command -v cc >/dev/null 2>&1 && command -v python3 >/dev/null 2>&1 &&
		ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1
}

QRH=${QRH_DEMO_BIN:-./qrh}
if [ -z "${QRH_DEMO_BIN:-}" ]; then
	if ! deps_present; then
		echo "demo: a dependency is missing: make deps"
		"$MAKE" --no-print-directory deps || exit 1
	fi
	"$MAKE" --no-print-directory qrh build/tests/pg_writer || exit 1
fi
"$QRH" sandbox up || {
	echo "demo: the sandbox did not come up (qrh sandbox status says which part)" >&2
	exit 1
}
mkdir -p "$DEMO_DIR" || exit 1

unfinished=$("$QRH" list --journal "$JOURNAL" 2>/dev/null |
	awk '$3 == "drill" && $4 == "unfinished" { print $1; exit }')
resume=n
if [ -n "$unfinished" ]; then
	if [ -t 0 ]; then
		printf 'demo: drill %s is unfinished. Resume it? [Y/n] ' "$unfinished"
		read -r answer || answer=n
		case $answer in [nN]*) ;; *) resume=y ;; esac
	fi
fi
if [ "$resume" = y ]; then
	"$QRH" resume --journal "$JOURNAL" "$unfinished"
else
	"$QRH" drill --journal "$JOURNAL" "$RUNBOOK"
fi
rc=$?
case $rc in
0 | 1 | 3)
	echo "demo: the sandbox stays up: make demo for another try (it offers an unfinished drill)," \
		"make demo-stop to take it down; journal $JOURNAL"
	exit 0
	;;
*) exit "$rc" ;;
esac
