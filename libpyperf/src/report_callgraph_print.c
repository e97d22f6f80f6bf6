// SPDX-License-Identifier: MIT
/*
 * Printing call graphs as ui/stdio/hist.c does (graph, fractal, flat,
 * folded), and the flat report: each entry's line with its call graph.
 */
#include "report_internal.h"

static const char *frame_label(const struct report *w, uint32_t frame)
{
	return pyperf_profile__frame(w->p, frame)->name;
}

static void margin(struct report *w, int left)
{
	fprintf(w->out, "            %*s", left, "");
}

static void graph_line(struct report *w, int depth, uint64_t mask, int left)
{
	margin(w, left);
	for (int i = 0; i < depth; i++)
		fputs((mask & (1ULL << i)) ? "|          " : "           ", w->out);
	fputc('\n', w->out);
}

static void print_value(struct report *w, uint64_t v, uint64_t total)
{
	fprintf(w->out, "%.2f%%", pct(v, total));
}

static void entry_line(struct report *w, uint32_t cn, uint32_t frame, int depth, uint64_t mask,
		       bool first, uint64_t total, int left)
{
	margin(w, left);
	for (int i = 0; i < depth; i++) {
		fputc((mask & (1ULL << i)) ? '|' : ' ', w->out);
		if (first && i == depth - 1) {
			fputs("--", w->out);
			print_value(w, w->cn[cn].cumul, total);
			fputs("--", w->out);
		} else {
			fputs("          ", w->out);
		}
	}
	fprintf(w->out, "%s\n", frame_label(w, frame));
}

/*
 * Equal weights: perf lists such siblings in the reverse order of its
 * match key (dso, then symbol start or address). Its dsos compare by
 * address, which follows their creation order; ours do by creation index.
 */
static int tie_order(const struct report *w, uint32_t fa, uint32_t fb)
{
	const struct pyperf_frame *a = pyperf_profile__frame(w->p, fa);
	const struct pyperf_frame *b = pyperf_profile__frame(w->p, fb);
	int64_t da = a->dso && a->dso->kind != PYPERF_DSO_UNKNOWN ? (int64_t)a->dso->index : -1;
	int64_t db = b->dso && b->dso->kind != PYPERF_DSO_UNKNOWN ? (int64_t)b->dso->index : -1;
	uint64_t ka = a->sym ? a->sym->start : a->ip, kb = b->sym ? b->sym->start : b->ip;

	/* inlined functions match by name there */
	if (a->sym && b->sym &&
	    (pyperf_symbol__is_inlined(a->sym) || pyperf_symbol__is_inlined(b->sym))) {
		size_t la = pyperf_report_bare_len(a), lb = pyperf_report_bare_len(b);
		int c = strncmp(a->name, b->name, MIN(la, lb));

		if (!c)
			c = (la > lb) - (la < lb);
		return c > 0 ? -1 : c < 0;
	}
	if (da != db)
		return da > db ? -1 : 1;
	if (ka != kb)
		return ka > kb ? -1 : 1;
	return 0;
}

static int cmp_cnodes(const void *a, const void *b, void *ctx)
{
	const struct report *gsort_w = ctx;
	const struct cnode *x = &gsort_w->cn[*(const uint32_t *)a];
	const struct cnode *y = &gsort_w->cn[*(const uint32_t *)b];

	if (x->cumul != y->cumul)
		return x->cumul > y->cumul ? -1 : 1;
	return tie_order(gsort_w, x->frame, y->frame);
}

/* Children of @cn worth printing, heaviest first, into a fresh array. */
static size_t sorted_children(struct report *w, uint32_t cn, uint64_t min_hit, uint32_t **out)
{
	size_t n = 0;
	uint32_t *v = pp_calloc(w->cn[cn].nr_children + 1, sizeof(*v));

	*out = v;
	if (!v) {
		w->err = -ENOMEM;
		return 0;
	}
	for (uint32_t c = w->cn[cn].first_child; c; c = w->cn[c].next_sibling)
		if (w->cn[c].cumul >= min_hit)
			v[n++] = c;
	qsort_r(v, n, sizeof(*v), cmp_cnodes, w);
	return n;
}

/* The run of frames a printed node stands for: it continues while a node
 * has one child and no chain ends in it. Returns the last node of the run. */
static uint32_t run_end(const struct report *w, uint32_t cn)
{
	while (w->cn[cn].nr_children == 1 && !w->cn[cn].hit)
		cn = w->cn[cn].first_child;
	return cn;
}

static void print_run(struct report *w, uint32_t start, uint32_t end, int depth, uint64_t mask,
		      uint64_t total, int left)
{
	bool first = true;

	for (uint32_t c = start;; c = w->cn[c].first_child) {
		entry_line(w, start, w->cn[c].frame, depth, mask, first, total, left);
		first = false;
		if (c == end)
			break;
	}
}

/* Fractal percentages are of the parent, and so is the limit: perf's
 * __sort_chain_graph_rel() keeps the children of a node that carry at
 * least MIN% of the hits below it, not MIN% of the whole profile. */
static uint64_t fractal_min_hit(const struct report *w, uint32_t cn)
{
	return (uint64_t)ceil((double)(w->cn[cn].cumul - w->cn[cn].hit) *
			      (w->o.callchain_min_percent / 100.0));
}

static bool print_graph_level(struct report *w, uint32_t parent_end, uint64_t total, int depth,
			      uint64_t depth_mask, int left, uint64_t min_hit)
{
	uint32_t *kids;
	size_t n;
	uint64_t new_mask = depth_mask;
	uint64_t remaining = total;

	if (w->o.callchain == PYPERF_CALLCHAIN_FRACTAL)
		min_hit = fractal_min_hit(w, parent_end);
	n = sorted_children(w, parent_end, min_hit, &kids);
	for (size_t i = 0; i < n && !w->err && depth < 63; i++) {
		uint32_t c = kids[i], end = run_end(w, c);
		uint64_t new_total;

		remaining -= w->cn[c].cumul;
		if (i + 1 == n && (w->o.callchain != PYPERF_CALLCHAIN_FRACTAL || !remaining))
			new_mask &= ~(1ULL << (depth - 1));
		graph_line(w, depth, depth_mask, left);
		print_run(w, c, end, depth, new_mask, total, left);
		new_total = w->o.callchain == PYPERF_CALLCHAIN_FRACTAL
				? w->cn[end].cumul - w->cn[end].hit
				: total;
		print_graph_level(w, end, new_total, depth + 1, new_mask | (1ULL << depth), left,
				  min_hit);
	}
	if (w->o.callchain == PYPERF_CALLCHAIN_FRACTAL && remaining && remaining != total && n) {
		new_mask &= ~(1ULL << (depth - 1));
		margin(w, left);
		for (int i = 0; i < depth; i++) {
			fputc((new_mask & (1ULL << i)) ? '|' : ' ', w->out);
			if (i == depth - 1) {
				fputs("--", w->out);
				print_value(w, remaining, total);
				fputs("--", w->out);
			} else {
				fputs("          ", w->out);
			}
		}
		fputs("[...]\n", w->out);
	}
	free(kids);
	return n > 0;
}

static void print_flat_path(struct report *w, uint32_t cn)
{
	if (!cn)
		return;
	print_flat_path(w, w->cn[cn].parent);
	fprintf(w->out, "                %s\n", frame_label(w, w->cn[cn].frame));
}

static void print_folded_path(struct report *w, uint32_t cn, bool *first)
{
	if (!cn)
		return;
	print_folded_path(w, w->cn[cn].parent, first);
	fprintf(w->out, "%s%s", *first ? "" : ";", frame_label(w, w->cn[cn].frame));
	*first = false;
}

struct hit_ref {
	uint32_t node;
	uint32_t pos; /* post-order position: perf's tie order */
};

static int cmp_hits(const void *a, const void *b, void *ctx)
{
	const struct report *gsort_w = ctx;
	const struct hit_ref *x = a, *y = b;
	uint64_t hx = gsort_w->cn[x->node].hit, hy = gsort_w->cn[y->node].hit;

	if (hx != hy)
		return hx > hy ? -1 : 1;
	return x->pos < y->pos ? -1 : x->pos > y->pos;
}

static int cmp_tie(const void *a, const void *b, void *ctx)
{
	const struct report *gsort_w = ctx;
	return tie_order(gsort_w, gsort_w->cn[*(const uint32_t *)a].frame,
			 gsort_w->cn[*(const uint32_t *)b].frame);
}

/* Post-order, siblings in perf's key order: where perf's flat sort meets
 * equal weights, this is the order it keeps. */
static void post_order(struct report *w, uint32_t cn, uint64_t min_hit, struct hit_ref *out,
		       size_t *n)
{
	uint32_t *kids = pp_calloc(w->cn[cn].nr_children + 1, sizeof(*kids));
	size_t k = 0;

	if (!kids) {
		w->err = -ENOMEM;
		return;
	}
	for (uint32_t c = w->cn[cn].first_child; c; c = w->cn[c].next_sibling)
		kids[k++] = c;
	qsort_r(kids, k, sizeof(*kids), cmp_tie, w);
	for (size_t i = 0; i < k; i++)
		post_order(w, kids[i], min_hit, out, n);
	free(kids);
	if (cn && w->cn[cn].hit && w->cn[cn].hit >= min_hit) {
		out[*n] = (struct hit_ref){cn, (uint32_t)*n};
		(*n)++;
	}
}

/* Flat and folded: one line (block) per chain end, by weight. */
static void print_chain_ends(struct report *w, uint64_t min_hit, bool folded)
{
	struct hit_ref *v = pp_calloc(w->nr_cn, sizeof(*v));
	size_t n = 0;

	if (!v) {
		w->err = -ENOMEM;
		return;
	}
	post_order(w, 0, min_hit, v, &n);
	qsort_r(v, n, sizeof(*v), cmp_hits, w);
	for (size_t i = 0; i < n; i++) {
		uint32_t c = v[i].node;

		if (folded) {
			bool first = true;

			print_value(w, w->cn[c].hit, w->total_period);
			fputc(' ', w->out);
			print_folded_path(w, c, &first);
			fputc('\n', w->out);
		} else {
			fputs("           ", w->out);
			print_value(w, w->cn[c].cumul, w->total_period);
			fputc('\n', w->out);
			print_flat_path(w, c);
			fputc('\n', w->out);
		}
	}
	free(v);
}

/* perf's callchain__fprintf_graph(). */
void pyperf_report_print_callchain(struct report *w, const struct entry *e, uint64_t parent_period)
{
	uint64_t min_hit =
	    (uint64_t)((double)w->total_period * (w->o.callchain_min_percent / 100.0));
	uint32_t *kids, start;
	size_t n;
	int left = 0;
	bool printed = false;

	if (w->o.callchain == PYPERF_CALLCHAIN_NONE)
		return;
	pyperf_report_build_graph(w, e);
	if (w->err)
		return;
	if (w->o.callchain == PYPERF_CALLCHAIN_FLAT || w->o.callchain == PYPERF_CALLCHAIN_FOLDED) {
		print_chain_ends(w, min_hit, w->o.callchain == PYPERF_CALLCHAIN_FOLDED);
		return;
	}
	start = 0;
	if (w->o.callchain == PYPERF_CALLCHAIN_FRACTAL)
		min_hit = fractal_min_hit(w, 0);
	n = sorted_children(w, 0, min_hit, &kids);
	/* One root carrying all of the entry: print it as a plain run. */
	if (n == 1 && w->cn[kids[0]].cumul == parent_period) {
		uint32_t c = kids[0], end = run_end(w, c);
		bool skip = w->skip_first_chain_entry;

		for (uint32_t x = c;; x = w->cn[x].first_child) {
			if (skip) {
				skip = false;
			} else if (!printed) {
				margin(w, left);
				fputs("|\n", w->out);
				margin(w, left);
				fprintf(w->out, "---%s\n", frame_label(w, w->cn[x].frame));
				left += 3;
				printed = true;
			} else {
				margin(w, left);
				fprintf(w->out, "%s\n", frame_label(w, w->cn[x].frame));
			}
			if (x == end)
				break;
		}
		start = end;
	}
	free(kids);
	if (print_graph_level(w, start,
			      w->o.callchain == PYPERF_CALLCHAIN_FRACTAL ? parent_period
									 : w->total_period,
			      1, 1, left, min_hit))
		printed = true;
	if (printed)
		fputc('\n', w->out);
}

/* ---- flat report ------------------------------------------------------------------------- */

void pyperf_report_print_flat(struct report *w, struct entry **sorted, size_t n)
{
	char buf[2048];

	/* column headers */
	pyperf_report_mark_rows(w, PYPERF_ROW_COLUMNS, 0, 0, NULL, 0);
	fputs("# ", w->out);
	for (size_t i = 0; i < w->nr_fields; i++) {
		const char *h = pyperf_report_field_header(w, w->fields[i]);
		size_t width = pyperf_report_field_width(w, w->fields[i]);
		bool right = w->fields[i] <= PYPERF_FIELD_PERIOD;

		if (i)
			fputs("  ", w->out);
		fprintf(w->out, right ? "%*s" : "%-*s", (int)width, h);
	}
	fputs("\n# ", w->out);
	for (size_t i = 0; i < w->nr_fields; i++) {
		size_t width = pyperf_report_field_width(w, w->fields[i]);

		if (i)
			fputs("  ", w->out);
		for (size_t k = 0; k < width; k++)
			fputc('.', w->out);
	}
	fputs("\n#\n", w->out);

	for (size_t i = 0; i < n && !w->err; i++) {
		const struct entry *e = sorted[i];
		double limit_pct = pct(w->children ? e->acc_period : e->period, w->total_period);

		if (limit_pct < w->o.percent_limit)
			continue;
		pyperf_report_mark_rows(w, PYPERF_ROW_ENTRY, 0, 0, e, limit_pct);
		for (size_t f = 0; f < w->nr_fields; f++) {
			fputs("  ", w->out);
			pyperf_report_field_text(w, e, w->fields[f], f + 1 == w->nr_fields, buf,
						 sizeof(buf));
			fputs(buf, w->out);
		}
		fputc('\n', w->out);
		pyperf_report_mark_rows(w, PYPERF_ROW_GRAPH, 1, 0, e, limit_pct);
		pyperf_report_print_callchain(w, e, w->children ? e->acc_period : e->period);
	}
}
