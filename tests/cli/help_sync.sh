#!/usr/bin/env bash
# help_sync: the manual pages agree with the binary and the field tables.
#
#   - the commands of `qrh --help` are exactly the .SS entries of the COMMANDS
#     section of man/qrh.1, and each command's usage line (`qrh help CMD`)
#     appears there;
#   - the exit codes of `qrh --help` are exactly those of EXIT STATUS, with
#     the same meanings;
#   - `qrh --version` prints "qrh X.Y.Z", and .TH of both pages names it;
#   - `qrh help nosuch` exits 2;
#   - every field name of runbooks/fields.c, every top-level key and every
#     action kind appears in bold in man/qrh-runbook.5, and every QRH_MAX_*
#     limit of runbooks/model.h is listed there with its value.
#
# Needs QRH_BIN (the built qrh) and QRH_SRC (the repository root). Prints
# every difference; exits 0 when there is none, 1 otherwise.
set -u
: "${QRH_BIN:?QRH_BIN must name the qrh binary}" "${QRH_SRC:?QRH_SRC must name the repository root}"

man1=$QRH_SRC/man/qrh.1
man5=$QRH_SRC/man/qrh-runbook.5
fields_c=$QRH_SRC/runbooks/fields.c
tree_c=$QRH_SRC/runbooks/load_tree.c
model_c=$QRH_SRC/runbooks/model.c
model_h=$QRH_SRC/runbooks/model.h
failures=0

bad() {
	printf 'help_sync: %s\n' "$*"
	failures=$((failures + 1))
}

for f in "$man1" "$man5" "$fields_c" "$tree_c" "$model_c" "$model_h"; do
	[ -f "$f" ] || { echo "help_sync: missing $f"; exit 1; }
done

# The roff lines of one .SH section (name as written after .SH, unquoted).
section() {
	awk -v want="$2" '
		/^\.SH / {
			name = substr($0, 5)
			gsub(/"/, "", name)
			on = (name == want)
			next
		}
		on' "$1"
}

# A crude man(7)-to-text filter, enough for our own pages: font macros and
# escapes become plain text, other requests become line breaks. Reads roff
# on stdin, prints text with one paragraph/entry per line.
deroff() {
	awk '
	function unescape(s) {
		gsub(/\\f[BIRP]/, "", s)
		gsub(/\\-/, "-", s)
		gsub(/\\\(dq/, "\"", s)
		gsub(/\\\(aq/, "\047", s)
		gsub(/\\\(ga/, "`", s)
		gsub(/\\\(em/, "--", s)
		gsub(/\\\(bu/, "*", s)
		gsub(/\\&/, "", s)
		gsub(/\\ /, " ", s)
		gsub(/\\e/, "\\", s)
		return s
	}
	# Splits macro arguments, honouring "double quotes".
	function args(s, out,    n, i, c, cur, q, started) {
		n = 0; cur = ""; q = 0; started = 0
		for (i = 1; i <= length(s); i++) {
			c = substr(s, i, 1)
			if (c == "\"") { q = !q; started = 1; continue }
			if (c == " " && !q) {
				if (started) { out[++n] = cur; cur = ""; started = 0 }
				continue
			}
			cur = cur c; started = 1
		}
		if (started) out[++n] = cur
		return n
	}
	function emit(s) { line = (line == "" ? s : line " " s) }
	function flush() { if (line != "") print line; line = "" }
	/^\.\\"/ { next }
	/^\.(B|I|SM|SB) / {
		n = args(substr($0, index($0, " ") + 1), a); s = ""
		for (i = 1; i <= n; i++) s = s (i > 1 ? " " : "") a[i]
		emit(unescape(s)); next
	}
	/^\.(BR|RB|BI|IB|IR|RI) / {
		n = args(substr($0, index($0, " ") + 1), a); s = ""
		for (i = 1; i <= n; i++) s = s a[i]
		emit(unescape(s)); next
	}
	/^\.(B|I)$/ { next }
	/^\./ { flush(); next }
	{ emit(unescape($0)) }
	END { flush() }'
}

squeeze() { tr -s ' \t' '  ' | sed 's/^ //; s/ $//'; }

# ---- commands ----
help_out=$("$QRH_BIN" --help) || bad "qrh --help exited $?"
help_cmds=$(printf '%s\n' "$help_out" |
	awk '/^Commands:/ { on = 1; next } on && /^$/ { on = 0 } on { print $1 }' | sort)
[ -n "$help_cmds" ] || bad "no commands found in qrh --help"
man_cmds=$(section "$man1" COMMANDS | awk '/^\.SS / { sub(/^\.SS +/, ""); gsub(/"/, ""); print }' | sort)
[ -n "$man_cmds" ] || bad "no .SS command entries in the COMMANDS section of man/qrh.1"

for c in $help_cmds; do
	grep -qx -- "$c" <<<"$man_cmds" || bad "command '$c' is in qrh --help but not in the COMMANDS section of man/qrh.1"
done
for c in $man_cmds; do
	grep -qx -- "$c" <<<"$help_cmds" || bad "command '$c' is in the COMMANDS section of man/qrh.1 but not in qrh --help"
done

commands_text=$(section "$man1" COMMANDS | deroff | squeeze)
for c in $help_cmds; do
	first=$("$QRH_BIN" help "$c" | head -n 1)
	case $first in
	"usage: "*) ;;
	*) bad "qrh help $c: first line is not 'usage: ...': $first"; continue ;;
	esac
	syn=$(printf '%s\n' "${first#usage: }" | squeeze)
	if ! grep -qF -- "$syn" <<<"$commands_text"; then
		bad "synopsis of '$c' not in man/qrh.1 COMMANDS: '$syn'"
		printf '  man has: %s\n' "$(grep -F -- "qrh $c" <<<"$commands_text" | head -n 1)"
	fi
done

# ---- exit status ----
exit_line=$(printf '%s\n' "$help_out" | grep '^Exit status:' | head -n 1)
[ -n "$exit_line" ] || bad "no 'Exit status:' line in qrh --help"
exit_line=${exit_line#Exit status: }
exit_line=${exit_line%.}
declare -A help_exit=()
IFS=',' read -ra parts <<<"$exit_line"
for p in "${parts[@]}"; do
	p=$(printf '%s' "$p" | squeeze)
	code=${p%% *}
	desc=${p#* }
	[[ $code =~ ^[0-9]+$ ]] || { bad "cannot read exit code from '$p' in qrh --help"; continue; }
	help_exit[$code]=$desc
done
[ "$(printf '%s\n' "${!help_exit[@]}" | sort -n | tr '\n' ' ')" = "0 1 2 3 " ] ||
	bad "qrh --help lists exit codes '${!help_exit[*]}', expected 0 1 2 3"

# EXIT STATUS entries: .TP / .B N / text...
declare -A man_exit=()
while IFS=$'\t' read -r code text; do
	man_exit[$code]=$text
done < <(section "$man1" "EXIT STATUS" | awk '
	/^\.TP/ { tp = 1; next }
	tp && /^\.B [0-9]+$/ { if (code != "") print code "\t" text; code = $2; text = ""; tp = 0; next }
	/^\.(SH|SS|PP)/ { if (code != "") print code "\t" text; code = ""; text = ""; next }
	{ tp = 0; if (code != "" && $0 !~ /^\./) text = text " " $0 }
	END { if (code != "") print code "\t" text }')
for code in "${!help_exit[@]}"; do
	if [ -z "${man_exit[$code]+x}" ]; then
		bad "exit code $code (${help_exit[$code]}) is in qrh --help but not in EXIT STATUS of man/qrh.1"
		continue
	fi
	want=$(printf '%s' "${help_exit[$code]}" | tr '[:upper:]' '[:lower:]')
	have=$(printf '%s\n' "${man_exit[$code]}" | deroff | tr '[:upper:]' '[:lower:]' | squeeze)
	grep -qF -- "$want" <<<"$have" ||
		bad "exit code $code: qrh --help says '${help_exit[$code]}', man/qrh.1 says '$have'"
done
for code in "${!man_exit[@]}"; do
	[ -n "${help_exit[$code]+x}" ] || bad "exit code $code is in EXIT STATUS of man/qrh.1 but not in qrh --help"
done

# ---- version ----
version=$("$QRH_BIN" --version)
rc=$?
[ $rc -eq 0 ] || bad "qrh --version exited $rc"
if [[ $version =~ ^qrh\ [0-9]+\.[0-9]+\.[0-9]+$ ]]; then
	for m in "$man1" "$man5"; do
		grep -q "^\.TH .*\"$version\"" "$m" ||
			bad "$(basename "$m"): .TH does not name \"$version\": $(grep '^\.TH' "$m")"
	done
else
	bad "qrh --version printed '$version', expected 'qrh X.Y.Z'"
fi
v2=$("$QRH_BIN" version)
[ "$v2" = "$version" ] || bad "qrh version printed '$v2', qrh --version '$version'"

# ---- help for an unknown command ----
"$QRH_BIN" help nosuch >/dev/null 2>&1
rc=$?
[ $rc -eq 2 ] || bad "qrh help nosuch exited $rc, expected 2"

# ---- runbook field names ----
in_bold() {
	local n=$1
	grep -qF -- "\\fB$n\\fR" "$man5" && return 0
	grep -qF -- "\\fB$n=" "$man5" && return 0
	grep -qE -- "^\.BR? \"?$n\"?( |$)" "$man5" && return 0
	return 1
}
names=$(grep -oE '(^|[^A-Z_])(F|STEPF|ACTF)\("[a-z_]+"' "$fields_c" | sed -E 's/.*\("//; s/"$//' | sort -u)
[ "$(wc -l <<<"$names")" -ge 40 ] || bad "found only $(wc -l <<<"$names") field names in runbooks/fields.c; has its layout changed?"
top=$(awk '/top_names\[\] *=/ { on = 1 } on { print } on && /};/ { exit }' "$tree_c" | grep -oE '"[a-z_]+"' | tr -d '"')
[ -n "$top" ] || bad "cannot find top_names in runbooks/load_tree.c"
kinds=$(grep -oE '\[ACTION_[A-Z]+\] = "[a-z]+"' "$model_c" | sed -E 's/.*= "//; s/"$//')
[ -n "$kinds" ] || bad "cannot find the action kind names in runbooks/model.c"
for n in $names $top $kinds kind actions; do
	in_bold "$n" || bad "'$n' is not documented in bold in man/qrh-runbook.5"
done

# ---- limits ----
while read -r name expr; do
	expr=${expr//u/}
	value=$((expr))
	awk -v n="$name" -v v="$value" '
		prev == ".B " n && index($0, v) == 1 { found = 1 }
		{ prev = $0 }
		END { exit !found }' "$man5" ||
		bad "limit $name ($value) is not listed as '.B $name' followed by its value in man/qrh-runbook.5"
done < <(grep -E '^#define QRH_MAX_[A-Z_]+ ' "$model_h" | awk '{ n = $2; $1 = ""; $2 = ""; print n, $0 }')

if [ $failures -ne 0 ]; then
	echo "help_sync: $failures difference(s)"
	exit 1
fi
echo "help_sync: man pages agree with qrh --help and the field tables"
