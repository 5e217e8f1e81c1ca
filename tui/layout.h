/* layout: where each pane of the console goes, as a pure function of the
 * terminal size, so it can be tested without a terminal.
 *
 *   header   2 lines: title, run, T+, journal head / objectives
 *   steps    the left column (about 38% of the width, 28..48 columns)
 *   probes   the bottom of the left column
 *   detail   the selected step: instructions or output, the rest
 *   keybar   1 line at the bottom
 *
 * Below LAYOUT_MIN_COLS x LAYOUT_MIN_LINES only a "terminal too small"
 * message is drawn. */
#ifndef QRH_TUI_LAYOUT_H
#define QRH_TUI_LAYOUT_H

#include <stdbool.h>

#define LAYOUT_MIN_COLS 60
#define LAYOUT_MIN_LINES 16

struct rect {
	int y, x, h, w;
};

struct layout {
	bool too_small;
	struct rect header, steps, probes, detail, keybar;
};

void layout_compute(int lines, int cols, int n_probes, struct layout *out);

#endif
