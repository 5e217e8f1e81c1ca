# Helpers for console tests driven through tmux, in the manner of tmux's
# own regress tests: source lib.sh, then this. Each test gets a private
# tmux server (socket qrh-$$, no config file), killed on exit with $T.
#
#   tui_start NAME COLS LINES [VAR=value...] -- CMD...
#                       a detached session running CMD under a fresh
#                       environment (LANG=C.UTF-8, TERM=tmux-256color unless
#                       given); when CMD exits the pane prints
#                       "[exit N]", then reads a line and echoes it back as
#                       "[read LINE]", so a test can check the terminal
#                       works again after qrh left it
#   wait_for NAME TEXT  poll the screen every 50 ms until TEXT shows; the
#                       screen that showed it is in $last_screen
#   wait_gone NAME TEXT until TEXT no longer shows
#   dialog NAME TEXT    wait for TEXT (a dialog's), then until the dialog
#                       takes keys: a dialog drops keys for its first
#                       250 ms, and says so until then
#   keys NAME KEY...    tmux send-keys (key names: Enter, Escape, Up, ...)
#   type_text NAME TEXT the text literally, then nothing else
#   screen NAME         the screen as text (capture-pane -p)
#   assert_joined NAME TEXT  TEXT is on the screen, lines that wrapped
#                       joined again (a leave line longer than the pane)
#   qrh_pid NAME        the pid of the qrh the pane runs
#   normalize           stdin to stdout with clocks, durations, run ids and
#                       hashes replaced, for golden screens
#
# Timeouts are generous (TUI_TIMEOUT seconds, 10 by default, tripled under
# the sanitizers): a slow machine makes the tests slower, never red.
command -v tmux >/dev/null 2>&1 || { echo "tmux is not installed"; exit 77; }
: "${T:?source tests/lib.sh first}"

TUI_SOCK=qrh-$$
TUI_TIMEOUT=${TUI_TIMEOUT:-10}
[ -n "${QRH_SANITIZE:-}" ] && TUI_TIMEOUT=$((TUI_TIMEOUT * 3))
TUI_GOLDEN=$QRH_SRC/tests/integration/golden

tm() {
	tmux -L "$TUI_SOCK" -f /dev/null "$@"
}

tui_cleanup() {
	tm kill-server >/dev/null 2>&1
	rm -f "${TMUX_TMPDIR:-/tmp}/tmux-$(id -u)/$TUI_SOCK"
	rm -rf "$T"
}
trap tui_cleanup EXIT

# A session that lives as long as the test, so that killing a test's
# last session never makes the server exit while the next one starts.
tm new-session -d -s keep -x 80 -y 24 "exec sleep 3600" || fail "tmux cannot start"

# Terminal type: tmux's own when this machine knows it, else screen.
if infocmp tmux-256color >/dev/null 2>&1; then
	TUI_TERM=tmux-256color
else
	TUI_TERM=screen
fi

tui_start() {
	local name=$1 cols=$2 lines=$3 script=$T/.tui-$1.sh
	shift 3
	{
		printf 'cd %q\n' "$T"
		printf 'export LANG=C.UTF-8 TERM=%q QRH_TEST_DIR=%q\n' "$TUI_TERM" "$T"
		echo 'unset LC_ALL LC_CTYPE NO_COLOR QRH_ASCII QRH_JOURNAL'
		while [ $# -gt 0 ] && [ "$1" != -- ]; do
			printf 'export %q\n' "$1"
			shift
		done
		[ "${1:-}" = -- ] && shift
		printf '%q ' "$@"
		printf '\n'
		echo 'rc=$?'
		echo 'printf "[exit %d]\\n" "$rc"'
		echo 'IFS= read -r line; printf "[read %s]\\n" "$line"'
		echo 'exec sleep 600'
	} >"$script"
	tm new-session -d -x "$cols" -y "$lines" -s "$name" "exec bash $script" ||
		fail "tmux cannot start a session"
}

screen() {
	tm capture-pane -p -t "$1"
}

# Prints the screen and fails: what the test waited for never came.
tui_timeout() {
	echo "--- screen of $1 ---" >&2
	screen "$1" >&2
	echo "---" >&2
	fail "$2"
}

wait_for() {
	local name=$1 text=$2 i=0 max=$((TUI_TIMEOUT * 20))
	while [ $i -lt $max ]; do
		last_screen=$(screen "$name")
		case "$last_screen" in
		*"$text"*) return 0 ;;
		esac
		sleep 0.05
		i=$((i + 1))
	done
	tui_timeout "$name" "timed out after ${TUI_TIMEOUT}s waiting for: $text"
}

wait_gone() {
	local name=$1 text=$2 i=0 max=$((TUI_TIMEOUT * 20))
	while [ $i -lt $max ]; do
		case "$(screen "$name")" in
		*"$text"*) ;;
		*) return 0 ;;
		esac
		sleep 0.05
		i=$((i + 1))
	done
	tui_timeout "$name" "timed out after ${TUI_TIMEOUT}s waiting for this to go: $text"
}

TUI_GUARD="one moment: keys typed now are ignored"

dialog() {
	wait_for "$1" "$2"
	wait_gone "$1" "$TUI_GUARD"
}

# wait_exit NAME: waits for qrh to leave; sets $exit_code.
# The exit line is read with wrapped lines joined: after a kill -9 the
# console leaves the cursor where it was, and "[exit 137]" may wrap there.
wait_exit() {
	wait_for "$1" "[exit "
	exit_code=$(tm capture-pane -p -J -t "$1" | sed -n 's/.*\[exit \([0-9]*\)\].*/\1/p' | tail -n1)
}

keys() {
	local name=$1
	shift
	tm send-keys -t "$name" "$@"
}

type_text() {
	tm send-keys -t "$1" -l "$2"
}

qrh_pid() {
	local shell
	shell=$(tm display -p -t "$1" '#{pane_pid}')
	pgrep -P "$shell" -f "$(basename "$QRH_BIN")" | head -n1
}

assert_screen() { # NAME TEXT
	case "$(screen "$1")" in
	*"$2"*) ;;
	*) tui_timeout "$1" "expected on the screen: $2" ;;
	esac
}

assert_joined() { # NAME TEXT
	case "$(tm capture-pane -p -J -t "$1")" in
	*"$2"*) ;;
	*) tui_timeout "$1" "expected on the screen (wrapped lines joined): $2" ;;
	esac
}

assert_not_screen() { # NAME TEXT
	case "$(screen "$1")" in
	*"$2"*) tui_timeout "$1" "did not expect on the screen: $2" ;;
	esac
}

normalize() {
	sed -E \
		-e 's/T\+[0-9]{2}:[0-9]{2}:[0-9]{2}/T+HH:MM:SS/g' \
		-e 's/head [0-9]+:[0-9a-f]*/head N:HASH/g' \
		-e 's/run [0-9]+ /run N /g' \
		-e 's/[0-9]+\.[0-9]s/N.Ns/g' \
		-e 's/[0-9]+m[0-9]{2}s/NmNNs/g' \
		-e 's/[ ]+$//'
}

# golden NAME FILE: the normalised screen equals tests/integration/golden/FILE.
# QRH_GOLDEN_UPDATE=1 writes the file instead.
golden() {
	local name=$1 file=$TUI_GOLDEN/$2
	screen "$name" | normalize >"$T/.golden"
	if [ -n "${QRH_GOLDEN_UPDATE:-}" ]; then
		mkdir -p "$TUI_GOLDEN"
		cp "$T/.golden" "$file"
		return 0
	fi
	[ -f "$file" ] || fail "no golden file $file (QRH_GOLDEN_UPDATE=1 writes it)"
	diff -u "$file" "$T/.golden" >&2 || fail "screen differs from golden/$2"
}

# journal QUERY: sqlite3 on the test's journal $T/j.db.
journal() {
	sqlite3 "${TUI_DB:-$T/j.db}" "$1"
}
