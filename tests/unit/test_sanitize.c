/* test_sanitize: every class of hostile text the sanitizer promises to
 * neutralise, one table row each, then properties over random input:
 * output is safe, independent of how input is split, and idempotent. */
#include <locale.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include <cmocka.h>

#include "tui/sanitize.h"
#include "util/buf.h"
#include "util/xalloc.h"

#define FFFD "\xef\xbf\xbd"
#define STRLEN(lit) (sizeof(lit) - 1)

struct sanitize_case {
	const char *name;
	const char *in;
	size_t in_len;
	const char *want;
	unsigned flags;
};

#define CASE(name, in, want) { name, in, STRLEN(in), want, 0 }
#define CASE_FLAGS(name, in, want, flags) { name, in, STRLEN(in), want, flags }

static const struct sanitize_case cases[] = {
	CASE("plain text", "hello, world\nbye\n", "hello, world\nbye\n"),
	CASE("empty", "", ""),
	/* OSC: window title set and report, clipboard, hyperlinks */
	CASE("osc 0 title, BEL", "\x1b]0;pwned\x07ok", "^[]0;pwned^Gok"),
	CASE("osc 2 title, ST", "\x1b]2;t\x1b\\x", "^[]2;t^[\\x"),
	CASE("title report", "\x1b[21t", "^[[21t"),
	CASE("osc 52 clipboard", "\x1b]52;c;cm0gLXJmIC8K\x07",
	     "^[]52;c;cm0gLXJmIC8K^G"),
	CASE("osc 52 query", "\x1b]52;c;?\x1b\\", "^[]52;c;?^[\\"),
	CASE("osc 8 link", "\x1b]8;;http://evil/\x1b\\click\x1b]8;;\x1b\\",
	     "^[]8;;http://evil/^[\\click^[]8;;^[\\"),
	CASE("osc with utf-8 title", "\x1b]0;caf\xc3\xa9\x07",
	     "^[]0;caf\xc3\xa9^G"),
	CASE("osc cut by newline", "\x1b]0;abc\ndef", "^[]0;abc\ndef"),
	CASE("osc, esc starts a new one", "\x1b]0;a\x1b[2J", "^[]0;a^[[2J"),
	CASE("osc, esc then sgr", "\x1b]0;a\x1b[1mb", "^[]0;ab"),
	CASE("unterminated osc at eof", "\x1b]0;title", "^[]0;title"),
	CASE("dcs", "\x1bP1$r0m\x1b\\", "^[P1$r0m^[\\"),
	CASE("apc (kitty graphics)", "\x1b_Gf=100;AAAA\x1b\\",
	     "^[_Gf=100;AAAA^[\\"),
	CASE("pm and sos", "\x1b^x\x1b\\\x1bXy\x1b\\", "^[^x^[\\^[Xy^[\\"),
	/* CSI */
	CASE("csi cursor moves", "abc\x1b[2J\x1b[H\x1b[1A\x1b[10;5H",
	     "abc^[[2J^[[H^[[1A^[[10;5H"),
	CASE("csi private mode", "\x1b[?1049h\x1b[?25l", "^[[?1049h^[[?25l"),
	CASE("csi erase line", "secret\x1b[2K\x1b[1Gok", "secret^[[2K^[[1Gok"),
	CASE("csi cut by control", "\x1b[1\n2J", "^[[1\n2J"),
	CASE("csi at eof", "x\x1b[3", "x^[[3"),
	CASE("sgr dropped", "\x1b[1;31mred\x1b[0m \x1b[m\x1b[38:5:1mx",
	     "red x"),
	CASE_FLAGS("sgr shown", "\x1b[1;31mred\x1b[0m", "^[[1;31mred^[[0m",
		   SANITIZE_SHOW_SGR),
	CASE("xtmodkeys is not sgr", "\x1b[>4;1m", "^[[>4;1m"),
	CASE("sgr keeps \\r\\n", "a\r\x1b[0m\nb", "a\nb"),
	/* other escapes */
	CASE("esc alone at eof", "a\x1b", "a^["),
	CASE("esc two byte", "\x1b" "c\x1b" "7\x1bM", "^[c^[7^[M"),
	CASE("esc charset", "\x1b(B\x1b#8", "^[(B^[#8"),
	CASE("esc esc", "\x1b\x1b[2J", "^[^[[2J"),
	CASE("esc then C1", "\x1b\xc2\x9b", "^[<9B>"),
	/* \r and \b never hide text */
	CASE("\\r overwrite", "rm -rf /\rls      ", "rm -rf /^Mls      "),
	CASE("\\r\\n is a newline", "a\r\nb\r\n", "a\nb\n"),
	CASE("\\r\\r\\n", "a\r\r\nb", "a^M\nb"),
	CASE("\\r at eof", "a\r", "a^M"),
	CASE("backspace", "ab\b\bcd", "ab^H^Hcd"),
	CASE_FLAGS("single line", "a\nb\r\nc\r", "a^Jb^M^Jc^M",
		   SANITIZE_SINGLE_LINE),
	/* other C0 and DEL */
	CASE("nul bel del", "a\0b\x07" "c\x7f", "a^@b^Gc^?"),
	CASE("all caret forms", "\x01\x1a\x1c\x1f\x0b\x0c", "^A^Z^\\^_^K^L"),
	/* C1 */
	CASE("raw 0x9b", "\x9b" "2J", "<9B>2J"),
	CASE("encoded U+009B", "\xc2\x9b" "31m", "<9B>31m"),
	CASE("encoded NEL and ST", "\xc2\x85\xc2\x9c", "<85><9C>"),
	CASE("raw 0x80 0x9f", "\x80\x9f", "<80><9F>"),
	/* invalid UTF-8 */
	CASE("lone a0 bf", "\xa0\xbf", FFFD FFFD),
	CASE("overlong 2 byte", "\xc0\xaf", FFFD FFFD),
	CASE("overlong 3 byte", "\xe0\x80\xaf", FFFD "<80>" FFFD),
	CASE("overlong nul", "\xc0\x80", FFFD "<80>"),
	CASE("surrogate", "\xed\xa0\x80", FFFD FFFD "<80>"),
	CASE("above U+10FFFF", "\xf4\x90\x80\x80", FFFD "<90><80><80>"),
	CASE("f5 lead", "\xf5\xbf", FFFD FFFD),
	CASE("ff", "\xff" "a", FFFD "a"),
	CASE("truncated 3 byte", "\xe2\x82x", FFFD "x"),
	CASE("truncated 4 byte at eof", "x\xf0\x9f\x98", "x" FFFD),
	CASE("truncated before esc", "\xe2\x82\x1b[2J", FFFD "^[[2J"),
	CASE("truncated before sgr", "\xe2\x82\x1b[0m", FFFD),
	CASE("U+FFFD kept", FFFD, FFFD),
	CASE("max code point", "\xf4\x8f\xbf\xbf", "<U+10FFFF>"),
	/* bidi and invisible */
	CASE("rlo", "echo \xe2\x80\xae" "olleh", "echo <U+202E>olleh"),
	CASE("embeddings and pdf", "\xe2\x80\xaa\xe2\x80\xab\xe2\x80\xac"
	     "\xe2\x80\xad", "<U+202A><U+202B><U+202C><U+202D>"),
	CASE("isolates", "\xe2\x81\xa6\xe2\x81\xa7\xe2\x81\xa8\xe2\x81\xa9",
	     "<U+2066><U+2067><U+2068><U+2069>"),
	CASE("marks", "\xe2\x80\x8e\xe2\x80\x8f\xd8\x9c",
	     "<U+200E><U+200F><U+061C>"),
	CASE("zero-width space", "rm\xe2\x80\x8b -rf", "rm<U+200B> -rf"),
	CASE("zwj zwnj word joiner", "a\xe2\x80\x8d\xe2\x80\x8c\xe2\x81\xa0",
	     "a<U+200D><U+200C><U+2060>"),
	CASE("bom", "\xef\xbb\xbfx", "<U+FEFF>x"),
	CASE("line and paragraph sep", "\xe2\x80\xa8\xe2\x80\xa9",
	     "<U+2028><U+2029>"),
	CASE("soft hyphen", "a\xc2\xad" "b", "a<U+00AD>b"),
	CASE("tag characters", "\xf3\xa0\x81\x81", "<U+E0041>"),
	CASE("noncharacter", "\xef\xbf\xbf", "<U+FFFF>"),
	CASE("unassigned", "\xcd\xb8", "<U+0378>"),
	CASE("hangul fillers", "\xe3\x85\xa4\xe1\x85\x9f\xef\xbe\xa0",
	     "<U+3164><U+115F><U+FFA0>"),
	/* tabs */
	CASE("tab at 0", "\tx", "        x"),
	CASE("tab at 1", "a\tb", "a       b"),
	CASE("tab at 8", "12345678\tx", "12345678        x"),
	CASE("tab after newline", "abc\n\tx", "abc\n        x"),
	CASE("tab after cjk", "\xe4\xb8\xad\tx", "\xe4\xb8\xad      x"),
	CASE("tab after combining", "e\xcc\x81\tx", "e\xcc\x81       x"),
	CASE("tab after caret", "\x01\tx", "^A      x"),
	CASE("tab after placeholder", "\xe2\x80\xae\tx", "<U+202E>        x"),
	/* kept as is */
	CASE("cjk", "\xe4\xb8\xad\xe6\x96\x87", "\xe4\xb8\xad\xe6\x96\x87"),
	CASE("emoji", "\xf0\x9f\x98\x80", "\xf0\x9f\x98\x80"),
	CASE("combining", "e\xcc\x81", "e\xcc\x81"),
	CASE("variation selector", "\xe2\x9c\x94\xef\xb8\x8f",
	     "\xe2\x9c\x94\xef\xb8\x8f"),
	CASE("literal caret text", "^[[2J <9B>", "^[[2J <9B>"),
};

/* Sanitize in one call with the given flags. */
static char *run_whole(const char *in, size_t n, unsigned flags, size_t *len)
{
	struct sanitizer s;
	struct buf out;

	buf_init(&out, BUF_UNLIMITED);
	sanitize_init(&s, flags);
	assert_int_equal(sanitize_feed(&s, in, n, &out), 0);
	assert_int_equal(sanitize_flush(&s, &out), 0);
	return buf_detach(&out, len);
}

/* One row through whole, byte-at-a-time, and sanitize_string. */
static void check_case(const struct sanitize_case *c)
{
	struct sanitizer s;
	struct buf out;
	size_t len;
	char *got = run_whole(c->in, c->in_len, c->flags, &len);

	if (strcmp(got, c->want))
		print_message("case \"%s\" failed\n", c->name);
	assert_string_equal(got, c->want);
	assert_int_equal(len, strlen(c->want));
	free(got);

	buf_init(&out, BUF_UNLIMITED);
	sanitize_init(&s, c->flags);
	for (size_t i = 0; i < c->in_len; i++)
		assert_int_equal(sanitize_feed(&s, c->in + i, 1, &out), 0);
	sanitize_flush(&s, &out);
	if (strcmp(out.data, c->want))
		print_message("case \"%s\" failed byte by byte\n", c->name);
	assert_string_equal(out.data, c->want);
	buf_release(&out);
}

static void test_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check_case(&cases[i]);
}

static void test_string(void **state)
{
	static const char in[] = "a\nb\r\n\x1b[31mc\x1b]0;t\x07\t!";
	char *s;

	(void)state;
	s = sanitize_string(in, STRLEN(in));
	assert_string_equal(s, "a^Jb^M^J^[[31mc^[]0;t^G !");
	free(s);
	s = sanitize_string("", 0);
	assert_string_equal(s, "");
	free(s);
	s = sanitize_string("x\xe2\x82", 3);
	assert_string_equal(s, "x" FFFD);
	free(s);
}

/* An OSC that never ends is shown once it outgrows SANITIZE_SEQ_MAX. */
static void test_unterminated_osc(void **state)
{
	size_t n = 4 + 1000 + 6;
	char *in = xmalloc(n);
	char *want = xmalloc(n + 2);
	char *got;

	(void)state;
	memcpy(in, "\x1b]0;", 4);
	memset(in + 4, 'a', 1000);
	memcpy(in + 1004, "\nafter", 6);
	memcpy(want, "^[]0;", 5);
	memset(want + 5, 'a', 1000);
	memcpy(want + 1005, "\nafter", 7);
	got = run_whole(in, n, 0, NULL);
	assert_string_equal(got, want);
	free(got);

	/* nothing more than SANITIZE_SEQ_MAX bytes is ever held back */
	struct sanitizer s;
	struct buf out;

	buf_init(&out, BUF_UNLIMITED);
	sanitize_init(&s, 0);
	sanitize_feed(&s, in, 4 + 1000, &out);
	assert_true(out.len >= 4 + 1000 - SANITIZE_SEQ_MAX);
	sanitize_feed(&s, in + 1004, 6, &out);
	assert_string_equal(out.data, want);
	buf_release(&out);
	free(in);
	free(want);
}

/* An SGR too long to hold is shown, not dropped, and nothing is lost. */
static void test_long_sgr(void **state)
{
	size_t n = 2 + 2 * SANITIZE_SEQ_MAX + 2;
	char *in = xmalloc(n);
	char *want = xmalloc(n + 2);
	char *got;

	(void)state;
	memcpy(in, "\x1b[", 2);
	memset(in + 2, ';', 2 * SANITIZE_SEQ_MAX);
	memcpy(in + n - 2, "mx", 2);
	memcpy(want, "^[[", 3);
	memset(want + 3, ';', 2 * SANITIZE_SEQ_MAX);
	memcpy(want + n - 1, "mx", 3);
	got = run_whole(in, n, 0, NULL);
	assert_string_equal(got, want);
	free(got);
	free(in);
	free(want);
}

/* A 10 MB line without a newline streams through with bounded state. */
static void test_long_line(void **state)
{
	enum { CHUNK = 65536, TOTAL = 10 * 1024 * 1024 };
	char *chunk = xmalloc(CHUNK);
	struct sanitizer s;
	struct buf out;
	size_t emitted = 0;

	(void)state;
	for (size_t i = 0; i < CHUNK; i++)
		chunk[i] = "ab\xe4\xb8\xad\x1b]0;x"[i % 10];
	buf_init(&out, BUF_UNLIMITED);
	sanitize_init(&s, 0);
	for (size_t fed = 0; fed < TOTAL; fed += CHUNK) {
		sanitize_feed(&s, chunk, CHUNK, &out);
		emitted += out.len;
		/* caret forms only grow the text; only one sequence is held */
		assert_true(emitted + SANITIZE_SEQ_MAX >= fed + CHUNK);
		assert_null(memchr(out.data, '\n', out.len));
		buf_reset(&out);
	}
	sanitize_flush(&s, &out);
	buf_release(&out);
	free(chunk);
}

/* A full output buffer is reported, never overrun. */
static void test_buffer_max(void **state)
{
	struct sanitizer s;
	struct buf out;

	(void)state;
	buf_init(&out, 5);
	sanitize_init(&s, 0);
	assert_int_equal(sanitize_feed(&s, "\x01\x02\x03", 3, &out), -1);
	assert_int_equal(out.len, 5);
	assert_string_equal(out.data, "^A^B^");
	buf_release(&out);
}

static void test_width(void **state)
{
	(void)state;
	assert_int_equal(sanitize_width("", 0), 0);
	assert_int_equal(sanitize_width("abc", 3), 3);
	assert_int_equal(sanitize_width("\xe4\xb8\xad\xe6\x96\x87", 6), 4);
	assert_int_equal(sanitize_width("e\xcc\x81", 3), 1);
	assert_int_equal(sanitize_width("\xf0\x9f\x98\x80!", 5), 3);
	assert_int_equal(sanitize_width(FFFD "<U+202E>", 11), 9);
	/* unsanitized input still gets a sane answer */
	assert_int_equal(sanitize_width("\xff\xe2\x82", 3), 3);
}

struct clip_case {
	const char *in;
	int cols;
	size_t want_bytes;
	int want_cols;
};

static void test_clip(void **state)
{
	static const struct clip_case clips[] = {
		{ "abcdef", 3, 3, 3 },
		{ "abc", 10, 3, 3 },
		{ "abc", 0, 0, 0 },
		{ "abc", -4, 0, 0 },
		{ "a\xe4\xb8\xad" "b", 2, 1, 1 },	/* wide char left out */
		{ "a\xe4\xb8\xad" "b", 3, 4, 3 },
		{ "\xe4\xb8\xad\xe6\x96\x87", 3, 3, 2 },
		{ "e\xcc\x81x", 1, 3, 1 },	/* combining stays */
		{ "\xf0\x9f\x98\x80\xf0\x9f\x98\x80", 3, 4, 2 },
		{ FFFD "x", 1, 3, 1 },
		{ "\xe2\x82x", 1, 1, 1 },	/* invalid: one byte a column */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(clips) / sizeof(clips[0]); i++) {
		size_t bytes = 99;
		int used = sanitize_clip(clips[i].in, strlen(clips[i].in),
					 clips[i].cols, &bytes);

		if (bytes != clips[i].want_bytes || used != clips[i].want_cols)
			print_message("clip case %zu failed\n", i);
		assert_int_equal(bytes, clips[i].want_bytes);
		assert_int_equal(used, clips[i].want_cols);
	}
}

/* xorshift64*: a seeded PRNG so a failure can be replayed. */
static uint64_t rng_next(uint64_t *x)
{
	*x ^= *x >> 12;
	*x ^= *x << 25;
	*x ^= *x >> 27;
	return *x * 0x2545f4914f6cdd1dULL;
}

static size_t rng_below(uint64_t *x, size_t n)
{
	return (size_t)(rng_next(x) >> 11) % n;
}

/* Random bytes biased towards what starts or cuts sequences. */
static size_t random_input(uint64_t *x, char *p, size_t max)
{
	static const char hot[] = "\x1b\x1b\x1b[[]]\x9b\x07\xc2\xe2\xf0\xed"
		"\x80\x81\x8f\x9c\xa0\xbf\xae\x80\r\r\t\n\\;0123m8P_^X\x7f";
	size_t n = rng_below(x, 8) == 0 ? rng_below(x, max)
					: rng_below(x, 64);

	for (size_t i = 0; i < n; i++) {
		size_t pick = rng_below(x, 10);

		if (pick < 6)
			p[i] = hot[rng_below(x, sizeof(hot) - 1)];
		else if (pick < 8)
			p[i] = (char)rng_below(x, 256);
		else
			p[i] = (char)(' ' + rng_below(x, 95));
	}
	return n;
}

/* Our own strict UTF-8 reader: returns the code point or -1. */
static int32_t test_utf8_next(const unsigned char *p, size_t n, size_t *len)
{
	int need;
	uint32_t cp, min;

	*len = 1;
	if (p[0] < 0x80)
		return p[0];
	if ((p[0] & 0xe0) == 0xc0)
		need = 1, cp = p[0] & 0x1f, min = 0x80;
	else if ((p[0] & 0xf0) == 0xe0)
		need = 2, cp = p[0] & 0x0f, min = 0x800;
	else if ((p[0] & 0xf8) == 0xf0)
		need = 3, cp = p[0] & 0x07, min = 0x10000;
	else
		return -1;
	if ((size_t)need >= n)
		return -1;
	for (int i = 1; i <= need; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return -1;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return -1;
	*len = (size_t)need + 1;
	return (int32_t)cp;
}

/* The promises of sanitize.h about what output may hold. */
static void check_safe(const char *out, size_t n, unsigned flags)
{
	const unsigned char *p = (const unsigned char *)out;
	size_t len;

	for (size_t i = 0; i < n; i += len) {
		int32_t cp = test_utf8_next(p + i, n - i, &len);

		assert_true(cp >= 0);
		if (cp == '\n') {
			assert_false(flags & SANITIZE_SINGLE_LINE);
			continue;
		}
		assert_true(cp >= 0x20);
		assert_true(cp != 0x7f);
		assert_false(cp >= 0x80 && cp < 0xa0);
		assert_false(cp >= 0x202a && cp <= 0x202e);
		assert_false(cp >= 0x2066 && cp <= 0x2069);
		assert_false(cp == 0x200b || cp == 0xfeff || cp == 0x200e ||
			     cp == 0x200f || cp == 0x061c);
		assert_true(wcwidth((wchar_t)cp) >= 0);
	}
}

/* Feed in random pieces, some empty. */
static char *run_split(uint64_t *x, const char *in, size_t n, unsigned flags,
		       size_t *len)
{
	struct sanitizer s;
	struct buf out;
	size_t i = 0;

	buf_init(&out, BUF_UNLIMITED);
	sanitize_init(&s, flags);
	while (i < n) {
		size_t k = rng_below(x, 4) == 0 ? 0 : rng_below(x, n - i + 1);

		if (rng_below(x, 3) == 0 && k > 1)
			k = 1;
		sanitize_feed(&s, in + i, k, &out);
		i += k;
	}
	sanitize_flush(&s, &out);
	return buf_detach(&out, len);
}

static void test_random_properties(void **state)
{
	enum { ROUNDS = 20000, MAXLEN = 1200 };
	uint64_t x = 0x9e3779b97f4a7c15ULL;
	char *in = xmalloc(MAXLEN);

	(void)state;
	for (int round = 0; round < ROUNDS; round++) {
		size_t n = random_input(&x, in, MAXLEN);
		unsigned flags = (unsigned)rng_below(&x, 4);
		size_t len, split_len, again_len;
		char *out = run_whole(in, n, flags, &len);
		char *split = run_split(&x, in, n, flags, &split_len);
		char *again = run_whole(out, len, flags, &again_len);

		if (len != split_len || memcmp(out, split, len) ||
		    len != again_len || memcmp(out, again, len))
			print_message("round %d failed (flags %u)\n", round,
				      flags);
		check_safe(out, len, flags);
		assert_int_equal(len, split_len);
		assert_memory_equal(out, split, len);
		assert_int_equal(len, again_len);
		assert_memory_equal(out, again, len);
		assert_true(len <= n * SANITIZE_GROWTH_MAX);
		assert_int_equal(sanitize_width(out, len),
				 sanitize_width(again, again_len));
		free(out);
		free(split);
		free(again);
	}
	free(in);
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
		cmocka_unit_test(test_string),
		cmocka_unit_test(test_unterminated_osc),
		cmocka_unit_test(test_long_sgr),
		cmocka_unit_test(test_long_line),
		cmocka_unit_test(test_buffer_max),
		cmocka_unit_test(test_width),
		cmocka_unit_test(test_clip),
		cmocka_unit_test(test_random_properties),
	};

	return cmocka_run_group_tests(tests, setup_locale, NULL);
}
