/* The JSON loader: cJSON reads the values; positions come from tree.c. */
#include <cjson/cJSON.h>
#include <string.h>

#include "runbooks/fields.h"
#include "runbooks/load.h"
#include "runbooks/load_tree.h"
#include "runbooks/tree.h"
#include "util/xalloc.h"

/* True when the text stops inside a string or an open object or array:
 * only brackets are counted, so that the error can say "end of file". */
static int truncated(const char *text, size_t len)
{
	long depth = 0;
	int in_string = 0;
	for (size_t i = 0; i < len; i++) {
		char c = text[i];
		if (in_string) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_string = 0;
		} else if (c == '"') {
			in_string = 1;
		} else if (c == '{' || c == '[') {
			depth++;
		} else if (c == '}' || c == ']') {
			depth--;
		}
	}
	return in_string || depth > 0;
}

static int space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* cJSON's error pointer can sit one past the offending token: when it is on
 * whitespace right after a token, point at the token instead. */
static void syntax_error(const char *text, size_t len, const char *where,
			 struct diags *d)
{
	size_t off = where && where >= text && where <= text + len
			     ? (size_t)(where - text) : 0;
	if (truncated(text, len)) {
		size_t end = len;
		while (end > 0 && space(text[end - 1]))
			end--;
		diag_error(d, tree_offset_pos(text, len, end),
			   "JSON syntax error: unexpected end of file");
		return;
	}
	if (off > 0 && (off >= len || space(text[off])) && !space(text[off - 1]))
		off--;
	size_t n = 0;
	while (off + n < len && n < 12 && !space(text[off + n]))
		n++;
	diag_error(d, tree_offset_pos(text, len, off),
		   "JSON syntax error near '%.*s'", (int)(n ? n : 1), text + off);
}

/* cJSON decodes "\u0000" into a NUL byte, and every C string after it
 * ends there: "data/old\u0000/snapshot" would run as "data/old". No
 * runbook string may hold one; each is reported where it is written. */
static int nul_escapes(const char *text, size_t len, struct diags *d)
{
	size_t off = 0;
	int found = 0;

	while ((off = tree_json_nul(text, len, off)) < len) {
		diag_error(d, tree_offset_pos(text, len, off), TREE_NUL_MESSAGE);
		found++;
		off++;
	}
	return found;
}

struct runbook *load_json(const char *text, size_t len, bool positions,
			  struct diags *d)
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
	if (nul_escapes(text, len, d)) {
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
	if (positions)
		tree_index_json(text, len, root, c.pm);
	tree_load_runbook(&c, root, rb, true);
	posmap_free(c.pm);
	cJSON_Delete(root);
	return rb;
}
