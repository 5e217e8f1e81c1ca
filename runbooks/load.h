/* load: read a runbook file into the model, checked.
 *
 * The one entry point for every front end. The format is taken from the
 * extension (.json; .md, .markdown) or, failing that, from the content (a
 * leading '{' is JSON). The file is read whole, refused above
 * QRH_MAX_FILE_BYTES, and must be UTF-8 without NUL bytes. After parsing,
 * the runbook is validated (runbooks/validate.h), so the diagnostics hold
 * syntax errors, semantic errors and lint warnings together.
 *
 * Returns the runbook, or NULL when nothing usable could be read; the
 * runbook may be run only when diags->n_errors == 0. The caller owns both
 * and frees them with runbook_free() and diags_release(). */
#ifndef QRH_RUNBOOKS_LOAD_H
#define QRH_RUNBOOKS_LOAD_H

#include <stdbool.h>
#include <stddef.h>

#include "runbooks/diag.h"
#include "runbooks/model.h"

enum runbook_format { RUNBOOK_AUTO, RUNBOOK_MARKDOWN, RUNBOOK_JSON };

struct runbook *runbook_load_file(const char *path, struct diags *d);
/* `text` need not be NUL-terminated; it is copied. */
struct runbook *runbook_load_buffer(const char *path, const char *text,
				    size_t len, enum runbook_format fmt,
				    struct diags *d);
enum runbook_format runbook_guess_format(const char *path, const char *text,
					 size_t len);

/* The format loaders (load_md.c, load_json.c): parse only, no validation.
 * `text` is NUL-terminated, UTF-8, LF line endings. */
struct runbook *load_markdown(const char *text, size_t len, struct diags *d);
/* positions: find line:col for every value (a second parse, by libyaml);
 * without it diagnostics carry only the JSON path, so the loader asks for
 * positions only when there is something to report. */
struct runbook *load_json(const char *text, size_t len, bool positions,
			  struct diags *d);

/* Does Markdown prose hold a fence the loader would take for an action,
 * or refuse as a misspelt one? Sets the 1-based line of the first. */
bool doc_action_fence(const char *doc, size_t *line);
/* Takes prose and returns it with a fence left open at its end (at the
 * top level) closed, so it cannot swallow what is written after it. */
char *markdown_close_fences(char *doc);
/* For the Markdown writer: does `text`, read as Markdown on its own, have a
 * heading of `level` among its top-level blocks (or as its first block)? */
bool markdown_top_heading(const char *text, int level, bool first_only);

#endif
