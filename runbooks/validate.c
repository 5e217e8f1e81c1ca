#include "runbooks/validate.h"

#include <regex.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "runbooks/fault.h"
#include "runbooks/fields.h"
#include "runbooks/http_spec.h"
#include "runbooks/load.h"
#include "runbooks/probe_spec.h"
#include "runbooks/sqltext.h"
#include "runbooks/strmap.h"
#include "runbooks/suggest.h"
#include "runbooks/vars.h"
#include "runbooks/velero_cli.h"
#include "util/buf.h"
#include "util/xalloc.h"

#define SLUG_MAX 48

char *step_slug(const char *title)
{
	char out[SLUG_MAX + 1];
	size_t n = 0;
	int dash = 0;
	for (const char *p = title; *p && n < SLUG_MAX; p++) {
		char c = *p;
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
			if (dash && n)
				out[n++] = '-';
			if (n < SLUG_MAX)
				out[n++] = c;
			dash = 0;
		} else {
			dash = 1;
		}
	}
	out[n] = '\0';
	return xstrdup(n ? out : "step");
}

/* Ids for the steps that have none: the title's slug, with -2, -3, ...
 * where another step (with an id of its own, or an earlier one) has it. */
void runbook_assign_ids(struct runbook *rb)
{
	struct strmap taken;
	strmap_init(&taken);
	for (size_t i = 0; i < rb->n_steps; i++)
		if (rb->steps[i].id && rb->steps[i].id_explicit)
			strmap_add(&taken, rb->steps[i].id, i);
	for (size_t i = 0; i < rb->n_steps; i++) {
		struct step *s = &rb->steps[i];
		if (s->id) {
			strmap_add(&taken, s->id, i);
			continue;
		}
		char *base = step_slug(s->title ? s->title : "");
		struct buf b;
		buf_init(&b, 128);
		buf_adds(&b, base);
		for (int k = 2; strmap_get(&taken, b.data, NULL); k++) {
			buf_reset(&b);
			buf_addf(&b, "%s-%d", base, k);
		}
		s->id = buf_detach(&b, NULL);
		strmap_add(&taken, s->id, i);
		free(base);
	}
	strmap_release(&taken);
}

static void check_ids(const struct runbook *rb, struct diags *d)
{
	struct strmap first;
	strmap_init(&first);
	for (size_t i = 0; i < rb->n_steps; i++) {
		size_t j;
		if (strmap_add(&first, rb->steps[i].id, i) || !strmap_get(&first, rb->steps[i].id, &j))
			continue;
		diag_error(d, rb->steps[i].pos, "duplicate step id '%s' (first at %u:%u)",
			   rb->steps[i].id, rb->steps[j].pos.line, rb->steps[j].pos.col);
	}
	strmap_release(&first);
}

static const char *const target_kind_for[ACTION_KIND_COUNT] = {
	[ACTION_SSH] = "ssh",
	[ACTION_SQL] = "postgres",
	[ACTION_HTTP] = "http",
	[ACTION_VELERO] = "kubernetes",
};

/* The kind of endpoint a target reaches: a group's is its members'
 * (ssh for a members_file). NULL when unknown (already reported). */
static const char *target_endpoint_kind(const struct runbook *rb,
					const struct target *t)
{
	if (!t->kind || strcmp(t->kind, "group"))
		return t->kind;
	if (t->members_file)
		return "ssh";
	const struct target *m = t->members.n ? runbook_target(rb, t->members.v[0]) : NULL;
	return m ? m->kind : NULL;
}

static void check_group(const struct runbook *rb, const struct target *t,
			struct diags *d)
{
	if (!t->members.n && !t->members_file) {
		diag_error(d, t->pos, "group '%s' needs members: [...] or members_file: PATH", t->name);
		return;
	}
	if (t->members.n && t->members_file)
		diag_error(d, t->pos, "group '%s': give members or members_file, not both", t->name);
	const char *kind = NULL;
	for (size_t i = 0; i < t->members.n; i++) {
		const struct target *m = runbook_target(rb, t->members.v[i]);
		if (!m) {
			diag_error(d, t->pos, "group '%s': member '%s' is not a target", t->name,
				   t->members.v[i]);
			continue;
		}
		if (m->kind && !strcmp(m->kind, "group")) {
			diag_error(d, t->pos, "group '%s': member '%s' is a group (groups do not nest)",
				   t->name, m->name);
			continue;
		}
		if (kind && m->kind && strcmp(kind, m->kind))
			diag_error(d, t->pos, "group '%s' mixes %s and %s targets ('%s')", t->name,
				   kind, m->kind, m->name);
		if (!kind)
			kind = m->kind;
	}
}

/* An ssh target, or a group whose members_file hosts take its fields. */
static void check_ssh_fields(const struct target *t, bool group, struct diags *d)
{
	if (!group && (!t->host || !*t->host))
		diag_error(d, t->pos, "ssh target '%s' needs a host", t->name);
	if (t->agent && t->identity)
		diag_error(d, t->pos, "target '%s': give identity or agent=true, not both", t->name);
}

static void check_targets(const struct runbook *rb, struct diags *d)
{
	for (size_t i = 0; i < rb->n_targets; i++) {
		const struct target *t = &rb->targets[i];
		if (t->kind && !strcmp(t->kind, "ssh"))
			check_ssh_fields(t, false, d);
		if (t->kind && !strcmp(t->kind, "group") && t->members_file)
			check_ssh_fields(t, true, d);
		if (t->kind && !strcmp(t->kind, "group"))
			check_group(rb, t, d);
		if (t->kind && !strcmp(t->kind, "http") && t->url && !strstr(t->url, "${") &&
		    !http_url_scheme_ok(t->url))
			diag_error(d, t->pos, "target '%s': url must start with http:// or https://, not '%s'",
				   t->name, t->url);
		if ((t->members.n || t->members_file) && !(t->kind && !strcmp(t->kind, "group")))
			diag_error(d, t->pos, "target '%s' has members but is not a group (kind: group)",
				   t->name);
	}
}

static void check_target(const struct runbook *rb, const struct action *a,
			 struct diags *d)
{
	if (!a->target) {
		if (a->kind == ACTION_SSH || a->kind == ACTION_SQL)
			diag_error(d, a->pos, "%s actions need a target=NAME",
				   action_kind_name(a->kind));
		if (a->parallel || a->require)
			diag_error(d, a->pos, "parallel= and require= apply to an action on a group target");
		return;
	}
	const struct target *t = runbook_target(rb, a->target);
	if (!t) {
		const char *names[QRH_MAX_TARGETS];
		for (size_t i = 0; i < rb->n_targets; i++)
			names[i] = rb->targets[i].name;
		const char *near = suggest_closest(a->target, names, rb->n_targets);
		diag_error(d, a->pos, "target '%s' is not defined%s%s%s", a->target,
			   near ? " (did you mean '" : "", near ? near : "",
			   near ? "'?)" : "");
		return;
	}
	bool group = t->kind && !strcmp(t->kind, "group");
	if (group && (a->kind == ACTION_SQL || a->kind == ACTION_VELERO))
		diag_error(d, a->pos, "%s actions cannot fan out over group '%s': name one target",
			   action_kind_name(a->kind), t->name);
	if (!group && (a->parallel || a->require))
		diag_error(d, a->pos, "parallel= and require= apply to a group target; '%s' is a %s target",
			   t->name, t->kind ? t->kind : "?");
	const char *want = target_kind_for[a->kind];
	const char *have = target_endpoint_kind(rb, t);
	if (want && have && strcmp(have, want))
		diag_error(d, a->pos, "target '%s' is a%s %s target; %s actions need a %s target",
			   t->name, group ? " group of" : "", have, action_kind_name(a->kind), want);
}

/* A field value holding a reference is checked when it runs. */
static bool has_ref(const char *s)
{
	return s && strstr(s, "${");
}

static void check_http_url(const struct action *a, const struct target *t,
			   struct diags *d)
{
	const char *base = t ? t->url : NULL;
	if (!a->url && !base) {
		diag_error(d, a->pos, "http actions need url=... (or a target with a url)");
		return;
	}
	if (!a->url || has_ref(a->url))
		return;
	if (http_url_is_absolute(a->url) && !http_url_scheme_ok(a->url))
		diag_error(d, a->pos, "only http:// and https:// URLs can be requested, not '%s'", a->url);
	else if (!http_url_is_absolute(a->url) && !base)
		diag_error(d, a->pos, "url '%s' is relative: name a target with a url, or write http://... or https://...",
			   a->url);
}

static void check_http_lists(const struct action *a, struct diags *d)
{
	const char *why;
	for (size_t i = 0; i < a->json.n; i++) {
		struct json_check c;
		if (has_ref(a->json.v[i]))
			continue;
		if (json_check_parse(a->json.v[i], &c, &why) < 0)
			diag_error(d, a->pos, "bad json check '%s': %s", a->json.v[i], why);
		json_check_release(&c);
	}
	for (size_t i = 0; i < a->resolve.n; i++)
		if (!has_ref(a->resolve.v[i]) && http_resolve_entry_check(a->resolve.v[i], &why) < 0)
			diag_error(d, a->pos, "bad resolve '%s': %s", a->resolve.v[i], why);
	for (size_t i = 0; i < a->headers.n; i++) {
		const char *h = a->headers.v[i];
		size_t name = strcspn(h, ":");
		if (!h[name] || !name || strcspn(h, " \t") < name)
			diag_error(d, a->pos, "bad header '%s': write \"Name: value\"", h);
	}
}

static void check_http(const struct runbook *rb, const struct action *a,
		       struct diags *d)
{
	const struct target *t = a->target ? runbook_target(rb, a->target) : NULL;
	const char *specs[] = { a->expect, a->until };
	const char *names[] = { "expect", "until" };
	for (int i = 0; i < 2; i++)
		if (specs[i] && !has_ref(specs[i]) && !http_status_spec_valid(specs[i]))
			diag_error(d, a->pos, "bad %s '%s': write HTTP statuses like 200, 2xx or 200,204",
				   names[i], specs[i]);
	if ((a->every_ms >= 0 || a->within_ms >= 0) && !a->until)
		diag_error(d, a->pos, "every= and within= need until=STATUS: what is being waited for");
	if (a->expect && a->until)
		diag_error(d, a->pos, "give expect= (one request) or until= (wait for a status), not both");
	if (a->every_ms >= 0 && a->every_ms < 100)
		diag_error(d, a->pos, "every= must be at least 100ms");
	if (a->connect_timeout_ms == 0 || a->request_timeout_ms == 0 || a->within_ms == 0)
		diag_error(d, a->pos, "connect_timeout=, request_timeout= and within= must be more than 0s");
	if (a->cacert && a->insecure)
		diag_error(d, a->pos, "cacert= and insecure=true contradict each other: verify with the CA, or not at all");
	if (a->method && strspn(a->method, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != strlen(a->method))
		diag_error(d, a->pos, "bad method '%s': write it in capitals, like GET or POST", a->method);
	if (a->matches && !has_ref(a->matches)) {
		regex_t re;
		int rc = regcomp(&re, a->matches, REG_EXTENDED | REG_NOSUB);
		if (rc) {
			char msg[128];
			regerror(rc, &re, msg, sizeof msg);
			diag_error(d, a->pos, "bad matches '%s': %s", a->matches, msg);
		} else {
			regfree(&re);
		}
	}
	check_http_lists(a, d);
	check_http_url(a, t, d);
}

/* The shortest poll interval: a poll runs the velero CLI, which asks the
 * Kubernetes API server. */
#define VELERO_EVERY_MIN_MS 100

/* Which command it is is known only when its first words are written out;
 * with ${...} there, the executor decides when it runs. */
static void check_velero(const struct action *a, struct diags *d)
{
	struct velero_words vw;
	velero_words_read((const char *const *)a->argv.v, a->argv.n, &vw);
	bool creates = velero_cmd_object(vw.cmd) != NULL;
	if (a->accept) {
		unsigned mask;
		char bad[64];
		if (velero_accept_parse(a->accept, &mask, bad, sizeof bad) < 0)
			diag_error(d, a->pos, "bad accept '%s': '%s' is not an end phase "
					      "(Completed, PartiallyFailed, Failed, FailedValidation)",
				   a->accept, bad);
	}
	if (a->every_ms >= 0 && a->every_ms < VELERO_EVERY_MIN_MS)
		diag_error(d, a->pos, "every= on a velero action must be at least 100ms");
	if (vw.literal && !creates && (a->accept || a->every_ms >= 0))
		diag_error(d, a->pos, "accept= and every= apply to restore create and backup create, "
				      "whose object qrh follows");
	if (vw.literal && creates && vw.output)
		diag_warn(d, a->pos, "create with -o prints the %s without creating it: nothing is followed",
			  velero_cmd_object(vw.cmd));
	if (!a->pick)
		return;
	if (!strncmp(a->pick, "QRH_", 4))
		diag_error(d, a->pos, "pick=%s: variable names starting with QRH_ are qrh's own", a->pick);
	if (vw.literal && (vw.cmd != VELERO_CMD_BACKUP_GET || !velero_output_json(&vw)))
		diag_error(d, a->pos, "pick= needs 'backup get -o json': the backups to pick from");
}

/* Where byte `off` of the action's body is in the file: tracked line by
 * line in Markdown, the action's own position in JSON. */
static struct srcpos body_pos_at(const struct action *a, size_t off)
{
	return a->lang ? srcpos_in_text(a->body_pos, a->body, off) : a->pos;
}

static void check_sql_query(const struct action *a, struct diags *d)
{
	struct buf out;
	struct strv names = { 0 };
	struct sql_scan_error pe;
	buf_init(&out, BUF_UNLIMITED);
	if (sql_params_translate(a->body, a->params.n, &out, &names, &pe) == -1)
		diag_error(d, body_pos_at(a, pe.off), "%s", pe.msg);
	buf_release(&out);
	strv_release(&names);
}

static void check_sql(const struct action *a, struct diags *d)
{
	bool body = a->body && a->body[strspn(a->body, " \t\r\n")];
	const char *why;
	if (!body && !a->recipe)
		diag_error(d, a->pos, "empty sql block: write a query or name a recipe (recipe=lag, promote or rpo)");
	if (body && a->recipe)
		diag_error(d, a->pos, "recipe=%s runs its own queries: leave the block empty", a->recipe);
	if (body)
		check_sql_query(a, d);
	if (a->params.n && !body)
		diag_error(d, a->pos, "params= gives values for a query's $1, $2, ...: this action has no query");
	bool rpo = a->recipe && !strcmp(a->recipe, "rpo");
	if (rpo && !a->ack_file)
		diag_error(d, a->pos, "recipe=rpo needs ack_file=PATH: the writer's log of acknowledged ids");
	if (!rpo && (a->ack_file || a->marker_table))
		diag_error(d, a->pos, "ack_file= and marker_table= apply to recipe=rpo");
	if (a->marker_table && !sql_table_name_ok(a->marker_table))
		diag_error(d, a->pos, "bad marker_table '%s': write a table name like rpo_marker or schema.rpo_marker",
			   a->marker_table);
	if (a->within_ms >= 0 && !(a->recipe && !strcmp(a->recipe, "promote")))
		diag_error(d, a->pos, "within= on a sql action is how long recipe=promote waits");
	if (a->within_ms >= 0 && (a->within_ms < 1000 || a->within_ms % 1000))
		diag_error(d, a->pos, "within= for recipe=promote is a whole number of seconds, at least 1s");
	struct sql_expect x;
	if (a->expect && sql_expect_parse(a->expect, &x, &why) < 0)
		diag_error(d, a->pos, "bad expect '%s': %s, separated by commas, like pg_is_in_recovery=f",
			   a->expect, why);
	else if (a->expect)
		sql_expect_release(&x);
	enum sql_op op;
	int64_t n;
	if (a->expect_rows && !strstr(a->expect_rows, "${") && sql_rows_parse(a->expect_rows, &op, &n) < 0)
		diag_error(d, a->pos, "bad expect_rows '%s': write a number of rows like 1, >0 or <=10",
			   a->expect_rows);
	if (a->expect_rows && a->recipe)
		diag_error(d, a->pos, "expect_rows= applies to a query; a recipe's result is one row");
}

/* A probe named by a wait or an objective must exist. */
static void check_probe_ref(const struct runbook *rb, struct srcpos pos,
			    const char *name, struct diags *d)
{
	if (runbook_probe(rb, name))
		return;
	const char *names[QRH_MAX_PROBES];
	for (size_t i = 0; i < rb->n_probes; i++)
		names[i] = rb->probes[i].name ? rb->probes[i].name : "";
	const char *near = suggest_closest(name, names, rb->n_probes);
	diag_error(d, pos, "probe '%s' is not defined%s%s%s", name,
		   near ? " (did you mean '" : "", near ? near : "", near ? "'?)" : "");
}

/* wait: for=, probe=NAME (until NAME:ok), until=NAME:STATE or stop=. */
static void check_wait(const struct runbook *rb, const struct action *a,
		       struct diags *d)
{
	int n = (a->for_ms >= 0) + (a->probe != NULL) + (a->until != NULL) + (a->stop != NULL);
	if (n != 1)
		diag_error(d, a->pos, "wait actions need exactly one of for=DURATION, "
				      "until=PROBE:STATE, probe=NAME or stop=NAME");
	if (a->probe)
		check_probe_ref(rb, a->pos, a->probe, d);
	if (a->until) {
		char name[QRH_MAX_ID_LEN + 1];
		enum probe_state st;
		const char *why;
		if (probe_until_parse(a->until, name, &st, &why) < 0)
			diag_error(d, a->pos, "bad until '%s': %s", a->until, why);
		else
			check_probe_ref(rb, a->pos, name, d);
	}
	if (a->within_ms >= 0 && !a->until && !a->probe)
		diag_error(d, a->pos, "within= goes with until=PROBE:STATE: how long to wait for the probe");
	if (a->every_ms >= 0)
		diag_error(d, a->pos, "every= does not apply to a wait: the probe's own every= "
				      "says how often it is sampled");
}

static void check_action(const struct runbook *rb, const struct action *a,
			 struct diags *d)
{
	const char *kind = action_kind_name(a->kind);
	switch (a->kind) {
	case ACTION_SH:
	case ACTION_SSH:
		if (!a->body || !*a->body)
			diag_error(d, a->pos, "empty %s block: nothing to run", kind);
		break;
	case ACTION_SQL:
		check_sql(a, d);
		break;
	case ACTION_EXEC:
		if (!a->argv.n)
			diag_error(d, a->pos, "empty %s block: nothing to run", kind);
		break;
	case ACTION_VELERO:
		if (!a->argv.n)
			diag_error(d, a->pos, "empty %s block: nothing to run", kind);
		check_velero(a, d);
		break;
	case ACTION_HTTP:
		check_http(rb, a, d);
		break;
	case ACTION_WAIT:
		check_wait(rb, a, d);
		break;
	default:
		break;
	}
	check_target(rb, a, d);
}

static long step_index(const struct runbook *rb, const char *id)
{
	for (size_t i = 0; id && i < rb->n_steps; i++)
		if (rb->steps[i].id && !strcmp(rb->steps[i].id, id))
			return (long)i;
	return -1;
}

static void check_step_ref(const struct runbook *rb, struct srcpos pos,
			   const char *what, const char *id, struct diags *d)
{
	if (id && step_index(rb, id) < 0)
		diag_error(d, pos, "%s: no step has the id '%s'", what, id);
}

/* A probe is one action on one target, sampled again and again. */
static void check_probe(const struct runbook *rb, const struct probe *p,
			struct diags *d)
{
	const struct action *a = &p->action;
	const struct target *t = a->target ? runbook_target(rb, a->target) : NULL;
	if (a->kind == ACTION_WAIT) {
		diag_error(d, p->pos, "a probe cannot be a wait");
		return;
	}
	if (a->pick) {
		diag_error(d, p->pos, "a probe cannot pick a value: pick= belongs to a step");
		return;
	}
	check_action(rb, a, d);
	if (t && t->kind && !strcmp(t->kind, "group"))
		diag_error(d, p->pos, "probe '%s': a probe samples one target, and '%s' is a group",
			   p->name ? p->name : "?", t->name);
	if (a->background)
		diag_error(d, p->pos, "a probe cannot be background=true: it runs alongside "
				      "the steps already");
	if (a->kind == ACTION_HTTP && (a->until || a->within_ms >= 0))
		diag_error(d, p->pos, "a probe makes one request a sample: until= and within= wait "
				      "instead; say what is ok with ok=, warn= and fail=");
	check_step_ref(rb, p->pos, "from_step", p->from_step, d);
	check_step_ref(rb, p->pos, "until_step", p->until_step, d);
	long from = step_index(rb, p->from_step), until = step_index(rb, p->until_step);
	if (from >= 0 && until >= 0 && until < from)
		diag_error(d, p->pos, "probe '%s': until_step '%s' comes before from_step '%s'",
			   p->name ? p->name : "?", p->until_step, p->from_step);
}

static void check_probes(const struct runbook *rb, struct diags *d)
{
	for (size_t i = 0; i < rb->n_probes; i++) {
		const struct probe *p = &rb->probes[i];
		check_probe(rb, p, d);
		for (size_t j = 0; j < i; j++)
			if (p->name && rb->probes[j].name && !strcmp(p->name, rb->probes[j].name))
				diag_error(d, p->pos, "duplicate probe '%s'", p->name);
	}
}

/* A moment or a source of the objectives names a step or probe that exists. */
static void check_mark(const struct runbook *rb, const char *field, const char *text,
		       unsigned accept, struct diags *d)
{
	struct srcpos pos = rb->objectives.pos;
	struct mark m;
	const char *why;
	if (!text || mark_parse(text, accept, &m, &why) < 0)
		return; /* the loader reported it */
	if (m.kind == MARK_PROBE || m.kind == MARK_PROBE_STATE)
		check_probe_ref(rb, pos, m.name, d);
	else
		check_step_ref(rb, pos, field, m.name, d);
}

/* The RTO clock starts and stops at one moment each: a step's rto_start
 * or rto_stop, or the objectives' rto_start or rto_stop. */
static void check_objectives(const struct runbook *rb, struct diags *d)
{
	const struct objectives *o = &rb->objectives;
	const struct step *start = NULL, *stop = NULL;
	check_mark(rb, "rto_start", o->rto_start, MARK_MOMENT, d);
	check_mark(rb, "rto_stop", o->rto_stop, MARK_MOMENT, d);
	check_mark(rb, "rpo_from", o->rpo_from, MARK_SOURCE, d);
	for (size_t i = 0; i < rb->n_steps; i++) {
		const struct step *s = &rb->steps[i];
		if (s->rto_start && (start || o->rto_start))
			diag_error(d, s->pos, "the RTO clock starts once: rto_start is given %s",
				   start ? "on an earlier step too" : "in the objectives too");
		if (s->rto_stop && (stop || o->rto_stop))
			diag_error(d, s->pos, "the RTO clock stops once: rto_stop is given %s",
				   stop ? "on an earlier step too" : "in the objectives too");
		if (s->rto_start && !start)
			start = s;
		if (s->rto_stop && !stop)
			stop = s;
	}
}

/* The webhook URL is a credential: exactly one ${NAME} of a secret
 * variable, or ${env:NAME}, never written in the runbook. */
static void check_notify(const struct runbook *rb, struct diags *d)
{
	const struct notify *n = &rb->notify;
	const char *u = n->url;
	size_t len = u ? strlen(u) : 0;

	if (!u) {
		if (n->pos.line)
			diag_error(d, n->pos, "'notify' needs a 'url'");
		return;
	}
	const char *close = len > 3 ? strchr(u, '}') : NULL;
	if (strncmp(u, "${", 2) || !close || close != u + len - 1 || len == 3) {
		diag_error(d, n->pos, "the notify url must come from a secret variable or the "
			   "environment: write it as ${NAME} (a variable with secret: true) or "
			   "${env:NAME}, never the URL itself");
		return;
	}
	char name[QRH_MAX_ID_LEN + 8];
	snprintf(name, sizeof name, "%.*s", (int)(len - 3), u + 2);
	if (!strncmp(name, "env:", 4) && name[4])
		return;
	const struct var *v = runbook_var(rb, name);
	if (!v)
		diag_error(d, n->pos, "the notify url names '%s', which is not a declared variable", name);
	else if (!v->secret)
		diag_error(d, n->pos, "the notify url's variable '%s' must be secret (secret: true): "
			   "a webhook URL lets anyone post to the channel", name);
}

/* ---- lint: destructive commands in unconfirmed steps ---- */

struct pattern {
	const char *re;
	const char *what;
};

#define B "(^|[^[:alnum:]_])"
static const struct pattern destructive[] = {
	{ B "drop[[:space:]]+(table|database|schema|index|role|user|view)", "DROP" },
	{ B "truncate([[:space:]]+table)?[[:space:]]+[[:alnum:]_\"]", "TRUNCATE" },
	{ B "delete[[:space:]]+from", "DELETE FROM" },
	{ B "rm[[:space:]]+(-[[:alpha:]]*(r[[:alpha:]]*f|f[[:alpha:]]*r)|-r[[:space:]]+-f|-f[[:space:]]+-r|--recursive)", "rm -rf" },
	{ B "pg_promote", "pg_promote" },
	{ B "pg_ctl[^\n]*promote", "pg_ctl promote" },
	{ B "restore[[:space:]]+create", "velero restore create" },
	{ B "kubectl[[:space:]]+([^\n]*[[:space:]])?delete", "kubectl delete" },
	{ B "mkfs", "mkfs" },
};
#undef B
#define N_DESTRUCTIVE (sizeof destructive / sizeof *destructive)

static void action_text(const struct action *a, struct buf *b)
{
	if (a->kind == ACTION_VELERO)
		buf_adds(b, "velero ");
	if (a->recipe && !strcmp(a->recipe, "promote"))
		buf_adds(b, "pg_promote ");
	if (a->body)
		buf_adds(b, a->body);
	for (size_t i = 0; i < a->argv.n; i++) {
		buf_adds(b, a->argv.v[i]);
		buf_addc(b, ' ');
	}
}

static void lint_destructive(const struct step *s, regex_t *res, int ok,
			     struct diags *d)
{
	if (s->confirm != CONFIRM_NO || !ok)
		return;
	for (size_t i = 0; i < s->n_actions; i++) {
		struct buf b;
		buf_init(&b, BUF_UNLIMITED);
		action_text(&s->actions[i], &b);
		for (size_t k = 0; k < N_DESTRUCTIVE; k++) {
			if (regexec(&res[k], b.data, 0, NULL, 0) == 0) {
				diag_warn(d, s->actions[i].pos,
					  "destructive command '%s' in a step that runs without confirmation",
					  destructive[k].what);
				break;
			}
		}
		buf_release(&b);
	}
}

/* Action names must be unique (wait {stop=NAME} and the journal refer to
 * them), and a stop must name a background action started earlier.
 * `names` maps every name seen so far to its action, `background` the
 * names of background actions. */
struct name_check {
	struct strmap names;
	struct strmap background;
	const struct action **by_index;
	size_t n, cap;
};

static void check_names(const struct runbook *rb, size_t idx,
			struct name_check *nc, struct diags *d)
{
	const struct step *s = &rb->steps[idx];
	for (size_t k = 0; k < s->n_actions; k++) {
		const struct action *a = &s->actions[k];
		size_t j;
		if (a->stop && !strmap_get(&nc->background, a->stop, NULL))
			diag_error(d, a->pos, "stop=%s names no background action started before it", a->stop);
		if (!a->name)
			continue;
		nc->by_index = xgrow(nc->by_index, &nc->cap, nc->n + 1, sizeof *nc->by_index);
		nc->by_index[nc->n] = a;
		if (!strmap_add(&nc->names, a->name, nc->n) && strmap_get(&nc->names, a->name, &j))
			diag_error(d, a->pos, "duplicate action name '%s' (first at %u:%u)",
				   a->name, nc->by_index[j]->pos.line, nc->by_index[j]->pos.col);
		nc->n++;
		if (a->background)
			strmap_add(&nc->background, a->name, 0);
	}
}

static void check_step(struct runbook *rb, size_t idx, struct var_scope *scope,
		       regex_t *res, int res_ok, struct name_check *nc,
		       struct diags *d)
{
	struct step *s = &rb->steps[idx];
	check_names(rb, idx, nc, d);
	if (!s->title || !s->title[strspn(s->title, " \t\n\r\f\v")])
		diag_error(d, s->pos, "a step needs a title");
	if (s->capture && !strncmp(s->capture, "QRH_", 4))
		diag_error(d, s->pos, "capture=%s: variable names starting with QRH_ are qrh's own", s->capture);
	size_t line;
	if (s->doc && doc_action_fence(s->doc, &line))
		diag_warn(d, s->pos, "the instructions of step '%s' hold a code block in an action language "
				     "(line %zu of its doc): it is shown, not run",
			  s->id, line);
	for (size_t i = 0; i < s->n_actions; i++) {
		const struct action *a = &s->actions[i];
		check_action(rb, a, d);
		vars_check_action(a, scope, d);
		if (a->capture_col && !s->capture)
			diag_error(d, a->pos, "capture_col=%s needs capture=NAME on the step: the variable it sets",
				   a->capture_col);
		if (a->kind == ACTION_SQL && s->capture && !a->capture_col)
			diag_warn(d, a->pos, "capture=%s takes this sql action's whole table as text: "
					     "name a column with capture_col=COLUMN",
				  s->capture);
	}
	if (s->dual_control && s->confirm == CONFIRM_NO)
		diag_error(d, s->pos, "dual_control needs a confirmation: remove confirm=no");
	lint_destructive(s, res, res_ok, d);
	if (s->capture)
		var_scope_add(scope, s->capture);
	for (size_t i = 0; i < s->n_actions; i++)
		if (s->actions[i].pick)
			var_scope_add(scope, s->actions[i].pick);
}

/* A secret written into the runbook is in every copy of the file (and in
 * the journal, which keeps the runbook's text as evidence). */
static void lint_secrets(const struct runbook *rb, struct diags *d)
{
	for (size_t i = 0; i < rb->n_vars; i++)
		if (!strncmp(rb->vars[i].name, "QRH_", 4))
			diag_error(d, rb->vars[i].pos, "variable names starting with QRH_ are qrh's own");
	for (size_t i = 0; i < rb->n_vars; i++)
		if (rb->vars[i].secret && rb->vars[i].value && rb->vars[i].value[0])
			diag_warn(d, rb->vars[i].pos,
				  "secret '%s' has its value written in the runbook: give it with -v or a prompt instead",
				  rb->vars[i].name);
}

/* A fail-once fault names a step of the runbook. */
static void check_faults(const struct runbook *rb, struct diags *d)
{
	for (size_t i = 0; i < rb->faults.n; i++) {
		struct fault f;
		char msg[FAULT_MSG_MAX];
		if (fault_parse(rb->faults.v[i], &f, msg) == 0 && !fault_step_known(rb, &f))
			diag_error(d, (struct srcpos){ 1, 1 }, "fault '%s': no step has the id '%s'",
				   rb->faults.v[i], f.value);
	}
}

void runbook_validate(struct runbook *rb, struct diags *d)
{
	runbook_assign_ids(rb);
	lint_secrets(rb, d);
	size_t line;
	if (rb->description && doc_action_fence(rb->description, &line))
		diag_warn(d, (struct srcpos){ 1, 1 },
			  "the description holds a code block in an action language (line %zu): it is shown, not run",
			  line);
	if (rb->n_steps == 0)
		diag_error(d, (struct srcpos){ 1, 1 },
			   "no steps: write a '## Step' section per step, a list of steps, or \"steps\" in JSON");
	check_ids(rb, d);
	check_targets(rb, d);
	check_probes(rb, d);
	check_objectives(rb, d);
	check_faults(rb, d);
	check_notify(rb, d);
	regex_t res[N_DESTRUCTIVE];
	int ok = 1;
	size_t compiled = 0;
	for (; compiled < N_DESTRUCTIVE && ok; compiled++)
		ok = regcomp(&res[compiled], destructive[compiled].re,
			     REG_EXTENDED | REG_ICASE | REG_NOSUB) == 0;
	if (!ok)
		compiled--;
	struct var_scope scope;
	var_scope_init(&scope, rb);
	for (size_t i = 0; i < rb->n_probes; i++)
		vars_check_action(&rb->probes[i].action, &scope, d);
	for (size_t i = 0; i < rb->n_targets; i++)
		vars_check_target(&rb->targets[i], &scope, d);
	struct name_check nc = { 0 };
	strmap_init(&nc.names);
	strmap_init(&nc.background);
	for (size_t i = 0; i < rb->n_steps; i++)
		check_step(rb, i, &scope, res, ok, &nc, d);
	strmap_release(&nc.names);
	strmap_release(&nc.background);
	free(nc.by_index);
	var_scope_release(&scope);
	for (size_t i = 0; i < compiled; i++)
		regfree(&res[i]);
}
