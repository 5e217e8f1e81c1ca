/* The JSON loader: cJSON reads the values; positions come from tree.c. */
#include <cjson/cJSON.h>
#include <string.h>

#include "runbooks/fields.h"
#include "runbooks/load.h"
#include "runbooks/load_tree.h"
#include "util/xalloc.h"

static void syntax_error(const char *text, size_t len, const char *where,
			 struct diags *d)
{
	size_t off = where && where >= text && where <= text + len
			     ? (size_t)(where - text) : 0;
	struct srcpos p = tree_offset_pos(text, len, off);
	if (off >= len)
		diag_error(d, p, "JSON syntax error: unexpected end of file");
	else
		diag_error(d, p, "JSON syntax error near '%.12s'", text + off);
}

struct runbook *load_json(const char *text, size_t len, struct diags *d)
{
	const char *end = NULL;
	cJSON *root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
	if (!root) {
		syntax_error(text, len, cJSON_GetErrorPtr(), d);
		return NULL;
	}
	while (end && end < text + len && strchr(" \t\r\n", *end))
		end++;
	if (end && end < text + len) {
		syntax_error(text, len, end, d);
		cJSON_Delete(root);
		return NULL;
	}
	if (!cJSON_IsObject(root)) {
		diag_error(d, (struct srcpos){ 1, 1 }, "a JSON runbook must be an object");
		cJSON_Delete(root);
		return NULL;
	}
	struct runbook *rb = xcalloc(1, sizeof *rb);
	runbook_init(rb);
	struct load_ctx c = { .d = d, .pm = posmap_new(), .json_paths = true,
			      .what = "field" };
	tree_index_json(text, len, root, c.pm);
	tree_load_runbook(&c, root, rb, true);
	posmap_free(c.pm);
	cJSON_Delete(root);
	return rb;
}
