#!/usr/bin/env bash
# The console's key table (qrh help keys) and the KEY BINDINGS section of
# man/qrh.1 list the same keys with the same words.
. "$(dirname "$0")/../lib.sh"
"$QRH_BIN" help keys >"$T/keys" || fail "qrh help keys failed"
[ "$(wc -l <"$T/keys")" -ge 10 ] || fail "too few keys: $(cat "$T/keys")"
awk '/^\.SH KEY BINDINGS/ { on = 1; next } /^\.SH / { on = 0 } on' "$QRH_SRC/man/qrh.1" |
	awk '/^\.TP/ { getline n; getline h; gsub(/^\.B "|"$/, "", n); gsub(/\\-/, "-", h); printf "%-12s %s\n", n, h }' >"$T/man"
diff -u "$T/keys" "$T/man" || fail "qrh help keys and man/qrh.1 KEY BINDINGS differ"
echo "keys: $(wc -l <"$T/keys") bindings in step"
