#include "util/clock.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

int64_t clock_mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t clock_wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void clock_rfc3339_ms(int64_t wall_ms, char out[RFC3339_MS_LEN])
{
	time_t secs = (time_t)(wall_ms / 1000);
	int ms = (int)(wall_ms % 1000);
	if (ms < 0) {
		ms += 1000;
		secs -= 1;
	}
	struct tm tm;
	char date[32];
	gmtime_r(&secs, &tm);
	strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, RFC3339_MS_LEN, "%.19s.%03uZ", date, (unsigned)ms % 1000u);
}

void clock_boot_id(char out[CLOCK_BOOT_ID_MAX])
{
	FILE *f = fopen("/proc/sys/kernel/random/boot_id", "re");
	out[0] = '\0';
	if (!f)
		return;
	if (fgets(out, CLOCK_BOOT_ID_MAX, f))
		out[strcspn(out, "\n")] = '\0';
	fclose(f);
	/* only the UUID's characters: it goes into JSON as it is */
	if (strspn(out, "0123456789abcdef-") != strlen(out))
		out[0] = '\0';
}

void clock_duration_words(int64_t ms, char *out, size_t n)
{
	if (ms < 1000)
		snprintf(out, n, "%lld ms", (long long)ms);
	else if (ms < 60000)
		snprintf(out, n, "%.1f s", (double)ms / 1000);
	else if (ms < 3600000)
		snprintf(out, n, "%lldm %02llds", (long long)(ms / 60000),
			 (long long)(ms / 1000 % 60));
	else
		snprintf(out, n, "%lldh %02lldm", (long long)(ms / 3600000),
			 (long long)(ms / 60000 % 60));
}
