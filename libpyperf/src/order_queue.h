// SPDX-License-Identifier: MIT
/*
 * The time-ordering queue of the reader (pyperf_data__next_ordered) and of
 * the recorder (records drained from the ring buffers): records go in with
 * their time and arrival number and come out earliest first, arrival order
 * breaking ties, as perf's ordered events do.
 *
 * Records come in stretches already in time order (one CPU's records of a
 * round or of a ring buffer), so the queue keeps such stretches as sorted
 * runs (a few FIFOs, which end up one per CPU) and puts only records that
 * fit no run in a heap; the next record is the smallest of the run heads
 * and the heap's top. Pushing and popping are then O(1) for nearly every
 * record instead of O(log n).
 */
#ifndef PYPERF_ORDER_QUEUE_H
#define PYPERF_ORDER_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pyperf_queued {
	uint64_t time;
	uint64_t seq; /* arrival order: breaks ties */
	const void *rec;
	uint64_t tag;	   /* the owner's: the record's file offset, its arena */
	const void *extra; /* the owner's: what came with the record */
};

struct pyperf_order_queue {
	struct pyperf_order_run {
		struct pyperf_queued *q;
		size_t head, len, cap; /* queued: q[head..len) */
	} runs[8];
	unsigned nr_runs;
	struct pyperf_queued *heap;
	size_t heap_len, heap_cap;
	size_t len; /* queued in all */
};

/* Queues @e (copied): 0, or -ENOMEM with the queue unchanged. */
int pyperf_order_queue_push(struct pyperf_order_queue *oq, const struct pyperf_queued *e);
/* The earliest queued record, or NULL when the queue is empty. */
const struct pyperf_queued *pyperf_order_queue_peek(const struct pyperf_order_queue *oq);
/* Takes the earliest record into *@out if its time is at most @limit. */
bool pyperf_order_queue_pop_until(struct pyperf_order_queue *oq, uint64_t limit,
				  struct pyperf_queued *out);
/* The lowest arrival number queued, or @none when the queue is empty. */
uint64_t pyperf_order_queue_min_seq(const struct pyperf_order_queue *oq, uint64_t none);
/*
 * The lowest record address queued within [@lo, @hi), or @hi. A caller
 * whose records of one run arrive in address order (records read from one
 * file in file order) gets it in O(runs + heap).
 */
const void *pyperf_order_queue_lowest_rec(const struct pyperf_order_queue *oq, const void *lo,
					  const void *hi);
static inline size_t pyperf_order_queue_len(const struct pyperf_order_queue *oq)
{
	return oq->len;
}
void pyperf_order_queue_free(struct pyperf_order_queue *oq);

#endif
