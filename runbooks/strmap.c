#include "runbooks/strmap.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/xalloc.h"

void strmap_init(struct strmap *m)
{
	m->cap = 64;
	m->n = 0;
	m->slots = xcalloc(m->cap, sizeof *m->slots);
}

void strmap_release(struct strmap *m)
{
	free(m->slots);
	m->slots = NULL;
	m->cap = m->n = 0;
}

/* FNV-1a: short keys, no adversary worth more than a slower check. */
static size_t hash(const char *s)
{
	uint64_t h = 14695981039346656037ull;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return (size_t)h;
}

static size_t find(const struct strmap *m, const char *key)
{
	size_t i = hash(key) & (m->cap - 1);
	while (m->slots[i].key && strcmp(m->slots[i].key, key))
		i = (i + 1) & (m->cap - 1);
	return i;
}

static void grow(struct strmap *m)
{
	struct strmap old = *m;
	m->cap *= 2;
	m->n = 0;
	m->slots = xcalloc(m->cap, sizeof *m->slots);
	for (size_t i = 0; i < old.cap; i++)
		if (old.slots[i].key)
			strmap_add(m, old.slots[i].key, old.slots[i].value);
	free(old.slots);
}

bool strmap_add(struct strmap *m, const char *key, size_t value)
{
	if ((m->n + 1) * 2 > m->cap)
		grow(m);
	size_t i = find(m, key);
	if (m->slots[i].key)
		return false;
	m->slots[i] = (struct strmap_slot){ key, value };
	m->n++;
	return true;
}

bool strmap_get(const struct strmap *m, const char *key, size_t *value)
{
	size_t i = find(m, key);
	if (!m->slots[i].key)
		return false;
	if (value)
		*value = m->slots[i].value;
	return true;
}
