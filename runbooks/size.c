#include "runbooks/size.h"

#include <stdio.h>
#include <string.h>

int size_parse(const char *s, int64_t max, int64_t *bytes, const char **why)
{
	int64_t n = 0;
	const char *p = s;
	if (*p < '0' || *p > '9')
		return *why = "expected a number of bytes like 65536, 64KiB or 1MiB", -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		n = n * 10 + (*p - '0');
		if (n > max)
			return *why = "too large", -1;
	}
	int64_t unit = 1;
	if (!strcmp(p, "KiB"))
		unit = 1024;
	else if (!strcmp(p, "MiB"))
		unit = 1024 * 1024;
	else if (*p)
		return *why = "the unit must be KiB or MiB, or none for bytes", -1;
	if (n > max / unit)
		return *why = "too large", -1;
	if (n == 0)
		return *why = "must be at least 1 byte", -1;
	*bytes = n * unit;
	return 0;
}

void size_format(int64_t bytes, char out[SIZE_TEXT_MAX])
{
	if (bytes > 0 && bytes % (1024 * 1024) == 0)
		snprintf(out, SIZE_TEXT_MAX, "%lldMiB", (long long)(bytes / (1024 * 1024)));
	else if (bytes > 0 && bytes % 1024 == 0)
		snprintf(out, SIZE_TEXT_MAX, "%lldKiB", (long long)(bytes / 1024));
	else
		snprintf(out, SIZE_TEXT_MAX, "%lld", (long long)bytes);
}
