/* SPDX-License-Identifier: MIT */
/*
 * Profiles: samples aggregated into a call tree.
 *
 * The tree's root has one child per event (cpu-clock, ...), each with one
 * child per thread context (comm, pid, tid), below which come the sampled
 * stacks from the outermost caller down to the leaf. Equal stacks share
 * nodes, so the tree grows with the number of distinct stacks, not with
 * samples. Frames are interned: one struct pyperf_frame per distinct
 * function (or, when unresolved, per address).
 *
 * pyperf_profile__add_file() runs the whole pipeline on a perf.data file:
 * records in time order, the model of threads and maps, symbol resolution,
 * aggregation. Several files can be added to one profile.
 */
#ifndef PYPERF_PROFILE_H
#define PYPERF_PROFILE_H

#include <stdbool.h>
#include <stdint.h>
#include <pyperf/data.h>
#include <pyperf/machine.h>
#include <pyperf/pyperf.h>
#include <pyperf/symbols.h>
#include <pyperf/time_range.h>
#include <pyperf/unwind.h>

#ifdef __cplusplus
extern "C" {
#endif

enum pyperf_frame_kind {
	PYPERF_FRAME_EVENT,  /* a tree level: the event */
	PYPERF_FRAME_THREAD, /* a tree level: comm, pid, tid */
	PYPERF_FRAME_NATIVE, /* user-space machine code */
	PYPERF_FRAME_KERNEL, /* kernel code */
	PYPERF_FRAME_PYTHON, /* a Python function (py:: in a perf map) */
	PYPERF_FRAME_JIT,    /* other code named by a perf map */
	/* "[truncated]": the root of a stack whose outermost frames are
	 * missing (enum pyperf_stack_cut says why), so that no cut stack
	 * passes for one that starts where its thread started */
	PYPERF_FRAME_TRUNCATED,
};

/*
 * A frame. For unresolved addresses @sym is NULL and @name is the address
 * in hex; @addr is the address in the dso's space (perf's map_ip), @ip the
 * address itself.
 */
struct pyperf_frame {
	enum pyperf_frame_kind kind;
	uint8_t cpumode;
	struct pyperf_dso *dso;
	const struct pyperf_symbol *sym;
	uint64_t ip;
	uint64_t addr;
	const char *name; /* function, comm (THREAD) or event name (EVENT) */
	int32_t pid, tid; /* THREAD only */
	uint32_t event;	  /* EVENT: index among the profile's events */
	/* A function inlined at the address (sym "NAME (inlined)"): the id + 1
	 * of the frame of the function it was inlined in, which names the
	 * sample when the frame is a leaf (perf's self entry); else 0. */
	uint32_t inlined_in;
};

/* A node of the call tree. Ids index pyperf_profile__node(); 0 is the root. */
struct pyperf_node {
	uint32_t parent;
	uint32_t frame;	       /* index for pyperf_profile__frame() */
	uint32_t first_child;  /* 0: none */
	uint32_t next_sibling; /* 0: none */
	uint64_t self_samples;
	uint64_t self_period;
	uint64_t total_samples; /* self plus descendants (after finish) */
	uint64_t total_period;
	uint64_t first_sample; /* ordinal (1-based, in time order) of the first
				  sample that ended here; 0 if none */
};

/* What happened to the input. */
struct pyperf_profile_stats {
	uint64_t samples;		 /* added to the tree */
	uint64_t samples_filtered;	 /* left out by --pid/--tid/--comm */
	uint64_t samples_unknown_thread; /* no pid/tid in the sample */
	uint64_t lost_samples;		 /* per file: LOST_SAMPLES records, else LOST ones */
	uint64_t unresolved_frames;	 /* frames without a symbol (per sample) */
	uint64_t truncated_callchains;	 /* chains cut at max_stack or corrupt */
	uint64_t unwound_samples;	 /* samples whose user stack was unwound */
	/* samples (off-CPU: switches) whose stack was cut short, shown under
	 * [truncated]: unwinds that stopped early, chains marked cut by the
	 * recorder, cut at max_stack or by the kernel's limit, corrupt, or
	 * frame-pointer chains ending outside every mapping */
	uint64_t truncated_stacks;
	uint64_t malformed_records;
	uint64_t unknown_records;
	uint64_t out_of_order;
	uint64_t files;
	uint64_t processes, threads;
	/* off-CPU (weights off-cpu and wall) */
	uint64_t switches;		    /* sched_switch samples read */
	uint64_t off_cpu_intervals;	    /* switch-out to next run, counted */
	uint64_t off_cpu_ns;		    /* their total */
	uint64_t off_cpu_open_at_end;	    /* still off CPU when the file ended (cut there) */
	uint64_t switches_undecoded;	    /* no usable tracing data: state unknown */
	uint64_t samples_other_weight;	    /* samples the chosen weight leaves out */
	uint64_t samples_no_callchain;	    /* added with one frame: recorded without call chains */
	uint64_t samples_python;	    /* added with at least one Python frame */
	uint64_t lost_chunks;		    /* LOST records (ring buffer overruns) */
	uint64_t stacks_cut[PYPERF_CUT_NR]; /* truncated_stacks by cause */
	/* samples (off-CPU: switches) outside the time ranges, left out
	 * before anything counted them, as perf report --time does */
	uint64_t samples_time_filtered;
};

/*
 * What the tree weighs. EVENTS: every recorded event on its own, as perf
 * report shows them. CPU: on-CPU samples only (tracepoints such as
 * sched_switch are left out). OFF_CPU: time off CPU, from sched_switch:
 * each switch-out adds the time until the thread runs again (its next
 * switch-in, sample or exit) to the stack it switched out with, under a
 * leaf frame naming its state ("[off-cpu: S]", D, R for preempted...);
 * one event, "off-cpu", in nanoseconds. WALL: both, on-CPU samples of
 * clock events weighted by their period (nanoseconds), in one event,
 * "wall".
 */
enum pyperf_weight {
	PYPERF_WEIGHT_EVENTS,
	PYPERF_WEIGHT_CPU,
	PYPERF_WEIGHT_OFF_CPU,
	PYPERF_WEIGHT_WALL,
};

/*
 * How Python stacks are shown. native: every frame as perf shows it.
 * mixed: Python frames ("func (file.py)") with the interpreter's own
 * frames below the outermost Python frame folded away, so the
 * interpreter's time is the Python function's self time; native code of
 * extensions, libc and the kernel stays. python: Python frames only; native
 * time goes to the innermost Python frame.
 */
enum pyperf_view {
	PYPERF_VIEW_MIXED,
	PYPERF_VIEW_NATIVE,
	PYPERF_VIEW_PYTHON,
};

struct pyperf_profile;

typedef void (*pyperf_progress_fn_t)(void *ctx, uint64_t done, uint64_t total);

/*
 * Called for each sample the tree counts, with the stack it was counted
 * under: @frames are frame ids (pyperf_profile__frame()), leaf first, in
 * the profile's view, the [truncated] frame last when @cut is not
 * PYPERF_CUT_NONE. For tools that look at stacks sample by sample (the
 * per-sample comparison with perf script in tests/); @frames is borrowed
 * for the call. Samples weighed by off-CPU time are not passed.
 */
typedef void (*pyperf_stack_fn_t)(void *ctx, const struct pyperf_sample *sample,
				  const uint32_t *frames, size_t nr, enum pyperf_stack_cut cut);

/*
 * One sample as the tree counts it, for writers that go sample by sample
 * (pyperf/script.h). Everything is borrowed for the call.
 */
struct pyperf_sample_info {
	const struct pyperf_profile *profile; /* for pyperf_profile__frame() */
	const struct pyperf_sample *sample;
	const char *event; /* the event it counts under */
	const char *comm;  /* its thread's name at the time */
	int32_t pid, tid;
	/* the stack in the profile's view, leaf first, the [truncated] frame
	 * last when @cut is not PYPERF_CUT_NONE (as pyperf_stack_fn_t) */
	const uint32_t *frames;
	/* per frame, the address sampled (a frame a view made stands for
	 * that of the frame it replaced; 0 for [truncated]) and the same in
	 * its object's space (perf's map_ip) */
	const uint64_t *ips;
	const uint64_t *addrs;
	size_t nr;
	enum pyperf_stack_cut cut;
};

/*
 * Consecutive samples of one thread in one stack (opts.timeline): the
 * profile's samples in time order, compactly. A thread that goes
 * unsampled for 10 ms starts a new run, so that idle gaps show.
 */
struct pyperf_sample_run {
	uint64_t start, end; /* times of its first and last samples (ns) */
	uint32_t node;	     /* the stack's leaf node */
	uint32_t thread;     /* its thread node */
	uint64_t samples, period;
};

/* Samples weighed by off-CPU time are not passed. */
typedef void (*pyperf_sample_fn_t)(void *ctx, const struct pyperf_sample_info *info);

struct pyperf_profile_opts {
	size_t sz;
	/* Keep only these (NULL/0: all). */
	const int32_t *pids;
	size_t nr_pids;
	const int32_t *tids;
	size_t nr_tids;
	const char *const *comms;
	size_t nr_comms;
	/* Frames kept per callchain, leaf side first (perf's --max-stack); 0:
	 * 127, perf's default. The native view counts them as perf does; the
	 * python and mixed views count the frames they show, once the
	 * interpreter's own are folded (up to 1024 native frames are read). */
	unsigned max_stack;
	/* Ignore callchains: one frame per sample. */
	bool no_callchain;
	/* Do not unwind stack copies (dwarf samples keep only kernel frames). */
	bool no_unwind;
	/* User frames kept per unwound stack; 0: as max_stack in the native
	 * view (perf's limit on unwinding), 1024 in the others. */
	unsigned max_unwind;
	enum pyperf_view view;
	/* python view: a "[native]" leaf under the Python frame when the
	 * sample was in native code */
	bool native_leaf;
	/* Python frames show the file's full path, not its base name */
	bool full_path;
	/* Called now and then while a file is read. */
	pyperf_progress_fn_t progress;
	void *progress_ctx;
	enum pyperf_weight weight;
	/* A chain longer than max_stack keeps its outermost max_stack frames
	 * and the leaf instead of the leaf side: what perf report keeps when
	 * it orders call graphs from the callers (--children, -G). */
	bool max_stack_outer;
	/* Called with each sample's stack (see pyperf_stack_fn_t); makes
	 * reading slower, as every chain is resolved afresh. */
	pyperf_stack_fn_t stack_fn;
	void *stack_ctx;
	/* Cut stacks start at the outermost frame found, as perf shows them,
	 * not under [truncated] (they are still counted in the stats). */
	bool no_truncated_root;
	/* No inlined-function frames in unwound stacks (perf --no-inline).
	 * By default a user frame unwound from a stack copy is preceded by
	 * the functions inlined at its address, when debug info is there
	 * ("NAME (inlined)"), as perf shows them. */
	bool no_inline;
	/* Keep only samples in these ranges (pyperf_time_range__parse());
	 * copied. An off-CPU interval is kept by the time it began. */
	const struct pyperf_time_range *time_ranges;
	size_t nr_time_ranges;
	/* Called with each sample the tree counts, in time order (see
	 * pyperf_sample_fn_t); makes reading slower, as stack_fn. */
	pyperf_sample_fn_t sample_fn;
	void *sample_ctx;
	/* Keep the order of the samples (pyperf_profile__timeline()), for
	 * time-ordered speedscope files and the SVG's timeline. On-CPU
	 * samples only. */
	bool timeline;
	/* pyperf_profile__add_file() reads files other users own (see
	 * pyperf_data_open_opts.force). */
	bool force;
	/* The records come live (pyperf_profile__add_record() from a
	 * recorder): perf maps grow while their processes run, so an address
	 * in one that names nothing yet makes it be read again (at most every
	 * 5 ms) and is looked up afresh next time instead of staying
	 * unresolved. */
	bool live;
	size_t : 0;
};
#define pyperf_profile_opts__last_field live

/**
 * pyperf_profile__new() - an empty profile.
 * @syms: symbol cache (borrowed, must outlive the profile), or NULL to
 *	  create one with default options.
 * @opts: options, or NULL.
 *
 * Return: a profile to free with pyperf_profile__free(), or NULL (ENOMEM,
 * EINVAL). Not thread-safe.
 */
PYPERF_API struct pyperf_profile *pyperf_profile__new(struct pyperf_symbols *syms,
						      const struct pyperf_profile_opts *opts);

/** pyperf_profile__free() - free; NULL is accepted. */
PYPERF_API void pyperf_profile__free(struct pyperf_profile *p);

/**
 * pyperf_profile__add_file() - read a perf.data file into the profile.
 * @p: the profile.
 * @path: the file.
 * @err: filled on failure; may be NULL.
 *
 * On damage, every sample before it stays in the profile and the error
 * names the file and offset.
 *
 * Return: 0; -EBADMSG or -EOPNOTSUPP when the file is damaged or cannot be
 * read in part (what came before is kept); other negative errnos when it
 * cannot be opened at all.
 */
PYPERF_API int pyperf_profile__add_file(struct pyperf_profile *p, const char *path,
					struct pyperf_error *err);

/**
 * pyperf_profile__add_data() - the same for an already open file; records
 * are read from its current position in time order.
 */
PYPERF_API int pyperf_profile__add_data(struct pyperf_profile *p, struct pyperf_data *data,
					struct pyperf_error *err);

/**
 * pyperf_profile__add_record() - one record of a live stream, such as a
 * recorder's sink (pyperf_recorder__set_sink()): a sample is counted in
 * the tree as pyperf_profile__add_data() counts a file's, other records
 * update @m (threads, maps), which names the samples' frames.
 * @p: the profile.
 * @m: the stream's machine (pyperf_machine__new() on @p's symbols), fed
 *     the stream's records in time order. Several profiles may share it
 *     (views of one stream): give each sample to every profile, the other
 *     records to one of them only. @rec's attr must outlive @p (a
 *     recorder's attrs live as long as the recorder).
 * @rec: the record (borrowed).
 *
 * Call pyperf_profile__finish() before reading the tree again. Not
 * thread-safe: one thread at a time per profile and machine.
 *
 * Return: 0 or -ENOMEM.
 */
PYPERF_API int pyperf_profile__add_record(struct pyperf_profile *p, struct pyperf_machine *m,
					  const struct pyperf_record *rec);

/**
 * pyperf_profile__finish() - compute totals and order children by weight
 * (heaviest first, ties by name). Call after adding, before reading the
 * tree; adding more later needs another finish.
 */
PYPERF_API void pyperf_profile__finish(struct pyperf_profile *p);

/** pyperf_profile__nr_nodes() - nodes in the tree, the root included. */
PYPERF_API size_t pyperf_profile__nr_nodes(const struct pyperf_profile *p);

/** pyperf_profile__node() - node @id. Borrowed, valid until the next add. */
PYPERF_API const struct pyperf_node *pyperf_profile__node(const struct pyperf_profile *p,
							  uint32_t id);

/** pyperf_profile__nr_frames() - distinct frames. */
PYPERF_API size_t pyperf_profile__nr_frames(const struct pyperf_profile *p);

/** pyperf_profile__frame() - frame @id. Borrowed, valid while @p lives. */
PYPERF_API const struct pyperf_frame *pyperf_profile__frame(const struct pyperf_profile *p,
							    uint32_t id);

/** pyperf_profile__nr_events() - events seen (the root's children). */
PYPERF_API size_t pyperf_profile__nr_events(const struct pyperf_profile *p);

/** pyperf_profile__stats() - counts so far. Borrowed. */
PYPERF_API const struct pyperf_profile_stats *pyperf_profile__stats(const struct pyperf_profile *p);

/** pyperf_profile__symbols() - the symbol cache in use. Borrowed. */
PYPERF_API struct pyperf_symbols *pyperf_profile__symbols(const struct pyperf_profile *p);

/**
 * pyperf_profile__event_total() - total samples and period of event @idx
 * (what perf prints as "Samples" and "Event count"), including samples
 * left out by filters, as perf counts them.
 */
PYPERF_API void pyperf_profile__event_total(const struct pyperf_profile *p, uint32_t idx,
					    uint64_t *samples, uint64_t *period);

/**
 * pyperf_profile__unwind_stats() - what unwinding stack copies did, with
 * why stacks ended (truncated ones included). Borrowed.
 */
PYPERF_API const struct pyperf_unwind_stats *
pyperf_profile__unwind_stats(const struct pyperf_profile *p);

/**
 * pyperf_profile__event_in_ns() - whether event @idx weighs time in
 * nanoseconds (the off-cpu and wall weights) rather than an event count.
 */
PYPERF_API bool pyperf_profile__event_in_ns(const struct pyperf_profile *p, uint32_t idx);

/**
 * pyperf_weight__parse() - "cpu", "off-cpu" (or "offcpu"), "wall", "events".
 * Return: 0 or -EINVAL.
 */
PYPERF_API int pyperf_weight__parse(const char *s, enum pyperf_weight *out);

/**
 * pyperf_view__parse() - "mixed", "native" or "python".
 * Return: 0 or -EINVAL.
 */
PYPERF_API int pyperf_view__parse(const char *s, enum pyperf_view *out);

/** pyperf_view__name() - "mixed", "native", "python"; "?" otherwise. */
PYPERF_API const char *pyperf_view__name(enum pyperf_view view);

/**
 * pyperf_profile__lost() - lost samples as perf report's header counts
 * them: the sum of LOST_SAMPLES records (which perf record and
 * pyperf-record write at the end). Files with LOST records only count 0
 * here; pyperf_profile_stats.lost_samples counts them.
 */
PYPERF_API uint64_t pyperf_profile__lost(const struct pyperf_profile *p);

/**
 * pyperf_profile__command() - the recorded command line ("perf record -g
 * -- python3 app.py") of the first file added that stored one.
 *
 * Return: a borrowed string valid while @p lives, or NULL if no file had it.
 */
PYPERF_API const char *pyperf_profile__command(const struct pyperf_profile *p);

/** pyperf_profile__view() - the view the profile was built in. */
PYPERF_API enum pyperf_view pyperf_profile__view(const struct pyperf_profile *p);

/**
 * pyperf_profile__time_range() - the perf clock times (ns) of the earliest
 * and latest sample added, filtered ones included; both 0 when samples
 * carry no time.
 */
PYPERF_API void pyperf_profile__time_range(const struct pyperf_profile *p, uint64_t *start,
					   uint64_t *end);

/**
 * pyperf_profile__time_ranges() - the time ranges the profile keeps (none:
 * all of every recording). Borrowed, valid while @p lives.
 */
PYPERF_API const struct pyperf_time_range *
pyperf_profile__time_ranges(const struct pyperf_profile *p, size_t *nr);

/**
 * pyperf_profile__timeline() - the samples in time order as runs (see
 * struct pyperf_sample_run), each file's after the one before; none unless
 * the profile was built with opts.timeline. Borrowed, valid until the next
 * add.
 */
PYPERF_API const struct pyperf_sample_run *pyperf_profile__timeline(const struct pyperf_profile *p,
								    size_t *nr);

/*
 * A function's weight (pyperf_profile__top()): its own samples (it was the
 * leaf) and its total (it was on the stack, counted once per sample however
 * often it recurses), as perf report's Self and Children columns count a
 * symbol.
 */
struct pyperf_top_entry {
	uint32_t frame;	 /* the function: pyperf_profile__frame() */
	uint32_t thread; /* per_thread: its thread's node; else 0 */
	uint64_t self_samples, total_samples;
	uint64_t self_period, total_period;
};

struct pyperf_top_opts {
	size_t sz;
	uint32_t event;	 /* index among the profile's events; default 0 */
	bool per_thread; /* one entry per thread and function, not per function */
	bool by_total;	 /* heaviest total first, not heaviest self */
	size_t : 0;
};
#define pyperf_top_opts__last_field by_total

/**
 * pyperf_profile__top() - the heaviest functions of one event, for live
 * views (pyperf-top) and summaries.
 * @p: the profile (totals are brought up to date; siblings keep their
 *     order).
 * @opts: options, or NULL (event 0, merged over threads, by self).
 * @out: filled with the first @max entries, heaviest first (ties by name).
 * @max: room in @out.
 * @nr: set to the number of entries in all (before @max); may be NULL.
 *
 * Return: the entries written, or -EINVAL (bad opts), -ENOMEM. Not
 * thread-safe.
 */
PYPERF_API long pyperf_profile__top(struct pyperf_profile *p, const struct pyperf_top_opts *opts,
				    struct pyperf_top_entry *out, size_t max, size_t *nr);

/**
 * pyperf_profile__event_node() - the tree node of event @idx (its threads
 * are its children), or 0 if there is no such event.
 */
PYPERF_API uint32_t pyperf_profile__event_node(const struct pyperf_profile *p, uint32_t idx);

#ifdef __cplusplus
}
#endif

#endif /* PYPERF_PROFILE_H */
