#include "runbooks/fields.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runbooks/condition.h"
#include "runbooks/duration.h"
#include "runbooks/probe_spec.h"
#include "runbooks/size.h"
#include "runbooks/suggest.h"
#include "util/buf.h"
#include "util/xalloc.h"

#define AT(obj, f, type) ((type *)((char *)(obj) + (f)->off))
#define CAT(obj, f, type) ((type const *)(const void *)((const char *)(obj) + (f)->off))

size_t ctx_path_push_key(struct load_ctx *c, const char *key)
{
	size_t len = strlen(c->path);
	snprintf(c->path + len, sizeof c->path - len, "%s%s", len ? "." : "",
		 key);
	return len;
}

size_t ctx_path_push_index(struct load_ctx *c, size_t i)
{
	size_t len = strlen(c->path);
	snprintf(c->path + len, sizeof c->path - len, "[%zu]", i);
	return len;
}

void ctx_path_pop(struct load_ctx *c, size_t len)
{
	c->path[len] = '\0';
}

static void vreport(struct load_ctx *c, struct srcpos pos, const char *path,
		    const char *fmt, va_list ap)
{
	struct buf b;
	buf_init(&b, 2048);
	if (c->json_paths && path && *path)
		buf_addf(&b, "%s: ", path);
	buf_vaddf(&b, fmt, ap);
	diag_error(c->d, pos, "%s", b.data);
	buf_release(&b);
}

void field_error(struct load_ctx *c, const cJSON *v, const char *fmt, ...)
{
	char path[sizeof c->path];
	memcpy(path, c->path, sizeof path);
	if (v && v->string && c->json_paths) {
		size_t len = strlen(path);
		snprintf(path + len, sizeof path - len, "%s%s", len ? "." : "",
			 v->string);
	}
	va_list ap;
	va_start(ap, fmt);
	vreport(c, posmap_val(c->pm, v), path, fmt, ap);
	va_end(ap);
}

void field_error_at(struct load_ctx *c, struct srcpos pos, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vreport(c, pos, c->path, fmt, ap);
	va_end(ap);
}

bool field_valid_id(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > QRH_MAX_ID_LEN)
		return false;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];
		int ok = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
			 (i > 0 && (ch == '-' || ch == '_'));
		if (!ok)
			return false;
	}
	return true;
}

bool field_valid_varname(const char *s)
{
	if (!*s || (*s >= '0' && *s <= '9') || strlen(s) > QRH_MAX_ID_LEN)
		return false;
	for (; *s; s++) {
		char ch = *s;
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '_'))
			return false;
	}
	return true;
}

/* Text of a string value, or NULL after reporting a type error. */
static const char *want_string(struct load_ctx *c, const cJSON *v,
			       const char *expect)
{
	if (cJSON_IsString(v))
		return v->valuestring;
	field_error(c, v, "'%s' must be %s", v->string, expect);
	return NULL;
}

static void replace(char **slot, const char *s)
{
	free(*slot);
	*slot = xstrdup(s);
}

static int set_str(struct load_ctx *c, void *obj, const struct field *f,
		   const cJSON *v)
{
	const char *s = want_string(c, v, "a string");
	if (!s)
		return -1;
	replace(AT(obj, f, char *), s);
	return 0;
}

static cJSON *get_str(const void *obj, const struct field *f)
{
	const char *s = *CAT(obj, f, char *);
	return s ? cJSON_CreateString(s) : NULL;
}

/* A variable's value may be written as any YAML/JSON scalar. */
static int set_scalar(struct load_ctx *c, void *obj, const struct field *f,
		      const cJSON *v)
{
	char num[64];
	if (cJSON_IsNumber(v)) {
		double d = v->valuedouble;
		if (d > -9e15 && d < 9e15 && d == (double)(long long)d)
			snprintf(num, sizeof num, "%lld", (long long)d);
		else
			snprintf(num, sizeof num, "%.17g", d);
		replace(AT(obj, f, char *), num);
		return 0;
	}
	if (cJSON_IsBool(v)) {
		replace(AT(obj, f, char *), cJSON_IsTrue(v) ? "true" : "false");
		return 0;
	}
	if (cJSON_IsNull(v))
		return 0;
	return set_str(c, obj, f, v);
}

static int set_bool(struct load_ctx *c, void *obj, const struct field *f,
		    const cJSON *v)
{
	bool *out = AT(obj, f, bool);
	if (cJSON_IsBool(v)) {
		*out = cJSON_IsTrue(v);
		return 0;
	}
	if (c->text_values && cJSON_IsString(v)) {
		if (!strcmp(v->valuestring, "true"))
			return *out = true, 0;
		if (!strcmp(v->valuestring, "false"))
			return *out = false, 0;
	}
	field_error(c, v, "'%s' must be true or false", v->string);
	return -1;
}

static cJSON *get_bool(const void *obj, const struct field *f)
{
	return *CAT(obj, f, bool) ? cJSON_CreateTrue() : NULL;
}

/* An integer in [0, max], from a JSON number or attribute digits. */
static int read_int(struct load_ctx *c, const cJSON *v, long max, long *out)
{
	/* range first: converting an out-of-range double is undefined */
	if (cJSON_IsNumber(v) && v->valuedouble >= -1.0 && v->valuedouble <= (double)max + 1 &&
	    v->valuedouble == (double)(long)v->valuedouble) {
		*out = (long)v->valuedouble;
	} else if (c->text_values && cJSON_IsString(v) && *v->valuestring) {
		char *end;
		*out = strtol(v->valuestring, &end, 10);
		if (*end || v->valuestring[0] == '-' || v->valuestring[0] == '+')
			goto bad;
	} else {
		goto bad;
	}
	if (*out < 0 || *out > max) {
		field_error(c, v, "'%s' must be between 0 and %ld", v->string, max);
		return -1;
	}
	return 0;
bad:
	field_error(c, v, "'%s' must be an integer", v->string);
	return -1;
}

static int set_retries(struct load_ctx *c, void *obj, const struct field *f,
		       const cJSON *v)
{
	long n;
	if (read_int(c, v, QRH_MAX_RETRIES, &n) < 0)
		return -1;
	*AT(obj, f, int) = (int)n;
	return 0;
}

/* parallel=N: 1..QRH_MAX_PARALLEL members of a group at once. */
static int set_parallel(struct load_ctx *c, void *obj, const struct field *f,
			const cJSON *v)
{
	long n;
	if (read_int(c, v, QRH_MAX_PARALLEL, &n) < 0)
		return -1;
	if (n < 1) {
		field_error(c, v, "'parallel' must be at least 1");
		return -1;
	}
	*AT(obj, f, int) = (int)n;
	return 0;
}

/* require=all|any|N: how many members of a group must succeed. */
static int set_require(struct load_ctx *c, void *obj, const struct field *f,
		       const cJSON *v)
{
	const char *t = want_string(c, v, "all, any or a number");
	if (!t)
		return -1;
	char *end;
	long n = strtol(t, &end, 10);
	bool number = *t >= '1' && *t <= '9' && !*end && n <= (long)QRH_MAX_TARGETS * 64;
	if (strcmp(t, "all") && strcmp(t, "any") && !number) {
		field_error(c, v, "'require' must be all, any or a number of members, not '%s'", t);
		return -1;
	}
	replace(AT(obj, f, char *), t);
	return 0;
}

static int set_port(struct load_ctx *c, void *obj, const struct field *f,
		    const cJSON *v)
{
	long n;
	if (read_int(c, v, 65535, &n) < 0)
		return -1;
	*AT(obj, f, int) = (int)n;
	return 0;
}

static cJSON *get_int(const void *obj, const struct field *f)
{
	int n = *CAT(obj, f, int);
	return n ? cJSON_CreateNumber(n) : NULL;
}

static int set_duration(struct load_ctx *c, void *obj, const struct field *f,
			const cJSON *v)
{
	const char *s = want_string(c, v, "a duration like \"30s\" or \"15m\"");
	const char *why;
	if (!s)
		return -1;
	if (duration_parse(s, AT(obj, f, int64_t), &why) < 0) {
		field_error(c, v, "bad duration '%s' for '%s': %s", s, v->string,
			    why);
		return -1;
	}
	return 0;
}

/* An int64 field written as text by fmt (durations, sizes); -1 is unset. */
static cJSON *get_int64_text(const void *obj, const struct field *f,
			     void (*fmt)(int64_t, char *))
{
	int64_t n = *CAT(obj, f, int64_t);
	char text[DURATION_TEXT_MAX > SIZE_TEXT_MAX ? DURATION_TEXT_MAX : SIZE_TEXT_MAX];
	if (n < 0)
		return NULL;
	fmt(n, text);
	return cJSON_CreateString(text);
}

static cJSON *get_duration(const void *obj, const struct field *f)
{
	return get_int64_text(obj, f, duration_format);
}

/* A byte count: a JSON integer, or text like "64KiB" (runbooks/size.h). */
static int set_size(struct load_ctx *c, void *obj, const struct field *f,
		    const cJSON *v)
{
	char num[32];
	const char *s = NULL, *why;
	if (cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble <= (double)QRH_MAX_HTTP_BYTES &&
	    v->valuedouble == (double)(long)v->valuedouble) {
		snprintf(num, sizeof num, "%ld", (long)v->valuedouble);
		s = num;
	} else if (cJSON_IsString(v)) {
		s = v->valuestring;
	}
	if (!s) {
		field_error(c, v, "'%s' must be a size like 65536, 64KiB or 1MiB", v->string);
		return -1;
	}
	if (size_parse(s, QRH_MAX_HTTP_BYTES, AT(obj, f, int64_t), &why) < 0) {
		field_error(c, v, "bad size '%s' for '%s': %s (at most %uMiB)", s, v->string, why,
			    QRH_MAX_HTTP_BYTES >> 20);
		return -1;
	}
	return 0;
}

static cJSON *get_size(const void *obj, const struct field *f)
{
	return get_int64_text(obj, f, size_format);
}

static int set_strv(struct load_ctx *c, void *obj, const struct field *f,
		    const cJSON *v)
{
	struct strv *sv = AT(obj, f, struct strv);
	if (c->text_values && cJSON_IsString(v)) {
		strv_push(sv, v->valuestring);
		return 0;
	}
	if (!cJSON_IsArray(v)) {
		field_error(c, v, "'%s' must be a list of strings", v->string);
		return -1;
	}
	const cJSON *e;
	strv_release(sv);
	cJSON_ArrayForEach(e, v)
	{
		if (!cJSON_IsString(e)) {
			field_error(c, e, "'%s' must be a list of strings",
				    v->string);
			return -1;
		}
		strv_push(sv, e->valuestring);
	}
	return 0;
}

static cJSON *get_strv(const void *obj, const struct field *f)
{
	const struct strv *sv = CAT(obj, f, struct strv);
	if (!sv->n)
		return NULL;
	return cJSON_CreateStringArray((const char *const *)sv->v, (int)sv->n);
}

static int set_confirm(struct load_ctx *c, void *obj, const struct field *f,
		       const cJSON *v)
{
	struct step *s = obj;
	(void)f;
	if (cJSON_IsBool(v)) {
		s->confirm = cJSON_IsTrue(v) ? CONFIRM_YES : CONFIRM_NO;
		return 0;
	}
	const char *t = want_string(c, v, "yes, no or typed:WORD");
	if (!t)
		return -1;
	if (!strcmp(t, "yes") || !strcmp(t, "true")) {
		s->confirm = CONFIRM_YES;
	} else if (!strcmp(t, "no") || !strcmp(t, "false")) {
		s->confirm = CONFIRM_NO;
	} else if (!strncmp(t, "typed", 5) && (t[5] == '\0' || t[5] == ':')) {
		const char *word = t[5] ? t + 6 : "";
		if (!*word || strpbrk(word, " \t")) {
			field_error(c, v, "typed confirmation needs a word without spaces: confirm=typed:WORD");
			return -1;
		}
		s->confirm = CONFIRM_TYPED;
		replace(&s->confirm_word, word);
	} else {
		field_error(c, v, "'confirm' must be yes, no or typed:WORD, not '%s'", t);
		return -1;
	}
	return 0;
}

static cJSON *get_confirm(const void *obj, const struct field *f)
{
	const struct step *s = obj;
	(void)f;
	if (s->confirm == CONFIRM_NO)
		return cJSON_CreateString("no");
	if (s->confirm == CONFIRM_TYPED) {
		struct buf b;
		buf_init(&b, BUF_UNLIMITED);
		buf_addf(&b, "typed:%s", s->confirm_word);
		cJSON *r = cJSON_CreateString(b.data);
		buf_release(&b);
		return r;
	}
	return NULL;
}

static const char *const on_fail_names[] = { "stop", "continue", "ask" };

static int set_on_fail(struct load_ctx *c, void *obj, const struct field *f,
		       const cJSON *v)
{
	const char *t = want_string(c, v, "stop, continue or ask");
	if (!t)
		return -1;
	for (int i = 0; i < 3; i++) {
		if (!strcmp(t, on_fail_names[i])) {
			*AT(obj, f, enum on_fail) = (enum on_fail)i;
			return 0;
		}
	}
	field_error(c, v, "'on_fail' must be stop, continue or ask, not '%s'", t);
	return -1;
}

static cJSON *get_on_fail(const void *obj, const struct field *f)
{
	enum on_fail o = *CAT(obj, f, enum on_fail);
	return o == ON_FAIL_STOP ? NULL : cJSON_CreateString(on_fail_names[o]);
}

static int set_id(struct load_ctx *c, void *obj, const struct field *f,
		  const cJSON *v)
{
	struct step *s = obj;
	const char *t = want_string(c, v, "a string");
	(void)f;
	if (!t)
		return -1;
	if (!field_valid_id(t)) {
		field_error(c, v, "bad step id '%s': use lowercase letters, digits, '-' and '_' (at most %u)",
			    t, QRH_MAX_ID_LEN);
		return -1;
	}
	replace(&s->id, t);
	s->id_explicit = true;
	return 0;
}

static int set_varname(struct load_ctx *c, void *obj, const struct field *f,
		       const cJSON *v)
{
	const char *t = want_string(c, v, "a variable name");
	if (!t)
		return -1;
	if (!field_valid_varname(t)) {
		field_error(c, v, "bad variable name '%s': use letters, digits and '_'", t);
		return -1;
	}
	replace(AT(obj, f, char *), t);
	return 0;
}

static const char *const target_kinds[] = { "ssh", "postgres", "http",
					    "kubernetes", "group" };
#define N_TARGET_KINDS (sizeof target_kinds / sizeof *target_kinds)

static int set_target_kind(struct load_ctx *c, void *obj,
			   const struct field *f, const cJSON *v)
{
	const char *t = want_string(c, v, "a string");
	if (!t)
		return -1;
	for (size_t i = 0; i < N_TARGET_KINDS; i++) {
		if (!strcmp(t, target_kinds[i])) {
			replace(AT(obj, f, char *), t);
			return 0;
		}
	}
	const char *near = suggest_closest(t, target_kinds, N_TARGET_KINDS);
	field_error(c, v, "unknown target kind '%s'%s%s%s (ssh, postgres, http, kubernetes or group)",
		    t, near ? " (did you mean '" : "", near ? near : "",
		    near ? "'?)" : "");
	return -1;
}

/* recipe=lag|promote|rpo: the built-in sql measurements. */
static int set_recipe(struct load_ctx *c, void *obj, const struct field *f,
		      const cJSON *v)
{
	static const char *const names[] = { "lag", "promote", "rpo" };
	const char *t = want_string(c, v, "lag, promote or rpo");
	if (!t)
		return -1;
	for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
		if (!strcmp(t, names[i])) {
			replace(AT(obj, f, char *), t);
			return 0;
		}
	}
	const char *near = suggest_closest(t, names, sizeof names / sizeof *names);
	field_error(c, v, "unknown recipe '%s'%s%s%s (lag, promote or rpo)", t,
		    near ? " (did you mean '" : "", near ? near : "", near ? "'?)" : "");
	return -1;
}

/* expect=fail: a step meant to fail (in a drill). */
static int set_expect(struct load_ctx *c, void *obj, const struct field *f,
		      const cJSON *v)
{
	const char *t = want_string(c, v, "fail");
	if (!t)
		return -1;
	if (strcmp(t, "fail")) {
		field_error(c, v, "a step's 'expect' can only be 'fail' (a step meant to fail), not '%s'", t);
		return -1;
	}
	*AT(obj, f, bool) = true;
	return 0;
}

static cJSON *get_expect(const void *obj, const struct field *f)
{
	return *CAT(obj, f, bool) ? cJSON_CreateString("fail") : NULL;
}

#define F(n, set, get, type, mem, kinds, flags)                               \
	{ n, set, get, offsetof(type, mem), kinds, flags }
#define STEPF(n, set, get, mem, flags) F(n, set, get, struct step, mem, 0, flags)
#define ACTF(n, set, get, mem, kinds, flags)                                  \
	F(n, set, get, struct action, mem, kinds, flags)

enum {
	K_SH = KIND_BIT(ACTION_SH),
	K_EXEC = KIND_BIT(ACTION_EXEC),
	K_SSH = KIND_BIT(ACTION_SSH),
	K_HTTP = KIND_BIT(ACTION_HTTP),
	K_SQL = KIND_BIT(ACTION_SQL),
	K_VELERO = KIND_BIT(ACTION_VELERO),
	K_WAIT = KIND_BIT(ACTION_WAIT),
	K_PROC = K_SH | K_EXEC | K_SSH | K_VELERO,
};

const struct field step_fields[] = {
	STEPF("id", set_id, get_str, id, FIELD_HOIST),
	STEPF("title", set_str, get_str, title, FIELD_NO_ATTR),
	STEPF("doc", set_str, get_str, doc, FIELD_NO_ATTR),
	STEPF("confirm", set_confirm, get_confirm, confirm, FIELD_HOIST),
	STEPF("dual_control", set_bool, get_bool, dual_control, FIELD_HOIST),
	STEPF("timeout", set_duration, get_duration, timeout_ms, 0),
	STEPF("on_fail", set_on_fail, get_on_fail, on_fail, FIELD_HOIST),
	STEPF("retries", set_retries, get_int, retries, FIELD_HOIST),
	STEPF("backoff", set_duration, get_duration, backoff_ms, FIELD_HOIST),
	STEPF("capture", set_varname, get_str, capture, FIELD_HOIST),
	STEPF("rto_start", set_bool, get_bool, rto_start, FIELD_HOIST),
	STEPF("rto_stop", set_bool, get_bool, rto_stop, FIELD_HOIST),
	STEPF("par", set_duration, get_duration, par_ms, FIELD_HOIST),
	STEPF("expect", set_expect, get_expect, expect_fail, 0),
	STEPF("hint", set_str, get_str, hint, 0),
	{ 0 },
};

const struct field action_fields[] = {
	ACTF("name", set_str, get_str, name, KINDS_ALL, 0),
	ACTF("script", set_str, get_str, body, K_SH | K_SSH, FIELD_FENCE_BODY),
	ACTF("query", set_str, get_str, body, K_SQL, FIELD_FENCE_BODY),
	ACTF("body", set_str, get_str, body, K_HTTP, FIELD_FENCE_BODY),
	ACTF("argv", set_strv, get_strv, argv, K_EXEC, FIELD_FENCE_BODY),
	ACTF("args", set_strv, get_strv, argv, K_VELERO, FIELD_FENCE_BODY),
	ACTF("target", set_str, get_str, target, K_SSH | K_SQL | K_HTTP | K_VELERO | K_SH | K_EXEC, 0),
	ACTF("parallel", set_parallel, get_int, parallel, K_SSH | K_HTTP | K_SH | K_EXEC, 0),
	ACTF("require", set_require, get_str, require, K_SSH | K_HTTP | K_SH | K_EXEC, 0),
	ACTF("shell", set_str, get_str, shell, K_SH, 0),
	ACTF("cwd", set_str, get_str, cwd, K_SH | K_EXEC | K_VELERO, 0),
	ACTF("timeout", set_duration, get_duration, timeout_ms, KINDS_ALL, 0),
	ACTF("background", set_bool, get_bool, background, K_PROC, 0),
	ACTF("method", set_str, get_str, method, K_HTTP, 0),
	ACTF("url", set_str, get_str, url, K_HTTP, 0),
	ACTF("headers", set_strv, get_strv, headers, K_HTTP, FIELD_REPEAT),
	ACTF("expect", set_str, get_str, expect, K_HTTP | K_SQL, 0),
	ACTF("contains", set_str, get_str, contains, K_HTTP, 0),
	ACTF("until", set_str, get_str, until, K_HTTP | K_WAIT, 0),
	ACTF("every", set_duration, get_duration, every_ms, K_HTTP | K_WAIT | K_VELERO, 0),
	ACTF("within", set_duration, get_duration, within_ms, K_HTTP | K_WAIT | K_SQL, 0),
	ACTF("matches", set_str, get_str, matches, K_HTTP, 0),
	ACTF("json", set_strv, get_strv, json, K_HTTP, FIELD_REPEAT),
	ACTF("max_bytes", set_size, get_size, max_bytes, K_HTTP, 0),
	ACTF("follow", set_bool, get_bool, follow, K_HTTP, 0),
	ACTF("insecure", set_bool, get_bool, insecure, K_HTTP, 0),
	ACTF("cacert", set_str, get_str, cacert, K_HTTP, 0),
	ACTF("resolve", set_strv, get_strv, resolve, K_HTTP, FIELD_REPEAT),
	ACTF("connect_timeout", set_duration, get_duration, connect_timeout_ms, K_HTTP, 0),
	ACTF("request_timeout", set_duration, get_duration, request_timeout_ms, K_HTTP, 0),
	ACTF("expect_rows", set_str, get_str, expect_rows, K_SQL, 0),
	ACTF("params", set_strv, get_strv, params, K_SQL, FIELD_REPEAT),
	ACTF("recipe", set_recipe, get_str, recipe, K_SQL, 0),
	ACTF("capture_col", set_str, get_str, capture_col, K_SQL, 0),
	ACTF("marker_table", set_str, get_str, marker_table, K_SQL, 0),
	ACTF("ack_file", set_str, get_str, ack_file, K_SQL, 0),
	ACTF("accept", set_str, get_str, accept, K_VELERO, 0),
	ACTF("pick", set_varname, get_str, pick, K_VELERO, 0),
	ACTF("for", set_duration, get_duration, for_ms, K_WAIT, 0),
	ACTF("probe", set_str, get_str, probe, K_WAIT, 0),
	ACTF("stop", set_str, get_str, stop, K_WAIT, 0),
	{ 0 },
};

const struct field var_fields[] = {
	F("value", set_scalar, get_str, struct var, value, 0, 0),
	F("secret", set_bool, get_bool, struct var, secret, 0, 0),
	F("prompt", set_str, get_str, struct var, prompt, 0, 0),
	F("description", set_str, get_str, struct var, description, 0, 0),
	F("choices", set_strv, get_strv, struct var, choices, 0, 0),
	{ 0 },
};

const struct field target_fields[] = {
	F("kind", set_target_kind, get_str, struct target, kind, 0, FIELD_REQUIRED),
	F("host", set_str, get_str, struct target, host, 0, 0),
	F("port", set_port, get_int, struct target, port, 0, 0),
	F("user", set_str, get_str, struct target, user, 0, 0),
	F("identity", set_str, get_str, struct target, identity, 0, 0),
	F("known_hosts", set_str, get_str, struct target, known_hosts, 0, 0),
	F("agent", set_bool, get_bool, struct target, agent, 0, 0),
	F("trust_new", set_bool, get_bool, struct target, trust_new, 0, 0),
	F("dsn", set_str, get_str, struct target, dsn, 0, 0),
	F("password_var", set_varname, get_str, struct target, password_var, 0, 0),
	F("url", set_str, get_str, struct target, url, 0, 0),
	F("insecure", set_bool, get_bool, struct target, insecure, 0, 0),
	F("binary", set_str, get_str, struct target, binary, 0, 0),
	F("kubeconfig", set_str, get_str, struct target, kubeconfig, 0, 0),
	F("context", set_str, get_str, struct target, context, 0, 0),
	F("namespace", set_str, get_str, struct target, namespace_, 0, 0),
	F("members", set_strv, get_strv, struct target, members, 0, 0),
	F("members_file", set_str, get_str, struct target, members_file, 0, 0),
	{ 0 },
};

static int set_probe_name(struct load_ctx *c, void *obj,
			  const struct field *f, const cJSON *v)
{
	const char *t = want_string(c, v, "a string");
	if (!t)
		return -1;
	if (!field_valid_id(t)) {
		field_error(c, v, "bad probe name '%s': use lowercase letters, digits, '-' and '_'", t);
		return -1;
	}
	replace(AT(obj, f, char *), t);
	return 0;
}

/* every=: at least PROBE_MIN_EVERY_MS, so a typo cannot make a busy loop. */
static int set_every(struct load_ctx *c, void *obj, const struct field *f,
		     const cJSON *v)
{
	if (set_duration(c, obj, f, v) < 0)
		return -1;
	if (*AT(obj, f, int64_t) < PROBE_MIN_EVERY_MS) {
		field_error(c, v, "'every' must be at least %dms", PROBE_MIN_EVERY_MS);
		*AT(obj, f, int64_t) = -1;
		return -1;
	}
	return 0;
}

/* reuse: true (the default) or false, kept as its opposite (no_reuse)
 * so that the default is what is not written out. */
static int set_reuse(struct load_ctx *c, void *obj, const struct field *f,
		     const cJSON *v)
{
	bool reuse = !*AT(obj, f, bool);
	struct field as_bool = *f;
	as_bool.off = 0;
	if (set_bool(c, &reuse, &as_bool, v) < 0)
		return -1;
	*AT(obj, f, bool) = !reuse;
	return 0;
}

static cJSON *get_reuse(const void *obj, const struct field *f)
{
	return *CAT(obj, f, bool) ? cJSON_CreateFalse() : NULL;
}

/* ok=, warn=, fail=: parsed here, so a bad one is reported where it is. */
static int set_condition(struct load_ctx *c, void *obj, const struct field *f,
			 const cJSON *v)
{
	const char *t = want_string(c, v, "a condition like \"status=2xx\"");
	struct cond cond;
	char msg[COND_MSG_MAX];
	size_t at;
	if (!t)
		return -1;
	if (cond_parse(t, &cond, &at, msg) < 0) {
		if (t[at])
			field_error(c, v, "bad condition '%s' for '%s': %s (at '%.20s')", t,
				    v->string, msg, t + at);
		else
			field_error(c, v, "bad condition '%s' for '%s': %s (at the end)", t,
				    v->string, msg);
		return -1;
	}
	cond_release(&cond);
	replace(AT(obj, f, char *), t);
	return 0;
}

static int set_value_path(struct load_ctx *c, void *obj, const struct field *f,
			  const cJSON *v)
{
	const char *t = want_string(c, v, "the name of a value");
	if (!t)
		return -1;
	if (!cond_path_valid(t)) {
		field_error(c, v, "bad value name '%s': names of letters, digits, '_' and '-', "
				  "joined by '.' (first_row.lag)", t);
		return -1;
	}
	replace(AT(obj, f, char *), t);
	return 0;
}

static int set_step_ref(struct load_ctx *c, void *obj, const struct field *f,
			const cJSON *v)
{
	const char *t = want_string(c, v, "a step id");
	if (!t)
		return -1;
	if (!field_valid_id(t)) {
		field_error(c, v, "bad step id '%s' for '%s'", t, v->string);
		return -1;
	}
	replace(AT(obj, f, char *), t);
	return 0;
}

static int set_mark(struct load_ctx *c, void *obj, const struct field *f,
		    const cJSON *v, unsigned accept)
{
	const char *t = want_string(c, v, "a string");
	const char *why;
	struct mark m;
	if (!t)
		return -1;
	if (mark_parse(t, accept, &m, &why) < 0) {
		field_error(c, v, "bad %s '%s': %s", v->string, t, why);
		return -1;
	}
	replace(AT(obj, f, char *), t);
	return 0;
}

static int set_moment(struct load_ctx *c, void *obj, const struct field *f,
		      const cJSON *v)
{
	return set_mark(c, obj, f, v, MARK_MOMENT);
}

static int set_source(struct load_ctx *c, void *obj, const struct field *f,
		      const cJSON *v)
{
	return set_mark(c, obj, f, v, MARK_SOURCE);
}

const struct field probe_fields[] = {
	F("name", set_probe_name, get_str, struct probe, name, 0, 0),
	F("every", set_every, get_duration, struct probe, every_ms, 0, 0),
	F("ok", set_condition, get_str, struct probe, ok, 0, 0),
	F("warn", set_condition, get_str, struct probe, warn, 0, 0),
	F("fail", set_condition, get_str, struct probe, fail, 0, 0),
	F("value", set_value_path, get_str, struct probe, value, 0, 0),
	F("from_step", set_step_ref, get_str, struct probe, from_step, 0, 0),
	F("until_step", set_step_ref, get_str, struct probe, until_step, 0, 0),
	F("reuse", set_reuse, get_reuse, struct probe, no_reuse, 0, 0),
	{ 0 },
};

/* A count where 0 means something: absent (-1) is not written. */
static cJSON *get_count(const void *obj, const struct field *f)
{
	int n = *CAT(obj, f, int);
	return n >= 0 ? cJSON_CreateNumber(n) : NULL;
}

const struct field notify_fields[] = {
	F("url", set_str, get_str, struct notify, url, 0, FIELD_REQUIRED),
	F("timeout", set_duration, get_duration, struct notify, timeout_ms, 0, 0),
	F("retries", set_retries, get_count, struct notify, retries, 0, 0),
	F("backoff", set_duration, get_duration, struct notify, backoff_ms, 0, 0),
	{ 0 },
};

const struct field objective_fields[] = {
	F("rto", set_duration, get_duration, struct objectives, rto_ms, 0, 0),
	F("rpo", set_duration, get_duration, struct objectives, rpo_ms, 0, 0),
	F("rto_start", set_moment, get_str, struct objectives, rto_start, 0, 0),
	F("rto_stop", set_moment, get_str, struct objectives, rto_stop, 0, 0),
	F("rpo_from", set_source, get_str, struct objectives, rpo_from, 0, 0),
	{ 0 },
};

/* The action table has one entry per (name, kinds); find the one for kind. */
static const struct field *find_for_kind(const struct field *table,
					 const char *name, int kind,
					 const struct field **other)
{
	*other = NULL;
	for (const struct field *f = table; f->name; f++) {
		if (strcmp(f->name, name))
			continue;
		if (kind < 0 || (f->kinds & KIND_BIT(kind)))
			return f;
		*other = f;
	}
	return NULL;
}

const struct field *field_find(const struct field *table, const char *name)
{
	const struct field *other;
	return find_for_kind(table, name, -1, &other);
}

static void unknown_field(struct load_ctx *c, const struct field *table,
			  int kind, const cJSON *v)
{
	const char *names[64];
	size_t n = 0;
	for (const struct field *f = table; f->name && n < 64; f++)
		if (kind < 0 || (f->kinds & KIND_BIT(kind)))
			if (!c->text_values || !(f->flags & FIELD_NO_ATTR))
				names[n++] = f->name;
	const char *near = suggest_closest(v->string, names, n);
	struct srcpos pos = posmap_key(c->pm, v);
	if (near)
		field_error_at(c, pos, "unknown %s '%s' (did you mean '%s'?)",
			       c->what, v->string, near);
	else
		field_error_at(c, pos, "unknown %s '%s'", c->what, v->string);
}

int field_apply(struct load_ctx *c, const struct field *table, void *obj,
		int kind, const cJSON *v)
{
	const struct field *other;
	const struct field *f = find_for_kind(table, v->string, kind, &other);
	if (!f && other) {
		field_error_at(c, posmap_key(c->pm, v),
			       "'%s' does not apply to %s actions", v->string,
			       action_kind_name((enum action_kind)kind));
		return -1;
	}
	if (!f || (c->text_values && (f->flags & FIELD_NO_ATTR))) {
		unknown_field(c, table, kind, v);
		return -1;
	}
	if (c->text_values && (f->flags & FIELD_FENCE_BODY)) {
		field_error_at(c, posmap_key(c->pm, v),
			       "'%s' is the content of the block, not an attribute",
			       v->string);
		return -1;
	}
	return f->set(c, obj, f, v);
}

void field_emit(cJSON *out, const struct field *table, const void *obj,
		int kind, bool skip_body, unsigned only_flags)
{
	for (const struct field *f = table; f->name; f++) {
		if (kind >= 0 && !(f->kinds & KIND_BIT(kind)))
			continue;
		if (skip_body && (f->flags & (FIELD_FENCE_BODY | FIELD_NO_ATTR)))
			continue;
		if (only_flags && !(f->flags & only_flags))
			continue;
		cJSON *v = f->get(obj, f);
		if (v)
			cJSON_AddItemToObject(out, f->name, v);
	}
}
