/* SPDX-License-Identifier: MIT */
/* Callchain conventions shared by the recorder and the readers. */
#ifndef PYPERF_CALLCHAIN_H
#define PYPERF_CALLCHAIN_H

#include <stddef.h>
#include <stdint.h>
#include <pyperf/data.h>

/* The most entries a cut mark takes (see enum pyperf_stack_cut). */
#define PYPERF_CUT_MARK_MAX ((size_t)PYPERF_CUT_SHED)

/*
 * Appends the mark of @cut to @chain (which holds @nr entries and has room
 * for PYPERF_CUT_MARK_MAX more); returns the new length. Causes a reader
 * finds by itself (PYPERF_CUT_CORRUPT) and PYPERF_CUT_NONE add nothing.
 */
size_t pyperf_callchain_mark_cut(uint64_t *chain, size_t nr, enum pyperf_stack_cut cut);

#endif /* PYPERF_CALLCHAIN_H */
