// SPDX-License-Identifier: MIT
/*
 * Time-ordered delivery of perf.data records.
 *
 * perf record drains each CPU's ring buffer in turn, so records of different
 * CPUs interleave out of time order, and writes a FINISHED_ROUND after each
 * pass over all buffers. Nothing written after a FINISHED_ROUND is older
 * than what was written before the previous one, so at each FINISHED_ROUND
 * everything up to the newest timestamp of the previous round can go out.
 * That is perf's own rule (ordered-events.c, OE_FLUSH__ROUND); following
 * it exactly makes the model of threads and maps see the events in the
 * order perf report sees them.
 *
 * Within a round, each CPU's records come in time order. The queue keeps
 * such stretches as sorted runs (a few FIFOs, which end up one per CPU) and
 * puts only records that fit no run in a heap; the next record is the
 * smallest of the run heads and the heap's top. Pushing and popping are
 * then O(1) for nearly every record instead of O(log n).
 */
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>
#include "data_internal.h"

static inline bool q_less(const struct queued *a, const struct queued *b)
{
	return a->time < b->time || (a->time == b->time && a->seq < b->seq);
}

static int heap_push(struct pyperf_data *d, struct queued q)
{
	size_t i;

	if (PP_GROW(d->heap, d->heap_cap, d->heap_len + 1))
		return -ENOMEM;
	i = d->heap_len++;
	while (i) {
		size_t parent = (i - 1) / 2;

		if (!q_less(&q, &d->heap[parent]))
			break;
		d->heap[i] = d->heap[parent];
		i = parent;
	}
	d->heap[i] = q;
	return 0;
}

static struct queued heap_pop(struct pyperf_data *d)
{
	struct queued top = d->heap[0], last = d->heap[--d->heap_len];
	size_t i = 0, n = d->heap_len;

	for (;;) {
		size_t l = 2 * i + 1, m;

		if (l >= n)
			break;
		m = (l + 1 < n && q_less(&d->heap[l + 1], &d->heap[l])) ? l + 1 : l;
		if (!q_less(&d->heap[m], &last))
			break;
		d->heap[i] = d->heap[m];
		i = m;
	}
	if (n)
		d->heap[i] = last;
	return top;
}

/* Appends @q to the run whose last record is the latest not after it. */
static int run_push(struct pyperf_data *d, struct queued q)
{
	struct order_run *best = NULL, *empty = NULL;

	for (unsigned i = 0; i < d->nr_runs; i++) {
		struct order_run *r = &d->runs[i];

		if (r->head == r->len) {
			if (!empty)
				empty = r;
			continue;
		}
		if (q.time >= r->q[r->len - 1].time &&
		    (!best || r->q[r->len - 1].time > best->q[best->len - 1].time))
			best = r;
	}
	if (!best)
		best = empty;
	if (!best && d->nr_runs < ARRAY_SIZE(d->runs))
		best = &d->runs[d->nr_runs++];
	if (!best)
		return heap_push(d, q);
	if (best->head == best->len)
		best->head = best->len = 0;
	if (best->len == best->cap && best->head) {
		memmove(best->q, best->q + best->head, (best->len - best->head) * sizeof(*best->q));
		best->len -= best->head;
		best->head = 0;
	}
	if (PP_GROW(best->q, best->cap, best->len + 1))
		return -ENOMEM;
	best->q[best->len++] = q;
	return 0;
}

/* The next record in time order, or NULL; *@run = its run, or -1 (the heap). */
static const struct queued *queue_min(const struct pyperf_data *d, int *run)
{
	const struct queued *min = d->heap_len ? &d->heap[0] : NULL;

	*run = -1;
	for (unsigned i = 0; i < d->nr_runs; i++) {
		const struct order_run *r = &d->runs[i];

		if (r->head < r->len && (!min || q_less(&r->q[r->head], min))) {
			min = &r->q[r->head];
			*run = (int)i;
		}
	}
	return min;
}

static struct queued queue_pop(struct pyperf_data *d, int run)
{
	if (run < 0)
		return heap_pop(d);
	return d->runs[run].q[d->runs[run].head++];
}

/*
 * Hands pages of the mapping that no queued record needs back to the
 * kernel, so that resident memory stays near one round's worth of records
 * instead of growing with the file. Pages are refaulted from the file if
 * touched again, so this never invalidates a pointer.
 */
static void release_pages(struct pyperf_data *d)
{
	const uint8_t *lo = d->base + d->pos;
	long page = sysconf(_SC_PAGESIZE);
	uint64_t upto;

	if (!d->map)
		return;
	for (size_t i = 0; i < d->heap_len; i++) {
		const uint8_t *r = d->heap[i].rec;

		if (r >= d->base && r < d->base + d->size && r < lo)
			lo = r;
	}
	for (unsigned k = 0; k < d->nr_runs; k++) {
		/* a run holds records in file order: the first in the mapping
		 * is its lowest */
		const struct order_run *run = &d->runs[k];

		for (size_t i = run->head; i < run->len; i++) {
			const uint8_t *r = run->q[i].rec;

			if (r >= d->base && r < d->base + d->size) {
				if (r < lo)
					lo = r;
				break;
			}
		}
	}
	upto = (uint64_t)(lo - d->base) & ~((uint64_t)page - 1);
	/* Worth a system call only in big steps. */
	if (upto > d->released + (8u << 20)) {
		madvise((uint8_t *)d->map + d->released, upto - d->released, MADV_DONTNEED);
		d->released = upto;
	}
}

/* Records copied out of the scratch buffer must outlive later reads. */
static const void *stable(struct pyperf_data *d, const void *rec)
{
	size_t size;
	void *copy;

	if (rec != d->scratch)
		return rec;
	size = load_u16((const uint8_t *)rec + 6);
	copy = pp_arena_alloc(&d->arena, size);
	if (copy)
		memcpy(copy, rec, size);
	return copy;
}

/* Decompressed chunks whose records are all delivered go (data_read.c). */
static void release_chunks(struct pyperf_data *d)
{
	uint64_t min_seq = d->seq;

	if (!d->chunks)
		return;
	for (size_t i = 0; i < d->heap_len; i++)
		min_seq = MIN(min_seq, d->heap[i].seq);
	/* a run's records are in arrival order: its head is its lowest */
	for (unsigned k = 0; k < d->nr_runs; k++)
		if (d->runs[k].head < d->runs[k].len)
			min_seq = MIN(min_seq, d->runs[k].q[d->runs[k].head].seq);
	pyperf_data_release_chunks(d, min_seq);
}

static void start_flush(struct pyperf_data *d, uint64_t limit)
{
	d->flushing = true;
	d->flush_limit = limit;
}

PYPERF_API int pyperf_data__next_ordered(struct pyperf_data *d, const struct pyperf_record **out,
					 struct pyperf_error *err)
{
	d->ordered = true;
	for (;;) {
		const void *p;
		uint64_t off, t;
		uint32_t type;
		int ret;

		if (d->flushing) {
			int run;
			const struct queued *next = queue_min(d, &run);

			if (next && next->time <= d->flush_limit) {
				struct queued q = queue_pop(d, run);

				d->last_flush = q.time;
				ret = pyperf_data_decode(
				    d, q.rec, load_u16((const uint8_t *)q.rec + 6), q.offset);
				if (ret < 0)
					return pyperf_err(ret);
				if (ret == 0)
					continue;
				*out = &d->rec;
				return 1;
			}
			d->flushing = false;
			release_pages(d);
			release_chunks(d);
		}
		if (d->input_done) {
			if (d->pending_err) {
				if (err)
					*err = d->pending_error;
				return pyperf_err(d->pending_err);
			}
			return 0;
		}

		ret = pyperf_data_next_raw(d, &p, &off, &d->pending_error);
		if (ret <= 0) {
			d->pending_err = ret;
			d->input_done = true;
			start_flush(d, UINT64_MAX);
			continue;
		}
		type = load_u32(p);
		if (type >= RECORD_USER_TYPE_START) {
			pyperf_data_handle_user_record(d, p);
			if (type == PYPERF_RECORD_FINISHED_ROUND) {
				start_flush(d, d->next_flush);
				d->next_flush = d->max_time;
				continue;
			}
		} else {
			t = pyperf_data_record_time(d, p);
			if (t && t != UINT64_MAX) {
				struct queued q = {t, d->seq++, stable(d, p), off};

				if (!q.rec || run_push(d, q)) {
					pyperf_error_set(&d->pending_error, -ENOMEM,
							 PYPERF_NO_OFFSET, d->name,
							 "out of memory queueing records");
					d->pending_err = -ENOMEM;
					d->input_done = true;
					start_flush(d, UINT64_MAX);
					continue;
				}
				if (t < d->last_flush)
					d->stats.out_of_order++;
				if (t > d->max_time)
					d->max_time = t;
				continue;
			}
		}
		/* No timestamp: delivered where it stands, as perf does. */
		ret = pyperf_data_decode(d, p, load_u16((const uint8_t *)p + 6), off);
		if (ret < 0)
			return pyperf_err(ret);
		if (ret == 0)
			continue;
		*out = &d->rec;
		return 1;
	}
}
