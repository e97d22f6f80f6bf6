// SPDX-License-Identifier: MIT
/*
 * The flame graph's colours: by the frame's kind (Python, native, kernel,
 * JIT), or in a differential graph by the change of its own time; and the
 * legend that says which.
 */
#include <math.h>
#include <string.h>
#include "write_svg_internal.h"

/* The change of a frame's self weight: shares of each side's total in
 * percentage points, or (diff_absolute) units of weight. */
double pyperf_svg_self_delta(const struct svg *g, const struct fnode *n)
{
	if (g->o.diff_absolute)
		return (double)n->self - (double)n->bself;
	return (g->total ? 100.0 * (double)n->self / (double)g->total : 0) -
	       (g->btotal ? 100.0 * (double)n->bself / (double)g->btotal : 0);
}

/* Differential graphs (flamegraph.pl's --diff colours): red where the
 * frame's own time grew, blue where it shrank, white where it held,
 * saturated by the change against the largest one. */
void pyperf_svg_diff_colour(const struct svg *g, const struct fnode *n, char *buf, size_t size)
{
	double d = pyperf_svg_self_delta(g, n), s = g->max_delta > 0 ? fabs(d) / g->max_delta : 0;
	int v = 255 - (int)(200 * MIN(1.0, s));

	if (d > 0)
		snprintf(buf, size, "rgb(255,%d,%d)", v, v);
	else if (d < 0)
		snprintf(buf, size, "rgb(%d,%d,255)", v, v);
	else
		snprintf(buf, size, "rgb(250,250,250)");
}

void pyperf_svg_colour(const struct fnode *n, char *buf, size_t size)
{
	/* three stable pseudo-random numbers from the name: a frame keeps
	 * its colour from one graph to the next */
	uint64_t h = hash_bytes(n->name, strlen(n->name), HASH_SEED);
	double v1 = (double)(h & 0xffff) / 65535.0, v2 = (double)((h >> 16) & 0xffff) / 65535.0,
	       v3 = (double)((h >> 32) & 0xffff) / 65535.0;
	int r, gr, b;

	switch (n->kind) {
	case PYPERF_FRAME_PYTHON: /* blues */
		r = 60 + (int)(60 * v1), gr = 130 + (int)(70 * v2), b = 200 + (int)(55 * v3);
		break;
	case PYPERF_FRAME_KERNEL: /* oranges */
		r = 230 + (int)(25 * v3), gr = 130 + (int)(50 * v1), b = 20 + (int)(40 * v2);
		break;
	case PYPERF_FRAME_JIT: /* greens */
		r = 60 + (int)(60 * v1), gr = 180 + (int)(60 * v2), b = 60 + (int)(50 * v3);
		break;
	case PYPERF_FRAME_THREAD:
	case PYPERF_FRAME_EVENT: /* greys */
		r = gr = b = 170 + (int)(40 * v1);
		break;
	case PYPERF_FRAME_TRUNCATED: /* a dark grey that stands out from callers */
		r = gr = b = 110;
		break;
	default: /* native: flamegraph.pl's warm reds and yellows */
		r = 200 + (int)(55 * v3), gr = (int)(190 * v1), b = (int)(50 * v2);
		break;
	}
	snprintf(buf, size, "rgb(%d,%d,%d)", r, gr, b);
}

const char *pyperf_svg_kind_class(uint8_t kind)
{
	switch (kind) {
	case PYPERF_FRAME_PYTHON:
		return "py";
	case PYPERF_FRAME_KERNEL:
		return "k";
	case PYPERF_FRAME_JIT:
		return "j";
	case PYPERF_FRAME_THREAD:
	case PYPERF_FRAME_EVENT:
		return "t";
	case PYPERF_FRAME_TRUNCATED:
		return "x";
	default:
		return "n";
	}
}

struct legend_key {
	const char *name, *fill;
};

static const struct legend_key legend_kinds[] = {{"Python", "rgb(90,165,228)"},
						 {"native", "rgb(228,95,25)"},
						 {"kernel", "rgb(242,155,40)"},
						 {"JIT", "rgb(90,210,85)"},
						 {NULL, NULL}},
			       legend_changes[] = {
				   {"grew", "rgb(255,55,55)"},	    {"shrank", "rgb(55,55,255)"},
				   {"same", "rgb(250,250,250)"},    {"new", "none\" stroke=\"#222"},
				   {"baseline only", "url(#gone)"}, {NULL, NULL}};

/* Pixels the legend takes: LEGEND_W, or more for the differential keys. */
double pyperf_svg_legend_width(const struct svg *g)
{
	double w = 0;

	if (!g->o.baseline)
		return LEGEND_W;
	for (const struct legend_key *k = legend_changes; k->name; k++)
		w += 22 + strlen(k->name) * FONT_SIZE * FONT_W;
	return MAX(w, LEGEND_W);
}

void pyperf_svg_legend(struct svg *g, double x, double y)
{
	const struct legend_key *keys = g->o.baseline ? legend_changes : legend_kinds;

	for (size_t i = 0; keys[i].name; i++) {
		fprintf(g->out,
			"<rect x=\"%.1f\" y=\"%.1f\" width=\"10\" height=\"10\" fill=\"%s\"/>"
			"<text x=\"%.1f\" y=\"%.1f\" class=\"small\">%s</text>\n",
			x, y - 9, keys[i].fill, x + 13, y, keys[i].name);
		x += 22 + strlen(keys[i].name) * FONT_SIZE * FONT_W;
	}
}
