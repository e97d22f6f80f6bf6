// SPDX-License-Identifier: MIT
/*
 * perf report --stdio, reproduced: flat reports with Overhead (or
 * Children/Self) columns, hierarchical reports (--hierarchy), and the call
 * graphs under entries. Grouping keys compare as perf's sort keys do
 * (comm and dso by name, symbols by address range, unresolved addresses by
 * their dso-relative value), columns are sized and laid out as perf lays
 * them out, and call graphs follow ui/stdio/hist.c: a tree whose nodes hold
 * runs of frames, children by weight, branches under 0.5% of the total
 * hidden.
 */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <pyperf/output.h>
#include "internal.h"
#include "outfmt.h"
#include "symbols_internal.h"

#define HIERARCHY_INDENT 3
#define MAX_KEYS 8
#define ADDR_WIDTH 16 /* hex digits of an unresolved address */

/* ---- parsing ------------------------------------------------------------------ */

static int parse_list(const char *s, const char *const *names, const int *values, size_t n,
		      int *out, size_t max)
{
	size_t count = 0;
	const char *p = s;

	if (!s || !*s)
		return pyperf_err(-EINVAL);
	while (*p) {
		size_t len = strcspn(p, ",");
		size_t i;

		for (i = 0; i < n; i++)
			if (strlen(names[i]) == len && !strncmp(names[i], p, len))
				break;
		if (i == n || count == max)
			return pyperf_err(-EINVAL);
		out[count++] = values[i];
		p += len;
		if (*p == ',') {
			p++;
			if (!*p)
				return pyperf_err(-EINVAL);
		}
	}
	return (int)count;
}

PYPERF_API int pyperf_sort_key__parse(const char *s, enum pyperf_sort_key *keys, size_t max)
{
	static const char *const names[] = {"comm", "pid", "tid", "dso", "sym", "symbol", "sample"};
	static const int values[] = {PYPERF_SORT_COMM,	PYPERF_SORT_PID, PYPERF_SORT_TID,
				     PYPERF_SORT_DSO,	PYPERF_SORT_SYM, PYPERF_SORT_SYM,
				     PYPERF_SORT_SAMPLE};
	int tmp[MAX_KEYS];
	int n = parse_list(s, names, values, ARRAY_SIZE(names), tmp, MIN(max, (size_t)MAX_KEYS));

	for (int i = 0; i < n; i++)
		keys[i] = (enum pyperf_sort_key)tmp[i];
	return n;
}

PYPERF_API int pyperf_field__parse(const char *s, enum pyperf_field *fields, size_t max)
{
	static const char *const names[] = {"overhead", "children", "sample", "period", "comm",
					    "pid",	"tid",	    "dso",    "sym",	"symbol"};
	static const int values[] = {
	    PYPERF_FIELD_OVERHEAD, PYPERF_FIELD_CHILDREN, PYPERF_FIELD_SAMPLE, PYPERF_FIELD_PERIOD,
	    PYPERF_FIELD_COMM,	   PYPERF_FIELD_PID,	  PYPERF_FIELD_TID,    PYPERF_FIELD_DSO,
	    PYPERF_FIELD_SYM,	   PYPERF_FIELD_SYM};
	int tmp[16];
	int n = parse_list(s, names, values, ARRAY_SIZE(names), tmp, MIN(max, (size_t)16));

	for (int i = 0; i < n; i++)
		fields[i] = (enum pyperf_field)tmp[i];
	return n;
}

/* ---- entries --------------------------------------------------------------------- */

/*
 * The value of the sort keys for a (thread, leaf frame) pair. Only the
 * members of the selected keys are set; the rest stay zero so that equal
 * keys compare equal bytewise.
 */
struct key {
	const char *comm; /* interned in the profile */
	int32_t pid, tid;
	const char *dso; /* short name, interned here */
	uint64_t sym_start, sym_end;
	uint64_t addr;	 /* unresolved */
	const char *inl; /* an inline symbol's name: apart from the function's */
	uint8_t has_sym;
};

struct entry {
	struct key key;
	const struct pyperf_frame *frame;  /* a representative leaf */
	const struct pyperf_frame *thread; /* a representative thread */
	uint64_t period, samples;	   /* self */
	uint64_t acc_period, acc_samples;  /* children */
	uint32_t *self_nodes;
	size_t nr_self, cap_self;
	uint32_t *roots; /* children mode: first occurrences */
	size_t nr_roots, cap_roots;
	unsigned max_depth; /* longest chain in its call graph */
	char level;	    /* '.' user, 'k' kernel */
	uint64_t first_seq; /* earliest sample seen creating it */
	/* hierarchy */
	struct entry *first_child, *next_sibling;
	unsigned depth;
	bool leaf;
};

struct writer {
	struct pyperf_profile *p;
	/* the profile's nodes: one array (profile.c), read in the hot loops
	 * without a call per node */
	const struct pyperf_node *nodes;
	struct pyperf_report_opts o;
	FILE *out;
	enum pyperf_sort_key keys[MAX_KEYS];
	size_t nr_keys;
	enum pyperf_field fields[16];
	size_t nr_fields;
	bool children;
	bool caller;
	bool skip_first_chain_entry;
	bool by_weight;		/* order entries by their percentage first */
	struct pp_strtab names; /* dso short names, labels */
	struct pp_arena arena;

	/* per event */
	uint32_t ev_node;
	uint64_t total_period, total_samples;
	struct entry *entries;
	size_t nr_entries, cap_entries;
	struct pp_hslot *slots;
	size_t slots_cap;

	uint32_t *height;     /* frames on the longest path below a node, itself included */
	uint32_t *first_leaf; /* the node below where the earliest sample ended */

	/* column widths */
	size_t w_comm, w_dso, w_sym, w_thread;

	/* call graph scratch */
	struct cnode *cn;
	size_t nr_cn, cap_cn;
	struct node_slot_c *cslots;
	size_t cslots_cap;
	size_t nr_cslots_used;
	uint32_t cgen; /* generation of the taken slots (never 0 once a graph starts) */
	/* caller order: walk position -> graph node of the path from the base
	 * being added down to it, valid where memo_gen is mgen */
	uint32_t *memo_cn, *memo_gen;
	uint32_t mgen;
	uint32_t *node_entry; /* node with samples -> its self entry + 1 */
	/* frame -> entry within one thread (fe_thread), valid where
	 * fe_gen_of is fe_gen: keys depend on the thread and the frame only */
	const struct pyperf_frame *fe_thread;
	uint32_t fe_gen, *fe_gen_of;
	long *fe_entry;
	/* The stack walk's visit order below the event (walk_ev), in which a
	 * subtree is a range: each node's position and subtree size, and the
	 * nodes with samples in that order with their positions. */
	uint32_t walk_ev;
	uint32_t *walk_pos, *walk_size, *sampled, *sampled_pos;
	size_t nr_sampled;
	/* by walk position: the parent's position, the frame, and whether the
	 * node is a thread's first frame (caller-order paths start there) */
	uint32_t *wpar, *wframe;
	/* frame -> the frame call graphs match it as (inlined: by name); a
	 * graph node keeps the frame that made it, as its label */
	uint32_t *canon;
	uint8_t *wtop;
	uint32_t *chain;
	size_t chain_cap;
	int err;
};

static const char *intern(struct writer *w, const char *s)
{
	return pp_strtab_intern(&w->names, s, strlen(s));
}

static bool has_key(const struct writer *w, enum pyperf_sort_key k)
{
	for (size_t i = 0; i < w->nr_keys; i++)
		if (w->keys[i] == k)
			return true;
	return false;
}

/* Dsos group by short name; addresses outside any map have none (NULL). */
static const char *dso_key(struct writer *w, const struct pyperf_frame *f)
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
static void make_key(struct writer *w, const struct pyperf_frame *thread,
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
static long entry_for(struct writer *w, const struct key *k, const struct pyperf_frame *thread,
		      const struct pyperf_frame *leaf)
{
	uint64_t h = key_hash(k);
	size_t j;

	if ((w->nr_entries + 1) * 2 > w->slots_cap &&
	    pp_hslots_grow(&w->slots, &w->slots_cap, 1024))
		return -1;
	for (j = h & (w->slots_cap - 1); w->slots[j].idx; j = (j + 1) & (w->slots_cap - 1)) {
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

static const struct pyperf_node *N(const struct writer *w, uint32_t id)
{
	return &w->nodes[id];
}

static const struct pyperf_frame *F(const struct writer *w, uint32_t id)
{
	return pyperf_profile__frame(w->p, N(w, id)->frame);
}

/* The entry of profile frame @frame in thread @th, made if new; -1 on ENOMEM. */
static long entry_of_frame(struct writer *w, const struct pyperf_frame *th, uint32_t frame)
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
	make_key(w, th, f, w->nr_keys, &k);
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
static uint32_t self_frame(const struct writer *w, uint32_t frame)
{
	uint32_t in = pyperf_profile__frame(w->p, frame)->inlined_in;

	return in ? in - 1 : frame;
}

/* Self entries: every node with samples, keyed by its frame. */
static int collect_self(struct writer *w, uint32_t thread_node)
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
			long e = entry_of_frame(w, th, self_frame(w, n->frame));

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
static int collect_children(struct writer *w, uint32_t thread_node)
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
		e = entry_of_frame(w, th, N(w, id)->frame);
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
			long be = entry_of_frame(w, th, self_frame(w, N(w, id)->frame));

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

static int key_cmp(const struct writer *w, const struct key *a, const struct key *b, size_t upto)
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
	const struct writer *sort_w = ctx;
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
			c = key_cmp(sort_w, &a->key, &b->key, i + 1);
		if (c)
			return c;
	}
	return 0;
}

/* ---- text of columns ---------------------------------------------------------------- */

static size_t sym_text(const struct entry *e, char *buf, size_t size)
{
	const struct pyperf_frame *f = e->frame;
	char level = e->level;

	if (f->sym)
		return (size_t)snprintf(buf, size, "[%c] %s", level, f->sym->name);
	/* perf's "%-#.*llx": zero has no 0x prefix */
	return (size_t)snprintf(buf, size, "[%c] %#.*" PRIx64, level, ADDR_WIDTH, f->addr);
}

static const char *dso_text(const struct entry *e)
{
	return e->frame->dso ? pyperf_dso__short_name(e->frame->dso) : "[unknown]";
}

static void compute_widths(struct writer *w)
{
	char buf[1024];

	w->w_comm = strlen("Command");
	w->w_dso = strlen("Shared Object");
	w->w_sym = strlen("Symbol");
	w->w_thread = strlen("    Pid:Command");
	for (size_t i = 0; i < w->nr_entries; i++) {
		const struct entry *e = &w->entries[i];
		size_t cl = strlen(e->thread->name);

		w->w_comm = MAX(w->w_comm, cl);
		w->w_thread = MAX(w->w_thread, cl + 8);
		w->w_dso = MAX(w->w_dso, strlen(dso_text(e)));
		if (!e->frame->sym)
			w->w_dso = MAX(w->w_dso, (size_t)ADDR_WIDTH);
		w->w_sym = MAX(w->w_sym, sym_text(e, buf, sizeof(buf)));
	}
}

static const char *field_header(const struct writer *w, enum pyperf_field f)
{
	switch (f) {
	case PYPERF_FIELD_OVERHEAD:
		return w->children ? "Self" : "Overhead";
	case PYPERF_FIELD_CHILDREN:
		return "Children";
	case PYPERF_FIELD_SAMPLE:
		return "Samples";
	case PYPERF_FIELD_PERIOD:
		return "Period";
	case PYPERF_FIELD_COMM:
		return "Command";
	case PYPERF_FIELD_PID:
		return "    Pid:Command";
	case PYPERF_FIELD_TID:
		return "    Tid:Command";
	case PYPERF_FIELD_DSO:
		return "Shared Object";
	case PYPERF_FIELD_SYM:
		return "Symbol";
	}
	return "";
}

static size_t field_width(const struct writer *w, enum pyperf_field f)
{
	switch (f) {
	case PYPERF_FIELD_OVERHEAD:
	case PYPERF_FIELD_CHILDREN:
		return 8;
	case PYPERF_FIELD_SAMPLE:
	case PYPERF_FIELD_PERIOD:
		return 12;
	case PYPERF_FIELD_COMM:
		return w->w_comm;
	case PYPERF_FIELD_PID:
	case PYPERF_FIELD_TID:
		return w->w_thread;
	case PYPERF_FIELD_DSO:
		return w->w_dso;
	case PYPERF_FIELD_SYM:
		return w->w_sym;
	}
	return 0;
}

static double pct(uint64_t part, uint64_t total)
{
	return total ? 100.0 * (double)part / (double)total : 0.0;
}

/* One column of an entry, padded to its width (the last one is not). */
static void field_text(struct writer *w, const struct entry *e, enum pyperf_field f, bool last,
		       char *buf, size_t size)
{
	char tmp[1024];
	size_t width = field_width(w, f);

	switch (f) {
	case PYPERF_FIELD_OVERHEAD:
		snprintf(tmp, sizeof(tmp), "%.2f%%", pct(e->period, w->total_period));
		snprintf(buf, size, "%*s", (int)width, tmp);
		return;
	case PYPERF_FIELD_CHILDREN:
		snprintf(tmp, sizeof(tmp), "%.2f%%", pct(e->acc_period, w->total_period));
		snprintf(buf, size, "%*s", (int)width, tmp);
		return;
	case PYPERF_FIELD_SAMPLE:
		/* perf counts the entry's own samples here, also with children */
		snprintf(buf, size, "%*" PRIu64, (int)width, e->samples);
		return;
	case PYPERF_FIELD_PERIOD:
		snprintf(buf, size, "%*" PRIu64, (int)width, e->period);
		return;
	case PYPERF_FIELD_COMM:
		snprintf(tmp, sizeof(tmp), "%s", e->thread->name);
		break;
	case PYPERF_FIELD_PID:
	case PYPERF_FIELD_TID:
		snprintf(tmp, sizeof(tmp), "%7d:%s", e->thread->tid, e->thread->name);
		break;
	case PYPERF_FIELD_DSO:
		snprintf(tmp, sizeof(tmp), "%s", dso_text(e));
		break;
	case PYPERF_FIELD_SYM:
		sym_text(e, tmp, sizeof(tmp));
		break;
	}
	/* perf pads every column but the symbol, even the last one */
	if (last && f == PYPERF_FIELD_SYM)
		snprintf(buf, size, "%s", tmp);
	else
		snprintf(buf, size, "%-*s", (int)width, tmp);
}

/* ---- call graphs --------------------------------------------------------------------- */

/* A call graph node: one frame; runs are formed at print time. */
struct cnode {
	uint32_t frame;
	uint32_t parent;
	uint32_t first_child, next_sibling;
	uint32_t nr_children;
	uint64_t hit, count;	     /* chains ending here */
	uint64_t cumul, cumul_count; /* chains through here */
};

/* A slot is taken when its gen is the writer's: a new graph (one per
 * entry printed) empties the table by moving to the next generation. The
 * table holds only children of nodes with many (GRAPH_LIST_MAX). */
struct node_slot_c {
	uint64_t key;
	uint32_t id; /* the graph root is 0, never in a slot */
	uint32_t gen;
};

/* Children of a graph node are found by walking its list while there
 * are few, as most nodes have; wider nodes index theirs in cslots. */
#define GRAPH_LIST_MAX 8

static bool cslot_hash(const void *slot, const void *ctx, uint64_t *hash)
{
	const struct node_slot_c *s = slot;

	*hash = hash_u64(s->key);
	return s->gen == *(const uint32_t *)ctx; /* zero (new) slots: never the generation */
}

static int cslots_grow(struct writer *w)
{
	return pp_table_grow((void **)&w->cslots, &w->cslots_cap, 1024, sizeof(*w->cslots),
			     cslot_hash, &w->cgen);
}

static void graph_reset(struct writer *w)
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
static int cslot_add(struct writer *w, uint32_t id)
{
	uint64_t key = (uint64_t)w->cn[id].parent << 32 | w->canon[w->cn[id].frame];
	size_t j;

	if ((w->nr_cslots_used + 1) * 2 > w->cslots_cap && cslots_grow(w))
		return -ENOMEM;
	for (j = hash_u64(key) & (w->cslots_cap - 1); w->cslots[j].gen == w->cgen;
	     j = (j + 1) & (w->cslots_cap - 1))
		;
	w->cslots[j] = (struct node_slot_c){key, id, w->cgen};
	w->nr_cslots_used++;
	return 0;
}

static uint32_t graph_child(struct writer *w, uint32_t parent, uint32_t frame)
{
	uint32_t id, key_frame = w->canon[frame];

	if (w->cn[parent].nr_children <= GRAPH_LIST_MAX) {
		for (uint32_t c = w->cn[parent].first_child; c; c = w->cn[c].next_sibling)
			if (w->canon[w->cn[c].frame] == key_frame)
				return c;
	} else {
		uint64_t key = (uint64_t)parent << 32 | key_frame;

		for (size_t j = hash_u64(key) & (w->cslots_cap - 1); w->cslots[j].gen == w->cgen;
		     j = (j + 1) & (w->cslots_cap - 1))
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
static void graph_add(struct writer *w, size_t n, uint64_t period, uint64_t count)
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
static size_t path_frames(struct writer *w, uint32_t from, uint32_t to)
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
static void memo_reset(struct writer *w)
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
static uint32_t graph_node_of(struct writer *w, uint32_t base, uint32_t pos)
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
static void graph_cumulate(struct writer *w)
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
static void graph_add_node(struct writer *w, uint32_t base, uint32_t id, uint32_t pos)
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

static int build_walk(struct writer *w);

static void add_chains_below(struct writer *w, const struct entry *e, uint32_t root);

static void add_callers_of(struct writer *w, const struct entry *e, uint32_t root);

static void build_graph(struct writer *w, const struct entry *e)
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
static int build_walk(struct writer *w)
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
static size_t sampled_from(const struct writer *w, uint32_t pos)
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

static void add_chains_below(struct writer *w, const struct entry *e, uint32_t root)
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
static void add_callers_of(struct writer *w, const struct entry *e, uint32_t root)
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
			long ex = entry_of_frame(w, th, N(w, x)->frame);

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

static const char *frame_label(const struct writer *w, uint32_t frame)
{
	return pyperf_profile__frame(w->p, frame)->name;
}

static void margin(struct writer *w, int left)
{
	fprintf(w->out, "            %*s", left, "");
}

static void graph_line(struct writer *w, int depth, uint64_t mask, int left)
{
	margin(w, left);
	for (int i = 0; i < depth; i++)
		fputs((mask & (1ULL << i)) ? "|          " : "           ", w->out);
	fputc('\n', w->out);
}

static void print_value(struct writer *w, uint64_t v, uint64_t total)
{
	fprintf(w->out, "%.2f%%", pct(v, total));
}

static void entry_line(struct writer *w, uint32_t cn, uint32_t frame, int depth, uint64_t mask,
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

static size_t bare_len(const struct pyperf_frame *f);

/*
 * Equal weights: perf lists such siblings in the reverse order of its
 * match key (dso, then symbol start or address). Its dsos compare by
 * address, which follows their creation order; ours do by creation index.
 */
static int tie_order(const struct writer *w, uint32_t fa, uint32_t fb)
{
	const struct pyperf_frame *a = pyperf_profile__frame(w->p, fa);
	const struct pyperf_frame *b = pyperf_profile__frame(w->p, fb);
	int64_t da = a->dso && a->dso->kind != PYPERF_DSO_UNKNOWN ? (int64_t)a->dso->index : -1;
	int64_t db = b->dso && b->dso->kind != PYPERF_DSO_UNKNOWN ? (int64_t)b->dso->index : -1;
	uint64_t ka = a->sym ? a->sym->start : a->ip, kb = b->sym ? b->sym->start : b->ip;

	/* inlined functions match by name there */
	if (a->sym && b->sym &&
	    (pyperf_symbol__is_inlined(a->sym) || pyperf_symbol__is_inlined(b->sym))) {
		size_t la = bare_len(a), lb = bare_len(b);
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
	const struct writer *gsort_w = ctx;
	const struct cnode *x = &gsort_w->cn[*(const uint32_t *)a];
	const struct cnode *y = &gsort_w->cn[*(const uint32_t *)b];

	if (x->cumul != y->cumul)
		return x->cumul > y->cumul ? -1 : 1;
	return tie_order(gsort_w, x->frame, y->frame);
}

/* Children of @cn worth printing, heaviest first, into a fresh array. */
static size_t sorted_children(struct writer *w, uint32_t cn, uint64_t min_hit, uint32_t **out)
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
static uint32_t run_end(const struct writer *w, uint32_t cn)
{
	while (w->cn[cn].nr_children == 1 && !w->cn[cn].hit)
		cn = w->cn[cn].first_child;
	return cn;
}

static void print_run(struct writer *w, uint32_t start, uint32_t end, int depth, uint64_t mask,
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
static uint64_t fractal_min_hit(const struct writer *w, uint32_t cn)
{
	return (uint64_t)ceil((double)(w->cn[cn].cumul - w->cn[cn].hit) *
			      (w->o.callchain_min_percent / 100.0));
}

static bool print_graph_level(struct writer *w, uint32_t parent_end, uint64_t total, int depth,
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

static void print_flat_path(struct writer *w, uint32_t cn)
{
	if (!cn)
		return;
	print_flat_path(w, w->cn[cn].parent);
	fprintf(w->out, "                %s\n", frame_label(w, w->cn[cn].frame));
}

static void print_folded_path(struct writer *w, uint32_t cn, bool *first)
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
	const struct writer *gsort_w = ctx;
	const struct hit_ref *x = a, *y = b;
	uint64_t hx = gsort_w->cn[x->node].hit, hy = gsort_w->cn[y->node].hit;

	if (hx != hy)
		return hx > hy ? -1 : 1;
	return x->pos < y->pos ? -1 : x->pos > y->pos;
}

static int cmp_tie(const void *a, const void *b, void *ctx)
{
	const struct writer *gsort_w = ctx;
	return tie_order(gsort_w, gsort_w->cn[*(const uint32_t *)a].frame,
			 gsort_w->cn[*(const uint32_t *)b].frame);
}

/* Post-order, siblings in perf's key order: where perf's flat sort meets
 * equal weights, this is the order it keeps. */
static void post_order(struct writer *w, uint32_t cn, uint64_t min_hit, struct hit_ref *out,
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
static void print_chain_ends(struct writer *w, uint64_t min_hit, bool folded)
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
static void print_callchain(struct writer *w, const struct entry *e, uint64_t parent_period)
{
	uint64_t min_hit =
	    (uint64_t)((double)w->total_period * (w->o.callchain_min_percent / 100.0));
	uint32_t *kids, start;
	size_t n;
	int left = 0;
	bool printed = false;

	if (w->o.callchain == PYPERF_CALLCHAIN_NONE)
		return;
	build_graph(w, e);
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

static void print_flat(struct writer *w, struct entry **sorted, size_t n)
{
	char buf[2048];

	/* column headers */
	fputs("# ", w->out);
	for (size_t i = 0; i < w->nr_fields; i++) {
		const char *h = field_header(w, w->fields[i]);
		size_t width = field_width(w, w->fields[i]);
		bool right = w->fields[i] <= PYPERF_FIELD_PERIOD;

		if (i)
			fputs("  ", w->out);
		fprintf(w->out, right ? "%*s" : "%-*s", (int)width, h);
	}
	fputs("\n# ", w->out);
	for (size_t i = 0; i < w->nr_fields; i++) {
		size_t width = field_width(w, w->fields[i]);

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
		for (size_t f = 0; f < w->nr_fields; f++) {
			fputs("  ", w->out);
			field_text(w, e, w->fields[f], f + 1 == w->nr_fields, buf, sizeof(buf));
			fputs(buf, w->out);
		}
		fputc('\n', w->out);
		print_callchain(w, e, w->children ? e->acc_period : e->period);
	}
}

/* ---- hierarchy ------------------------------------------------------------------------------ */

struct hentry {
	struct key key;
	const struct entry *rep; /* representative (gives names) */
	uint64_t period, samples;
	size_t first, count; /* range in the level's sorted entries */
};

static void level_label(struct writer *w, const struct hentry *h, enum pyperf_sort_key k, char *buf,
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
		snprintf(buf, size, "%-*s", (int)w->w_dso, dso_text(h->rep));
		break;
	case PYPERF_SORT_SYM:
		sym_text(h->rep, buf, size);
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

static size_t key_width(const struct writer *w, enum pyperf_sort_key k)
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
	const struct writer *w;
	size_t level;
};

static int cmp_hentries(const void *pa, const void *pb, void *ctx)
{
	const struct hsort *hc = ctx;
	const struct writer *hsort_w = hc->w;
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
	return key_cmp(hsort_w, &a->key, &b->key, hsort_level + 1);
}

/* Entries are sorted by keys; group those of [first, first+count) at @level. */
static void print_hier_level(struct writer *w, struct entry **ents, size_t first, size_t count,
			     size_t level)
{
	struct hentry *hs = NULL;
	size_t nh = 0, caph = 0;
	char label[2048];
	int pad = (int)(w->nr_keys + 1 - 2) * HIERARCHY_INDENT;

	for (size_t i = first; i < first + count; i++) {
		struct key k;

		make_key(w, ents[i]->thread, ents[i]->frame, level + 1, &k);
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
		fprintf(w->out, "%*s  ", (int)(level * HIERARCHY_INDENT), "");
		snprintf(label, sizeof(label), "%.2f%%", p);
		fprintf(w->out, "%8s%*s", label, pad, "");
		level_label(w, &hs[i], w->keys[level], label, sizeof(label));
		fprintf(w->out, "  %s\n", label);
		if (level + 1 < w->nr_keys) {
			print_hier_level(w, ents, hs[i].first, hs[i].count, level + 1);
		} else {
			/* A leaf: one entry or several merged (sample key). */
			if (hs[i].count == 1) {
				print_callchain(w, ents[hs[i].first], hs[i].period);
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
				print_callchain(w, &merged, hs[i].period);
				free(merged.self_nodes);
			}
		}
	}
	if (nh && !shown)
		fprintf(w->out, "%*s%*sno entry >= %.2f%%\n", (int)((level + 1) * HIERARCHY_INDENT),
			"", 12, "", w->o.percent_limit);
	free(hs);
}

static int cmp_by_keys(const void *pa, const void *pb, void *ctx)
{
	const struct writer *sort_w = ctx;
	const struct entry *a = *(struct entry *const *)pa, *b = *(struct entry *const *)pb;

	return key_cmp(sort_w, &a->key, &b->key, sort_w->nr_keys);
}

static void print_hierarchy(struct writer *w, struct entry **sorted, size_t n)
{
	size_t header_width = 0, indent = (w->nr_keys + 1 - 2) * HIERARCHY_INDENT;

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

/* ---- driver ------------------------------------------------------------------------------------
 */

static void free_entries(struct writer *w)
{
	for (size_t i = 0; i < w->nr_entries; i++) {
		free(w->entries[i].self_nodes);
		free(w->entries[i].roots);
	}
	w->nr_entries = 0;
	if (w->slots)
		memset(w->slots, 0, w->slots_cap * sizeof(*w->slots));
}

static const char *unit_samples(uint64_t v, char *unit, char buf[32])
{
	*unit = ' ';
	if (v > 1000) {
		v /= 1000;
		*unit = 'K';
	}
	if (v > 1000) {
		v /= 1000;
		*unit = 'M';
	}
	if (v > 1000) {
		v /= 1000;
		*unit = 'G';
	}
	snprintf(buf, 32, "%" PRIu64, v);
	return buf;
}

/* A frame's name without perf's " (inlined)": how perf's inline symbols
 * are named, and what it matches them by. */
static size_t bare_len(const struct pyperf_frame *f)
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
	size_t lx = bare_len(fx), ly = bare_len(fy);
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
static int build_canon(struct writer *w)
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

		if (i && (bare_len(f) != bare_len(h) || strncmp(f->name, h->name, bare_len(f))))
			g = i, h = f;
		/* (inlined ones sort first: a group without one stays apart) */
		if (pyperf_symbol__is_inlined(h->sym))
			w->canon[v[i]] = v[g];
	}
	free(v);
	return 0;
}

static int write_event(struct writer *w, uint32_t ev_node, const struct pyperf_frame *evf)
{
	struct entry **sorted = NULL;
	int ret = 0;
	char unit;

	w->ev_node = ev_node;
	w->fe_thread = NULL; /* entries are per event */
	w->total_period = N(w, ev_node)->total_period;
	w->total_samples = N(w, ev_node)->total_samples;
	for (uint32_t t = N(w, ev_node)->first_child; t && !ret; t = N(w, t)->next_sibling)
		ret = collect_self(w, t);
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
			ret = collect_children(w, t);
	if (ret)
		goto out;
	if (!w->o.no_header) {
		char num[32];
		const char *s = unit_samples(w->total_samples, &unit, num);

		fprintf(w->out, "# Samples: %s%c of event '%s'", s, unit, evf->name);
		if (w->o.time_slices)
			fprintf(w->out, " (time slices: %s)", w->o.time_slices);
		fputc('\n', w->out);
		if (pyperf_profile__event_in_ns(w->p, evf->event))
			/* time weights: say so, in seconds */
			fprintf(w->out, "# %s time: %.6f s (percentages are of this time)\n#\n",
				!strcmp(evf->name, "wall") ? "Wall-clock (on-CPU + off-CPU)"
							   : "Off-CPU",
				(double)w->total_period / 1e9);
		else
			fprintf(w->out, "# Event count (approx.): %" PRIu64 "\n#\n",
				w->total_period);
	}
	sorted = pp_calloc(w->nr_entries + 1, sizeof(*sorted));
	if (!sorted) {
		ret = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < w->nr_entries; i++)
		sorted[i] = &w->entries[i];
	compute_widths(w);
	qsort_r(sorted, w->nr_entries, sizeof(*sorted), cmp_entries, w);
	if (w->o.hierarchy)
		print_hierarchy(w, sorted, w->nr_entries);
	else
		print_flat(w, sorted, w->nr_entries);
	fputs("\n\n", w->out);
	ret = w->err;
out:
	free(sorted);
	free_entries(w);
	return ret;
}

static enum pyperf_field key_field(enum pyperf_sort_key k)
{
	switch (k) {
	case PYPERF_SORT_COMM:
		return PYPERF_FIELD_COMM;
	case PYPERF_SORT_PID:
		return PYPERF_FIELD_PID;
	case PYPERF_SORT_TID:
		return PYPERF_FIELD_TID;
	case PYPERF_SORT_DSO:
		return PYPERF_FIELD_DSO;
	case PYPERF_SORT_SYM:
	case PYPERF_SORT_SAMPLE:
		return PYPERF_FIELD_SYM;
	}
	return PYPERF_FIELD_SYM;
}

static bool key_for_field(enum pyperf_field f, enum pyperf_sort_key *k)
{
	switch (f) {
	case PYPERF_FIELD_COMM:
		*k = PYPERF_SORT_COMM;
		return true;
	case PYPERF_FIELD_PID:
		*k = PYPERF_SORT_PID;
		return true;
	case PYPERF_FIELD_TID:
		*k = PYPERF_SORT_TID;
		return true;
	case PYPERF_FIELD_DSO:
		*k = PYPERF_SORT_DSO;
		return true;
	case PYPERF_FIELD_SYM:
		*k = PYPERF_SORT_SYM;
		return true;
	default:
		return false;
	}
}

/*
 * More than 1% of the stacks cut short: the header says so, as a reader of
 * the report would otherwise take [truncated] for a rare oddity.
 */
static void cut_header(FILE *out, const struct pyperf_profile_stats *st)
{
	bool first = true;

	if (!st->samples || st->truncated_stacks * 100 <= st->samples)
		return;
	fprintf(out,
		"# Cut stacks: %" PRIu64 " of %" PRIu64
		" samples (%.1f%%) lack their outermost frames and are shown under [truncated] (",
		st->truncated_stacks, st->samples,
		100.0 * (double)st->truncated_stacks / (double)st->samples);
	for (int c = PYPERF_CUT_NONE + 1; c < PYPERF_CUT_NR; c++) {
		if (!st->stacks_cut[c])
			continue;
		fprintf(out, "%s%s %" PRIu64, first ? "" : ", ", pyperf_stack_cut__name(c),
			st->stacks_cut[c]);
		first = false;
	}
	fprintf(out, ")\n#\n");
}

/* Which part of the recording this is (--time): perf's syntax, to reuse. */
static void time_header(FILE *out, const struct pyperf_profile *p)
{
	size_t nr;
	const struct pyperf_time_range *r = pyperf_profile__time_ranges(p, &nr);
	char buf[512];

	if (!nr)
		return;
	fprintf(out, "# Time: %s (%" PRIu64 " samples outside left out)\n#\n",
		pyperf_time_range__format(r, nr, buf, sizeof(buf)),
		pyperf_profile__stats(p)->samples_time_filtered);
}

PYPERF_API int pyperf_profile__write_report(struct pyperf_profile *p, FILE *out,
					    const struct pyperf_report_opts *opts)
{
	static const enum pyperf_sort_key default_keys[] = {PYPERF_SORT_COMM, PYPERF_SORT_DSO,
							    PYPERF_SORT_SYM};
	struct writer w = {0};
	const struct pyperf_node *root;
	bool no_chains;
	int ret = 0;

	if (!out || !OPTS_VALID(opts, pyperf_report_opts))
		return pyperf_err(-EINVAL);
	if (opts)
		memcpy(&w.o, opts, MIN(opts->sz, sizeof(w.o)));
	w.o.sz = sizeof(w.o);
	if (w.o.callchain_min_percent < 0 || w.o.callchain_min_percent > 100)
		return pyperf_err(-EINVAL);
	if (!w.o.callchain_min_percent_set && w.o.callchain_min_percent == 0)
		w.o.callchain_min_percent = 0.5;
	w.p = p;
	w.out = out;
	pp_strtab_init(&w.names);
	pp_arena_init(&w.arena, 64 * 1024);

	if (w.o.nr_sort) {
		if (w.o.nr_sort > MAX_KEYS)
			return pyperf_err(-EINVAL);
		memcpy(w.keys, w.o.sort, w.o.nr_sort * sizeof(*w.keys));
		w.nr_keys = w.o.nr_sort;
	} else {
		memcpy(w.keys, default_keys, sizeof(default_keys));
		w.nr_keys = ARRAY_SIZE(default_keys);
	}
	/* A recording without call chains (perf record without -g): perf
	 * shows neither a Children column nor call graphs. */
	no_chains =
	    pyperf_profile__stats(p)->samples &&
	    pyperf_profile__stats(p)->samples_no_callchain == pyperf_profile__stats(p)->samples;
	if (no_chains)
		w.o.callchain = PYPERF_CALLCHAIN_NONE;
	w.children = !w.o.no_children && !w.o.hierarchy && !no_chains;
	if (w.o.nr_fields) {
		/* Explicit columns: sort keys not listed still group, as in perf. */
		size_t nk = 0;
		enum pyperf_sort_key fk[MAX_KEYS];

		if (w.o.nr_fields > ARRAY_SIZE(w.fields))
			return pyperf_err(-EINVAL);
		memcpy(w.fields, w.o.fields, w.o.nr_fields * sizeof(*w.fields));
		w.nr_fields = w.o.nr_fields;
		w.children = false;
		for (size_t i = 0; i < w.nr_fields; i++) {
			if (w.fields[i] == PYPERF_FIELD_CHILDREN && no_chains) {
				bool overhead = false;

				for (size_t k = 0; k < w.nr_fields; k++)
					overhead |= w.fields[k] == PYPERF_FIELD_OVERHEAD;
				if (!overhead) {
					w.fields[i] = PYPERF_FIELD_OVERHEAD;
				} else {
					memmove(w.fields + i, w.fields + i + 1,
						(--w.nr_fields - i) * sizeof(*w.fields));
					i--;
					continue;
				}
			}
			if (w.fields[i] == PYPERF_FIELD_CHILDREN)
				w.children = true;
			if (key_for_field(w.fields[i], &fk[nk]) && nk < MAX_KEYS)
				nk++;
		}
		if (nk && !w.o.nr_sort) {
			memcpy(w.keys, fk, nk * sizeof(*fk));
			w.nr_keys = nk;
		}
	} else {
		if (w.children)
			w.fields[w.nr_fields++] = PYPERF_FIELD_CHILDREN;
		w.fields[w.nr_fields++] = PYPERF_FIELD_OVERHEAD;
		if (w.o.show_nr_samples)
			w.fields[w.nr_fields++] = PYPERF_FIELD_SAMPLE;
		for (size_t i = 0; i < w.nr_keys; i++)
			if (w.keys[i] != PYPERF_SORT_SAMPLE)
				w.fields[w.nr_fields++] = key_field(w.keys[i]);
	}
	switch (w.o.order) {
	case PYPERF_ORDER_CALLER:
		w.caller = true;
		break;
	case PYPERF_ORDER_CALLEE:
		w.caller = false;
		break;
	default:
		/* perf: caller order when children are shown, and in
		 * hierarchy mode (which inherits it); callee otherwise. */
		w.caller = !w.o.no_children;
		break;
	}
	w.by_weight = !w.o.nr_fields;
	for (size_t i = 0; i < w.o.nr_fields; i++)
		if (w.fields[i] == PYPERF_FIELD_OVERHEAD || w.fields[i] == PYPERF_FIELD_CHILDREN)
			w.by_weight = true;
	w.skip_first_chain_entry = !w.o.nr_fields && w.keys[0] == PYPERF_SORT_SYM;

	pyperf_profile__finish(p);
	if (build_canon(&w))
		ret = -ENOMEM;
	w.nodes = pyperf_profile__node(p, 0);
	root = pyperf_profile__node(p, 0);
	if (!w.o.no_header) {
		fprintf(out, "#\n# Total Lost Samples: %" PRIu64 "\n#\n", pyperf_profile__lost(p));
		cut_header(out, pyperf_profile__stats(p));
		time_header(out, p);
	}
	for (uint32_t ev = root->first_child; ev && !ret; ev = N(&w, ev)->next_sibling)
		ret = write_event(&w, ev, F(&w, ev));
	if (!ret)
		ret = w.err;
	if (!ret && ferror(out))
		ret = -EIO;
	free(w.entries);
	free(w.slots);
	free(w.cn);
	free(w.cslots);
	free(w.memo_cn);
	free(w.memo_gen);
	free(w.node_entry);
	free(w.fe_gen_of);
	free(w.fe_entry);
	free(w.walk_pos);
	free(w.walk_size);
	free(w.sampled);
	free(w.sampled_pos);
	free(w.wpar);
	free(w.wframe);
	free(w.canon);
	free(w.wtop);
	free(w.chain);
	free(w.height);
	free(w.first_leaf);
	pp_strtab_free(&w.names);
	pp_arena_free(&w.arena);
	return pyperf_err(pp_write_done(p, out, ret));
}
