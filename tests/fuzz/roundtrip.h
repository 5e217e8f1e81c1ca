/* roundtrip: the one code path shared by the fuzz targets and by
 * tests/unit/test_fuzz_regressions.c, so a saved crash input is replayed
 * exactly as the fuzzer ran it.
 *
 * Header-only (static functions) because the Makefile links a unit test
 * from its own object and libqrh.a only; there is no place for a shared
 * object file without touching the Makefile.
 *
 * What is checked, for an input that loads without errors (J = the
 * canonical JSON writer, M = the Markdown writer, L = load):
 *
 *   J1 = J(L(input))
 *   J1 == J(L_json(J1))                  JSON is a fixed point, always
 *   J1 == J(L_md(M(L_json(J1))))         Markdown input: MD -> JSON -> MD
 *                                        -> JSON, what `qrh convert` promises
 *   J2 = J(L_md(M(L_json(J1))))          JSON input: the first trip through
 *   J2 == J(L_md(M(L_md(...))))          Markdown may normalise what it
 *                                        cannot spell, then it is stable
 *
 * and that every intermediate text loads without errors. Where `qrh
 * convert` refuses to write Markdown (runbook_markdown_safe: a line break
 * in a title, an action-language fence in prose), only the JSON fixed
 * point is checked: the refusal is the documented answer. An input that
 * fails to load is fine: the loader only has to return without crashing
 * or leaking. */
#ifndef QRH_TESTS_FUZZ_ROUNDTRIP_H
#define QRH_TESTS_FUZZ_ROUNDTRIP_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runbooks/diag.h"
#include "runbooks/load.h"
#include "runbooks/model.h"
#include "runbooks/write.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/xalloc.h"

enum rt_outcome {
	RT_ERROR,    /* the input was refused with diagnostics */
	RT_OK,       /* loaded, and the round trip is stable */
	RT_UNSTABLE, /* loaded, but a conversion lost or changed something */
};

struct rt_result {
	enum rt_outcome outcome;
	struct buf why; /* for RT_UNSTABLE: what broke, with both texts */
};

static inline const char *rt_outcome_name(enum rt_outcome o)
{
	return o == RT_OK ? "ok" : o == RT_ERROR ? "error" : "unstable";
}

/* Loads text; returns the runbook only when it has no errors, else NULL
 * with the first error message copied into `first` (if given). */
static inline struct runbook *rt_load(const char *path, const char *text,
				      size_t len, enum runbook_format fmt,
				      struct buf *first)
{
	struct diags d;
	diags_init(&d);
	struct runbook *rb = runbook_load_buffer(path, text, len, fmt, &d);
	if (rb && d.n_errors == 0) {
		diags_release(&d);
		return rb;
	}
	for (size_t i = 0; first && i < d.n; i++) {
		if (d.v[i].severity != DIAG_ERROR)
			continue;
		buf_addf(first, "%u:%u: %s", d.v[i].pos.line, d.v[i].pos.col,
			 d.v[i].msg);
		break;
	}
	runbook_free(rb);
	diags_release(&d);
	return NULL;
}

static inline void rt_unstable(struct rt_result *r, const char *step,
			       const char *want, const char *got)
{
	r->outcome = RT_UNSTABLE;
	buf_addf(&r->why, "round trip broken at %s\n", step);
	if (want)
		buf_addf(&r->why, "--- expected\n%s\n", want);
	if (got)
		buf_addf(&r->why, "--- got\n%s\n", got);
}

/* Reloads `text` in `fmt` and compares its JSON with j1. Returns 0 when
 * equal; the reloaded runbook is handed back through *out if asked. */
static inline int rt_compare(struct rt_result *r, const char *step,
			     const char *text, enum runbook_format fmt,
			     const char *j1, struct runbook **out)
{
	struct buf first;
	buf_init(&first, 4096);
	struct runbook *rb = rt_load(fmt == RUNBOOK_JSON ? "rt.json" : "rt.md",
				     text, strlen(text), fmt, &first);
	if (!rb) {
		buf_addf(&r->why, "%s: the written text does not load: %s\n",
			 step, first.data);
		rt_unstable(r, step, NULL, text);
		buf_release(&first);
		return -1;
	}
	buf_release(&first);
	char *j = runbook_write_json(rb);
	int same = !strcmp(j, j1);
	if (!same)
		rt_unstable(r, step, j1, j);
	free(j);
	if (same && out)
		*out = rb;
	else
		runbook_free(rb);
	return same ? 0 : -1;
}

/* The Markdown `qrh convert` would print for rb, or NULL when it refuses
 * to write Markdown for this runbook (runbook_markdown_safe): a refusal
 * with a reason is an honest answer, so there is no round trip to check. */
static inline char *rt_markdown(const struct runbook *rb)
{
	struct err e;
	if (runbook_markdown_safe(rb, &e) < 0)
		return NULL;
	char *md = runbook_write_markdown(rb);
	size_t n = strlen(md);
	char *out = xrealloc(md, n + 2);
	out[n] = '\n'; /* convert ends the text with a newline */
	out[n + 1] = '\0';
	return out;
}

/* The whole check. The caller releases r->why with rt_result_release. */
static inline void rt_run(const char *data, size_t size,
			  enum runbook_format fmt, struct rt_result *r)
{
	r->outcome = RT_ERROR;
	buf_init(&r->why, 1u << 20);
	struct runbook *rb = rt_load(fmt == RUNBOOK_JSON ? "fuzz.json" : "fuzz.md",
				     data, size, fmt, NULL);
	if (!rb)
		return;
	r->outcome = RT_OK;
	char *j1 = runbook_write_json(rb);
	runbook_free(rb);

	/* JSON is the canonical form: it must reload to itself */
	struct runbook *from_json = NULL;
	if (rt_compare(r, "JSON -> JSON", j1, RUNBOOK_JSON, j1, &from_json) < 0) {
		free(j1);
		return;
	}
	char *md = rt_markdown(from_json);
	runbook_free(from_json);
	if (!md) {
		free(j1);
		return;
	}
	if (fmt == RUNBOOK_MARKDOWN) {
		/* what came from Markdown goes back to Markdown unchanged */
		rt_compare(r, "MD -> JSON -> MD -> JSON", md, RUNBOOK_MARKDOWN, j1, NULL);
	} else {
		/* JSON can hold strings Markdown cannot spell (a title of
		 * spaces): the first trip may normalise them, but the
		 * Markdown written must load, and from there on the trip is
		 * stable */
		struct buf first;
		buf_init(&first, 4096);
		struct runbook *via_md = rt_load("rt.md", md, strlen(md),
						 RUNBOOK_MARKDOWN, &first);
		char *md2 = via_md ? rt_markdown(via_md) : NULL;
		if (!via_md) {
			buf_addf(&r->why, "JSON -> MD: the written text does not load: %s\n",
				 first.data);
			rt_unstable(r, "JSON -> MD", NULL, md);
		} else if (!md2) {
			rt_unstable(r, "JSON -> MD -> JSON -> MD: convert refuses Markdown it wrote itself",
				    NULL, md);
		} else {
			char *j2 = runbook_write_json(via_md);
			rt_compare(r, "JSON -> MD -> JSON -> MD -> JSON", md2,
				   RUNBOOK_MARKDOWN, j2, NULL);
			free(j2);
		}
		free(md2);
		runbook_free(via_md);
		buf_release(&first);
	}
	free(md);
	free(j1);
}

static inline void rt_result_release(struct rt_result *r)
{
	buf_release(&r->why);
}

/* The body of both fuzz targets. An unstable round trip aborts, unless
 * QRH_FUZZ_ROUNDTRIP says otherwise:
 *   abort      the default: the property is asserted
 *   record:DIR the input is written to DIR/unstable-HASH and the run goes
 *              on, so a long campaign keeps looking for memory errors
 *              while a known round-trip bug is still open
 *   off        the round trip is computed (the writers are still
 *              exercised) but not judged */
static inline void rt_fuzz_one(const unsigned char *data, size_t size,
			       enum runbook_format fmt)
{
	struct rt_result r;
	rt_run((const char *)data, size, fmt, &r);
	const char *mode = getenv("QRH_FUZZ_ROUNDTRIP");
	if (r.outcome == RT_UNSTABLE && mode && !strncmp(mode, "record:", 7)) {
		/* FNV-1a names the file, so a repeat overwrites itself */
		unsigned long long h = 0xcbf29ce484222325ull;
		for (size_t i = 0; i < size; i++)
			h = (h ^ data[i]) * 0x100000001b3ull;
		char path[4096];
		snprintf(path, sizeof path, "%s/unstable-%016llx", mode + 7, h);
		FILE *f = fopen(path, "wb");
		if (f) {
			fwrite(data, 1, size, f);
			fclose(f);
		}
	} else if (r.outcome == RT_UNSTABLE && !(mode && !strcmp(mode, "off"))) {
		fputs(r.why.data, stderr);
		abort();
	}
	rt_result_release(&r);
}

#endif
