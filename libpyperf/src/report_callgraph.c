// SPDX-License-Identifier: MIT
/*
 * Call graphs of report entries, built as perf's callchain.c builds them:
 * the chains below (callee order) or above (caller order) an entry's
 * samples merged into a tree of frames, weights summed up the tree.
 */
#include "report_internal.h"

static bool cslot_hash(const void *slot, const void *ctx, uint64_t *hash)
{
	const struct node_slot_c *s = slot;

	*hash = hash_u64(s->key);
	return s->gen == *(const uint32_t *)ctx; /* zero (new) slots: never the generation */
}

static int cslots_grow(struct report *w)
{
	return pp_table_grow((void **)&w->cslots, &w->cslots_cap, 1024, sizeof(*w->cslots),
			     cslot_hash, &w->cgen);
}

static void graph_reset(struct report *w)
{
	w->nr_cn = 0;
	w->nr_cslots_used = 0;
	if (++w->cgen == 0) {
		if (w->cslots)
			memset(w->cslots, 0, w->cslots_cap * sizeof(*w->cslots));
		w->cgen = 1;
	}
	if (PP_GROW(w->cn, w->cap_cn, 1)) {
		w->err = -ENOMEM;
		return;
	}
	memset(&w->cn[0], 0, sizeof(w->cn[0]));
	w->cn[0].frame = UINT32_MAX;
	w->nr_cn = 1;
}

/* Indexes graph node @id (a child of a wide node) in cslots. */
static int cslot_add(struct report *w, uint32_t id)
{
	uint64_t key = (uint64_t)w->cn[id].parent << 32 | w->canon[w->cn[id].frame];
	size_t j;

	if ((w->nr_cslots_used + 1) * 2 > w->cslots_cap && cslots_grow(w))
		return -ENOMEM;
	for (j = pp_probe_start(hash_u64(key), w->cslots_cap); w->cslots[j].gen == w->cgen;
	     j = pp_probe_next(j, w->cslots_cap))
		;
	w->cslots[j] = (struct node_slot_c){key, id, w->cgen};
	w->nr_cslots_used++;
	return 0;
}

static uint32_t graph_child(struct report *w, uint32_t parent, uint32_t frame)
{
	uint32_t id, key_frame = w->canon[frame];

	if (w->cn[parent].nr_children <= GRAPH_LIST_MAX) {
		for (uint32_t c = w->cn[parent].first_child; c; c = w->cn[c].next_sibling)
			if (w->canon[w->cn[c].frame] == key_frame)
				return c;
	} else {
		uint64_t key = (uint64_t)parent << 32 | key_frame;

		for (size_t j = pp_probe_start(hash_u64(key), w->cslots_cap);
		     w->cslots[j].gen == w->cgen; j = pp_probe_next(j, w->cslots_cap))
			if (w->cslots[j].key == key)
				return w->cslots[j].id;
	}
	if (PP_GROW(w->cn, w->cap_cn, w->nr_cn + 1))
		return 0;
	id = (uint32_t)w->nr_cn++;
	memset(&w->cn[id], 0, sizeof(w->cn[0]));
	w->cn[id].frame = frame;
	w->cn[id].parent = parent;
	w->cn[id].next_sibling = w->cn[parent].first_child;
	w->cn[parent].first_child = id;
	if (++w->cn[parent].nr_children == GRAPH_LIST_MAX + 1) {
		/* the node turns wide: index the children it has */
		for (uint32_t c = w->cn[parent].first_child; c; c = w->cn[c].next_sibling)
			if (cslot_add(w, c))
				return 0;
	} else if (w->cn[parent].nr_children > GRAPH_LIST_MAX && cslot_add(w, id)) {
		return 0;
	}
	return id;
}

/* Adds the chain w->chain[0..n) (display order) with its weight. */
static void graph_add(struct report *w, size_t n, uint64_t period, uint64_t count)
{
	uint32_t at = 0;

	w->cn[0].cumul += period;
	w->cn[0].cumul_count += count;
	for (size_t i = 0; i < n; i++) {
		at = graph_child(w, at, w->chain[i]);
		if (!at) {
			w->err = -ENOMEM;
			return;
		}
		w->cn[at].cumul += period;
		w->cn[at].cumul_count += count;
	}
	w->cn[at].hit += period;
	w->cn[at].count += count;
}

/* Frames of the path from @from (inclusive) down to @to (inclusive). */
static size_t path_frames(struct report *w, uint32_t from, uint32_t to)
{
	size_t n = 0;

	for (uint32_t id = to;; id = N(w, id)->parent) {
		if (PP_GROW(w->chain, w->chain_cap, n + 1)) {
			w->err = -ENOMEM;
			return 0;
		}
		w->chain[n++] = N(w, id)->frame;
		if (id == from)
			break;
	}
	/* collected leaf first */
	if (w->caller) {
		for (size_t i = 0; i < n / 2; i++) {
			uint32_t t = w->chain[i];

			w->chain[i] = w->chain[n - 1 - i];
			w->chain[n - 1 - i] = t;
		}
	}
	return n;
}

/* Starts a new base for graph_node_of(): no profile node is mapped yet. */
static void memo_reset(struct report *w)
{
	if (!w->memo_gen) {
		size_t n = pyperf_profile__nr_nodes(w->p);

		w->memo_cn = pp_calloc(n, sizeof(*w->memo_cn));
		w->memo_gen = pp_calloc(n, sizeof(*w->memo_gen));
		if (!w->memo_cn || !w->memo_gen) {
			w->err = -ENOMEM;
			return;
		}
	}
	if (++w->mgen == 0) {
		memset(w->memo_gen, 0, pyperf_profile__nr_nodes(w->p) * sizeof(*w->memo_gen));
		w->mgen = 1;
	}
}

/* graph_node_of()'s @base for paths from the thread's first frame */
#define BASE_TOP UINT32_MAX

/*
 * Caller order: the graph node of the path from the node at walk position
 * @base (or from the thread's first frame: BASE_TOP) down to the one at
 * @pos. Paths below one base share their prefixes in the profile tree, so
 * each profile node costs one graph_child() however many samples lie
 * below it, instead of one per frame of every path; and positions keep
 * the nodes of one subtree together in memory.
 */
static uint32_t graph_node_of(struct report *w, uint32_t base, uint32_t pos)
{
	size_t n = 0;
	uint32_t at = 0, x;

	/* up to the first node already mapped, or to the base */
	for (x = pos;; x = w->wpar[x]) {
		if (w->memo_gen[x] == w->mgen) {
			at = w->memo_cn[x];
			break;
		}
		if (PP_GROW(w->chain, w->chain_cap, n + 1)) {
			w->err = -ENOMEM;
			return 0;
		}
		w->chain[n++] = x;
		if (x == base || (base == BASE_TOP && w->wtop[x]))
			break;
	}
	while (n--) {
		x = w->chain[n];
		at = graph_child(w, at, w->wframe[x]);
		if (!at) {
			w->err = -ENOMEM;
			return 0;
		}
		w->memo_cn[x] = at;
		w->memo_gen[x] = w->mgen;
	}
	return at;
}

/* Caller order: hits were added at path ends only; sum them up the graph. */
static void graph_cumulate(struct report *w)
{
	for (size_t i = 0; i < w->nr_cn; i++) {
		w->cn[i].cumul = w->cn[i].hit;
		w->cn[i].cumul_count = w->cn[i].count;
	}
	/* children are made after their parents: one backward pass */
	for (size_t i = w->nr_cn - 1; i > 0; i--) {
		w->cn[w->cn[i].parent].cumul += w->cn[i].cumul;
		w->cn[w->cn[i].parent].cumul_count += w->cn[i].cumul_count;
	}
}

/*
 * Adds the weight of profile node @id (at walk position @pos) along the
 * path from @base (a node; BASE_TOP: the thread's first frame) to it.
 */
static void graph_add_node(struct report *w, uint32_t base, uint32_t id, uint32_t pos)
{
	const struct pyperf_node *n = N(w, id);

	if (w->caller) {
		uint32_t at =
		    graph_node_of(w, base == BASE_TOP ? BASE_TOP : w->walk_pos[base], pos);

		if (at) {
			w->cn[at].hit += n->self_period;
			w->cn[at].count += n->self_samples;
		}
		return;
	}
	if (base == BASE_TOP)
		for (base = id; N(w, N(w, base)->parent)->parent != w->ev_node;)
			base = N(w, base)->parent;
	graph_add(w, path_frames(w, base, id), n->self_period, n->self_samples);
}

static int build_walk(struct report *w);

static void add_chains_below(struct report *w, const struct entry *e, uint32_t root);

static void add_callers_of(struct report *w, const struct entry *e, uint32_t root);

void pyperf_report_build_graph(struct report *w, const struct entry *e)
{
	graph_reset(w);
	if ((w->walk_ev != w->ev_node || !w->walk_pos) && build_walk(w)) {
		w->err = -ENOMEM;
		return;
	}
	if (w->caller)
		memo_reset(w);
	/* Samples ending in the entry: their whole chain. */
	for (size_t i = 0; i < e->nr_self && !w->err; i++)
		graph_add_node(w, BASE_TOP, e->self_nodes[i], w->walk_pos[e->self_nodes[i]]);
	/* Children mode: samples passing through, from the entry down (or,
	 * in callee order, from the entry up). */
	if (w->children)
		for (size_t i = 0; i < e->nr_roots && !w->err; i++) {
			if (w->caller)
				memo_reset(w); /* paths now start at this root */
			if (w->caller)
				add_chains_below(w, e, e->roots[i]);
			else
				add_callers_of(w, e, e->roots[i]);
		}
	if (w->caller && !w->err)
		graph_cumulate(w);
}

/*
 * Numbers the nodes below the event in the order of a depth-first walk
 * that takes the last sibling first (the order samples are added to a
 * graph in, which decides how equal-weight branches print), so that the
 * samples below any node are one range of w->sampled.
 */
static int build_walk(struct report *w)
{
	size_t n = pyperf_profile__nr_nodes(w->p), pos = 0, sp = 0, cap = 0;
	uint32_t *st = NULL, *order;

	if (!w->walk_pos) {
		w->walk_pos = pp_calloc(n, sizeof(*w->walk_pos));
		w->walk_size = pp_calloc(n, sizeof(*w->walk_size));
		w->sampled = pp_calloc(n, sizeof(*w->sampled));
		w->sampled_pos = pp_calloc(n, sizeof(*w->sampled_pos));
		w->wpar = pp_calloc(n, sizeof(*w->wpar));
		w->wframe = pp_calloc(n, sizeof(*w->wframe));
		w->wtop = pp_calloc(n, sizeof(*w->wtop));
		if (!w->walk_pos || !w->walk_size || !w->sampled || !w->sampled_pos || !w->wpar ||
		    !w->wframe || !w->wtop)
			return -ENOMEM;
	}
	order = w->sampled; /* the visit order, until the sampled list replaces it */
	w->nr_sampled = 0;
	if (PP_GROW(st, cap, 1))
		return -ENOMEM;
	st[sp++] = w->ev_node;
	while (sp) {
		uint32_t id = st[--sp];

		w->walk_pos[id] = (uint32_t)pos;
		w->walk_size[id] = 1;
		order[pos++] = id;
		for (uint32_t c = N(w, id)->first_child; c; c = N(w, c)->next_sibling) {
			if (PP_GROW(st, cap, sp + 1)) {
				free(st);
				return -ENOMEM;
			}
			st[sp++] = c;
		}
	}
	free(st);
	/* children come after their parents: sizes add up backwards */
	for (size_t i = pos; i-- > 1;)
		w->walk_size[N(w, order[i])->parent] += w->walk_size[order[i]];
	for (size_t i = 0; i < pos; i++) {
		const struct pyperf_node *nd = N(w, order[i]);

		w->wpar[i] = i ? w->walk_pos[nd->parent] : UINT32_MAX;
		w->wframe[i] = nd->frame;
		w->wtop[i] =
		    i && nd->parent != w->ev_node && N(w, nd->parent)->parent == w->ev_node;
	}
	for (size_t i = 0; i < pos; i++) {
		uint32_t id = order[i];

		if (N(w, id)->self_samples) {
			w->sampled_pos[w->nr_sampled] = (uint32_t)i;
			order[w->nr_sampled++] = id; /* never ahead of i */
		}
	}
	w->walk_ev = w->ev_node;
	return 0;
}

/* The first of the sampled nodes at or after walk position @pos. */
static size_t sampled_from(const struct report *w, uint32_t pos)
{
	size_t lo = 0, hi = w->nr_sampled;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (w->sampled_pos[mid] < pos)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void add_chains_below(struct report *w, const struct entry *e, uint32_t root)
{
	uint32_t self = (uint32_t)(e - w->entries) + 1;
	size_t from, to;

	from = sampled_from(w, w->walk_pos[root]);
	to = sampled_from(w, w->walk_pos[root] + w->walk_size[root]);
	for (size_t k = from; k < to && !w->err; k++) {
		uint32_t id = w->sampled[k];

		/* A sample ending in this same entry already counted with its
		 * whole chain. (The roots lie in threads the entry's key
		 * matches, so the node's own key is the one to compare.) */
		if (w->node_entry[id] == self)
			continue;
		graph_add_node(w, root, id, w->sampled_pos[k]);
	}
}

/*
 * Callee order: perf's chain for a sample passing through the entry runs
 * from the entry's innermost frame in that sample (the first it meets
 * walking from the leaf) up to the outermost caller.
 */
static void add_callers_of(struct report *w, const struct entry *e, uint32_t root)
{
	uint32_t self = (uint32_t)(e - w->entries) + 1, top = root;
	const struct pyperf_frame *th;
	size_t from, to;

	while (N(w, N(w, top)->parent)->parent != w->ev_node)
		top = N(w, top)->parent;
	th = F(w, N(w, top)->parent);
	from = sampled_from(w, w->walk_pos[root]);
	to = sampled_from(w, w->walk_pos[root] + w->walk_size[root]);
	for (size_t k = from; k < to && !w->err; k++) {
		uint32_t id = w->sampled[k], x;

		if (w->node_entry[id] == self)
			continue; /* counted with its whole chain */
		for (x = id; x != root; x = N(w, x)->parent) {
			long ex = pyperf_report_entry_of_frame(w, th, N(w, x)->frame);

			if (ex < 0) {
				w->err = -ENOMEM;
				return;
			}
			if (w->entries + ex == e)
				break;
		}
		graph_add(w, path_frames(w, top, x), N(w, id)->self_period, N(w, id)->self_samples);
	}
}

/* A frame's name without perf's " (inlined)": how perf's inline symbols
 * are named, and what it matches them by. */
size_t pyperf_report_bare_len(const struct pyperf_frame *f)
{
	size_t n = strlen(f->name);

	return pyperf_symbol__is_inlined(f->sym) ? n - strlen(" (inlined)") : n;
}

static int cmp_bare_names(const void *a, const void *b, void *ctx)
{
	const struct pyperf_profile *canon_p = ctx;
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	const struct pyperf_frame *fx = pyperf_profile__frame(canon_p, x),
				  *fy = pyperf_profile__frame(canon_p, y);
	size_t lx = pyperf_report_bare_len(fx), ly = pyperf_report_bare_len(fy);
	int c = strncmp(fx->name, fy->name, MIN(lx, ly));
	bool ix = pyperf_symbol__is_inlined(fx->sym), iy = pyperf_symbol__is_inlined(fy->sym);

	if (c || lx != ly)
		return c ? c : (lx > ly) - (lx < ly);
	/* an inlined instance first: perf labels such branches by the one
	 * its first sample met, mostly an inlined one */
	if (ix != iy)
		return ix ? -1 : 1;
	return (x > y) - (x < y);
}

/*
 * perf's call graphs match an inlined function by name alone (callchain.c
 * match_chain()), against other inlined instances and against the
 * function's own symbol: one branch. Other frames stand for themselves.
 */
int pyperf_report_build_canon(struct report *w)
{
	size_t nf = pyperf_profile__nr_frames(w->p), ni = 0;
	uint32_t *v;

	w->canon = pp_calloc(nf ? nf : 1, sizeof(*w->canon));
	v = pp_calloc(nf ? nf : 1, sizeof(*v));
	if (!w->canon || !v) {
		free(v);
		return -ENOMEM;
	}
	for (size_t i = 0; i < nf; i++) {
		const struct pyperf_frame *f = pyperf_profile__frame(w->p, (uint32_t)i);

		w->canon[i] = (uint32_t)i;
		if (f->sym && f->name &&
		    (f->kind == PYPERF_FRAME_NATIVE || f->kind == PYPERF_FRAME_KERNEL))
			v[ni++] = (uint32_t)i;
	}
	qsort_r(v, ni, sizeof(*v), cmp_bare_names, w->p);
	for (size_t i = 0, g = 0; i < ni; i++) {
		const struct pyperf_frame *f = pyperf_profile__frame(w->p, v[i]),
					  *h = pyperf_profile__frame(w->p, v[g]);

		if (i && (pyperf_report_bare_len(f) != pyperf_report_bare_len(h) ||
			  strncmp(f->name, h->name, pyperf_report_bare_len(f))))
			g = i, h = f;
		/* (inlined ones sort first: a group without one stays apart) */
		if (pyperf_symbol__is_inlined(h->sym))
			w->canon[v[i]] = v[g];
	}
	free(v);
	return 0;
}

/* What the call graphs' part allocated, for the report's end. */
void pyperf_report_graph_release(struct report *w)
{
	free(w->cn);
	free(w->cslots);
	free(w->memo_cn);
	free(w->memo_gen);
	free(w->walk_pos);
	free(w->walk_size);
	free(w->sampled);
	free(w->sampled_pos);
	free(w->wpar);
	free(w->wframe);
	free(w->canon);
	free(w->wtop);
	free(w->chain);
}
