#include "actions/http_expect.h"

#include <stdlib.h>
#include <string.h>

#include "util/xalloc.h"

static int init_json(struct http_expect *x, const struct action *a,
		     var_lookup_fn *lookup, void *arg, struct err *e)
{
	bool failed = false;
	x->json = xcalloc(a->json.n ? a->json.n : 1, sizeof *x->json);
	for (size_t i = 0; i < a->json.n; i++) {
		const char *why;
		char *text = vars_expand_dup(a->json.v[i], lookup, arg, e, &failed);
		if (failed)
			return -1;
		int rc = json_check_parse(text, &x->json[i], &why);
		x->n_json++;
		if (rc < 0)
			err_set(e, "bad json check '%s': %s", text, why);
		free(text);
		if (rc < 0)
			return -1;
	}
	return 0;
}

int http_expect_init(struct http_expect *x, const struct action *a,
		     var_lookup_fn *lookup, void *arg, struct err *e)
{
	bool failed = false;
	memset(x, 0, sizeof *x);
	const char *spec = a->until ? a->until : a->expect ? a->expect : HTTP_DEFAULT_STATUS;
	x->status = vars_expand_dup(spec, lookup, arg, e, &failed);
	x->contains = vars_expand_dup(a->contains, lookup, arg, e, &failed);
	x->matches = vars_expand_dup(a->matches, lookup, arg, e, &failed);
	if (failed)
		return -1;
	if (!http_status_spec_valid(x->status))
		return err_set(e, "bad status '%s': write HTTP statuses like 200, 2xx or 200,204",
			       x->status);
	if (x->matches) {
		int rc = regcomp(&x->re, x->matches, REG_EXTENDED | REG_NOSUB);
		if (rc) {
			char msg[128];
			regerror(rc, &x->re, msg, sizeof msg);
			return err_set(e, "bad matches '%s': %s", x->matches, msg);
		}
		x->has_re = true;
	}
	return init_json(x, a, lookup, arg, e);
}

void http_expect_release(struct http_expect *x)
{
	free(x->status);
	free(x->contains);
	free(x->matches);
	if (x->has_re)
		regfree(&x->re);
	for (size_t i = 0; i < x->n_json; i++)
		json_check_release(&x->json[i]);
	free(x->json);
	memset(x, 0, sizeof *x);
}

static bool body_matches(const regex_t *re, const char *body, size_t len)
{
	regmatch_t m[1] = { { .rm_so = 0, .rm_eo = (regoff_t)len } };
	return regexec(re, body, 1, m, REG_STARTEND) == 0;
}

static bool check_json(const struct http_expect *x, long status,
		       const char *body, size_t len, struct buf *why)
{
	if (!x->n_json)
		return true;
	const char *end = NULL, *stop = body + len;
	cJSON *root = cJSON_ParseWithLengthOpts(body, len, &end, false);
	while (root && end && end < stop && (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n'))
		end++;
	if (root && end != stop) {
		cJSON_Delete(root); /* a value, then something else */
		root = NULL;
	}
	if (!root) {
		buf_addf(why, "%ld, but the body is not JSON", status);
		return false;
	}
	bool ok = true;
	for (size_t i = 0; i < x->n_json && ok; i++) {
		struct buf w;
		buf_init(&w, 512);
		ok = json_check_eval(&x->json[i], root, &w);
		if (!ok)
			buf_addf(why, "%ld, but json %s failed: %s", status, x->json[i].text, w.data);
		buf_release(&w);
	}
	cJSON_Delete(root);
	return ok;
}

bool http_expect_check(const struct http_expect *x, long status,
		       const char *body, size_t len, struct buf *why)
{
	if (!http_status_spec_match(x->status, status)) {
		buf_addf(why, "%ld, not %s", status, x->status);
		return false;
	}
	if (x->contains && !memmem(body, len, x->contains, strlen(x->contains))) {
		buf_addf(why, "%ld, but the body does not contain '%s'", status, x->contains);
		return false;
	}
	if (x->has_re && !body_matches(&x->re, body, len)) {
		buf_addf(why, "%ld, but the body does not match '%s'", status, x->matches);
		return false;
	}
	return check_json(x, status, body, len, why);
}

void http_expect_describe(const struct http_expect *x, struct buf *out)
{
	buf_adds(out, x->status);
	if (x->contains)
		buf_addf(out, ", body contains '%s'", x->contains);
	if (x->matches)
		buf_addf(out, ", body matches '%s'", x->matches);
	for (size_t i = 0; i < x->n_json; i++)
		buf_addf(out, ", json %s", x->json[i].text);
}
