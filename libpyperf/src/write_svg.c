// SPDX-License-Identifier: MIT
/*
 * The SVG flame graph: the page (title, the command and range kept,
 * buttons, legend, frames, timeline, script) and the writer's entry. Its
 * parts: the tree and the widths frames take (write_svg_tree.c), the
 * frames drawn (write_svg_frames.c), their colours and the legend
 * (write_svg_colour.c), the timeline (write_svg_timeline.c), the page's
 * script (write_svg_script.c). Layout happens in C; the script only moves
 * what is drawn (zoom), colours matches (search) and shows details, so the
 * file opens fast in a browser however large the profile was.
 */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include "write_svg_internal.h"

static int write_svg(struct svg *g, struct pp_out *o)
{
	unsigned width = g->o.width, height;
	const char *cmd = pyperf_profile__command(g->p);
	const char *title = g->o.title	    ? g->o.title
			    : g->o.baseline ? "Differential Flame Graph"
			    : g->o.icicle   ? "Icicle Graph"
					    : "Flame Graph";

	g->scale = g->nodes[0].lay > 0 ? (double)(width - 2 * PAD_X) / g->nodes[0].lay : 0;
	if (g->flame_of) {
		size_t nr = 0;

		pyperf_profile__timeline(g->p, &nr);
		for (uint32_t c = g->nodes[0].first_child; nr && c; c = g->nodes[c].next_sibling)
			g->tl_rows++;
		g->tl_rows = MIN(g->tl_rows, TL_ROWS);
		g->tl_top = g->tl_rows ? g->tl_rows * TL_ROW_H + 12 : 0;
	}
	if (pyperf_svg_max_depth(g, &g->max_depth))
		return -ENOMEM;
	height = PAD_TOP + g->tl_top + PAD_BOTTOM + (g->max_depth + 1) * FRAME_H;
	fprintf(g->out,
		"<?xml version=\"1.0\" standalone=\"no\"?>\n"
		"<svg version=\"1.1\" width=\"%u\" height=\"%u\" viewBox=\"0 0 %u %u\" "
		"xmlns=\"http://www.w3.org/2000/svg\" data-pad=\"%d\" data-icicle=\"%d\">\n"
		"<!-- Flame graph written by pyperf-report %s. -->\n"
		"<style>\n"
		"text { font-family: Verdana, sans-serif; font-size: %dpx; fill: #000; }\n"
		"#title { text-anchor: middle; font-size: %dpx; }\n"
		".small, #subtitle { font-size: %dpx; fill: #444; }\n"
		"#subtitle { text-anchor: middle; }\n"
		"#search, #matched { text-anchor: end; }\n"
		"#reset, #search { cursor: pointer; fill: #225; }\n"
		"#frames > g { cursor: pointer; }\n"
		"#frames > g:hover > rect { stroke: #000; stroke-width: 0.5; }\n"
		"#frames text { pointer-events: none; font-size: %dpx; }\n"
		".hide { display: none; }\n"
		".parent { opacity: 0.5; }\n"
		".new > rect { stroke: #222; stroke-width: 0.8; stroke-dasharray: 2 1; }\n"
		"#changed { text-anchor: end; cursor: pointer; fill: #225; }\n"
		"</style>\n"
		"<script type=\"text/ecmascript\"><![CDATA[\n%s]]></script>\n"
		"<rect x=\"0\" y=\"0\" width=\"100%%\" height=\"100%%\" fill=\"#f6f6f2\"/>\n",
		width, height, width, height, PAD_X, g->o.icicle, PYPERF_VERSION_STRING, FONT_SIZE,
		FONT_SIZE + 5, FONT_SIZE - 2, FONT_SIZE, pyperf_svg_script);
	pp_out_init(o, g->out);
	pp_out_lit(o, "<text id=\"title\" x=\"");
	pp_out_fixed(o, width / 2.0, 1);
	pp_out_lit(o, "\" y=\"");
	pp_out_int(o, FONT_SIZE * 2);
	pp_out_lit(o, "\">");
	pyperf_svg_xml_escape(o, title, strlen(title));
	pp_out_lit(o, "</text>\n<text id=\"subtitle\" x=\"");
	pp_out_fixed(o, width / 2.0, 1);
	pp_out_lit(o, "\" y=\"");
	pp_out_int(o, FONT_SIZE * 3 + 2);
	pp_out_lit(o, "\">");
	{
		/* the command line, cut to leave room for the legend on the right */
		char sub[4096];
		size_t room = (size_t)MAX(0.0, (width - 2.0 * pyperf_svg_legend_width(g)) /
						   ((FONT_SIZE - 2) * FONT_W));
		const char *c = cmd ? pp_utf8_clean(&g->labels.arena, cmd, strlen(cmd)) : NULL;

		size_t nr_ranges;
		const struct pyperf_time_range *r = pyperf_profile__time_ranges(g->p, &nr_ranges);
		char when[256] = "";

		/* --time: which part of the recording this is */
		if (nr_ranges) {
			int n = snprintf(when, sizeof(when), "time ");

			pyperf_time_range__format(r, nr_ranges, when + n, sizeof(when) - (size_t)n);
			n = (int)strlen(when);
			snprintf(when + n, sizeof(when) - (size_t)n, " — ");
		}
		/* (first, as the end is what gets cut) */
		snprintf(sub, sizeof(sub), "%s%s%s%" PRIu64 " %s", when, c ? c : "", c ? " — " : "",
			 g->total, g->unit);
		if (pyperf_svg_utf8_chars(sub) > room && room > 3) {
			pyperf_svg_xml_escape(o, sub, pyperf_svg_utf8_prefix(sub, room - 3));
			pp_out_lit(o, "...");
		} else {
			pyperf_svg_xml_escape(o, sub, strlen(sub));
		}
	}
	pp_out_lit(o, "</text>\n");
	pp_out_finish(o); /* what follows goes to the FILE directly */
	fprintf(g->out,
		"<text id=\"reset\" class=\"hide\" x=\"%d\" y=\"%d\">Reset Zoom</text>\n"
		"<text id=\"search\" x=\"%d\" y=\"%d\">Search</text>\n"
		"<text id=\"details\" x=\"%d\" y=\"%d\"> </text>\n"
		"<text id=\"matched\" x=\"%d\" y=\"%d\"> </text>\n",
		PAD_X, FONT_SIZE * 2, width - PAD_X, FONT_SIZE * 2, PAD_X, height - FONT_SIZE,
		width - PAD_X, height - FONT_SIZE);
	if (g->o.baseline)
		fprintf(
		    g->out,
		    "<text id=\"changed\" x=\"%d\" y=\"%d\">Changed</text>\n"
		    /* frames only the baseline has: hatched in the colour of
		     * a shrink, outlined */
		    "<defs><pattern id=\"gone\" width=\"5\" height=\"5\" "
		    "patternUnits=\"userSpaceOnUse\" patternTransform=\"rotate(45)\">"
		    "<rect width=\"5\" height=\"5\" fill=\"rgb(225,228,255)\"/>"
		    "<rect width=\"2\" height=\"5\" fill=\"rgb(80,90,220)\"/></pattern></defs>\n"
		    "<style>.gone > rect { stroke: #336; stroke-width: 0.8; }\n"
		    ".gone text { font-style: italic; }</style>\n",
		    width - PAD_X - 80, FONT_SIZE * 2);
	pyperf_svg_legend(g, width - PAD_X - pyperf_svg_legend_width(g), FONT_SIZE * 3 + 2);
	fputs("<g id=\"frames\">\n", g->out);
	if (pyperf_svg_draw(g, o, height))
		return -ENOMEM;
	if (pp_out_finish(o))
		return -EIO;
	fputs("</g>\n", g->out);
	if (g->tl_rows && pyperf_svg_timeline(g, o))
		return -ENOMEM;
	if (pp_out_finish(o))
		return -EIO;
	fputs("</svg>\n", g->out);
	return ferror(g->out) ? -EIO : 0;
}

PYPERF_API int pyperf_profile__write_svg(struct pyperf_profile *p, FILE *out,
					 const struct pyperf_svg_opts *opts)
{
	PYPERF_OPTS(pyperf_svg_opts, defaults);
	struct svg g = {0};
	struct pp_labels blabels;
	bool blabels_init = false;
	int ret = -ENOMEM;

	if (!OPTS_VALID(opts, pyperf_svg_opts))
		return pyperf_err(-EINVAL);
	g.o = defaults;
	if (opts)
		memcpy(&g.o, opts, MIN(opts->sz, sizeof(g.o)));
	if (!g.o.width)
		g.o.width = 1200;
	if (g.o.min_width <= 0)
		g.o.min_width = 0.1;
	if (g.o.width < 4 * PAD_X || g.o.width > 1000000 || !isfinite(g.o.min_width))
		return pyperf_err(-EINVAL);
	pyperf_profile__finish(p);
	g.p = p;
	g.out = out;
	pp_strtab_init(&g.names);
	if (pp_labels_init(&g.labels, p))
		goto out;
	if (PP_GROW(g.nodes, g.cap_nodes, 1))
		goto out;
	g.nodes[0] = (struct fnode){0, 0, 0, "all", PYPERF_FRAME_EVENT};
	g.nr_nodes = 1;
	g.unit = "samples";
	if (g.o.timeline) {
		g.flame_of = pp_calloc(pyperf_profile__nr_nodes(p) + 1, sizeof(*g.flame_of));
		if (!g.flame_of)
			goto out;
	}
	if (pyperf_svg_merge_profile(&g, p, &g.labels, false))
		goto out;
	if (g.o.baseline) {
		pyperf_profile__finish(g.o.baseline);
		if (pp_labels_init(&blabels, g.o.baseline))
			goto out;
		blabels_init = true;
		if (pyperf_svg_merge_profile(&g, g.o.baseline, &blabels, true))
			goto out;
	}
	if (pyperf_svg_finish(&g))
		goto out;
	if (g.flame_of && !(g.drawn = pp_calloc(g.nr_nodes + 1, sizeof(*g.drawn))))
		goto out;
	g.total = g.nodes[0].total;
	g.btotal = g.nodes[0].btotal;
	for (size_t i = 1; g.o.baseline && i < g.nr_nodes; i++)
		g.max_delta = MAX(g.max_delta, fabs(pyperf_svg_self_delta(&g, &g.nodes[i])));
	pyperf_svg_layout(&g);
	{
		struct pp_out *o = pp_malloc(sizeof(*o));

		ret = o ? write_svg(&g, o) : -ENOMEM;
		free(o);
	}
out:
	free(g.nodes);
	free(g.flame_of);
	free(g.drawn);
	free(g.slots);
	free(g.stack);
	pp_labels_free(&g.labels);
	if (blabels_init)
		pp_labels_free(&blabels);
	pp_strtab_free(&g.names);
	return pyperf_err(pp_write_done(p, out, ret));
}
