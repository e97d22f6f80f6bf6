/* SPDX-License-Identifier: MIT */
/*
 * Per-sample output: one entry per sample in time order, in perf script's
 * layout (perf script -F comm,pid,tid,cpu,time,period,event,ip,sym,dso,
 * symoff as perf 6.1 prints it), the stack in the profile's view:
 *
 *	python3 31521/31521 [001] 12816.241967:    1001001 cpu-clock:
 *		    7f0a1b2c3d4e PyObject_Vectorcall+0x2e (/usr/lib/libpython3.11.so.1.0)
 *		...
 *	(a blank line)
 *
 * In the native view the frames are perf's: the sampled address, the
 * symbol and the offset into it, the object's path ("[unknown]" where no
 * symbol or object covers the address). In the python and mixed views,
 * frames the view made ("fib (fib.py)", "time.sleep (built-in)",
 * "[native]") show their name alone, with the address they stand for (0
 * for "[truncated]"). The writer is fed by the profile while it reads:
 * pass pyperf_script__sample() as the profile's sample_fn.
 */
#ifndef PYPERF_SCRIPT_H
#define PYPERF_SCRIPT_H

#include <stdbool.h>
#include <stdio.h>
#include <pyperf/profile.h>
#include <pyperf/pyperf.h>

#ifdef __cplusplus
extern "C" {
#endif

struct pyperf_script_opts {
	size_t sz;
	/* times from the first sample written (perf script --reltime) */
	bool reltime;
	/* times with nanoseconds (perf script --ns), not microseconds */
	bool ns;
	/* event names right-aligned to this width: perf script pads them to
	 * the longest name among the recording's events */
	unsigned event_width;
	size_t : 0;
};
#define pyperf_script_opts__last_field event_width

struct pyperf_script;

/**
 * pyperf_script__new() - a per-sample writer to @out (borrowed, not closed).
 * Return: the writer, or NULL (ENOMEM, EINVAL).
 */
PYPERF_API struct pyperf_script *pyperf_script__new(FILE *out,
						    const struct pyperf_script_opts *opts);

/**
 * pyperf_script__sample() - write one sample: a pyperf_sample_fn_t, with the
 * writer as its context. A failed write is remembered for
 * pyperf_script__finish().
 */
PYPERF_API void pyperf_script__sample(void *script, const struct pyperf_sample_info *info);

/**
 * pyperf_script__finish() - flush.
 * Return: 0, or -EIO if any write failed; -ENOMEM if a sample could not be
 * written for want of memory.
 */
PYPERF_API int pyperf_script__finish(struct pyperf_script *s);

/** pyperf_script__free() - free; NULL is accepted. */
PYPERF_API void pyperf_script__free(struct pyperf_script *s);

#ifdef __cplusplus
}
#endif

#endif /* PYPERF_SCRIPT_H */
