/* The small parsers under the loaders: durations, words, attributes,
 * variable references and expansion, suggestions, slugs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "runbooks/attrs.h"
#include "runbooks/duration.h"
#include "runbooks/suggest.h"
#include "runbooks/validate.h"
#include "runbooks/vars.h"
#include "runbooks/words.h"

static void test_duration_good(void **state)
{
	static const struct {
		const char *in;
		int64_t ms;
		const char *canon;
	} t[] = {
		{ "0s", 0, "0s" },	    { "90s", 90000, "1m30s" },
		{ "15m", 900000, "15m" },   { "1h30m", 5400000, "1h30m" },
		{ "500ms", 500, "500ms" },  { "1m1s1ms", 61001, "1m1s1ms" },
		{ "2h", 7200000, "2h" },    { "720h", 2592000000, "720h" },
	};
	(void)state;
	for (size_t i = 0; i < sizeof t / sizeof *t; i++) {
		int64_t ms;
		const char *why;
		char text[DURATION_TEXT_MAX];
		assert_int_equal(duration_parse(t[i].in, &ms, &why), 0);
		assert_int_equal(ms, t[i].ms);
		duration_format(ms, text);
		assert_string_equal(text, t[i].canon);
	}
}

static void test_duration_bad(void **state)
{
	static const struct {
		const char *in;
		const char *why;
	} t[] = {
		{ "", "empty duration" },
		{ "15 m", "no space allowed between number and unit" },
		{ "-3s", "a duration has no sign" },
		{ "10", "missing unit (h, m, s or ms)" },
		{ "1.5m", "fractions are not allowed (write 1m30s, not 1.5m)" },
		{ "5x", "unknown unit (use h, m, s or ms)" },
		{ "1s1m", "units must go from largest to smallest, once each" },
		{ "1m1m", "units must go from largest to smallest, once each" },
		{ "721h", "duration too long (max 30 days)" },
		{ "99999999999999999999s", "duration too long (max 30 days)" },
		{ "m", "expected a number like 30s, 15m or 1h30m" },
	};
	(void)state;
	for (size_t i = 0; i < sizeof t / sizeof *t; i++) {
		int64_t ms;
		const char *why = NULL;
		assert_int_equal(duration_parse(t[i].in, &ms, &why), -1);
		assert_string_equal(why, t[i].why);
	}
}

static void test_words_roundtrip(void **state)
{
	static const char *const words[] = {
		"plain", "two words", "it's", "say \"hi\"", "back\\slash", "",
		"${VAR}", "$(touch /tmp/pwned)", "`id`", ";", "-rf", "a\nb", "'",
	};
	(void)state;
	struct buf b;
	buf_init(&b, BUF_UNLIMITED);
	for (size_t i = 0; i < sizeof words / sizeof *words; i++) {
		if (i)
			buf_addc(&b, ' ');
		words_quote(&b, words[i]);
	}
	struct strv out = { 0 };
	const char *why;
	size_t off;
	assert_int_equal(words_split(b.data, b.len, &out, &why, &off), 0);
	assert_int_equal(out.n, sizeof words / sizeof *words);
	for (size_t i = 0; i < out.n; i++)
		assert_string_equal(out.v[i], words[i]);
	strv_release(&out);
	buf_release(&b);
}

static void test_words_split(void **state)
{
	(void)state;
	const char *in = "pg_ctl -D '/var/lib/pg data'  \"a \\\"b\\\"\" c\\ d \\\n next";
	struct strv out = { 0 };
	const char *why;
	size_t off;
	assert_int_equal(words_split(in, strlen(in), &out, &why, &off), 0);
	assert_int_equal(out.n, 6);
	assert_string_equal(out.v[2], "/var/lib/pg data");
	assert_string_equal(out.v[3], "a \"b\"");
	assert_string_equal(out.v[4], "c d");
	assert_string_equal(out.v[5], "next");
	strv_release(&out);
	assert_int_equal(words_split("a 'b", 4, &out, &why, &off), -1);
	assert_string_equal(why, "unterminated quote");
	assert_int_equal(off, 2);
	strv_release(&out);
}

static void test_attrs(void **state)
{
	(void)state;
	struct diags d;
	diags_init(&d);
	struct posmap *pm = posmap_new();
	const char *s = "{name=promote timeout=60s title=\"two words\" background}";
	cJSON *o = attrs_parse(s, strlen(s), (struct srcpos){ 3, 10 }, pm, &d);
	assert_non_null(o);
	assert_int_equal(d.n_errors, 0);
	assert_string_equal(cJSON_GetObjectItem(o, "name")->valuestring, "promote");
	assert_string_equal(cJSON_GetObjectItem(o, "title")->valuestring, "two words");
	assert_string_equal(cJSON_GetObjectItem(o, "background")->valuestring, "true");
	struct srcpos p = posmap_key(pm, cJSON_GetObjectItem(o, "timeout"));
	assert_int_equal(p.line, 3);
	assert_int_equal(p.col, 10 + 14);
	struct buf b;
	buf_init(&b, BUF_UNLIMITED);
	attrs_write(&b, o);
	assert_string_equal(b.data, " {name=promote timeout=60s title=\"two words\" background=true}");
	cJSON_Delete(o);
	const char *j = "{\"name\": \"x\", \"retries\": 2}";
	o = attrs_parse(j, strlen(j), (struct srcpos){ 1, 1 }, pm, &d);
	assert_non_null(o);
	assert_int_equal(cJSON_GetObjectItem(o, "retries")->valueint, 2);
	cJSON_Delete(o);
	buf_release(&b);
	posmap_free(pm);
	diags_release(&d);
}

static const char *lookup(void *arg, const char *name)
{
	(void)arg;
	if (!strcmp(name, "A"))
		return "$(touch /tmp/pwned) `x` \"q\"";
	if (!strcmp(name, "env:HOME"))
		return "/home/x";
	return NULL;
}

static void test_expand(void **state)
{
	(void)state;
	struct buf b;
	struct err e = { "" };
	buf_init(&b, BUF_UNLIMITED);
	assert_int_equal(vars_expand("x=${A}; cost $$5 ${env:HOME}", lookup, NULL, &b, &e), 0);
	assert_string_equal(b.data, "x=$(touch /tmp/pwned) `x` \"q\"; cost $5 /home/x");
	buf_reset(&b);
	assert_int_equal(vars_expand("${NOPE}", lookup, NULL, &b, &e), -1);
	assert_string_equal(e.msg, "variable 'NOPE' has no value");
	buf_reset(&b);
	e.msg[0] = '\0';
	assert_int_equal(vars_expand("${", lookup, NULL, &b, &e), -1);
	buf_release(&b);
}

static void test_suggest_and_slug(void **state)
{
	(void)state;
	const char *names[] = { "timeout", "confirm", "retries", "target" };
	assert_string_equal(suggest_closest("tiemout", names, 4), "timeout");
	assert_string_equal(suggest_closest("TARGET", names, 4), "target");
	assert_null(suggest_closest("zzzzzz", names, 4));
	char *s = step_slug("Promote the **replica** (pg_promote)!");
	assert_string_equal(s, "promote-the-replica-pg-promote");
	free(s);
	s = step_slug("!!!");
	assert_string_equal(s, "step");
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_duration_good),
		cmocka_unit_test(test_duration_bad),
		cmocka_unit_test(test_words_roundtrip),
		cmocka_unit_test(test_words_split),
		cmocka_unit_test(test_attrs),
		cmocka_unit_test(test_expand),
		cmocka_unit_test(test_suggest_and_slug),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
