/* The Markdown loader: front matter with libyaml, the body with cmark-gfm.
 *
 * Which blocks are steps: when the body has any level-2 heading, each "##"
 * section is a step (what comes before the first is the title and the
 * description); otherwise each item of the top-level lists is a step.
 *
 * Which fenced blocks are actions: a fence whose language is an action kind
 * (sh, bash, shell, exec, ssh, http, sql, velero, wait) is an action, run in
 * document order wherever it sits inside the step. A fence with any other
 * language, or none, is documentation and stays in the step's prose -- but
 * one that carries {attributes} is taken as a misspelt kind and refused,
 * so a typo never silently turns a command into a comment. Indented code
 * blocks and inline code are never executed. */
#include <cmark-gfm-core-extensions.h>
#include <cmark-gfm.h>
#include <stdlib.h>
#include <string.h>

#include "runbooks/attrs.h"
#include "runbooks/fields.h"
#include "runbooks/load.h"
#include "runbooks/load_tree.h"
#include "runbooks/words.h"
#include "util/buf.h"
#include "util/xalloc.h"

struct line {
	const char *p;
	size_t n;
};

struct md {
	struct line *lines; /* body lines; lines[0] is body line 1 */
	size_t n_lines;
	unsigned offset; /* file line of body line 0 */
	struct load_ctx ctx;
	struct runbook *rb;
};

/* One step being collected before it is turned into the model. */
struct proto {
	struct srcpos pos;
	unsigned title_line; /* body line */
	char *title;
	cJSON *attrs;
	unsigned first, last; /* body lines holding the step's content */
	unsigned dedent;
	cmark_node **fences;
	size_t n_fences, cap_fences;
};

static struct srcpos file_pos(const struct md *m, unsigned body_line,
			      unsigned col)
{
	return (struct srcpos){ body_line + m->offset, col };
}

static void split_lines(struct md *m, const char *text, size_t len)
{
	size_t cap = 0;
	const char *p = text, *end = text + len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		m->lines = xgrow(m->lines, &cap, m->n_lines + 1, sizeof *m->lines);
		m->lines[m->n_lines++] = (struct line){ p, n };
		p += n + 1;
	}
}

static struct line body_line(const struct md *m, unsigned line)
{
	if (line == 0 || line > m->n_lines)
		return (struct line){ "", 0 };
	return m->lines[line - 1];
}

static int is_blank(struct line l)
{
	for (size_t i = 0; i < l.n; i++)
		if (l.p[i] != ' ' && l.p[i] != '\t')
			return 0;
	return 1;
}

/* ---- front matter ---- */

static int fence_line(const char *p, size_t n, const char *mark)
{
	if (n < 3 || memcmp(p, mark, 3))
		return 0;
	for (size_t i = 3; i < n; i++)
		if (p[i] != ' ' && p[i] != '\t')
			return 0;
	return 1;
}

/* Splits "---\nyaml\n---\nbody"; returns the body offset in bytes and its
 * first line number; the YAML goes through load_tree. */
static size_t read_front_matter(struct md *m, const char *text, size_t len,
				unsigned *body_first_line)
{
	*body_first_line = 1;
	const char *nl = memchr(text, '\n', len);
	if (!nl || !fence_line(text, (size_t)(nl - text), "---"))
		return 0;
	const char *p = nl + 1, *end = text + len;
	unsigned line = 2;
	while (p < end) {
		const char *e = memchr(p, '\n', (size_t)(end - p));
		size_t n = e ? (size_t)(e - p) : (size_t)(end - p);
		if (fence_line(p, n, "---") || fence_line(p, n, "...")) {
			const char *yaml = nl + 1;
			cJSON *root = tree_from_yaml(yaml, (size_t)(p - yaml), 1,
						     m->ctx.pm, m->ctx.d);
			if (root && !cJSON_IsObject(root))
				diag_error(m->ctx.d, (struct srcpos){ 2, 1 },
					   "front matter must be a map of keys");
			else if (root)
				tree_load_runbook(&m->ctx, root, m->rb, false);
			cJSON_Delete(root);
			*body_first_line = line + 1;
			return e ? (size_t)(e + 1 - text) : len;
		}
		p += n + 1;
		line++;
	}
	diag_error(m->ctx.d, (struct srcpos){ 1, 1 },
		   "front matter is not closed: no '---' line after the first");
	return len;
}

/* ---- titles and attributes ---- */

/* Splits a trailing "{...}" off a title; returns the attribute object. */
static cJSON *title_attrs(struct md *m, char *title, struct srcpos title_pos)
{
	size_t n = strlen(title);
	if (n < 2 || title[n - 1] != '}')
		return NULL;
	char *open = NULL;
	for (char *p = title + n - 1; p >= title; p--) {
		if (*p == '{' && (p == title || p[-1] != '\\')) {
			open = p;
			break;
		}
	}
	if (!open)
		return NULL;
	struct srcpos pos = title_pos;
	pos.col += (unsigned)(open - title);
	cJSON *attrs = attrs_parse(open, (size_t)(title + n - open), pos,
				   m->ctx.pm, m->ctx.d);
	*open = '\0';
	while (open > title && (open[-1] == ' ' || open[-1] == '\t'))
		*--open = '\0';
	return attrs ? attrs : cJSON_CreateObject();
}

static int is_setext_underline(struct line l)
{
	size_t i = 0, n = l.n;
	while (i < n && l.p[i] == ' ')
		i++;
	while (n > i && (l.p[n - 1] == ' ' || l.p[n - 1] == '\t'))
		n--;
	if (i >= n || (l.p[i] != '-' && l.p[i] != '='))
		return 0;
	for (size_t k = i; k < n; k++)
		if (l.p[k] != l.p[i])
			return 0;
	return 1;
}

/* The text of an ATX or setext heading as written, and its column. */
static char *heading_text(const struct md *m, cmark_node *h, unsigned *col)
{
	unsigned first = (unsigned)cmark_node_get_start_line(h);
	unsigned last = (unsigned)cmark_node_get_end_line(h);
	struct line l = body_line(m, first);
	size_t i = 0;
	while (i < l.n && l.p[i] == ' ')
		i++;
	if (i < l.n && l.p[i] == '#') {
		while (i < l.n && l.p[i] == '#')
			i++;
		while (i < l.n && (l.p[i] == ' ' || l.p[i] == '\t'))
			i++;
		size_t n = l.n;
		while (n > i && (l.p[n - 1] == ' ' || l.p[n - 1] == '\t'))
			n--;
		/* an optional closing run of #s, preceded by a space */
		size_t k = n;
		while (k > i && l.p[k - 1] == '#')
			k--;
		if (k < n && (k == i || l.p[k - 1] == ' ' || l.p[k - 1] == '\t')) {
			n = k;
			while (n > i && (l.p[n - 1] == ' ' || l.p[n - 1] == '\t'))
				n--;
		}
		*col = (unsigned)i + 1;
		return xstrndup(l.p + i, n - i);
	}
	/* setext: the text lines above the underline */
	struct buf b;
	buf_init(&b, QRH_MAX_LINE_BYTES);
	for (unsigned ln = first; ln <= last; ln++) {
		struct line t = body_line(m, ln);
		if (ln > first && is_setext_underline(t))
			break;
		size_t s = 0, e = t.n;
		while (s < e && (t.p[s] == ' ' || t.p[s] == '\t'))
			s++;
		while (e > s && (t.p[e - 1] == ' ' || t.p[e - 1] == '\t'))
			e--;
		if (b.len)
			buf_addc(&b, ' ');
		buf_add(&b, t.p + s, e - s);
	}
	*col = 1;
	return buf_detach(&b, NULL);
}

/* ---- fences ---- */

static int is_action_fence(cmark_node *n, enum action_kind *kind, char **lang,
			   const char **rest)
{
	int flen, foff;
	char fch;
	if (cmark_node_get_type(n) != CMARK_NODE_CODE_BLOCK ||
	    !cmark_node_get_fenced(n, &flen, &foff, &fch))
		return 0;
	const char *info = cmark_node_get_fence_info(n);
	size_t w = 0;
	while (info[w] && info[w] != ' ' && info[w] != '\t' && info[w] != '{')
		w++;
	*lang = xstrndup(info, w);
	*rest = info + w;
	while (**rest == ' ' || **rest == '\t')
		(*rest)++;
	if (action_kind_parse(*lang, kind) == 0)
		return 1;
	return **rest == '{' ? -1 : 0;
}

/* The info string as written on the fence line: cmark hands it over with
 * backslash escapes already removed, which would break quoted values. */
static char *raw_info(const struct md *m, cmark_node *n)
{
	struct line l = body_line(m, (unsigned)cmark_node_get_start_line(n));
	size_t i = (size_t)cmark_node_get_start_column(n) - 1;
	while (i < l.n && l.p[i] == ' ')
		i++;
	char fc = i < l.n ? l.p[i] : '`';
	while (i < l.n && l.p[i] == fc)
		i++;
	while (i < l.n && (l.p[i] == ' ' || l.p[i] == '\t'))
		i++;
	size_t e = l.n;
	while (e > i && (l.p[e - 1] == ' ' || l.p[e - 1] == '\t'))
		e--;
	return xstrndup(l.p + i, e > i ? e - i : 0);
}

/* Column (1-based) of the info string's byte `off` on the fence line. */
static struct srcpos info_pos(const struct md *m, cmark_node *n, size_t off)
{
	unsigned line = (unsigned)cmark_node_get_start_line(n);
	struct line l = body_line(m, line);
	size_t i = (size_t)cmark_node_get_start_column(n) - 1;
	while (i < l.n && (l.p[i] == ' '))
		i++;
	char fc = i < l.n ? l.p[i] : '`';
	while (i < l.n && l.p[i] == fc)
		i++;
	while (i < l.n && (l.p[i] == ' ' || l.p[i] == '\t'))
		i++;
	return file_pos(m, line, (unsigned)(i + off) + 1);
}

/* How many '>' open the line: its block-quote depth. */
static int quote_depth(struct line l)
{
	int depth = 0;
	for (size_t i = 0; i < l.n && (l.p[i] == '>' || l.p[i] == ' '); i++)
		depth += l.p[i] == '>';
	return depth;
}

/* A fence cmark closed only because the document or container ended. */
static int fence_unterminated(const struct md *m, cmark_node *n)
{
	int len = 0, offset = 0;
	char ch = 0;
	cmark_node_get_fenced(n, &len, &offset, &ch);
	unsigned start = (unsigned)cmark_node_get_start_line(n);
	unsigned end = (unsigned)cmark_node_get_end_line(n);
	if (end <= start)
		return 1;
	struct line l = body_line(m, end);
	/* a fence in a quote is closed only by a line of the same quote
	 * (cmark-gfm 0.29 reports such a fence as ending on the next
	 * line, outside the quote) */
	if (quote_depth(body_line(m, start)) != quote_depth(l))
		return 1;
	size_t i = 0;
	while (i < l.n && l.p[i] == ' ')
		i++;
	/* inside a list item or quote the fence is indented or prefixed */
	while (i < l.n && (l.p[i] == '>' || l.p[i] == ' '))
		i++;
	int run = 0;
	while (i < l.n && l.p[i] == ch)
		i++, run++;
	while (i < l.n && (l.p[i] == ' ' || l.p[i] == '\t'))
		i++;
	return !(run >= len && i == l.n);
}

static void collect_fences(cmark_node *root, struct proto *p)
{
	cmark_iter *it = cmark_iter_new(root);
	cmark_event_type ev;
	while ((ev = cmark_iter_next(it)) != CMARK_EVENT_DONE) {
		cmark_node *n = cmark_iter_get_node(it);
		if (ev == CMARK_EVENT_ENTER &&
		    cmark_node_get_type(n) == CMARK_NODE_CODE_BLOCK) {
			p->fences = xgrow(p->fences, &p->cap_fences,
					  p->n_fences + 1, sizeof *p->fences);
			p->fences[p->n_fences++] = n;
		}
	}
	cmark_iter_free(it);
}

/* Applies fence attributes: action fields first, then step fields that a
 * fence may set; a step field set twice with different values is refused. */
static void apply_fence_attrs(struct md *m, cJSON *attrs, struct action *a,
			      struct step *s, cJSON *seen)
{
	const cJSON *v;
	cJSON_ArrayForEach(v, attrs)
	{
		const struct field *sf = field_find(step_fields, v->string);
		const struct field *af = field_find(action_fields, v->string);
		int for_action = af && (!sf || strcmp(v->string, "timeout") == 0 ||
					(af->kinds & KIND_BIT(a->kind)));
		if (sf && (sf->flags & FIELD_HOIST) && !for_action) {
			const cJSON *prev = cJSON_GetObjectItemCaseSensitive(seen, v->string);
			if (prev && strcmp(prev->valuestring, v->valuestring)) {
				struct srcpos pp = posmap_key(m->ctx.pm, prev);
				field_error_at(&m->ctx, posmap_key(m->ctx.pm, v),
					       "'%s' is set twice for this step (also at %u:%u)",
					       v->string, pp.line, pp.col);
				continue;
			}
			if (!prev && cJSON_IsString(v)) {
				cJSON *copy = cJSON_CreateString(v->valuestring);
				cJSON_AddItemToObject(seen, v->string, copy);
				posmap_put(m->ctx.pm, copy, posmap_key(m->ctx.pm, v),
					   posmap_val(m->ctx.pm, v));
			}
			field_apply(&m->ctx, step_fields, s, -1, v);
		} else {
			field_apply(&m->ctx, action_fields, a, (int)a->kind, v);
		}
	}
}

static void fence_body(struct md *m, cmark_node *n, struct action *a)
{
	const char *lit = cmark_node_get_literal(n);
	size_t len = lit ? strlen(lit) : 0;
	while (len && lit[len - 1] == '\n')
		len--;
	unsigned line = (unsigned)cmark_node_get_start_line(n) + 1;
	a->body_pos = file_pos(m, line, (unsigned)cmark_node_get_start_column(n));
	if (a->kind == ACTION_EXEC || a->kind == ACTION_VELERO) {
		const char *why;
		size_t off;
		if (words_split(lit ? lit : "", len, &a->argv, &why, &off) < 0) {
			struct srcpos p = a->body_pos;
			for (size_t i = 0; i < off; i++) {
				if (lit[i] == '\n')
					p.line++;
			}
			field_error_at(&m->ctx, p, "%s in %s block", why,
				       action_kind_name(a->kind));
		}
	} else if (len && a->kind == ACTION_WAIT) {
		field_error_at(&m->ctx, a->body_pos,
			       "a wait block takes no content: use attributes such as {for=30s}");
	} else if (len) {
		a->body = xstrndup(lit, len);
	}
}

static void load_fence(struct md *m, cmark_node *n, struct step *s,
		       cJSON *seen)
{
	enum action_kind kind;
	char *lang = NULL;
	const char *rest;
	int r = is_action_fence(n, &kind, &lang, &rest);
	struct srcpos pos = file_pos(m, (unsigned)cmark_node_get_start_line(n),
				     (unsigned)cmark_node_get_start_column(n));
	if (r < 0)
		tree_unknown_kind(&m->ctx, info_pos(m, n, 0), lang);
	if (r == 1 && fence_unterminated(m, n))
		field_error_at(&m->ctx, pos, "unterminated code fence: no closing fence before the end of the %s",
			       cmark_node_get_type(cmark_node_parent(n)) == CMARK_NODE_DOCUMENT
				       ? "document" : "list item or quote");
	if (r != 1) {
		free(lang);
		return;
	}
	if (s->n_actions >= QRH_MAX_ACTIONS_PER_STEP) {
		if (s->n_actions++ == QRH_MAX_ACTIONS_PER_STEP)
			field_error_at(&m->ctx, pos, "more than %u actions in one step",
				       QRH_MAX_ACTIONS_PER_STEP);
		free(lang);
		return;
	}
	struct action *a = &s->actions[s->n_actions++];
	action_init(a, kind);
	a->pos = pos;
	a->lang = lang;
	if (!strcmp(lang, "bash")) /* a bash block is run by bash */
		a->shell = xstrdup("bash");
	char *raw = raw_info(m, n);
	size_t skip = strlen(lang);
	while (raw[skip] == ' ' || raw[skip] == '\t')
		skip++;
	rest = raw + skip;
	if (*rest && *rest != '{') {
		field_error_at(&m->ctx, info_pos(m, n, skip),
			       "attributes after '%s' must be in braces: {name=value ...}", lang);
	} else if (*rest) {
		size_t rn = strlen(rest);
		struct srcpos ap = info_pos(m, n, skip);
		if (rest[rn - 1] != '}') {
			field_error_at(&m->ctx, ap, "attributes are not closed with '}'");
		} else {
			cJSON *attrs = attrs_parse(rest, rn, ap, m->ctx.pm, m->ctx.d);
			if (attrs)
				apply_fence_attrs(m, attrs, a, s, seen);
			cJSON_Delete(attrs);
		}
	}
	free(raw);
	fence_body(m, n, a);
}

/* ---- prose ---- */

static int in_fence(const struct proto *p, const struct md *m, unsigned line)
{
	for (size_t i = 0; i < p->n_fences; i++) {
		enum action_kind k;
		char *lang = NULL;
		const char *rest;
		int r = is_action_fence(p->fences[i], &k, &lang, &rest);
		free(lang);
		if (r != 1)
			continue;
		if (line >= (unsigned)cmark_node_get_start_line(p->fences[i]) &&
		    line <= (unsigned)cmark_node_get_end_line(p->fences[i]))
			return 1;
	}
	(void)m;
	return 0;
}

/* The step's prose: its lines without action fences, dedented, with blank
 * runs left by a removed fence collapsed, trimmed. */
static char *prose(const struct md *m, const struct proto *p)
{
	struct buf b;
	buf_init(&b, QRH_MAX_FILE_BYTES);
	int last_blank = 1, skipped = 0;
	for (unsigned ln = p->first; ln <= p->last && ln <= m->n_lines; ln++) {
		if (in_fence(p, m, ln)) {
			skipped = 1;
			continue;
		}
		struct line l = body_line(m, ln);
		if (is_blank(l)) {
			if (!(skipped && last_blank) && b.len)
				buf_addc(&b, '\n');
			last_blank = 1;
			continue;
		}
		size_t cut = 0;
		while (cut < p->dedent && cut < l.n && l.p[cut] == ' ')
			cut++;
		buf_add(&b, l.p + cut, l.n - cut);
		buf_addc(&b, '\n');
		last_blank = 0;
		skipped = 0;
	}
	while (b.len && b.data[b.len - 1] == '\n')
		b.data[--b.len] = '\0';
	if (!b.len) {
		buf_release(&b);
		return NULL;
	}
	return buf_detach(&b, NULL);
}

static cmark_node *parse_body(const char *text, size_t len);

/* Prose whose fenced block was closed by the end of its list item or of
 * the document would swallow what follows it once written elsewhere (as
 * `qrh convert` does): close such a block where it ended. */
char *markdown_close_fences(char *doc)
{
	if (!doc || (!strstr(doc, "```") && !strstr(doc, "~~~")))
		return doc;
	struct md m = { 0 };
	split_lines(&m, doc, strlen(doc));
	cmark_node *root = parse_body(doc, strlen(doc));
	struct proto p = { 0 };
	collect_fences(root, &p);
	struct buf b;
	buf_init(&b, QRH_MAX_FILE_BYTES);
	buf_adds(&b, doc);
	for (size_t i = 0; i < p.n_fences; i++) {
		int len = 0, offset = 0;
		char ch = '`';
		/* one in a list item or quote is closed by its container,
		 * here and wherever the prose is written again */
		if (cmark_node_get_type(cmark_node_parent(p.fences[i])) != CMARK_NODE_DOCUMENT ||
		    !cmark_node_get_fenced(p.fences[i], &len, &offset, &ch) ||
		    !fence_unterminated(&m, p.fences[i]))
			continue;
		/* only a block that runs to the end can be open: close it */
		buf_addc(&b, '\n');
		for (int k = 0; k < len; k++)
			buf_addc(&b, ch);
		break;
	}
	free(p.fences);
	cmark_node_free(root);
	free(m.lines);
	free(doc);
	return buf_detach(&b, NULL);
}

/* ---- steps ---- */

static struct proto *new_proto(struct proto **v, size_t *n, size_t *cap)
{
	*v = xgrow(*v, cap, *n + 1, sizeof **v);
	struct proto *p = &(*v)[(*n)++];
	memset(p, 0, sizeof *p);
	return p;
}

/* Room for the step's actions (at most the limit; the rest is refused). */
static size_t count_actions(const struct proto *p)
{
	size_t n = 0;
	for (size_t i = 0; i < p->n_fences && n < QRH_MAX_ACTIONS_PER_STEP; i++) {
		enum action_kind k;
		char *lang = NULL;
		const char *rest;
		n += is_action_fence(p->fences[i], &k, &lang, &rest) == 1;
		free(lang);
	}
	return n ? n : 1;
}

static void build_step(struct md *m, struct proto *p, struct step *s)
{
	step_init(s);
	s->pos = p->pos;
	s->title = p->title;
	p->title = NULL;
	cJSON *seen = cJSON_CreateObject();
	if (p->attrs) {
		m->ctx.what = "attribute";
		const cJSON *v;
		cJSON_ArrayForEach(v, p->attrs)
		{
			if (!strcmp(v->string, "timeout") || !cJSON_IsString(v) ||
			    cJSON_GetObjectItemCaseSensitive(seen, v->string))
				continue;
			cJSON *copy = cJSON_CreateString(v->valuestring);
			cJSON_AddItemToObject(seen, v->string, copy);
			posmap_put(m->ctx.pm, copy, posmap_key(m->ctx.pm, v),
				   posmap_val(m->ctx.pm, v));
		}
		tree_apply_object(&m->ctx, step_fields, s, -1, p->attrs, NULL);
	}
	s->actions = xcalloc(count_actions(p), sizeof *s->actions);
	for (size_t i = 0; i < p->n_fences; i++)
		load_fence(m, p->fences[i], s, seen);
	if (s->n_actions > QRH_MAX_ACTIONS_PER_STEP)
		s->n_actions = QRH_MAX_ACTIONS_PER_STEP;
	cJSON_Delete(seen);
	s->doc = markdown_close_fences(prose(m, p));
}

static int has_h2(cmark_node *doc)
{
	for (cmark_node *n = cmark_node_first_child(doc); n; n = cmark_node_next(n))
		if (cmark_node_get_type(n) == CMARK_NODE_HEADING &&
		    cmark_node_get_heading_level(n) == 2)
			return 1;
	return 0;
}

/* Takes the first level-1 heading as the title, unless the front matter
 * gave one: then the heading is part of the description. */
static bool take_title(struct md *m, cmark_node *h, bool *taken)
{
	if (*taken || m->rb->title ||
	    cmark_node_get_type(h) != CMARK_NODE_HEADING ||
	    cmark_node_get_heading_level(h) != 1)
		return false;
	unsigned col;
	m->rb->title = heading_text(m, h, &col);
	*taken = true;
	return true;
}

/* Action fences outside every step would never run: refuse them. */
static void refuse_loose_actions(struct md *m, cmark_node *root,
				 const char *where)
{
	struct proto p = { 0 };
	collect_fences(root, &p);
	for (size_t i = 0; i < p.n_fences; i++) {
		enum action_kind k;
		char *lang = NULL;
		const char *rest;
		if (is_action_fence(p.fences[i], &k, &lang, &rest) == 1)
			field_error_at(&m->ctx,
				       file_pos(m, (unsigned)cmark_node_get_start_line(p.fences[i]),
						(unsigned)cmark_node_get_start_column(p.fences[i])),
				       "this %s block is %s, so it would never run: move it into a step",
				       lang, where);
		free(lang);
	}
	free(p.fences);
}

static void set_description(struct md *m, unsigned first, unsigned last)
{
	if (!first || m->rb->description)
		return;
	struct proto p = { .first = first, .last = last };
	m->rb->description = markdown_close_fences(prose(m, &p));
}

static void section_steps(struct md *m, cmark_node *doc, struct proto **v,
			  size_t *n, size_t *cap)
{
	struct proto *cur = NULL;
	unsigned desc_first = 0, desc_last = 0;
	bool titled = false;
	for (cmark_node *c = cmark_node_first_child(doc); c; c = cmark_node_next(c)) {
		unsigned sl = (unsigned)cmark_node_get_start_line(c);
		unsigned el = (unsigned)cmark_node_get_end_line(c);
		if (cmark_node_get_type(c) == CMARK_NODE_HEADING &&
		    cmark_node_get_heading_level(c) == 2) {
			if (cur)
				cur->last = sl - 1;
			cur = new_proto(v, n, cap);
			unsigned col;
			cur->title = heading_text(m, c, &col);
			cur->pos = file_pos(m, sl, (unsigned)cmark_node_get_start_column(c));
			cur->attrs = title_attrs(m, cur->title, file_pos(m, sl, col));
			cur->first = el + 1;
			cur->last = (unsigned)m->n_lines;
			continue;
		}
		if (cur) {
			collect_fences(c, cur);
		} else if (!desc_first && take_title(m, c, &titled)) {
			continue;
		} else {
			refuse_loose_actions(m, c, "before the first step");
			if (!desc_first)
				desc_first = sl;
			desc_last = el;
		}
	}
	set_description(m, desc_first, desc_last);
}

/* Title of a list item: its first line, without the marker or task box. */
static char *item_title(const struct md *m, cmark_node *item, unsigned *col)
{
	struct line l = body_line(m, (unsigned)cmark_node_get_start_line(item));
	size_t i = (size_t)cmark_node_get_start_column(item) - 1;
	while (i < l.n && l.p[i] == ' ')
		i++;
	if (i < l.n && (l.p[i] == '-' || l.p[i] == '*' || l.p[i] == '+')) {
		i++;
	} else {
		while (i < l.n && l.p[i] >= '0' && l.p[i] <= '9')
			i++;
		if (i < l.n && (l.p[i] == '.' || l.p[i] == ')'))
			i++;
	}
	while (i < l.n && (l.p[i] == ' ' || l.p[i] == '\t'))
		i++;
	if (i + 2 < l.n && l.p[i] == '[' && l.p[i + 2] == ']' &&
	    strchr(" xX", l.p[i + 1])) {
		i += 3;
		while (i < l.n && (l.p[i] == ' ' || l.p[i] == '\t'))
			i++;
	}
	size_t e = l.n;
	while (e > i && (l.p[e - 1] == ' ' || l.p[e - 1] == '\t'))
		e--;
	*col = (unsigned)i + 1;
	return xstrndup(l.p + i, e - i);
}

static void list_steps(struct md *m, cmark_node *doc, struct proto **v,
		       size_t *n, size_t *cap)
{
	unsigned desc_first = 0, desc_last = 0;
	int seen_list = 0;
	bool titled = false;
	for (cmark_node *c = cmark_node_first_child(doc); c; c = cmark_node_next(c)) {
		if (cmark_node_get_type(c) == CMARK_NODE_LIST) {
			seen_list = 1;
			for (cmark_node *it = cmark_node_first_child(c); it;
			     it = cmark_node_next(it)) {
				struct proto *p = new_proto(v, n, cap);
				unsigned sl = (unsigned)cmark_node_get_start_line(it);
				unsigned col;
				p->title = item_title(m, it, &col);
				p->pos = file_pos(m, sl, (unsigned)cmark_node_get_start_column(it));
				p->attrs = title_attrs(m, p->title, file_pos(m, sl, col));
				p->first = sl + 1;
				p->last = (unsigned)cmark_node_get_end_line(it);
				cmark_node *child = cmark_node_first_child(it);
				p->dedent = child ? (unsigned)cmark_node_get_start_column(child) - 1 : 0;
				collect_fences(it, p);
			}
		} else if (!seen_list && !desc_first && take_title(m, c, &titled)) {
			continue;
		} else if (!seen_list) {
			refuse_loose_actions(m, c, "before the first step");
			if (!desc_first)
				desc_first = (unsigned)cmark_node_get_start_line(c);
			desc_last = (unsigned)cmark_node_get_end_line(c);
		} else {
			refuse_loose_actions(m, c, "outside the list of steps");
			diag_warn(m->ctx.d, file_pos(m, (unsigned)cmark_node_get_start_line(c),
						  (unsigned)cmark_node_get_start_column(c)),
				  "text outside the list of steps is not part of any step and is not shown during a run");
		}
	}
	set_description(m, desc_first, desc_last);
}

static cmark_node *parse_body(const char *text, size_t len)
{
	cmark_gfm_core_extensions_ensure_registered();
	cmark_parser *parser = cmark_parser_new(CMARK_OPT_DEFAULT);
	cmark_syntax_extension *tasks = cmark_find_syntax_extension("tasklist");
	if (tasks)
		cmark_parser_attach_syntax_extension(parser, tasks);
	cmark_parser_feed(parser, text, len);
	cmark_node *doc = cmark_parser_finish(parser);
	cmark_parser_free(parser);
	return doc;
}

static void free_protos(struct proto *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].title);
		free(v[i].fences);
		cJSON_Delete(v[i].attrs);
	}
	free(v);
}

struct runbook *load_markdown(const char *text, size_t len, struct diags *d)
{
	struct runbook *rb = xcalloc(1, sizeof *rb);
	runbook_init(rb);
	struct md m = { .rb = rb };
	m.ctx = (struct load_ctx){ .d = d, .pm = posmap_new(), .what = "key" };
	unsigned first_line;
	size_t body = read_front_matter(&m, text, len, &first_line);
	m.offset = first_line - 1;
	split_lines(&m, text + body, len - body);
	m.ctx.text_values = true;
	m.ctx.what = "attribute";

	cmark_node *doc = parse_body(text + body, len - body);
	struct proto *protos = NULL;
	size_t n = 0, cap = 0;
	if (has_h2(doc))
		section_steps(&m, doc, &protos, &n, &cap);
	else
		list_steps(&m, doc, &protos, &n, &cap);

	size_t total = n;
	if (n > QRH_MAX_STEPS) {
		diag_error(d, protos[QRH_MAX_STEPS].pos, "more than %u steps", QRH_MAX_STEPS);
		n = QRH_MAX_STEPS;
	}
	rb->steps = xcalloc(n, sizeof *rb->steps);
	for (size_t i = 0; i < n; i++)
		build_step(&m, &protos[i], &rb->steps[rb->n_steps++]);
	free_protos(protos, total);
	cmark_node_free(doc);
	posmap_free(m.ctx.pm);
	free(m.lines);
	return rb;
}

/* Does `text`, read as Markdown on its own, have a heading of `level` among
 * its top-level blocks (only as its first block, when first_only)? */
bool markdown_top_heading(const char *text, int level, bool first_only)
{
	cmark_node *doc = parse_body(text, strlen(text));
	bool found = false;
	for (cmark_node *n = cmark_node_first_child(doc); n && !found; n = cmark_node_next(n)) {
		found = cmark_node_get_type(n) == CMARK_NODE_HEADING &&
			cmark_node_get_heading_level(n) == level;
		if (first_only)
			break;
	}
	cmark_node_free(doc);
	return found;
}

/* Would `doc`, read as Markdown, hold a fence the loader takes for an
 * action (or refuses as a misspelt one)? The same rule as for a step, at
 * any depth: prose must never become a command. Sets the fence's line. */
bool doc_action_fence(const char *doc, size_t *line)
{
	cmark_node *root = parse_body(doc, strlen(doc));
	struct proto p = { 0 };
	bool found = false;
	collect_fences(root, &p);
	for (size_t i = 0; i < p.n_fences && !found; i++) {
		enum action_kind k;
		char *lang = NULL;
		const char *rest;
		if (is_action_fence(p.fences[i], &k, &lang, &rest) != 0) {
			found = true;
			*line = (size_t)cmark_node_get_start_line(p.fences[i]);
		}
		free(lang);
	}
	free(p.fences);
	cmark_node_free(root);
	return found;
}
