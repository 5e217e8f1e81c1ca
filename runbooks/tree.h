/* tree: structured data (JSON files, YAML front matter) as cJSON trees whose
 * nodes keep their source positions.
 *
 * cJSON has no positions, so a side table (`struct posmap`) maps each node
 * to where its key and its value start. YAML is read with libyaml's event
 * parser into cJSON (core-schema scalars; anchors and aliases are refused so
 * a small file cannot expand into a huge one). For a JSON file cJSON stays
 * the authority on values; libyaml, which reads JSON as flow YAML, is used
 * only to find where each value starts. When it cannot, positions are
 * unknown (line 0) and callers fall back to the JSON path. */
#ifndef QRH_RUNBOOKS_TREE_H
#define QRH_RUNBOOKS_TREE_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "runbooks/diag.h"
#include "runbooks/model.h"

#define QRH_MAX_TREE_DEPTH 64

struct posmap;

struct posmap *posmap_new(void);
void posmap_free(struct posmap *pm);
void posmap_put(struct posmap *pm, const cJSON *node, struct srcpos key,
		struct srcpos val);
/* Where the node's value starts; {0,0} when unknown. */
struct srcpos posmap_val(const struct posmap *pm, const cJSON *node);
/* Where the node's key starts (object members); else its value position. */
struct srcpos posmap_key(const struct posmap *pm, const cJSON *node);

/* Parses one YAML document. Lines are shifted by line_offset (front matter
 * starts after the opening ---). Syntax errors are reported to `d`; returns
 * NULL then. An empty document yields an empty object. */
cJSON *tree_from_yaml(const char *text, size_t len, unsigned line_offset,
		      struct posmap *pm, struct diags *d);

/* Records positions for the nodes of `root`, parsed by cJSON from `text`. */
void tree_index_json(const char *text, size_t len, const cJSON *root,
		     struct posmap *pm);

/* A NUL in a decoded string cuts it short wherever it is used as a C
 * string (an argv, a path): refused wherever a runbook could encode one,
 * JSON "\u0000" (in a JSON runbook or JSON attributes) and YAML "\0",
 * "\x00" or "\u0000" (front matter), with this message. */
#define TREE_NUL_MESSAGE "a string holds a NUL character (\\u0000), " \
	"which would cut it short where it is used"
/* The offset of the first "\u0000" escape inside a JSON string at or after
 * `from` (a string opening before `from` is not seen), or len if none.
 * For text a JSON parser accepted: escapes are well formed. */
size_t tree_json_nul(const char *text, size_t len, size_t from);

/* Line and column (1-based) of byte `off` in text. */
struct srcpos tree_offset_pos(const char *text, size_t len, size_t off);

#endif
