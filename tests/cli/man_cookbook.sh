#!/usr/bin/env bash
# Every example of the COOKBOOK in man/qrh-runbook.5 works in this
# release: each is taken out of the page as a reader would copy it, passes
# qrh check without a word, and runs to the end in plain mode (with the
# commands it runs stubbed on PATH); the journal shows that each did what
# the page says: the check ran on its own, the promotion took its typed
# word, the background load ran until the wait stopped it, the wait
# waited, the manual step was confirmed, the fan-out ran once per member.
. "$(dirname "$0")/../lib.sh"

# The examples, named by the ".\" cookbook: NAME" line opening each, with
# the page's escapes turned back into the characters they print.
mkdir -p "$T/cook" "$T/bin"
awk -v dir="$T/cook" '
	/^\.SH COOKBOOK/ { on = 1; next }
	/^\.SH / { on = 0 }
	!on { next }
	/^\.\\" cookbook: / { file = dir "/" $3 ".md"; next }
	/^\.EE/ { file = ""; next }
	file != "" { print > file }
' "$QRH_SRC/man/qrh-runbook.5"
for f in "$T"/cook/*.md; do
	sed -i -e 's/\\(ga/`/g' -e "s/\\\\(aq/'/g" -e 's/\\-/-/g' -e 's/\\e/\\/g' "$f"
done
names=$(cd "$T/cook" && ls | sed 's/\.md$//' | sort | tr '\n' ' ')
assert_eq "$names" "background check fanout manual promote wait "

# The commands the examples run, as stubs that say what they were asked.
for cmd in pg_isready pg_ctl curl; do
	printf '#!/bin/sh\necho "%s $*"\n' "$cmd" >"$T/bin/$cmd"
done
cat >"$T/bin/k6" <<'SH'
#!/bin/sh
echo "k6 $*"
while :; do echo "k6: 20 vus running"; sleep 0.2; done
SH
chmod +x "$T"/bin/*
export PATH="$T/bin:$PATH"

run_example() { # NAME ARGS...
	local name=$1
	shift
	run "$QRH_BIN" check "$T/cook/$name.md"
	assert_rc 0 "qrh check $name"
	[ -z "$err" ] || fail "qrh check $name warns: $err"
	run "$QRH_BIN" run --plain --journal "$T/$name.db" "$@" "$T/cook/$name.md"
	assert_rc 0 "the $name example"
	assert_contains "$out" "ended: ok"
	"$QRH_BIN" verify --journal "$T/$name.db" >/dev/null || fail "qrh verify: $name"
}

q() { # NAME SQL
	sqlite3 "$T/$1.db" "$2"
}

run_example check
assert_eq "$(q check "select json_extract(payload,'\$.how') from events where type='step_confirm'")" auto
assert_contains "$out" "pg_isready -h db-replica -p 5432"

run "$QRH_BIN" run --plain --yes --journal "$T/refused.db" "$T/cook/promote.md"
assert_rc 2 "--yes does not confirm a typed step"
assert_contains "$err" "--typed promote-the-replica=PROMOTE"
run_example promote --typed promote-the-replica=PROMOTE
assert_eq "$(q promote "select json_extract(payload,'\$.how') from events where type='step_confirm'")" typed
assert_contains "$out" "pg_ctl promote -D /var/lib/postgresql/15/main"

run_example background --yes
assert_contains "$out" "k6: 20 vus running"
assert_contains "$out" "curl -fsS -X POST https://lb.example.com/admin/switch-to-dr"
assert_eq "$(q background "select count(*) from events where type='background_start'")" 1
assert_eq "$(q background "select step from events where type='background_end'")" 0
# stopped by the wait of step 3, before the run ended
assert_eq "$(q background "select (select seq from events where type='background_end') <
	(select seq from events where type='step_end' and step=2)")" 1

run_example wait --yes
[ "$(q wait "select json_extract(payload,'\$.duration_ms') from events where type='step_end'")" -ge 5000 ] ||
	fail "the wait did not wait five seconds"

run_example manual --yes
assert_eq "$(q manual "select json_extract(payload,'\$.status') || ':' || json_extract(payload,'\$.summary')
	from events where type='step_end'")" "ok:done"

run_example fanout --yes
for h in web1 web2 web3; do
	assert_contains "$out" "curl -fsS -X POST http://$h.example.com:8080/admin/drain"
done
assert_eq "$(q fanout "select count(*) from events where type='task_start'")" 3
echo "man cookbook: 6 examples checked and run"
