// SPDX-License-Identifier: MIT
/*
 * The cut mark of a callchain: a run of PERF_CONTEXT_USER markers after
 * the last frame, one per step of the cause's number. Context markers are
 * the one thing every reader of perf.data skips without a frame or a
 * warning (perf drops a chain with an unknown marker, so a marker of our
 * own is out), and a repeated user marker changes no reader's context.
 */
#include <pyperf/unwind.h>
#include "callchain.h"
#include "internal.h"

PYPERF_API const char *pyperf_stack_cut__name(enum pyperf_stack_cut cut)
{
	static const char *const names[] = {"none",   "max-stack", "stack-copy", "no-cfi",
					    "no-map", "bad-frame", "shed",	 "corrupt"};

	return (unsigned)cut < ARRAY_SIZE(names) ? names[cut] : "?";
}

PYPERF_API enum pyperf_stack_cut pyperf_callchain__cut(const uint64_t *chain, uint64_t nr,
						       uint64_t *nr_before)
{
	uint64_t n = nr;

	while (n && chain[n - 1] == PYPERF_CONTEXT_USER)
		n--;
	/* no frame before the markers: nothing that could have been cut */
	if (n == 0 || chain[n - 1] >= PYPERF_CONTEXT_MAX) {
		if (nr_before)
			*nr_before = nr;
		return PYPERF_CUT_NONE;
	}
	if (nr_before)
		*nr_before = n;
	/* more than any writer puts there */
	if (nr - n > PYPERF_CUT_MARK_MAX)
		return PYPERF_CUT_CORRUPT;
	return (enum pyperf_stack_cut)(nr - n);
}

size_t pyperf_callchain_mark_cut(uint64_t *chain, size_t nr, enum pyperf_stack_cut cut)
{
	if (cut == PYPERF_CUT_NONE || (size_t)cut > PYPERF_CUT_MARK_MAX)
		return nr;
	for (unsigned i = 0; i < (unsigned)cut; i++)
		chain[nr++] = PYPERF_CONTEXT_USER;
	return nr;
}

PYPERF_API enum pyperf_stack_cut pyperf_unwind_stop__cut(enum pyperf_unwind_stop stop)
{
	switch (stop) {
	case PYPERF_UNWIND_NO_MAP:
		return PYPERF_CUT_NO_MAP;
	case PYPERF_UNWIND_NO_CFI:
		return PYPERF_CUT_NO_CFI;
	case PYPERF_UNWIND_STACK_COPY:
		return PYPERF_CUT_STACK_COPY;
	case PYPERF_UNWIND_BAD_FRAME:
		return PYPERF_CUT_BAD_FRAME;
	case PYPERF_UNWIND_MAX_DEPTH:
		return PYPERF_CUT_MAX_STACK;
	default:
		return PYPERF_CUT_NONE;
	}
}
