#include "runbooks/words.h"

#include <string.h>

int words_split(const char *s, size_t n, struct strv *out, const char **why,
		size_t *err_off)
{
	struct buf w;
	size_t i = 0;
	buf_init(&w, BUF_UNLIMITED);
	while (i < n) {
		while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' ||
				 (s[i] == '\\' && i + 1 < n && s[i + 1] == '\n')))
			i += s[i] == '\\' ? 2 : 1;
		if (i >= n)
			break;
		buf_reset(&w);
		while (i < n && s[i] != ' ' && s[i] != '\t' && s[i] != '\n') {
			size_t start = i;
			if (s[i] == '\'') {
				const char *end = memchr(s + i + 1, '\'', n - i - 1);
				if (!end)
					goto unterminated;
				buf_add(&w, s + i + 1, (size_t)(end - s) - i - 1);
				i = (size_t)(end - s) + 1;
			} else if (s[i] == '"') {
				for (i++; i < n && s[i] != '"'; i++) {
					if (s[i] == '\\' && i + 1 < n &&
					    (s[i + 1] == '"' || s[i + 1] == '\\'))
						i++;
					buf_addc(&w, s[i]);
				}
				if (i >= n) {
					i = start;
					goto unterminated;
				}
				i++;
			} else if (s[i] == '\\') {
				if (i + 1 < n && s[i + 1] != '\n')
					buf_addc(&w, s[i + 1]);
				i += 2;
			} else {
				buf_addc(&w, s[i++]);
			}
		}
		strv_push(out, w.data);
	}
	buf_release(&w);
	return 0;
unterminated:
	buf_release(&w);
	*why = "unterminated quote";
	*err_off = i;
	return -1;
}

static int plain_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || (c && strchr("_-./:=@%+,${}", c));
}

void words_quote(struct buf *b, const char *word)
{
	size_t n = strlen(word);
	size_t plain = 0;
	while (plain < n && plain_char(word[plain]))
		plain++;
	if (n && plain == n) {
		buf_add(b, word, n);
	} else if (!strchr(word, '\'')) {
		buf_addc(b, '\'');
		buf_add(b, word, n);
		buf_addc(b, '\'');
	} else {
		buf_addc(b, '"');
		for (size_t i = 0; i < n; i++) {
			if (word[i] == '"' || word[i] == '\\')
				buf_addc(b, '\\');
			buf_addc(b, word[i]);
		}
		buf_addc(b, '"');
	}
}
