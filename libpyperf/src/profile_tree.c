// SPDX-License-Identifier: MIT
/*
 * The profile's tables: interned frames, the hash-consed call tree and the
 * caches of resolved addresses and raw chains.
 */
#include "profile_internal.h"

/* ---- frames ------------------------------------------------------------------------ */

static uint64_t frame_hash(const struct frame_key *k)
{
	return hash_u64(k->a ^ hash_u64(k->b ^ hash_u64(k->c ^ ((uint64_t)k->kind << 56))));
}

static bool frame_matches(const struct pyperf_frame *f, const struct frame_key *k)
{
	if (k->kind == KEY_VIEW)
		return f->sym && f->dso &&
		       (f->dso->kind == PYPERF_DSO_PYTHON || f->dso->kind == PYPERF_DSO_ANON) &&
		       (uintptr_t)f->name == k->a;
	switch (k->kind) {
	case PYPERF_FRAME_EVENT:
		return f->kind == PYPERF_FRAME_EVENT && f->event == k->a;
	case PYPERF_FRAME_THREAD:
		return f->kind == PYPERF_FRAME_THREAD && (uintptr_t)f->name == k->a &&
		       (uint32_t)f->pid == (uint32_t)k->b && (uint32_t)f->tid == (uint32_t)k->c;
	default:
		if (f->kind == PYPERF_FRAME_EVENT || f->kind == PYPERF_FRAME_THREAD)
			return false;
		if ((uintptr_t)f->dso != k->a)
			return false;
		if (f->sym)
			return (uintptr_t)f->sym == k->b && !k->c;
		return !k->b && f->ip == k->c && f->cpumode == (k->kind >> 8);
	}
}

/* Returns the frame id (+1), 0 on ENOMEM; fills *@fresh for a new frame. */
uint32_t pyperf_profile_frame_intern(struct pyperf_profile *p, const struct frame_key *k,
				     struct pyperf_frame **fresh)
{
	uint64_t h = frame_hash(k);
	size_t j;

	*fresh = NULL;
	if ((p->nr_frames + 1) * 2 > p->fslots_cap &&
	    pp_hslots_grow(&p->fslots, &p->fslots_cap, 4096))
		return 0;
	for (j = pp_probe_start(h, p->fslots_cap); p->fslots[j].idx;
	     j = pp_probe_next(j, p->fslots_cap)) {
		if (p->fslots[j].hash == h && frame_matches(&p->frames[p->fslots[j].idx - 1], k))
			return p->fslots[j].idx;
	}
	if (PP_GROW(p->frames, p->cap_frames, p->nr_frames + 1))
		return 0;
	*fresh = &p->frames[p->nr_frames];
	memset(*fresh, 0, sizeof(**fresh));
	p->fslots[j].hash = h;
	p->fslots[j].idx = (uint32_t)++p->nr_frames;
	return p->fslots[j].idx;
}

static enum pyperf_frame_kind kind_of(const struct pyperf_addr_loc *loc)
{
	if (loc->cpumode == PYPERF_CPUMODE_KERNEL)
		return PYPERF_FRAME_KERNEL;
	if (loc->dso->kind == PYPERF_DSO_PERF_MAP)
		return pyperf_symbol__is_python(loc->sym) ? PYPERF_FRAME_PYTHON : PYPERF_FRAME_JIT;
	return PYPERF_FRAME_NATIVE;
}

/* The frame for a resolved location. Returns id + 1, or 0 on ENOMEM. */
static uint32_t frame_for(struct pyperf_profile *p, const struct pyperf_addr_loc *loc, uint64_t ip)
{
	struct frame_key k = {(uintptr_t)loc->dso, (uintptr_t)loc->sym, loc->sym ? 0 : ip,
			      (uint32_t)kind_of(loc) | ((uint32_t)loc->cpumode << 8)};
	struct pyperf_frame *f;
	uint32_t id;

	/* Resolved frames are one per symbol whatever the cpumode. */
	if (loc->sym)
		k.kind = (uint32_t)kind_of(loc);
	id = pyperf_profile_frame_intern(p, &k, &f);
	if (f) {
		char buf[32];

		f->kind = kind_of(loc);
		f->cpumode = loc->cpumode;
		f->dso = loc->dso;
		f->sym = loc->sym;
		f->ip = ip;
		f->addr = loc->addr;
		if (loc->sym) {
			f->name = loc->sym->name;
		} else {
			snprintf(buf, sizeof(buf), "%#" PRIx64, ip);
			f->name = pp_strtab_intern(&p->strings, buf, strlen(buf));
			if (!f->name)
				return 0;
		}
	}
	return id;
}

/* ---- nodes -------------------------------------------------------------------------- */

static bool node_slot_hash(const void *slot, const void *ctx, uint64_t *hash)
{
	const struct node_slot *s = slot;

	(void)ctx;
	*hash = hash_u64(s->key);
	return s->id != 0;
}

static int nslots_grow(struct pyperf_profile *p)
{
	return pp_table_grow((void **)&p->nslots, &p->nslots_cap, 8192, sizeof(*p->nslots),
			     node_slot_hash, NULL);
}

/* The child of @parent for @frame (an id, not +1), created if new. 0 on ENOMEM. */
uint32_t pyperf_profile_node_child(struct pyperf_profile *p, uint32_t parent, uint32_t frame)
{
	uint64_t key = (uint64_t)parent << 32 | frame;
	struct pyperf_node *n;
	size_t j;

	if ((p->nr_nodes + 1) * 2 > p->nslots_cap && nslots_grow(p))
		return 0;
	for (j = pp_probe_start(hash_u64(key), p->nslots_cap); p->nslots[j].id;
	     j = pp_probe_next(j, p->nslots_cap))
		if (p->nslots[j].key == key)
			return p->nslots[j].id;
	if (PP_GROW(p->nodes, p->cap_nodes, p->nr_nodes + 1))
		return 0;
	n = &p->nodes[p->nr_nodes];
	memset(n, 0, sizeof(*n));
	n->parent = parent;
	n->frame = frame;
	n->next_sibling = p->nodes[parent].first_child;
	p->nodes[parent].first_child = (uint32_t)p->nr_nodes;
	p->nslots[j].key = key;
	p->nslots[j].id = (uint32_t)p->nr_nodes;
	p->finished = p->totals_done = false;
	return (uint32_t)p->nr_nodes++;
}

/* ---- caches ------------------------------------------------------------------------- */

/* The probe start of an address: pyperf_profile_resolve_ip() hashes the same way. */
static uint64_t addr_hash(uint64_t ip, uint64_t gen, uint8_t cpumode)
{
	return hash_u64(ip ^ gen * 0x9e3779b97f4a7c15ULL ^ cpumode);
}

static bool addr_slot_hash(const void *slot, const void *ctx, uint64_t *hash)
{
	const struct addr_slot *s = slot;

	(void)ctx;
	*hash = addr_hash(s->ip, s->gen, s->cpumode);
	return s->frame != 0;
}

static int aslots_grow(struct pyperf_profile *p)
{
	return pp_table_grow((void **)&p->aslots, &p->aslots_cap, 16384, sizeof(*p->aslots),
			     addr_slot_hash, NULL);
}

/* The frame (id + 1) for @ip in @th, through the address cache. 0 on ENOMEM. */
uint32_t pyperf_profile_resolve_ip(struct pyperf_profile *p, struct pyperf_thread *th,
				   uint8_t cpumode, uint64_t ip)
{
	/* Kernel addresses resolve the same in every process. */
	uint64_t gen =
	    cpumode == PYPERF_CPUMODE_KERNEL ? p->kernel_gen : pyperf_thread__maps_generation(th);
	struct pyperf_addr_loc loc;
	bool live_miss;
	uint32_t id;
	size_t j;

	if ((p->aslots_used + 1) * 2 > p->aslots_cap && aslots_grow(p))
		return 0;
	for (j = pp_probe_start(addr_hash(ip, gen, cpumode), p->aslots_cap); p->aslots[j].frame;
	     j = pp_probe_next(j, p->aslots_cap)) {
		struct addr_slot *s = &p->aslots[j];

		if (s->ip == ip && s->gen == gen && s->cpumode == cpumode) {
			p->last_addr = s->addr;
			return s->frame;
		}
	}
	pyperf_thread__resolve(th, cpumode, ip, &loc);
	/* live: a perf map grows while its process runs; re-read it (at most
	 * every few ms) and remember nothing it does not name yet */
	live_miss = p->opts.live && !loc.sym && loc.dso->kind == PYPERF_DSO_PERF_MAP;
	if (live_miss && symbols_refresh_perf_map(loc.dso)) {
		pyperf_thread__resolve(th, cpumode, ip, &loc);
		live_miss = !loc.sym;
	}
	id = frame_for(p, &loc, ip);
	if (!id)
		return 0;
	p->last_addr = loc.addr;
	if (live_miss) {
		p->live_misses++;
		return id;
	}
	p->aslots[j] = (struct addr_slot){gen, ip, id, 0, cpumode, loc.addr};
	p->aslots_used++;
	return id;
}

/* Fills @s->inl for @ip: the frames of its inlined functions, if any. */
static int lookup_inlines(struct pyperf_profile *p, struct pyperf_thread *th, uint64_t ip,
			  struct addr_slot *s)
{
	const struct pyperf_symbol *syms[32];
	struct pyperf_addr_loc loc;
	long k;

	s->inl = 1;
	pyperf_thread__resolve(th, PYPERF_CPUMODE_USER, ip, &loc);
	if (!loc.sym || !loc.dso || loc.dso->kind != PYPERF_DSO_ELF)
		return 0;
	k = pyperf_dso__inlines(loc.dso, loc.addr, syms, 32);
	if (k < 0) {
		s->inl = 0; /* not known: never remembered as "none" */
		return (int)k;
	}
	if (k < 2 && (!k || syms[0] == loc.sym))
		return 0; /* nothing inlined here */
	if (PP_GROW(p->inl, p->inl_cap, p->nr_inl + 1 + (size_t)k))
		return -ENOMEM;
	p->inl[p->nr_inl] = (uint32_t)k;
	for (size_t i = 0; i < (size_t)k; i++) {
		struct pyperf_addr_loc l = loc;
		uint32_t id;

		l.sym = syms[i];
		id = frame_for(p, &l, ip);
		if (!id)
			return -ENOMEM;
		if (syms[i] != loc.sym)
			p->frames[id - 1].inlined_in = s->frame;
		p->inl[p->nr_inl + 1 + i] = id - 1;
	}
	s->inl = (uint32_t)(2 + p->nr_inl);
	p->nr_inl += 1 + (size_t)k;
	return 0;
}

/*
 * An unwound user frame onto p->stack at @n: its inlined functions first
 * (innermost), then the function, as perf shows DWARF-unwound frames when
 * debug info is there. The lookup is remembered with the address.
 * Returns the new length, or -ENOMEM.
 */
long pyperf_profile_push_unwound(struct pyperf_profile *p, struct pyperf_thread *th, uint64_t ip,
				 long n)
{
	uint64_t gen = pyperf_thread__maps_generation(th);
	uint32_t id = pyperf_profile_resolve_ip(p, th, PYPERF_CPUMODE_USER, ip), *chain, count;
	uint64_t addr = p->last_addr;
	struct addr_slot *s = NULL;

	if (!id)
		return -ENOMEM;
	if (!p->opts.no_inline && p->frames[id - 1].kind == PYPERF_FRAME_NATIVE &&
	    p->frames[id - 1].sym) {
		for (size_t j =
			 pp_probe_start(addr_hash(ip, gen, PYPERF_CPUMODE_USER), p->aslots_cap);
		     p->aslots[j].frame; j = pp_probe_next(j, p->aslots_cap))
			if (p->aslots[j].ip == ip && p->aslots[j].gen == gen &&
			    p->aslots[j].cpumode == PYPERF_CPUMODE_USER) {
				s = &p->aslots[j];
				break;
			}
	}
	if (s && !s->inl && lookup_inlines(p, th, ip, s))
		return -ENOMEM;
	p->last_addr = addr;
	count = !s || s->inl < 2 ? 1 : p->inl[s->inl - 2];
	if (PP_GROW(p->stack, p->stack_cap, (size_t)n + count) ||
	    PP_GROW(p->stack_ip, p->stack_ip_cap, (size_t)n + count) ||
	    PP_GROW(p->stack_addr, p->stack_addr_cap, (size_t)n + count))
		return -ENOMEM;
	if (!s || s->inl < 2) {
		pyperf_profile_push_frame(p, (size_t)n, id, ip);
		return n + 1;
	}
	chain = p->inl + s->inl - 2;
	/* the functions inlined at @ip, then its own: one address */
	for (uint32_t k = 0; k < count; k++)
		pyperf_profile_push_frame(p, (size_t)n + k, chain[1 + k] + 1, ip);
	return n + count;
}

uint64_t pyperf_profile_chain_hash(uint32_t thread_node, uint64_t gen, uint8_t cpumode,
				   const uint64_t *ips, uint64_t nr)
{
	uint64_t h = hash_u64(((uint64_t)thread_node << 8 | cpumode) ^ gen * 0x9e3779b97f4a7c15ULL);

	for (uint64_t i = 0; i < nr; i++)
		h = hash_u64(h ^ ips[i]);
	return h ^ nr;
}

static bool chain_slot_hash(const void *slot, const void *ctx, uint64_t *hash)
{
	const struct chain_slot *s = slot;

	(void)ctx;
	*hash = s->hash;
	return s->e != NULL;
}

int pyperf_profile_chains_grow(struct pyperf_profile *p)
{
	return pp_table_grow((void **)&p->chains, &p->chains_cap, 8192, sizeof(*p->chains),
			     chain_slot_hash, NULL);
}
