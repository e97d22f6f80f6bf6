/* SPDX-License-Identifier: MIT */
/*
 * Differential profiles: a baseline profile against a new one, built with
 * the same options (view, weight, filters).
 *
 * Entries and stacks are matched by what they show, never by address:
 * (object, symbol) in the native view, as perf diff matches them, and
 * "function (file.py)" frames in the python and mixed views, so that two
 * runs of one program compare even when their code moved.
 */
#ifndef PYPERF_DIFF_H
#define PYPERF_DIFF_H

#include <stdbool.h>
#include <stdio.h>
#include <pyperf/output.h>
#include <pyperf/profile.h>
#include <pyperf/pyperf.h>

#ifdef __cplusplus
extern "C" {
#endif

struct pyperf_diff_opts {
	size_t sz;
	/* counts (samples) on each side and their difference instead of
	 * shares of each side's total (perf diff's Baseline and Delta Abs,
	 * which weigh periods) */
	bool absolute;
	/* leave out entries under this share (%) on both sides */
	double percent_limit;
	size_t : 0;
};
#define pyperf_diff_opts__last_field percent_limit

/**
 * pyperf_diff__write_report() - perf diff's report: per event, one line
 * per (object, symbol) with self samples on either side, the baseline's
 * share, the change of share ("Delta Abs"), the object and the symbol;
 * sorted by the largest change, entries only in the baseline last (no
 * delta), as `perf diff BASE NEW` prints it. With @opts->absolute:
 * Baseline, New and Delta in samples.
 *
 * Return: 0, -EINVAL, -ENOMEM, -EIO.
 */
PYPERF_API int pyperf_diff__write_report(struct pyperf_profile *base, struct pyperf_profile *cur,
					 FILE *out, const struct pyperf_diff_opts *opts);

/**
 * pyperf_diff__write_collapsed() - folded stacks with both counts,
 * "STACK BASE NEW" per stack of either side (0 where a side lacks it),
 * sorted: what difffolded.pl writes and flamegraph.pl's differential mode
 * reads. Stacks are folded as pyperf_profile__write_collapsed() folds them
 * with @copts. Unless @opts->absolute, the baseline's counts are scaled to
 * the new profile's total (difffolded.pl -n), so that a longer run does
 * not look like growth everywhere.
 *
 * Return: 0, -EINVAL, -ENOMEM, -EIO.
 */
PYPERF_API int pyperf_diff__write_collapsed(struct pyperf_profile *base, struct pyperf_profile *cur,
					    FILE *out, const struct pyperf_collapsed_opts *copts,
					    const struct pyperf_diff_opts *opts);

#ifdef __cplusplus
}
#endif

#endif /* PYPERF_DIFF_H */
