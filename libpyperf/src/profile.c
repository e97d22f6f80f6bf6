// SPDX-License-Identifier: MIT
/*
 * The profile: interned frames and a hash-consed call tree, fed by the
 * per-sample pipeline. The hot path does no allocation per sample: a
 * sample whose raw callchain was seen before (in the same thread context,
 * with the same maps) costs one hash lookup; otherwise each address costs
 * one lookup in a cache of resolved addresses, and only new tree nodes and
 * new frames allocate, from arrays that grow geometrically.
 */
#include "profile_internal.h"

/* ---- construction ---------------------------------------------------------------- */

PYPERF_API struct pyperf_profile *pyperf_profile__new(struct pyperf_symbols *syms,
						      const struct pyperf_profile_opts *opts)
{
	struct pyperf_profile *p;

	if (!OPTS_VALID(opts, pyperf_profile_opts))
		return pyperf_err_ptr(-EINVAL);
	p = pp_calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	pp_strtab_init(&p->strings);
	pp_arena_init(&p->arena, 256 * 1024);
	if (opts)
		memcpy(&p->opts, opts, MIN(opts->sz, sizeof(p->opts)));
	p->opts.sz = sizeof(p->opts);
	p->max_stack = p->opts.max_stack ? p->opts.max_stack : MAX_STACK_DEFAULT;
	/* The native view cuts where perf does; the others count the frames
	 * they show, after folding. */
	p->max_raw =
	    p->opts.view == PYPERF_VIEW_NATIVE ? p->max_stack : MAX(p->max_stack, MAX_RAW_FOLDED);
	/* the python and mixed views cut after folding (cut_shown()) */
	p->raw_outer = p->opts.max_stack_outer && p->opts.view == PYPERF_VIEW_NATIVE;
	p->max_unwind = p->opts.max_unwind ? p->opts.max_unwind : p->max_raw;
	if (!p->opts.no_unwind) {
		p->unwinder = pyperf_unwinder__new(NULL);
		p->uips = pp_calloc(p->max_unwind, sizeof(*p->uips));
		if (!p->unwinder || !p->uips)
			goto fail;
	}
	if (!syms) {
		syms = pyperf_symbols__new(NULL);
		if (!syms)
			goto fail;
		p->own_syms = true;
	}
	p->syms = syms;
	/* Copy the filter lists: the caller's arrays are borrowed only here. */
	if (p->opts.nr_pids) {
		p->pids = pp_calloc(p->opts.nr_pids, sizeof(*p->pids));
		if (!p->pids)
			goto fail;
		memcpy(p->pids, opts->pids, p->opts.nr_pids * sizeof(*p->pids));
	}
	if (p->opts.nr_tids) {
		p->tids = pp_calloc(p->opts.nr_tids, sizeof(*p->tids));
		if (!p->tids)
			goto fail;
		memcpy(p->tids, opts->tids, p->opts.nr_tids * sizeof(*p->tids));
	}
	if (p->opts.nr_comms) {
		p->comms = pp_calloc(p->opts.nr_comms, sizeof(*p->comms));
		if (!p->comms)
			goto fail;
		for (size_t i = 0; i < p->opts.nr_comms; i++) {
			p->comms[i] = pp_arena_strdup(&p->arena, opts->comms[i]);
			if (!p->comms[i])
				goto fail;
		}
	}
	if (p->opts.nr_time_ranges) {
		p->time_ranges = pp_calloc(p->opts.nr_time_ranges, sizeof(*p->time_ranges));
		if (!p->time_ranges)
			goto fail;
		memcpy(p->time_ranges, opts->time_ranges,
		       p->opts.nr_time_ranges * sizeof(*p->time_ranges));
	}
	/* the root */
	if (PP_GROW(p->nodes, p->cap_nodes, 1))
		goto fail;
	memset(&p->nodes[0], 0, sizeof(p->nodes[0]));
	p->nodes[0].frame = UINT32_MAX;
	p->nr_nodes = 1;
	return p;
fail:
	pyperf_profile__free(p);
	return pyperf_err_ptr(-ENOMEM);
}

PYPERF_API void pyperf_profile__free(struct pyperf_profile *p)
{
	if (!p)
		return;
	if (p->own_syms)
		pyperf_symbols__free(p->syms);
	free(p->pids);
	free(p->tids);
	free(p->comms);
	free(p->time_ranges);
	pp_timeline_free(&p->timeline);
	free(p->stack_ip);
	free(p->stack_addr);
	free(p->frames);
	free(p->fslots);
	free(p->nodes);
	free(p->nslots);
	free(p->aslots);
	free(p->chains);
	free(p->events);
	free(p->stack);
	free(p->inl);
	free(p->fclass);
	free(p->view_of);
	free(p->offcpu);
	tp_formats_free(p->tracing);
	free(p->uips);
	pyperf_unwinder__free(p->unwinder);
	pp_strtab_free(&p->strings);
	pp_arena_free(&p->arena);
	free(p);
}

int pp_profile_check(const struct pyperf_profile *p)
{
	const struct pyperf_symbols_stats *ss = pyperf_symbols__stats(p->syms);

	if (p->nomem || ss->alloc_failures ||
	    (p->unwinder && pyperf_unwinder__stats(p->unwinder)->alloc_failures))
		return -ENOMEM;
	return 0;
}

/* ---- reading the tree ------------------------------------------------------------------- */

static int cmp_children(const void *a, const void *b, void *ctx)
{
	const struct pyperf_profile *cmp_ctx = ctx;
	const struct pyperf_node *x = &cmp_ctx->nodes[*(const uint32_t *)a];
	const struct pyperf_node *y = &cmp_ctx->nodes[*(const uint32_t *)b];

	if (x->total_samples != y->total_samples)
		return x->total_samples > y->total_samples ? -1 : 1;
	return strcmp(cmp_ctx->frames[x->frame].name, cmp_ctx->frames[y->frame].name);
}

void pp_profile_totals(struct pyperf_profile *p)
{
	if (p->totals_done)
		return;
	/* Children always have larger ids than parents: one backward pass sums. */
	for (size_t i = 0; i < p->nr_nodes; i++) {
		p->nodes[i].total_samples = p->nodes[i].self_samples;
		p->nodes[i].total_period = p->nodes[i].self_period;
	}
	for (size_t i = p->nr_nodes - 1; i > 0; i--) {
		struct pyperf_node *n = &p->nodes[i];

		p->nodes[n->parent].total_samples += n->total_samples;
		p->nodes[n->parent].total_period += n->total_period;
	}
	p->totals_done = true;
}

PYPERF_API void pyperf_profile__finish(struct pyperf_profile *p)
{
	uint32_t *kids = NULL;
	size_t cap = 0;

	if (p->finished)
		return;
	pp_profile_totals(p);
	/* Order siblings heaviest first, so that every writer sees one order. */
	for (size_t i = 0; i < p->nr_nodes; i++) {
		size_t k = 0;

		for (uint32_t c = p->nodes[i].first_child; c; c = p->nodes[c].next_sibling) {
			if (PP_GROW(kids, cap, k + 1))
				goto out;
			kids[k++] = c;
		}
		if (k < 2)
			continue;
		qsort_r(kids, k, sizeof(*kids), cmp_children, p);
		p->nodes[i].first_child = kids[0];
		for (size_t q = 0; q + 1 < k; q++)
			p->nodes[kids[q]].next_sibling = kids[q + 1];
		p->nodes[kids[k - 1]].next_sibling = 0;
	}
	p->finished = true;
out:
	free(kids);
}

PYPERF_API size_t pyperf_profile__nr_nodes(const struct pyperf_profile *p)
{
	return p->nr_nodes;
}

PYPERF_API const struct pyperf_node *pyperf_profile__node(const struct pyperf_profile *p,
							  uint32_t id)
{
	return id < p->nr_nodes ? &p->nodes[id] : NULL;
}

PYPERF_API size_t pyperf_profile__nr_frames(const struct pyperf_profile *p)
{
	return p->nr_frames;
}

PYPERF_API const struct pyperf_frame *pyperf_profile__frame(const struct pyperf_profile *p,
							    uint32_t id)
{
	return id < p->nr_frames ? &p->frames[id] : NULL;
}

PYPERF_API size_t pyperf_profile__nr_events(const struct pyperf_profile *p)
{
	return p->nr_events;
}

PYPERF_API const struct pyperf_profile_stats *pyperf_profile__stats(const struct pyperf_profile *p)
{
	return &p->stats;
}

PYPERF_API struct pyperf_symbols *pyperf_profile__symbols(const struct pyperf_profile *p)
{
	return p->syms;
}

PYPERF_API void pyperf_profile__event_total(const struct pyperf_profile *p, uint32_t idx,
					    uint64_t *samples, uint64_t *period)
{
	if (idx >= p->nr_events) {
		*samples = *period = 0;
		return;
	}
	*samples = p->events[idx].samples;
	*period = p->events[idx].period;
}

PYPERF_API const struct pyperf_unwind_stats *
pyperf_profile__unwind_stats(const struct pyperf_profile *p)
{
	static const struct pyperf_unwind_stats none;

	return p->unwinder ? pyperf_unwinder__stats(p->unwinder) : &none;
}

PYPERF_API bool pyperf_profile__event_in_ns(const struct pyperf_profile *p, uint32_t idx)
{
	return idx < p->nr_events && p->events[idx].in_ns;
}

PYPERF_API int pyperf_weight__parse(const char *s, enum pyperf_weight *out)
{
	static const struct {
		const char *name;
		enum pyperf_weight w;
	} names[] = {{"events", PYPERF_WEIGHT_EVENTS},
		     {"cpu", PYPERF_WEIGHT_CPU},
		     {"off-cpu", PYPERF_WEIGHT_OFF_CPU},
		     {"offcpu", PYPERF_WEIGHT_OFF_CPU},
		     {"wall", PYPERF_WEIGHT_WALL}};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (s && !strcmp(s, names[i].name)) {
			*out = names[i].w;
			return 0;
		}
	}
	return pyperf_err(-EINVAL);
}

static const char *const view_names[] = {[PYPERF_VIEW_MIXED] = "mixed",
					 [PYPERF_VIEW_NATIVE] = "native",
					 [PYPERF_VIEW_PYTHON] = "python"};

PYPERF_API int pyperf_view__parse(const char *s, enum pyperf_view *out)
{
	for (size_t i = 0; s && i < ARRAY_SIZE(view_names); i++) {
		if (!strcmp(s, view_names[i])) {
			*out = (enum pyperf_view)i;
			return 0;
		}
	}
	return pyperf_err(-EINVAL);
}

PYPERF_API const char *pyperf_view__name(enum pyperf_view view)
{
	return (unsigned)view < ARRAY_SIZE(view_names) ? view_names[view] : "?";
}

PYPERF_API uint64_t pyperf_profile__lost(const struct pyperf_profile *p)
{
	return p->lost_reported;
}

PYPERF_API const char *pyperf_profile__command(const struct pyperf_profile *p)
{
	return p->command;
}

PYPERF_API void pyperf_profile__time_range(const struct pyperf_profile *p, uint64_t *start,
					   uint64_t *end)
{
	*start = p->time_min;
	*end = p->time_max;
}

PYPERF_API enum pyperf_view pyperf_profile__view(const struct pyperf_profile *p)
{
	return p->opts.view;
}

PYPERF_API const struct pyperf_time_range *
pyperf_profile__time_ranges(const struct pyperf_profile *p, size_t *nr)
{
	*nr = p->opts.nr_time_ranges;
	return p->time_ranges;
}

PYPERF_API const struct pyperf_sample_run *pyperf_profile__timeline(const struct pyperf_profile *p,
								    size_t *nr)
{
	*nr = p->timeline.nr;
	return p->timeline.runs;
}
