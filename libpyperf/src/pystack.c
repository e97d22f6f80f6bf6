/* SPDX-License-Identifier: MIT */
/*
 * Walker records: decoding the bytes the BPF program wrote, and pairing
 * each with the perf sample right after it in the same ring buffer (see
 * the DOC of pyperf/interp.h for why adjacency is the rule).
 */
#include <stdio.h>
#include <stdlib.h>
#include "internal.h"
#include "interp_bpf.h"
#include <pyperf/interp.h>

#define FRAME_SIZE sizeof(struct pyperf_walk_frame)

PYPERF_API int pyperf_pystack__parse(const void *raw, size_t size, struct pyperf_pystack *out,
				     struct pyperf_error *err)
{
	const uint8_t *p = raw;
	uint16_t nr;

	if (!raw || size < PYPERF_WALK_HEADER_SIZE || load_u32(p) != PYPERF_WALK_MAGIC)
		return pyperf_err(pyperf_error_set(err, -EBADMSG, 0, "<walker record>",
						   "not a walker record (%zu bytes)", size));
	if (load_u16(p + 4) != PYPERF_WALK_FORMAT)
		return pyperf_err(
		    pyperf_error_set(err, -EOPNOTSUPP, 4, "<walker record>",
				     "walker record format %u (this library reads %u)",
				     load_u16(p + 4), PYPERF_WALK_FORMAT));
	nr = load_u16(p + 6);
	/* the kernel pads raw data to 8 bytes: more is fine, less is not */
	if (nr > PYPERF_WALK_MAX_FRAMES || PYPERF_WALK_HEADER_SIZE + (size_t)nr * FRAME_SIZE > size)
		return pyperf_err(pyperf_error_set(err, -EBADMSG, 6, "<walker record>",
						   "%u frames do not fit in %zu bytes", nr, size));
	*out = (struct pyperf_pystack){
	    .pid = load_u32(p + 8),
	    .tid = load_u32(p + 12),
	    .seq = load_u64(p + 16),
	    .time = load_u64(p + 24),
	    .tstate = load_u64(p + 32),
	    .cpu = load_u32(p + 40),
	    .status = p[44],
	    .gil = p[45],
	    .nr = nr,
	    .frames_ = p + PYPERF_WALK_HEADER_SIZE,
	};
	return 0;
}

PYPERF_API void pyperf_pystack__frame(const struct pyperf_pystack *s, uint32_t i,
				      struct pyperf_pyframe *out)
{
	const uint8_t *f = (const uint8_t *)s->frames_ + (size_t)i * FRAME_SIZE;
	uint32_t loc = load_u32(f + 12);

	out->code = load_u64(f);
	out->ident = load_u32(f + 8);
	out->lasti = (int32_t)(loc & PYPERF_WALK_LOC_OFFSET) - 2;
	out->flags = (loc & PYPERF_WALK_LOC_ENTRY ? PYPERF_PYFRAME_ENTRY : 0) |
		     (loc & PYPERF_WALK_LOC_NO_IDENT ? PYPERF_PYFRAME_NO_IDENT : 0);
}

PYPERF_API const char *pyperf_pystack__status_name(enum pyperf_pystack_status status)
{
	static const char *const names[] = {"ok",	 "no-tstate",  "fault",
					    "truncated", "no-runtime", "bad-chain"};

	return (unsigned)status < ARRAY_SIZE(names) ? names[status] : "unknown";
}

/* ----- pairing ----- */

struct pending {
	uint8_t *bytes; /* the record's copy; grown, never shrunk */
	size_t cap;
	bool full;
	struct pyperf_pystack rec;
};

struct pyperf_pystack_pairer {
	unsigned nr;
	struct pending *buf;
	/* the last sequence number seen per CPU, + 1 (0: none yet) */
	uint64_t *next_seq;
	unsigned nr_cpus;
	struct pyperf_pystack_pairer_stats stats;
};

PYPERF_API struct pyperf_pystack_pairer *pyperf_pystack_pairer__new(unsigned int nr_buffers)
{
	struct pyperf_pystack_pairer *p;

	if (!nr_buffers || nr_buffers > 65536)
		return pyperf_err_ptr(-EINVAL);
	p = pp_calloc(1, sizeof(*p));
	if (!p)
		return pyperf_err_ptr(-ENOMEM);
	p->nr = nr_buffers;
	p->buf = pp_calloc(nr_buffers, sizeof(*p->buf));
	if (!p->buf) {
		free(p);
		return pyperf_err_ptr(-ENOMEM);
	}
	return p;
}

PYPERF_API void pyperf_pystack_pairer__free(struct pyperf_pystack_pairer *p)
{
	if (!p)
		return;
	for (unsigned i = 0; i < p->nr; i++)
		free(p->buf[i].bytes);
	free(p->buf);
	free(p->next_seq);
	free(p);
}

static void drop(struct pyperf_pystack_pairer *p, struct pending *b)
{
	if (b->full)
		p->stats.unpaired_records++;
	b->full = false;
}

/* Sequence numbers count every record the program tried to write on a CPU. */
static void check_seq(struct pyperf_pystack_pairer *p, const struct pyperf_pystack *r)
{
	if (r->cpu >= p->nr_cpus) {
		unsigned n = r->cpu + 1 > 64 ? r->cpu + 1 : 64;
		uint64_t *s;

		if (r->cpu >= 65536)
			return;
		s = pp_reallocarray(p->next_seq, n, sizeof(*s));
		if (!s)
			return; /* only a counter is lost */
		memset(s + p->nr_cpus, 0, (n - p->nr_cpus) * sizeof(*s));
		p->next_seq = s;
		p->nr_cpus = n;
	}
	if (p->next_seq[r->cpu] && r->seq > p->next_seq[r->cpu])
		p->stats.records_missing += r->seq - p->next_seq[r->cpu];
	if (r->seq + 1 > p->next_seq[r->cpu])
		p->next_seq[r->cpu] = r->seq + 1;
}

PYPERF_API int pyperf_pystack_pairer__record(struct pyperf_pystack_pairer *p, unsigned int buf,
					     const void *raw, size_t size)
{
	struct pending *b;
	struct pyperf_pystack r;

	if (buf >= p->nr)
		return pyperf_err(-EINVAL);
	b = &p->buf[buf];
	drop(p, b);
	if (pyperf_pystack__parse(raw, size, &r, NULL)) {
		p->stats.bad_records++;
		return pyperf_err(-EBADMSG);
	}
	p->stats.records++;
	check_seq(p, &r);
	if (size > b->cap) {
		uint8_t *n = pp_realloc(b->bytes, size);

		if (!n)
			return pyperf_err(-ENOMEM);
		b->bytes = n;
		b->cap = size;
	}
	memcpy(b->bytes, raw, size);
	b->rec = r;
	b->rec.frames_ = b->bytes + PYPERF_WALK_HEADER_SIZE;
	b->full = true;
	return 0;
}

PYPERF_API int pyperf_pystack_pairer__sample(struct pyperf_pystack_pairer *p, unsigned int buf,
					     uint32_t tid, const struct pyperf_pystack **out)
{
	struct pending *b;

	*out = NULL;
	if (buf >= p->nr)
		return pyperf_err(-EINVAL);
	b = &p->buf[buf];
	if (b->full && b->rec.tid == tid) {
		b->full = false;
		p->stats.paired++;
		*out = &b->rec;
		return 1;
	}
	drop(p, b);
	p->stats.samples_without++;
	return 0;
}

PYPERF_API void pyperf_pystack_pairer__other(struct pyperf_pystack_pairer *p, unsigned int buf)
{
	if (buf < p->nr)
		drop(p, &p->buf[buf]);
}

PYPERF_API void pyperf_pystack_pairer__stats(const struct pyperf_pystack_pairer *p,
					     struct pyperf_pystack_pairer_stats *out)
{
	*out = p->stats;
}
