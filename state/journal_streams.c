/* journal_streams.c: the journal's open output streams — a list to walk
 * (flushes visit every stream) and a hash index to find one by its key,
 * so that an append costs the same with one stream open or hundreds.
 *
 * The index is open addressing with linear probing over a power-of-two
 * table kept at most half full; removal shifts the following entries
 * back (no tombstones), so a lookup never walks more than the cluster its
 * key hashes into. */
#include "state/journal_priv.h"

#include <stdlib.h>

#include "util/xalloc.h"

#define INDEX_MIN 16

/* A key names a task's stream, or a legacy (step, attempt) stream. */
static int key_match(const struct journal_ostream *s, int64_t run_id,
		     const struct journal_okey *k, enum journal_stream stream)
{
	if (s->run_id != run_id || s->stream != stream || s->task != k->task)
		return 0;
	return k->task > 0 || (s->step == k->step && s->attempt == k->attempt);
}

/* splitmix64's finaliser: cheap, and every input bit reaches every output
 * bit, so sequential task numbers spread over the table. */
static uint64_t mix(uint64_t h, uint64_t v)
{
	h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebULL;
	return h ^ (h >> 31);
}

static size_t key_hash(int64_t run_id, int64_t step, int attempt,
		       int64_t task, enum journal_stream stream)
{
	uint64_t h = mix(0, (uint64_t)run_id);

	h = mix(h, (uint64_t)stream);
	if (task > 0)
		return (size_t)mix(h, (uint64_t)task);
	h = mix(h, (uint64_t)step);
	return (size_t)mix(h, (uint64_t)(uint32_t)attempt);
}

static size_t stream_hash(const struct journal_ostream *s)
{
	return key_hash(s->run_id, s->step, s->attempt, s->task, s->stream);
}

struct journal_ostream *journal_streams_find(const struct journal *j,
					     int64_t run_id,
					     const struct journal_okey *k,
					     enum journal_stream stream)
{
	size_t mask, i;

	if (!j->index_cap)
		return NULL;
	mask = j->index_cap - 1;
	i = key_hash(run_id, k->step, k->attempt, k->task, stream) & mask;
	for (; j->index[i]; i = (i + 1) & mask)
		if (key_match(j->index[i], run_id, k, stream))
			return j->index[i];
	return NULL;
}

static void index_put(struct journal_ostream **index, size_t cap,
		      struct journal_ostream *s)
{
	size_t i = stream_hash(s) & (cap - 1);

	while (index[i])
		i = (i + 1) & (cap - 1);
	index[i] = s;
}

/* Doubling keeps the load under one half, where probes stay short. */
static void index_grow(struct journal *j)
{
	size_t cap = j->index_cap ? j->index_cap * 2 : INDEX_MIN;
	struct journal_ostream **index = xcalloc(cap, sizeof *index);

	for (size_t i = 0; i < j->nstreams; i++)
		index_put(index, cap, j->streams[i]);
	free(j->index);
	j->index = index;
	j->index_cap = cap;
}

void journal_streams_add(struct journal *j, struct journal_ostream *s)
{
	j->streams = xgrow(j->streams, &j->streams_cap, j->nstreams + 1,
			   sizeof *j->streams);
	s->pos = j->nstreams;
	j->streams[j->nstreams++] = s;
	if (j->nstreams * 2 > j->index_cap)
		index_grow(j);	/* puts every stream, s included */
	else
		index_put(j->index, j->index_cap, s);
}

/* Backward-shift deletion: each entry after the hole moves into it if
 * the hole lies between the entry's home slot and where it sits. */
static void index_delete(struct journal *j, const struct journal_ostream *s)
{
	size_t mask = j->index_cap - 1;
	size_t hole = stream_hash(s) & mask;

	while (j->index[hole] != s)
		hole = (hole + 1) & mask;
	for (size_t i = (hole + 1) & mask; j->index[i]; i = (i + 1) & mask) {
		size_t home = stream_hash(j->index[i]) & mask;
		if (((i - home) & mask) >= ((i - hole) & mask)) {
			j->index[hole] = j->index[i];
			hole = i;
		}
	}
	j->index[hole] = NULL;
}

/* Order in the list does not matter: swap-remove. */
void journal_streams_remove(struct journal *j, struct journal_ostream *s)
{
	index_delete(j, s);
	j->streams[s->pos] = j->streams[--j->nstreams];
	j->streams[s->pos]->pos = s->pos;
}

/* The containers only; the streams are freed by their owner first. */
void journal_streams_free(struct journal *j)
{
	free(j->streams);
	free(j->index);
	j->streams = NULL;
	j->index = NULL;
	j->nstreams = j->streams_cap = j->index_cap = 0;
}
