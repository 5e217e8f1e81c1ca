#include "runbooks/duration.h"

#include <stdio.h>
#include <string.h>

struct unit {
	const char *name;
	int64_t ms;
};

/* Longest names first so "ms" is not read as "m" followed by garbage. */
static const struct unit units[] = {
	{ "ms", 1 }, { "h", 3600000 }, { "m", 60000 }, { "s", 1000 },
};

static int unit_rank(int64_t ms)
{
	return ms == 3600000 ? 0 : ms == 60000 ? 1 : ms == 1000 ? 2 : 3;
}

static const struct unit *match_unit(const char *p)
{
	for (size_t i = 0; i < sizeof units / sizeof *units; i++)
		if (!strncmp(p, units[i].name, strlen(units[i].name)))
			return &units[i];
	return NULL;
}

int duration_parse(const char *s, int64_t *ms, const char **why)
{
	int64_t total = 0;
	int last_rank = -1;
	const char *p = s;
	if (!*p)
		return *why = "empty duration", -1;
	while (*p) {
		if (*p == '-' || *p == '+')
			return *why = "a duration has no sign", -1;
		if (*p < '0' || *p > '9')
			return *why = "expected a number like 30s, 15m or 1h30m", -1;
		int64_t n = 0;
		while (*p >= '0' && *p <= '9') {
			n = n * 10 + (*p++ - '0');
			if (n > DURATION_MAX_MS)
				return *why = "duration too long (max 30 days)", -1;
		}
		if (*p == '.')
			return *why = "fractions are not allowed (write 1m30s, not 1.5m)", -1;
		if (*p == ' ' || *p == '\t')
			return *why = "no space allowed between number and unit", -1;
		if (!*p)
			return *why = "missing unit (h, m, s or ms)", -1;
		const struct unit *u = match_unit(p);
		if (!u)
			return *why = "unknown unit (use h, m, s or ms)", -1;
		int rank = unit_rank(u->ms);
		if (rank <= last_rank)
			return *why = "units must go from largest to smallest, once each", -1;
		last_rank = rank;
		total += n * u->ms;
		if (total > DURATION_MAX_MS)
			return *why = "duration too long (max 30 days)", -1;
		p += strlen(u->name);
	}
	*ms = total;
	return 0;
}

void duration_format(int64_t ms, char out[DURATION_TEXT_MAX])
{
	static const struct unit order[] = {
		{ "h", 3600000 }, { "m", 60000 }, { "s", 1000 }, { "ms", 1 },
	};
	size_t len = 0;
	out[0] = '\0';
	if (ms <= 0) {
		snprintf(out, DURATION_TEXT_MAX, "0s");
		return;
	}
	for (size_t i = 0; i < 4; i++) {
		int64_t n = ms / order[i].ms;
		if (!n)
			continue;
		ms -= n * order[i].ms;
		len += (size_t)snprintf(out + len, DURATION_TEXT_MAX - len,
					"%lld%s", (long long)n, order[i].name);
	}
}
