/* SPDX-License-Identifier: MIT */
/*
 * Unwinding user stacks from samples that carry registers and a copy of the
 * stack (perf record --call-graph dwarf, pyperf-record's dwarf mode).
 *
 * Each step follows the call frame information (.eh_frame, or .debug_frame
 * of a separate debug file) of the object the address lies in, read with
 * libdw, against the process's memory maps; stack memory comes from the
 * copy. Code that JIT compilers generate has no CFI: CPython's perf
 * trampolines (py:: entries of a perf map) are unwound with the frame
 * layout of their machine code, other perf-map code with the
 * frame-pointer convention, checked before it is trusted.
 *
 * An unwind that cannot go on stops cleanly and says why; the frames found
 * so far are kept.
 */
#ifndef PYPERF_UNWIND_H
#define PYPERF_UNWIND_H

#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>
#include <pyperf/data.h>
#include <pyperf/machine.h>
#include <pyperf/pyperf.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Why an unwind ended. Everything but END marks a truncated stack. */
enum pyperf_unwind_stop {
	PYPERF_UNWIND_END,	  /* the outermost frame: return address undefined or 0 */
	PYPERF_UNWIND_NO_MAP,	  /* an address outside every mapping */
	PYPERF_UNWIND_NO_CFI,	  /* no unwind information for the code */
	PYPERF_UNWIND_STACK_COPY, /* needed stack beyond the copy (raise the copy size) */
	PYPERF_UNWIND_BAD_FRAME,  /* registers or stack that make no sense */
	PYPERF_UNWIND_MAX_DEPTH,  /* more frames than asked for */
	PYPERF_UNWIND_NO_REGS,	  /* the sample has no user registers or stack */
	PYPERF_UNWIND_NR_STOPS,
};

struct pyperf_unwind_stats {
	uint64_t samples;
	uint64_t frames;
	uint64_t stops[PYPERF_UNWIND_NR_STOPS];
	uint64_t trampoline_frames; /* steps through JIT code without CFI */
	/* steps through a file's code without CFI, by a return address
	 * found on top of the stack or by the frame pointer, and checked */
	uint64_t fallback_frames;
	/* CFI not read for lack of memory: stacks may have stopped early
	 * for it, so the unwinding is not to be trusted */
	uint64_t alloc_failures;
};

struct pyperf_unwinder;

struct pyperf_unwinder_opts {
	size_t sz;
	/*
	 * The sampled processes are still running (unwinding while recording):
	 * JIT code whose runtime has not yet written its perf map or jitdump
	 * entry is recognised by reading its machine code from the process
	 * (needs the right to read its memory, as a debugger).
	 */
	bool live;
	size_t : 0;
};
#define pyperf_unwinder_opts__last_field live

/**
 * pyperf_unwinder__new() - an unwinder; it caches the CFI of every object it
 * meets (opened files, decoded rules), so keep one for a whole recording.
 * @opts: NULL for the defaults (a recording read after the fact).
 *
 * Return: a new unwinder, or NULL with errno set (ENOMEM; EINVAL for opts
 * from a newer header with fields set that this library does not know).
 * Not thread-safe.
 */
PYPERF_API struct pyperf_unwinder *pyperf_unwinder__new(const struct pyperf_unwinder_opts *opts);

/** pyperf_unwinder__free() - free; NULL is accepted. */
PYPERF_API void pyperf_unwinder__free(struct pyperf_unwinder *u);

/**
 * pyperf_unwinder__unwind() - the user-space frames of a sample.
 * @u: the unwinder.
 * @thread: the sampled thread (its maps locate the code).
 * @sample: a sample with REGS_USER and STACK_USER.
 * @ips: receives up to @max addresses, the sampled one first, then for
 *	 each caller the return address minus one (inside the call, as perf
 *	 reports them).
 * @max: capacity of @ips.
 * @stop: set to why the unwind ended.
 *
 * Return: the number of addresses stored (0 with PYPERF_UNWIND_NO_REGS when
 * the sample has no user registers, e.g. a kernel thread).
 */
PYPERF_API size_t pyperf_unwinder__unwind(struct pyperf_unwinder *u, struct pyperf_thread *thread,
					  const struct pyperf_sample *sample, uint64_t *ips,
					  size_t max, enum pyperf_unwind_stop *stop);

/** pyperf_unwinder__stats() - counts so far. Borrowed. */
PYPERF_API const struct pyperf_unwind_stats *
pyperf_unwinder__stats(const struct pyperf_unwinder *u);

/** pyperf_unwind_stop__name() - "end", "no-map", "no-cfi", "stack-copy"... */
PYPERF_API const char *pyperf_unwind_stop__name(enum pyperf_unwind_stop stop);

/**
 * pyperf_unwind_stop__cut() - the cut a stop reason makes of the stack:
 * PYPERF_CUT_NONE for END and NO_REGS (nothing to unwind is not a cut).
 */
PYPERF_API enum pyperf_stack_cut pyperf_unwind_stop__cut(enum pyperf_unwind_stop stop);

#ifdef __cplusplus
}
#endif

#endif /* PYPERF_UNWIND_H */
