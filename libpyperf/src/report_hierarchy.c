// SPDX-License-Identifier: MIT
/*
 * The hierarchical report (perf report --hierarchy): one level per sort
 * key, entries grouped under each level's values.
 */
#include "report_internal.h"

/* ---- hierarchy ------------------------------------------------------------------------------ */

struct hentry {
	struct key key;
	const struct entry *rep; /* representative (gives names) */
	uint64_t period, samples;
	size_t first, count; /* range in the level's sorted entries */
};

static void level_label(struct report *w, const struct hentry *h, enum pyperf_sort_key k, char *buf,
			size_t size)
{
	switch (k) {
	case PYPERF_SORT_COMM:
		snprintf(buf, size, "%-*s", (int)w->w_comm, h->rep->thread->name);
		break;
	case PYPERF_SORT_PID:
	case PYPERF_SORT_TID:
		snprintf(buf, size, "%7d:%-*s", h->rep->thread->tid, (int)(w->w_thread - 8),
			 h->rep->thread->name);
		break;
	case PYPERF_SORT_DSO:
		snprintf(buf, size, "%-*s", (int)w->w_dso, pyperf_report_dso_text(h->rep));
		break;
	case PYPERF_SORT_SYM:
		pyperf_report_sym_text(h->rep, buf, size);
		break;
	case PYPERF_SORT_SAMPLE:
		snprintf(buf, size, "%" PRIu64, h->samples);
		break;
	}
}

static const char *key_header(enum pyperf_sort_key k)
{
	switch (k) {
	case PYPERF_SORT_COMM:
		return "Command";
	case PYPERF_SORT_PID:
		return "Pid:Command";
	case PYPERF_SORT_TID:
		return "Tid:Command";
	case PYPERF_SORT_DSO:
		return "Shared Object";
	case PYPERF_SORT_SYM:
		return "Symbol";
	case PYPERF_SORT_SAMPLE:
		return "Samples";
	}
	return "";
}

static size_t key_width(const struct report *w, enum pyperf_sort_key k)
{
	switch (k) {
	case PYPERF_SORT_COMM:
		return w->w_comm;
	case PYPERF_SORT_PID:
	case PYPERF_SORT_TID:
		return w->w_thread;
	case PYPERF_SORT_DSO:
		return w->w_dso;
	case PYPERF_SORT_SYM:
		return w->w_sym;
	case PYPERF_SORT_SAMPLE:
		return 12;
	}
	return 0;
}

/* cmp_hentries()'s context: the writer and the level being sorted */
struct hsort {
	const struct report *w;
	size_t level;
};

static int cmp_hentries(const void *pa, const void *pb, void *ctx)
{
	const struct hsort *hc = ctx;
	const struct report *hsort_w = hc->w;
	size_t hsort_level = hc->level;
	const struct hentry *a = pa, *b = pb;
	enum pyperf_sort_key k = hsort_w->keys[hsort_level];

	if (a->period != b->period)
		return a->period > b->period ? -1 : 1;
	if (k == PYPERF_SORT_SYM && a->key.has_sym && b->key.has_sym) {
		int c = strcmp(a->rep->frame->sym->name, b->rep->frame->sym->name);

		if (c)
			return c;
	}
	return pyperf_report_key_cmp(hsort_w, &a->key, &b->key, hsort_level + 1);
}

/* Entries are sorted by keys; group those of [first, first+count) at @level. */
static void print_hier_level(struct report *w, struct entry **ents, size_t first, size_t count,
			     size_t level)
{
	struct hentry *hs = NULL;
	size_t nh = 0, caph = 0;
	char label[2048];
	int pad = (int)(w->nr_keys + 1 - 2) * HIERARCHY_INDENT;

	for (size_t i = first; i < first + count; i++) {
		struct key k;

		pyperf_report_make_key(w, ents[i]->thread, ents[i]->frame, level + 1, &k);
		if (!nh || memcmp(&hs[nh - 1].key, &k, sizeof(k))) {
			if (PP_GROW(hs, caph, nh + 1)) {
				w->err = -ENOMEM;
				return;
			}
			hs[nh] = (struct hentry){k, ents[i], 0, 0, i, 0};
			nh++;
		}
		hs[nh - 1].period += ents[i]->period;
		hs[nh - 1].samples += ents[i]->samples;
		hs[nh - 1].count++;
	}
	struct hsort hc = {w, level};
	qsort_r(hs, nh, sizeof(*hs), cmp_hentries, &hc);
	size_t shown = 0;
	for (size_t i = 0; i < nh && !w->err; i++) {
		double p = pct(hs[i].period, w->total_period);

		if (p < w->o.percent_limit)
			continue;
		shown++;
		pyperf_report_mark_rows(w, PYPERF_ROW_ENTRY, (unsigned)level,
					(unsigned)(level * HIERARCHY_INDENT), hs[i].rep, p);
		fprintf(w->out, "%*s  ", (int)(level * HIERARCHY_INDENT), "");
		snprintf(label, sizeof(label), "%.2f%%", p);
		fprintf(w->out, "%8s%*s", label, pad, "");
		level_label(w, &hs[i], w->keys[level], label, sizeof(label));
		fprintf(w->out, "  %s\n", label);
		if (level + 1 < w->nr_keys) {
			print_hier_level(w, ents, hs[i].first, hs[i].count, level + 1);
		} else {
			pyperf_report_mark_rows(w, PYPERF_ROW_GRAPH, (unsigned)level + 1, 0,
						hs[i].rep, p);
			/* A leaf: one entry or several merged (sample key). */
			if (hs[i].count == 1) {
				pyperf_report_print_callchain(w, ents[hs[i].first], hs[i].period);
			} else {
				struct entry merged = *ents[hs[i].first];
				size_t total_nodes = 0;

				for (size_t k = 0; k < hs[i].count; k++)
					total_nodes += ents[hs[i].first + k]->nr_self;
				merged.self_nodes = pp_calloc(total_nodes + 1, sizeof(uint32_t));
				merged.nr_self = 0;
				merged.nr_roots = 0;
				if (!merged.self_nodes) {
					w->err = -ENOMEM;
					break;
				}
				for (size_t k = 0; k < hs[i].count; k++) {
					const struct entry *e = ents[hs[i].first + k];

					memcpy(merged.self_nodes + merged.nr_self, e->self_nodes,
					       e->nr_self * sizeof(uint32_t));
					merged.nr_self += e->nr_self;
				}
				merged.period = hs[i].period;
				pyperf_report_print_callchain(w, &merged, hs[i].period);
				free(merged.self_nodes);
			}
		}
	}
	if (nh && !shown) {
		pyperf_report_mark_rows(w, PYPERF_ROW_NOTE, (unsigned)level + 1, 0, NULL, 0);
		fprintf(w->out, "%*s%*sno entry >= %.2f%%\n", (int)((level + 1) * HIERARCHY_INDENT),
			"", 12, "", w->o.percent_limit);
	}
	free(hs);
}

static int cmp_by_keys(const void *pa, const void *pb, void *ctx)
{
	const struct report *sort_w = ctx;
	const struct entry *a = *(struct entry *const *)pa, *b = *(struct entry *const *)pb;

	return pyperf_report_key_cmp(sort_w, &a->key, &b->key, sort_w->nr_keys);
}

void pyperf_report_print_hierarchy(struct report *w, struct entry **sorted, size_t n)
{
	size_t header_width = 0, indent = (w->nr_keys + 1 - 2) * HIERARCHY_INDENT;

	pyperf_report_mark_rows(w, PYPERF_ROW_COLUMNS, 0, 0, NULL, 0);
	fprintf(w->out, "# %*s%8s  ", (int)indent, "", "Overhead");
	for (size_t i = 0; i < w->nr_keys; i++) {
		if (i)
			header_width += (size_t)fprintf(w->out, " / ");
		header_width += (size_t)fprintf(w->out, "%s", key_header(w->keys[i]));
	}
	fputs("\n# ", w->out);
	for (size_t k = 0; k < indent + 8; k++)
		fputc('.', w->out);
	for (size_t i = 0; i < w->nr_keys; i++)
		header_width = MAX(header_width, i * HIERARCHY_INDENT + key_width(w, w->keys[i]));
	fputs("  ", w->out);
	for (size_t k = 0; k < header_width; k++)
		fputc('.', w->out);
	fputs("\n#\n", w->out);
	qsort_r(sorted, n, sizeof(*sorted), cmp_by_keys, w);
	print_hier_level(w, sorted, 0, n, 0);
}
