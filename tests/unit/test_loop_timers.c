/* Tests for util/loop_timers, the loop's timer heap, with deadlines given
 * directly: exact ties, cancellation anywhere in the heap, the pass mark,
 * and ids that are never 0 and never reused. No clock is involved. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdlib.h>

#include "util/loop_timers.h"

#define HEAP_TEST_N 10000

/* A small deterministic generator: the same "random" heap every run. */
static uint32_t heap_test_rand(uint32_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 17;
	*x ^= *x << 5;
	return *x;
}

struct heap_test_timer {
	int64_t due;
	size_t order; /* the order it was added in */
	uint64_t id;
	bool cancelled;
	bool fired;
};

/* (deadline, order added): what the heap must come out in. */
static bool heap_test_before(const struct heap_test_timer *a,
			     const struct heap_test_timer *b)
{
	return a->due < b->due || (a->due == b->due && a->order < b->order);
}

/* Everything pending comes out in (deadline, order added), each once, and
 * the heap is empty after. */
static size_t heap_test_drain(struct loop_timers *t, struct heap_test_timer *tt,
			      size_t n)
{
	struct loop_timer_due d;
	const struct heap_test_timer *prev = NULL;
	size_t popped = 0;
	while (loop_timers_pop_due(t, INT64_MAX, UINT64_MAX, &d)) {
		struct heap_test_timer *x = d.arg;
		assert_true(x >= tt && x < tt + n);
		assert_false(x->cancelled);
		assert_false(x->fired);
		assert_true(d.id == x->id);
		x->fired = true;
		if (prev)
			assert_true(heap_test_before(prev, x));
		prev = x;
		popped++;
	}
	int64_t due;
	assert_false(loop_timers_next_due(t, &due));
	return popped;
}

/* 10,000 timers over 50 distinct deadlines (so most have exact ties), a
 * third cancelled from all over the heap, the current minimum among them. */
static void test_heap_order_ties_and_cancel(void **state)
{
	(void)state;
	struct heap_test_timer *tt = calloc(HEAP_TEST_N, sizeof *tt);
	struct loop_timers t;
	uint32_t x = 2463534242u;
	loop_timers_init(&t);
	for (size_t i = 0; i < HEAP_TEST_N; i++) {
		tt[i].due = 1000 * (int64_t)(heap_test_rand(&x) % 50);
		tt[i].order = i;
		tt[i].id = loop_timers_add(&t, tt[i].due, NULL, &tt[i]);
		assert_true(tt[i].id != 0);
	}
	size_t cancelled = 0;
	for (size_t i = 0; i < HEAP_TEST_N; i += 3) {
		assert_int_equal(loop_timers_cancel(&t, tt[i].id), 0);
		assert_int_equal(loop_timers_cancel(&t, tt[i].id), -1);
		tt[i].cancelled = true;
		cancelled++;
	}
	/* Cancel the current minimum a few times: the root of the heap. */
	for (int k = 0; k < 5; k++) {
		struct heap_test_timer *min = NULL;
		for (size_t i = 0; i < HEAP_TEST_N; i++)
			if (!tt[i].cancelled && (!min || heap_test_before(&tt[i], min)))
				min = &tt[i];
		int64_t due;
		assert_true(loop_timers_next_due(&t, &due));
		assert_true(due == min->due);
		assert_int_equal(loop_timers_cancel(&t, min->id), 0);
		min->cancelled = true;
		cancelled++;
	}
	assert_int_equal(heap_test_drain(&t, tt, HEAP_TEST_N),
			 HEAP_TEST_N - cancelled);
	for (size_t i = 0; i < HEAP_TEST_N; i++)
		assert_true(tt[i].cancelled != tt[i].fired);
	loop_timers_release(&t);
	free(tt);
}

/* Only timers due by `now` come out, and none added after the mark. */
static void test_heap_pop_due_limits(void **state)
{
	(void)state;
	struct loop_timers t;
	struct loop_timer_due d;
	int tag[4];
	loop_timers_init(&t);
	loop_timers_add(&t, 10, NULL, &tag[0]);
	loop_timers_add(&t, 30, NULL, &tag[1]);
	uint64_t mark = loop_timers_mark(&t);
	/* Added after the mark with an earlier deadline: it must wait, and
	 * must not hold up the older timer due by now either. */
	loop_timers_add(&t, 20, NULL, &tag[2]);
	assert_true(loop_timers_pop_due(&t, 25, mark, &d));
	assert_ptr_equal(d.arg, &tag[0]);
	assert_false(loop_timers_pop_due(&t, 25, mark, &d));
	assert_true(loop_timers_pop_due(&t, 25, loop_timers_mark(&t), &d));
	assert_ptr_equal(d.arg, &tag[2]);
	assert_false(loop_timers_pop_due(&t, 29, loop_timers_mark(&t), &d));
	assert_true(loop_timers_pop_due(&t, 30, loop_timers_mark(&t), &d));
	assert_ptr_equal(d.arg, &tag[1]);
	loop_timers_release(&t);
}

static int heap_test_cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

/* Slots are reused, ids are not: neither after firing nor after cancel. */
static void test_heap_ids_never_reused(void **state)
{
	(void)state;
	enum { ROUNDS = 20000 };
	uint64_t *ids = calloc(ROUNDS, sizeof *ids);
	struct loop_timers t;
	struct loop_timer_due d;
	loop_timers_init(&t);
	uint64_t keep = loop_timers_add(&t, INT64_MAX, NULL, NULL);
	for (size_t i = 0; i < ROUNDS; i++) {
		ids[i] = loop_timers_add(&t, (int64_t)i, NULL, NULL);
		assert_true(ids[i] != 0 && ids[i] != keep);
		if (i % 2)
			assert_int_equal(loop_timers_cancel(&t, ids[i]), 0);
		else
			assert_true(loop_timers_pop_due(&t, (int64_t)i, UINT64_MAX, &d));
		/* The old id of a reused slot is not the new timer's. */
		assert_int_equal(loop_timers_cancel(&t, ids[i]), -1);
	}
	qsort(ids, ROUNDS, sizeof *ids, heap_test_cmp_u64);
	for (size_t i = 1; i < ROUNDS; i++)
		assert_true(ids[i] != ids[i - 1]);
	/* Few slots served all those timers. */
	assert_true(t.nslots <= 2);
	assert_int_equal(loop_timers_cancel(&t, keep), 0);
	assert_int_equal(loop_timers_cancel(&t, 0), -1);
	assert_int_equal(loop_timers_cancel(&t, UINT64_MAX), -1);
	loop_timers_release(&t);
	free(ids);
}

/* A slot whose generation is used up is retired rather than wrapped. */
static void test_heap_slot_retired(void **state)
{
	(void)state;
	struct loop_timers t;
	loop_timers_init(&t);
	uint64_t a = loop_timers_add(&t, 1, NULL, NULL);
	assert_int_equal(loop_timers_cancel(&t, a), 0);
	uint64_t b = loop_timers_add(&t, 1, NULL, NULL);
	assert_true(b != a);
	assert_int_equal(t.nslots, 1);
	/* Pretend slot 0 has been used 2^32 - 1 times. */
	t.slots[0].gen = UINT32_MAX;
	uint64_t last = b | (uint64_t)UINT32_MAX << 32;
	assert_int_equal(loop_timers_cancel(&t, last), 0);
	uint64_t c = loop_timers_add(&t, 1, NULL, NULL);
	assert_int_equal(t.nslots, 2);
	assert_true(c != a && c != b && c != last);
	assert_int_equal(loop_timers_cancel(&t, c), 0);
	loop_timers_release(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_heap_order_ties_and_cancel),
		cmocka_unit_test(test_heap_pop_due_limits),
		cmocka_unit_test(test_heap_ids_never_reused),
		cmocka_unit_test(test_heap_slot_retired),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
