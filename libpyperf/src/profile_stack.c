// SPDX-License-Identifier: MIT
/*
 * A sample's stack, from its callchain (or the unwound stack copy) to a
 * leaf node of the tree: filters, thread and event nodes, cuts.
 */
#include "profile_internal.h"

/* ---- samples ------------------------------------------------------------------------- */

bool pyperf_profile_filtered_out(const struct pyperf_profile *p, struct pyperf_thread *th)
{
	if (p->opts.nr_pids) {
		bool hit = false;

		for (size_t i = 0; i < p->opts.nr_pids && !hit; i++)
			hit = p->pids[i] == pyperf_thread__pid(th);
		if (!hit)
			return true;
	}
	if (p->opts.nr_tids) {
		bool hit = false;

		for (size_t i = 0; i < p->opts.nr_tids && !hit; i++)
			hit = p->tids[i] == pyperf_thread__tid(th);
		if (!hit)
			return true;
	}
	if (p->opts.nr_comms) {
		bool hit = false;

		for (size_t i = 0; i < p->opts.nr_comms && !hit; i++)
			hit = !strcmp(p->comms[i], pyperf_thread__comm(th));
		if (!hit)
			return true;
	}
	return false;
}

/* perf report --time drops such a sample before it counts anywhere */
bool pyperf_profile_time_filtered(struct pyperf_profile *p, const struct pyperf_sample *s)
{
	if (!p->opts.nr_time_ranges || !(s->present & PYPERF_SAMPLE_TIME) ||
	    pyperf_time_range__keep(p->time_ranges, p->opts.nr_time_ranges, s->time))
		return false;
	p->stats.samples_time_filtered++;
	return true;
}

uint32_t pyperf_profile_event_node(struct pyperf_profile *p, const char *name, uint32_t *event_idx)
{
	struct frame_key k;
	struct pyperf_frame *f;
	uint32_t id;
	size_t i;

	/* Samples come from a few events: the caller's pointer for the last
	 * one saves a string compare per sample. */
	if (name == p->last_event_name) {
		*event_idx = p->last_event;
		return p->events[p->last_event].node;
	}
	for (i = 0; i < p->nr_events; i++)
		if (!strcmp(p->events[i].name, name))
			break;
	if (i == p->nr_events) {
		if (PP_GROW(p->events, p->cap_events, p->nr_events + 1))
			return 0;
		memset(&p->events[i], 0, sizeof(p->events[i]));
		p->events[i].name = pp_strtab_intern(&p->strings, name, strlen(name));
		if (!p->events[i].name)
			return 0;
		k = (struct frame_key){i, 0, 0, PYPERF_FRAME_EVENT};
		id = pyperf_profile_frame_intern(p, &k, &f);
		if (!id)
			return 0;
		if (f) {
			f->kind = PYPERF_FRAME_EVENT;
			f->event = (uint32_t)i;
			f->name = p->events[i].name;
		}
		p->events[i].node = pyperf_profile_node_child(p, 0, id - 1);
		if (!p->events[i].node)
			return 0;
		p->nr_events++;
	}
	*event_idx = (uint32_t)i;
	p->last_event_name = name;
	p->last_event = (uint32_t)i;
	return p->events[i].node;
}

uint32_t pyperf_profile_thread_node(struct pyperf_profile *p, uint32_t ev_node,
				    struct pyperf_thread *th)
{
	const char *mcomm = pyperf_thread__comm(th), *comm;
	int32_t pid = pyperf_thread__pid(th), tid = pyperf_thread__tid(th);
	struct thread_memo *memo =
	    &p->thread_memo[hash_u64((uintptr_t)th ^ ev_node) % ARRAY_SIZE(p->thread_memo)];
	struct frame_key k;
	struct pyperf_frame *f;
	uint32_t id, node;

	/* Every sample asks; the comm is interned by the machine, so its
	 * pointer says whether the thread was renamed since. */
	if (memo->th == th && memo->comm == mcomm && memo->pid == pid && memo->tid == tid &&
	    memo->ev_node == ev_node)
		return memo->node;
	comm = pp_strtab_intern(&p->strings, mcomm, strlen(mcomm));
	if (!comm)
		return 0;
	k = (struct frame_key){(uintptr_t)comm, (uint32_t)pid, (uint32_t)tid, PYPERF_FRAME_THREAD};
	id = pyperf_profile_frame_intern(p, &k, &f);
	if (!id)
		return 0;
	if (f) {
		f->kind = PYPERF_FRAME_THREAD;
		f->name = comm;
		f->pid = pid;
		f->tid = tid;
	}
	node = pyperf_profile_node_child(p, ev_node, id - 1);
	if (node)
		*memo = (struct thread_memo){th, mcomm, pid, tid, ev_node, node};
	return node;
}

/* The kernel's frame limit for the chains of @attr: its sample_max_stack,
 * else the sysctl's default (the value at recording time is not kept). */
static uint64_t kernel_chain_limit(const struct pyperf_attr *attr)
{
	uint16_t v = 0;

	/* perf_event_attr.sample_max_stack: 16 bits at offset 108 (VER5) */
	if (attr && attr->raw && attr->size >= 110)
		memcpy(&v, (const uint8_t *)attr->raw + 108, 2);
	return v ? v : 127;
}

/* Whether frame @id is a user address outside every mapping. */
static bool unmapped_user_frame(const struct pyperf_profile *p, uint32_t id)
{
	const struct pyperf_frame *f = &p->frames[id];

	return f->cpumode != PYPERF_CPUMODE_KERNEL && f->kind != PYPERF_FRAME_KERNEL &&
	       (!f->dso || f->dso->kind == PYPERF_DSO_UNKNOWN);
}

/*
 * A sample with a stack copy: the kernel frames of its callchain, then the
 * user frames unwound from the copy, as perf shows DWARF-mode samples.
 * *@cut: why the unwind ended early, if it did.
 */
static long build_unwound_stack(struct pyperf_profile *p, struct pyperf_thread *th,
				const struct pyperf_sample *s, enum pyperf_stack_cut *cut)
{
	enum pyperf_unwind_stop stop;
	uint8_t cpumode = PYPERF_CPUMODE_USER;
	size_t n = 0, nu;

	for (uint64_t i = 0; i < s->callchain_nr && n < p->max_raw; i++) {
		uint64_t ip = s->callchain[i];
		uint32_t id;

		if (ip >= PYPERF_CONTEXT_MAX) {
			cpumode = ip == PYPERF_CONTEXT_KERNEL ? PYPERF_CPUMODE_KERNEL
							      : PYPERF_CPUMODE_USER;
			continue;
		}
		if (cpumode != PYPERF_CPUMODE_KERNEL)
			break; /* the user part comes from the copy */
		id = pyperf_profile_resolve_ip(p, th, cpumode, ip);
		if (!id)
			return -ENOMEM;
		pyperf_profile_push_frame(p, n++, id, ip);
	}
	nu = pyperf_unwinder__unwind(p->unwinder, th, s, p->uips, p->max_unwind, &stop);
	p->stats.unwound_samples++;
	*cut = pyperf_unwind_stop__cut(stop);
	for (size_t i = 0; i < nu; i++) {
		long m = pyperf_profile_push_unwound(p, th, p->uips[i], (long)n);

		if (m < 0)
			return m;
		n = (size_t)m;
	}
	if (!n) {
		uint32_t id = pyperf_profile_resolve_ip(p, th, (uint8_t)s->cpumode, s->ip);

		if (!id)
			return -ENOMEM;
		pyperf_profile_push_frame(p, n++, id, s->ip);
	}
	return (long)n;
}

/*
 * Turns the sample's callchain into frames, leaf first, in p->stack, as
 * perf's thread__resolve_callchain_sample() does: context markers switch
 * the cpumode, an unknown marker means the chain is corrupt and is dropped,
 * at most max_stack addresses are kept. *@cut: whether and why the stack
 * lacks its outermost frames: the file's mark (pyperf-record), our frame
 * limit or the kernel's, a corrupt chain, or a frame-pointer chain whose
 * last return address lies outside every mapping (garbage read where no
 * frame pointer was). A chain cut in the middle (max_stack_outer) keeps
 * its root: that is no cut of the kind. Returns the number of frames, or
 * -ENOMEM.
 */
static long build_stack(struct pyperf_profile *p, struct pyperf_thread *th,
			const struct pyperf_record *rec, enum pyperf_stack_cut *cut)
{
	const struct pyperf_sample *s = &rec->sample;
	uint8_t cpumode = PYPERF_CPUMODE_USER;
	size_t n = 0, kept = 0;
	uint64_t addrs = 0, skip = 0;

	*cut = PYPERF_CUT_NONE;
	if (PP_GROW(p->stack, p->stack_cap, p->max_raw + p->max_unwind + 3) ||
	    PP_GROW(p->stack_ip, p->stack_ip_cap, p->max_raw + p->max_unwind + 3) ||
	    PP_GROW(p->stack_addr, p->stack_addr_cap, p->max_raw + p->max_unwind + 3))
		return -ENOMEM;
	if (!p->opts.no_callchain && p->unwinder && (s->present & PYPERF_SAMPLE_STACK_USER))
		return build_unwound_stack(p, th, s, cut);
	if (p->opts.no_callchain || !(s->present & PYPERF_SAMPLE_CALLCHAIN)) {
		uint32_t id = pyperf_profile_resolve_ip(p, th, (uint8_t)s->cpumode, s->ip);

		if (!id)
			return -ENOMEM;
		pyperf_profile_push_frame(p, 0, id, s->ip);
		return 1;
	}
	*cut = pyperf_callchain__cut(s->callchain, s->callchain_nr, NULL);
	for (uint64_t i = 0; i < s->callchain_nr; i++)
		addrs += s->callchain[i] < PYPERF_CONTEXT_MAX;
	/* Caller order: perf walks the chain from its root end, so a long
	 * one keeps its outermost max_raw addresses; the leaf comes from the
	 * sample's own address (the chain's first). */
	if (p->raw_outer && addrs > (uint64_t)p->max_raw + 1)
		skip = addrs - 1 - p->max_raw;
	for (uint64_t i = 0, k = 0; i < s->callchain_nr; i++) {
		uint64_t ip = s->callchain[i];
		uint32_t id;

		if (ip >= PYPERF_CONTEXT_MAX) {
			if (ip == PYPERF_CONTEXT_KERNEL)
				cpumode = PYPERF_CPUMODE_KERNEL;
			else if (ip == PYPERF_CONTEXT_USER)
				cpumode = PYPERF_CPUMODE_USER;
			else if (ip == PYPERF_CONTEXT_HV)
				cpumode = PYPERF_CPUMODE_HYPERVISOR;
			else {
				/* corrupt: perf drops the whole chain */
				p->stats.truncated_callchains++;
				*cut = PYPERF_CUT_CORRUPT;
				n = 0;
				break;
			}
			continue;
		}
		if (skip && k >= 1 && k <= skip) {
			if (k++ == 1)
				p->stats.truncated_callchains++;
			continue;
		}
		k++;
		if (kept == p->max_raw + !!skip) {
			p->stats.truncated_callchains++;
			*cut = PYPERF_CUT_MAX_STACK;
			break;
		}
		kept++;
		id = pyperf_profile_resolve_ip(p, th, cpumode, ip);
		if (!id)
			return -ENOMEM;
		pyperf_profile_push_frame(p, n++, id, ip);
	}
	if (*cut == PYPERF_CUT_NONE && n) {
		if (addrs >= kernel_chain_limit(rec->attr))
			*cut = PYPERF_CUT_MAX_STACK;
		else if (unmapped_user_frame(p, p->stack[n - 1]))
			*cut = PYPERF_CUT_BAD_FRAME;
	}
	if (n == 0) {
		/* No usable chain: the sample address alone. */
		uint32_t id = pyperf_profile_resolve_ip(p, th, (uint8_t)s->cpumode, s->ip);

		if (!id)
			return -ENOMEM;
		pyperf_profile_push_frame(p, n++, id, s->ip);
	}
	return (long)n;
}

/*
 * The python and mixed views keep max_stack of the frames they show, by
 * the rule build_stack() applies to raw chains in the native view; cutting
 * the outer side cuts the stack's root (*@cut).
 */
static long cut_shown(struct pyperf_profile *p, long n, enum pyperf_stack_cut *cut)
{
	long max = (long)p->max_stack;

	if (p->opts.max_stack_outer && n > max + 1) {
		memmove(p->stack + 1, p->stack + n - max, (size_t)max * sizeof(*p->stack));
		memmove(p->stack_ip + 1, p->stack_ip + n - max, (size_t)max * sizeof(*p->stack_ip));
		memmove(p->stack_addr + 1, p->stack_addr + n - max,
			(size_t)max * sizeof(*p->stack_addr));
		n = max + 1;
		p->stats.truncated_callchains++;
	} else if (!p->opts.max_stack_outer && n > max) {
		n = max;
		p->stats.truncated_callchains++;
		*cut = PYPERF_CUT_MAX_STACK;
	}
	return n;
}

/* The root frame of cut stacks (id + 1, 0 on ENOMEM). */
static uint32_t truncated_frame(struct pyperf_profile *p)
{
	if (!p->truncated_frame) {
		p->truncated_frame =
		    pyperf_profile_view_frame(p, "[truncated]", "[truncated]", PYPERF_DSO_ANON);
		if (p->truncated_frame)
			p->frames[p->truncated_frame - 1].kind = PYPERF_FRAME_TRUNCATED;
	}
	return p->truncated_frame;
}

/*
 * The stack of a sample in the view asked for, in p->stack (leaf first),
 * a cut one under [truncated]: the frames, or -ENOMEM.
 */
long pyperf_profile_sample_stack(struct pyperf_profile *p, struct pyperf_thread *th,
				 const struct pyperf_record *rec, enum pyperf_stack_cut *cut)
{
	long n = build_stack(p, th, rec, cut);

	if (n >= 0)
		n = pyperf_profile_apply_view(p, n);
	if (n >= 0 && p->opts.view != PYPERF_VIEW_NATIVE)
		n = cut_shown(p, n, cut);
	if (n < 0 || *cut == PYPERF_CUT_NONE || p->opts.no_truncated_root)
		return n;
	if (!truncated_frame(p))
		return -ENOMEM;
	p->stack_ip[n] = p->stack_addr[n] = 0;
	p->stack[n++] = p->truncated_frame - 1;
	return n;
}

void pyperf_profile_count_cut(struct pyperf_profile *p, enum pyperf_stack_cut cut)
{
	if (cut == PYPERF_CUT_NONE)
		return;
	p->stats.truncated_stacks++;
	p->stats.stacks_cut[cut < PYPERF_CUT_NR ? cut : PYPERF_CUT_CORRUPT]++;
}

void pyperf_profile_count_sample(struct pyperf_profile *p, uint32_t leaf, uint64_t period)
{
	p->nodes[leaf].self_samples++;
	p->nodes[leaf].self_period += period;
	p->stats.samples++;
	if (!p->nodes[leaf].first_sample)
		p->nodes[leaf].first_sample = p->stats.samples;
	p->finished = p->totals_done = false;
}

/* @event: the event the sample counts under (its own, or "wall") */
int pyperf_profile_add_sample(struct pyperf_profile *p, struct pyperf_machine *m,
			      const struct pyperf_record *rec, const char *event)
{
	const struct pyperf_sample *s = &rec->sample;
	struct pyperf_thread *th;
	uint32_t ev, evi, tn, leaf;
	uint64_t gen, h, nr_ips;
	const uint64_t *ips;
	uint8_t cpumode = (uint8_t)s->cpumode;
	enum pyperf_stack_cut cut;
	bool cacheable;
	uint64_t misses;
	size_t j;
	long n;

	if (pyperf_profile_time_filtered(p, s))
		return 0;
	ev = pyperf_profile_event_node(p, event, &evi);
	if (!ev)
		return -ENOMEM;
	p->events[evi].samples++;
	p->events[evi].period += s->period;
	if (s->present & PYPERF_SAMPLE_TIME) {
		if (!p->time_min || s->time < p->time_min)
			p->time_min = s->time;
		if (s->time > p->time_max)
			p->time_max = s->time;
	}
	if (!(s->present & PYPERF_SAMPLE_TID)) {
		p->stats.samples_unknown_thread++;
		th = pyperf_machine__findnew_thread(m, -1, -1);
	} else {
		th = pyperf_machine__findnew_thread(m, (int32_t)s->pid, (int32_t)s->tid);
	}
	if (!th)
		return -ENOMEM;
	if (pyperf_profile_filtered_out(p, th)) {
		p->stats.samples_filtered++;
		return 0;
	}
	tn = pyperf_profile_thread_node(p, ev, th);
	if (!tn)
		return -ENOMEM;

	/* The chain cache: key on the raw chain (or the ip alone). Stack
	 * copies differ sample by sample, so unwound samples skip it. */
	cacheable =
	    !(p->unwinder && !p->opts.no_callchain && (s->present & PYPERF_SAMPLE_STACK_USER)) &&
	    !p->opts.stack_fn && !p->opts.sample_fn;
	if (!p->opts.no_callchain && (s->present & PYPERF_SAMPLE_CALLCHAIN) && s->callchain_nr) {
		ips = s->callchain;
		nr_ips = s->callchain_nr;
	} else {
		ips = &s->ip;
		nr_ips = 1;
	}
	p->kernel_gen = pyperf_machine__kernel_generation(m);
	gen = pyperf_thread__maps_generation(th) ^ (p->kernel_gen << 44);
	h = pyperf_profile_chain_hash(tn, gen, cpumode, ips, nr_ips);
	if ((p->chains_used + 1) * 2 > p->chains_cap && pyperf_profile_chains_grow(p))
		return -ENOMEM;
	for (j = pp_probe_start(h, p->chains_cap); cacheable && p->chains[j].e;
	     j = pp_probe_next(j, p->chains_cap)) {
		const struct chain_entry *c = p->chains[j].e;

		if (p->chains[j].hash == h && c->gen == gen && c->thread_node == tn &&
		    c->nr == nr_ips && c->cpumode == cpumode && !memcmp(c->ips, ips, nr_ips * 8)) {
			pyperf_profile_count_sample(p, c->leaf, s->period);
			if (p->opts.timeline &&
			    pp_timeline_add(&p->timeline, tn, c->leaf, s->time, s->period))
				return -ENOMEM;
			p->stats.unresolved_frames += c->unresolved;
			p->stats.samples_python += c->python;
			p->stats.samples_no_callchain += c->no_callchain;
			pyperf_profile_count_cut(p, (enum pyperf_stack_cut)c->cut);
			return 0;
		}
	}

	misses = p->live_misses;
	n = pyperf_profile_sample_stack(p, th, rec, &cut);
	if (n < 0)
		return (int)n;
	/* a chain with frames a perf map may name later is resolved again */
	if (p->live_misses != misses)
		cacheable = false;
	leaf = tn;
	for (long i = n - 1; i >= 0; i--) {
		leaf = pyperf_profile_node_child(p, leaf, p->stack[i]);
		if (!leaf)
			return -ENOMEM;
	}
	uint32_t unresolved = 0;
	bool python = false;
	/* as perf decides it: the file's sample type, not a chain's length */
	bool no_callchain = p->opts.no_callchain ||
			    !(s->present & (PYPERF_SAMPLE_CALLCHAIN | PYPERF_SAMPLE_STACK_USER));
	for (long i = 0; i < n; i++) {
		if (!p->frames[p->stack[i]].sym)
			unresolved++;
		python |= p->frames[p->stack[i]].kind == PYPERF_FRAME_PYTHON;
	}
	p->stats.unresolved_frames += unresolved;
	p->stats.samples_python += python;
	p->stats.samples_no_callchain += no_callchain;
	pyperf_profile_count_sample(p, leaf, s->period);
	pyperf_profile_count_cut(p, cut);
	if (p->opts.timeline && pp_timeline_add(&p->timeline, tn, leaf, s->time, s->period))
		return -ENOMEM;
	if (p->opts.stack_fn)
		p->opts.stack_fn(p->opts.stack_ctx, s, p->stack, (size_t)n, cut);
	if (p->opts.sample_fn) {
		struct pyperf_sample_info info = {p,
						  s,
						  event,
						  pyperf_thread__comm(th),
						  pyperf_thread__pid(th),
						  pyperf_thread__tid(th),
						  p->stack,
						  p->stack_ip,
						  p->stack_addr,
						  (size_t)n,
						  cut};

		p->opts.sample_fn(p->opts.sample_ctx, &info);
	}
	if (!cacheable)
		return 0;

	/* Remember the chain. */
	{
		struct chain_entry *c = pp_arena_alloc_raw(&p->arena, sizeof(*c) + nr_ips * 8);

		if (!c)
			return -ENOMEM;
		*c = (struct chain_entry){gen,	       tn,	leaf,	(uint32_t)nr_ips,
					  unresolved,  cpumode, python, no_callchain,
					  (uint8_t)cut};
		memcpy(c->ips, ips, nr_ips * 8);
		p->chains[j] = (struct chain_slot){h, c};
		p->chains_used++;
	}
	return 0;
}
