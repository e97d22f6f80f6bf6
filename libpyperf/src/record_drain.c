// SPDX-License-Identifier: MIT
/*
 * The ring buffers drained: records put in time order, stack copies
 * unwound while recording, and written.
 */
#include "record_internal.h"

/* ---- draining ------------------------------------------------------------------------ */

/* ---- online unwinding ---------------------------------------------------------------- */

int pyperf_recorder_enqueue(struct pyperf_recorder *r, const union perf_event *ev)
{
	uint16_t size = ev->header.size;
	uint64_t t = 0;
	struct pyperf_queued q;
	uint8_t *copy;

	if (ev->header.type == PERF_RECORD_SAMPLE) {
		if (size >= r->time_off + 8)
			memcpy(&t, (const uint8_t *)ev + r->time_off, 8);
	} else if (size >= 8 + 8 + r->trailer_time_back) {
		/* from the sample_id pyperf_recorder_trailer */
		memcpy(&t, (const uint8_t *)ev + size - r->trailer_time_back, 8);
	}
	copy = pp_arena_alloc_raw(&r->pass_arena[r->fill], size);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, ev, size);
	q = (struct pyperf_queued){t, r->seq, copy, r->fill, NULL};
	if (pyperf_order_queue_push(&r->queue, &q))
		return -ENOMEM;
	r->seq++;
	r->arena_live[r->fill]++;
	if (t > r->max_time)
		r->max_time = t;
	return 0;
}

/* check_unwind: the sample's REGS_USER and STACK_USER fields, as read, at
 * @out; returns their size. */
static size_t append_user_stack(uint8_t *out, const struct pyperf_sample *s)
{
	uint64_t abi = s->regs_user_abi, size = s->stack_user_size;
	size_t nregs = abi ? (size_t)__builtin_popcountll(s->regs_user_mask) : 0, at = 0;

	memcpy(out, &abi, 8);
	at += 8;
	if (nregs) {
		memcpy(out + at, s->regs_user, nregs * 8);
		at += nregs * 8;
	}
	memcpy(out + at, &size, 8);
	at += 8;
	if (size) {
		memcpy(out + at, s->stack_user, size);
		at += size;
		memcpy(out + at, &s->stack_user_dyn_size, 8);
		at += 8;
	}
	return at;
}

/*
 * A sample with a stack copy becomes one with the whole callchain; a stack
 * cut short (by the copy's size, code without CFI, the frame limit...) ends
 * with the mark of its cause, so that every reader of the file can tell it
 * from a whole one.
 */
static int write_unwound(struct pyperf_recorder *r, const struct pyperf_record *rec)
{
	const struct pyperf_sample *s = &rec->sample;
	struct pyperf_thread *th =
	    pyperf_machine__findnew_thread(r->machine, (int32_t)s->pid, (int32_t)s->tid);
	enum pyperf_unwind_stop stop = PYPERF_UNWIND_NO_REGS;
	enum pyperf_stack_cut cut = PYPERF_CUT_NONE;
	uint64_t *o = r->outbuf, nr = 0, *chain;
	size_t nu = 0, limit = CHAIN_LIMIT;
	struct perf_event_header *h = (struct perf_event_header *)o;

	if (!th)
		return -ENOMEM;
	if (r->shedding && rec->attr->type == PERF_TYPE_TRACEPOINT && s->regs_user_abi &&
	    (s->regs_user_mask >> PERF_REG_IP & 1)) {
		/* behind: this switch keeps its kernel stack and the user
		 * address it left from, not the user stack */
		r->uips[0] = s->regs_user[__builtin_popcountll(s->regs_user_mask &
							       ((1ULL << PERF_REG_IP) - 1))];
		nu = 1;
		r->stats.switch_stacks_shed++;
		cut = PYPERF_CUT_SHED;
	} else if (s->regs_user_abi && s->stack_user_size) {
		nu = pyperf_unwinder__unwind(r->unwinder, th, s, r->uips, MAX_UNWIND, &stop);
		cut = pyperf_unwind_stop__cut(stop);
	}
	r->stats.unwound++;
	/* the written layout: [IDENTIFIER] IP TID TIME PERIOD CALLCHAIN [RAW] */
	if (rec->attr->sample_type & PERF_SAMPLE_IDENTIFIER)
		*++o = s->id;
	o[1] = s->ip;
	o[2] = (uint64_t)s->pid | (uint64_t)s->tid << 32;
	o[3] = s->time;
	o[4] = s->period;
	chain = &o[6];
	if (s->raw_size)
		limit -= (s->raw_size + 4 + 7) / 8;
	if (r->o.check_unwind) {
		/* the copy kept: what room is left is for the chain (a
		 * chain of at least 2 entries, a cut one if need be) */
		size_t keep = 3 + (size_t)__builtin_popcountll(s->regs_user_mask) +
			      (size_t)(s->stack_user_size / 8);

		limit = keep + 2 < limit ? limit - keep : 2;
	}
	/* the kernel's part, then ours */
	for (uint64_t i = 0; i < s->callchain_nr; i++) {
		if (s->callchain[i] == PERF_CONTEXT_USER)
			break;
		if (nr == limit) {
			cut = PYPERF_CUT_MAX_STACK;
			break;
		}
		chain[nr++] = s->callchain[i];
	}
	if (nu && nr + 1 < limit) {
		chain[nr++] = PERF_CONTEXT_USER;
		for (size_t i = 0; i < nu; i++) {
			if (nr == limit) {
				cut = PYPERF_CUT_MAX_STACK;
				break;
			}
			chain[nr++] = r->uips[i];
		}
	} else if (nu) {
		cut = PYPERF_CUT_MAX_STACK;
	} else if (!nr) {
		chain[nr++] = (rec->misc & PERF_RECORD_MISC_CPUMODE_MASK) == PERF_RECORD_MISC_KERNEL
				  ? PERF_CONTEXT_KERNEL
				  : PERF_CONTEXT_USER;
		chain[nr++] = s->ip;
	}
	/* limit leaves room for the mark */
	nr = pyperf_callchain_mark_cut(chain, nr, cut);
	if (cut != PYPERF_CUT_NONE) {
		r->stats.stacks_cut[cut]++;
		r->stats.stacks_cut_total++;
		if (cut == PYPERF_CUT_STACK_COPY)
			r->stats.truncated_by_copy++;
		else
			r->stats.truncated_other++;
	}
	o[5] = nr;
	h->type = PERF_RECORD_SAMPLE;
	h->misc = rec->misc;
	h->size = (uint16_t)((uint8_t *)&chain[nr] - (uint8_t *)h);
	if (rec->attr->sample_type & PERF_SAMPLE_RAW) {
		/* u32 size and the data, padded together to 8 bytes */
		uint8_t *raw = (uint8_t *)&chain[nr];
		uint32_t rsz = s->raw_size;
		size_t padded = ALIGN_UP((size_t)rsz + 4, 8);

		memcpy(raw, &rsz, 4);
		if (rsz)
			memcpy(raw + 4, s->raw, rsz);
		memset(raw + 4 + rsz, 0, padded - 4 - rsz);
		h->size = (uint16_t)(h->size + padded);
	}
	if (r->o.check_unwind)
		h->size = (uint16_t)(h->size + append_user_stack((uint8_t *)h + h->size, s));
	return pyperf_recorder_write_rec(r, h, h->size);
}

/* Writes queued records up to time @limit, at most @budget of them
 * (0: all); r->backlog says whether some were left for later. */
int pyperf_recorder_flush_queue(struct pyperf_recorder *r, uint64_t limit, size_t budget)
{
	/* the budget counts real unwinds: shed and side-band records are cheap */
	uint64_t start = r->stats.unwound - r->stats.switch_stacks_shed;

	const struct pyperf_queued *top;

	while ((top = pyperf_order_queue_peek(&r->queue)) && top->time <= limit) {
		struct pyperf_queued q;
		const struct pyperf_record *rec;
		uint16_t size;
		int ret;

		if (budget && r->stats.unwound - r->stats.switch_stacks_shed - start >= budget) {
			r->backlog = true;
			return 0;
		}
		pyperf_order_queue_pop_until(&r->queue, limit, &q);
		r->arena_live[q.tag]--;
		memcpy(&size, (const uint8_t *)q.rec + 6, 2);
		if (pyperf_decoder__decode(r->decoder, q.rec, size, &rec) != 1)
			continue; /* malformed: nothing to write */
		if (rec->type == PYPERF_RECORD_SAMPLE) {
			ret = write_unwound(r, rec);
		} else {
			ret = pyperf_machine__process(r->machine, rec);
			if (!ret)
				ret = pyperf_recorder_write_rec(r, q.rec, size);
		}
		if (ret)
			return ret;
		r->wrote = true;
	}
	r->backlog = false;
	return 0;
}

int pyperf_recorder_drain(struct pyperf_recorder *r)
{
	static const struct perf_event_header round = {PERF_RECORD_FINISHED_ROUND, 0,
						       sizeof(struct perf_event_header)};
	struct perf_mmap *map;
	bool any = false;
	int ret;

	perf_evlist__for_each_mmap(r->evlist, map, false)
	{
		union perf_event *ev;

		if (perf_mmap__read_init(map) < 0)
			continue;
		while ((ev = perf_mmap__read_event(map))) {
			const struct perf_event_header *h = &ev->header;

			switch (h->type) {
			case PERF_RECORD_SAMPLE: {
				uint64_t t, id;

				r->stats.samples++;
				if (r->nr_sw_ids && h->size >= 16) {
					memcpy(&id, (const uint8_t *)ev + 8, 8);
					if (bsearch(&id, r->sw_ids, r->nr_sw_ids, sizeof(id),
						    pyperf_recorder_cmp_u64))
						r->stats.switches++;
				}
				if (h->size >= r->time_off + 8) {
					memcpy(&t, (const uint8_t *)ev + r->time_off, 8);
					if (!r->first_time)
						r->first_time = t;
					if (t > r->last_time)
						r->last_time = t;
				}
				break;
			}
			case PERF_RECORD_LOST:
				r->stats.lost_chunks++;
				r->stats.lost_samples += ev->lost.lost;
				break;
			case PERF_RECORD_THROTTLE:
				r->stats.throttled++;
				break;
			default:
				break;
			}
			ret = r->online ? pyperf_recorder_enqueue(r, ev)
					: pyperf_recorder_write_rec(r, ev, h->size);
			perf_mmap__consume(map);
			if (ret)
				return ret;
			any = true;
		}
		perf_mmap__read_done(map);
	}
	r->stats.wakeups++;
	if (r->online) {
		/* Everything up to the newest time of the previous pass is safe:
		 * no later pass can bring older records (perf's round rule). */
		if (r->o.off_cpu && pyperf_order_queue_len(&r->queue) > SHED_ABOVE)
			r->shedding = true;
		else if (pyperf_order_queue_len(&r->queue) < SHED_UNTIL)
			r->shedding = false;
		ret = pyperf_recorder_flush_queue(r, r->prev_max, UNWIND_BUDGET);
		if (ret)
			return ret;
		r->prev_max = r->max_time;
		/* switch arenas when the other one holds nothing queued */
		if (!r->arena_live[r->fill ^ 1]) {
			r->fill ^= 1;
			pp_arena_reset(&r->pass_arena[r->fill]);
		}
		any = r->wrote;
		r->wrote = false;
	}
	if (!any)
		return 0;
	ret = pyperf_recorder_write_rec(r, &round, sizeof(round));
	/* On disk each round: a recorder killed later leaves them readable. */
	return ret ? ret : pyperf_data_writer__flush(r->w);
}
