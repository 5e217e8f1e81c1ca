/* One line of a pick list (a velero backup to restore from): its number,
 * name, phase and creation time, cut to fit a line. The text comes from
 * outside: the caller shows it through the sanitizer. */
#ifndef QRH_TUI_PICK_LINE_H
#define QRH_TUI_PICK_LINE_H

#include <cjson/cJSON.h>
#include <stddef.h>

void pick_line(const cJSON *choice, int number, char *out, size_t n);

#endif
