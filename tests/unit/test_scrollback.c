/* test_scrollback: output chunks become a bounded ring of sanitized
 * lines. Table rows feed chunks and expect lines; the rest covers what a
 * table cannot: a 10 MB line without a newline, ring overflow, search,
 * the marks qrh writes between attempts. */
#include <locale.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tui/scrollback.h"
#include "util/xalloc.h"

#define MAX_CHUNKS 6
#define MAX_LINES 6

struct chunk {
	enum sb_stream stream;
	const char *data;
};

struct want {
	const char *text;
	enum sb_stream stream;
};

struct sb_case {
	const char *name;
	struct chunk in[MAX_CHUNKS]; /* until data == NULL */
	bool finish;
	struct want want[MAX_LINES]; /* until text == NULL */
};

#define OUT(s) { SB_STDOUT, s }
#define ERR(s) { SB_STDERR, s }
#define W_OUT(s) { s, SB_STDOUT }
#define W_ERR(s) { s, SB_STDERR }

static const struct sb_case cases[] = {
	{ "one line", { OUT("hello\n") }, false, { W_OUT("hello") } },
	{ "split across chunks", { OUT("hel"), OUT("lo\nwor"), OUT("ld\n") },
	  false, { W_OUT("hello"), W_OUT("world") } },
	{ "partial line shown", { OUT("abc") }, false, { W_OUT("abc") } },
	{ "partial completed", { OUT("abc"), OUT("def\n") }, false,
	  { W_OUT("abcdef") } },
	{ "empty lines kept", { OUT("\n\na\n") }, false,
	  { W_OUT(""), W_OUT(""), W_OUT("a") } },
	{ "streams apart", { OUT("o1"), ERR("e1\n"), OUT(" more\n") }, false,
	  { W_ERR("e1"), W_OUT("o1 more") } },
	{ "both partials, stdout first", { ERR("pe"), OUT("po") }, false,
	  { W_OUT("po"), W_ERR("pe") } },
	{ "partials after lines", { OUT("a\nb"), ERR("c\nd") }, false,
	  { W_OUT("a"), W_ERR("c"), W_OUT("b"), W_ERR("d") } },
	{ "crlf", { OUT("a\r\nb\r\n") }, false, { W_OUT("a"), W_OUT("b") } },
	{ "crlf split", { OUT("a\r"), OUT("\nb\n") }, false,
	  { W_OUT("a"), W_OUT("b") } },
	{ "lone cr visible", { OUT("50%\r60%\n") }, false,
	  { W_OUT("50%^M60%") } },
	{ "cr of one stream, lf of the other", { OUT("a\r"), ERR("\n") },
	  true, { W_ERR(""), W_OUT("a^M") } },
	{ "csi visible", { OUT("a\x1b[2Jb\n") }, false,
	  { W_OUT("a^[[2Jb") } },
	{ "osc title visible", { OUT("\x1b]0;pwned\x07ok\n") }, false,
	  { W_OUT("^[]0;pwned^Gok") } },
	{ "escape split across chunks", { OUT("x\x1b]0;t"), OUT("\x07y\n") },
	  false, { W_OUT("x^[]0;t^Gy") } },
	{ "sgr dropped", { ERR("\x1b[31mred\x1b[0m\n") }, false,
	  { W_ERR("red") } },
	{ "bidi override visible", { OUT("a\xe2\x80\xae" "b\n") }, false,
	  { W_OUT("a<U+202E>b") } },
	{ "c1 csi visible", { OUT("a\xc2\x9b" "2J\n") }, false,
	  { W_OUT("a<9B>2J") } },
	{ "utf-8 split across chunks", { OUT("caf\xc3"), OUT("\xa9\n") },
	  false, { W_OUT("caf\xc3\xa9") } },
	{ "tab expanded", { OUT("a\tb\n") }, false, { W_OUT("a       b") } },
	{ "finish flushes partials", { OUT("tail"), ERR("etail") }, true,
	  { W_OUT("tail"), W_ERR("etail") } },
	{ "finish shows open escape", { OUT("x\x1b]0;open") }, true,
	  { W_OUT("x^[]0;open") } },
	{ "finish shows cut utf-8", { OUT("ab\xe2\x82") }, true,
	  { W_OUT("ab\xef\xbf\xbd") } },
	{ "finish adds nothing after newline", { OUT("a\n") }, true,
	  { W_OUT("a") } },
	{ "nothing", { { SB_STDOUT, NULL } }, true, { { NULL, 0 } } },
};

static void run_case(const struct sb_case *k)
{
	struct scrollback *sb = scrollback_new();
	size_t n = 0, fed = 0;

	for (size_t i = 0; i < MAX_CHUNKS && k->in[i].data; i++) {
		scrollback_feed(sb, k->in[i].stream, k->in[i].data,
				strlen(k->in[i].data));
		fed += strlen(k->in[i].data);
	}
	if (k->finish)
		scrollback_finish(sb);
	while (n < MAX_LINES && k->want[n].text)
		n++;
	for (size_t i = 0; i < n || i < scrollback_count(sb); i++) {
		const struct sb_line *l = scrollback_line(sb, i);

		if (!l || i >= n || strcmp(l->text, k->want[i].text) ||
		    l->stream != k->want[i].stream)
			print_message("%s: line %zu is \"%s\" (%d), want "
				      "\"%s\"\n", k->name, i,
				      l ? l->text : "(none)",
				      l ? (int)l->stream : 0,
				      i < n ? k->want[i].text : "(none)");
		assert_non_null(l);
		assert_true(i < n);
		assert_string_equal(l->text, k->want[i].text);
		assert_int_equal(l->len, strlen(k->want[i].text));
		assert_int_equal(l->stream, k->want[i].stream);
		assert_false(l->continued);
	}
	assert_int_equal(scrollback_count(sb), n);
	assert_null(scrollback_line(sb, n));
	assert_int_equal(scrollback_bytes(sb), fed);
	assert_int_equal(scrollback_dropped(sb), 0);
	scrollback_free(sb);
}

static void test_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		run_case(&cases[i]);
}

/* Every line of a split long line: bounded, flagged, whole characters. */
static size_t check_long_line(struct scrollback *sb, const char *unit)
{
	size_t total = 0;

	for (size_t i = 0; i < scrollback_count(sb); i++) {
		const struct sb_line *l = scrollback_line(sb, i);

		assert_true(l->len <= SCROLLBACK_MAX_LINE_BYTES);
		/* the first kept piece continues one dropped for room */
		assert_int_equal(l->continued, i > 0 || scrollback_dropped(sb) > 0);
		assert_int_equal(l->len % strlen(unit), 0);
		assert_memory_equal(l->text, unit, strlen(unit));
		assert_int_equal(l->text[l->len], '\0');
		total += l->len;
	}
	return total;
}

/* 10 MB without a newline, fed in pipe-sized chunks and then at once:
 * about 10 MB / 4 KiB pieces, none longer than the maximum; the newest
 * SCROLLBACK_MAX_BYTES of them are kept and the rest counted as dropped.
 * Multi-byte characters are never cut in half. */
static void test_long_line(void **state)
{
	static const char *const units[] = { "x", "\xc3\xa9", "\xe6\x97\xa5" };
	size_t size = 10 * 1024 * 1024;

	(void)state;
	for (size_t u = 0; u < sizeof(units) / sizeof(units[0]); u++) {
		size_t ul = strlen(units[u]), n = size / ul * ul;
		char *data = xmalloc(n);

		for (size_t i = 0; i < n; i += ul)
			memcpy(data + i, units[u], ul);
		for (int whole = 0; whole <= 1; whole++) {
			struct scrollback *sb = scrollback_new();
			size_t chunk = whole ? n : 65536;

			for (size_t off = 0; off < n; off += chunk)
				scrollback_feed(sb, SB_STDOUT, data + off,
						n - off < chunk ? n - off :
								  chunk);
			size_t pieces = scrollback_count(sb) + (size_t)scrollback_dropped(sb);
			assert_true(pieces >= n / SCROLLBACK_MAX_LINE_BYTES);
			assert_true(pieces <= n / (SCROLLBACK_MAX_LINE_BYTES - 3) + 1);
			size_t kept = check_long_line(sb, units[u]);
			assert_true(kept <= SCROLLBACK_MAX_BYTES + SCROLLBACK_MAX_LINE_BYTES); /* + the partial */
			assert_true(kept >= SCROLLBACK_MAX_BYTES - SCROLLBACK_MAX_LINE_BYTES);
			assert_int_equal(scrollback_bytes(sb), n);
			scrollback_finish(sb);
			assert_true(check_long_line(sb, units[u]) <= SCROLLBACK_MAX_BYTES);
			scrollback_feed(sb, SB_STDOUT, "next\n", 5);
			assert_false(scrollback_line(sb, scrollback_count(sb) -
							 1)->continued);
			scrollback_free(sb);
		}
		free(data);
	}
}

/* A long line then its newline: the last piece ends the line. */
static void test_long_line_ends(void **state)
{
	struct scrollback *sb = scrollback_new();
	char data[SCROLLBACK_MAX_LINE_BYTES + 10];

	(void)state;
	memset(data, 'y', sizeof(data));
	scrollback_feed(sb, SB_STDERR, data, sizeof(data));
	scrollback_feed(sb, SB_STDERR, "\nz\n", 3);
	assert_int_equal(scrollback_count(sb), 3);
	assert_int_equal(scrollback_line(sb, 0)->len,
			 SCROLLBACK_MAX_LINE_BYTES);
	assert_false(scrollback_line(sb, 0)->continued);
	assert_int_equal(scrollback_line(sb, 1)->len, 10);
	assert_true(scrollback_line(sb, 1)->continued);
	assert_int_equal(scrollback_line(sb, 1)->stream, SB_STDERR);
	assert_string_equal(scrollback_line(sb, 2)->text, "z");
	assert_false(scrollback_line(sb, 2)->continued);
	scrollback_free(sb);
}

/* Escapes grow the text up to 8 times; the split still bounds lines. */
static void test_long_escaped_line(void **state)
{
	struct scrollback *sb = scrollback_new();
	char data[100000];

	(void)state;
	memset(data, 0x01, sizeof(data));
	scrollback_feed(sb, SB_STDOUT, data, sizeof(data));
	scrollback_finish(sb);
	assert_int_equal(scrollback_count(sb),
			 2 * sizeof(data) / SCROLLBACK_MAX_LINE_BYTES + 1);
	assert_int_equal(check_long_line(sb, "^A"), 2 * sizeof(data));
	scrollback_free(sb);
}

/* More lines than the ring holds: the oldest go, and are counted. */
static void test_overflow(void **state)
{
	struct scrollback *sb = scrollback_new();
	size_t extra = 5000, total = SCROLLBACK_MAX_LINES + extra;
	char line[32];

	(void)state;
	for (size_t i = 0; i < total; i++) {
		int n = snprintf(line, sizeof(line), "line %zu\n", i);

		scrollback_feed(sb, i % 2 ? SB_STDERR : SB_STDOUT, line,
				(size_t)n);
	}
	assert_int_equal(scrollback_count(sb), SCROLLBACK_MAX_LINES);
	assert_int_equal(scrollback_dropped(sb), extra);
	assert_string_equal(scrollback_line(sb, 0)->text, "line 5000");
	assert_int_equal(scrollback_line(sb, 0)->stream, SB_STDOUT);
	assert_string_equal(scrollback_line(sb, 1)->text, "line 5001");
	assert_int_equal(scrollback_line(sb, 1)->stream, SB_STDERR);
	assert_string_equal(
		scrollback_line(sb, SCROLLBACK_MAX_LINES - 1)->text,
		"line 24999");
	assert_null(scrollback_line(sb, SCROLLBACK_MAX_LINES));

	/* A partial line comes on top of a full ring. */
	scrollback_feed(sb, SB_STDOUT, "part", 4);
	assert_int_equal(scrollback_count(sb), SCROLLBACK_MAX_LINES + 1);
	assert_string_equal(scrollback_line(sb, SCROLLBACK_MAX_LINES)->text,
			    "part");
	scrollback_feed(sb, SB_STDOUT, "\n", 1);
	assert_int_equal(scrollback_count(sb), SCROLLBACK_MAX_LINES);
	assert_int_equal(scrollback_dropped(sb), extra + 1);
	assert_string_equal(
		scrollback_line(sb, SCROLLBACK_MAX_LINES - 1)->text, "part");
	scrollback_free(sb);
}

struct search_case {
	const char *needle;
	size_t from;
	int dir;
	long want;
};

static void test_search(void **state)
{
	static const char text[] =
		"alpha\nBeta\ngamma\nsome beta two\n\xc3\x89t\xc3\xa9\n";
	static const struct search_case rows[] = {
		{ "BETA", 0, 1, 1 },
		{ "beta", 1, 1, 1 },   /* `from` itself counts */
		{ "beta", 2, 1, 3 },
		{ "beta", 4, 1, 1 },   /* wraps past the end */
		{ "alpha", 1, 1, 0 },
		{ "beta", 2, -1, 1 },
		{ "beta", 0, -1, 3 },  /* wraps past the start */
		{ "ALPHA", 0, -1, 0 },
		{ "gamma", 6, 1, 2 },  /* from beyond the end wraps too */
		{ "mma", 0, 1, 2 },
		{ "e b", 0, 1, 3 },
		{ "\xc3\xa9", 0, 1, 4 },
		{ "\xc3\x89T", 0, 1, 4 },
		{ "\xc3\xa9t\xc3\xa9", 0, 1, -1 }, /* no folding past ASCII */
		{ "delta", 0, 1, -1 },
		{ "", 0, 1, -1 },
		{ "partial", 0, 1, 5 },
	};
	struct scrollback *sb = scrollback_new();

	(void)state;
	assert_int_equal(scrollback_search(sb, "a", 0, 1), -1);
	scrollback_feed(sb, SB_STDOUT, text, strlen(text));
	scrollback_feed(sb, SB_STDERR, "a Partial", 9);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		long got = scrollback_search(sb, rows[i].needle, rows[i].from,
					     rows[i].dir);

		if (got != rows[i].want)
			print_message("search \"%s\" from %zu dir %d: %ld, "
				      "want %ld\n", rows[i].needle,
				      rows[i].from, rows[i].dir, got,
				      rows[i].want);
		assert_int_equal(got, rows[i].want);
	}
	scrollback_free(sb);
}

/* Candidates of either case, many of them, on long lines. */
static void test_search_candidates(void **state)
{
	struct scrollback *sb = scrollback_new();
	char line[SCROLLBACK_MAX_LINE_BYTES];

	(void)state;
	memset(line, 'A', sizeof(line));
	memcpy(line + sizeof(line) - 3, "aB\n", 3);
	scrollback_feed(sb, SB_STDOUT, line, sizeof(line));
	memset(line, 'a', sizeof(line));
	memcpy(line + sizeof(line) - 3, "Ac\n", 3);
	scrollback_feed(sb, SB_STDOUT, line, sizeof(line));
	assert_int_equal(scrollback_count(sb), 2);
	assert_int_equal(scrollback_search(sb, "ab", 1, 1), 0);
	assert_int_equal(scrollback_search(sb, "AAB", 0, -1), 0);
	assert_int_equal(scrollback_search(sb, "aac", 0, 1), 1);
	assert_int_equal(scrollback_search(sb, "ba", 0, 1), -1);
	assert_int_equal(scrollback_search(sb, "a", 1, 1), 1);
	assert_int_equal(scrollback_search(sb, "\n", 0, 1), -1);
	scrollback_free(sb);
}

/* Each stream's partial line is its own: interleaving cannot mix them,
 * and splitting the input anywhere gives the same lines. */
static void test_interleaved_splits(void **state)
{
	static const char out[] = "out one\nout \x1b[1mtwo\x1b[0m\r\nout three";
	static const char err[] = "err \xe6\x97\xa5 one\nerr\ttwo\n";

	(void)state;
	for (size_t step = 1; step <= 7; step++) {
		struct scrollback *sb = scrollback_new();
		size_t i = 0, j = 0;

		while (i < strlen(out) || j < strlen(err)) {
			size_t a = strlen(out) - i < step ? strlen(out) - i : step;
			size_t b = strlen(err) - j < step ? strlen(err) - j : step;

			scrollback_feed(sb, SB_STDOUT, out + i, a);
			scrollback_feed(sb, SB_STDERR, err + j, b);
			i += a;
			j += b;
		}
		scrollback_finish(sb);
		assert_int_equal(scrollback_count(sb), 5);
		for (size_t k = 0; k < 5; k++) {
			const struct sb_line *l = scrollback_line(sb, k);
			const char *want = NULL;

			if (!strcmp(l->text, "out one") ||
			    !strcmp(l->text, "out two") ||
			    !strcmp(l->text, "out three"))
				want = l->text;
			if (!strcmp(l->text, "err \xe6\x97\xa5 one") ||
			    !strcmp(l->text, "err     two"))
				want = l->text;
			assert_non_null(want);
			assert_int_equal(l->stream, !strncmp(l->text, "out", 3) ?
				SB_STDOUT : SB_STDERR);
		}
		scrollback_free(sb);
	}
}

static int setup_locale(void **state)
{
	(void)state;
	return setlocale(LC_ALL, "C.UTF-8") ? 0 : -1;
}

/* A mark goes after the complete lines and before the partial tails,
 * untouched by the sanitizer; search finds it like any line. */
static void test_mark(void **state)
{
	(void)state;
	struct scrollback *sb = scrollback_new();
	scrollback_feed(sb, SB_STDOUT, "done\npart", 9);
	scrollback_mark(sb, "attempt 1/3 failed, exit 7", 26);
	assert_int_equal(scrollback_count(sb), 3);
	assert_string_equal(scrollback_line(sb, 0)->text, "done");
	assert_int_equal(scrollback_line(sb, 1)->stream, SB_MARK);
	assert_string_equal(scrollback_line(sb, 1)->text, "attempt 1/3 failed, exit 7");
	assert_string_equal(scrollback_line(sb, 2)->text, "part");
	char *lower = scrollback_fold("EXIT 7");
	assert_string_equal(lower, "exit 7");
	assert_true(scrollback_line_has(scrollback_line(sb, 1), lower));
	assert_false(scrollback_line_has(scrollback_line(sb, 0), lower));
	free(lower);
	assert_int_equal(scrollback_search(sb, "Attempt", 0, 1), 1);
	scrollback_free(sb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_long_line),
		cmocka_unit_test(test_long_line_ends),
		cmocka_unit_test(test_long_escaped_line),
		cmocka_unit_test(test_overflow),
		cmocka_unit_test(test_search),
		cmocka_unit_test(test_search_candidates),
		cmocka_unit_test(test_interleaved_splits),
		cmocka_unit_test(test_mark),
	};

	return cmocka_run_group_tests(tests, setup_locale, NULL);
}
