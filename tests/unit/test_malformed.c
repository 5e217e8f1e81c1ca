/* Malformed runbooks: each must be refused with the exact
 * FILE:LINE:COL: severity: message that `qrh check` prints. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "runbooks/load.h"
#include "tui/cli.h"
#include "util/buf.h"

struct bad_case {
	const char *file;
	const char *text;
	const char *expect; /* one full line of the report */
};

#define FM(body) "---\n" body "---\n"

static const struct bad_case cases[] = {
	/* structure */
	{ "empty.md", "", "empty.md:1:1: error: no steps: write a '## Step' section per step, a list of steps, or \"steps\" in JSON" },
	{ "prose.md", "# Title\n\nJust words.\n", "prose.md:1:1: error: no steps: write a '## Step' section per step, a list of steps, or \"steps\" in JSON" },
	{ "unterminated.md", "## A\n\n```sh\necho hi\n", "unterminated.md:3:1: error: unterminated code fence: no closing fence before the end of the document" },
	{ "unterminated-item.md", "1. A\n\n   ```sh\n   echo hi\n2. B\n", "unterminated-item.md:3:4: error: unterminated code fence: no closing fence before the end of the list item or quote" },
	{ "dup-ids.md", "## A {id=x}\n\n## B {id=x}\n", "dup-ids.md:3:1: error: duplicate step id 'x' (first at 1:1)" },
	{ "bad-id.md", "## A {id=Bad!}\n", "bad-id.md:1:10: error: bad step id 'Bad!': use lowercase letters, digits, '-' and '_' (at most 64)" },
	/* encoding */
	{ "latin1.md", "## A\ncaf\xe9\n", "latin1.md:2:4: error: the file is not valid UTF-8 (byte 0xe9)" },
	{ "nul.md", "## A\nx\0y\n", "nul.md:2:2: error: the file contains a NUL byte" },
	{ "overlong.md", "## \xc0\xaf\n", "overlong.md:1:4: error: the file is not valid UTF-8 (byte 0xc0)" },
	/* kinds and attributes */
	{ "kind.md", "## A\n\n```shh {timeout=5s}\necho\n```\n", "kind.md:3:4: error: unknown action kind 'shh' (did you mean 'sh'?)" },
	{ "kind2.md", "## A\n\n```terraform {x=1}\napply\n```\n", "kind2.md:3:4: error: unknown action kind 'terraform' (known: sh, exec, ssh, http, sql, velero, wait)" },
	{ "attr.md", "## A\n\n```sh {tiemout=5s}\necho\n```\n", "attr.md:3:8: error: unknown attribute 'tiemout' (did you mean 'timeout'?)" },
	{ "heading-attr.md", "## A {confrim=no}\n\n```sh\necho\n```\n", "heading-attr.md:1:7: error: unknown attribute 'confrim' (did you mean 'confirm'?)" },
	{ "not-applicable.md", "## A\n\n```sh {url=http://x}\necho\n```\n", "not-applicable.md:3:8: error: 'url' does not apply to sh actions" },
	{ "body-attr.md", "## A\n\n```sh {script=ls}\necho\n```\n", "body-attr.md:3:8: error: 'script' is the content of the block, not an attribute" },
	{ "no-braces.md", "## A\n\n```sh timeout=5s\necho\n```\n", "no-braces.md:3:7: error: attributes after 'sh' must be in braces: {name=value ...}" },
	{ "no-value.md", "## A\n\n```sh {timeout= name=x}\necho\n```\n", "no-value.md:3:8: error: attribute 'timeout' has no value" },
	{ "quote.md", "## A\n\n```sh {name=\"abc}\necho\n```\n", "quote.md:3:13: error: unterminated quote in attribute 'name'" },
	{ "twice.md", "## A\n\n```sh {confirm=no}\necho 1\n```\n\n```sh {confirm=yes}\necho 2\n```\n", "twice.md:7:8: error: 'confirm' is set twice for this step (also at 3:8)" },
	/* types and values */
	{ "dur-space.md", "## A\n\n```sh {timeout=\"15 m\"}\necho\n```\n", "dur-space.md:3:16: error: bad duration '15 m' for 'timeout': no space allowed between number and unit" },
	{ "dur-neg.md", "## A\n\n```sh {timeout=-3s}\necho\n```\n", "dur-neg.md:3:16: error: bad duration '-3s' for 'timeout': a duration has no sign" },
	{ "dur-unit.md", "## A {timeout=10}\n", "dur-unit.md:1:15: error: bad duration '10' for 'timeout': missing unit (h, m, s or ms)" },
	{ "dur-frac.md", "## A {backoff=1.5m}\n", "dur-frac.md:1:15: error: bad duration '1.5m' for 'backoff': fractions are not allowed (write 1m30s, not 1.5m)" },
	{ "int.md", "## A {retries=three}\n", "int.md:1:15: error: 'retries' must be an integer" },
	{ "bool.md", "## A\n\n```sh {background=maybe}\nsleep 1\n```\n", "bool.md:3:19: error: 'background' must be true or false" },
	{ "typed.md", "## A {confirm=typed}\n", "typed.md:1:15: error: typed confirmation needs a word without spaces: confirm=typed:WORD" },
	{ "on-fail.md", "## A {on_fail=explode}\n", "on-fail.md:1:15: error: 'on_fail' must be stop, continue or ask, not 'explode'" },
	{ "dual.md", "## A {confirm=no dual_control=true}\n", "dual.md:1:1: error: dual_control needs a confirmation: remove confirm=no" },
	/* variables and targets */
	{ "var.md", "## A\n\n```exec\ncurl ${URL}\n```\n", "var.md:4:1: error: undefined variable '${URL}'" },
	{ "var-near.md", FM("vars:\n  BACKUP: b1\n") "## A\n\n```http {url=http://x/${BAKUP}}\n```\n", "var-near.md:7:1: error: undefined variable '${BAKUP}' (did you mean 'BACKUP'?)" },
	{ "var-sql.md", FM("targets:\n  db:\n    kind: postgres\n") "## A\n\n```sql {target=db}\nselect 1\nwhere x = ${WHO}\n```\n", "var-sql.md:10:11: error: undefined variable '${WHO}'" },
	{ "var-bad.md", "## A\n\n```http {url=http://x/${}\n```\n", "var-bad.md:3:1: error: malformed variable reference: write ${NAME} (or $$ for a literal $)" },
	{ "var-name.md", FM("vars:\n  1X: y\n") "## A\n", "var-name.md:3:3: error: bad variable name '1X': use letters, digits and '_'" },
	{ "target.md", FM("targets:\n  db-primary:\n    kind: postgres\n") "## A\n\n```sql {target=db-primry}\nselect 1\n```\n", "target.md:8:1: error: target 'db-primry' is not defined (did you mean 'db-primary'?)" },
	{ "target-kind.md", FM("targets:\n  web:\n    kind: http\n    url: http://x\n") "## A\n\n```sql {target=web}\nselect 1\n```\n", "target-kind.md:9:1: error: target 'web' is a http target; sql actions need a postgres target" },
	{ "ssh-target.md", "## A\n\n```ssh\nuptime\n```\n", "ssh-target.md:3:1: error: ssh actions need a target=NAME" },
	{ "target-nokind.md", FM("targets:\n  db: {host: x}\n") "## A\n", "target-nokind.md:3:3: error: target 'db' needs a 'kind' (ssh, postgres, http, kubernetes or group)" },
	{ "target-badkind.md", FM("targets:\n  db: {kind: postgre}\n") "## A\n", "target-badkind.md:3:14: error: unknown target kind 'postgre' (did you mean 'postgres'?) (ssh, postgres, http, kubernetes or group)" },
	{ "ssh-nohost.md", FM("targets:\n  web: {kind: ssh, user: ops}\n") "## A\n", "ssh-nohost.md:3:3: error: ssh target 'web' needs a host" },
	{ "ssh-agent-identity.md", FM("targets:\n  web: {kind: ssh, host: h, agent: true, identity: ~/.ssh/id_ed25519}\n") "## A\n", "ssh-agent-identity.md:3:3: error: target 'web': give identity or agent=true, not both" },
	{ "ssh-group-agent-identity.md", FM("targets:\n  all: {kind: group, members_file: hosts, agent: true, identity: k}\n") "## A\n", "ssh-group-agent-identity.md:3:3: error: target 'all': give identity or agent=true, not both" },
	/* actions */
	{ "empty-sh.md", "## A\n\n```sh\n```\n", "empty-sh.md:3:1: error: empty sh block: nothing to run" },
	{ "wait.md", "## A\n\n```wait\n```\n", "wait.md:3:1: error: wait actions need exactly one of for=DURATION, until=PROBE:STATE, probe=NAME or stop=NAME" },
	{ "wait-until.md", FM("probes:\n  - {name: lag, kind: command, script: x}\n") "## A\n\n```wait {until=lag:up}\n```\n", "wait-until.md:7:1: error: bad until 'lag:up': write until=PROBE:STATE with STATE ok, warn, fail or unknown" },
	{ "wait-until-probe.md", FM("probes:\n  - {name: lag, kind: command, script: x}\n") "## A\n\n```wait {until=lga:ok}\n```\n", "wait-until-probe.md:7:1: error: probe 'lga' is not defined (did you mean 'lag'?)" },
	{ "wait-within.md", "## A\n\n```wait {for=1s within=1m}\n```\n", "wait-within.md:3:1: error: within= goes with until=PROBE:STATE: how long to wait for the probe" },
	/* probes and objectives */
	{ "probe-cond.md", FM("probes:\n  - name: web\n    kind: command\n    script: x\n    ok: status<2xx\n") "## A\n", "probe-cond.md:6:9: error: bad condition 'status<2xx' for 'ok': a status pattern like '2xx' goes with = or != (at '2xx')" },
	{ "probe-cond-op.md", FM("probes:\n  - {name: web, kind: command, script: x, fail: lag 5}\n") "## A\n", "probe-cond-op.md:3:49: error: bad condition 'lag 5' for 'fail': expected an operator (=, !=, <, <=, >, >=, ~ or !~) (at '5')" },
	{ "probe-cond-num.md", FM("probes:\n  - {name: web, kind: command, script: x, warn: lag>soon}\n") "## A\n", "probe-cond-num.md:3:49: error: bad condition 'lag>soon' for 'warn': 'soon' is not a number: <, <=, > and >= compare numbers (30, 2.5, 30s, 250ms) (at 'soon')" },
	{ "probe-cond-and.md", FM("probes:\n  - {name: web, kind: command, script: x, ok: exit=0 and}\n") "## A\n", "probe-cond-and.md:3:47: error: bad condition 'exit=0 and' for 'ok': expected the name of a value (status, lag_seconds, first_row.n...) (at the end)" },
	{ "probe-every.md", FM("probes:\n  - {name: web, kind: command, script: x, every: 1ms}\n") "## A\n", "probe-every.md:3:50: error: 'every' must be at least 10ms" },
	{ "approval-ttl.md", FM("approval_ttl: soon\n") "## A\n", "approval-ttl.md:2:15: error: bad approval_ttl 'soon': expected a number like 30s, 15m or 1h30m" },
	{ "approval-ttl-range.md", FM("approval_ttl: 25h\n") "## A\n", "approval-ttl-range.md:2:15: error: approval_ttl must be between 1s and 24h" },
	{ "probe-reuse-kind.md", FM("probes:\n  - {name: web, kind: command, script: x, reuse: false}\n") "## A\n", "probe-reuse-kind.md:3:50: error: 'reuse' is for http probes" },
	{ "probe-reuse-word.md", FM("probes:\n  - {name: web, kind: http, url: http://x/, reuse: 10s}\n") "## A\n", "probe-reuse-word.md:3:52: error: 'reuse' must be true or false" },
	{ "probe-value.md", FM("probes:\n  - {name: web, kind: command, script: x, value: a..b}\n") "## A\n", "probe-value.md:3:50: error: bad value name 'a..b': names of letters, digits, '_' and '-', joined by '.' (first_row.lag)" },
	{ "probe-from.md", FM("probes:\n  - {name: web, kind: command, script: x, from_step: b}\n") "## A\n", "probe-from.md:3:5: error: from_step: no step has the id 'b'" },
	{ "probe-group.md", FM("targets:\n  a: {kind: ssh, host: a}\n  g: {kind: group, members: [a]}\nprobes:\n  - {name: web, kind: command, script: x, target: g}\n") "## A\n", "probe-group.md:6:5: error: probe 'web': a probe samples one target, and 'g' is a group" },
	{ "probe-until.md", FM("probes:\n  - {name: web, kind: http, url: http://x, until: 2xx}\n") "## A\n", "probe-until.md:3:5: error: a probe makes one request a sample: until= and within= wait instead; say what is ok with ok=, warn= and fail=" },
	{ "rto-start.md", FM("objectives:\n  rto: 1m\n  rto_start: probe:web\n") "## A\n", "rto-start.md:4:14: error: bad rto_start 'probe:web': write probe:NAME:STATE with STATE ok, warn, fail or unknown" },
	{ "rto-start-probe.md", FM("objectives:\n  rto: 1m\n  rto_start: probe:web:fail\n") "## A\n", "rto-start-probe.md:3:3: error: probe 'web' is not defined" },
	{ "rto-twice.md", FM("objectives:\n  rto: 1m\n  rto_stop: step:a:end\n") "## A {rto_stop=true}\n", "rto-twice.md:6:1: error: the RTO clock stops once: rto_stop is given in the objectives too" },
	{ "rpo-from.md", FM("objectives:\n  rpo: 1m\n  rpo_from: step:a:end\n") "## A\n", "rpo-from.md:4:13: error: bad rpo_from 'step:a:end': write step:ID" },
	{ "wait-probe.md", "## A\n\n```wait {probe=lag}\n```\n", "wait-probe.md:3:1: error: probe 'lag' is not defined" },
	{ "exec-quote.md", "## A\n\n```exec\necho 'unclosed\n```\n", "exec-quote.md:4:1: error: unterminated quote in exec block" },
	{ "http-url.md", "## A\n\n```http {expect=200}\n```\n", "http-url.md:3:1: error: http actions need url=... (or a target with a url)" },
	{ "http-relative.md", "## A\n\n```http {url=/healthz}\n```\n", "http-relative.md:3:1: error: url '/healthz' is relative: name a target with a url, or write http://... or https://..." },
	{ "http-scheme.md", "## A\n\n```http {url=ftp://x/}\n```\n", "http-scheme.md:3:1: error: only http:// and https:// URLs can be requested, not 'ftp://x/'" },
	{ "http-target-url.md", FM("targets:\n  gw:\n    kind: http\n    url: ftp://x\n") "## A\n\n```http {target=gw}\n```\n", "http-target-url.md:3:3: error: target 'gw': url must start with http:// or https://, not 'ftp://x'" },
	{ "http-json.md", "## A\n\n```http {url=http://x/ json=region=dr}\n```\n", "http-json.md:3:1: error: bad json check 'region=dr': a JSON check starts with a path such as .status or .items[0].name" },
	{ "http-json-op.md", "## A\n\n```http {url=http://x/ json=.lag<low}\n```\n", "http-json-op.md:3:1: error: bad json check '.lag<low': <, <=, > and >= compare with a number" },
	{ "http-resolve.md", "## A\n\n```http {url=http://x/ resolve=svc:443}\n```\n", "http-resolve.md:3:1: error: bad resolve 'svc:443': the address is missing (HOST:PORT:ADDRESS)" },
	{ "http-both.md", "## A\n\n```http {url=http://x/ expect=200 until=2xx}\n```\n", "http-both.md:3:1: error: give expect= (one request) or until= (wait for a status), not both" },
	{ "http-every.md", "## A\n\n```http {url=http://x/ until=2xx every=10ms}\n```\n", "http-every.md:3:1: error: every= must be at least 100ms" },
	{ "http-zero.md", "## A\n\n```http {url=http://x/ connect_timeout=0s}\n```\n", "http-zero.md:3:1: error: connect_timeout=, request_timeout= and within= must be more than 0s" },
	{ "http-size.md", "## A\n\n```http {url=http://x/ max_bytes=1GiB}\n```\n", "http-size.md:3:34: error: bad size '1GiB' for 'max_bytes': the unit must be KiB or MiB, or none for bytes (at most 64MiB)" },
	{ "http-header.md", "## A\n\n```http {url=http://x/ headers=NoColon}\n```\n", "http-header.md:3:1: error: bad header 'NoColon': write \"Name: value\"" },
	{ "http-regex.md", "## A\n\n```http {url=http://x/ matches=(}\n```\n", "http-regex.md:3:1: error: bad matches '(': Unmatched ( or \\(" },
	{ "http-cacert.md", "## A\n\n```http {url=https://x/ insecure cacert=/ca.pem}\n```\n", "http-cacert.md:3:1: error: cacert= and insecure=true contradict each other: verify with the CA, or not at all" },
	{ "http-method.md", "## A\n\n```http {url=http://x/ method=get}\n```\n", "http-method.md:3:1: error: bad method 'get': write it in capitals, like GET or POST" },
	{ "wait-body.md", "## A\n\n```wait {for=1s}\nsleep 5\n```\n", "wait-body.md:4:1: error: a wait block takes no content: use attributes such as {for=30s}" },
	{ "loose.md", "# T\n\n```sh\nrm -rf /tmp/x\n```\n\n## A\n", "loose.md:3:1: error: this sh block is before the first step, so it would never run: move it into a step" },
	{ "after-list.md", "- a\n- b\n\n```sh\necho lost\n```\n", "after-list.md:4:1: error: this sh block is outside the list of steps, so it would never run: move it into a step" },
	{ "after-list-text.md", "- a\n- b\n\nNote.\n", "after-list-text.md:4:1: warning: text outside the list of steps is not part of any step and is not shown during a run" },
	{ "stop.md", "## A\n\n```wait {stop=load}\n```\n", "stop.md:3:1: error: stop=load names no background action started before it" },
	{ "dup-name.md", "## A\n\n```sh {name=x}\necho\n```\n\n## B\n\n```sh {name=x}\necho\n```\n", "dup-name.md:9:1: error: duplicate action name 'x' (first at 3:1)" },
	{ "velero-accept.md", "## A\n\n```velero {accept=Complete}\nrestore create r --from-backup b\n```\n", "velero-accept.md:3:1: error: bad accept 'Complete': 'Complete' is not an end phase (Completed, PartiallyFailed, Failed, FailedValidation)" },
	{ "velero-accept-get.md", "## A\n\n```velero {every=5s}\nbackup get\n```\n", "velero-accept-get.md:3:1: error: accept= and every= apply to restore create and backup create, whose object qrh follows" },
	{ "velero-every.md", "## A\n\n```velero {every=10ms}\nrestore create --from-backup b\n```\n", "velero-every.md:3:1: error: every= on a velero action must be at least 100ms" },
	{ "velero-pick.md", "## A\n\n```velero {pick=BACKUP}\nbackup get\n```\n", "velero-pick.md:3:1: error: pick= needs 'backup get -o json': the backups to pick from" },
	{ "velero-pick-name.md", "## A\n\n```velero {pick=QRH_X}\nbackup get -o json\n```\n", "velero-pick-name.md:3:1: error: pick=QRH_X: variable names starting with QRH_ are qrh's own" },
	{ "velero-pick-bad.md", "## A\n\n```velero {pick=a-b}\nbackup get -o json\n```\n", "velero-pick-bad.md:3:17: error: bad variable name 'a-b': use letters, digits and '_'" },
	{ "velero-create-o.md", "## A\n\n```velero\nrestore create --from-backup b -o json\n```\n", "velero-create-o.md:3:1: warning: create with -o prints the restore without creating it: nothing is followed" },
	{ "velero-probe-pick.md", FM("probes:\n  - name: b\n    kind: velero\n    pick: X\n    args: [backup, get, -o, json]\n") "## A\n", "velero-probe-pick.md:3:5: error: a probe cannot pick a value: pick= belongs to a step" },
	{ "members-no-group.md", FM("targets:\n  a: {kind: ssh, host: x}\n  b: {kind: http, url: \"http://x\", members: [a]}\n") "## A\n", "members-no-group.md:4:3: error: target 'b' has members but is not a group (kind: group)" },
	{ "group-member-missing.md", FM("targets:\n  g: {kind: group, members: [nope]}\n") "## A\n", "group-member-missing.md:3:3: error: group 'g': member 'nope' is not a target" },
	{ "expect.md", "## A\n\n```http {url=http://x expect=ok}\n```\n", "expect.md:3:1: error: bad expect 'ok': write HTTP statuses like 200, 2xx or 200,204" },
	{ "every.md", "## A\n\n```http {url=http://x every=1s}\n```\n", "every.md:3:1: error: every= and within= need until=STATUS: what is being waited for" },
	{ "reserved.md", FM("vars:\n  QRH_X: y\n") "## A\n", "reserved.md:3:3: error: variable names starting with QRH_ are qrh's own" },
	{ "secret-value.md", FM("vars:\n  PW: {secret: true, value: hunter2}\n") "## A\n", "secret-value.md:3:3: warning: secret 'PW' has its value written in the runbook: give it with -v or a prompt instead" },
	{ "empty-title.json", "{\"steps\": [{\"title\": \"\"}]}", "empty-title.json:1:12: error: a step needs a title" },
	{ "doc-fence.json", "{\"steps\": [{\"title\": \"a\", \"doc\": \"Run:\\n```sh\\nrm -rf /\\n```\"}]}", "doc-fence.json:1:12: warning: the instructions of step 'a' hold a code block in an action language (line 2 of its doc): it is shown, not run" },
	/* front matter */
	{ "fm-key.md", FM("varz:\n  A: b\n") "## A\n", "fm-key.md:2:1: error: unknown key 'varz' (did you mean 'vars'?)" },
	{ "fm-yaml.md", FM("vars: [a, b\n") "## A\n", "fm-yaml.md:3:1: error: YAML syntax error: did not find expected ',' or ']'" },
	{ "fm-open.md", "---\ntitle: x\n## A\n", "fm-open.md:1:1: error: front matter is not closed: no '---' line after the first" },
	{ "fm-alias.md", FM("vars:\n  A: &x b\n  B: *x\n") "## A\n", "fm-alias.md:3:6: error: YAML anchors are not supported" },
	{ "fm-steps.md", FM("steps: []\n") "## A\n", "fm-steps.md:2:1: error: steps come from the document, not the front matter" },
	{ "fm-dupkey.md", FM("title: a\ntitle: b\n") "## A\n", "fm-dupkey.md:3:1: error: duplicate key 'title'" },
	{ "fm-type.md", FM("objectives:\n  rto: 15\n") "## A\n", "fm-type.md:3:8: error: 'rto' must be a duration like \"30s\" or \"15m\"" },
	{ "fm-secret.md", FM("vars:\n  P:\n    secret: yes\n") "## A\n", "fm-secret.md:4:13: error: 'secret' must be true or false" },
	/* JSON */
	{ "syntax.json", "{\n  \"title\": \"x\",\n}\n", "syntax.json:3:1: error: JSON syntax error near '}'" },
	{ "eof.json", "{\"title\": \"x\"", "eof.json:1:14: error: JSON syntax error: unexpected end of file" },
	{ "array.json", "[]", "array.json:1:1: error: a JSON runbook must be an object" },
	{ "nosteps.json", "{\"title\": \"x\"}", "nosteps.json:1:1: error: no steps: write a '## Step' section per step, a list of steps, or \"steps\" in JSON" },
	{ "field.json", "{\"steps\": [\n  {\"title\": \"a\",\n   \"tiemout\": \"5s\"}]}\n", "field.json:3:4: error: steps[0]: unknown field 'tiemout' (did you mean 'timeout'?)" },
	{ "kind.json", "{\"steps\": [{\"title\": \"a\",\n  \"actions\": [{\"kind\": \"shh\", \"script\": \"ls\"}]}]}\n", "kind.json:2:24: error: steps[0].actions[0].kind: unknown action kind 'shh' (did you mean 'sh'?)" },
	{ "type.json", "{\"steps\": [{\"title\": \"a\", \"retries\": \"3\"}]}", "type.json:1:38: error: steps[0].retries: 'retries' must be an integer" },
	{ "dur.json", "{\"steps\": [{\"title\": \"a\",\n \"timeout\": \"15 m\"}]}", "dur.json:2:13: error: steps[0].timeout: bad duration '15 m' for 'timeout': no space allowed between number and unit" },
	{ "steps.json", "{\"steps\": {}}", "steps.json:1:11: error: steps: 'steps' must be a list" },
	{ "dup.json", "{\"title\": \"a\", \"title\": \"b\", \"steps\": [{\"title\": \"s\"}]}", "dup.json:1:16: error: duplicate key 'title'" },
	{ "notitle.json", "{\"steps\": [{\"id\": \"a\"}]}", "notitle.json:1:12: error: steps[0]: a step needs a 'title'" },
	{ "nokind.json", "{\"steps\": [{\"title\": \"a\", \"actions\": [{\"script\": \"ls\"}]}]}", "nokind.json:1:39: error: steps[0].actions[0]: an action needs a 'kind'" },
	{ "argv.json", "{\"steps\": [{\"title\": \"a\", \"actions\": [{\"kind\": \"exec\", \"argv\": \"ls -l\"}]}]}", "argv.json:1:64: error: steps[0].actions[0].argv: 'argv' must be a list of strings" },
	{ "target.json", "{\"steps\": [{\"title\": \"a\", \"actions\": [{\"kind\": \"sql\", \"query\": \"select 1\", \"target\": \"db\"}]}]}", "target.json:1:39: error: target 'db' is not defined" },
	/* sql */
	{ "sql-quoted.md", FM("vars:\n  WHO: x\ntargets:\n  db: {kind: postgres}\n") "## A\n\n```sql {target=db}\nselect 1\n where x = '${WHO}'\n```\n", "sql-quoted.md:11:13: error: ${WHO} inside a quoted string cannot be a query parameter: write it outside quotes (its value is sent as a parameter, never pasted)" },
	{ "sql-params.md", FM("targets:\n  db: {kind: postgres}\n") "## A\n\n```sql {target=db params=a}\nselect $1, $2\n```\n", "sql-params.md:8:12: error: the query uses $2 but params= gives 1 value" },
	{ "sql-empty.md", FM("targets:\n  db: {kind: postgres}\n") "## A\n\n```sql {target=db}\n```\n", "sql-empty.md:7:1: error: empty sql block: write a query or name a recipe (recipe=lag, promote or rpo)" },
	{ "sql-both.md", FM("targets:\n  db: {kind: postgres}\n") "## A\n\n```sql {target=db recipe=lag}\nselect 1\n```\n", "sql-both.md:7:1: error: recipe=lag runs its own queries: leave the block empty" },
	{ "sql-recipe.md", FM("targets:\n  db: {kind: postgres}\n") "## A\n\n```sql {target=db recipe=lagg}\n```\n", "sql-recipe.md:7:26: error: unknown recipe 'lagg' (did you mean 'lag'?) (lag, promote or rpo)" },
	{ "sql-rpo.md", FM("targets:\n  db: {kind: postgres}\n") "## A\n\n```sql {target=db recipe=rpo}\n```\n", "sql-rpo.md:7:1: error: recipe=rpo needs ack_file=PATH: the writer's log of acknowledged ids" },
	{ "sql-marker.md", FM("targets:\n  db: {kind: postgres}\n") "## A\n\n```sql {target=db recipe=rpo ack_file=/a marker_table=\"x;y\"}\n```\n", "sql-marker.md:7:1: error: bad marker_table 'x;y': write a table name like rpo_marker or schema.rpo_marker" },
	{ "sql-within.md", FM("targets:\n  db: {kind: postgres}\n") "## A\n\n```sql {target=db within=10s}\nselect 1\n```\n", "sql-within.md:7:1: error: within= on a sql action is how long recipe=promote waits" },
	{ "sql-expect.md", FM("targets:\n  db: {kind: postgres}\n") "## A\n\n```sql {target=db expect=f}\nselect 1\n```\n", "sql-expect.md:7:1: error: bad expect 'f': each assertion is COLUMN=VALUE (or != < <= > >=), separated by commas, like pg_is_in_recovery=f" },
	{ "sql-rows.md", FM("targets:\n  db: {kind: postgres}\n") "## A\n\n```sql {target=db expect_rows=some}\nselect 1\n```\n", "sql-rows.md:7:1: error: bad expect_rows 'some': write a number of rows like 1, >0 or <=10" },
	{ "sql-capcol.md", FM("targets:\n  db: {kind: postgres}\n") "## A\n\n```sql {target=db capture_col=n}\nselect 1 as n\n```\n", "sql-capcol.md:7:1: error: capture_col=n needs capture=NAME on the step: the variable it sets" },
	{ "sql-ack.md", FM("targets:\n  db: {kind: postgres}\n") "## A\n\n```sql {target=db ack_file=/a}\nselect 1\n```\n", "sql-ack.md:7:1: error: ack_file= and marker_table= apply to recipe=rpo" },
	{ "sql-capture.md", FM("targets:\n  db: {kind: postgres}\n") "## A {capture=X}\n\n```sql {target=db}\nselect 1\n```\n", "sql-capture.md:7:1: warning: capture=X takes this sql action's whole table as text: name a column with capture_col=COLUMN" },
	{ "sql-promote.md", FM("targets:\n  db: {kind: postgres}\n") "## A {confirm=no}\n\n```sql {target=db recipe=promote}\n```\n", "sql-promote.md:7:1: warning: destructive command 'pg_promote' in a step that runs without confirmation" },
	/* lint */
	{ "unquoted.md", "## A\n\n```sh\nrm -r -- $DIR\n```\n", "unquoted.md:4:10: warning: unquoted $DIR in sh script: write \"$DIR\" so a value with spaces or * stays one word" },
	{ "subst.md", "## A\n\n```sh\necho \"$(wc -l <\"$F\")\" \"$(ls $X)\"\n```\n", "subst.md:4:29: warning: unquoted $X in sh script: write \"$X\" so a value with spaces or * stays one word" },
	{ "rmrf.md", "## A {confirm=no}\n\n```sh\nrm -rf /tmp/x\n```\n", "rmrf.md:3:1: warning: destructive command 'rm -rf' in a step that runs without confirmation" },
	{ "drop.md", FM("targets:\n  db: {kind: postgres}\n") "## A\n\n```sql {target=db confirm=no}\ndrop table orders;\n```\n", "drop.md:7:1: warning: destructive command 'DROP' in a step that runs without confirmation" },
	{ "kubectl.md", "- [ ] Delete the pod {confirm=no}\n  ```sh\n  kubectl -n x delete pod y\n  ```\n", "kubectl.md:2:3: warning: destructive command 'kubectl delete' in a step that runs without confirmation" },
	{ "velero.md", "## A {confirm=no}\n\n```velero\nrestore create --from-backup b1\n```\n", "velero.md:3:1: warning: destructive command 'velero restore create' in a step that runs without confirmation" },
	{ "promote.md", FM("targets:\n  db: {kind: postgres}\n") "## A {confirm=no}\n\n```sql {target=db}\nselect pg_promote()\n```\n", "promote.md:7:1: warning: destructive command 'pg_promote' in a step that runs without confirmation" },
};

/* The whole report for one file, as qrh check prints it. */
static char *report(const char *file, const char *text, size_t len,
		    size_t *n_errors)
{
	struct diags d;
	diags_init(&d);
	struct runbook *rb = runbook_load_buffer(file, text, len, RUNBOOK_AUTO, &d);
	char *out = NULL;
	size_t out_len = 0;
	FILE *f = open_memstream(&out, &out_len);
	diags_print(f, file, &d);
	fclose(f);
	*n_errors = d.n_errors;
	runbook_free(rb);
	diags_release(&d);
	return out;
}

/* Returns 0 when the report holds the line, else prints both and -1. */
static int check_line(const char *file, const char *text, size_t len,
		      const char *want)
{
	size_t n_errors;
	char *out = report(file, text, len, &n_errors);
	struct buf line;
	buf_init(&line, BUF_UNLIMITED);
	buf_addf(&line, "%s\n", want);
	int ok = strstr(out, line.data) != NULL &&
		 (!strstr(want, ": error: ") || n_errors > 0);
	if (!ok)
		print_error("expected: %s\ngot:\n%s\n", want, out);
	buf_release(&line);
	free(out);
	return ok ? 0 : -1;
}

static void expect_line(const char *file, const char *text, size_t len,
			const char *want)
{
	assert_int_equal(check_line(file, text, len, want), 0);
}

static void test_table(void **state)
{
	(void)state;
	int failed = 0;
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		const struct bad_case *c = &cases[i];
		size_t len = strlen(c->text);
		if (!strcmp(c->file, "nul.md"))
			len = 9;
		failed += check_line(c->file, c->text, len, c->expect) < 0;
	}
	assert_int_equal(failed, 0);
}

/* Quoted uses inside $( ) in "..." are quoted: no warning. */
static void test_no_false_warning(void **state)
{
	(void)state;
	const char *text = "## A\n\n```sh\necho \"n: $(wc -l <\"$F\")\" x=$Y \"${Z}\"\n```\n";
	size_t n_errors;
	char *out = report("q.md", text, strlen(text), &n_errors);
	assert_string_equal(out, "");
	free(out);
}

static void test_table_size(void **state)
{
	(void)state;
	assert_true(sizeof cases / sizeof *cases >= 40);
}

static void test_too_many_steps(void **state)
{
	(void)state;
	struct buf b;
	buf_init(&b, BUF_UNLIMITED);
	for (unsigned i = 0; i <= QRH_MAX_STEPS; i++)
		buf_addf(&b, "## Step %u\n\n", i);
	expect_line("many.md", b.data, b.len, "many.md:4001:1: error: more than 2000 steps");
	buf_release(&b);
}

static void test_too_many_actions(void **state)
{
	(void)state;
	struct buf b;
	buf_init(&b, BUF_UNLIMITED);
	buf_adds(&b, "## A\n\n");
	for (unsigned i = 0; i <= QRH_MAX_ACTIONS_PER_STEP; i++)
		buf_addf(&b, "```sh\necho %u\n```\n\n", i);
	/* action 33 starts on line 3 + 32 * 4 */
	expect_line("actions.md", b.data, b.len, "actions.md:131:1: error: more than 32 actions in one step");
	buf_release(&b);
}

static void test_file_too_big(void **state)
{
	(void)state;
	size_t n = QRH_MAX_FILE_BYTES + 1;
	char *big = malloc(n);
	memset(big, 'a', n);
	expect_line("big.md", big, n, "big.md:1:1: error: file is 4194305 bytes, over the limit of 4194304");
	free(big);
}

static void test_line_too_long(void **state)
{
	(void)state;
	struct buf b;
	buf_init(&b, BUF_UNLIMITED);
	buf_adds(&b, "## A\n\n");
	for (unsigned i = 0; i < QRH_MAX_LINE_BYTES + 10; i++)
		buf_addc(&b, 'x');
	buf_addc(&b, '\n');
	expect_line("long.md", b.data, b.len, "long.md:3:1: error: line longer than 65536 bytes");
	buf_release(&b);
}

static void test_unreadable(void **state)
{
	(void)state;
	struct diags d;
	diags_init(&d);
	struct runbook *rb = runbook_load_file("/nonexistent/qrh/x.md", &d);
	assert_null(rb);
	assert_int_equal(d.n_errors, 1);
	assert_int_equal(d.v[0].pos.line, 1);
	assert_string_equal(d.v[0].msg, "cannot read the file: No such file or directory");
	diags_release(&d);
}

static void test_all_errors_reported(void **state)
{
	(void)state;
	const char *text = "## A {retries=x}\n\n```sh {tiemout=1s}\necho\n```\n\n## B {on_fail=never}\n";
	size_t n_errors;
	char *out = report("many.md", text, strlen(text), &n_errors);
	assert_int_equal(n_errors, 3);
	/* sorted by position */
	const char *a = strstr(out, "many.md:1:");
	const char *b = strstr(out, "many.md:3:");
	const char *c = strstr(out, "many.md:7:");
	assert_non_null(a);
	assert_non_null(b);
	assert_non_null(c);
	assert_true(a < b && b < c);
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_table_size),
		cmocka_unit_test(test_no_false_warning),
		cmocka_unit_test(test_too_many_steps),
		cmocka_unit_test(test_too_many_actions),
		cmocka_unit_test(test_file_too_big),
		cmocka_unit_test(test_line_too_long),
		cmocka_unit_test(test_unreadable),
		cmocka_unit_test(test_all_errors_reported),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
