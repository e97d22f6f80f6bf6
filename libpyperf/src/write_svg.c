// SPDX-License-Identifier: MIT
/*
 * The SVG flame graph. The profile's tree is re-merged the way a flame
 * graph from folded stacks would be: threads grouped by comm (or comm-pid,
 * comm-pid/tid), frames merged by name under the same parent, siblings in
 * name order. Layout happens here, in C; the embedded script only moves
 * what is drawn (zoom), colours matches (search) and shows details, so the
 * file opens fast in a browser however large the profile was.
 */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include "writer.h"

#define FRAME_H 16			/* pixels per level */
#define FONT_SIZE 12			/* pixels */
#define FONT_W 0.59			/* average glyph width, in font sizes (Verdana) */
#define PAD_X 10			/* left and right margins */
#define PAD_TOP (FONT_SIZE * 4)		/* title, subtitle and buttons */
#define TL_ROW_H 12			/* a thread's strip in the timeline */
#define TL_ROWS 8			/* strips at most (the rest in the last) */
#define TL_BUCKETS 200			/* columns of the timeline */
#define PAD_BOTTOM (FONT_SIZE * 2 + 10) /* the details line */
#define LEGEND_W 240			/* pixels */
#define STR_(x) #x
#define STR(x) STR_(x)
#define FONT_W_STR STR(FONT_W)
#define FONT_SIZE_STR STR(FONT_SIZE)

struct fnode {
	uint32_t parent, first_child, next_sibling;
	const char *name; /* interned: equal names are equal pointers */
	uint8_t kind;	  /* enum pyperf_frame_kind of the first frame merged */
	uint64_t self, total;
	uint64_t bself, btotal; /* the same in the baseline (differential graphs) */
	/* the width it takes, in units of weight: its total, and in a
	 * differential graph also the frames below it that only the baseline
	 * has, as wide as they were there (scaled to the new total) */
	double lay;
};

struct fslot {
	uint64_t key;
	uint32_t id; /* 0: empty (node 0 is the root, never a child) */
};

struct svg {
	struct pyperf_profile *p;
	struct pyperf_svg_opts o;
	struct pp_labels labels;
	struct pp_strtab names;
	struct fnode *nodes;
	size_t nr_nodes, cap_nodes;
	struct fslot *slots;
	size_t slots_cap;
	uint32_t *stack;
	size_t stack_cap;
	FILE *out;
	uint64_t total;
	double scale; /* pixels per unit of weight */
	unsigned max_depth;
	const char *unit;
	uint64_t btotal;  /* the baseline's total (differential graphs) */
	double max_delta; /* the largest |change| of a frame's self share */
	/* the timeline (opts.timeline): profile node -> flame node, flame
	 * node -> its index among the drawn frames + 1 */
	uint32_t *flame_of, *drawn;
	size_t nr_drawn;
	unsigned tl_rows, tl_top; /* strips drawn; pixels the timeline takes */
};

static bool fslot_hash(const void *slot, const void *ctx, uint64_t *hash)
{
	const struct fslot *s = slot;

	(void)ctx;
	*hash = hash_u64(s->key);
	return s->id != 0;
}

static int slots_grow(struct svg *g)
{
	return pp_table_grow((void **)&g->slots, &g->slots_cap, 4096, sizeof(*g->slots), fslot_hash,
			     NULL);
}

/* The child of @parent named @name (interned), created if new; 0 on ENOMEM. */
static uint32_t child(struct svg *g, uint32_t parent, const char *name, uint8_t kind)
{
	uint64_t key = hash_u64((uint64_t)parent) ^ (uint64_t)(uintptr_t)name;
	size_t j;

	if ((g->nr_nodes + 1) * 2 > g->slots_cap && slots_grow(g))
		return 0;
	for (j = pp_probe_start(hash_u64(key), g->slots_cap); g->slots[j].id;
	     j = pp_probe_next(j, g->slots_cap)) {
		struct fnode *n = &g->nodes[g->slots[j].id];

		if (g->slots[j].key == key && n->parent == parent && n->name == name)
			return g->slots[j].id;
	}
	if (PP_GROW(g->nodes, g->cap_nodes, g->nr_nodes + 1))
		return 0;
	g->nodes[g->nr_nodes] = (struct fnode){parent, 0, g->nodes[parent].first_child, name, kind};
	g->nodes[parent].first_child = (uint32_t)g->nr_nodes;
	g->slots[j] = (struct fslot){key, (uint32_t)g->nr_nodes};
	return (uint32_t)g->nr_nodes++;
}

/* Merges the subtree of profile thread node @thread under flame node @at. */
static int merge_thread(struct svg *g, struct pyperf_profile *p, struct pp_labels *labels,
			uint32_t thread, uint32_t at, uint64_t ev_total, bool base)
{
	/* pairs (profile node, flame node) */
	size_t sp = 0;

	if (PP_GROW(g->stack, g->stack_cap, 2))
		return -ENOMEM;
	g->stack[sp++] = thread;
	g->stack[sp++] = at;
	while (sp) {
		uint32_t fn = g->stack[--sp], pn = g->stack[--sp];
		const struct pyperf_node *n = pyperf_profile__node(p, pn);
		uint64_t w = g->o.period ? n->self_period : n->self_samples;

		if (base) {
			g->nodes[fn].bself += w;
		} else {
			g->nodes[fn].self += w;
			if (g->flame_of)
				g->flame_of[pn] = fn;
		}
		for (uint32_t c = n->first_child; c; c = pyperf_profile__node(p, c)->next_sibling) {
			const struct pyperf_node *cn = pyperf_profile__node(p, c);
			const char *label;
			uint32_t f;

			if (!pp_keep(cn->total_period, ev_total, g->o.percent_limit))
				continue;
			label = pp_label(labels, cn->frame);
			label = label ? pp_strtab_intern(&g->names, label, strlen(label)) : NULL;
			f = label ? child(g, fn, label,
					  (uint8_t)pyperf_profile__frame(p, cn->frame)->kind)
				  : 0;
			if (!f || PP_GROW(g->stack, g->stack_cap, sp + 2))
				return -ENOMEM;
			g->stack[sp++] = c;
			g->stack[sp++] = f;
		}
	}
	return 0;
}

static int cmp_names(const void *a, const void *b, void *ctx)
{
	const struct svg *sort_g = ctx;
	return strcmp(sort_g->nodes[*(const uint32_t *)a].name,
		      sort_g->nodes[*(const uint32_t *)b].name);
}

/* Totals, and siblings in name order as in a graph made from sorted folded stacks. */
static int finish(struct svg *g)
{
	uint32_t *kids = NULL;
	size_t cap = 0;

	for (size_t i = 0; i < g->nr_nodes; i++) {
		g->nodes[i].total = g->nodes[i].self;
		g->nodes[i].btotal = g->nodes[i].bself;
	}
	/* children are created after their parents: one backward pass */
	for (size_t i = g->nr_nodes; i-- > 1;) {
		g->nodes[g->nodes[i].parent].total += g->nodes[i].total;
		g->nodes[g->nodes[i].parent].btotal += g->nodes[i].btotal;
	}
	for (size_t i = 0; i < g->nr_nodes; i++) {
		size_t k = 0;

		for (uint32_t c = g->nodes[i].first_child; c; c = g->nodes[c].next_sibling) {
			if (PP_GROW(kids, cap, k + 1)) {
				free(kids);
				return -ENOMEM;
			}
			kids[k++] = c;
		}
		if (k < 2)
			continue;
		qsort_r(kids, k, sizeof(*kids), cmp_names, g);
		g->nodes[i].first_child = kids[0];
		for (size_t q = 0; q + 1 < k; q++)
			g->nodes[kids[q]].next_sibling = kids[q + 1];
		g->nodes[kids[k - 1]].next_sibling = 0;
	}
	free(kids);
	return 0;
}

/*
 * The widths frames take. A frame only the baseline has would be drawn
 * zero wide from the new profile's weights: it keeps the width it had
 * there (its share of the baseline's total applied to the new total, or
 * its count with absolute figures), and the frames above it widen by as
 * much, so what went away shows next to what is left.
 */
static void layout(struct svg *g)
{
	double f = 1;

	if (g->o.baseline && !g->o.diff_absolute && g->total && g->btotal)
		f = (double)g->total / (double)g->btotal;
	for (size_t i = 0; i < g->nr_nodes; i++) {
		struct fnode *n = &g->nodes[i];

		n->lay = g->o.baseline && !n->total ? (double)n->btotal * f : (double)n->self;
	}
	/* children come after their parents; a frame only the baseline has
	 * has its width already */
	for (size_t i = g->nr_nodes; i-- > 1;)
		if (g->nodes[g->nodes[i].parent].total)
			g->nodes[g->nodes[i].parent].lay += g->nodes[i].lay;
}

/* Writes @s escaped for XML text and attributes; control bytes become '?'. */
static void xml_escape(struct pp_out *o, const char *s, size_t n)
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
static size_t utf8_chars(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

/* Bytes of the first @chars characters of UTF-8 @s. */
static size_t utf8_prefix(const char *s, size_t chars)
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
	len = utf8_chars(name);
	if ((size_t)fit >= len) {
		xml_escape(o, name, strlen(name));
		return;
	}
	xml_escape(o, name, utf8_prefix(name, (size_t)fit - 2));
	pp_out_lit(o, "..");
}

/* The change of a frame's self weight: shares of each side's total in
 * percentage points, or (diff_absolute) units of weight. */
static double self_delta(const struct svg *g, const struct fnode *n)
{
	if (g->o.diff_absolute)
		return (double)n->self - (double)n->bself;
	return (g->total ? 100.0 * (double)n->self / (double)g->total : 0) -
	       (g->btotal ? 100.0 * (double)n->bself / (double)g->btotal : 0);
}

/* Differential graphs (flamegraph.pl's --diff colours): red where the
 * frame's own time grew, blue where it shrank, white where it held,
 * saturated by the change against the largest one. */
static void diff_colour(const struct svg *g, const struct fnode *n, char *buf, size_t size)
{
	double d = self_delta(g, n), s = g->max_delta > 0 ? fabs(d) / g->max_delta : 0;
	int v = 255 - (int)(200 * MIN(1.0, s));

	if (d > 0)
		snprintf(buf, size, "rgb(255,%d,%d)", v, v);
	else if (d < 0)
		snprintf(buf, size, "rgb(%d,%d,255)", v, v);
	else
		snprintf(buf, size, "rgb(250,250,250)");
}

static void colour(const struct fnode *n, char *buf, size_t size)
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

static const char *kind_class(uint8_t kind)
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

/* Draws the frames wide enough, depth first, each at its x (in weight units). */
static int draw(struct svg *g, struct pp_out *o, unsigned height)
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
			diff_colour(g, n, fill, sizeof(fill));
		else
			colour(n, fill, sizeof(fill));
		pp_out_lit(o, "<g class=\"");
		pp_out_str(o, kind_class(n->kind));
		/* a frame one side lacks */
		if (g->o.baseline && !n->btotal)
			pp_out_lit(o, " new");
		if (gone)
			pp_out_lit(o, " gone");
		if (g->o.baseline) {
			pp_out_lit(o, "\" data-d=\"");
			pp_out_fixed(o, self_delta(g, n), 4);
		}
		pp_out_lit(o, "\"><title>");
		xml_escape(o, n->name, strlen(n->name));
		pp_out_lit(o, " (");
		pp_out_int(o, (int64_t)n->total);
		pp_out_lit(o, " ");
		pp_out_str(o, g->unit);
		pp_out_lit(o, ", ");
		pp_out_fixed(o, g->total ? 100.0 * (double)n->total / (double)g->total : 0, 2);
		if (g->o.baseline) {
			double bs = g->btotal ? 100.0 * (double)n->btotal / (double)g->btotal : 0;
			double d = self_delta(g, n);

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
static int max_depth(struct svg *g, unsigned *deepest)
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

/* The page's script: zoom, search, details. Kept in one string so the
 * file needs nothing else; runs in any SVG-capable browser. */
static const char script[] =
    "'use strict';\n"
    "var svg, frames, details, matchedText, resetBtn, searchBtn, fullW, padX, searching = null;\n"
    "function init() {\n"
    "  svg = document.documentElement;\n"
    "  details = document.getElementById('details');\n"
    "  matchedText = document.getElementById('matched');\n"
    "  resetBtn = document.getElementById('reset');\n"
    "  searchBtn = document.getElementById('search');\n"
    "  padX = +svg.getAttribute('data-pad');\n"
    "  fullW = +svg.getAttribute('width') - 2 * padX;\n"
    "  frames = Array.prototype.slice.call(document.querySelectorAll('#frames > g'));\n"
    "  frames.forEach(function (g) {\n"
    "    var r = g.querySelector('rect'), t = g.querySelector('title').textContent;\n"
    "    g.x0 = +r.getAttribute('x'); g.w0 = +r.getAttribute('width');\n"
    "    g.y0 = +r.getAttribute('y'); g.fill0 = r.getAttribute('fill');\n"
    "    g.fname = t.substring(0, t.lastIndexOf(' ('));\n"
    "    g.addEventListener('mouseover', function () {\n"
    "      details.textContent = g.querySelector('title').textContent; });\n"
    "    g.addEventListener('mouseout', function () { details.textContent = ' '; });\n"
    "    g.addEventListener('click', function () { zoom(g); });\n"
    "  });\n"
    "  resetBtn.addEventListener('click', reset);\n"
    "  searchBtn.addEventListener('click', function () {\n"
    "    if (searching !== null) { clearSearch(); return; }\n"
    "    var term = prompt('Search for (regular expression):', '');\n"
    "    if (term) search(term);\n"
    "  });\n"
    "  document.addEventListener('keydown', function (e) {\n"
    "    if (e.key === 'Escape') reset();\n"
    "    else if ((e.ctrlKey || e.metaKey) && e.key === 'f') {\n"
    "      e.preventDefault(); var term = prompt('Search for (regular expression):', '');\n"
    "      if (term) search(term);\n"
    "    }\n"
    "  });\n"
    "  var q = new URLSearchParams(location.search);\n"
    "  if (q.get('f')) { var f = frames.filter(function (g) { return g.fname === q.get('f'); });\n"
    "    if (f.length) zoom(f[0]); }\n"
    "  if (q.get('s')) search(q.get('s'));\n"
    "  var ch = document.getElementById('changed');\n"
    "  if (ch) ch.addEventListener('click', function () {\n"
    "    if (searching !== null) clearSearch(); else changed(0.25); });\n"
    "  if (q.get('d')) changed(+q.get('d'));\n"
    "  initTimeline();\n"
    "  if (q.get('t')) { var tr = q.get('t').split(','); timeRange(+tr[0], +tr[1]); }\n"
    "  svg.setAttribute('data-ready', '1');\n"
    "}\n"
    "function fit(g, w) {\n"
    "  var text = g.querySelector('text'), n = Math.floor((w - 6) / (" FONT_W_STR
    " * " FONT_SIZE_STR "));\n"
    "  var chars = Array.from(g.fname);\n"
    "  text.textContent = n < 3 ? '' : chars.length <= n ? g.fname : chars.slice(0, n - "
    "2).join('') "
    "+ '..';\n"
    "}\n"
    "function place(g, x, w) {\n"
    "  var r = g.querySelector('rect');\n"
    "  r.setAttribute('x', x.toFixed(2)); r.setAttribute('width', w.toFixed(2));\n"
    "  g.querySelector('text').setAttribute('x', (x + 3).toFixed(2));\n"
    "  fit(g, w);\n"
    "}\n"
    "function isAncestor(g, z) { return svg.getAttribute('data-icicle') === '1' ? g.y0 < z.y0 : "
    "g.y0 > z.y0; }\n"
    "function zoom(z) {\n"
    "  var scale = fullW / z.w0, eps = 1e-6;\n"
    "  frames.forEach(function (g) {\n"
    "    g.classList.remove('hide', 'parent');\n"
    "    if (g.x0 + g.w0 <= z.x0 + eps || g.x0 >= z.x0 + z.w0 - eps) { g.classList.add('hide'); "
    "return; }\n"
    "    if (isAncestor(g, z)) { g.classList.add('parent'); place(g, padX, fullW); return; }\n"
    "    place(g, padX + (g.x0 - z.x0) * scale, g.w0 * scale);\n"
    "  });\n"
    "  resetBtn.classList.remove('hide');\n"
    "  svg.setAttribute('data-zoom', z.fname);\n"
    "}\n"
    "function reset() {\n"
    "  frames.forEach(function (g) { g.classList.remove('hide', 'parent'); place(g, g.x0, g.w0); "
    "});\n"
    "  resetBtn.classList.add('hide');\n"
    "  svg.removeAttribute('data-zoom');\n"
    "}\n"
    "function search(term) {\n"
    "  var re;\n"
    "  try { re = new RegExp(term); } catch (e) { matchedText.textContent = 'Bad expression'; "
    "return 0; }\n"
    "  return mark(function (g) { return re.test(g.fname); }, term);\n"
    "}\n"
    "function mark(hit, term) {\n"
    "  clearSearch(); searching = term;\n"
    "  var spans = [];\n"
    "  frames.forEach(function (g) {\n"
    "    if (!hit(g)) return;\n"
    "    g.classList.add('match');\n"
    "    g.querySelector('rect').setAttribute('fill', 'rgb(230,0,230)');\n"
    "    spans.push([g.x0, g.x0 + g.w0]);\n"
    "  });\n"
    "  spans.sort(function (a, b) { return a[0] - b[0] || b[1] - a[1]; });\n"
    "  var covered = 0, end = -Infinity;\n"
    "  spans.forEach(function (s) {\n"
    "    if (s[0] >= end) { covered += s[1] - s[0]; end = s[1]; }\n"
    "    else if (s[1] > end) { covered += s[1] - end; end = s[1]; }\n"
    "  });\n"
    "  var pct = fullW > 0 ? 100 * covered / fullW : 0;\n"
    "  matchedText.textContent = 'Matched: ' + pct.toFixed(1) + '%';\n"
    "  searchBtn.textContent = 'Reset Search';\n"
    "  svg.setAttribute('data-matches', spans.length);\n"
    "  return spans.length;\n"
    "}\n"
    "function changed(k) {\n"
    "  var max = 0;\n"
    "  frames.forEach(function (g) { max = Math.max(max, Math.abs(+g.getAttribute('data-d'))); "
    "});\n"
    "  return mark(function (g) { return max > 0 && Math.abs(+g.getAttribute('data-d')) >= k * "
    "max; }, 'changed');\n"
    "}\n"
    "var tl = null;\n"
    "function initTimeline() {\n"
    "  var g = document.getElementById('timeline'); if (!g) return;\n"
    "  tl = {t0: +g.getAttribute('data-t0'), t1: +g.getAttribute('data-t1'), n: "
    "+g.getAttribute('data-buckets'),\n"
    "    x: +g.getAttribute('data-x'), cw: +g.getAttribute('data-cw'), min: "
    "+g.getAttribute('data-min'), cells: [],\n"
    "    parent: document.getElementById('tlparent').textContent.split(' ').map(Number)};\n"
    "  frames.forEach(function () { tl.cells.push([]); });\n"
    "  document.getElementById('tldata').textContent.split(' ').forEach(function (c) {\n"
    "    if (!c) return; var a = c.split(/[:=]/); tl.cells[+a[0]].push([+a[1], +a[2]]); });\n"
    "  var down = null, sel = document.getElementById('tlsel');\n"
    "  function col(e) { var p = svg.createSVGPoint(); p.x = e.clientX; p.y = e.clientY;\n"
    "    p = p.matrixTransform(svg.getScreenCTM().inverse());\n"
    "    return Math.max(0, Math.min(tl.n - 1, Math.floor((p.x - tl.x) / tl.cw))); }\n"
    "  g.addEventListener('mousedown', function (e) { down = col(e); e.preventDefault(); });\n"
    "  g.addEventListener('mousemove', function (e) { if (down === null) return; var c = col(e);\n"
    "    showSel(Math.min(down, c), Math.max(down, c)); });\n"
    "  g.addEventListener('mouseup', function (e) { if (down === null) return; var c = col(e);\n"
    "    var a = Math.min(down, c), b = Math.max(down, c); down = null;\n"
    "    var s = (tl.t1 - tl.t0) / 1e9 / tl.n; timeRange(a * s, (b + 1) * s); });\n"
    "}\n"
    "function showSel(a, b) { var sel = document.getElementById('tlsel');\n"
    "  sel.setAttribute('x', (tl.x + a * tl.cw).toFixed(2)); sel.setAttribute('width', ((b - a + "
    "1) * "
    "tl.cw).toFixed(2));\n"
    "  sel.classList.remove('hide'); }\n"
    "function timeRange(start, stop) {\n"
    "  if (!tl) return 0;\n"
    "  var s = (tl.t1 - tl.t0) / 1e9 / tl.n, a = Math.max(0, Math.floor(start / s + 1e-9)),\n"
    "      b = Math.min(tl.n - 1, Math.ceil(stop / s - 1e-9) - 1);\n"
    "  if (b < a) b = a;\n"
    "  var tot = frames.map(function (g, i) { var v = 0; tl.cells[i].forEach(function (c) {\n"
    "    if (c[0] >= a && c[0] <= b) v += c[1]; }); return v; });\n"
    "  for (var i = frames.length - 1; i > 0; i--) if (tl.parent[i] >= 0) tot[tl.parent[i]] += "
    "tot[i];\n"
    "  var cursor = frames.map(function (g) { return 0; }), scale = tot[0] > 0 ? fullW / tot[0] : "
    "0;\n"
    "  reset();\n"
    "  frames.forEach(function (g, i) {\n"
    "    var p = tl.parent[i], x = p < 0 ? padX : frames[p].x0 + cursor[p], w = tot[i] * scale;\n"
    "    if (p >= 0) cursor[p] += w;\n"
    "    g.x0 = x; g.w0 = w; g.classList.toggle('hide', w < tl.min || (p >= 0 && "
    "frames[p].classList.contains('hide')));\n"
    "    place(g, x, w);\n"
    "    var ti = g.querySelector('title');\n"
    "    ti.textContent = ti.textContent.replace(/\\((\\d+) (\\S+), [0-9.]+%\\)$/, function (m, n, "
    "u) {\n"
    "      return '(' + Math.round(tot[i]) + ' ' + u + ', ' + (tot[0] > 0 ? 100 * tot[i] / tot[0] "
    ": "
    "0).toFixed(2) + '%)'; });\n"
    "  });\n"
    "  showSel(a, b);\n"
    "  svg.setAttribute('data-range', (a * s).toFixed(3) + ',' + ((b + 1) * s).toFixed(3));\n"
    "  return tot[0];\n"
    "}\n"
    "function clearSearch() {\n"
    "  frames.forEach(function (g) { g.classList.remove('match'); "
    "g.querySelector('rect').setAttribute('fill', g.fill0); });\n"
    "  searching = null; matchedText.textContent = ' '; searchBtn.textContent = 'Search';\n"
    "  svg.removeAttribute('data-matches');\n"
    "}\n"
    "window.pyperf = {search: search, changed: changed, timeRange: timeRange, clearSearch: "
    "clearSearch, zoom: "
    "function (name) {\n"
    "  var f = frames.filter(function (g) { return g.fname === name; }); if (f.length) "
    "zoom(f[0]);\n"
    "  return f.length; }, reset: reset};\n"
    "window.addEventListener('load', init);\n";

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
static double legend_width(const struct svg *g)
{
	double w = 0;

	if (!g->o.baseline)
		return LEGEND_W;
	for (const struct legend_key *k = legend_changes; k->name; k++)
		w += 22 + strlen(k->name) * FONT_SIZE * FONT_W;
	return MAX(w, LEGEND_W);
}

static void legend(struct svg *g, double x, double y)
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

/*
 * The timeline above the flame graph: per strip, the weight sampled in
 * each of TL_BUCKETS columns of the recording's span (FlameScope's heat
 * map, one row per thread name), and the same per drawn frame for the
 * page's script, which redraws the flame graph for a range (a drag over
 * the strips, or ?t=START,STOP in seconds from the first sample).
 */
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

static int timeline(struct svg *g, struct pp_out *o)
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
	if (max_depth(g, &g->max_depth))
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
		FONT_SIZE + 5, FONT_SIZE - 2, FONT_SIZE, script);
	pp_out_init(o, g->out);
	pp_out_lit(o, "<text id=\"title\" x=\"");
	pp_out_fixed(o, width / 2.0, 1);
	pp_out_lit(o, "\" y=\"");
	pp_out_int(o, FONT_SIZE * 2);
	pp_out_lit(o, "\">");
	xml_escape(o, title, strlen(title));
	pp_out_lit(o, "</text>\n<text id=\"subtitle\" x=\"");
	pp_out_fixed(o, width / 2.0, 1);
	pp_out_lit(o, "\" y=\"");
	pp_out_int(o, FONT_SIZE * 3 + 2);
	pp_out_lit(o, "\">");
	{
		/* the command line, cut to leave room for the legend on the right */
		char sub[4096];
		size_t room =
		    (size_t)MAX(0.0, (width - 2.0 * legend_width(g)) / ((FONT_SIZE - 2) * FONT_W));
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
		if (utf8_chars(sub) > room && room > 3) {
			xml_escape(o, sub, utf8_prefix(sub, room - 3));
			pp_out_lit(o, "...");
		} else {
			xml_escape(o, sub, strlen(sub));
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
	legend(g, width - PAD_X - legend_width(g), FONT_SIZE * 3 + 2);
	fputs("<g id=\"frames\">\n", g->out);
	if (draw(g, o, height))
		return -ENOMEM;
	if (pp_out_finish(o))
		return -EIO;
	fputs("</g>\n", g->out);
	if (g->tl_rows && timeline(g, o))
		return -ENOMEM;
	if (pp_out_finish(o))
		return -EIO;
	fputs("</svg>\n", g->out);
	return ferror(g->out) ? -EIO : 0;
}

/* Merges the first event of @p into the graph (@base: as the baseline). */
static int merge_profile(struct svg *g, struct pyperf_profile *p, struct pp_labels *labels,
			 bool base)
{
	uint32_t ev = pp_first_event_node(p);

	if (ev) {
		const struct pyperf_node *en = pyperf_profile__node(p, ev);
		const char *evname = pp_label(labels, en->frame);

		if (!evname)
			return -ENOMEM;
		if (g->o.period)
			g->unit = pp_event_in_ns(p, ev) ? "ns" : "events";
		for (uint32_t t = en->first_child; t;
		     t = pyperf_profile__node(p, t)->next_sibling) {
			const struct pyperf_node *tn = pyperf_profile__node(p, t);
			const struct pyperf_frame *tf = pyperf_profile__frame(p, tn->frame);
			const char *comm = pp_label(labels, tn->frame), *name;
			char buf[512];
			uint32_t at;

			if (!pp_keep(tn->total_period, en->total_period, g->o.percent_limit))
				continue;
			if (!comm)
				return -ENOMEM;
			if (g->o.tid)
				snprintf(buf, sizeof(buf), "%s-%d/%d", comm, tf->pid, tf->tid);
			else if (g->o.pid)
				snprintf(buf, sizeof(buf), "%s-%d", comm, tf->pid);
			else
				snprintf(buf, sizeof(buf), "%s", comm);
			name = pp_strtab_intern(&g->names, buf, strlen(buf));
			at = name ? child(g, 0, name, PYPERF_FRAME_THREAD) : 0;
			if (!at || merge_thread(g, p, labels, t, at, en->total_period, base))
				return -ENOMEM;
		}
	}
	return 0;
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
	if (merge_profile(&g, p, &g.labels, false))
		goto out;
	if (g.o.baseline) {
		pyperf_profile__finish(g.o.baseline);
		if (pp_labels_init(&blabels, g.o.baseline))
			goto out;
		blabels_init = true;
		if (merge_profile(&g, g.o.baseline, &blabels, true))
			goto out;
	}
	if (finish(&g))
		goto out;
	if (g.flame_of && !(g.drawn = pp_calloc(g.nr_nodes + 1, sizeof(*g.drawn))))
		goto out;
	g.total = g.nodes[0].total;
	g.btotal = g.nodes[0].btotal;
	for (size_t i = 1; g.o.baseline && i < g.nr_nodes; i++)
		g.max_delta = MAX(g.max_delta, fabs(self_delta(&g, &g.nodes[i])));
	layout(&g);
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
