// SPDX-License-Identifier: MIT
/*
 * The flame graph's frames drawn: one <g> per frame wide enough (rect,
 * hover text, the label that fits), depth first, each at its x.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "write_svg_internal.h"

/* Writes @s escaped for XML text and attributes; control bytes become '?'. */
void pyperf_svg_xml_escape(struct pp_out *o, const char *s, size_t n)
{
	size_t run = 0; /* bytes passed through since the last escape */

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		const char *rep;

		switch (c) {
		case '&':
			rep = "&amp;";
			break;
		case '<':
			rep = "&lt;";
			break;
		case '>':
			rep = "&gt;";
			break;
		case '"':
			rep = "&quot;";
			break;
		case '\'':
			rep = "&apos;";
			break;
		default:
			if (c >= 0x20 && c != 0x7f) {
				run++;
				continue;
			}
			rep = "?";
		}
		pp_out_raw(o, s + i - run, run);
		run = 0;
		pp_out_str(o, rep);
	}
	pp_out_raw(o, s + n - run, run);
}

/* Characters (not bytes) of UTF-8 @s. */
size_t pyperf_svg_utf8_chars(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

/* Bytes of the first @chars characters of UTF-8 @s. */
size_t pyperf_svg_utf8_prefix(const char *s, size_t chars)
{
	size_t i = 0;

	while (s[i] && chars) {
		i++;
		while (((unsigned char)s[i] & 0xc0) == 0x80)
			i++;
		chars--;
	}
	return i;
}

/* The label that fits @width pixels, as the script computes it too. */
static void fitted_text(struct pp_out *o, const char *name, double width)
{
	long fit = (long)((width - 6) / (FONT_SIZE * FONT_W));
	size_t len;

	if (fit < 3)
		return;
	len = pyperf_svg_utf8_chars(name);
	if ((size_t)fit >= len) {
		pyperf_svg_xml_escape(o, name, strlen(name));
		return;
	}
	pyperf_svg_xml_escape(o, name, pyperf_svg_utf8_prefix(name, (size_t)fit - 2));
	pp_out_lit(o, "..");
}

/* Draws the frames wide enough, depth first, each at its x (in weight units). */
int pyperf_svg_draw(struct svg *g, struct pp_out *o, unsigned height)
{
	/* triples (node, depth, x start in weight units as two halves) */
	struct item {
		uint32_t node, depth;
		double x;
	} *st = NULL;
	size_t sp = 0, cap = 0;
	char fill[32];

	if (PP_GROW(st, cap, 1))
		return -ENOMEM;
	st[sp++] = (struct item){0, 0, 0};
	while (sp) {
		struct item it = st[--sp];
		const struct fnode *n = &g->nodes[it.node];
		double x = PAD_X + it.x * g->scale, w = n->lay * g->scale;
		double y = g->o.icicle ? PAD_TOP + g->tl_top + (double)it.depth * FRAME_H
				       : height - PAD_BOTTOM - (double)(it.depth + 1) * FRAME_H;
		double cx = it.x;
		bool gone = g->o.baseline && !n->total;

		if (g->drawn)
			g->drawn[it.node] = (uint32_t)++g->nr_drawn;
		/* a few hundred thousand of these: no printf */
		if (gone)
			snprintf(fill, sizeof(fill), "url(#gone)");
		else if (g->o.baseline)
			pyperf_svg_diff_colour(g, n, fill, sizeof(fill));
		else
			pyperf_svg_colour(n, fill, sizeof(fill));
		pp_out_lit(o, "<g class=\"");
		pp_out_str(o, pyperf_svg_kind_class(n->kind));
		/* a frame one side lacks */
		if (g->o.baseline && !n->btotal)
			pp_out_lit(o, " new");
		if (gone)
			pp_out_lit(o, " gone");
		if (g->o.baseline) {
			pp_out_lit(o, "\" data-d=\"");
			pp_out_fixed(o, pyperf_svg_self_delta(g, n), 4);
		}
		pp_out_lit(o, "\"><title>");
		pyperf_svg_xml_escape(o, n->name, strlen(n->name));
		pp_out_lit(o, " (");
		pp_out_int(o, (int64_t)n->total);
		pp_out_lit(o, " ");
		pp_out_str(o, g->unit);
		pp_out_lit(o, ", ");
		pp_out_fixed(o, g->total ? 100.0 * (double)n->total / (double)g->total : 0, 2);
		if (g->o.baseline) {
			double bs = g->btotal ? 100.0 * (double)n->btotal / (double)g->btotal : 0;
			double d = pyperf_svg_self_delta(g, n);

			pp_out_lit(o, "%; baseline ");
			pp_out_int(o, (int64_t)n->btotal);
			pp_out_lit(o, ", ");
			pp_out_fixed(o, bs, 2);
			pp_out_str(o, g->o.diff_absolute ? "%; self " : "%; self share ");
			pp_out_str(o, d >= 0 ? "+" : "-");
			pp_out_fixed(o, fabs(d), 2);
			if (!g->o.diff_absolute)
				pp_out_lit(o, " points");
			pp_out_str(o, !n->btotal ? "; new" : gone ? "; only in baseline" : "");
			pp_out_lit(o, ")</title><rect x=\"");
		} else {
			pp_out_lit(o, "%)</title><rect x=\"");
		}
		pp_out_fixed(o, x, 2);
		pp_out_lit(o, "\" y=\"");
		pp_out_fixed(o, y, 1);
		pp_out_lit(o, "\" width=\"");
		pp_out_fixed(o, w, 2);
		pp_out_lit(o, "\" height=\"");
		pp_out_int(o, FRAME_H - 1);
		pp_out_lit(o, "\" fill=\"");
		pp_out_str(o, fill);
		pp_out_lit(o, "\" rx=\"2\"/><text x=\"");
		pp_out_fixed(o, x + 3, 2);
		pp_out_lit(o, "\" y=\"");
		pp_out_fixed(o, y + FRAME_H - 5.5, 1);
		pp_out_lit(o, "\">");
		fitted_text(o, n->name, w);
		pp_out_lit(o, "</text></g>\n");
		/* Children from the parent's left edge; the self time is the gap
		 * they leave on the right. Pushed in reverse to draw in order. */
		{
			size_t first = sp;

			for (uint32_t c = n->first_child; c; c = g->nodes[c].next_sibling) {
				if (g->nodes[c].lay * g->scale >= g->o.min_width) {
					if (PP_GROW(st, cap, sp + 1)) {
						free(st);
						return -ENOMEM;
					}
					st[sp++] = (struct item){c, it.depth + 1, cx};
				}
				cx += g->nodes[c].lay;
			}
			for (size_t a = first, b = sp; b > a + 1; a++, b--) {
				struct item t = st[a];

				st[a] = st[b - 1];
				st[b - 1] = t;
			}
		}
	}
	free(st);
	return 0;
}

/* The deepest level with a frame wide enough to draw: 0, or -ENOMEM. */
int pyperf_svg_max_depth(struct svg *g, unsigned *deepest)
{
	unsigned *depth = pp_calloc(g->nr_nodes, sizeof(*depth)), best = 0;

	if (!depth)
		return -ENOMEM;
	for (size_t i = 1; i < g->nr_nodes; i++) {
		depth[i] = depth[g->nodes[i].parent] + 1;
		if (depth[i] > best && g->nodes[i].lay * g->scale >= g->o.min_width)
			best = depth[i];
	}
	free(depth);
	*deepest = best;
	return 0;
}
