/* SPDX-License-Identifier: MIT */
/*
 * The report's state, shared by its parts: entries and their order
 * (report_entries.c), columns (report_columns.c), call graphs built
 * (report_callgraph.c) and printed (report_callgraph_print.c), the
 * hierarchy (report_hierarchy.c) and the driver (write_report.c). Never
 * installed.
 */
#ifndef PYPERF_REPORT_INTERNAL_H
#define PYPERF_REPORT_INTERNAL_H

#include <inttypes.h>
#include <math.h>
#include <regex.h>
#include <stdlib.h>
#include <pyperf/output.h>
#include "internal.h"
#include "writer.h"
#include "symbols_internal.h"

#define HIERARCHY_INDENT 3
#define MAX_KEYS PYPERF_REPORT_MAX_SORT_KEYS
#define ADDR_WIDTH 16 /* hex digits of an unresolved address */

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

/*
 * One report being written. Each part owns its group of members and frees
 * them in its *_release(): the entries (report_entries.c), the call graph
 * scratch (report_callgraph.c); the driver (write_report.c) the rest.
 */
struct report {
	/* the driver's: options resolved, output, interned names */
	struct pyperf_profile *p;
	/* the profile's nodes: one array (profile_tree.c), read in the hot loops
	 * without a call per node */
	const struct pyperf_node *nodes;
	struct pyperf_report_opts o;
	FILE *out;
	enum pyperf_sort_key keys[MAX_KEYS];
	size_t nr_keys;
	enum pyperf_field fields[PYPERF_REPORT_MAX_FIELDS];
	size_t nr_fields;
	bool children;
	bool caller;
	bool skip_first_chain_entry;
	bool by_weight;		/* order entries by their percentage first */
	struct pp_strtab names; /* dso short names, labels */
	struct pp_arena arena;
	int err;

	/* entries, per event */
	uint32_t ev_node;
	uint64_t total_period, total_samples;
	struct entry *entries;
	size_t nr_entries, cap_entries;
	struct pp_hslot *slots;
	size_t slots_cap;
	uint32_t *height;     /* frames on the longest path below a node, itself included */
	uint32_t *first_leaf; /* the node below where the earliest sample ended */
	uint32_t *node_entry; /* node with samples -> its self entry + 1 */
	/* frame -> entry within one thread (fe_thread), valid where
	 * fe_gen_of is fe_gen: keys depend on the thread and the frame only */
	const struct pyperf_frame *fe_thread;
	uint32_t fe_gen, *fe_gen_of;
	long *fe_entry;

	/* column widths (report_columns.c) */
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

	/* entry filters (--dsos, --symbol-filter) */
	regex_t sym_re;
	bool has_sym_re;

	/* rows (report_rows.c): where each row of the output starts, when
	 * the report is written for a browser; NULL otherwise */
	struct pp_row_marks *marks;
	int mark_event; /* the event section being written, -1 before */
};

static inline const struct pyperf_node *N(const struct report *w, uint32_t id)
{
	return &w->nodes[id];
}

static inline const struct pyperf_frame *F(const struct report *w, uint32_t id)
{
	return pyperf_profile__frame(w->p, N(w, id)->frame);
}

static inline double pct(uint64_t part, uint64_t total)
{
	return total ? 100.0 * (double)part / (double)total : 0.0;
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

/* report_entries.c: entries and their order */

void pyperf_report_make_key(struct report *w, const struct pyperf_frame *thread,
			    const struct pyperf_frame *leaf, size_t upto, struct key *k);
long pyperf_report_entry_of_frame(struct report *w, const struct pyperf_frame *th, uint32_t frame);
int pyperf_report_collect_self(struct report *w, uint32_t thread_node);
int pyperf_report_collect_children(struct report *w, uint32_t thread_node);
int pyperf_report_key_cmp(const struct report *w, const struct key *a, const struct key *b,
			  size_t upto);
void pyperf_report_sort_entries(struct report *w, struct entry **sorted, size_t n);
void pyperf_report_free_entries(struct report *w);
int pyperf_report_collect_event(struct report *w, uint32_t ev_node);
void pyperf_report_entries_release(struct report *w);

/* report_columns.c: the columns */

void pyperf_report_compute_widths(struct report *w);
size_t pyperf_report_sym_text(const struct entry *e, char *buf, size_t size);
const char *pyperf_report_dso_text(const struct entry *e);
const char *pyperf_report_field_header(const struct report *w, enum pyperf_field f);
size_t pyperf_report_field_width(const struct report *w, enum pyperf_field f);
void pyperf_report_field_text(struct report *w, const struct entry *e, enum pyperf_field f,
			      bool last, char *buf, size_t size);
/* @v in perf's units (K, M, G: *@unit) written to @buf. */
const char *pyperf_report_unit_samples(uint64_t v, char *unit, char buf[32]);

/* report_callgraph.c: call graphs built */

int pyperf_report_build_canon(struct report *w);
size_t pyperf_report_bare_len(const struct pyperf_frame *f);
void pyperf_report_build_graph(struct report *w, const struct entry *e);
void pyperf_report_graph_release(struct report *w);

/* report_callgraph_print.c: call graphs printed, the flat report */

void pyperf_report_print_callchain(struct report *w, const struct entry *e, uint64_t parent_period);
void pyperf_report_print_flat(struct report *w, struct entry **sorted, size_t n);

/* report_rows.c: the rows of a report written for a browser */

/*
 * The output written from here on, up to the next mark, is rows of @kind
 * (pyperf_report_row_kind) at @depth; @e (may be NULL) the entry they
 * belong to, @indent where an entry's text begins, @percent its share.
 * Nothing unless the report is written for rows.
 */
void pyperf_report_mark_rows(struct report *w, int kind, unsigned depth, unsigned indent,
			     const struct entry *e, double percent);

/* write_report.c: the driver, printing into @out, marking rows in @marks
 * when not NULL */
int pyperf_report_write(struct pyperf_profile *p, FILE *out, const struct pyperf_report_opts *opts,
			struct pp_row_marks *marks);

/* report_hierarchy.c */

void pyperf_report_print_hierarchy(struct report *w, struct entry **sorted, size_t n);

#endif /* PYPERF_REPORT_INTERNAL_H */
