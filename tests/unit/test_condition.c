/* test_condition: the conditions of probe states (runbooks/condition.h)
 * and the moments and sources of objectives (runbooks/probe_spec.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "runbooks/condition.h"
#include "runbooks/probe_spec.h"

static const char values_json[] =
	"{\"status\": 503, \"latency_ms\": 120, \"body\": \"region=dr ok\","
	" \"lag_seconds\": 42.5, \"window_ms\": 900, \"phase\": \"WaitingForPluginOperationsPartiallyFailed\","
	" \"first_row\": {\"lag\": \"3.25\", \"role\": \"replica\"}, \"up\": true,"
	" \"nothing\": null, \"exit\": 0, \"line\": \"a and b\"}";

struct eval_case {
	const char *cond;
	bool want;
};

static const struct eval_case evals[] = {
	{ "status=5xx", true },
	{ "status=2xx", false },
	{ "status!=2xx", true },
	{ "status=200,503", true },
	{ "status=503", true },
	{ "status>=500", true },
	{ "status = 503", true },
	{ "latency_ms>100ms", true },
	{ "latency_ms>1s", false },
	{ "lag_seconds>30s", true },
	{ "lag_seconds>1m", false },
	{ "lag_seconds<=42.5", true },
	{ "window_ms<=1s", true },
	{ "window_ms>500", true },
	{ "body~region=dr", true },
	{ "body!~region=primary", true },
	{ "phase~PartiallyFailed", true },
	{ "phase=Completed", false },
	{ "first_row.lag<5", true },
	{ "first_row.lag>3.2s", true },
	{ "first_row.role=replica", true },
	{ "first_row.missing=1", false },
	{ "first_row.missing!=1", false },
	{ "nothing!=1", false },
	{ "nothing!~x", false },
	{ "up=true", true },
	{ "exit=0", true },
	{ "exit!=0", false },
	{ "line=\"a and b\"", true },
	{ "line~a and exit=0", true },
	{ "status=2xx or lag_seconds>30s", true },
	{ "status=2xx or lag_seconds>1m", false },
	{ "status=5xx and lag_seconds>1m or exit=0", true },
	{ "status=5xx and lag_seconds>1m or exit=1", false },
	{ "exit=1 or status=5xx and up=true", true },
	{ "body>3", false }, /* not a number: never holds */
};

static void test_eval(void **state)
{
	(void)state;
	cJSON *values = cJSON_Parse(values_json);
	assert_non_null(values);
	for (size_t i = 0; i < sizeof evals / sizeof *evals; i++) {
		struct cond c;
		char msg[COND_MSG_MAX];
		size_t at;
		if (cond_parse(evals[i].cond, &c, &at, msg) < 0)
			fail_msg("%s: %s at %zu", evals[i].cond, msg, at);
		if (cond_eval(&c, values) != evals[i].want)
			fail_msg("%s: expected %s", evals[i].cond, evals[i].want ? "true" : "false");
		cond_release(&c);
	}
	cJSON_Delete(values);
}

struct bad_case {
	const char *cond;
	size_t at;
	const char *msg;
};

static const struct bad_case bads[] = {
	{ "", 0, "expected the name of a value" },
	{ "status", 6, "expected an operator" },
	{ "status=", 7, "a value must follow the operator" },
	{ "status<2xx", 7, "a status pattern like '2xx' goes with = or !=" },
	{ "lag>soon", 4, "'soon' is not a number" },
	{ "a..b=1", 0, "bad value name 'a..b'" },
	{ "a=1 and", 7, "expected the name of a value" },
	{ "a=1 b=2", 4, "is not a number" }, /* the literal is "1 b=2": text with = is fine... */
	{ "line=\"open", 5, "a quoted value needs its closing quote" },
	{ "line=\"x\" y", 9, "expected 'and', 'or' or the end" },
};

static void test_parse_errors(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof bads / sizeof *bads; i++) {
		struct cond c;
		char msg[COND_MSG_MAX] = "";
		size_t at = 999;
		int rc = cond_parse(bads[i].cond, &c, &at, msg);
		if (!strcmp(bads[i].cond, "a=1 b=2")) {
			/* a literal runs to the next and/or: this one is text */
			assert_int_equal(rc, 0);
			assert_string_equal(c.v[0].text, "1 b=2");
			cond_release(&c);
			continue;
		}
		if (rc == 0)
			fail_msg("'%s' parsed", bads[i].cond);
		if (!strstr(msg, bads[i].msg) || at != bads[i].at)
			fail_msg("'%s': got '%s' at %zu, want '%s' at %zu", bads[i].cond, msg, at,
				 bads[i].msg, bads[i].at);
	}
}

static void test_lookup_and_text(void **state)
{
	(void)state;
	cJSON *v = cJSON_Parse(values_json);
	char text[64];
	double d;
	assert_true(cond_value_text(cond_lookup(v, "status"), text, sizeof text));
	assert_string_equal(text, "503");
	assert_true(cond_value_text(cond_lookup(v, "lag_seconds"), text, sizeof text));
	assert_string_equal(text, "42.5");
	assert_true(cond_value_number(cond_lookup(v, "first_row.lag"), &d));
	assert_true(d > 3.24 && d < 3.26);
	assert_null(cond_lookup(v, "nothing"));
	assert_null(cond_lookup(v, "first_row.lag.x"));
	assert_false(cond_value_text(cond_lookup(v, "first_row"), text, sizeof text));
	assert_true(cond_path_valid("first_row.lag"));
	assert_false(cond_path_valid(".x"));
	assert_false(cond_path_valid("x."));
	assert_false(cond_path_valid("x y"));
	cJSON_Delete(v);
}

static void test_marks(void **state)
{
	(void)state;
	struct mark m;
	const char *why;
	char text[96];
	assert_int_equal(mark_parse("probe:dr-health:ok", MARK_MOMENT, &m, &why), 0);
	assert_int_equal(m.kind, MARK_PROBE_STATE);
	assert_string_equal(m.name, "dr-health");
	assert_int_equal(m.state, PROBE_OK);
	mark_format(&m, text, sizeof text);
	assert_string_equal(text, "probe:dr-health:ok");
	assert_int_equal(mark_parse("step:crash:start", MARK_MOMENT, &m, &why), 0);
	assert_int_equal(m.kind, MARK_STEP_START);
	assert_int_equal(mark_parse("step:crash:end", MARK_MOMENT, &m, &why), 0);
	assert_int_equal(m.kind, MARK_STEP_END);
	assert_int_equal(mark_parse("step:rpo", MARK_SOURCE, &m, &why), 0);
	assert_int_equal(m.kind, MARK_STEP);
	assert_int_equal(mark_parse("probe:lag", MARK_SOURCE, &m, &why), 0);
	assert_int_equal(m.kind, MARK_PROBE);
	assert_int_equal(mark_parse("step:rpo", MARK_MOMENT, &m, &why), -1);
	assert_int_equal(mark_parse("probe:lag:ok", MARK_SOURCE, &m, &why), -1);
	assert_int_equal(mark_parse("probe:lag:green", MARK_MOMENT, &m, &why), -1);
	assert_int_equal(mark_parse("probe:Lag:ok", MARK_MOMENT, &m, &why), -1);
	assert_int_equal(mark_parse("lag:ok", MARK_MOMENT, &m, &why), -1);
	char name[QRH_MAX_ID_LEN + 1];
	enum probe_state st;
	assert_int_equal(probe_until_parse("dr-health:fail", name, &st, &why), 0);
	assert_string_equal(name, "dr-health");
	assert_int_equal(st, PROBE_FAIL);
	assert_int_equal(probe_until_parse("dr-health", name, &st, &why), -1);
	assert_int_equal(probe_until_parse("dr-health:", name, &st, &why), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_eval),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_lookup_and_text),
		cmocka_unit_test(test_marks),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
