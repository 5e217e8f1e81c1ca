/* attrs: the attributes of a Markdown heading or fence, Runme-style.
 *
 *   {name=promote timeout=60s confirm=typed:PROMOTE}
 *   {title="two words" background}          (a bare name means true)
 *   {"name": "promote", "timeout": "60s"}    (a JSON object)
 *
 * Values are strings (the field tables convert them); "..." values take \"
 * and \\ escapes. The result is a cJSON object whose members keep their
 * order and duplicates, with each key's and value's position in `pm`. */
#ifndef QRH_RUNBOOKS_ATTRS_H
#define QRH_RUNBOOKS_ATTRS_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "runbooks/diag.h"
#include "runbooks/tree.h"
#include "util/buf.h"

/* s[0..n) starts with '{' and ends with '}', at file position `pos`.
 * Returns NULL after reporting a syntax error. */
cJSON *attrs_parse(const char *s, size_t n, struct srcpos pos,
		   struct posmap *pm, struct diags *d);

/* Writes " {k=v ...}" for the members of obj (strings, bools, numbers,
 * arrays of strings as repeated keys); nothing when obj is empty. */
void attrs_write(struct buf *b, const cJSON *obj);

#endif
