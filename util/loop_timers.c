#include "util/loop_timers.h"

#include <stdlib.h>

#include "util/xalloc.h"

#define LOOP_TIMER_FREE UINT32_MAX
#define LOOP_TIMER_NONE UINT32_MAX

void loop_timers_init(struct loop_timers *t)
{
	*t = (struct loop_timers){ .free_head = LOOP_TIMER_NONE };
}

void loop_timers_release(struct loop_timers *t)
{
	free(t->slots);
	free(t->heap);
	loop_timers_init(t);
}

/* The low half names the slot (plus one, so no id is 0), the high half the
 * slot's generation. */
static uint64_t loop_timer_id(uint32_t slot, uint32_t gen)
{
	return (uint64_t)gen << 32 | ((uint64_t)slot + 1);
}

/* The pending timer's slot for id, or NULL. */
static struct loop_timer_slot *loop_timer_lookup(struct loop_timers *t,
						 uint64_t id)
{
	uint64_t low = id & UINT32_MAX;
	if (low == 0 || low > t->nslots)
		return NULL;
	struct loop_timer_slot *s = &t->slots[low - 1];
	if (s->heap_pos == LOOP_TIMER_FREE || s->gen != (uint32_t)(id >> 32))
		return NULL;
	return s;
}

/* Strict heap order: earlier deadline first, then earlier add. */
static bool loop_timer_before(const struct loop_timers *t, uint32_t a,
			      uint32_t b)
{
	const struct loop_timer_slot *x = &t->slots[a], *y = &t->slots[b];
	return x->due_ns < y->due_ns ||
	       (x->due_ns == y->due_ns && x->seq < y->seq);
}

/* Put slot into heap position pos and tell the slot where it is. */
static void loop_timer_place(struct loop_timers *t, size_t pos, uint32_t slot)
{
	t->heap[pos] = slot;
	t->slots[slot].heap_pos = (uint32_t)pos;
}

static void loop_timer_sift_up(struct loop_timers *t, size_t pos)
{
	uint32_t slot = t->heap[pos];
	while (pos > 0) {
		size_t parent = (pos - 1) / 2;
		if (!loop_timer_before(t, slot, t->heap[parent]))
			break;
		loop_timer_place(t, pos, t->heap[parent]);
		pos = parent;
	}
	loop_timer_place(t, pos, slot);
}

static void loop_timer_sift_down(struct loop_timers *t, size_t pos)
{
	uint32_t slot = t->heap[pos];
	for (;;) {
		size_t child = 2 * pos + 1;
		if (child >= t->nheap)
			break;
		if (child + 1 < t->nheap &&
		    loop_timer_before(t, t->heap[child + 1], t->heap[child]))
			child++;
		if (!loop_timer_before(t, t->heap[child], slot))
			break;
		loop_timer_place(t, pos, t->heap[child]);
		pos = child;
	}
	loop_timer_place(t, pos, slot);
}

/* A free slot: the most recently freed one (warm in cache), or a new one. */
static uint32_t loop_timer_slot_take(struct loop_timers *t)
{
	if (t->free_head != LOOP_TIMER_NONE) {
		uint32_t slot = t->free_head;
		t->free_head = t->slots[slot].next_free;
		return slot;
	}
	t->slots = xgrow(t->slots, &t->slots_cap, t->nslots + 1,
			 sizeof *t->slots);
	t->slots[t->nslots] = (struct loop_timer_slot){ .gen = 0 };
	return (uint32_t)t->nslots++;
}

/* Retire the slot's id; a slot out of generations is left unused for good. */
static void loop_timer_slot_free(struct loop_timers *t, uint32_t slot)
{
	struct loop_timer_slot *s = &t->slots[slot];
	s->heap_pos = LOOP_TIMER_FREE;
	s->cb = NULL;
	s->arg = NULL;
	if (s->gen == UINT32_MAX)
		return;
	s->gen++;
	s->next_free = t->free_head;
	t->free_head = slot;
}

uint64_t loop_timers_add(struct loop_timers *t, int64_t due_ns,
			 loop_timer_fn *cb, void *arg)
{
	uint32_t slot = loop_timer_slot_take(t);
	struct loop_timer_slot *s = &t->slots[slot];
	s->due_ns = due_ns;
	s->seq = t->next_seq++;
	s->cb = cb;
	s->arg = arg;
	t->heap = xgrow(t->heap, &t->heap_cap, t->nheap + 1, sizeof *t->heap);
	t->heap[t->nheap] = slot;
	loop_timer_sift_up(t, t->nheap++);
	return loop_timer_id(slot, s->gen);
}

/* Take the timer at heap position pos out: the last one fills the hole and
 * moves whichever way restores the order. */
static void loop_timer_heap_remove(struct loop_timers *t, size_t pos)
{
	uint32_t last = t->heap[--t->nheap];
	if (pos == t->nheap)
		return;
	loop_timer_place(t, pos, last);
	if (pos > 0 && loop_timer_before(t, last, t->heap[(pos - 1) / 2]))
		loop_timer_sift_up(t, pos);
	else
		loop_timer_sift_down(t, pos);
}

int loop_timers_cancel(struct loop_timers *t, uint64_t id)
{
	struct loop_timer_slot *s = loop_timer_lookup(t, id);
	if (!s)
		return -1;
	loop_timer_heap_remove(t, s->heap_pos);
	loop_timer_slot_free(t, (uint32_t)(s - t->slots));
	return 0;
}

bool loop_timers_next_due(const struct loop_timers *t, int64_t *due_ns)
{
	if (t->nheap == 0)
		return false;
	*due_ns = t->slots[t->heap[0]].due_ns;
	return true;
}

uint64_t loop_timers_mark(const struct loop_timers *t)
{
	return t->next_seq;
}

bool loop_timers_pop_due(struct loop_timers *t, int64_t now_ns, uint64_t mark,
			 struct loop_timer_due *out)
{
	if (t->nheap == 0)
		return false;
	uint32_t slot = t->heap[0];
	struct loop_timer_slot *s = &t->slots[slot];
	if (s->due_ns > now_ns || s->seq >= mark)
		return false;
	*out = (struct loop_timer_due){ loop_timer_id(slot, s->gen), s->cb,
					s->arg };
	loop_timer_heap_remove(t, 0);
	loop_timer_slot_free(t, slot);
	return true;
}
