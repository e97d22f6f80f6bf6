/* SPDX-License-Identifier: MIT */
/*
 * The profile's state, shared by the files that build it: the tree
 * (profile_tree.c), the stacks of samples (profile_stack.c), the Python
 * views (profile_view.c), off-CPU time (offcpu.c) and the file driver
 * (session.c). Never installed.
 */
#ifndef PYPERF_PROFILE_INTERNAL_H
#define PYPERF_PROFILE_INTERNAL_H

#include <inttypes.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <stdlib.h>
#include <pyperf/profile.h>
#include "internal.h"
#include "timeline.h"
#include "machine_internal.h"
#include "symbols_internal.h"
#include "writer.h"
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

#define KEY_VIEW 0x10000 /* frame key kind of view frames: a = name */

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
	/* opts.live: addresses a perf map did not name yet (not cached) */
	uint64_t live_misses;
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

/* Frame @id + 1 (from pyperf_profile_resolve_ip()) for @ip at position @i of the stack. */
static inline void pyperf_profile_push_frame(struct pyperf_profile *p, size_t i, uint32_t id,
					     uint64_t ip)
{
	p->stack[i] = id - 1;
	p->stack_ip[i] = ip;
	p->stack_addr[i] = p->last_addr;
}

/* Position @to shows @frame for the address at @from. */
static inline void pyperf_profile_move_frame(struct pyperf_profile *p, long to, long from,
					     uint32_t frame)
{
	p->stack[to] = frame;
	p->stack_ip[to] = p->stack_ip[from];
	p->stack_addr[to] = p->stack_addr[from];
}

/* Defined where they are documented: profile_tree.c, the tables */
uint32_t pyperf_profile_frame_intern(struct pyperf_profile *p, const struct frame_key *k,
				     struct pyperf_frame **fresh);
uint32_t pyperf_profile_node_child(struct pyperf_profile *p, uint32_t parent, uint32_t frame);
uint32_t pyperf_profile_resolve_ip(struct pyperf_profile *p, struct pyperf_thread *th,
				   uint8_t cpumode, uint64_t ip);
long pyperf_profile_push_unwound(struct pyperf_profile *p, struct pyperf_thread *th, uint64_t ip,
				 long n);
uint64_t pyperf_profile_chain_hash(uint32_t thread_node, uint64_t gen, uint8_t cpumode,
				   const uint64_t *ips, uint64_t nr);
int pyperf_profile_chains_grow(struct pyperf_profile *p);

/* profile_view.c: the python and mixed views */
uint32_t pyperf_profile_view_frame(struct pyperf_profile *p, const char *name, const char *dso_name,
				   enum pyperf_dso_kind dso_kind);
long pyperf_profile_apply_view(struct pyperf_profile *p, long n);

/* profile_stack.c: samples into the tree */
bool pyperf_profile_time_filtered(struct pyperf_profile *p, const struct pyperf_sample *s);
bool pyperf_profile_filtered_out(const struct pyperf_profile *p, struct pyperf_thread *th);
uint32_t pyperf_profile_event_node(struct pyperf_profile *p, const char *name, uint32_t *event_idx);
uint32_t pyperf_profile_thread_node(struct pyperf_profile *p, uint32_t ev_node,
				    struct pyperf_thread *th);
long pyperf_profile_sample_stack(struct pyperf_profile *p, struct pyperf_thread *th,
				 const struct pyperf_record *rec, enum pyperf_stack_cut *cut);
void pyperf_profile_count_cut(struct pyperf_profile *p, enum pyperf_stack_cut cut);
void pyperf_profile_count_sample(struct pyperf_profile *p, uint32_t leaf, uint64_t period);
int pyperf_profile_add_sample(struct pyperf_profile *p, struct pyperf_machine *m,
			      const struct pyperf_record *rec, const char *event);

/* offcpu.c: off-CPU time, and the weight of each sample */
int pyperf_profile_weigh_sample(struct pyperf_profile *p, struct pyperf_machine *m,
				const struct pyperf_record *rec);
void pyperf_offcpu_note_record(struct pyperf_profile *p, const struct pyperf_record *rec);
void pyperf_offcpu_end_file(struct pyperf_profile *p);

#endif /* PYPERF_PROFILE_INTERNAL_H */
