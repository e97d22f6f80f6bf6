/* SPDX-License-Identifier: MIT */
/*
 * The order of a profile's samples, kept compactly: runs of consecutive
 * samples of one thread with one stack (struct pyperf_sample_run), for
 * the writers that show time (speedscope's time order, the SVG's
 * timeline). Never installed.
 */
#ifndef PYPERF_TIMELINE_H
#define PYPERF_TIMELINE_H

#include <stddef.h>
#include <stdint.h>
#include <pyperf/profile.h>

struct pp_timeline {
	struct pyperf_sample_run *runs; /* in the order their first samples came */
	size_t nr, cap;
	uint32_t *last; /* per thread node: index + 1 of its latest run */
	size_t last_cap;
};

/* One sample of @thread ending at @leaf. Return: 0 or -ENOMEM. */
int pp_timeline_add(struct pp_timeline *t, uint32_t thread, uint32_t leaf, uint64_t time,
		    uint64_t period);
void pp_timeline_free(struct pp_timeline *t);

#endif
