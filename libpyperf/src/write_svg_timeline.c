// SPDX-License-Identifier: MIT
/*
 * The timeline above the flame graph: per strip, the weight sampled in
 * each of TL_BUCKETS columns of the recording's span (FlameScope's heat
 * map, one row per thread name), and the same per drawn frame for the
 * page's script, which redraws the flame graph for a range (a drag over
 * the strips, or ?t=START,STOP in seconds from the first sample).
 */
#include <inttypes.h>
#include <stdlib.h>
#include "write_svg_internal.h"

/* The strip (top-level frame: a comm) of drawn flame node @fn. */
static unsigned strip_of(const struct svg *g, uint32_t fn)
{
	uint32_t top = fn;
	unsigned row = 0;

	while (top && g->nodes[top].parent)
		top = g->nodes[top].parent;
	for (uint32_t c = g->nodes[0].first_child; c && c != top; c = g->nodes[c].next_sibling)
		row++;
	return MIN(row, g->tl_rows - 1);
}

struct tl_cell {
	uint32_t frame, bucket; /* drawn index, column */
	double w;
};

static int cmp_cells(const void *a, const void *b)
{
	const struct tl_cell *x = a, *y = b;

	if (x->frame != y->frame)
		return x->frame < y->frame ? -1 : 1;
	return x->bucket < y->bucket ? -1 : x->bucket > y->bucket;
}

int pyperf_svg_timeline(struct svg *g, struct pp_out *o)
{
	size_t nr = 0, nr_cells = 0, cells_cap = 0;
	struct tl_cell *cells = NULL;
	const struct pyperf_sample_run *runs = pyperf_profile__timeline(g->p, &nr);
	uint64_t t0 = UINT64_MAX, t1 = 0, *strip = NULL, max = 0;
	double span, x0 = PAD_X, cw = (g->o.width - 2.0 * PAD_X) / TL_BUCKETS;
	bool first = true;
	int ret = -ENOMEM;

	for (size_t i = 0; i < nr; i++) {
		t0 = MIN(t0, runs[i].start);
		t1 = MAX(t1, runs[i].end);
	}
	if (!nr || t1 <= t0)
		return 0;
	span = (double)(t1 - t0) + 1;
	strip = pp_calloc((size_t)g->tl_rows * TL_BUCKETS, sizeof(*strip));
	if (!strip)
		goto out;
	for (size_t i = 0; i < nr; i++) {
		const struct pyperf_sample_run *r = &runs[i];
		uint32_t fn = r->node < pyperf_profile__nr_nodes(g->p) ? g->flame_of[r->node] : 0;
		double weight = g->o.period ? (double)r->period : (double)r->samples;
		size_t b0 = (size_t)((double)(r->start - t0) / span * TL_BUCKETS),
		       b1 = (size_t)((double)(r->end - t0) / span * TL_BUCKETS);

		/* the nearest frame drawn (cut or too narrow ones are not) */
		while (fn && !g->drawn[fn])
			fn = g->nodes[fn].parent;
		if (!fn)
			continue;
		/* a run's samples spread evenly over the columns it spans */
		for (size_t b = b0; b <= b1 && b < TL_BUCKETS; b++) {
			double part = weight / (double)(b1 - b0 + 1);

			/* one cell per run and column, merged once sorted: a
			 * dense frames x columns table would be far larger */
			if (PP_GROW(cells, cells_cap, nr_cells + 1))
				goto out;
			cells[nr_cells++] = (struct tl_cell){g->drawn[fn] - 1, (uint32_t)b, part};
			strip[strip_of(g, fn) * TL_BUCKETS + b] += (uint64_t)(part + 0.5);
		}
	}
	for (size_t i = 0; i < (size_t)g->tl_rows * TL_BUCKETS; i++)
		max = MAX(max, strip[i]);
	fprintf(g->out,
		"<g id=\"timeline\" data-t0=\"%" PRIu64 "\" data-t1=\"%" PRIu64
		"\" data-buckets=\"%d\" data-x=\"%.2f\" data-cw=\"%.4f\" data-min=\"%.3f\">\n"
		"<text x=\"%d\" y=\"%u\" class=\"small\">Time (%.3f s; drag to select a "
		"range)</text>\n",
		t0, t1, TL_BUCKETS, x0, cw, g->o.min_width, PAD_X, PAD_TOP + 2,
		(double)(t1 - t0) / 1e9);
	pp_out_init(o, g->out);
	for (unsigned row = 0; row < g->tl_rows; row++) {
		double y = PAD_TOP + 6 + row * TL_ROW_H;

		for (unsigned b = 0; b < TL_BUCKETS; b++) {
			uint64_t v = strip[row * TL_BUCKETS + b];

			pp_out_lit(o, "<rect class=\"cell\" x=\"");
			pp_out_fixed(o, x0 + b * cw, 2);
			pp_out_lit(o, "\" y=\"");
			pp_out_fixed(o, y, 1);
			pp_out_lit(o, "\" width=\"");
			pp_out_fixed(o, cw, 2);
			pp_out_lit(o, "\" height=\"");
			pp_out_int(o, TL_ROW_H - 2);
			pp_out_lit(o, "\" data-v=\"");
			pp_out_int(o, (int64_t)v);
			/* FlameScope's reds, darker with more samples */
			pp_out_lit(o, "\" fill=\"rgb(");
			pp_out_int(o, v ? 255 : 238);
			pp_out_lit(o, ",");
			pp_out_int(o, v ? 235 - (int64_t)(200 * v / (max ? max : 1)) : 238);
			pp_out_lit(o, ",");
			pp_out_int(o, v ? 215 - (int64_t)(200 * v / (max ? max : 1)) : 238);
			pp_out_lit(o, ")\"/>\n");
		}
	}
	pp_out_lit(o, "<rect id=\"tlsel\" class=\"hide\" y=\"");
	pp_out_int(o, PAD_TOP + 4);
	pp_out_lit(o, "\" height=\"");
	pp_out_int(o, g->tl_rows * TL_ROW_H + 2);
	pp_out_lit(o, "\" fill=\"rgba(0,0,160,0.18)\" stroke=\"#225\"/>\n");
	/* per drawn frame, in drawing order: its drawn parent and its own
	 * weight per column, as "frame:column=weight" */
	pp_out_lit(o, "<desc id=\"tldata\">");
	if (nr_cells)
		qsort(cells, nr_cells, sizeof(*cells), cmp_cells);
	for (size_t i = 0; i < nr_cells;) {
		size_t j = i;
		double v = 0;

		for (; j < nr_cells && !cmp_cells(&cells[i], &cells[j]); j++)
			v += cells[j].w;
		if (!first)
			pp_out_lit(o, " ");
		first = false;
		pp_out_int(o, cells[i].frame);
		pp_out_lit(o, ":");
		pp_out_int(o, cells[i].bucket);
		pp_out_lit(o, "=");
		pp_out_fixed(o, v, 2);
		i = j;
	}
	pp_out_lit(o, "</desc>\n<desc id=\"tlparent\">");
	{
		/* drawing order is depth first: parents come first */
		uint32_t *parent_of = pp_calloc(g->nr_drawn + 1, sizeof(*parent_of));

		if (!parent_of)
			goto out;
		for (size_t n = 0; n < g->nr_nodes; n++)
			if (g->drawn[n])
				parent_of[g->drawn[n] - 1] =
				    n ? g->drawn[g->nodes[n].parent] : 0; /* index + 1, 0: none */
		for (size_t i = 0; i < g->nr_drawn; i++) {
			if (i)
				pp_out_lit(o, " ");
			pp_out_int(o, (int64_t)parent_of[i] - 1);
		}
		free(parent_of);
	}
	pp_out_lit(o, "</desc>\n</g>\n");
	ret = 0;
out:
	free(cells);
	free(strip);
	return ret;
}
