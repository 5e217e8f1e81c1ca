/* loop_timers: the pending timers of one loop (used by util/loop.c only).
 *
 * A binary min-heap ordered by (deadline, sequence number): the sequence
 * number grows with every add, so equal deadlines come out in the order they
 * were added. Each timer lives in a slot of a pool; its id carries the slot
 * and the slot's generation, so finding a timer by id is an array index and
 * cancelling it is O(log n). A slot's generation grows each time the slot is
 * freed, and a slot whose generation would wrap is never used again: an id
 * is never 0 and never reused. */
#ifndef QRH_LOOP_TIMERS_H
#define QRH_LOOP_TIMERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/loop.h"

struct loop_timer_slot {
	int64_t due_ns;
	uint64_t seq;
	loop_timer_fn *cb;
	void *arg;
	uint32_t gen;
	uint32_t heap_pos;  /* LOOP_TIMER_FREE when the slot holds no timer */
	uint32_t next_free; /* the free list, while the slot is free */
};

struct loop_timers {
	struct loop_timer_slot *slots;
	size_t nslots, slots_cap;
	uint32_t *heap; /* slot indices */
	size_t nheap, heap_cap;
	uint32_t free_head; /* LOOP_TIMER_NONE when empty */
	uint64_t next_seq;
};

/* A timer taken out of the heap, ready to be called. */
struct loop_timer_due {
	uint64_t id;
	loop_timer_fn *cb;
	void *arg;
};

void loop_timers_init(struct loop_timers *t);
void loop_timers_release(struct loop_timers *t);

/* Queue a timer due at due_ns; returns its id. */
uint64_t loop_timers_add(struct loop_timers *t, int64_t due_ns,
			 loop_timer_fn *cb, void *arg);
/* 0 if id was pending and is now forgotten, -1 otherwise. */
int loop_timers_cancel(struct loop_timers *t, uint64_t id);
/* The earliest deadline; false when no timer is pending. */
bool loop_timers_next_due(const struct loop_timers *t, int64_t *due_ns);
/* The sequence number the next add will get: timers added from now on
 * compare greater or equal. */
uint64_t loop_timers_mark(const struct loop_timers *t);
/* Take the earliest timer out if it is due by now_ns and was added before
 * mark (see loop_timers_mark); false when there is none. */
bool loop_timers_pop_due(struct loop_timers *t, int64_t now_ns, uint64_t mark,
			 struct loop_timer_due *out);

#endif
