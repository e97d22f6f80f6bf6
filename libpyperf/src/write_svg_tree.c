// SPDX-License-Identifier: MIT
/*
 * The SVG flame graph's tree: the profile re-merged the way a flame graph
 * from folded stacks would be (threads grouped by comm, or comm-pid,
 * comm-pid/tid; frames merged by name under the same parent; siblings in
 * name order), the baseline's weights beside the new ones, and the widths
 * frames take.
 */
#include <string.h>
#include <stdlib.h>
#include "write_svg_internal.h"

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
int pyperf_svg_finish(struct svg *g)
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
void pyperf_svg_layout(struct svg *g)
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

/* Merges the first event of @p into the graph (@base: as the baseline). */
int pyperf_svg_merge_profile(struct svg *g, struct pyperf_profile *p, struct pp_labels *labels,
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
