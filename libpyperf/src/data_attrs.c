// SPDX-License-Identifier: MIT
/*
 * perf.data attrs: each event's record layout, its name, and the id ->
 * attr table by which records find their event.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include "data_internal.h"

/* ---- attrs and ids ---------------------------------------------------- */

int pyperf_data_popcount64(uint64_t x)
{
	return __builtin_popcountll(x);
}

static void compute_layout(struct attr_entry *e)
{
	uint64_t st = e->attr.sample_type;
	struct attr_layout *l = &e->layout;
	int pos = 0;

	l->sample_id_pos = -1;
	if (st & PYPERF_SAMPLE_IDENTIFIER) {
		l->sample_id_pos = 0;
	} else if (st & PYPERF_SAMPLE_ID) {
		pos += !!(st & PYPERF_SAMPLE_IP) + !!(st & PYPERF_SAMPLE_TID) +
		       !!(st & PYPERF_SAMPLE_TIME) + !!(st & PYPERF_SAMPLE_ADDR);
		l->sample_id_pos = pos;
	}

	/* The sample_id trailer, read back from the record's end. */
	l->trailer_size = 0;
	l->trailer_id_pos = -1;
	l->trailer_time_pos = -1;
	if (!e->attr.sample_id_all)
		return;
	pos = 0; /* u64 slots counted back from the end, 1-based */
	if (st & PYPERF_SAMPLE_IDENTIFIER)
		l->trailer_id_pos = ++pos;
	if (st & PYPERF_SAMPLE_CPU)
		++pos;
	if (st & PYPERF_SAMPLE_STREAM_ID)
		++pos;
	if (st & PYPERF_SAMPLE_ID) {
		++pos;
		if (l->trailer_id_pos < 0)
			l->trailer_id_pos = pos;
	}
	if (st & PYPERF_SAMPLE_TIME)
		l->trailer_time_pos = ++pos;
	if (st & PYPERF_SAMPLE_TID)
		++pos;
	l->trailer_size = pos * 8;
}

static const char *const hw_names[] = {
    "cycles",
    "instructions",
    "cache-references",
    "cache-misses",
    "branch-instructions",
    "branch-misses",
    "bus-cycles",
    "stalled-cycles-frontend",
    "stalled-cycles-backend",
    "ref-cycles",
};
static const char *const sw_names[] = {
    "cpu-clock",	"task-clock",	"page-faults",	"context-switches",
    "cpu-migrations",	"minor-faults", "major-faults", "alignment-faults",
    "emulation-faults", "dummy",	"bpf-output",	"cgroup-switches",
};

/* A name for an attr the file does not name (no EVENT_DESC feature). */
static int derive_name(struct attr_entry *e)
{
	char buf[96], mod[16] = "";
	const struct pyperf_attr *a = &e->attr;
	unsigned precise = (a->flags >> ATTR_PRECISE_SHIFT) & 3;
	size_t m = 0;

	if (a->type == 0 && a->config < ARRAY_SIZE(hw_names))
		snprintf(buf, sizeof(buf), "%s", hw_names[a->config]);
	else if (a->type == 1 && a->config < ARRAY_SIZE(sw_names))
		snprintf(buf, sizeof(buf), "%s", sw_names[a->config]);
	else if (a->type == 4)
		snprintf(buf, sizeof(buf), "r%" PRIx64, a->config);
	else
		snprintf(buf, sizeof(buf), "event:%u:%#" PRIx64, a->type, a->config);
	if (a->exclude_kernel && !a->exclude_user)
		mod[m++] = 'u';
	if (a->exclude_user && !a->exclude_kernel)
		mod[m++] = 'k';
	while (precise--)
		mod[m++] = 'p';
	mod[m] = 0;
	if (m)
		snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), ":%s", mod);
	free(e->name);
	e->name = pp_strdup(buf);
	if (!e->name)
		return -ENOMEM;
	e->attr.name = e->name;
	return 0;
}

static int ids_rehash(struct pyperf_data *d, size_t ncap)
{
	struct id_slot *old = d->ids;
	size_t ocap = d->ids_cap;

	d->ids = pp_calloc(ncap, sizeof(*d->ids));
	if (!d->ids) {
		d->ids = old;
		return -ENOMEM;
	}
	d->ids_cap = ncap;
	d->ids_count = 0;
	for (size_t i = 0; i < ocap; i++)
		if (old[i].used)
			pyperf_data_ids_insert(d, old[i].id, old[i].attr_idx);
	free(old);
	return 0;
}

int pyperf_data_ids_insert(struct pyperf_data *d, uint64_t id, uint32_t idx)
{
	size_t i;

	if ((d->ids_count + 1) * 2 > d->ids_cap) {
		int ret = ids_rehash(d, d->ids_cap ? d->ids_cap * 2 : 64);
		if (ret)
			return ret;
	}
	for (i = pp_probe_start(hash_u64(id), d->ids_cap); d->ids[i].used;
	     i = pp_probe_next(i, d->ids_cap)) {
		if (d->ids[i].id == id) {
			d->ids[i].attr_idx = idx;
			return 0;
		}
	}
	d->ids[i].used = true;
	d->ids[i].id = id;
	d->ids[i].attr_idx = idx;
	d->ids_count++;
	return 0;
}

int pyperf_data_ids_find(const struct pyperf_data *d, uint64_t id)
{
	if (!d->ids_cap)
		return -1;
	for (size_t i = pp_probe_start(hash_u64(id), d->ids_cap); d->ids[i].used;
	     i = pp_probe_next(i, d->ids_cap))
		if (d->ids[i].id == id)
			return d->ids[i].attr_idx;
	return -1;
}

/* Adds an attr read from @raw (@size bytes) with @nr ids. */
int pyperf_data_add_attr(struct pyperf_data *d, const uint8_t *raw, uint64_t size,
			 const uint8_t *ids, uint64_t nr)
{
	struct attr_entry *e;
	uint8_t full[ATTR_MAX_SIZE] = {0};
	int ret;

	if (size > ATTR_MAX_SIZE)
		size = ATTR_MAX_SIZE;
	ret = PP_GROW(d->attrs, d->cap_attrs, d->nr_attrs + 1);
	if (ret)
		return ret;
	e = &d->attrs[d->nr_attrs];
	memset(e, 0, sizeof(*e));
	memcpy(full, raw, size);
	e->raw = pp_malloc(size);
	e->ids = pp_calloc(nr ? nr : 1, sizeof(uint64_t));
	if (!e->raw || !e->ids) {
		free(e->raw);
		free(e->ids);
		return -ENOMEM;
	}
	memcpy(e->raw, raw, size);
	for (uint64_t i = 0; i < nr; i++)
		e->ids[i] = load_u64(ids + i * 8);

	e->attr.type = load_u32(full + ATTR_OFF_TYPE);
	e->attr.size = (uint32_t)size;
	e->attr.config = load_u64(full + ATTR_OFF_CONFIG);
	e->attr.sample_period = load_u64(full + ATTR_OFF_PERIOD);
	e->attr.sample_type = load_u64(full + ATTR_OFF_SAMPLE_TYPE);
	e->attr.read_format = load_u64(full + ATTR_OFF_READ_FORMAT);
	e->attr.flags = load_u64(full + ATTR_OFF_FLAGS);
	e->attr.branch_sample_type = load_u64(full + ATTR_OFF_BRANCH_SAMPLE_TYPE);
	e->attr.sample_regs_user = load_u64(full + ATTR_OFF_REGS_USER);
	e->attr.sample_stack_user = load_u32(full + ATTR_OFF_STACK_USER);
	e->attr.sample_regs_intr = load_u64(full + ATTR_OFF_REGS_INTR);
	e->attr.freq = e->attr.flags & ATTR_FLAG_FREQ;
	e->attr.sample_id_all = e->attr.flags & ATTR_FLAG_SAMPLE_ID_ALL;
	e->attr.exclude_user = e->attr.flags & ATTR_FLAG_EXCLUDE_USER;
	e->attr.exclude_kernel = e->attr.flags & ATTR_FLAG_EXCLUDE_KERNEL;
	e->attr.nr_ids = nr;
	e->attr.ids = e->ids;
	e->attr.raw = e->raw;
	compute_layout(e);
	d->nr_attrs++;
	ret = derive_name(e);
	if (ret)
		return ret;
	for (uint64_t i = 0; i < nr; i++) {
		ret = pyperf_data_ids_insert(d, e->ids[i], (uint32_t)(d->nr_attrs - 1));
		if (ret)
			return ret;
	}
	return 0;
}

/* Attr pointers were handed out before the array grew: refresh them. */
void pyperf_data_refresh_attr_pointers(struct pyperf_data *d)
{
	for (size_t i = 0; i < d->nr_attrs; i++) {
		d->attrs[i].attr.ids = d->attrs[i].ids;
		d->attrs[i].attr.raw = d->attrs[i].raw;
		d->attrs[i].attr.name = d->attrs[i].name;
	}
}

void pyperf_data_check_same_layout(struct pyperf_data *d)
{
	d->same_layout = true;
	for (size_t i = 1; i < d->nr_attrs; i++) {
		/* The id must sit at the same place in every event's records
		 * (counted from the end in trailers: with IDENTIFIER it is the
		 * last u64 whatever else the trailer holds), as perf requires. */
		if (d->attrs[i].layout.sample_id_pos != d->attrs[0].layout.sample_id_pos ||
		    d->attrs[i].layout.trailer_id_pos != d->attrs[0].layout.trailer_id_pos ||
		    (d->attrs[0].layout.trailer_id_pos != 1 &&
		     d->attrs[i].layout.trailer_size != d->attrs[0].layout.trailer_size))
			d->same_layout = false;
	}
}
