# Helpers for shell tests: source it, then call the assertions. A failed
# assertion prints what was expected and exits 1. Work goes in $T, removed
# on exit.
set -u
: "${QRH_BIN:?QRH_BIN must point at the built qrh}"
: "${QRH_SRC:=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
T=$(mktemp -d "${TMPDIR:-/tmp}/qrh-test.XXXXXX")
trap 'rm -rf "$T"' EXIT

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

# run CMD...: sets $out, $err and $rc
run() {
	"$@" >"$T/.out" 2>"$T/.err"
	rc=$?
	out=$(cat "$T/.out")
	err=$(cat "$T/.err")
}

assert_rc() {
	[ "$rc" -eq "$1" ] || fail "expected exit $1, got $rc${2:+ ($2)}; stderr: $err"
}

assert_contains() { # HAYSTACK NEEDLE
	case "$1" in
	*"$2"*) ;;
	*) fail "expected to find: $2
in: $1" ;;
	esac
}

assert_not_contains() {
	case "$1" in
	*"$2"*) fail "did not expect: $2
in: $1" ;;
	esac
}

assert_eq() {
	[ "$1" = "$2" ] || fail "expected: $2
got: $1"
}
