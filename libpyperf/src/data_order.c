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
 * Within a round, each CPU's records come in time order, which the queue
 * (order_queue.c, shared with the recorder) turns to account.
 */
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>
#include "data_internal.h"

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
	lo = MIN(lo, (const uint8_t *)pyperf_order_queue_lowest_rec(&d->queue, d->base,
								    d->base + d->size));
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
	if (!d->chunks)
		return;
	pyperf_data_release_chunks(d, pyperf_order_queue_min_seq(&d->queue, d->seq));
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
			struct pyperf_queued q;

			if (pyperf_order_queue_pop_until(&d->queue, d->flush_limit, &q)) {
				d->last_flush = q.time;
				ret = pyperf_data_decode(
				    d, q.rec, load_u16((const uint8_t *)q.rec + 6), q.tag);
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
				struct pyperf_queued q = {t, d->seq++, stable(d, p), off, NULL};

				if (!q.rec || pyperf_order_queue_push(&d->queue, &q)) {
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
