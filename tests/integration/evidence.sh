#!/usr/bin/env bash
# Evidence bundles: every file present and consistent with the others, with
# the journal and with qrh verify; junit.xml valid against tests/junit.xsd;
# a bundle of a run in progress says so on every page; a run resumed by a
# second operator shows both and the handover in show and evidence.md;
# signatures and five tamperings, each named; anchored heads that catch a
# truncated journal and one rewritten from scratch.
. "$(dirname "$0")/../lib.sh"
. "$QRH_SRC/tests/evidence_lib.sh"

for tool in sqlite3 xmllint ssh-keygen sha256sum python3; do
	command -v $tool >/dev/null || { echo "$tool is not installed"; exit 77; }
done
export LC_ALL=C.UTF-8
db=$T/j.db
rb=$T/rb.md
evidence_runbook "$rb"

# ---- a run in progress ----
evidence_first "$db" "$rb"
rc=$?
[ $rc -eq 2 ] || fail "the first session should stop at the typed step (exit 2), got $rc: $(cat "$T/first.err")"
run "$QRH_BIN" export --journal "$db" -o "$T/live" 1
assert_rc 0
assert_contains "$err" "still in progress"
for f in evidence.md report.html junit.xml MANIFEST; do
	grep -q "IN PROGRESS" "$T/live/$f" || fail "$f of a run in progress does not say so"
done
grep -q 'id="in-progress"' "$T/live/report.html" || fail "report.html has no in-progress banner"
grep -q '<property name="qrh.in_progress" value="true"/>' "$T/live/junit.xml" || fail "junit.xml: in_progress"
assert_eq "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["run"]["in_progress"])' "$T/live/evidence.json")" "True"
# the head on leaving: printed, and appended to --head-file
live_head=$(sqlite3 "$db" "select id || ':' || head_seq || ':' || head_hash from runs where id = 1")
assert_contains "$(cat "$T/first.out")" "journal head $live_head"
grep -q "^$live_head .* in-progress$" "$T/heads" || fail "--head-file lacks the live head: $(cat "$T/heads")"

# ---- resumed by another operator, to the end ----
evidence_second "$db" "$rb"
rc=$?
[ $rc -eq 1 ] || fail "the run should end failed (its flaky step), got $rc: $(cat "$T/second.err")"
head=$(sqlite3 "$db" "select id || ':' || head_seq || ':' || head_hash from runs where id = 1")
grep -q "^$head " "$T/heads" || fail "--head-file lacks the final head"
run "$QRH_BIN" show --journal "$db" 1
assert_contains "$out" "handover"
assert_contains "$out" "from alice to bob"
assert_contains "$out" "members: web1 ok, web2 failed, web3 ok"

run "$QRH_BIN" export --journal "$db" -o "$T/b" 1
assert_rc 0
B=$T/b
for f in evidence.json evidence.md junit.xml report.html runbook.md MANIFEST; do
	[ -s "$B/$f" ] || fail "the bundle has no $f"
done
[ ! -e "$B/MANIFEST.sig" ] || fail "an unsigned bundle has a signature"
(cd "$B" && sha256sum --quiet -c MANIFEST) || fail "sha256sum -c MANIFEST fails"
xmllint --noout --schema "$QRH_SRC/tests/junit.xsd" "$B/junit.xml" 2>"$T/xmllint" ||
	fail "junit.xml is not valid JUnit: $(cat "$T/xmllint")"
! grep -rq "$EVIDENCE_SECRET" "$B" || fail "the secret is in the bundle"
grep -q "IN PROGRESS" "$B/evidence.md" && fail "a finished run's bundle says in progress"

# every document against the others, the journal and qrh verify
run "$QRH_BIN" verify --journal "$db" 1
assert_rc 0
verify_out=$out
for f in json:evidence.json md:evidence.md junit:junit.xml html:report.html; do
	"$QRH_BIN" export --journal "$db" -f "${f%%:*}" 1 >"$T/one" || fail "export -f ${f%%:*}"
	cmp -s "$T/one" "$B/${f#*:}" || fail "${f#*:} is not what export -f ${f%%:*} writes"
done
sqlite3 -json "$db" "select seq, type, payload from events where run_id = 1 order by seq" >"$T/events.json"
python3 - "$B" "$head" "$verify_out" "$T/events.json" "$(sha256sum <"$rb" | cut -d' ' -f1)" <<'PY' ||
import json, hashlib, os, re, sys, xml.etree.ElementTree as ET
b, head, verify, events_file, rb_sha = sys.argv[1:6]
doc = json.load(open(f"{b}/evidence.json"))
events = json.load(open(events_file))
def die(msg): sys.exit(msg)
# heads: journal, evidence.json, MANIFEST, qrh verify
run_id, seq, h = head.split(":")
if (doc["head"]["seq"], doc["head"]["hash"], doc["run"]["id"]) != (int(seq), h, int(run_id)):
    die(f"evidence.json head {doc['head']} is not the journal's {head}")
manifest = open(f"{b}/MANIFEST").read()
if f"# head: {head}\n" not in manifest: die("MANIFEST does not hold the head")
if f"head {run_id}:{seq}:{h[:12]}" not in verify: die(f"qrh verify says another head: {verify}")
# the runbook as run
if hashlib.sha256(open(f"{b}/runbook.md", "rb").read()).hexdigest() != rb_sha or doc["run"]["runbook_sha256"] != rb_sha:
    die("runbook.md is not the runbook the run recorded")
# variables, operators, handover, timings
if doc["vars"] != {"TICKET": "CHG-1234", "TOKEN": "***"}: die(f"vars: {doc['vars']}")
if doc["operators"] != ["alice", "bob"]: die(f"operators: {doc['operators']}")
hs = doc["handovers"]
if len(hs) != 1 or (hs[0]["from"], hs[0]["to"]) != ("alice", "bob"): die(f"handovers: {hs}")
if doc["clock"]["wall_jumps"] != []: die("a wall-clock jump where there was none")
ends = {}
for e in events:
    p = json.loads(e["payload"])
    if e["type"] == "step_end":
        ends[(p["step_id"], p["attempt"])] = p["duration_ms"]
timed = {}
for s in doc["steps"]:
    for t in s["timings"]:
        if t["duration_ms"] is not None:
            timed[(s["id"], t["attempt"])] = t["duration_ms"]
if timed != ends: die(f"timings {timed} are not the journal's step ends {ends}")
flaky = next(s for s in doc["steps"] if s["id"] == "flaky-probe")
if [t["status"] for t in flaky["timings"]] != ["failed", "failed"]: die("flaky timings")
if flaky["timings"][1]["at_ms"] <= flaky["timings"][0]["at_ms"]: die("attempt 2 does not start after 1")
manual = next(s for s in doc["steps"] if s["id"] == "tell-the-channel")
if manual["status"] != "ok" or manual["confirmed_by"]["actor"] != "bob": die(f"manual step: {manual}")
# every output file is the stream its task's end event hashed
for e in events:
    p = json.loads(e["payload"])
    if e["type"] not in ("action_end", "task_end") or "task" not in p: continue
    for stream in ("stdout", "stderr"):
        want = p[stream]["sha256"]
        files = [f for f in os.listdir(b + "/outputs/" + [d for d in os.listdir(b + "/outputs")
                 if d.endswith(p["step_id"])][0]) if re.search(rf"-task-{p['task']}(-[^.]*)?\.{stream}$", f)]
        if len(files) != 1: die(f"task {p['task']} {stream}: files {files}")
        if "label" in p and not files[0].endswith(f"-{p['label']}.{stream}"): die(f"{files[0]}: no label")
        step_dir = [d for d in os.listdir(b + "/outputs") if d.endswith(p["step_id"])][0]
        got = hashlib.sha256(open(f"{b}/outputs/{step_dir}/{files[0]}", "rb").read()).hexdigest()
        if got != want: die(f"{files[0]} is not the stream task {p['task']} recorded")
# what each attempt ran where: every action_start's target and fan-out, every
# member's end, in evidence.json and evidence.md
acts = {(s["index"], t["attempt"], a["action"]): a
        for s in doc["steps"] for t in s["timings"] for a in t["actions"]}
starts = [(e, json.loads(e["payload"])) for e in events if e["type"] == "action_start"]
if len(acts) != len(starts): die(f"{len(acts)} actions in evidence.json, {len(starts)} started")
fleet = None
for e, p in starts:
    idx = next(s["index"] for s in doc["steps"] if s["id"] == p["step_id"])
    a = acts[(idx, p["attempt"], p["action"])]
    if a["target"] != p.get("target") or a["fanout"] != p.get("fanout") or a["command"] != p["command"]:
        die(f"action {p} is not in evidence.json as started: {a}")
    if a["fanout"]: fleet = a
if acts[(3, 1, 0)]["target"]["host"] != "web1.invalid": die("the targeted action's host")
members = [(json.loads(e["payload"])["label"], json.loads(e["payload"])["status"],
            json.loads(e["payload"])["duration_ms"]) for e in events if e["type"] == "task_end"]
if [(h["label"], h["status"], h["duration_ms"]) for h in fleet["hosts"]] != members or \
        [m[1] for m in members] != ["ok", "failed", "ok"]:
    die(f"fan-out members {fleet['hosts']} are not the journal's {members}")
# junit: a testcase per step, its status and wall time
suite = ET.parse(f"{b}/junit.xml").getroot().find("testsuite")
cases = suite.findall("testcase")
if len(cases) != len(doc["steps"]): die("junit: not one testcase per step")
for s, c in zip(doc["steps"], cases):
    if abs(float(c.get("time")) * 1000 - s["elapsed_ms"]) > 1: die(f"junit time of {s['id']}")
    failed = c.find("failure") is not None
    if failed != (s["status"] in ("failed", "timeout")): die(f"junit verdict of {s['id']}")
if int(suite.get("failures")) != 1 or "trying" not in cases[1].find("failure").text:
    die("junit: the flaky step's failure and its output tail")
props = {p.get("name"): p.get("value") for p in suite.find("properties")}
if props["qrh.head"] != head or props["qrh.operators"] != "alice, bob": die(f"junit properties {props}")
# evidence.md: the timeline's statuses, the handover, the reasons and excerpts
md = open(f"{b}/evidence.md").read()
for s in doc["steps"]:
    row = next((l for l in md.splitlines() if l.startswith(f"| {s['index'] + 1} | ")), None)
    if not row or f"| {s['status']} |" not in row: die(f"evidence.md timeline row of {s['id']}: {row}")
for want in ("**handover** to bob", "started by alice", "| TOKEN | \\*\\*\\* |", "CHG-1234",
             "Evidence drill \\| &lt;b&gt;bold&lt;/b&gt;", "checking for CHG-1234", "RTO budget 10m 00s",
             "| 4 | 1 | 1 sh | this machine, for web1 (ssh ops@web1.invalid) | ok: exit 0 |",
             "| 4 | 1 | 2 sh | this machine, for group fleet: 3 members, 1 at a time, require 2 | ok: 2 of 3",
             "|  |  | \u21b3 member | web2 | failed: exit 9 |"):
    if want not in md: die(f"evidence.md lacks {want!r}")
html = open(f"{b}/report.html").read()
if "<b>bold</b>" in html or "&lt;b&gt;bold&lt;/b&gt;" not in html: die("report.html does not escape the title")
for want in ("<strong>handover</strong>", ">alice<", ">bob<", 'class="bar s-failed"', 'data-rto-ms="600000"',
             '<table id="actions">', '<tr class="member"><td></td><td></td><td>\u21b3 member</td><td>web2</td>'):
    if want not in html: die(f"report.html lacks {want!r}")
if re.search(r"(src|href)=\"(https?:)?//", html): die("report.html refers to the network")
print("bundle consistent")
PY
	fail "the bundle is not consistent (see above)"

# ---- signatures: a signed bundle verifies, five tamperings fail by name ----
ssh-keygen -q -t ed25519 -N '' -C alice -f "$T/key" || fail "ssh-keygen"
ssh-keygen -q -t ed25519 -N '' -C mallory -f "$T/other" || fail "ssh-keygen"
echo "alice@example.org $(cat "$T/key.pub")" >"$T/allowed"
run "$QRH_BIN" export --journal "$db" -o "$T/s" --sign "$T/key" 1
assert_rc 0
[ -s "$T/s/MANIFEST.sig" ] || fail "no MANIFEST.sig"
run "$QRH_BIN" verify-bundle "$T/s" --allowed-signers "$T/allowed"
assert_rc 0 "the signed bundle"
assert_contains "$out" "bundle ok"
run "$QRH_BIN" verify-bundle "$T/s"
assert_rc 0
assert_contains "$out" "signature: not checked"

tamper() { # NAME WHAT-FAILS: copy the bundle, apply the rest of the command line
	local name=$1 expect=$2
	shift 2
	rm -rf "$T/t"
	cp -r "$T/s" "$T/t"
	(cd "$T/t" && eval "$*") || fail "tampering '$name' did not apply"
	run "$QRH_BIN" verify-bundle "$T/t" --allowed-signers "$T/allowed"
	assert_rc 1 "$name"
	assert_contains "$err" "FAILED $expect"
	assert_contains "$out" "bundle NOT verified"
}
tamper "a file edited" "evidence.md: changed" "echo '| 3 | Settle | ok |' >>evidence.md"
out_file=$(cd "$T/s" && ls outputs/*/attempt-1-task-1.stdout)
tamper "a file removed" "$out_file: missing" "rm $out_file"
tamper "the manifest edited" "MANIFEST: does not match its signature" \
	"sed -i 's/^# status: .*/# status: ended, outcome ok/' MANIFEST"
tamper "the signature swapped" "MANIFEST.sig: made by a key" \
	"rm MANIFEST.sig && ssh-keygen -q -Y sign -f '$T/other' -n qrh-evidence MANIFEST"
tamper "a different namespace" "MANIFEST.sig: made for the namespace 'file'" \
	"rm MANIFEST.sig && ssh-keygen -q -Y sign -f '$T/key' -n file MANIFEST"
# and an added file is named too
tamper "a file added" "notes.txt: not in the manifest" "echo extra >notes.txt"

# ---- anchored heads ----
run "$QRH_BIN" verify --journal "$db" --head "$head"
assert_rc 0
assert_contains "$out" "extends the anchored head"
run "$QRH_BIN" verify --journal "$db" --head "$live_head"
assert_rc 0 "the live head is a prefix of the final run"
run "$QRH_BIN" verify --journal "$db" --head "${head#*:}" 1
assert_rc 0 "SEQ:HASH with the run given"
# truncated after the head was recorded, the run row made to agree: the
# chain alone still verifies, the anchor does not
cp "$db" "$T/cut.db"
keep=${live_head#*:}; keep=${keep%%:*}
sqlite3 "$T/cut.db" "DROP TRIGGER events_no_delete; DELETE FROM events WHERE run_id = 1 AND seq > $keep;
	UPDATE runs SET head_seq = $keep, head_hash = (SELECT hash FROM events WHERE run_id = 1 AND seq = $keep),
	outcome = NULL, ended_at = NULL WHERE id = 1;" || fail "cannot truncate the copy"
run "$QRH_BIN" verify --journal "$T/cut.db" 1
assert_rc 0 "a truncated journal passes the chain check alone"
run "$QRH_BIN" verify --journal "$T/cut.db" --head "$head"
assert_rc 1 "truncated"
assert_contains "$out" "does not reach the anchored head"
# rewritten from scratch: the same runs again, a valid chain of its own
evidence_first "$T/new.db" "$rb"
evidence_second "$T/new.db" "$rb"
run "$QRH_BIN" verify --journal "$T/new.db" 1
assert_rc 0 "the rewritten journal verifies alone"
run "$QRH_BIN" verify --journal "$T/new.db" --head "$head"
assert_rc 1 "rewritten"
assert_contains "$out" "anchored"
# anchors that are not heads
run "$QRH_BIN" verify --journal "$db" --head 1:2:abc
assert_rc 2
assert_contains "$err" "--head takes"
echo "evidence: bundle, signatures and anchors checked"
