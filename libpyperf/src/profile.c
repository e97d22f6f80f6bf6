// SPDX-License-Identifier: MIT
/*
 * The profile: interned frames and a hash-consed call tree, fed by the
 * per-sample pipeline. The hot path does no allocation per sample: a
 * sample whose raw callchain was seen before (in the same thread context,
 * with the same maps) costs one hash lookup; otherwise each address costs
 * one lookup in a cache of resolved addresses, and only new tree nodes and
 * new frames allocate, from arrays that grow geometrically.
 */
#include <inttypes.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <stdlib.h>
#include <pyperf/profile.h>
#include "internal.h"
#include "timeline.h"
#include "machine_internal.h"
#include "symbols_internal.h"
#include "outfmt.h"
#include "tracing.h"

/* perf report's --max-stack default (sysctl_perf_event_max_stack). */
#define MAX_STACK_DEFAULT 127
/* Frames read before the python and mixed views fold the interpreter's:
 * deep Python stacks are several native frames per Python call. */
#define MAX_RAW_FOLDED 1024

/* frame interning key */
struct frame_key {
	uint64_t a, b, c;
	uint32_t kind;
};

/* resolved-address cache: (maps generation, cpumode, ip) -> frame */
struct addr_slot {
	uint64_t gen;
	uint64_t ip;
	uint32_t frame; /* +1 */
	uint32_t inl;	/* inline frames: 0 not looked up, 1 none, else 2 + index in p->inl */
	uint8_t cpumode;
	uint64_t addr; /* ip in the dso's space */
};

/* node lookup: (parent, frame) -> node */
struct node_slot {
	uint64_t key;
	uint32_t id; /* 0 = empty (node 0 is the root, never a child) */
};

/*
 * Raw chain cache: the same callchain in the same context -> leaf node.
 * Entries live in the arena with their ips; the table holds only hash and
 * pointer, so a recording where most chains differ (Python leaves move
 * sample by sample) keeps it small.
 */
struct chain_entry {
	uint64_t gen;
	uint32_t thread_node;
	uint32_t leaf;
	uint32_t nr;
	uint32_t unresolved;
	uint8_t cpumode;
	bool python; /* a Python frame in the stack */
	bool no_callchain;
	uint8_t cut; /* enum pyperf_stack_cut */
	uint64_t ips[];
};

struct chain_slot {
	uint64_t hash;
	const struct chain_entry *e; /* NULL: empty */
};

struct event_info {
	const char *name;
	uint32_t node;
	uint64_t samples, period; /* all samples, before filters */
	bool in_ns;		  /* off-cpu, wall: period is time */
};

/* A thread that switched out and has not been seen running since. */
struct off_cpu_slot {
	int32_t tid;	/* 0 = empty slot (tid 0, the idle task, is never recorded) */
	uint32_t leaf;	/* node the time goes to; 0 = not off CPU */
	uint32_t event; /* index in events */
	uint64_t since; /* switch-out time */
};

struct pyperf_profile {
	struct pyperf_symbols *syms;
	bool own_syms;
	struct pyperf_profile_opts opts;
	int32_t *pids, *tids;
	const char **comms;
	struct pyperf_time_range *time_ranges;
	struct pp_timeline timeline;
	unsigned max_stack;	/* frames kept, as the view shows them */
	unsigned max_raw;	/* frames read from a callchain before the view */
	bool raw_outer;		/* max_stack_outer, applied to raw chains */
	uint64_t lost_reported; /* LOST_SAMPLES sums: perf's "Total Lost Samples" */

	struct pyperf_frame *frames;
	size_t nr_frames, cap_frames;
	struct pp_hslot *fslots; /* frame id + 1 */
	size_t fslots_cap;

	struct pyperf_node *nodes;
	size_t nr_nodes, cap_nodes;
	struct node_slot *nslots;
	size_t nslots_cap;

	struct addr_slot *aslots;
	size_t aslots_cap, aslots_used;

	struct chain_slot *chains;
	size_t chains_cap, chains_used;

	struct event_info *events;
	size_t nr_events, cap_events;
	const char *last_event_name; /* event_node()'s cache, valid while a file is read */
	uint32_t last_event;

	struct pp_strtab strings;
	struct pp_arena arena;

	/* per sample scratch: frames of the current stack, leaf first */
	uint32_t *stack;
	uint32_t *inl; /* inline frame chains: count, then frame ids */
	size_t nr_inl, inl_cap;
	size_t stack_cap;
	/* per frame of stack: the address and the same in its dso's space,
	 * for sample_fn */
	uint64_t *stack_ip, *stack_addr;
	size_t stack_ip_cap, stack_addr_cap;
	uint64_t last_addr; /* of the last resolve_ip() */
	struct pyperf_unwinder *unwinder;
	uint64_t *uips; /* unwound user addresses */
	unsigned max_unwind;

	uint64_t kernel_gen; /* of the machine being read */

	/* views: per frame, what it is and what it shows as */
	uint8_t *fclass;   /* FC_* bits, 0 = not yet classified */
	uint32_t *view_of; /* view frame id + 1 of a py:: frame */
	size_t fclass_cap;
	uint32_t native_frame;	  /* "[native]" + 1 */
	uint32_t truncated_frame; /* "[truncated]" + 1 */
	const char *command;	  /* of the first file that has one (interned) */
	/* An allocation failed where the profile went on without what it
	 * was for (the command, tracing formats): see pp_profile_check(). */
	bool nomem;
	uint64_t time_min, time_max; /* of the samples added; 0, 0 if none */

	/* off-CPU time of the file being read */
	struct off_cpu_slot *offcpu;
	size_t offcpu_cap, offcpu_used;
	size_t offcpu_open;
	uint64_t last_time;
	struct tp_formats *tracing;
	struct pyperf_profile_stats stats;
	bool totals_done; /* total_* up to date */
	bool finished;	  /* and siblings ordered */
	/* thread -> its node under an event, for the last threads seen */
	struct thread_memo {
		const struct pyperf_thread *th;
		const char *comm; /* the machine's interned comm */
		int32_t pid, tid;
		uint32_t ev_node, node;
	} thread_memo[64];
};

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
		p->unwinder = pyperf_unwinder__new();
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

/* ---- frames ------------------------------------------------------------------------ */

static uint64_t frame_hash(const struct frame_key *k)
{
	return hash_u64(k->a ^ hash_u64(k->b ^ hash_u64(k->c ^ ((uint64_t)k->kind << 56))));
}

#define KEY_VIEW 0x10000 /* frame key kind of view frames: a = name */

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
static uint32_t frame_intern(struct pyperf_profile *p, const struct frame_key *k,
			     struct pyperf_frame **fresh)
{
	uint64_t h = frame_hash(k);
	size_t j;

	*fresh = NULL;
	if ((p->nr_frames + 1) * 2 > p->fslots_cap &&
	    pp_hslots_grow(&p->fslots, &p->fslots_cap, 4096))
		return 0;
	for (j = h & (p->fslots_cap - 1); p->fslots[j].idx; j = (j + 1) & (p->fslots_cap - 1)) {
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
	id = frame_intern(p, &k, &f);
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
static uint32_t node_child(struct pyperf_profile *p, uint32_t parent, uint32_t frame)
{
	uint64_t key = (uint64_t)parent << 32 | frame;
	struct pyperf_node *n;
	size_t j;

	if ((p->nr_nodes + 1) * 2 > p->nslots_cap && nslots_grow(p))
		return 0;
	for (j = hash_u64(key) & (p->nslots_cap - 1); p->nslots[j].id;
	     j = (j + 1) & (p->nslots_cap - 1))
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

/* The probe start of an address: resolve_ip() hashes the same way. */
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
static uint32_t resolve_ip(struct pyperf_profile *p, struct pyperf_thread *th, uint8_t cpumode,
			   uint64_t ip)
{
	/* Kernel addresses resolve the same in every process. */
	uint64_t gen =
	    cpumode == PYPERF_CPUMODE_KERNEL ? p->kernel_gen : pyperf_thread__maps_generation(th);
	struct pyperf_addr_loc loc;
	uint32_t id;
	size_t j;

	if ((p->aslots_used + 1) * 2 > p->aslots_cap && aslots_grow(p))
		return 0;
	for (j = addr_hash(ip, gen, cpumode) & (p->aslots_cap - 1); p->aslots[j].frame;
	     j = (j + 1) & (p->aslots_cap - 1)) {
		struct addr_slot *s = &p->aslots[j];

		if (s->ip == ip && s->gen == gen && s->cpumode == cpumode) {
			p->last_addr = s->addr;
			return s->frame;
		}
	}
	pyperf_thread__resolve(th, cpumode, ip, &loc);
	id = frame_for(p, &loc, ip);
	if (!id)
		return 0;
	p->last_addr = loc.addr;
	p->aslots[j] = (struct addr_slot){gen, ip, id, 0, cpumode, loc.addr};
	p->aslots_used++;
	return id;
}

/* Frame @id + 1 (from resolve_ip()) for @ip at position @i of the stack. */
static inline void push_frame(struct pyperf_profile *p, size_t i, uint32_t id, uint64_t ip)
{
	p->stack[i] = id - 1;
	p->stack_ip[i] = ip;
	p->stack_addr[i] = p->last_addr;
}

/* Position @to shows @frame for the address at @from. */
static inline void move_frame(struct pyperf_profile *p, long to, long from, uint32_t frame)
{
	p->stack[to] = frame;
	p->stack_ip[to] = p->stack_ip[from];
	p->stack_addr[to] = p->stack_addr[from];
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
static long push_unwound(struct pyperf_profile *p, struct pyperf_thread *th, uint64_t ip, long n)
{
	uint64_t gen = pyperf_thread__maps_generation(th);
	uint32_t id = resolve_ip(p, th, PYPERF_CPUMODE_USER, ip), *chain, count;
	uint64_t addr = p->last_addr;
	struct addr_slot *s = NULL;

	if (!id)
		return -ENOMEM;
	if (!p->opts.no_inline && p->frames[id - 1].kind == PYPERF_FRAME_NATIVE &&
	    p->frames[id - 1].sym) {
		for (size_t j = addr_hash(ip, gen, PYPERF_CPUMODE_USER) & (p->aslots_cap - 1);
		     p->aslots[j].frame; j = (j + 1) & (p->aslots_cap - 1))
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
		push_frame(p, (size_t)n, id, ip);
		return n + 1;
	}
	chain = p->inl + s->inl - 2;
	/* the functions inlined at @ip, then its own: one address */
	for (uint32_t k = 0; k < count; k++)
		push_frame(p, (size_t)n + k, chain[1 + k] + 1, ip);
	return n + count;
}

static uint64_t chain_hash(uint32_t thread_node, uint64_t gen, uint8_t cpumode, const uint64_t *ips,
			   uint64_t nr)
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

static int chains_grow(struct pyperf_profile *p)
{
	return pp_table_grow((void **)&p->chains, &p->chains_cap, 8192, sizeof(*p->chains),
			     chain_slot_hash, NULL);
}

/* ---- views ------------------------------------------------------------------------------- */

#define FC_DONE 1
#define FC_PYTHON 2  /* a py:: frame */
#define FC_INTERP 4  /* code of the interpreter: libpython, or a static python binary */
#define FC_BUILTIN 8 /* the C function of a Python builtin that blocks */

/*
 * C functions of CPython builtins where Python code waits, by the name
 * Python code calls them with. Python and mixed views show them as frames
 * ("time.sleep (built-in)") between the Python caller and the kernel, so
 * that an off-CPU profile says what the program waited in. The C names are
 * those of CPython 3.8-3.13 (Modules/timemodule.c, _threadmodule.c,
 * socketmodule.c, selectmodule.c, posixmodule.c, _io, _queuemodule.c).
 */
static const struct {
	const char *c_name, *py_name;
} builtins[] = {
    {"time_sleep", "time.sleep"},
    {"lock_PyThread_acquire_lock", "lock.acquire"},
    {"rlock_acquire", "RLock.acquire"},
    {"sock_recv", "socket.recv"},
    {"sock_recv_into", "socket.recv_into"},
    {"sock_recvfrom", "socket.recvfrom"},
    {"sock_recvfrom_into", "socket.recvfrom_into"},
    {"sock_send", "socket.send"},
    {"sock_sendall", "socket.sendall"},
    {"sock_accept", "socket.accept"},
    {"sock_connect", "socket.connect"},
    {"select_select", "select.select"},
    {"select_select_impl", "select.select"},
    {"select_poll_poll", "poll.poll"},
    {"select_poll_poll_impl", "poll.poll"},
    {"select_epoll_poll", "epoll.poll"},
    {"select_epoll_poll_impl", "epoll.poll"},
    {"os_read", "os.read"},
    {"os_read_impl", "os.read"},
    {"os_write", "os.write"},
    {"os_write_impl", "os.write"},
    {"os_waitpid", "os.waitpid"},
    {"os_waitpid_impl", "os.waitpid"},
    {"os_wait", "os.wait"},
    {"os_waitid", "os.waitid"},
    {"_io_FileIO_read", "FileIO.read"},
    {"_io_FileIO_read_impl", "FileIO.read"},
    {"_io_FileIO_readinto", "FileIO.readinto"},
    {"_io_FileIO_readall", "FileIO.readall"},
    {"_io_FileIO_write", "FileIO.write"},
    {"_queue_SimpleQueue_get", "SimpleQueue.get"},
    {"_queue_SimpleQueue_get_impl", "SimpleQueue.get"},
    {"builtin_input", "input"},
};

static const char *builtin_name(const char *c_name)
{
	for (size_t i = 0; i < sizeof(builtins) / sizeof(builtins[0]); i++)
		if (!strcmp(builtins[i].c_name, c_name))
			return builtins[i].py_name;
	return NULL;
}

/* "libpython3.12.so.1.0", "python3.12", "python3", "python3.12d" */
static bool interpreter_dso(const struct pyperf_dso *d)
{
	const char *n = d ? pyperf_dso__short_name(d) : "";

	if (!strncmp(n, "libpython", 9))
		return n[9] >= '2' && n[9] <= '9';
	if (strncmp(n, "python", 6) || !(n[6] >= '2' && n[6] <= '9'))
		return false;
	for (n += 7; *n; n++)
		if (!(*n == '.' || (*n >= '0' && *n <= '9') || *n == 'd' || *n == 'm' || *n == 'u'))
			return false;
	return true;
}

static uint8_t frame_class(struct pyperf_profile *p, uint32_t id)
{
	size_t old = p->fclass_cap;

	if (id >= p->fclass_cap) {
		size_t cap = p->fclass_cap, cap2 = p->fclass_cap;

		if (PP_GROW(p->fclass, cap, p->nr_frames) ||
		    PP_GROW(p->view_of, cap2, p->nr_frames))
			return 0;
		p->fclass_cap = MIN(cap, cap2);
		memset(p->fclass + old, 0, p->fclass_cap - old);
		memset(p->view_of + old, 0, (p->fclass_cap - old) * sizeof(*p->view_of));
	}
	if (!p->fclass[id]) {
		const struct pyperf_frame *f = &p->frames[id];
		uint8_t c = FC_DONE;

		if (f->kind == PYPERF_FRAME_PYTHON && f->sym && !strncmp(f->sym->name, "py::", 4))
			c |= FC_PYTHON;
		else if (f->kind == PYPERF_FRAME_NATIVE && interpreter_dso(f->dso))
			c |= FC_INTERP;
		if (f->kind == PYPERF_FRAME_NATIVE && f->sym && builtin_name(f->sym->name))
			c |= FC_BUILTIN;
		p->fclass[id] = c;
	}
	return p->fclass[id];
}

/* A view frame: @name (copied) under dso @dso_name of @kind. id + 1, 0 on ENOMEM. */
static uint32_t view_frame(struct pyperf_profile *p, const char *name, const char *dso_name,
			   enum pyperf_dso_kind dso_kind)
{
	const char *n = pp_strtab_intern(&p->strings, name, strlen(name));
	struct frame_key k = {(uintptr_t)n, 0, 0, KEY_VIEW};
	struct pyperf_frame *f;
	struct pyperf_symbol *sym;
	uint32_t id;

	if (!n)
		return 0;
	id = frame_intern(p, &k, &f);
	if (!id || !f)
		return id;
	sym = pp_arena_alloc(&p->arena, sizeof(*sym));
	f->dso = symbols_add_dso(p->syms, dso_name, dso_kind, NULL, 0);
	if (!sym || !f->dso)
		return 0;
	f->dso->loaded = true;
	/* a range of its own, so that perf-style symbol keys tell them apart */
	sym->start = (uint64_t)id << 4;
	sym->end = sym->start + 1;
	sym->name = n;
	f->kind = dso_kind == PYPERF_DSO_PYTHON ? PYPERF_FRAME_PYTHON : PYPERF_FRAME_NATIVE;
	f->cpumode = PYPERF_CPUMODE_USER;
	f->sym = sym;
	f->name = n;
	f->ip = f->addr = sym->start;
	return id;
}

/* "py::Class.method:/path/file.py" -> "Class.method (file.py)" */
static uint32_t python_view_frame(struct pyperf_profile *p, uint32_t id)
{
	const char *full = p->frames[id].sym->name + 4, *colon = strchr(full, ':');
	const char *file = colon ? colon + 1 : "?", *base = strrchr(file, '/');
	char buf[1024];

	if (p->view_of[id])
		return p->view_of[id];
	snprintf(buf, sizeof(buf), "%.*s (%s)", colon ? (int)(colon - full) : (int)strlen(full),
		 full, p->opts.full_path || !base ? file : base + 1);
	p->view_of[id] = view_frame(p, buf, file, PYPERF_DSO_PYTHON);
	return p->view_of[id];
}

/* "time_sleep" -> "time.sleep (built-in)" */
static uint32_t builtin_view_frame(struct pyperf_profile *p, uint32_t id)
{
	char buf[128];

	if (p->view_of[id])
		return p->view_of[id];
	snprintf(buf, sizeof(buf), "%s (built-in)", builtin_name(p->frames[id].sym->name));
	p->view_of[id] = view_frame(p, buf, "<built-in>", PYPERF_DSO_PYTHON);
	return p->view_of[id];
}

/*
 * Rewrites p->stack (leaf first, @n frames) for the python and mixed views.
 * Returns the new length, or -ENOMEM.
 */
static long apply_view(struct pyperf_profile *p, long n)
{
	long outer = -1, w = 0;

	if (p->opts.view == PYPERF_VIEW_NATIVE)
		return n;
	for (long i = 0; i < n; i++) {
		uint8_t c = frame_class(p, p->stack[i]);

		if (!c)
			return -ENOMEM;
		if (c & FC_PYTHON)
			outer = i;
	}
	if (outer < 0) {
		if (p->opts.view == PYPERF_VIEW_MIXED)
			return n;
		/* no Python at all: one [native] frame */
		if (!p->native_frame)
			p->native_frame = view_frame(p, "[native]", "[native]", PYPERF_DSO_ANON);
		if (!p->native_frame)
			return -ENOMEM;
		p->stack[0] = p->native_frame - 1;
		return 1;
	}
	for (long i = 0; i < n; i++) {
		uint8_t c = p->fclass[p->stack[i]];
		uint32_t v;

		if (c & FC_PYTHON) {
			v = python_view_frame(p, p->stack[i]);
			if (!v)
				return -ENOMEM;
			move_frame(p, w++, i, v - 1);
		} else if ((c & FC_BUILTIN) && i < outer) {
			v = builtin_view_frame(p, p->stack[i]);
			if (!v)
				return -ENOMEM;
			/* one call, two C functions (a wrapper and its _impl,
			 * both kept apart on 3.8): one frame */
			if (!w || p->stack[w - 1] != v - 1)
				move_frame(p, w++, i, v - 1);
		} else if (p->opts.view == PYPERF_VIEW_PYTHON) {
			/* native code: charged to the Python frame above it, or
			 * to a [native] leaf when asked, if the time was spent
			 * outside the interpreter (C extensions, libc, kernel):
			 * the interpreter running bytecode is the Python frame's
			 * own time */
			if (i == 0 && p->opts.native_leaf && !(c & FC_INTERP)) {
				if (!p->native_frame)
					p->native_frame =
					    view_frame(p, "[native]", "[native]", PYPERF_DSO_ANON);
				if (!p->native_frame)
					return -ENOMEM;
				move_frame(p, w++, 0, p->native_frame - 1);
			}
		} else if (!(i < outer && (c & FC_INTERP))) {
			move_frame(p, w++, i, p->stack[i]);
		}
	}
	return w;
}

/* ---- samples ------------------------------------------------------------------------- */

static bool filtered_out(const struct pyperf_profile *p, struct pyperf_thread *th)
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
static bool time_filtered(struct pyperf_profile *p, const struct pyperf_sample *s)
{
	if (!p->opts.nr_time_ranges || !(s->present & PYPERF_SAMPLE_TIME) ||
	    pyperf_time_range__keep(p->time_ranges, p->opts.nr_time_ranges, s->time))
		return false;
	p->stats.samples_time_filtered++;
	return true;
}

static uint32_t event_node(struct pyperf_profile *p, const char *name, uint32_t *event_idx)
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
		id = frame_intern(p, &k, &f);
		if (!id)
			return 0;
		if (f) {
			f->kind = PYPERF_FRAME_EVENT;
			f->event = (uint32_t)i;
			f->name = p->events[i].name;
		}
		p->events[i].node = node_child(p, 0, id - 1);
		if (!p->events[i].node)
			return 0;
		p->nr_events++;
	}
	*event_idx = (uint32_t)i;
	p->last_event_name = name;
	p->last_event = (uint32_t)i;
	return p->events[i].node;
}

static uint32_t thread_node(struct pyperf_profile *p, uint32_t ev_node, struct pyperf_thread *th)
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
	id = frame_intern(p, &k, &f);
	if (!id)
		return 0;
	if (f) {
		f->kind = PYPERF_FRAME_THREAD;
		f->name = comm;
		f->pid = pid;
		f->tid = tid;
	}
	node = node_child(p, ev_node, id - 1);
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
		id = resolve_ip(p, th, cpumode, ip);
		if (!id)
			return -ENOMEM;
		push_frame(p, n++, id, ip);
	}
	nu = pyperf_unwinder__unwind(p->unwinder, th, s, p->uips, p->max_unwind, &stop);
	p->stats.unwound_samples++;
	*cut = pyperf_unwind_stop__cut(stop);
	for (size_t i = 0; i < nu; i++) {
		long m = push_unwound(p, th, p->uips[i], (long)n);

		if (m < 0)
			return m;
		n = (size_t)m;
	}
	if (!n) {
		uint32_t id = resolve_ip(p, th, (uint8_t)s->cpumode, s->ip);

		if (!id)
			return -ENOMEM;
		push_frame(p, n++, id, s->ip);
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
		uint32_t id = resolve_ip(p, th, (uint8_t)s->cpumode, s->ip);

		if (!id)
			return -ENOMEM;
		push_frame(p, 0, id, s->ip);
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
		id = resolve_ip(p, th, cpumode, ip);
		if (!id)
			return -ENOMEM;
		push_frame(p, n++, id, ip);
	}
	if (*cut == PYPERF_CUT_NONE && n) {
		if (addrs >= kernel_chain_limit(rec->attr))
			*cut = PYPERF_CUT_MAX_STACK;
		else if (unmapped_user_frame(p, p->stack[n - 1]))
			*cut = PYPERF_CUT_BAD_FRAME;
	}
	if (n == 0) {
		/* No usable chain: the sample address alone. */
		uint32_t id = resolve_ip(p, th, (uint8_t)s->cpumode, s->ip);

		if (!id)
			return -ENOMEM;
		push_frame(p, n++, id, s->ip);
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
		p->truncated_frame = view_frame(p, "[truncated]", "[truncated]", PYPERF_DSO_ANON);
		if (p->truncated_frame)
			p->frames[p->truncated_frame - 1].kind = PYPERF_FRAME_TRUNCATED;
	}
	return p->truncated_frame;
}

/*
 * The stack of a sample in the view asked for, in p->stack (leaf first),
 * a cut one under [truncated]: the frames, or -ENOMEM.
 */
static long sample_stack(struct pyperf_profile *p, struct pyperf_thread *th,
			 const struct pyperf_record *rec, enum pyperf_stack_cut *cut)
{
	long n = build_stack(p, th, rec, cut);

	if (n >= 0)
		n = apply_view(p, n);
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

static void count_cut(struct pyperf_profile *p, enum pyperf_stack_cut cut)
{
	if (cut == PYPERF_CUT_NONE)
		return;
	p->stats.truncated_stacks++;
	p->stats.stacks_cut[cut < PYPERF_CUT_NR ? cut : PYPERF_CUT_CORRUPT]++;
}

static void count_sample(struct pyperf_profile *p, uint32_t leaf, uint64_t period)
{
	p->nodes[leaf].self_samples++;
	p->nodes[leaf].self_period += period;
	p->stats.samples++;
	if (!p->nodes[leaf].first_sample)
		p->nodes[leaf].first_sample = p->stats.samples;
	p->finished = p->totals_done = false;
}

/* @event: the event the sample counts under (its own, or "wall") */
static int add_sample(struct pyperf_profile *p, struct pyperf_machine *m,
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
	size_t j;
	long n;

	if (time_filtered(p, s))
		return 0;
	ev = event_node(p, event, &evi);
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
	if (filtered_out(p, th)) {
		p->stats.samples_filtered++;
		return 0;
	}
	tn = thread_node(p, ev, th);
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
	h = chain_hash(tn, gen, cpumode, ips, nr_ips);
	if ((p->chains_used + 1) * 2 > p->chains_cap && chains_grow(p))
		return -ENOMEM;
	for (j = h & (p->chains_cap - 1); cacheable && p->chains[j].e;
	     j = (j + 1) & (p->chains_cap - 1)) {
		const struct chain_entry *c = p->chains[j].e;

		if (p->chains[j].hash == h && c->gen == gen && c->thread_node == tn &&
		    c->nr == nr_ips && c->cpumode == cpumode && !memcmp(c->ips, ips, nr_ips * 8)) {
			count_sample(p, c->leaf, s->period);
			if (p->opts.timeline &&
			    pp_timeline_add(&p->timeline, tn, c->leaf, s->time, s->period))
				return -ENOMEM;
			p->stats.unresolved_frames += c->unresolved;
			p->stats.samples_python += c->python;
			p->stats.samples_no_callchain += c->no_callchain;
			count_cut(p, (enum pyperf_stack_cut)c->cut);
			return 0;
		}
	}

	n = sample_stack(p, th, rec, &cut);
	if (n < 0)
		return (int)n;
	leaf = tn;
	for (long i = n - 1; i >= 0; i--) {
		leaf = node_child(p, leaf, p->stack[i]);
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
	count_sample(p, leaf, s->period);
	count_cut(p, cut);
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

/* ---- off-CPU time ---------------------------------------------------------------------- */

static bool is_sched_switch(const struct pyperf_profile *p, const struct pyperf_attr *attr)
{
	if (attr->type != PERF_TYPE_TRACEPOINT)
		return false;
	if (tp_formats_is_sched_switch(p->tracing, attr->config))
		return true;
	/* no tracing data, or its sched_switch format damaged (the records
	 * are switches still, with their state unknown): the event's name */
	return attr->name && !strncmp(attr->name, "sched:sched_switch", 18);
}

/* Clock events count nanoseconds in their period: they add up with time. */
static bool is_clock_event(const struct pyperf_attr *attr)
{
	return attr->type == PERF_TYPE_SOFTWARE && (attr->config == PERF_COUNT_SW_CPU_CLOCK ||
						    attr->config == PERF_COUNT_SW_TASK_CLOCK);
}

/* The slot of @tid; with @create, a new one if it has none. */
static struct off_cpu_slot *offcpu_slot(struct pyperf_profile *p, int32_t tid, bool create)
{
	size_t i;

	if (tid <= 0)
		return NULL;
	if (create && (p->offcpu_used + 1) * 2 > p->offcpu_cap) {
		size_t ncap = p->offcpu_cap ? p->offcpu_cap * 2 : 256;
		struct off_cpu_slot *n = pp_calloc(ncap, sizeof(*n));

		if (!n)
			return NULL;
		for (size_t j = 0; j < p->offcpu_cap; j++) {
			if (!p->offcpu[j].tid)
				continue;
			for (i = hash_u64((uint64_t)p->offcpu[j].tid) & (ncap - 1); n[i].tid;
			     i = (i + 1) & (ncap - 1))
				;
			n[i] = p->offcpu[j];
		}
		free(p->offcpu);
		p->offcpu = n;
		p->offcpu_cap = ncap;
	}
	if (!p->offcpu_cap)
		return NULL;
	for (i = hash_u64((uint64_t)tid) & (p->offcpu_cap - 1); p->offcpu[i].tid;
	     i = (i + 1) & (p->offcpu_cap - 1))
		if (p->offcpu[i].tid == tid)
			return &p->offcpu[i];
	if (!create)
		return NULL;
	p->offcpu[i].tid = tid;
	p->offcpu_used++;
	return &p->offcpu[i];
}

static void offcpu_close(struct pyperf_profile *p, struct off_cpu_slot *sl, uint64_t now)
{
	uint64_t ns = now > sl->since ? now - sl->since : 0;

	count_sample(p, sl->leaf, ns);
	p->events[sl->event].samples++;
	p->events[sl->event].period += ns;
	p->stats.off_cpu_intervals++;
	p->stats.off_cpu_ns += ns;
	sl->leaf = 0;
	p->offcpu_open--;
}

/* Thread @tid is seen running at @now (a sample, a switch-in, its exit):
 * whatever time it was off CPU ends there. */
static void offcpu_ran(struct pyperf_profile *p, int32_t tid, uint64_t now)
{
	struct off_cpu_slot *sl;

	if (!p->offcpu_open)
		return;
	sl = offcpu_slot(p, tid, false);
	if (sl && sl->leaf && now > sl->since)
		offcpu_close(p, sl, now);
}

/* "[off-cpu: S]": the state the thread left the CPU in, as a leaf. */
static uint32_t state_frame(struct pyperf_profile *p, const char *state)
{
	char buf[32];
	uint32_t id;

	snprintf(buf, sizeof(buf), "[off-cpu: %s]", state);
	id = view_frame(p, buf, "[off-cpu]", PYPERF_DSO_ANON);
	if (id) {
		p->frames[id - 1].kind = PYPERF_FRAME_KERNEL;
		p->frames[id - 1].cpumode = PYPERF_CPUMODE_KERNEL;
	}
	return id;
}

/*
 * A sched_switch sample: the thread in the sample's pid/tid leaves the CPU
 * with the sample's stack. The time until it runs again goes to that stack.
 * In system-wide recordings the switch also says who comes in: that
 * thread's off-CPU time ends here, exactly.
 */
static int offcpu_switch_out(struct pyperf_profile *p, struct pyperf_machine *m,
			     const struct pyperf_record *rec, const char *event)
{
	const struct pyperf_sample *s = &rec->sample;
	struct tp_switch sw = {0, 0, "?"};
	struct off_cpu_slot *sl;
	struct pyperf_thread *th;
	uint32_t ev, evi, leaf, state;
	enum pyperf_stack_cut cut;
	long n;

	p->stats.switches++;
	if (!(s->present & PYPERF_SAMPLE_TID) || !(s->present & PYPERF_SAMPLE_TIME))
		return 0;
	if (!p->tracing ||
	    tp_formats_sched_switch(p->tracing, rec->attr->config, s->raw, s->raw_size, &sw)) {
		p->stats.switches_undecoded++;
		sw.prev_state = "?";
		sw.next_pid = 0;
	}
	if (sw.next_pid > 0)
		offcpu_ran(p, sw.next_pid, s->time);
	/* It ran since it last left: that interval ended before now. */
	offcpu_ran(p, (int32_t)s->tid, s->time);
	if (time_filtered(p, s))
		return 0;
	th = pyperf_machine__findnew_thread(m, (int32_t)s->pid, (int32_t)s->tid);
	if (!th)
		return -ENOMEM;
	if (filtered_out(p, th)) {
		p->stats.samples_filtered++;
		return 0;
	}
	ev = event_node(p, event, &evi);
	if (!ev)
		return -ENOMEM;
	p->events[evi].in_ns = true;
	leaf = thread_node(p, ev, th);
	if (!leaf)
		return -ENOMEM;
	n = sample_stack(p, th, rec, &cut);
	if (n < 0)
		return (int)n;
	count_cut(p, cut);
	for (long i = n - 1; i >= 0; i--) {
		leaf = node_child(p, leaf, p->stack[i]);
		if (!leaf)
			return -ENOMEM;
	}
	state = state_frame(p, sw.prev_state);
	if (!state || !(leaf = node_child(p, leaf, state - 1)))
		return -ENOMEM;
	sl = offcpu_slot(p, (int32_t)s->tid, true);
	if (!sl)
		return -ENOMEM;
	sl->leaf = leaf;
	sl->event = evi;
	sl->since = s->time;
	p->offcpu_open++;
	return 0;
}

/* The end of a file: threads still off CPU were so until its last event. */
static void offcpu_end_file(struct pyperf_profile *p)
{
	for (size_t i = 0; i < p->offcpu_cap && p->offcpu_open; i++) {
		if (p->offcpu[i].tid && p->offcpu[i].leaf) {
			offcpu_close(p, &p->offcpu[i], p->last_time);
			p->stats.off_cpu_open_at_end++;
		}
	}
	if (p->offcpu)
		memset(p->offcpu, 0, p->offcpu_cap * sizeof(*p->offcpu));
	p->offcpu_used = 0;
	p->offcpu_open = 0;
	p->last_time = 0;
}

/* Routes a sample by the weight asked for. */
static int weigh_sample(struct pyperf_profile *p, struct pyperf_machine *m,
			const struct pyperf_record *rec)
{
	const struct pyperf_attr *attr = rec->attr;
	const struct pyperf_sample *s = &rec->sample;
	enum pyperf_weight wt = p->opts.weight;
	bool sw;

	if (wt == PYPERF_WEIGHT_EVENTS)
		return add_sample(p, m, rec, attr->name ? attr->name : "unknown");
	sw = is_sched_switch(p, attr);
	if (sw) {
		if (wt == PYPERF_WEIGHT_CPU) {
			p->stats.samples_other_weight++;
			return 0;
		}
		return offcpu_switch_out(p, m, rec, wt == PYPERF_WEIGHT_WALL ? "wall" : "off-cpu");
	}
	if ((s->present & PYPERF_SAMPLE_TID) && (s->present & PYPERF_SAMPLE_TIME))
		offcpu_ran(p, (int32_t)s->tid, s->time);
	if (wt == PYPERF_WEIGHT_CPU)
		return attr->type == PERF_TYPE_TRACEPOINT
			   ? (p->stats.samples_other_weight++, 0)
			   : add_sample(p, m, rec, attr->name ? attr->name : "unknown");
	if (wt == PYPERF_WEIGHT_WALL && is_clock_event(attr)) {
		uint32_t evi;

		if (!event_node(p, "wall", &evi))
			return -ENOMEM;
		p->events[evi].in_ns = true;
		return add_sample(p, m, rec, "wall");
	}
	/* off-cpu: on-CPU samples only tell when threads run */
	p->stats.samples_other_weight++;
	return 0;
}

/* A record that shows a thread running (switch-in) or gone (exit). */
static void offcpu_note_record(struct pyperf_profile *p, const struct pyperf_record *rec)
{
	const struct pyperf_sample *s = &rec->sample;

	if (rec->type == PYPERF_RECORD_EXIT) {
		offcpu_ran(p, (int32_t)rec->task.tid, rec->task.time);
	} else if (rec->type == PYPERF_RECORD_SWITCH ||
		   rec->type == PYPERF_RECORD_SWITCH_CPU_WIDE) {
		if (!(rec->misc & PERF_RECORD_MISC_SWITCH_OUT) &&
		    (s->present & PYPERF_SAMPLE_TID) && (s->present & PYPERF_SAMPLE_TIME))
			offcpu_ran(p, (int32_t)s->tid, s->time);
	}
}

/* ---- files ----------------------------------------------------------------------------- */

PYPERF_API int pyperf_profile__add_data(struct pyperf_profile *p, struct pyperf_data *data,
					struct pyperf_error *err)
{
	struct pyperf_machine *m = pyperf_machine__new(p->syms, data);
	const struct pyperf_data_stats *ds = pyperf_data__stats(data);
	const struct pyperf_record *rec;
	uint64_t total = pyperf_data__data_size(data), n = 0;
	int ret;

	if (!m)
		return pyperf_err(-ENOMEM);
	p->last_event_name = NULL; /* the names of an earlier file may be gone */
	if (!p->command) {
		size_t argc = 0;
		const char *const *argv = pyperf_data__cmdline(data, &argc);
		char *cmd;
		size_t len = 0;

		for (size_t i = 0; argv && i < argc; i++)
			len += strlen(argv[i]) + 1;
		cmd = len ? pp_malloc(len) : NULL;
		if (len && !cmd)
			p->nomem = true;
		if (cmd) {
			char *w = cmd;

			for (size_t i = 0; i < argc; i++) {
				size_t alen = strlen(argv[i]);

				memcpy(w, argv[i], alen);
				w += alen;
				*w++ = i + 1 < argc ? ' ' : 0;
			}
			p->command = pp_strtab_intern(&p->strings, cmd, len - 1);
			if (!p->command)
				p->nomem = true;
			free(cmd);
		}
	}
	/* Perf maps and jitdumps copied into the recording win over /tmp,
	 * which may be gone or hold another run's files under the same pid.
	 * Both name the anonymous code of their process; a perf map wins. */
	for (int kind = 1; kind <= 2; kind++) {
		for (size_t i = 0; i < pyperf_data__nr_embedded_files(data); i++) {
			const struct pyperf_embedded_file *f = pyperf_data__embedded_file(data, i);
			uint64_t tag = hash_bytes(f->data, f->size, HASH_SEED);
			struct pyperf_dso *dso;
			char name[64];
			int err2 = 0;

			if ((int)f->kind != kind)
				continue;
			snprintf(name, sizeof(name), "/tmp/perf-%d.map", f->pid);
			if (kind == 2 && machine_has_override(m, name))
				continue;
			dso = symbols_add_dso(p->syms, name, PYPERF_DSO_PERF_MAP,
					      (const uint8_t *)&tag, sizeof(tag));
			if (dso && !dso->loaded)
				err2 = kind == 1 ? pyperf_dso__set_perf_map(dso, f->data, f->size)
						 : pyperf_dso__set_jitdump(dso, f->data, f->size);
			if (err2 == -EBADMSG)
				continue;
			if (!dso || err2 || machine_override_dso(m, name, dso)) {
				pyperf_machine__free(m);
				memset(p->thread_memo, 0,
				       sizeof(p->thread_memo)); /* its threads and comms are gone */
				return pyperf_err(-ENOMEM);
			}
		}
	}
	if (p->opts.weight == PYPERF_WEIGHT_OFF_CPU || p->opts.weight == PYPERF_WEIGHT_WALL ||
	    p->opts.weight == PYPERF_WEIGHT_CPU) {
		uint64_t size = 0;
		const void *td = pyperf_data__feature(data, PYPERF_FEAT_TRACING_DATA, &size);

		struct pyperf_error terr = {0};

		tp_formats_free(p->tracing);
		/* Without it (or when it is damaged) switches still count;
		 * their state is unknown. */
		p->tracing = td ? tp_formats_parse(td, size, pyperf_data__name(data), &terr) : NULL;
		if (td && !p->tracing && terr.code == -ENOMEM)
			p->nomem = true;
	}
	while ((ret = pyperf_data__next_ordered(data, &rec, err)) > 0) {
		if ((rec->sample.present & PYPERF_SAMPLE_TIME) && rec->sample.time > p->last_time)
			p->last_time = rec->sample.time;
		if (rec->type == PYPERF_RECORD_SAMPLE) {
			if (!rec->attr)
				continue;
			ret = weigh_sample(p, m, rec);
		} else {
			if (p->offcpu_open)
				offcpu_note_record(p, rec);
			ret = pyperf_machine__process(m, rec);
		}
		if (ret < 0) {
			pyperf_error_set(err, ret, rec->offset, pyperf_data__name(data),
					 "out of memory");
			break;
		}
		if (p->opts.progress && !(++n & 0xffff))
			p->opts.progress(p->opts.progress_ctx, rec->offset, total);
	}
	if (p->opts.progress)
		p->opts.progress(p->opts.progress_ctx, total, total);
	offcpu_end_file(p);
	/* LOST records count what a ring buffer dropped; LOST_SAMPLES, written
	 * at the end by perf record (6.0+) and pyperf-record, hold the
	 * kernel's count per event, those same samples included: one or the
	 * other, never their sum. perf's "Total Lost Samples" is the latter. */
	p->stats.lost_samples += ds->lost_samples ? ds->lost_samples : ds->lost_records;
	p->stats.lost_chunks += ds->records[PYPERF_RECORD_LOST];
	p->lost_reported += ds->lost_samples;
	p->stats.malformed_records += ds->malformed_records;
	p->stats.unknown_records += ds->unknown_records;
	p->stats.out_of_order += ds->out_of_order;
	p->stats.processes += pyperf_machine__nr_processes(m);
	p->stats.threads += pyperf_machine__nr_threads(m);
	p->stats.files++;
	pyperf_machine__free(m);
	memset(p->thread_memo, 0, sizeof(p->thread_memo)); /* its threads and comms are gone */
	if (ret >= 0 && (ret = pp_profile_check(p)))
		pyperf_error_set(err, ret, PYPERF_NO_OFFSET, pyperf_data__name(data),
				 "out of memory");
	return pyperf_err(ret < 0 ? ret : 0);
}

int pp_profile_check(const struct pyperf_profile *p)
{
	const struct pyperf_symbols_stats *ss = pyperf_symbols__stats(p->syms);

	if (p->nomem || ss->alloc_failures ||
	    (p->unwinder && pyperf_unwinder__stats(p->unwinder)->alloc_failures))
		return -ENOMEM;
	return 0;
}

int pp_write_done(const struct pyperf_profile *p, FILE *out, int ret)
{
	if (ret)
		return ret;
	/* what is still buffered must reach the file for its errors to show
	 * (ENOSPC of a full disk, say) */
	errno = 0;
	if (fflush(out))
		return errno ? -errno : -EIO;
	if (ferror(out))
		return -EIO;
	return pp_profile_check(p);
}

PYPERF_API int pyperf_profile__add_file(struct pyperf_profile *p, const char *path,
					struct pyperf_error *err)
{
	PYPERF_OPTS(pyperf_data_open_opts, o, .force = p->opts.force);
	struct pyperf_data *d = pyperf_data__open(path, &o, err);
	int ret;

	if (!d)
		return -errno;
	ret = pyperf_profile__add_data(p, d, err);
	pyperf_data__close(d);
	return pyperf_err(ret);
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
