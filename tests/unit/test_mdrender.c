/* test_mdrender: Markdown prose rendered to styled lines. One table row
 * per construct with the exact lines expected, then the styles at their
 * offsets, and properties every rendering must have whatever the input:
 * no line wider than the width, spans that tile each line, sanitized
 * text, ASCII only in ASCII mode. */
#include <locale.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tui/mdrender.h"
#include "tui/sanitize.h"
#include "util/buf.h"
#include "util/xalloc.h"

#define MAX_WANT 12

struct md_case {
	const char *name;
	const char *md;
	int width;
	bool ascii;
	const char *want[MAX_WANT]; /* NULL-terminated */
};

static const struct md_case cases[] = {
	{ "heading 1", "# Title", 40, false, { "Title", "═════" } },
	{ "heading 1 ascii", "# Title", 40, true, { "Title", "=====" } },
	{ "heading 2", "## Sub", 40, false, { "Sub", "───" } },
	{ "heading 2 ascii", "Sub\n---", 40, true, { "Sub", "---" } },
	{ "heading 3", "### Deep", 40, false, { "Deep" } },
	{ "heading then text", "# T\ntext", 40, false,
	  { "T", "═", "", "text" } },
	{ "paragraphs", "one\n\ntwo", 40, false, { "one", "", "two" } },
	{ "soft break joins", "one\ntwo", 40, false, { "one two" } },
	{ "hard break", "one\\\ntwo", 40, false, { "one", "two" } },
	{ "wrap at 20", "the quick brown fox jumps over the lazy dog", 20,
	  false, { "the quick brown fox", "jumps over the lazy", "dog" } },
	{ "wrap at 10", "the quick brown fox jumps", 10, false,
	  { "the quick", "brown fox", "jumps" } },
	{ "long word broken", "abcdefghijklmnopqrstuvwxyz", 10, false,
	  { "abcdefghij", "klmnopqrst", "uvwxyz" } },
	{ "long word after a word", "ab abcdefghijklmnopq", 10, false,
	  { "ab", "abcdefghij", "klmnopq" } },
	{ "cjk wraps by width", "日本語のテキストです", 10, false,
	  { "日本語のテ", "キストです" } },
	{ "cjk odd width", "日本語のテキストです", 11, false,
	  { "日本語のテ", "キストです" } },
	{ "cjk words", "ab 日本語 cd", 10, false, { "ab 日本語", "cd" } },
	{ "bullets", "- a\n- b", 40, false, { "• a", "• b" } },
	{ "bullets ascii", "* a\n* b", 40, true, { "- a", "- b" } },
	{ "nested bullets", "- a\n- b\n  - c\n    - d\n- e", 40, false,
	  { "• a", "• b", "  • c", "    • d", "• e" } },
	{ "loose list", "- a\n\n- b", 40, false, { "• a", "", "• b" } },
	{ "item with two paragraphs", "- a\n\n  b", 40, false,
	  { "• a", "", "  b" } },
	{ "hanging indent", "- alpha beta gamma", 12, false,
	  { "• alpha beta", "  gamma" } },
	{ "numbered", "1. one\n2. two", 40, false, { "1. one", "2. two" } },
	{ "numbered from 7", "7. a\n8. b", 40, false, { "7. a", "8. b" } },
	{ "numbered aligned", "9. a\n10. b", 40, false, { " 9. a", "10. b" } },
	{ "numbered paren", "1) a", 40, false, { "1) a" } },
	{ "numbered hanging", "1. alpha beta gamma delta", 12, false,
	  { "1. alpha", "   beta", "   gamma", "   delta" } },
	{ "numbered nested", "1. a\n   - b\n2. c", 40, false,
	  { "1. a", "   • b", "2. c" } },
	{ "tasks", "- [ ] todo\n- [x] done", 40, false,
	  { "[ ] todo", "[x] done" } },
	{ "numbered tasks", "1. [ ] todo\n2. [x] done", 40, false,
	  { "1. [ ] todo", "2. [x] done" } },
	{ "task hanging", "- [ ] alpha beta gamma", 14, false,
	  { "[ ] alpha beta", "    gamma" } },
	{ "empty item", "-\n- b", 40, false, { "•", "• b" } },
	{ "quote", "> a\n>\n> b", 40, false, { "│ a", "│", "│ b" } },
	{ "quote ascii", "> a", 40, true, { "| a" } },
	{ "quote wraps", "> aaa bbb ccc", 9, false,
	  { "│ aaa bbb", "│ ccc" } },
	{ "list in quote", "> - a", 40, false, { "│ • a" } },
	{ "fenced code", "```sh\nls -l\n\necho hi\n```", 40, false,
	  { "    ls -l", "", "    echo hi" } },
	{ "indented code", "    make", 40, false, { "    make" } },
	{ "code not wrapped but cut", "```\n0123456789 abcdef\n```", 12,
	  false, { "    0123456…" } },
	{ "code cut ascii", "```\n0123456789 abcdef\n```", 12, true,
	  { "    0123456>" } },
	{ "code exactly fits", "```\n01234567\n```", 12, false,
	  { "    01234567" } },
	{ "code cut before wide char", "```\n012345日本\n```", 12, false,
	  { "    012345…" } },
	{ "code in item", "- x\n\n  ```\n  y\n  ```", 40, false,
	  { "• x", "", "      y" } },
	{ "rule", "---", 10, false, { "──────────" } },
	{ "rule ascii", "***", 10, true, { "----------" } },
	{ "link", "[docs](http://x.y/z)", 40, false,
	  { "docs <http://x.y/z>" } },
	{ "autolink once", "<http://a.b/>", 40, false, { "http://a.b/" } },
	{ "mail autolink", "<ops@example.com>", 40, false,
	  { "ops@example.com" } },
	{ "image", "![graph](g.png)", 40, false, { "graph <g.png>" } },
	{ "link wraps before url", "see [the docs](http://example.com/a)",
	  20, false, { "see the docs", "<http://example.com/", "a>" } },
	{ "html block", "<div>\nhi\n</div>", 40, false,
	  { "<div>", "hi", "</div>" } },
	{ "inline html", "a <b>c</b>", 40, false, { "a <b>c</b>" } },
	{ "escape in text", "a\x1b[2Jb", 40, false, { "a^[[2Jb" } },
	{ "osc title in text", "x\x1b]0;pwn\x07y", 40, false,
	  { "x^[]0;pwn^Gy" } },
	{ "sgr shown", "a\x1b[31mb", 40, false, { "a^[[31mb" } },
	{ "bidi override", "a\xe2\x80\xae" "b", 40, false, { "a<U+202E>b" } },
	{ "invalid utf-8", "a\xff" "b", 40, false, { "a\xef\xbf\xbd" "b" } },
	{ "escape in code", "```\n\x1b[2J\n```", 40, false,
	  { "    ^[[2J" } },
	{ "escape in url", "[x](http://a/\x1b[2J)", 40, false,
	  { "x <http://a/^[[2J>" } },
	{ "empty", "", 40, false, { NULL } },
};

/* Every line: at most `width` columns, sanitized (sanitizing it again
 * changes nothing), NUL-terminated, spans tiling it in order. */
static void check_line(const struct styled_line *l, int width)
{
	char *again;
	size_t off = 0;

	assert_true(sanitize_width(l->text, l->len) <= (size_t)width);
	assert_int_equal(strlen(l->text), l->len);
	again = sanitize_string(l->text, l->len);
	assert_string_equal(again, l->text);
	free(again);
	for (size_t i = 0; i < l->n_spans; i++) {
		assert_int_equal(l->spans[i].off, off);
		assert_true(l->spans[i].len > 0);
		off += l->spans[i].len;
	}
	assert_int_equal(off, l->n_spans ? l->len : 0);
	if (!l->n_spans)
		assert_int_equal(l->len, 0);
}

static void check_all(const struct styled_text *t, int width)
{
	for (size_t i = 0; i < t->n; i++)
		check_line(&t->lines[i], width);
}

static void render(struct styled_text *t, const char *md, int width,
		   bool ascii)
{
	styled_init(t);
	md_render(md, strlen(md), width, ascii, t);
	check_all(t, width);
}

static void test_table(void **state)
{
	(void)state;
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		const struct md_case *k = &cases[c];
		struct styled_text t;
		size_t n = 0;

		render(&t, k->md, k->width, k->ascii);
		while (n < MAX_WANT && k->want[n])
			n++;
		for (size_t i = 0; i < t.n || i < n; i++) {
			const char *got = i < t.n ? t.lines[i].text : "(none)";
			const char *want = i < n ? k->want[i] : "(none)";

			if (strcmp(got, want))
				print_message("%s: line %zu is \"%s\", want "
					      "\"%s\"\n", k->name, i, got,
					      want);
			assert_string_equal(got, want);
		}
		styled_release(&t);
	}
}

/* The style of the byte at `off` of a line. */
static unsigned style_at(const struct styled_line *l, size_t off)
{
	for (size_t i = 0; i < l->n_spans; i++)
		if (off >= l->spans[i].off &&
		    off < l->spans[i].off + l->spans[i].len)
			return l->spans[i].style;
	fail_msg("offset %zu outside the spans of \"%s\"", off, l->text);
	return 0;
}

static size_t offset_of(const struct styled_line *l, const char *word)
{
	const char *p = strstr(l->text, word);

	assert_non_null(p);
	return (size_t)(p - l->text);
}

struct style_case {
	const char *md;
	const char *word;
	unsigned style;
};

static void test_span_offsets(void **state)
{
	static const struct style_case rows[] = {
		{ "plain *em* **st** `co` end", "plain", STYLE_NONE },
		{ "plain *em* **st** `co` end", "em", STYLE_ITALIC },
		{ "plain *em* **st** `co` end", "st", STYLE_BOLD },
		{ "plain *em* **st** `co` end", "co", STYLE_CODE },
		{ "plain *em* **st** `co` end", "end", STYLE_NONE },
		{ "***both***", "both", STYLE_BOLD | STYLE_ITALIC },
		{ "**a `c` b**", "c", STYLE_BOLD | STYLE_CODE },
		{ "*a **b** c*", "b", STYLE_BOLD | STYLE_ITALIC },
		{ "*a **b** c*", "c", STYLE_ITALIC },
		{ "[go](u)", "go", STYLE_LINK },
		{ "[go](u)", "<u>", STYLE_LINK },
		{ "# Head", "Head", STYLE_BOLD | STYLE_HEADING },
		{ "# Head *x*", "x", STYLE_BOLD | STYLE_HEADING | STYLE_ITALIC },
		{ "- item", "•", STYLE_DIM },
		{ "> q", "│", STYLE_DIM },
		{ "```\ncode\n```", "code", STYLE_CODE },
		{ "é *ü*", "ü", STYLE_ITALIC },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct styled_text t;

		render(&t, rows[i].md, 40, false);
		assert_true(t.n >= 1);
		const struct styled_line *l = &t.lines[0];
		size_t off = offset_of(l, rows[i].word);

		for (size_t j = 0; j < strlen(rows[i].word); j++) {
			if (style_at(l, off + j) != rows[i].style)
				print_message("\"%s\": \"%s\" has style %#x\n",
					      rows[i].md, rows[i].word,
					      style_at(l, off + j));
			assert_int_equal(style_at(l, off + j), rows[i].style);
		}
		styled_release(&t);
	}
}

/* The text of every span with `style`, line by line, joined by '|'. */
static char *styled_words(const struct styled_text *t, unsigned style)
{
	struct buf b;

	buf_init(&b, BUF_UNLIMITED);
	for (size_t i = 0; i < t->n; i++) {
		const struct styled_line *l = &t->lines[i];

		for (size_t j = 0; j < l->n_spans; j++) {
			if (!(l->spans[j].style & style))
				continue;
			if (b.len)
				buf_addc(&b, '|');
			buf_add(&b, l->text + l->spans[j].off,
				l->spans[j].len);
		}
	}
	return buf_detach(&b, NULL);
}

static void test_spans_after_wrap(void **state)
{
	struct styled_text t;
	char *words;

	(void)state;
	render(&t, "xxxxxxxx **bold words here** yyy `a b` z", 10, false);
	assert_int_equal(t.n, 4);
	assert_string_equal(t.lines[0].text, "xxxxxxxx");
	assert_string_equal(t.lines[1].text, "bold words");
	assert_string_equal(t.lines[2].text, "here yyy a");
	assert_string_equal(t.lines[3].text, "b z");
	words = styled_words(&t, STYLE_BOLD);
	assert_string_equal(words, "bold words|here");
	free(words);
	words = styled_words(&t, STYLE_CODE);
	assert_string_equal(words, "a|b");
	free(words);
	styled_release(&t);

	/* A styled word broken in the middle keeps its style on both. */
	render(&t, "*abcdefghijklmno*", 10, false);
	assert_int_equal(t.n, 2);
	words = styled_words(&t, STYLE_ITALIC);
	assert_string_equal(words, "abcdefghij|klmno");
	free(words);
	styled_release(&t);
}

static const char prose[] =
	"# Restart the primary database server\n"
	"\n"
	"Before you restart, check the **replication lag** with "
	"`SELECT * FROM pg_stat_replication;` and make sure every replica "
	"is *caught up*. A lagging replica loses writes. See "
	"[the failover guide](https://wiki.example.com/db/failover) and "
	"<https://status.example.com/>.\n"
	"\n"
	"## Steps\n"
	"\n"
	"1. Drain the connection pooler so that no new sessions arrive.\n"
	"2. Stop the service:\n"
	"   - on systemd hosts, use the unit for the cluster version\n"
	"   - on the old hosts, use the init script; it takes a while to "
	"finish\n"
	"     - nested three levels deep with a long sentence to wrap\n"
	"10. Watch the logs.\n"
	"\n"
	"- [ ] paged the database owner on call\n"
	"- [x] announced the maintenance window in the incident channel\n"
	"\n"
	"> **Warning:** never run `pg_resetwal` on a production cluster; it "
	"throws away data that cannot be recovered.\n"
	"\n"
	"```sh\n"
	"systemctl restart postgresql@15-main && journalctl -u "
	"postgresql@15-main -f --since '5 minutes ago'\n"
	"\tindented with a tab\n"
	"```\n"
	"\n"
	"---\n"
	"\n"
	"<details>raw html</details>\n"
	"\n"
	"Ünïcödé wörds and 日本語のテキストを含む段落 mixed with "
	"supercalifragilisticexpialidocious-and-even-longer-words.\n";

/* No line wider than the width at any width, with spans that tile. */
static void test_widths(void **state)
{
	(void)state;
	for (int width = 10; width <= 120; width++) {
		for (int ascii = 0; ascii <= 1; ascii++) {
			struct styled_text t;

			render(&t, prose, width, ascii);
			assert_true(t.n > 10);
			styled_release(&t);
		}
	}
}

/* Paragraph wrapping at the usual widths: greedy, so no line could have
 * taken the next word. */
static void test_wrap_greedy(void **state)
{
	static const int widths[] = { 20, 40, 80 };
	static const char text[] =
		"Check that the standby has replayed all WAL before you "
		"promote it, otherwise the writes that were acknowledged "
		"but not yet shipped are lost for good and the application "
		"will notice.";

	(void)state;
	for (size_t w = 0; w < sizeof(widths) / sizeof(widths[0]); w++) {
		struct styled_text t;

		render(&t, text, widths[w], false);
		assert_true(t.n >= 2);
		for (size_t i = 0; i + 1 < t.n; i++) {
			const char *next = t.lines[i + 1].text;
			size_t first = strcspn(next, " ");

			assert_true(t.lines[i].len + 1 + first >
				    (size_t)widths[w]);
		}
		styled_release(&t);
	}
}

static void test_ascii_only(void **state)
{
	(void)state;
	for (int width = 10; width <= 100; width += 7) {
		struct styled_text t;
		char ascii_prose[sizeof(prose)];
		size_t n = 0;

		/* The prose with its non-ASCII words left out: every byte
		 * of the rendering is then qrh's own. */
		for (size_t i = 0; i < sizeof(prose) - 1; i++)
			if (!((unsigned char)prose[i] & 0x80))
				ascii_prose[n++] = prose[i];
		ascii_prose[n] = '\0';
		render(&t, ascii_prose, width, true);
		for (size_t i = 0; i < t.n; i++)
			for (size_t j = 0; j < t.lines[i].len; j++)
				assert_true(!((unsigned char)t.lines[i].text[j] &
					      0x80));
		styled_release(&t);
	}
}

/* All lines' text joined by '|'. */
static char *joined(const struct styled_text *t)
{
	struct buf b;

	buf_init(&b, BUF_UNLIMITED);
	for (size_t i = 0; i < t->n; i++) {
		buf_add(&b, t->lines[i].text, t->lines[i].len);
		buf_addc(&b, '|');
	}
	return buf_detach(&b, NULL);
}

/* Where nothing wraps, each hostile sequence shows whole. */
static void check_hostile_forms(const struct styled_text *t)
{
	char *all = joined(t);

	assert_non_null(strstr(all, "^[]0;title^G"));
	assert_non_null(strstr(all, "^[[2J^[[H"));
	assert_non_null(strstr(all, "<U+202E>"));
	assert_non_null(strstr(all, "^[]52;c;cm0=^G"));
	assert_non_null(strstr(all, "^[]8;;http://evil/^[\\click"));
	assert_non_null(strstr(all, "^[[1m code"));
	free(all);
}

/* Hostile text anywhere in the document comes out in visible form. */
static void test_hostile(void **state)
{
	static const char md[] =
		"# \x1b]0;title\x07 heading\n"
		"text \x1b[2J\x1b[H\x9b" "31m \xe2\x80\xae" "evil \xc0\xaf "
		"\r\x08\x7f end\n"
		"\n"
		"- item \x1b]52;c;cm0=\x07\n"
		"\n"
		"`\x1b[1m code`\n"
		"\n"
		"```\n\x1b]8;;http://evil/\x1b\\click\x1b]8;;\x1b\\\n```\n";

	(void)state;
	for (int width = 10; width <= 80; width += 10) {
		struct styled_text t;

		render(&t, md, width, false);
		for (size_t i = 0; i < t.n; i++) {
			const char *s = t.lines[i].text;

			for (size_t j = 0; j < t.lines[i].len; j++) {
				unsigned char c = (unsigned char)s[j];

				assert_true(c >= 0x20 && c != 0x7f);
			}
			assert_null(strstr(s, "\xe2\x80\xae"));
			assert_null(strstr(s, "\xc2\x9b"));
		}
		if (width == 80)
			check_hostile_forms(&t);
		styled_release(&t);
	}
}

/* Nesting deeper than any width still leaves room for text. */
static void test_deep_nesting(void **state)
{
	struct buf md;
	struct styled_text t;

	(void)state;
	buf_init(&md, BUF_UNLIMITED);
	for (int i = 0; i < 200; i++)
		buf_addc(&md, '>');
	buf_adds(&md, " deep text here\n\n");
	for (int i = 0; i < 60; i++) {
		for (int j = 0; j < i; j++)
			buf_adds(&md, "  ");
		buf_adds(&md, "- level\n");
	}
	for (int width = 10; width <= 40; width += 5) {
		render(&t, md.data, width, false);
		assert_true(t.n > 60);
		assert_non_null(strstr(t.lines[0].text, "deep"));
		styled_release(&t);
	}
	buf_release(&md);
}

/* A huge word is broken in linear time (a quadratic wrap would take
 * minutes here), a huge code line is cut to one line. */
static void test_huge(void **state)
{
	size_t n = 1 << 20;
	char *md = xmalloc(n + 16);
	struct styled_text t;

	(void)state;
	memset(md, 'a', n);
	md[n] = '\0';
	render(&t, md, 80, false);
	assert_int_equal(t.n, (n + 79) / 80);
	styled_release(&t);

	memcpy(md, "```\n", 4);
	memcpy(md + n, "\n```\n", 6);
	md[n + 6] = '\0';
	render(&t, md, 80, false);
	assert_int_equal(t.n, 1);
	assert_int_equal(sanitize_width(t.lines[0].text, t.lines[0].len), 80);
	styled_release(&t);
	free(md);
}

/* Random Markdown-ish input: the properties hold for anything. */
static void test_random(void **state)
{
	static const char *const pieces[] = {
		"# ", "## ", "- ", "1. ", "> ", "```\n", "    ", "\n", "\n\n",
		"*", "**", "`", "[", "](", ")", "<", ">", " ", "word ",
		"longerwordwithoutspaces", "日本", "é", "\x1b[", "\xff", "\t",
		"- [ ] ", "- [x] ", "---\n", "\\\n", "<div>", "![", "\xe2\x80\xae",
	};
	unsigned seed = 12345;

	(void)state;
	for (int round = 0; round < 300; round++) {
		struct buf md;
		struct styled_text t;
		int n;

		buf_init(&md, BUF_UNLIMITED);
		seed = seed * 1103515245 + 12345;
		n = (int)(seed >> 16) % 80;
		for (int i = 0; i < n; i++) {
			seed = seed * 1103515245 + 12345;
			buf_adds(&md, pieces[(seed >> 16) %
					     (sizeof(pieces) /
					      sizeof(pieces[0]))]);
		}
		render(&t, md.data, 10 + round % 50, round % 3 == 0);
		styled_release(&t);
		buf_release(&md);
	}
}

static void test_styled_add_plain(void **state)
{
	struct styled_text t;

	(void)state;
	styled_init(&t);
	styled_add_plain(&t, "ok\x1b[2J\nnext", 11, STYLE_ERROR);
	styled_add_plain(&t, "", 0, STYLE_NONE);
	assert_int_equal(t.n, 2);
	assert_string_equal(t.lines[0].text, "ok^[[2J^Jnext");
	assert_int_equal(t.lines[0].len, strlen("ok^[[2J^Jnext"));
	assert_int_equal(t.lines[0].n_spans, 1);
	assert_int_equal(t.lines[0].spans[0].off, 0);
	assert_int_equal(t.lines[0].spans[0].len, t.lines[0].len);
	assert_int_equal(t.lines[0].spans[0].style, STYLE_ERROR);
	assert_string_equal(t.lines[1].text, "");
	styled_release(&t);
	assert_int_equal(t.n, 0);
	styled_release(&t);
}

static int setup_locale(void **state)
{
	(void)state;
	return setlocale(LC_ALL, "C.UTF-8") ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_span_offsets),
		cmocka_unit_test(test_spans_after_wrap),
		cmocka_unit_test(test_widths),
		cmocka_unit_test(test_wrap_greedy),
		cmocka_unit_test(test_ascii_only),
		cmocka_unit_test(test_hostile),
		cmocka_unit_test(test_deep_nesting),
		cmocka_unit_test(test_huge),
		cmocka_unit_test(test_random),
		cmocka_unit_test(test_styled_add_plain),
	};

	return cmocka_run_group_tests(tests, setup_locale, NULL);
}
