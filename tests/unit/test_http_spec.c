/* Tests for the pure parts of http actions: status specs, JSON checks,
 * resolve entries, URL joining (runbooks/http_spec), sizes
 * (runbooks/size), excerpts (util/utf8) and the expectations
 * (actions/http_expect). Table-driven. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actions/http_expect.h"
#include "runbooks/http_spec.h"
#include "runbooks/size.h"
#include "util/utf8.h"
#include "util/xalloc.h"

static void test_status_specs(void **state)
{
	static const char *const good[] = { "200", "2xx", "200,204", "200,204,3xx", "599", "1xx" };
	static const char *const bad[] = { "", "2x0", "6xx", "600", "20", "2000", "200,", ",200",
					   "200, 204", "2XX", "ok" };
	(void)state;
	for (size_t i = 0; i < sizeof good / sizeof *good; i++)
		assert_true(http_status_spec_valid(good[i]));
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		if (http_status_spec_valid(bad[i]))
			fail_msg("'%s' should be refused", bad[i]);
	static const struct {
		const char *spec;
		long status;
		bool match;
	} m[] = {
		{ "2xx", 200, true },	  { "2xx", 299, true },	    { "2xx", 302, false },
		{ "200,204", 204, true }, { "200,204", 201, false }, { "200,3xx", 301, true },
		{ "5xx", 0, false },	  { "200", 2000, false },   { "503", 503, true },
		{ "4xx,5xx", 404, true },
	};
	for (size_t i = 0; i < sizeof m / sizeof *m; i++)
		if (http_status_spec_match(m[i].spec, m[i].status) != m[i].match)
			fail_msg("'%s' vs %ld: expected %d", m[i].spec, m[i].status, m[i].match);
}

static const char doc[] =
	"{\"region\": \"dr\", \"n\": 5, \"ok\": true, \"off\": false, \"nul\": null,"
	" \"items\": [{\"name\": \"a\"}, {\"name\": \"b\"}], \"s\": \"7\", \"we ird\": 1,"
	" \"lag\": 0.25}";

static void test_json_checks(void **state)
{
	static const struct {
		const char *check;
		bool pass;
		const char *why; /* NULL: not checked */
	} cases[] = {
		{ ".region=dr", true, NULL },
		{ ".region==dr", true, NULL },
		{ ".region = dr", true, NULL },
		{ ".region=\"dr\"", true, NULL },
		{ ".region!=dr", false, NULL },
		{ ".region=primary", false, "'.region' is \"dr\"" },
		{ ".n=5", true, NULL },
		{ ".n=5.0", true, NULL },
		{ ".n>4", true, NULL },
		{ ".n<=4", false, NULL },
		{ ".n=five", false, "'.n' is 5, which cannot be compared with 'five'" },
		{ ".lag<0.5", true, NULL },
		{ ".ok", true, NULL },
		{ ".ok=true", true, NULL },
		{ ".ok=false", false, NULL },
		{ ".off", false, NULL },
		{ ".nul", false, NULL },
		{ ".nul=null", true, NULL },
		{ ".missing", false, "'.missing' is missing" },
		{ ".missing!=x", true, NULL },
		{ ".items[1].name=b", true, NULL },
		{ ".items[2].name=b", false, "'.items[2].name' is missing" },
		{ ".items", true, NULL },
		{ ".items=x", false, NULL },
		{ ".items!=x", true, NULL },
		{ ".s=7", true, NULL },
		{ ".s>6", true, NULL },
		{ ".\"we ird\"=1", true, NULL },
		{ ".", true, NULL },
		{ ".region.x", false, NULL },
	};
	(void)state;
	cJSON *root = cJSON_Parse(doc);
	assert_non_null(root);
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		struct json_check c;
		const char *why = NULL;
		struct buf b;
		if (json_check_parse(cases[i].check, &c, &why) < 0)
			fail_msg("'%s' refused: %s", cases[i].check, why);
		buf_init(&b, 1024);
		bool pass = json_check_eval(&c, root, &b);
		if (pass != cases[i].pass)
			fail_msg("'%s': expected %s (%s)", cases[i].check, cases[i].pass ? "pass" : "fail",
				 b.data);
		if (cases[i].why && strcmp(b.data, cases[i].why))
			fail_msg("'%s': said '%s', expected '%s'", cases[i].check, b.data, cases[i].why);
		buf_release(&b);
		json_check_release(&c);
	}
	cJSON_Delete(root);
}

static void test_json_check_syntax(void **state)
{
	static const struct {
		const char *check;
		const char *why;
	} bad[] = {
		{ "region=dr", "a JSON check starts with a path such as .status or .items[0].name" },
		{ ".a..b", "a '.' must be followed by a key" },
		{ ".a[x]", "an array index is [N] with N a number" },
		{ ".a[1", "an array index is [N] with N a number" },
		{ ".\"a", "a quoted key has no closing quote" },
		{ ".a=", "the value after the operator is missing" },
		{ ".lag<abc", "<, <=, > and >= compare with a number" },
		{ ".a ~ b", "after the path comes =, ==, !=, <, <=, > or >= and a value" },
	};
	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		struct json_check c;
		const char *why = NULL;
		if (json_check_parse(bad[i].check, &c, &why) == 0)
			fail_msg("'%s' accepted", bad[i].check);
		assert_string_equal(why, bad[i].why);
		json_check_release(&c);
	}
}

static void test_resolve_entries(void **state)
{
	static const char *const good[] = { "svc:443:127.0.0.1", "svc.test:80:[::1]",
					    "a:1:10.0.0.1,10.0.0.2" };
	static const char *const bad[] = { "svc:443", ":443:1.2.3.4", "svc:0:1.2.3.4",
					   "svc:65536:1.2.3.4", "svc:x:1.2.3.4",
					   "svc:443:host.name", "svc:443:" };
	const char *why;
	(void)state;
	for (size_t i = 0; i < sizeof good / sizeof *good; i++)
		if (http_resolve_entry_check(good[i], &why) < 0)
			fail_msg("'%s' refused: %s", good[i], why);
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		if (http_resolve_entry_check(bad[i], &why) == 0)
			fail_msg("'%s' accepted", bad[i]);
}

static void test_urls(void **state)
{
	static const struct {
		const char *base, *url, *want;
	} joins[] = {
		{ "http://gw:8080", "/healthz", "http://gw:8080/healthz" },
		{ "http://gw:8080/", "/healthz", "http://gw:8080/healthz" },
		{ "http://gw/api/", "v1/x", "http://gw/api/v1/x" },
		{ "http://gw/api", "/v1/x", "http://gw/api/v1/x" },
		{ "http://gw/x", "?a=1", "http://gw/x?a=1" },
		{ "http://gw", "https://other/", "https://other/" },
		{ NULL, "http://a/", "http://a/" },
		{ "http://gw/", NULL, "http://gw/" },
	};
	(void)state;
	for (size_t i = 0; i < sizeof joins / sizeof *joins; i++) {
		struct buf b;
		buf_init(&b, 1024);
		http_url_join(joins[i].base, joins[i].url, &b);
		assert_string_equal(b.data, joins[i].want);
		buf_release(&b);
	}
	assert_true(http_url_is_absolute("HTTPS://x"));
	assert_true(http_url_is_absolute("ftp://x"));
	assert_false(http_url_is_absolute("/x"));
	assert_false(http_url_is_absolute("x:y"));
	assert_false(http_url_is_absolute("://x"));
	assert_true(http_url_scheme_ok("Http://x"));
	assert_true(http_url_scheme_ok("https://x"));
	assert_false(http_url_scheme_ok("ftp://x"));
	assert_false(http_url_scheme_ok("file:///etc/passwd"));
	assert_false(http_url_scheme_ok("httpx://x"));
	static const struct {
		const char *in, *out;
	} ui[] = {
		{ "https://u:p@h/x?y", "https://h/x?y" },
		{ "https://u@x:p@h:1/", "https://h:1/" },
		{ "https://h/p@x", "https://h/p@x" },
		{ "/rel", "/rel" },
	};
	for (size_t i = 0; i < sizeof ui / sizeof *ui; i++) {
		struct buf b;
		buf_init(&b, 1024);
		http_url_without_userinfo(ui[i].in, &b);
		assert_string_equal(b.data, ui[i].out);
		buf_release(&b);
	}
}

static void test_sizes(void **state)
{
	static const struct {
		const char *text;
		int64_t bytes;
		const char *canon;
	} good[] = {
		{ "1", 1, "1" },
		{ "65536", 65536, "64KiB" },
		{ "64KiB", 65536, "64KiB" },
		{ "1MiB", 1048576, "1MiB" },
		{ "1000", 1000, "1000" },
		{ "1536KiB", 1572864, "1536KiB" },
		{ "64MiB", 67108864, "64MiB" },
	};
	static const char *const bad[] = { "", "0", "1.5MiB", "1MB", "1 MiB", "-1", "65MiB",
					   "99999999999999999999", "KiB" };
	const char *why;
	int64_t n;
	char text[SIZE_TEXT_MAX];
	(void)state;
	for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
		if (size_parse(good[i].text, 64 << 20, &n, &why) < 0)
			fail_msg("'%s' refused: %s", good[i].text, why);
		assert_int_equal(n, good[i].bytes);
		size_format(n, text);
		assert_string_equal(text, good[i].canon);
	}
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		if (size_parse(bad[i], 64 << 20, &n, &why) == 0)
			fail_msg("'%s' accepted", bad[i]);
}

static void test_excerpts(void **state)
{
	static const struct {
		const char *in;
		size_t len, max;
		const char *out;
	} cases[] = {
		{ "hello", 5, 3, "hel" },
		{ "h\xc3\xa9llo", 6, 2, "h" },	   /* é is not cut in two */
		{ "h\xc3\xa9llo", 6, 3, "h\xc3\xa9" },
		{ "a\xff" "b", 3, 10, "a\xef\xbf\xbd" "b" },
		{ "a\0b", 3, 10, "a\xef\xbf\xbd" "b" },
		{ "\xe2\x82", 2, 10, "\xef\xbf\xbd\xef\xbf\xbd" }, /* a cut character */
	};
	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		struct buf b;
		buf_init(&b, 1024);
		utf8_excerpt(cases[i].in, cases[i].len, cases[i].max, &b);
		assert_string_equal(b.data, cases[i].out);
		buf_release(&b);
	}
}

static const char *vars(void *arg, const char *name)
{
	(void)arg;
	return !strcmp(name, "REGION") ? "dr" : NULL;
}

static void test_expectations(void **state)
{
	struct action a;
	struct http_expect x;
	struct err e;
	struct buf why;
	const char body[] = "{\"region\": \"dr\", \"lag\": 0.2}\n";
	(void)state;
	action_init(&a, ACTION_HTTP);
	a.until = xstrdup("2xx");
	a.contains = xstrdup("\"region\"");
	a.matches = xstrdup("\"lag\": 0\\.[0-9]+");
	strv_push(&a.json, ".region=${REGION}");
	strv_push(&a.json, ".lag<1");
	assert_int_equal(http_expect_init(&x, &a, vars, NULL, &e), 0);
	buf_init(&why, 1024);
	assert_true(http_expect_check(&x, 200, body, strlen(body), &why));
	assert_false(http_expect_check(&x, 503, body, strlen(body), &why));
	assert_string_equal(why.data, "503, not 2xx");
	buf_reset(&why);
	const char other[] = "{\"region\": \"primary\", \"lag\": 0.2}";
	assert_false(http_expect_check(&x, 200, other, strlen(other), &why));
	assert_string_equal(why.data, "200, but json .region=dr failed: '.region' is \"primary\"");
	buf_reset(&why);
	const char html[] = "\"region\" \"lag\": 0.5 <html>";
	assert_false(http_expect_check(&x, 200, html, strlen(html), &why));
	assert_string_equal(why.data, "200, but the body is not JSON");
	buf_reset(&why);
	/* a NUL in the body does not end it */
	assert_false(http_expect_check(&x, 200, "x\0\"region\"", 10, &why));
	assert_string_equal(why.data, "200, but the body does not match '\"lag\": 0\\.[0-9]+'");
	buf_release(&why);
	http_expect_release(&x);

	free(a.matches);
	a.matches = xstrdup("(unclosed");
	assert_int_equal(http_expect_init(&x, &a, vars, NULL, &e), -1);
	assert_non_null(strstr(e.msg, "bad matches '(unclosed'"));
	http_expect_release(&x);
	action_release(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_status_specs),   cmocka_unit_test(test_json_checks),
		cmocka_unit_test(test_json_check_syntax), cmocka_unit_test(test_resolve_entries),
		cmocka_unit_test(test_urls),	       cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_excerpts),       cmocka_unit_test(test_expectations),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
