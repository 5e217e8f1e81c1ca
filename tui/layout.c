#include "tui/layout.h"

#include <string.h>

static int clamp(int v, int lo, int hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

void layout_compute(int lines, int cols, int n_probes, struct layout *out)
{
	memset(out, 0, sizeof *out);
	if (lines < LAYOUT_MIN_LINES || cols < LAYOUT_MIN_COLS) {
		out->too_small = true;
		return;
	}
	int body_y = 2, body_h = lines - 3;
	int left_w = clamp(cols * 38 / 100, 28, 48);
	/* one line per probe plus its title, at most a third of the column */
	int probes_h = clamp(n_probes + 1, 2, body_h / 3);
	out->header = (struct rect){ 0, 0, 2, cols };
	out->steps = (struct rect){ body_y, 0, body_h - probes_h, left_w };
	out->probes = (struct rect){ body_y + body_h - probes_h, 0, probes_h, left_w };
	out->detail = (struct rect){ body_y, left_w + 1, body_h, cols - left_w - 1 };
	out->keybar = (struct rect){ lines - 1, 0, 1, cols };
}
