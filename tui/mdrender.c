/* mdrender: Markdown prose as styled lines of a given width (see
 * mdrender.h).
 *
 * Blocks are walked with cmark's iterator, not by recursion, so a hostile
 * nesting depth costs no stack. Each container (list item, quote, code
 * block) pushes a prefix that is drawn on every line of what it holds:
 * its first form ("• ", "1. ") on its first line, its second form (spaces
 * of the same width) after that. Text blocks are first flattened into one
 * sanitized string with style runs (struct md_para), then wrapped into
 * contiguous ranges of that string: the spans of an output line are simply
 * the runs cut to its range, so wrapping can never misplace a style. */
#include "tui/mdrender.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmark-gfm.h>
#include <cmark-gfm-core-extensions.h>

#include "tui/sanitize.h"
#include "util/buf.h"
#include "util/xalloc.h"

/* Containers nested deeper than this add no further prefix. */
#define MD_MAX_DEPTH 16
/* Columns always left for text, however deep the prefixes go. */
#define MD_MIN_TEXT 4
/* Room for the longest prefix: "999999999. [x] " and a NUL. */
#define MD_PREFIX_MAX 24
/* A word of more bytes than this per column of the line cannot fit. */
#define MD_WORD_BYTES_PER_COL 16
/* Narrowest width rendered; mdrender.h asks for at least this. */
#define MD_MIN_WIDTH 10

struct md_prefix {
	char first[MD_PREFIX_MAX]; /* on the container's first line */
	char rest[MD_PREFIX_MAX];  /* on the lines after it, same width */
	unsigned style;
	bool used; /* the first line has been drawn */
};

/* An open list: the number its next item gets, and how many digits the
 * widest number has so that the items' text lines up. */
struct md_list {
	long next;
	int digits;
};

/* Text and spans that tile it: a line being built, or a flattened
 * paragraph ('\n' in its text only ever marks a hard line break). */
struct md_text {
	struct buf text;
	struct span *spans;
	size_t n_spans, cap;
};

struct md_render {
	struct styled_text *out;
	int width;
	bool ascii;
	struct md_prefix prefix[MD_MAX_DEPTH];
	size_t depth; /* may exceed MD_MAX_DEPTH: those levels draw nothing */
	struct md_list lists[MD_MAX_DEPTH];
	size_t n_lists; /* likewise */
};

/* Emphasis, strong and link nesting while a text block is flattened. */
struct md_inline {
	unsigned emph, strong, link;
	unsigned base;
};

/* An empty text to add to. */
static void md_text_init(struct md_text *t)
{
	buf_init(&t->text, BUF_UNLIMITED);
	t->spans = NULL;
	t->n_spans = 0;
	t->cap = 0;
}

/* Free what a text that was never handed on still owns. */
static void md_text_release(struct md_text *t)
{
	buf_release(&t->text);
	free(t->spans);
	md_text_init(t);
}

/* Append trusted (already sanitized) bytes in one style; a span that
 * continues the last one in the same style is merged into it. */
static void md_text_add(struct md_text *t, const char *s, size_t n,
			unsigned style)
{
	struct span *last = t->n_spans ? &t->spans[t->n_spans - 1] : NULL;
	size_t off = t->text.len;

	if (!n)
		return;
	buf_add(&t->text, s, n);
	if (last && last->style == style && last->off + last->len == off) {
		last->len += n;
		return;
	}
	t->spans = xgrow(t->spans, &t->cap, t->n_spans + 1, sizeof(*t->spans));
	t->spans[t->n_spans++] = (struct span){ off, n, style };
}

/* Append text from the runbook: through the sanitizer, as one line. */
static void md_text_add_raw(struct md_text *t, const char *s, size_t n,
			    unsigned style)
{
	char *clean = sanitize_string(s, n);

	md_text_add(t, clean, strlen(clean), style);
	free(clean);
}

/* Trailing spaces draw nothing and would only confuse a width check. */
static void md_text_trim(struct md_text *t)
{
	while (t->text.len && t->text.data[t->text.len - 1] == ' ')
		t->text.data[--t->text.len] = '\0';
	while (t->n_spans && t->spans[t->n_spans - 1].off >= t->text.len)
		t->n_spans--;
	if (t->n_spans) {
		struct span *last = &t->spans[t->n_spans - 1];

		if (last->off + last->len > t->text.len)
			last->len = t->text.len - last->off;
	}
}

/* Hand a finished line over to the output; the text is emptied. */
static void md_line_finish(struct md_render *r, struct md_text *l)
{
	struct styled_text *out = r->out;
	struct styled_line *line;

	md_text_trim(l);
	out->lines = xgrow(out->lines, &out->cap, out->n + 1,
			   sizeof(*out->lines));
	line = &out->lines[out->n++];
	line->text = buf_detach(&l->text, &line->len);
	line->spans = l->spans;
	line->n_spans = l->n_spans;
	if (!line->n_spans) {
		free(line->spans);
		line->spans = NULL;
	}
	md_text_init(l);
}

/* Prefix levels that are drawn. */
static size_t md_depth(const struct md_render *r)
{
	return r->depth < MD_MAX_DEPTH ? r->depth : MD_MAX_DEPTH;
}

/* Columns the prefixes take; deep nesting is cut so text keeps room. */
static int md_prefix_width(const struct md_render *r)
{
	size_t cols = 0;

	for (size_t i = 0; i < md_depth(r); i++)
		cols += sanitize_width(r->prefix[i].first,
				       strlen(r->prefix[i].first));
	if (cols > (size_t)(r->width - MD_MIN_TEXT))
		return r->width - MD_MIN_TEXT;
	return (int)cols;
}

/* Columns left for text after the prefixes. */
static int md_avail(const struct md_render *r)
{
	return r->width - md_prefix_width(r);
}

/* Start a line with every open container's prefix. */
static void md_line_begin(struct md_render *r, struct md_text *l)
{
	int budget = r->width - MD_MIN_TEXT;

	md_text_init(l);
	for (size_t i = 0; i < md_depth(r); i++) {
		struct md_prefix *p = &r->prefix[i];
		const char *s = p->used ? p->rest : p->first;
		size_t bytes;

		budget -= sanitize_clip(s, strlen(s), budget, &bytes);
		md_text_add(l, s, bytes, p->style);
		p->used = true;
	}
}

/* Open a container whose lines start with `first`, then with `rest`
 * (NULL: spaces as wide as `first`). */
static void md_prefix_push(struct md_render *r, const char *first,
			   const char *rest, unsigned style)
{
	struct md_prefix *p;

	if (r->depth++ >= MD_MAX_DEPTH)
		return;
	p = &r->prefix[r->depth - 1];
	snprintf(p->first, sizeof(p->first), "%s", first);
	if (rest) {
		snprintf(p->rest, sizeof(p->rest), "%s", rest);
	} else {
		size_t cols = sanitize_width(first, strlen(first));

		memset(p->rest, ' ', cols);
		p->rest[cols] = '\0';
	}
	p->style = style;
	p->used = false;
}

/* Close the innermost container. */
static void md_prefix_pop(struct md_render *r)
{
	r->depth--;
}

/* A line holding only the prefixes: between blocks, or an empty item. */
static void md_line_empty(struct md_render *r)
{
	struct md_text l;

	md_line_begin(r, &l);
	md_line_finish(r, &l);
}

/* A horizontal rule `cols` wide. */
static void md_rule(struct md_render *r, int cols, const char *ch,
		    unsigned style)
{
	struct md_text l;

	md_line_begin(r, &l);
	for (int i = 0; i < cols; i++)
		md_text_add(&l, ch, strlen(ch), style);
	md_line_finish(r, &l);
}

/* Skip the spaces a line break swallowed. */
static size_t md_skip_spaces(const char *t, size_t n, size_t i)
{
	while (i < n && t[i] == ' ')
		i++;
	return i;
}

/* Bytes of the first character, so that a forced break never splits
 * one (only reached if a character is wider than the line). */
static size_t md_char_len(const char *s, size_t n)
{
	size_t len = 1;

	while (len < n && len < 4 && ((unsigned char)s[len] & 0xc0) == 0x80)
		len++;
	return len;
}

/* A word wider than the whole line: as much of it as fits. */
static size_t md_wrap_cut(const char *word, size_t n, int avail)
{
	size_t bytes;

	sanitize_clip(word, n, avail, &bytes);
	return bytes ? bytes : md_char_len(word, n);
}

/* End of the word at ws, scanning at most `limit` bytes: a longer word
 * is broken anyway, and looking no further keeps a huge one linear. */
static size_t md_word_end(const char *t, size_t n, size_t ws, size_t limit)
{
	size_t we = ws;

	while (we < n && we - ws < limit && t[we] != ' ' && t[we] != '\n')
		we++;
	return we;
}

/* The line that starts at `start` (on a word): sets *end past its last
 * word and returns where the next line's text starts. Greedy, breaking at
 * spaces, and inside a word only when it alone is wider than the line. */
static size_t md_wrap_next(const char *t, size_t n, size_t start, int avail,
			   size_t *end)
{
	size_t i = start, last = start, cols = 0;
	size_t limit = (size_t)avail * MD_WORD_BYTES_PER_COL;

	while (i < n && t[i] != '\n') {
		size_t ws = md_skip_spaces(t, n, i), we, w;

		if (ws == n || t[ws] == '\n') {
			i = ws;
			break;
		}
		we = md_word_end(t, n, ws, limit);
		w = (ws - i) + sanitize_width(t + ws, we - ws);
		if (cols + w <= (size_t)avail && we - ws < limit) {
			cols += w;
			last = i = we;
			continue;
		}
		if (last == start) {
			*end = ws + md_wrap_cut(t + ws, we - ws, avail);
			return *end;
		}
		break;
	}
	*end = last;
	return i < n && t[i] == '\n' ? i + 1 : i;
}

/* Draw text[a..b) of a flattened paragraph as one line; *run is the
 * first style run that may still reach into it. Returns its columns. */
static int md_emit_range(struct md_render *r, const struct md_text *p,
			 size_t a, size_t b, size_t *run)
{
	struct md_text l;

	md_line_begin(r, &l);
	for (; *run < p->n_spans; (*run)++) {
		const struct span *s = &p->spans[*run];
		size_t from = s->off > a ? s->off : a;
		size_t to = s->off + s->len < b ? s->off + s->len : b;

		if (s->off >= b)
			break;
		if (from < to)
			md_text_add(&l, p->text.data + from, to - from,
				    s->style);
		if (s->off + s->len > b)
			break;
	}
	md_line_finish(r, &l);
	return (int)sanitize_width(p->text.data + a, b - a);
}

/* Wrap a flattened paragraph to the room the prefixes leave; at least
 * one line, so an item's marker always shows. Returns the widest. */
static int md_para_render(struct md_render *r, const struct md_text *p)
{
	const char *t = p->text.data;
	size_t n = p->text.len, i = md_skip_spaces(t, n, 0), run = 0;
	int avail = md_avail(r), widest = 0;

	do {
		size_t end, next = md_wrap_next(t, n, i, avail, &end);
		int cols = md_emit_range(r, p, i, end, &run);

		if (cols > widest)
			widest = cols;
		i = md_skip_spaces(t, n, next);
	} while (i < n);
	return widest;
}

/* The current inline style. */
static unsigned md_inline_style(const struct md_inline *in)
{
	return in->base | (in->emph ? STYLE_ITALIC : 0) |
	       (in->strong ? STYLE_BOLD : 0) | (in->link ? STYLE_LINK : 0);
}

/* An autolink's text is its URL already: showing it twice is noise. */
static bool md_link_is_bare(cmark_node *link, const char *url)
{
	cmark_node *child = cmark_node_first_child(link);
	const char *text;

	if (!child || cmark_node_next(child) ||
	    cmark_node_get_type(child) != CMARK_NODE_TEXT)
		return false;
	text = cmark_node_get_literal(child);
	if (!text)
		return false;
	return !strcmp(text, url) ||
	       (!strncmp(url, "mailto:", 7) && !strcmp(url + 7, text));
}

/* After a link's text, where it really goes: " <url>". A link's text can
 * say anything, so the operator must see the target. */
static void md_link_end(struct md_text *p, struct md_inline *in,
			cmark_node *link)
{
	const char *url = cmark_node_get_url(link);

	in->link--;
	if (!url || !*url || md_link_is_bare(link, url))
		return;
	md_text_add(p, " ", 1, md_inline_style(in));
	md_text_add(p, "<", 1, md_inline_style(in) | STYLE_LINK);
	md_text_add_raw(p, url, strlen(url), md_inline_style(in) | STYLE_LINK);
	md_text_add(p, ">", 1, md_inline_style(in) | STYLE_LINK);
}

/* Add the literal of a leaf inline in the current style. */
static void md_inline_literal(struct md_text *p, cmark_node *node,
			      unsigned style)
{
	const char *s = cmark_node_get_literal(node);

	if (s)
		md_text_add_raw(p, s, strlen(s), style);
}

/* Entering an inline node while flattening. */
static void md_inline_enter(struct md_text *p, struct md_inline *in,
			    cmark_node *node)
{
	switch (cmark_node_get_type(node)) {
	case CMARK_NODE_TEXT:
	case CMARK_NODE_HTML_INLINE:
		md_inline_literal(p, node, md_inline_style(in));
		break;
	case CMARK_NODE_CODE:
		md_inline_literal(p, node, md_inline_style(in) | STYLE_CODE);
		break;
	case CMARK_NODE_SOFTBREAK:
		md_text_add(p, " ", 1, md_inline_style(in));
		break;
	case CMARK_NODE_LINEBREAK:
		md_text_add(p, "\n", 1, md_inline_style(in));
		break;
	case CMARK_NODE_EMPH:
		in->emph++;
		break;
	case CMARK_NODE_STRONG:
		in->strong++;
		break;
	case CMARK_NODE_LINK:
	case CMARK_NODE_IMAGE:
		in->link++;
		break;
	default:
		break;
	}
}

/* Leaving an inline container while flattening. */
static void md_inline_exit(struct md_text *p, struct md_inline *in,
			   cmark_node *node)
{
	switch (cmark_node_get_type(node)) {
	case CMARK_NODE_EMPH:
		in->emph--;
		break;
	case CMARK_NODE_STRONG:
		in->strong--;
		break;
	case CMARK_NODE_LINK:
	case CMARK_NODE_IMAGE:
		md_link_end(p, in, node);
		break;
	default:
		break;
	}
}

/* A paragraph's or heading's inlines as one styled string. */
static void md_flatten(struct md_text *p, cmark_node *block, unsigned base)
{
	cmark_iter *it = cmark_iter_new(block);
	struct md_inline in = { .base = base };
	cmark_event_type ev;

	while ((ev = cmark_iter_next(it)) != CMARK_EVENT_DONE) {
		cmark_node *node = cmark_iter_get_node(it);

		if (node == block)
			continue;
		if (ev == CMARK_EVENT_ENTER)
			md_inline_enter(p, &in, node);
		else
			md_inline_exit(p, &in, node);
	}
	cmark_iter_free(it);
}

/* A paragraph or heading, wrapped; returns its widest line. */
static int md_render_text(struct md_render *r, cmark_node *node,
			  unsigned base)
{
	struct md_text p;
	int widest;

	md_text_init(&p);
	md_flatten(&p, node, base);
	widest = md_para_render(r, &p);
	md_text_release(&p);
	return widest;
}

/* Bold, and for the top two levels underlined by a rule as wide as the
 * heading, so the structure shows without colour. */
static void md_render_heading(struct md_render *r, cmark_node *node)
{
	int level = cmark_node_get_heading_level(node);
	int cols = md_render_text(r, node, STYLE_BOLD | STYLE_HEADING);

	if (level > 2 || cols == 0)
		return;
	if (level == 1)
		md_rule(r, cols, r->ascii ? "=" : "\u2550", STYLE_HEADING);
	else
		md_rule(r, cols, r->ascii ? "-" : "\u2500", STYLE_HEADING);
}

/* One line of a code block: never wrapped (a command must not seem to
 * be two), cut at the width with a marker that says so. */
static void md_code_line(struct md_render *r, const char *s, size_t n)
{
	char *clean = sanitize_string(s, n);
	size_t len = strlen(clean), bytes;
	int avail = md_avail(r);
	struct md_text l;

	md_line_begin(r, &l);
	if (sanitize_width(clean, len) <= (size_t)avail) {
		md_text_add(&l, clean, len, STYLE_CODE);
	} else {
		sanitize_clip(clean, len, avail - 1, &bytes);
		md_text_add(&l, clean, bytes, STYLE_CODE);
		md_text_add(&l, r->ascii ? ">" : "\u2026",
			    r->ascii ? 1 : 3, STYLE_DIM);
	}
	md_line_finish(r, &l);
	free(clean);
}

/* Fenced and indented code, indented by 4, line by line. */
static void md_render_code(struct md_render *r, cmark_node *node)
{
	const char *s = cmark_node_get_literal(node);
	size_t n = s ? strlen(s) : 0;

	md_prefix_push(r, "    ", NULL, STYLE_NONE);
	while (n > 0) {
		const char *nl = memchr(s, '\n', n);
		size_t len = nl ? (size_t)(nl - s) : n;

		md_code_line(r, s, len);
		len += nl != NULL;
		s += len;
		n -= len;
	}
	md_prefix_pop(r);
}

/* Raw HTML is shown as the text it is, its lines kept. */
static void md_render_html(struct md_render *r, cmark_node *node)
{
	const char *s = cmark_node_get_literal(node);
	size_t n = s ? strlen(s) : 0;
	struct md_text p;

	while (n > 0 && s[n - 1] == '\n')
		n--;
	md_text_init(&p);
	while (n > 0) {
		const char *nl = memchr(s, '\n', n);
		size_t len = nl ? (size_t)(nl - s) : n;

		md_text_add_raw(&p, s, len, STYLE_NONE);
		if (nl)
			md_text_add(&p, "\n", 1, STYLE_NONE);
		len += nl != NULL;
		s += len;
		n -= len;
	}
	md_para_render(r, &p);
	md_text_release(&p);
}

/* Digits of a list's widest number. */
static int md_digits(long n)
{
	int d = 1;

	while (n >= 10 || n <= -10) {
		n /= 10;
		d++;
	}
	return d;
}

/* A list opens: number its items from its start. */
static void md_list_enter(struct md_render *r, cmark_node *list)
{
	struct md_list *l;
	long items = 0;

	if (r->n_lists++ >= MD_MAX_DEPTH)
		return;
	l = &r->lists[r->n_lists - 1];
	for (cmark_node *c = cmark_node_first_child(list); c;
	     c = cmark_node_next(c))
		items++;
	l->next = cmark_node_get_list_start(list);
	l->digits = md_digits(l->next + (items ? items - 1 : 0));
}

/* An item's marker: a dim bullet, or its number and check box as they
 * are (the operator may need them); returns the marker's style. */
static unsigned md_item_marker(struct md_render *r, cmark_node *item,
			       char *buf, size_t size)
{
	cmark_node *list = cmark_node_parent(item);
	struct md_list *l = r->n_lists && r->n_lists <= MD_MAX_DEPTH ?
			    &r->lists[r->n_lists - 1] : NULL;
	bool task = !strcmp(cmark_node_get_type_string(item), "tasklist");
	const char *box = !task ? "" :
		cmark_gfm_extensions_get_tasklist_item_checked(item) ?
		"[x] " : "[ ] ";

	if (cmark_node_get_list_type(list) == CMARK_ORDERED_LIST && l) {
		snprintf(buf, size, "%*ld%c %s", l->digits, l->next++,
			 cmark_node_get_list_delim(list) == CMARK_PAREN_DELIM ?
			 ')' : '.', box);
		return STYLE_NONE;
	}
	if (task) {
		snprintf(buf, size, "%s", box);
		return STYLE_NONE;
	}
	snprintf(buf, size, "%s", r->ascii ? "- " : "\u2022 ");
	return STYLE_DIM;
}

/* An item opens: its marker on its first line, a hanging indent after. */
static void md_item_enter(struct md_render *r, cmark_node *item)
{
	char marker[MD_PREFIX_MAX];
	unsigned style = md_item_marker(r, item, marker, sizeof(marker));

	md_prefix_push(r, marker, NULL, style);
}

/* An item closes; one that held nothing still shows its marker. */
static void md_item_exit(struct md_render *r)
{
	if (r->depth <= MD_MAX_DEPTH && !r->prefix[r->depth - 1].used)
		md_line_empty(r);
	md_prefix_pop(r);
}

/* Blocks are apart by an empty line, except in a tight list. */
static bool md_wants_blank(cmark_node *node)
{
	cmark_node *parent = cmark_node_parent(node);

	if (!cmark_node_previous(node))
		return false;
	if (cmark_node_get_type(node) == CMARK_NODE_ITEM)
		return !cmark_node_get_list_tight(parent);
	if (cmark_node_get_type(parent) == CMARK_NODE_ITEM)
		return !cmark_node_get_list_tight(cmark_node_parent(parent));
	return true;
}

/* Entering a block; text blocks are drawn whole and skipped over. */
static void md_block_enter(struct md_render *r, cmark_iter *it,
			   cmark_node *node)
{
	cmark_node_type type = cmark_node_get_type(node);

	if (type == CMARK_NODE_DOCUMENT)
		return;
	if (md_wants_blank(node))
		md_line_empty(r);
	if (type == CMARK_NODE_PARAGRAPH || type == CMARK_NODE_HEADING) {
		if (type == CMARK_NODE_HEADING)
			md_render_heading(r, node);
		else
			md_render_text(r, node, STYLE_NONE);
		cmark_iter_reset(it, node, CMARK_EVENT_EXIT);
	} else if (type == CMARK_NODE_CODE_BLOCK) {
		md_render_code(r, node);
	} else if (type == CMARK_NODE_HTML_BLOCK) {
		md_render_html(r, node);
	} else if (type == CMARK_NODE_THEMATIC_BREAK) {
		md_rule(r, md_avail(r), r->ascii ? "-" : "\u2500", STYLE_DIM);
	} else if (type == CMARK_NODE_BLOCK_QUOTE) {
		md_prefix_push(r, r->ascii ? "| " : "\u2502 ",
			       r->ascii ? "| " : "\u2502 ", STYLE_DIM);
	} else if (type == CMARK_NODE_LIST) {
		md_list_enter(r, node);
	} else if (type == CMARK_NODE_ITEM) {
		md_item_enter(r, node);
	}
}

/* Leaving a container block. */
static void md_block_exit(struct md_render *r, cmark_node *node)
{
	switch (cmark_node_get_type(node)) {
	case CMARK_NODE_BLOCK_QUOTE:
		md_prefix_pop(r);
		break;
	case CMARK_NODE_LIST:
		r->n_lists--;
		break;
	case CMARK_NODE_ITEM:
		md_item_exit(r);
		break;
	default:
		break;
	}
}

/* cmark-gfm set up as the loader does, task items included. */
static cmark_node *md_parse(const char *text, size_t len)
{
	cmark_parser *parser;
	cmark_syntax_extension *tasks;
	cmark_node *doc;

	cmark_gfm_core_extensions_ensure_registered();
	parser = cmark_parser_new(CMARK_OPT_DEFAULT);
	tasks = cmark_find_syntax_extension("tasklist");
	if (tasks)
		cmark_parser_attach_syntax_extension(parser, tasks);
	cmark_parser_feed(parser, text, len);
	doc = cmark_parser_finish(parser);
	cmark_parser_free(parser);
	return doc;
}

/* Parse, then walk the blocks in document order. */
void md_render(const char *markdown, size_t n, int width, bool ascii,
	       struct styled_text *out)
{
	struct md_render r = {
		.out = out,
		.width = width < MD_MIN_WIDTH ? MD_MIN_WIDTH : width,
		.ascii = ascii,
	};
	cmark_node *doc = md_parse(markdown, n);
	cmark_iter *it = cmark_iter_new(doc);
	cmark_event_type ev;

	while ((ev = cmark_iter_next(it)) != CMARK_EVENT_DONE) {
		cmark_node *node = cmark_iter_get_node(it);

		if (ev == CMARK_EVENT_ENTER)
			md_block_enter(&r, it, node);
		else
			md_block_exit(&r, node);
	}
	cmark_iter_free(it);
	cmark_node_free(doc);
}
