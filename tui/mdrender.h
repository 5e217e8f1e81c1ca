/* mdrender: a step's Markdown prose as styled lines that fit a width.
 *
 * Parsed with cmark-gfm; rendered for reading under stress, not for
 * beauty: headings in bold (level 1-2 also underlined by a rule of the
 * same width), paragraphs wrapped at word boundaries by display width,
 * bullet and numbered lists with hanging indents ("• " or "- " in ASCII
 * mode, "1. "), task items as "[ ] " / "[x] ", emphasis and strong as
 * italic/bold spans, inline code as a code span, fenced and indented code
 * blocks as code lines indented by 4 and never wrapped (cut at the width
 * with a "…"/">" marker), block quotes with a "│ "/"| " bar, thematic
 * breaks as a dim rule, links as their text followed by " <url>", HTML
 * shown as text. All text goes through the sanitizer. Lines never exceed
 * `width` display columns (width >= 10). */
#ifndef QRH_TUI_MDRENDER_H
#define QRH_TUI_MDRENDER_H

#include <stdbool.h>

#include "tui/styled.h"

/* Appends the rendering of markdown[0..n) to out. ascii: no box-drawing
 * or bullet characters (for terminals without UTF-8). */
void md_render(const char *markdown, size_t n, int width, bool ascii,
	       struct styled_text *out);

#endif
