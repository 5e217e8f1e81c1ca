/* strmap: a map from borrowed strings to indexes, for the checks that
 * would otherwise compare every step with every other one (a 1000-step
 * runbook must load in milliseconds). Keys are not copied: they must
 * outlive the map. */
#ifndef QRH_RUNBOOKS_STRMAP_H
#define QRH_RUNBOOKS_STRMAP_H

#include <stdbool.h>
#include <stddef.h>

struct strmap_slot {
	const char *key;
	size_t value;
};

struct strmap {
	struct strmap_slot *slots;
	size_t cap; /* a power of two */
	size_t n;
};

void strmap_init(struct strmap *m);
void strmap_release(struct strmap *m);
/* Adds key -> value unless key is there; returns whether it was added. */
bool strmap_add(struct strmap *m, const char *key, size_t value);
/* The value for key, or false when it is absent. */
bool strmap_get(const struct strmap *m, const char *key, size_t *value);

#endif
