/* The console's pick dialog and plain mode's prompt list choices alike. */
#include <stdio.h>

#include "tui/pick_line.h"

static const char *field(const cJSON *choice, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(choice, key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

void pick_line(const cJSON *choice, int number, char *out, size_t n)
{
	const char *name = field(choice, "name"), *phase = field(choice, "phase"),
		   *created = field(choice, "created");
	snprintf(out, n, "%2d  %.80s%s%.24s%s%.32s", number, name ? name : "?", phase ? "  " : "",
		 phase ? phase : "", created ? "  " : "", created ? created : "");
}
