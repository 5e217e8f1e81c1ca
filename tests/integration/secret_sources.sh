#!/usr/bin/env bash
# Secrets need not be on the command line: -v NAME=@FILE (a private file),
# -v NAME=@env:VAR, -v NAME=@fd:N; @@ writes a literal @. A secret given
# literally still works, with a warning that ps shows it.
. "$(dirname "$0")/../lib.sh"
export QRH_TEST_DIR=$T
cat >"$T/s.md" <<'RB'
---
vars:
  PW:
    secret: true
  NAME: {}
---
# Secrets

## Use them {confirm=no}
```sh
printf '%s' "$PW" >"$QRH_TEST_DIR/got"
printf '%s' "$NAME" >"$QRH_TEST_DIR/name"
[ -z "${SRC_PW+x}" ] && touch "$QRH_TEST_DIR/env-gone"
echo "pw is $PW"
```
RB
n=0
go() { # ARGS...: one run in a fresh journal; sets out, err, rc
	n=$((n + 1))
	rm -f "$T/got" "$T/name" "$T/env-gone"
	run "$QRH_BIN" run --plain --journal "$T/j$n.db" "$@" "$T/s.md"
}
got() { cat "$T/got" 2>/dev/null; }

printf 's3cr3t\n' >"$T/pw"
chmod 600 "$T/pw"
go -v PW=@"$T/pw" -v NAME=alice
assert_rc 0 "$err"
assert_eq "$(got)" "s3cr3t"
assert_not_contains "$err" "warning"
assert_contains "$out" "pw is ***"
assert_not_contains "$(sqlite3 "$T/j$n.db" 'select group_concat(payload) from events')" "s3cr3t"

chmod 644 "$T/pw"
go -v PW=@"$T/pw" -v NAME=alice
assert_rc 2 "a secret's file readable by others"
assert_contains "$err" "-v PW: '$T/pw' is readable by its group or others (mode 0644)"
[ ! -e "$T/got" ] || fail "a step ran with a secret from a world-readable file"
# a variable that is not secret may come from any readable file
printf 'bob\n' >"$T/name.txt"
chmod 644 "$T/name.txt" "$T/pw"
chmod 600 "$T/pw"
go -v PW=@"$T/pw" -v NAME=@"$T/name.txt"
assert_rc 0 "$err"
assert_eq "$(cat "$T/name")" "bob"

SRC_PW='from env' go -v PW=@env:SRC_PW -v NAME=x
assert_rc 0 "$err"
assert_eq "$(got)" "from env"
[ -e "$T/env-gone" ] || fail "the step inherited SRC_PW, the secret's source"
go -v PW=@env:NOT_SET_ANYWHERE -v NAME=x
assert_rc 2
assert_contains "$err" "environment variable 'NOT_SET_ANYWHERE' is not set"

printf 'by fd\n' >"$T/fd.txt"
go -v PW=@fd:3 -v NAME=x 3<"$T/fd.txt"
assert_rc 0 "$err"
assert_eq "$(got)" "by fd"
go -v PW=@fd:7 -v NAME=x
assert_rc 2
assert_contains "$err" "file descriptor 7 is not open"

go -v PW=@@literal -v NAME=@@home
assert_rc 0 "$err"
assert_eq "$(got)" "@literal"
assert_eq "$(cat "$T/name")" "@home"
assert_contains "$err" "warning: the secret PW was given on the command line"

go -v PW=plain -v NAME=x
assert_rc 0 "$err"
assert_eq "$(got)" "plain"
assert_contains "$err" "qrh run: warning: the secret PW was given on the command line, where ps and /proc show it to others: use -v PW=@FILE"
assert_not_contains "$err" "NAME was given"

go -v PW=@"$T/missing" -v NAME=x
assert_rc 2
assert_contains "$err" "-v PW: cannot open '$T/missing'"
echo "secret sources: file, env, fd"
