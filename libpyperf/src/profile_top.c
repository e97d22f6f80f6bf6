// SPDX-License-Identifier: MIT
/*
 * The heaviest functions of a profile, from its tree: what live views
 * (pyperf-top) rank, with perf report's Self and Children counting.
 */
#include "profile_internal.h"

struct acc {
	uint64_t self_samples, total_samples, self_period, total_period;
	uint32_t on_path; /* times the frame is on the path being walked */
	bool touched;
};

struct top_walk {
	struct pyperf_profile *p;
	struct acc *acc;
	uint32_t *touched, *stack;
	size_t nr_touched, cap_stack;
	struct pyperf_top_entry *ents;
	size_t nr_ents, cap_ents;
	bool by_total;
};

static int cmp_entries(const void *a, const void *b, void *ctx)
{
	const struct top_walk *w = ctx;
	const struct pyperf_top_entry *x = a, *y = b;
	uint64_t kx = w->by_total ? x->total_samples : x->self_samples;
	uint64_t ky = w->by_total ? y->total_samples : y->self_samples;
	uint64_t sx = w->by_total ? x->self_samples : x->total_samples;
	uint64_t sy = w->by_total ? y->self_samples : y->total_samples;
	int c;

	if (kx != ky)
		return kx > ky ? -1 : 1;
	if (sx != sy)
		return sx > sy ? -1 : 1;
	c = strcmp(w->p->frames[x->frame].name, w->p->frames[y->frame].name);
	if (c)
		return c;
	return x->thread < y->thread ? -1 : x->thread > y->thread;
}

/* The accumulated frames become entries (of @thread), and are reset. */
static int collect(struct top_walk *w, uint32_t thread)
{
	for (size_t i = 0; i < w->nr_touched; i++) {
		uint32_t f = w->touched[i];
		struct acc *a = &w->acc[f];

		if (PP_GROW(w->ents, w->cap_ents, w->nr_ents + 1))
			return -ENOMEM;
		w->ents[w->nr_ents++] = (struct pyperf_top_entry){
		    f, thread, a->self_samples, a->total_samples, a->self_period, a->total_period};
		memset(a, 0, sizeof(*a));
	}
	w->nr_touched = 0;
	return 0;
}

/*
 * Depth first below a thread node. A node is pushed twice: to enter it
 * (its frame goes on the path) and, under its children, to leave it; a
 * frame already on the path (recursion) adds no total again.
 */
static int walk_thread(struct top_walk *w, uint32_t thread)
{
	struct pyperf_node *nodes = w->p->nodes;
	size_t sp = 0;

	for (uint32_t c = nodes[thread].first_child; c; c = nodes[c].next_sibling) {
		if (PP_GROW(w->stack, w->cap_stack, sp + 1))
			return -ENOMEM;
		w->stack[sp++] = c << 1;
	}
	while (sp) {
		uint32_t v = w->stack[--sp], id = v >> 1;
		const struct pyperf_node *n = &nodes[id];
		struct acc *a = &w->acc[n->frame];

		if (v & 1) {
			a->on_path--;
			continue;
		}
		if (!a->touched) {
			a->touched = true;
			w->touched[w->nr_touched++] = n->frame;
		}
		a->self_samples += n->self_samples;
		a->self_period += n->self_period;
		if (!a->on_path) {
			a->total_samples += n->total_samples;
			a->total_period += n->total_period;
		}
		a->on_path++;
		if (PP_GROW(w->stack, w->cap_stack, sp + 1))
			return -ENOMEM;
		w->stack[sp++] = id << 1 | 1;
		for (uint32_t c = n->first_child; c; c = nodes[c].next_sibling) {
			if (PP_GROW(w->stack, w->cap_stack, sp + 1))
				return -ENOMEM;
			w->stack[sp++] = c << 1;
		}
	}
	return 0;
}

PYPERF_API long pyperf_profile__top(struct pyperf_profile *p, const struct pyperf_top_opts *opts,
				    struct pyperf_top_entry *out, size_t max, size_t *nr)
{
	struct top_walk w = {.p = p};
	uint32_t event = OPTS_GET(opts, event, 0), ev;
	bool per_thread = OPTS_GET(opts, per_thread, false);
	long ret = 0;

	if (nr)
		*nr = 0;
	if (!OPTS_VALID(opts, pyperf_top_opts) || (max && !out))
		return pyperf_err(-EINVAL);
	w.by_total = OPTS_GET(opts, by_total, false);
	ev = pyperf_profile__event_node(p, event);
	if (!ev)
		return 0;
	pp_profile_totals(p);
	w.acc = pp_calloc(p->nr_frames ? p->nr_frames : 1, sizeof(*w.acc));
	w.touched = pp_calloc(p->nr_frames ? p->nr_frames : 1, sizeof(*w.touched));
	if (!w.acc || !w.touched) {
		ret = -ENOMEM;
		goto out;
	}
	for (uint32_t t = p->nodes[ev].first_child; t && !ret; t = p->nodes[t].next_sibling) {
		ret = walk_thread(&w, t);
		if (!ret && per_thread)
			ret = collect(&w, t);
	}
	if (!ret && !per_thread)
		ret = collect(&w, 0);
	if (ret)
		goto out;
	qsort_r(w.ents, w.nr_ents, sizeof(*w.ents), cmp_entries, &w);
	if (nr)
		*nr = w.nr_ents;
	ret = (long)MIN(max, w.nr_ents);
	if (ret)
		memcpy(out, w.ents, (size_t)ret * sizeof(*out));
out:
	free(w.acc);
	free(w.touched);
	free(w.stack);
	free(w.ents);
	return ret < 0 ? pyperf_err((int)ret) : ret;
}

PYPERF_API uint32_t pyperf_profile__event_node(const struct pyperf_profile *p, uint32_t idx)
{
	return idx < p->nr_events ? p->events[idx].node : 0;
}
