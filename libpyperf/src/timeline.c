// SPDX-License-Identifier: MIT
/*
 * Sample order as runs: a thread sampled N times in a row in one stack is
 * one run, so a program that stays in a phase costs one entry, not N.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"
#include "timeline.h"

/* A thread not sampled for this long was idle (or off CPU): its next
 * sample starts a run of its own, so the gap stays visible. */
#define RUN_GAP_NS 10000000ULL

int pp_timeline_add(struct pp_timeline *t, uint32_t thread, uint32_t leaf, uint64_t time,
		    uint64_t period)
{
	struct pyperf_sample_run *r;

	if (thread >= t->last_cap) {
		size_t old = t->last_cap;

		if (PP_GROW(t->last, t->last_cap, (size_t)thread + 1))
			return -ENOMEM;
		memset(t->last + old, 0, (t->last_cap - old) * sizeof(*t->last));
	}
	r = t->last[thread] ? &t->runs[t->last[thread] - 1] : NULL;
	if (r && r->node == leaf && time >= r->end && time - r->end <= RUN_GAP_NS) {
		r->end = time;
		r->samples++;
		r->period += period;
		return 0;
	}
	if (PP_GROW(t->runs, t->cap, t->nr + 1))
		return -ENOMEM;
	t->runs[t->nr] = (struct pyperf_sample_run){time, time, leaf, thread, 1, period};
	t->last[thread] = (uint32_t)++t->nr;
	return 0;
}

void pp_timeline_free(struct pp_timeline *t)
{
	free(t->runs);
	free(t->last);
	memset(t, 0, sizeof(*t));
}
