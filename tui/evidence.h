/* evidence: a run's evidence as files an auditor, a CI system or an
 * incident document takes: evidence.json, evidence.md, junit.xml and
 * report.html, written from ONE evidence document (state/report.h), so
 * they cannot disagree, plus the runbook text as run, each output stream
 * and a MANIFEST (tui/evidence_bundle.c).
 *
 * Every renderer reads the document, never the journal: what it shows is
 * what evidence.json says. Members another part of qrh adds later (the
 * objectives' "objectives" and the probes' "probes") are shown when the
 * document has them and simply left out when not. Text from the journal
 * (titles, notes, output) goes through the sanitizer (tui/sanitize.h)
 * before it is escaped for Markdown, XML or HTML, so no control byte,
 * escape sequence or bidi override reaches a reader.
 *
 * A run without an outcome is "in progress": every document says so at
 * its top (report.html on every printed page too). */
#ifndef QRH_TUI_EVIDENCE_H
#define QRH_TUI_EVIDENCE_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "state/journal.h"
#include "util/buf.h"
#include "util/err.h"

/* Output shown in a document: the tail of each stream, sanitized. */
#define EVIDENCE_EXCERPT_LINES 30       /* evidence.md, junit.xml */
#define EVIDENCE_EXCERPT_BYTES 4096
#define EVIDENCE_HTML_EXCERPT_BYTES 65536 /* report.html */

/* One stored output stream of the run. */
struct evidence_output {
	int64_t step;     /* the journal's step index */
	int attempt;      /* 0: a background action of journals before tasks */
	int64_t task;     /* 0: keyed by the step attempt */
	char label[JOURNAL_LABEL_MAX + 1];
	enum journal_stream stream;
	char *path;       /* in the bundle: outputs/... */
	int64_t bytes;    /* stored (head, marker, tail) */
	char *excerpt;    /* the sanitized tail, at most
			   * EVIDENCE_HTML_EXCERPT_BYTES */
	bool cut;         /* the excerpt is not the whole stored stream */
};

struct evidence {
	cJSON *doc;           /* the evidence document */
	char *doc_text;       /* ... as report_export_json wrote it */
	size_t doc_len;
	struct evidence_output *outs;
	size_t n_outs;
	int64_t run_id;
	struct journal_head head;
	char *runbook_text;   /* the runbook as run */
	size_t runbook_len;
	char *runbook_name;   /* runbook.md, runbook.json, runbook.txt */
	bool live;            /* no outcome yet */
	int64_t exported_ms;  /* wall clock when it was read */
};

/* Called with each output stream's stored bytes while loading (a bundle
 * writes them to o->path); NULL: the bytes are only excerpted. */
typedef int evidence_output_fn(void *arg, const struct evidence_output *o,
			       const char *data, size_t len, struct err *e);

/* Reads run `run_id` into *ev: 1, 0 no such run, -1 on error. */
int evidence_load(struct journal *j, int64_t run_id, struct evidence *ev,
		  evidence_output_fn *fn, void *arg, struct err *e);
void evidence_release(struct evidence *ev);

/* The documents, appended to out. */
void evidence_md(const struct evidence *ev, struct buf *out);
void evidence_junit(const struct evidence *ev, struct buf *out);
void evidence_html(const struct evidence *ev, struct buf *out);
/* The timeline of report.html (tui/evidence_svg.c). */
void evidence_svg(const struct evidence *ev, struct buf *out);

/* The bundle in directory dir (created; it must not exist or be empty):
 * evidence.json, evidence.md, junit.xml, report.html, the runbook,
 * outputs/, MANIFEST. sign_key: ssh-keygen -Y sign with it (MANIFEST.sig);
 * NULL: unsigned. *head is the head the bundle holds. 1 written, 0 no
 * such run (nothing left behind), -1 on error (what was written stays,
 * for the message to point at). */
int evidence_bundle_write(struct journal *j, int64_t run_id, const char *dir,
			  const char *sign_key, struct journal_head *head,
			  struct err *e);

/* ---- shared by the renderers (tui/evidence_text.c) ---- */

/* Members of the document: NULL / dflt / false when absent or of
 * another type. */
const char *ev_str(const cJSON *o, const char *key);
int64_t ev_int(const cJSON *o, const char *key, int64_t dflt);
bool ev_bool(const cJSON *o, const char *key);
/* Is the member there and a number (not null)? */
bool ev_has_num(const cJSON *o, const char *key);

/* Sanitized to one line (tui/sanitize.h), then escaped: */
void ev_md(struct buf *b, const char *s);   /* Markdown inline text */
void ev_xml(struct buf *b, const char *s);  /* XML/HTML text or attribute */
/* Already sanitized multi-line text, escaped for XML/HTML. */
void ev_xml_block(struct buf *b, const char *s);
/* A fence longer than any run of backticks in s. */
void ev_md_fence(struct buf *b, const char *s);
/* "1.2 s", or "—" for an absent duration. */
void ev_duration(struct buf *b, int64_t ms);
/* The last attempt's outputs of a step, in order: the n found. */
size_t ev_step_outputs(const struct evidence *ev, int64_t step, int attempt,
		       const struct evidence_output **out, size_t max);
/* The last lines of an excerpt that fit EVIDENCE_EXCERPT_LINES and
 * EVIDENCE_EXCERPT_BYTES: a pointer into it. */
const char *ev_excerpt_short(const char *excerpt);
/* "RUN:SEQ:HASH" (the full hash). */
void ev_head(struct buf *b, const struct evidence *ev);
/* The step's label: "3. Title" (or its id). */
void ev_step_label(struct buf *b, const cJSON *step, bool md);
/* The markup of evidence.md or report.html, for the sections both have
 * (tui/evidence_sections.c). */
struct ev_markup {
	void (*text)(struct buf *b, const char *s); /* journal text, escaped */
	const char *h2, *h2_end;
	const char *list, *item, *item_end, *list_end;
	const char *para, *para_end, *warn, *warn_end;
	const char *table, *head, *head_sep, *head_end;
	const char *row, *cell_sep, *row_end, *table_end;
	const char *br; /* between items in one cell */
	bool html;
};
extern const struct ev_markup ev_markup_md, ev_markup_html;

/* A table's header row (id: the HTML table's, may be NULL). */
void ev_table_head(const struct ev_markup *m, struct buf *b, const char *id,
		   const char *const *cols);
void ev_section_objectives(const struct ev_markup *m, const struct evidence *ev,
			   struct buf *b);
void ev_section_variables(const struct ev_markup *m, const struct evidence *ev,
			  struct buf *b);
void ev_section_notes(const struct ev_markup *m, const struct evidence *ev,
		      struct buf *b);
void ev_section_approvals(const struct ev_markup *m, const struct evidence *ev,
			  struct buf *b);
void ev_section_probes(const struct ev_markup *m, const struct evidence *ev,
		       struct buf *b);
void ev_section_clock(const struct ev_markup *m, const struct evidence *ev,
		      struct buf *b);
/* The steps table: status, start, duration, attempts, who confirmed it,
 * its result or the reason it was skipped or done by hand. */
void ev_section_steps(const struct ev_markup *m, const struct evidence *ev,
		      struct buf *b);

/* What each attempt ran where, a fan-out's members one row each
 * (tui/evidence_actions.c); the operator's picks, interrupted steps with
 * their survivors and reaped background tasks. Nothing when the document
 * has none. */
void ev_section_actions(const struct ev_markup *m, const struct evidence *ev,
			struct buf *b);
void ev_section_resumes(const struct ev_markup *m, const struct evidence *ev,
			struct buf *b);
/* A line per member of the step's last attempt that did not end ok. */
void ev_failed_members(const cJSON *step, void (*text)(struct buf *, const char *),
		       struct buf *b);

/* The in-progress sentence every document carries. */
void ev_live_sentence(struct buf *b, const struct evidence *ev);

#endif
