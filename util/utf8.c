#include "util/utf8.h"

size_t utf8_seq(const unsigned char *p, size_t left)
{
	unsigned char c = p[0];
	if (c < 0x80)
		return 1;
	size_t n = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3
		   : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
	if (!n || n > left)
		return 0;
	for (size_t i = 1; i < n; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	if ((c == 0xe0 && p[1] < 0xa0) || (c == 0xed && p[1] > 0x9f) ||
	    (c == 0xf0 && p[1] < 0x90) || (c == 0xf4 && p[1] > 0x8f))
		return 0;
	return n;
}

void utf8_excerpt(const char *p, size_t len, size_t max, struct buf *out)
{
	static const char replacement[] = "\xef\xbf\xbd";
	size_t used = 0;
	for (size_t i = 0; i < len;) {
		size_t n = utf8_seq((const unsigned char *)p + i, len - i);
		bool bad = n == 0 || p[i] == '\0';
		size_t w = bad ? 3 : n;
		if (used + w > max)
			break;
		if (bad)
			buf_add(out, replacement, 3);
		else
			buf_add(out, p + i, n);
		used += w;
		i += bad ? 1 : n;
	}
}
