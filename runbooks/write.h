/* write: the runbook model back to text, for `qrh convert`.
 *
 * JSON is the canonical form: members in a fixed order, defaults left out,
 * durations in their shortest spelling, so loading any form and writing
 * JSON gives the same bytes for the same runbook. Markdown is written with
 * "##" sections, front matter (via libyaml) only when there is something
 * to put in it, and step ids only where they differ from the derived one.
 * Both return malloc'd NUL-terminated text. */
#ifndef QRH_RUNBOOKS_WRITE_H
#define QRH_RUNBOOKS_WRITE_H

#include <cjson/cJSON.h>

#include "runbooks/model.h"
#include "util/err.h"

cJSON *runbook_to_cjson(const struct runbook *rb);
char *runbook_write_json(const struct runbook *rb);
/* Writing is only safe when no prose holds a fence in an action language,
 * which the Markdown reader would turn into a command: check first. */
int runbook_markdown_safe(const struct runbook *rb, struct err *e);
char *runbook_write_markdown(const struct runbook *rb);

#endif
