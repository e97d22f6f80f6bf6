// SPDX-License-Identifier: MIT
/* The time-ordering queue (order_queue.h): sorted runs and a heap. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"
#include "order_queue.h"

static inline bool q_less(const struct pyperf_queued *a, const struct pyperf_queued *b)
{
	return a->time < b->time || (a->time == b->time && a->seq < b->seq);
}

static int heap_push(struct pyperf_order_queue *oq, const struct pyperf_queued *q)
{
	size_t i;

	if (PP_GROW(oq->heap, oq->heap_cap, oq->heap_len + 1))
		return -ENOMEM;
	i = oq->heap_len++;
	while (i) {
		size_t parent = (i - 1) / 2;

		if (!q_less(q, &oq->heap[parent]))
			break;
		oq->heap[i] = oq->heap[parent];
		i = parent;
	}
	oq->heap[i] = *q;
	return 0;
}

static struct pyperf_queued heap_pop(struct pyperf_order_queue *oq)
{
	struct pyperf_queued top = oq->heap[0], last = oq->heap[--oq->heap_len];
	size_t i = 0, n = oq->heap_len;

	for (;;) {
		size_t l = 2 * i + 1, m;

		if (l >= n)
			break;
		m = (l + 1 < n && q_less(&oq->heap[l + 1], &oq->heap[l])) ? l + 1 : l;
		if (!q_less(&oq->heap[m], &last))
			break;
		oq->heap[i] = oq->heap[m];
		i = m;
	}
	if (n)
		oq->heap[i] = last;
	return top;
}

/* Appends @q to the run whose last record is the latest not after it. */
int pyperf_order_queue_push(struct pyperf_order_queue *oq, const struct pyperf_queued *q)
{
	struct pyperf_order_run *best = NULL, *empty = NULL;

	for (unsigned i = 0; i < oq->nr_runs; i++) {
		struct pyperf_order_run *r = &oq->runs[i];

		if (r->head == r->len) {
			if (!empty)
				empty = r;
			continue;
		}
		if (q->time >= r->q[r->len - 1].time &&
		    (!best || r->q[r->len - 1].time > best->q[best->len - 1].time))
			best = r;
	}
	if (!best)
		best = empty;
	if (!best && oq->nr_runs < ARRAY_SIZE(oq->runs))
		best = &oq->runs[oq->nr_runs++];
	if (!best) {
		if (heap_push(oq, q))
			return -ENOMEM;
		oq->len++;
		return 0;
	}
	if (best->head == best->len)
		best->head = best->len = 0;
	if (best->len == best->cap && best->head) {
		memmove(best->q, best->q + best->head, (best->len - best->head) * sizeof(*best->q));
		best->len -= best->head;
		best->head = 0;
	}
	if (PP_GROW(best->q, best->cap, best->len + 1))
		return -ENOMEM;
	best->q[best->len++] = *q;
	oq->len++;
	return 0;
}

/* The earliest record and its run (-1: the heap). */
static const struct pyperf_queued *queue_min(const struct pyperf_order_queue *oq, int *run)
{
	const struct pyperf_queued *min = oq->heap_len ? &oq->heap[0] : NULL;

	*run = -1;
	for (unsigned i = 0; i < oq->nr_runs; i++) {
		const struct pyperf_order_run *r = &oq->runs[i];

		if (r->head < r->len && (!min || q_less(&r->q[r->head], min))) {
			min = &r->q[r->head];
			*run = (int)i;
		}
	}
	return min;
}

const struct pyperf_queued *pyperf_order_queue_peek(const struct pyperf_order_queue *oq)
{
	int run;

	return queue_min(oq, &run);
}

bool pyperf_order_queue_pop_until(struct pyperf_order_queue *oq, uint64_t limit,
				  struct pyperf_queued *out)
{
	int run;
	const struct pyperf_queued *min = queue_min(oq, &run);

	if (!min || min->time > limit)
		return false;
	*out = run < 0 ? heap_pop(oq) : oq->runs[run].q[oq->runs[run].head++];
	oq->len--;
	return true;
}

uint64_t pyperf_order_queue_min_seq(const struct pyperf_order_queue *oq, uint64_t none)
{
	uint64_t min = none;

	for (size_t i = 0; i < oq->heap_len; i++)
		min = MIN(min, oq->heap[i].seq);
	/* a run's records are in arrival order: its head is its lowest */
	for (unsigned k = 0; k < oq->nr_runs; k++)
		if (oq->runs[k].head < oq->runs[k].len)
			min = MIN(min, oq->runs[k].q[oq->runs[k].head].seq);
	return min;
}

const void *pyperf_order_queue_lowest_rec(const struct pyperf_order_queue *oq, const void *lo,
					  const void *hi)
{
	const uint8_t *l = lo, *h = hi, *best = h;

	for (size_t i = 0; i < oq->heap_len; i++) {
		const uint8_t *r = oq->heap[i].rec;

		if (r >= l && r < best)
			best = r;
	}
	for (unsigned k = 0; k < oq->nr_runs; k++) {
		const struct pyperf_order_run *run = &oq->runs[k];

		for (size_t i = run->head; i < run->len; i++) {
			const uint8_t *r = run->q[i].rec;

			if (r >= l && r < h) {
				if (r < best)
					best = r;
				break;
			}
		}
	}
	return best;
}

void pyperf_order_queue_free(struct pyperf_order_queue *oq)
{
	free(oq->heap);
	for (unsigned i = 0; i < oq->nr_runs; i++)
		free(oq->runs[i].q);
	memset(oq, 0, sizeof(*oq));
}
