/* util/resolve: a lookup off the loop comes back through the loop, and an
 * abandoned one never calls back (the thread finishes on its own). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "util/clock.h"
#include "util/resolve.h"

struct seen {
	int calls;
	struct resolve *rq;
};

static void on_done(struct resolve *rq, void *arg)
{
	struct seen *s = arg;
	s->calls++;
	s->rq = rq;
}

static void test_localhost(void **state)
{
	struct err e;
	struct seen s = { 0 };
	(void)state;
	struct loop *l = loop_new(&e);
	assert_non_null(l);
	struct resolve *rq = resolve_start(l, "localhost", on_done, &s, &e);
	assert_non_null(rq);
	int64_t until = clock_mono_ns() + 30 * 1000000000LL;
	while (!s.calls && clock_mono_ns() < until)
		loop_run_once(l, 100);
	assert_int_equal(s.calls, 1);
	assert_ptr_equal(s.rq, rq);
	char addrs[RESOLVE_MAX_ADDRS][46];
	size_t n;
	assert_int_equal(resolve_result(rq, addrs, &n, &e), 0);
	bool loopback = false;
	for (size_t i = 0; i < n; i++)
		loopback = loopback || !strcmp(addrs[i], "127.0.0.1") || !strcmp(addrs[i], "::1");
	assert_true(loopback);
	resolve_free(rq);
	loop_free(l);
}

static void test_abandoned(void **state)
{
	struct err e;
	struct seen s = { 0 };
	(void)state;
	struct loop *l = loop_new(&e);
	/* freed at once, many times over: no callback, no leak, no write into
	 * a closed fd */
	for (int i = 0; i < 50; i++) {
		struct resolve *rq = resolve_start(l, "localhost", on_done, &s, &e);
		assert_non_null(rq);
		resolve_free(rq);
	}
	for (int i = 0; i < 5; i++)
		loop_run_once(l, 20);
	assert_int_equal(s.calls, 0);
	loop_free(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_localhost),
		cmocka_unit_test(test_abandoned),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
