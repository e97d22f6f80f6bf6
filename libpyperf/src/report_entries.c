// SPDX-License-Identifier: MIT
/*
 * Report entries: samples grouped by the sort keys' values (perf's hist
 * entries), self and children weights, and their order.
 */
#include "report_internal.h"

static const char *intern(struct report *w, const char *s)
{
	return pp_strtab_intern(&w->names, s, strlen(s));
}

static bool has_key(const struct report *w, enum pyperf_sort_key k)
{
	for (size_t i = 0; i < w->nr_keys; i++)
		if (w->keys[i] == k)
			return true;
	return false;
}

/* Dsos group by short name; addresses outside any map have none (NULL). */
static const char *dso_key(struct report *w, const struct pyperf_frame *f)
{
	const char *k;

	if (!f->dso || f->dso->kind == PYPERF_DSO_UNKNOWN)
		return NULL;
	k = intern(w, pyperf_dso__short_name(f->dso));
	if (!k)
		w->err = -ENOMEM; /* NULL would group it with the unmapped */
	return k;
}

/* The key of @leaf in @thread for keys[0..upto). */
void pyperf_report_make_key(struct report *w, const struct pyperf_frame *thread,
			    const struct pyperf_frame *leaf, size_t upto, struct key *k)
{
	memset(k, 0, sizeof(*k));
	for (size_t i = 0; i < upto; i++) {
		switch (w->keys[i]) {
		case PYPERF_SORT_COMM:
			k->comm = thread->name;
			break;
		case PYPERF_SORT_PID:
		case PYPERF_SORT_TID:
			k->tid = thread->tid;
			k->comm = thread->name;
			break;
		case PYPERF_SORT_DSO:
			k->dso = dso_key(w, leaf);
			break;
		case PYPERF_SORT_SYM:
			if (leaf->sym) {
				k->has_sym = 1;
				k->sym_start = leaf->sym->start;
				k->sym_end = leaf->sym->end;
				/* perf's inline symbols span the function they are
				 * inlined in and differ from it by name */
				if (pyperf_symbol__is_inlined(leaf->sym))
					k->inl = leaf->sym->name;
				/* Symbols are relative to their dso: without a dso
				 * key, the dso name takes part. */
				if (!has_key(w, PYPERF_SORT_DSO))
					k->dso = dso_key(w, leaf);
			} else {
				k->addr = leaf->addr;
			}
			break;
		case PYPERF_SORT_SAMPLE:
			break;
		}
	}
}

static uint64_t key_hash(const struct key *k)
{
	return hash_bytes(k, sizeof(*k), HASH_SEED);
}

/* Finds or creates the entry for @k. Returns its index, or -1 (ENOMEM). */
static long entry_for(struct report *w, const struct key *k, const struct pyperf_frame *thread,
		      const struct pyperf_frame *leaf)
{
	uint64_t h = key_hash(k);
	size_t j;

	if ((w->nr_entries + 1) * 2 > w->slots_cap &&
	    pp_hslots_grow(&w->slots, &w->slots_cap, 1024))
		return -1;
	for (j = pp_probe_start(h, w->slots_cap); w->slots[j].idx;
	     j = pp_probe_next(j, w->slots_cap)) {
		if (w->slots[j].hash == h &&
		    !memcmp(&w->entries[w->slots[j].idx - 1].key, k, sizeof(*k)))
			return w->slots[j].idx - 1;
	}
	if (PP_GROW(w->entries, w->cap_entries, w->nr_entries + 1))
		return -1;
	memset(&w->entries[w->nr_entries], 0, sizeof(struct entry));
	w->entries[w->nr_entries].key = *k;
	w->entries[w->nr_entries].frame = leaf;
	w->entries[w->nr_entries].thread = thread;
	w->entries[w->nr_entries].level = leaf->cpumode == PYPERF_CPUMODE_KERNEL ? 'k' : '.';
	w->slots[j].hash = h;
	w->slots[j].idx = (uint32_t)++w->nr_entries;
	return (long)w->nr_entries - 1;
}

/* The entry of profile frame @frame in thread @th, made if new; -1 on ENOMEM. */
long pyperf_report_entry_of_frame(struct report *w, const struct pyperf_frame *th, uint32_t frame)
{
	const struct pyperf_frame *f = pyperf_profile__frame(w->p, frame);
	struct key k;
	long e;

	if (!w->fe_gen_of) {
		size_t n = pyperf_profile__nr_frames(w->p);

		w->fe_gen_of = pp_calloc(n ? n : 1, sizeof(*w->fe_gen_of));
		w->fe_entry = pp_calloc(n ? n : 1, sizeof(*w->fe_entry));
		if (!w->fe_gen_of || !w->fe_entry)
			return -1;
	}
	if (w->fe_thread != th) {
		w->fe_thread = th;
		if (++w->fe_gen == 0) {
			memset(w->fe_gen_of, 0,
			       pyperf_profile__nr_frames(w->p) * sizeof(*w->fe_gen_of));
			w->fe_gen = 1;
		}
	}
	if (w->fe_gen_of[frame] == w->fe_gen)
		return w->fe_entry[frame];
	pyperf_report_make_key(w, th, f, w->nr_keys, &k);
	e = entry_for(w, &k, th, f);
	if (e >= 0) {
		w->fe_entry[frame] = e;
		w->fe_gen_of[frame] = w->fe_gen;
	}
	return e;
}

/* The frame a sample ending at @frame counts under: a leaf inlined in a
 * function is that function's sample, as in perf (the inlined frames are
 * in its call chain only). */
static uint32_t self_frame(const struct report *w, uint32_t frame)
{
	uint32_t in = pyperf_profile__frame(w->p, frame)->inlined_in;

	return in ? in - 1 : frame;
}

/* Self entries: every node with samples, keyed by its frame. */
int pyperf_report_collect_self(struct report *w, uint32_t thread_node)
{
	const struct pyperf_frame *th = F(w, thread_node);
	uint32_t *stack = NULL;
	size_t cap = 0, sp = 0;
	int ret = 0;

	if (!w->node_entry) {
		w->node_entry = pp_calloc(pyperf_profile__nr_nodes(w->p), sizeof(*w->node_entry));
		if (!w->node_entry)
			return -ENOMEM;
	}

	for (uint32_t c = N(w, thread_node)->first_child; c; c = N(w, c)->next_sibling) {
		if (PP_GROW(stack, cap, sp + 1))
			goto nomem;
		stack[sp++] = c;
	}
	while (sp) {
		uint32_t id = stack[--sp];
		const struct pyperf_node *n = N(w, id);

		for (uint32_t c = n->first_child; c; c = N(w, c)->next_sibling) {
			if (PP_GROW(stack, cap, sp + 1))
				goto nomem;
			stack[sp++] = c;
		}
		if (n->self_samples) {
			long e = pyperf_report_entry_of_frame(w, th, self_frame(w, n->frame));

			if (e < 0)
				goto nomem;
			struct entry *en = &w->entries[e];
			unsigned depth = 0;

			for (uint32_t up = id; up != thread_node; up = N(w, up)->parent)
				depth++;
			en->max_depth = MAX(en->max_depth, depth);
			/* perf's entry keeps the thread of the sample that made it */
			if (!en->first_seq || n->first_sample < en->first_seq) {
				en->first_seq = n->first_sample;
				en->thread = th;
			}
			en->period += n->self_period;
			en->samples += n->self_samples;
			w->node_entry[id] = (uint32_t)e + 1;
			if (PP_GROW(en->self_nodes, en->cap_self, en->nr_self + 1))
				goto nomem;
			en->self_nodes[en->nr_self++] = id;
		}
	}
	free(stack);
	return ret;
nomem:
	free(stack);
	return -ENOMEM;
}

/*
 * Children: every sample counts once for each distinct key on its path.
 * A depth-first walk keeps the keys of the current path in a counting
 * table; where a key first appears, the whole subtree counts for it.
 */
int pyperf_report_collect_children(struct report *w, uint32_t thread_node)
{
	const struct pyperf_frame *th = F(w, thread_node);
	struct {
		uint32_t node;
		uint32_t depth; /* from the thread's first frame, 1-based */
		long entry;
		bool exiting;
	} *st = NULL;
	size_t cap = 0, sp = 0, path_cap = 0;
	unsigned *on_path = NULL;

	for (uint32_t c = N(w, thread_node)->first_child; c; c = N(w, c)->next_sibling) {
		if (PP_GROW(st, cap, sp + 1))
			goto nomem;
		st[sp].node = c;
		st[sp].depth = 1;
		st[sp].entry = -1;
		st[sp].exiting = false;
		sp++;
	}
	while (sp) {
		long e;
		uint32_t id, depth;

		if (st[sp - 1].exiting) {
			sp--;
			if (st[sp].entry >= 0)
				on_path[st[sp].entry]--;
			continue;
		}
		id = st[sp - 1].node;
		depth = st[sp - 1].depth;
		st[sp - 1].exiting = true;
		e = pyperf_report_entry_of_frame(w, th, N(w, id)->frame);
		if (e < 0)
			goto nomem;
		if ((size_t)e >= path_cap) {
			size_t old = path_cap;

			if (PP_GROW(on_path, path_cap, (size_t)e + 1))
				goto nomem;
			memset(on_path + old, 0, (path_cap - old) * sizeof(*on_path));
		}
		st[sp - 1].entry = e;
		/* A sample ending in a function inlined in F is also F's (its
		 * self entry), though F is not on the path. */
		if (N(w, id)->self_samples && F(w, id)->inlined_in) {
			long be =
			    pyperf_report_entry_of_frame(w, th, self_frame(w, N(w, id)->frame));

			if (be < 0)
				goto nomem;
			/* (past the counts: on no path yet) */
			if ((size_t)be >= path_cap || !on_path[be]) {
				w->entries[be].acc_period += N(w, id)->self_period;
				w->entries[be].acc_samples += N(w, id)->self_samples;
			}
		}
		/* Callee order: perf's chain for the entry runs from the frame's
		 * innermost occurrence in a sample up to the root, as long as
		 * that occurrence is deep. */
		if (!w->caller)
			w->entries[e].max_depth = MAX(w->entries[e].max_depth, depth);
		if (!on_path[e]++) {
			struct entry *en = &w->entries[e];

			/* perf labels an address outside any map with the level of the
			 * sample that created the entry: take one below. */
			uint32_t leaf = w->first_leaf[id];
			uint64_t seq = N(w, leaf)->first_sample;

			if (!en->first_seq || seq < en->first_seq) {
				en->first_seq = seq;
				en->thread = th;
				/* Outside any map, perf labels the entry with the level
				 * of the sample that created it. */
				/* (That is caller order, where perf resolves the chain
				 * from its root; in callee order the frame's own.) */
				if (!F(w, id)->sym &&
				    (!F(w, id)->dso || F(w, id)->dso->kind == PYPERF_DSO_UNKNOWN))
					en->level = F(w, w->caller ? leaf : id)->cpumode ==
							    PYPERF_CPUMODE_KERNEL
							? 'k'
							: '.';
			}

			en->acc_period += N(w, id)->total_period;
			en->acc_samples += N(w, id)->total_samples;
			if (PP_GROW(en->roots, en->cap_roots, en->nr_roots + 1))
				goto nomem;
			en->roots[en->nr_roots++] = id;
			if (w->caller)
				en->max_depth = MAX(en->max_depth, w->height[id]);
		}
		for (uint32_t c = N(w, id)->first_child; c; c = N(w, c)->next_sibling) {
			if (PP_GROW(st, cap, sp + 1))
				goto nomem;
			st[sp].node = c;
			st[sp].depth = depth + 1;
			st[sp].entry = -1;
			st[sp].exiting = false;
			sp++;
		}
	}
	free(st);
	free(on_path);
	return 0;
nomem:
	free(st);
	free(on_path);
	return -ENOMEM;
}

/* ---- ordering ----------------------------------------------------------------------- */

/* Strings ascending; a missing one (no dso) last, as perf orders them. */
static int cmp_str(const char *a, const char *b)
{
	if (a == b)
		return 0;
	if (!a || !b)
		return a ? -1 : 1;
	return strcmp(a, b);
}

static int signed_order(uint64_t a, uint64_t b)
{
	int64_t d = (int64_t)(b - a);

	return d > 0 ? -1 : d < 0 ? 1 : 0;
}

int pyperf_report_key_cmp(const struct report *w, const struct key *a, const struct key *b,
			  size_t upto)
{
	int c;

	for (size_t i = 0; i < upto; i++) {
		switch (w->keys[i]) {
		case PYPERF_SORT_COMM:
			if ((c = cmp_str(a->comm, b->comm)))
				return c;
			break;
		case PYPERF_SORT_PID:
		case PYPERF_SORT_TID:
			if (a->tid != b->tid)
				return a->tid < b->tid ? -1 : 1;
			break;
		case PYPERF_SORT_DSO:
			if ((c = cmp_str(a->dso, b->dso)))
				return c;
			break;
		case PYPERF_SORT_SYM:
			if (a->has_sym != b->has_sym)
				return a->has_sym ? -1 : 1;
			/* perf compares addresses by their signed difference */
			if (!a->has_sym) {
				if ((c = signed_order(a->addr, b->addr)))
					return c;
				break;
			}
			if ((c = cmp_str(a->dso, b->dso)))
				return c;
			if ((a->inl || b->inl) && (c = cmp_str(a->inl, b->inl)))
				return c;
			if ((c = signed_order(a->sym_start, b->sym_start)))
				return c;
			if ((c = signed_order(a->sym_end, b->sym_end)))
				return c;
			break;
		case PYPERF_SORT_SAMPLE:
			break;
		}
	}
	return 0;
}

/* Heaviest first; ties by the keys, ascending (perf's output order). For
 * symbols, the name orders ties, as perf's sym sort does. */
static int cmp_entries(const void *pa, const void *pb, void *ctx)
{
	const struct report *sort_w = ctx;
	const struct entry *a = *(struct entry *const *)pa, *b = *(struct entry *const *)pb;
	uint64_t va = sort_w->children ? a->acc_period : a->period;
	uint64_t vb = sort_w->children ? b->acc_period : b->period;

	/* Explicit columns without a percentage sort by the keys alone. */
	if (!sort_w->by_weight)
		goto keys;
	if (va != vb)
		return va > vb ? -1 : 1;
	/* perf puts callers above callees of equal weight (same thread). */
	if (sort_w->children && sort_w->o.callchain != PYPERF_CALLCHAIN_NONE &&
	    a->thread == b->thread && a->max_depth != b->max_depth)
		return (a->max_depth > b->max_depth ? -1 : 1) * (sort_w->caller ? 1 : -1);
	if (sort_w->children && a->period != b->period)
		return a->period > b->period ? -1 : 1;
keys:
	for (size_t i = 0; i < sort_w->nr_keys; i++) {
		int c = 0;

		if (sort_w->keys[i] == PYPERF_SORT_SYM && a->key.has_sym && b->key.has_sym)
			c = strcmp(a->frame->sym->name, b->frame->sym->name);
		if (!c)
			c = pyperf_report_key_cmp(sort_w, &a->key, &b->key, i + 1);
		if (c)
			return c;
	}
	return 0;
}

void pyperf_report_free_entries(struct report *w)
{
	for (size_t i = 0; i < w->nr_entries; i++) {
		free(w->entries[i].self_nodes);
		free(w->entries[i].roots);
	}
	w->nr_entries = 0;
	if (w->slots)
		memset(w->slots, 0, w->slots_cap * sizeof(*w->slots));
}

/* Entries in the order perf report lists them (cmp_entries()). */
void pyperf_report_sort_entries(struct report *w, struct entry **sorted, size_t n)
{
	qsort_r(sorted, n, sizeof(*sorted), cmp_entries, w);
}

/*
 * The entries of event node @ev_node: each sample's self entry, and in
 * children mode the entries of every frame above it. 0 or -ENOMEM.
 */
int pyperf_report_collect_event(struct report *w, uint32_t ev_node)
{
	int ret = 0;

	w->ev_node = ev_node;
	w->fe_thread = NULL; /* entries are per event */
	w->total_period = N(w, ev_node)->total_period;
	w->total_samples = N(w, ev_node)->total_samples;
	for (uint32_t t = N(w, ev_node)->first_child; t && !ret; t = N(w, t)->next_sibling)
		ret = pyperf_report_collect_self(w, t);
	if (!ret && w->children && !w->height) {
		size_t nn = pyperf_profile__nr_nodes(w->p);

		/* Children have larger ids than their parents: one backward pass. */
		w->height = pp_calloc(nn, sizeof(*w->height));
		w->first_leaf = pp_calloc(nn, sizeof(*w->first_leaf));
		if (!w->height || !w->first_leaf)
			ret = -ENOMEM;
		for (size_t i = nn; !ret && i-- > 1;) {
			uint32_t par = N(w, (uint32_t)i)->parent;
			uint32_t mine = w->first_leaf[i], theirs = w->first_leaf[par];

			w->height[i] += 1;
			if (w->height[par] < w->height[i])
				w->height[par] = w->height[i];
			/* the earliest sample ending at or below i */
			if (N(w, (uint32_t)i)->first_sample &&
			    (!mine || N(w, (uint32_t)i)->first_sample < N(w, mine)->first_sample))
				w->first_leaf[i] = mine = (uint32_t)i;
			if (mine &&
			    (!theirs || N(w, mine)->first_sample < N(w, theirs)->first_sample))
				w->first_leaf[par] = mine;
		}
	}
	if (!ret && w->children)
		for (uint32_t t = N(w, ev_node)->first_child; t && !ret; t = N(w, t)->next_sibling)
			ret = pyperf_report_collect_children(w, t);
	return ret;
}

/* What the entries' part allocated, for the report's end. */
void pyperf_report_entries_release(struct report *w)
{
	pyperf_report_free_entries(w);
	free(w->entries);
	free(w->slots);
	free(w->node_entry);
	free(w->fe_gen_of);
	free(w->fe_entry);
	free(w->height);
	free(w->first_leaf);
}
