#!/usr/bin/env bash
# man_render: both manual pages render with groff without a single warning.
# Exits 77 (skip) when groff is not installed.
set -u
: "${QRH_SRC:=$(cd "${BASH_SOURCE[0]%/*}/../.." && pwd)}"
if ! command -v groff >/dev/null 2>&1; then
	echo "groff not installed"
	exit 77
fi
status=0
for page in "$QRH_SRC"/man/qrh.1 "$QRH_SRC"/man/qrh-runbook.5; do
	if [ ! -f "$page" ]; then
		echo "man_render: missing $page"
		status=1
		continue
	fi
	for dev in utf8 ascii; do
		out=$(groff -man -T"$dev" -ww -z "$page" 2>&1)
		if [ -n "$out" ]; then
			echo "man_render: groff -man -T$dev -ww warns on $(basename "$page"):"
			printf '%s\n' "$out" | sed 's/^/    /'
			status=1
		fi
	done
	# The rendered page must not be empty (a broken .TH or macro package).
	lines=$(groff -man -Tutf8 "$page" 2>/dev/null | grep -c .)
	if [ "$lines" -lt 20 ]; then
		echo "man_render: $(basename "$page") renders to only $lines lines"
		status=1
	fi
done
[ $status -eq 0 ] && echo "man_render: both pages render without warnings"
exit $status
