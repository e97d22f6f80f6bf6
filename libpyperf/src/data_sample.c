// SPDX-License-Identifier: MIT
/*
 * SAMPLE records decoded by their attr's sample_type, and the sample_id
 * trailer of other records.
 */
#include <inttypes.h>
#include <stdlib.h>
#include "data_internal.h"

/* ---- samples ---------------------------------------------------------------- */

/* A cursor over a record body that refuses to read past its end. */
struct cur {
	const uint8_t *p, *end;
};

static inline bool cur_u64(struct cur *c, uint64_t *v)
{
	if (unlikely(c->end - c->p < 8))
		return false;
	*v = load_u64(c->p);
	c->p += 8;
	return true;
}

static inline bool cur_skip(struct cur *c, uint64_t n, const void **where)
{
	if (unlikely((uint64_t)(c->end - c->p) < n))
		return false;
	if (where)
		*where = c->p;
	c->p += n;
	return true;
}

static bool read_regs(struct cur *c, uint64_t mask, uint64_t *abi, const uint64_t **regs)
{
	const void *w;

	if (!cur_u64(c, abi))
		return false;
	*regs = NULL;
	if (!*abi)
		return true;
	if (!cur_skip(c, (uint64_t)pyperf_data_popcount64(mask) * 8, &w))
		return false;
	*regs = w;
	return true;
}

static uint64_t read_format_size(uint64_t rf)
{
	uint64_t per = 1 + !!(rf & READ_FORMAT_ID) + !!(rf & READ_FORMAT_LOST);
	uint64_t hdr =
	    !!(rf & READ_FORMAT_TOTAL_TIME_ENABLED) + !!(rf & READ_FORMAT_TOTAL_TIME_RUNNING);

	return (hdr + per) * 8; /* non-group; group size depends on nr */
}

PYPERF_API int pyperf_data__parse_sample(const struct pyperf_attr *attr, const void *rec,
					 size_t size, struct pyperf_sample *s)
{
	struct cur c = {(const uint8_t *)rec + 8, (const uint8_t *)rec + size};
	uint64_t st = attr->sample_type, v;
	const void *w = NULL;

	s->present = st;
	s->cpumode = load_u16((const uint8_t *)rec + 4) & PYPERF_CPUMODE_MASK;
	s->callchain_nr = 0;
	s->callchain = NULL;
	s->raw_size = 0;
	s->branch_nr = 0;
	s->regs_user_abi = 0;
	s->stack_user_size = 0;
	s->stack_user_dyn_size = 0;
	s->pid = s->tid = (uint32_t)-1;
	s->time = 0;
	s->cpu = (uint32_t)-1;
	/* Without PERIOD in the sample, perf takes the fixed period of the
	 * event (perf record -c). */
	s->period = attr->sample_period;
	s->ip = 0;

	if (size < 8)
		return -EBADMSG;
	if ((st & PYPERF_SAMPLE_IDENTIFIER) && !cur_u64(&c, &s->id))
		return -EBADMSG;
	if ((st & PYPERF_SAMPLE_IP) && !cur_u64(&c, &s->ip))
		return -EBADMSG;
	if (st & PYPERF_SAMPLE_TID) {
		if (!cur_u64(&c, &v))
			return -EBADMSG;
		s->pid = (uint32_t)v;
		s->tid = (uint32_t)(v >> 32);
	}
	if ((st & PYPERF_SAMPLE_TIME) && !cur_u64(&c, &s->time))
		return -EBADMSG;
	if ((st & PYPERF_SAMPLE_ADDR) && !cur_u64(&c, &s->addr))
		return -EBADMSG;
	if ((st & PYPERF_SAMPLE_ID) && !cur_u64(&c, &s->id))
		return -EBADMSG;
	if ((st & PYPERF_SAMPLE_STREAM_ID) && !cur_u64(&c, &s->stream_id))
		return -EBADMSG;
	if (st & PYPERF_SAMPLE_CPU) {
		if (!cur_u64(&c, &v))
			return -EBADMSG;
		s->cpu = (uint32_t)v;
	}
	if ((st & PYPERF_SAMPLE_PERIOD) && !cur_u64(&c, &s->period))
		return -EBADMSG;
	if (st & PYPERF_SAMPLE_READ) {
		uint64_t rf = attr->read_format, n;
		const uint8_t *start = c.p;

		if (rf & READ_FORMAT_GROUP) {
			uint64_t per = 1 + !!(rf & READ_FORMAT_ID) + !!(rf & READ_FORMAT_LOST);

			if (!cur_u64(&c, &n))
				return -EBADMSG;
			if (n > (1u << 16))
				return -EBADMSG;
			v = (!!(rf & READ_FORMAT_TOTAL_TIME_ENABLED) +
			     !!(rf & READ_FORMAT_TOTAL_TIME_RUNNING) + n * per) *
			    8;
		} else {
			v = read_format_size(rf);
		}
		if (!cur_skip(&c, v, NULL))
			return -EBADMSG;
		s->read = start;
		s->read_size = (uint32_t)(c.p - start);
	}
	if (st & PYPERF_SAMPLE_CALLCHAIN) {
		if (!cur_u64(&c, &s->callchain_nr))
			return -EBADMSG;
		if (s->callchain_nr > (uint64_t)(c.end - c.p) / 8)
			return -EBADMSG;
		cur_skip(&c, s->callchain_nr * 8, &w);
		s->callchain = w;
	}
	if (st & PYPERF_SAMPLE_RAW) {
		uint32_t rsz;

		if (c.end - c.p < 4)
			return -EBADMSG;
		rsz = load_u32(c.p);
		c.p += 4;
		if (!cur_skip(&c, rsz, &w))
			return -EBADMSG;
		s->raw_size = rsz;
		s->raw = w;
		/* u32 size + data are padded together to a u64 boundary. */
		c.p = (const uint8_t *)rec + ALIGN_UP((uint64_t)(c.p - (const uint8_t *)rec), 8);
		if (c.p > c.end)
			return -EBADMSG;
	}
	if (st & PYPERF_SAMPLE_BRANCH_STACK) {
		uint64_t per = 3 + !!(attr->branch_sample_type & BRANCH_SAMPLE_COUNTERS);

		if (!cur_u64(&c, &s->branch_nr))
			return -EBADMSG;
		if ((attr->branch_sample_type & BRANCH_SAMPLE_HW_INDEX) &&
		    !cur_u64(&c, &s->branch_hw_idx))
			return -EBADMSG;
		if (s->branch_nr > (uint64_t)(c.end - c.p) / (8 * per))
			return -EBADMSG;
		cur_skip(&c, s->branch_nr * 8 * per, &w);
		s->branches = w;
	}
	if (st & PYPERF_SAMPLE_REGS_USER) {
		s->regs_user_mask = attr->sample_regs_user;
		if (!read_regs(&c, attr->sample_regs_user, &s->regs_user_abi, &s->regs_user))
			return -EBADMSG;
	}
	if (st & PYPERF_SAMPLE_STACK_USER) {
		if (!cur_u64(&c, &s->stack_user_size))
			return -EBADMSG;
		if (s->stack_user_size) {
			if (!cur_skip(&c, s->stack_user_size, &w))
				return -EBADMSG;
			s->stack_user = w;
			if (!cur_u64(&c, &s->stack_user_dyn_size))
				return -EBADMSG;
			if (s->stack_user_dyn_size > s->stack_user_size)
				s->stack_user_dyn_size = s->stack_user_size;
		}
	}
	if (st & (PYPERF_SAMPLE_WEIGHT | PYPERF_SAMPLE_WEIGHT_STRUCT)) {
		if (!cur_u64(&c, &v))
			return -EBADMSG;
		if (st & PYPERF_SAMPLE_WEIGHT_STRUCT) {
			s->weight = (uint32_t)v;
			s->weight_var2 = (uint16_t)(v >> 32);
			s->weight_var3 = (uint16_t)(v >> 48);
		} else {
			s->weight = v;
		}
	}
	if ((st & PYPERF_SAMPLE_DATA_SRC) && !cur_u64(&c, &s->data_src))
		return -EBADMSG;
	if ((st & PYPERF_SAMPLE_TRANSACTION) && !cur_u64(&c, &s->transaction))
		return -EBADMSG;
	if (st & PYPERF_SAMPLE_REGS_INTR) {
		s->regs_intr_mask = attr->sample_regs_intr;
		if (!read_regs(&c, attr->sample_regs_intr, &s->regs_intr_abi, &s->regs_intr))
			return -EBADMSG;
	}
	if ((st & PYPERF_SAMPLE_PHYS_ADDR) && !cur_u64(&c, &s->phys_addr))
		return -EBADMSG;
	if ((st & PYPERF_SAMPLE_CGROUP) && !cur_u64(&c, &s->cgroup))
		return -EBADMSG;
	if ((st & PYPERF_SAMPLE_DATA_PAGE_SIZE) && !cur_u64(&c, &s->data_page_size))
		return -EBADMSG;
	if ((st & PYPERF_SAMPLE_CODE_PAGE_SIZE) && !cur_u64(&c, &s->code_page_size))
		return -EBADMSG;
	if (st & PYPERF_SAMPLE_AUX) {
		if (!cur_u64(&c, &s->aux_size) || !cur_skip(&c, s->aux_size, &w))
			return -EBADMSG;
		s->aux = w;
	}
	return 0;
}

/* The sample_id trailer of a non-sample record. */
void pyperf_data_parse_trailer(const struct attr_entry *e, const uint8_t *rec, uint64_t size,
			       struct pyperf_sample *s)
{
	uint64_t st = e->attr.sample_type, v;
	const uint8_t *p = rec + size - e->layout.trailer_size;

	s->present = 0;
	s->pid = s->tid = (uint32_t)-1;
	s->time = 0;
	s->cpu = (uint32_t)-1;
	if (!e->layout.trailer_size || size < 8 + e->layout.trailer_size)
		return;
	if (st & PYPERF_SAMPLE_TID) {
		v = load_u64(p);
		p += 8;
		s->pid = (uint32_t)v;
		s->tid = (uint32_t)(v >> 32);
		s->present |= PYPERF_SAMPLE_TID;
	}
	if (st & PYPERF_SAMPLE_TIME) {
		s->time = load_u64(p);
		p += 8;
		s->present |= PYPERF_SAMPLE_TIME;
	}
	if (st & PYPERF_SAMPLE_ID) {
		s->id = load_u64(p);
		p += 8;
		s->present |= PYPERF_SAMPLE_ID;
	}
	if (st & PYPERF_SAMPLE_STREAM_ID) {
		s->stream_id = load_u64(p);
		p += 8;
		s->present |= PYPERF_SAMPLE_STREAM_ID;
	}
	if (st & PYPERF_SAMPLE_CPU) {
		s->cpu = (uint32_t)load_u64(p);
		p += 8;
		s->present |= PYPERF_SAMPLE_CPU;
	}
	if (st & PYPERF_SAMPLE_IDENTIFIER) {
		s->id = load_u64(p);
		s->present |= PYPERF_SAMPLE_IDENTIFIER;
	}
}

/* Which attr a record belongs to. */
const struct attr_entry *pyperf_data_record_attr(struct pyperf_data *d, const uint8_t *rec,
						 uint32_t type, uint64_t size)
{
	const struct attr_entry *first = &d->attrs[0];
	uint64_t id;
	int idx;

	if (d->nr_attrs == 1)
		return first;
	if (!d->same_layout) {
		/* perf refuses such files; the id position is ambiguous. */
		return first;
	}
	if (type == PYPERF_RECORD_SAMPLE) {
		if (first->layout.sample_id_pos < 0 ||
		    size < 8 + 8 * (uint64_t)(first->layout.sample_id_pos + 1))
			return first;
		id = load_u64(rec + 8 + 8 * first->layout.sample_id_pos);
	} else {
		if (first->layout.trailer_id_pos < 0 ||
		    size < 8 + 8 * (uint64_t)first->layout.trailer_id_pos)
			return first;
		id = load_u64(rec + size - 8 * first->layout.trailer_id_pos);
	}
	/* perf's own synthesized records carry id 0: they belong to the first
	 * event, as perf reads them. */
	if (!id)
		return first;
	idx = pyperf_data_ids_find(d, id);
	if (idx < 0) {
		d->stats.unknown_ids++;
		/* The layout is shared, so a non-sample record still decodes;
		 * a sample of an unknown event has nothing to be counted under. */
		return type == PYPERF_RECORD_SAMPLE ? NULL : first;
	}
	return &d->attrs[idx];
}

uint64_t pyperf_data_record_time(struct pyperf_data *d, const void *p)
{
	const uint8_t *rec = p;
	uint32_t type = load_u32(rec);
	uint64_t size = load_u16(rec + 6);
	const struct attr_entry *e;

	if (type >= RECORD_USER_TYPE_START || !d->nr_attrs)
		return 0;
	e = pyperf_data_record_attr(d, rec, type, size);
	if (!e || !(e->attr.sample_type & PYPERF_SAMPLE_TIME))
		return 0;
	if (type == PYPERF_RECORD_SAMPLE) {
		uint64_t st = e->attr.sample_type;
		int pos = !!(st & PYPERF_SAMPLE_IDENTIFIER) + !!(st & PYPERF_SAMPLE_IP) +
			  !!(st & PYPERF_SAMPLE_TID);

		if (size < 8 + 8 * (uint64_t)(pos + 1))
			return 0;
		return load_u64(rec + 8 + 8 * pos);
	}
	if (e->layout.trailer_time_pos < 0 || size < 8 + e->layout.trailer_size)
		return 0;
	return load_u64(rec + size - 8 * e->layout.trailer_time_pos);
}
