// SPDX-License-Identifier: MIT
/*
 * A record's body decoded into struct pyperf_record, as the kernel and
 * perf record lay them out.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include "data_internal.h"

/* ---- record decoding ---------------------------------------------------------- */

/* A string field: must end (NUL) inside [s, end). */
static const char *body_string(const uint8_t *s, const uint8_t *end)
{
	if (s >= end || !memchr(s, 0, end - s))
		return NULL;
	return (const char *)s;
}

static int decode_body(struct pyperf_record *r, const uint8_t *rec, uint64_t size,
		       const struct attr_entry *e)
{
	const uint8_t *end = rec + size - (e ? e->layout.trailer_size : 0);
	const uint8_t *b = rec + 8;

	if (end < b)
		return -EBADMSG;
	switch (r->type) {
	case PYPERF_RECORD_MMAP:
		/* pid tid start len pgoff filename[] */
		if (end - b < 32)
			return -EBADMSG;
		memset(&r->mmap, 0, sizeof(r->mmap));
		r->mmap.pid = load_u32(b);
		r->mmap.tid = load_u32(b + 4);
		r->mmap.start = load_u64(b + 8);
		r->mmap.len = load_u64(b + 16);
		r->mmap.pgoff = load_u64(b + 24);
		r->mmap.prot = 4; /* PROT_EXEC: MMAP records are code (mmap_data aside) */
		r->mmap.filename = body_string(b + 32, end);
		return r->mmap.filename ? 0 : -EBADMSG;
	case PYPERF_RECORD_MMAP2:
		/* pid tid start len pgoff {maj min ino ino_gen | bid_size pad bid[20]}
		 * prot flags filename[] */
		if (end - b < 72)
			return -EBADMSG;
		memset(&r->mmap, 0, sizeof(r->mmap));
		r->mmap.mmap2 = true;
		r->mmap.pid = load_u32(b);
		r->mmap.tid = load_u32(b + 4);
		r->mmap.start = load_u64(b + 8);
		r->mmap.len = load_u64(b + 16);
		r->mmap.pgoff = load_u64(b + 24);
		if (r->misc & MISC_MMAP_BUILD_ID) {
			r->mmap.has_build_id = true;
			r->mmap.build_id_size = b[32] > 20 ? 20 : b[32];
			memcpy(r->mmap.build_id, b + 36, 20);
		} else {
			r->mmap.maj = load_u32(b + 32);
			r->mmap.min = load_u32(b + 36);
			r->mmap.ino = load_u64(b + 40);
			r->mmap.ino_generation = load_u64(b + 48);
		}
		r->mmap.prot = load_u32(b + 56);
		r->mmap.flags = load_u32(b + 60);
		r->mmap.filename = body_string(b + 64, end);
		return r->mmap.filename ? 0 : -EBADMSG;
	case PYPERF_RECORD_COMM:
		if (end - b < 9)
			return -EBADMSG;
		r->comm.pid = load_u32(b);
		r->comm.tid = load_u32(b + 4);
		r->comm.exec = r->misc & PYPERF_MISC_COMM_EXEC;
		r->comm.comm = body_string(b + 8, end);
		return r->comm.comm ? 0 : -EBADMSG;
	case PYPERF_RECORD_FORK:
	case PYPERF_RECORD_EXIT:
		if (end - b < 24)
			return -EBADMSG;
		r->task.pid = load_u32(b);
		r->task.ppid = load_u32(b + 4);
		r->task.tid = load_u32(b + 8);
		r->task.ptid = load_u32(b + 12);
		r->task.time = load_u64(b + 16);
		return 0;
	case PYPERF_RECORD_LOST:
	case PYPERF_RECORD_LOST_SAMPLES:
		if (r->type == PYPERF_RECORD_LOST) {
			if (end - b < 16)
				return -EBADMSG;
			r->lost.id = load_u64(b);
			r->lost.lost = load_u64(b + 8);
		} else {
			if (end - b < 8)
				return -EBADMSG;
			r->lost.id = r->sample.id;
			r->lost.lost = load_u64(b);
		}
		return 0;
	case PYPERF_RECORD_THROTTLE:
	case PYPERF_RECORD_UNTHROTTLE:
		if (end - b < 24)
			return -EBADMSG;
		r->throttle.time = load_u64(b);
		r->throttle.id = load_u64(b + 8);
		r->throttle.stream_id = load_u64(b + 16);
		return 0;
	case PYPERF_RECORD_KSYMBOL:
		if (end - b < 17)
			return -EBADMSG;
		r->ksymbol.addr = load_u64(b);
		r->ksymbol.len = load_u32(b + 8);
		r->ksymbol.ksym_type = load_u16(b + 12);
		r->ksymbol.flags = load_u16(b + 14);
		r->ksymbol.name = body_string(b + 16, end);
		return r->ksymbol.name ? 0 : -EBADMSG;
	default:
		return 0;
	}
}

static void warn_malformed(struct pyperf_data *d, uint32_t type, uint64_t offset)
{
	d->stats.malformed_records++;
	if (type < PYPERF_RECORD_TYPE_MAX && !d->warned_malformed[type]) {
		d->warned_malformed[type] = true;
		pr_warn("%s: offset %" PRIu64 ": malformed %s record skipped (further ones are "
			"counted silently)\n",
			d->name, offset, pyperf_record_type__name(type));
	}
}

/*
 * Fills d->rec from a record. Returns 1 if the record is usable, 0 if it was
 * malformed and skipped (counted), or a negative errno.
 */
int pyperf_data_decode(struct pyperf_data *d, const void *p, uint64_t size, uint64_t offset)
{
	const uint8_t *rec = p;
	struct pyperf_record *r = &d->rec;
	const struct attr_entry *e = NULL;
	int ret;

	r->type = load_u32(rec);
	r->misc = load_u16(rec + 4);
	r->size = (uint16_t)size;
	r->offset = offset;
	r->data = rec;
	r->attr = NULL;
	r->sample.present = 0;

	if (r->type < RECORD_USER_TYPE_START) {
		if (!d->nr_attrs) {
			warn_malformed(d, r->type, offset);
			return 0;
		}
		e = pyperf_data_record_attr(d, rec, r->type, size);
		if (!e) {
			/* An id no attr claims: perf drops these too. */
			return 0;
		}
		r->attr = &e->attr;
		if (r->type == PYPERF_RECORD_SAMPLE) {
			if (pyperf_data__parse_sample(&e->attr, rec, size, &r->sample)) {
				warn_malformed(d, r->type, offset);
				return 0;
			}
			return 1;
		}
		pyperf_data_parse_trailer(e, rec, size, &r->sample);
	}
	ret = decode_body(r, rec, size, e);
	if (ret) {
		warn_malformed(d, r->type, offset);
		return 0;
	}
	if (r->type == PYPERF_RECORD_LOST)
		d->stats.lost_records += r->lost.lost;
	else if (r->type == PYPERF_RECORD_LOST_SAMPLES && !(r->misc & MISC_LOST_SAMPLES_BPF))
		d->stats.lost_samples += r->lost.lost;
	return 1;
}

/*
 * A record that did not come from the file: 1, or -EBADMSG (malformed,
 * counted), -ENOENT (its event id is none of the events', counted as
 * unknown; perf drops these), -EINVAL (a size that is not the header's).
 */
static int decode_one(struct pyperf_data *d, const void *rec, size_t size,
		      const struct pyperf_record **out)
{
	uint64_t malformed = d->stats.malformed_records;
	int ret;

	if (size < 8 || size > 65535 || (uintptr_t)rec % 8 ||
	    load_u16((const uint8_t *)rec + 6) != size)
		return pyperf_err(-EINVAL);
	ret = pyperf_data_decode(d, rec, size, 0);
	if (ret == 1)
		*out = &d->rec;
	else if (!ret) /* an error here, where 0 would read as "end" */
		ret = d->stats.malformed_records != malformed ? -EBADMSG : -ENOENT;
	return pyperf_err(ret);
}

PYPERF_API int pyperf_data__decode(struct pyperf_data *d, const void *rec, size_t size,
				   const struct pyperf_record **out)
{
	return decode_one(d, rec, size, out);
}

/* ---- decoder: the events alone, for records from ring buffers -------------------------- */

struct pyperf_decoder {
	struct pyperf_data *d;
};

PYPERF_API struct pyperf_decoder *pyperf_decoder__new(const char *name)
{
	struct pyperf_decoder *dec = pp_calloc(1, sizeof(*dec));

	if (!dec)
		return pyperf_err_ptr(-ENOMEM);
	dec->d = pyperf_data_new(name ? name : "ring buffer");
	if (!dec->d) {
		free(dec);
		return pyperf_err_ptr(-ENOMEM);
	}
	return dec;
}

PYPERF_API int pyperf_decoder__add_attr(struct pyperf_decoder *dec, const void *attr,
					size_t attr_size, const uint64_t *ids, size_t nr_ids,
					const char *name)
{
	struct pyperf_data *d = dec->d;
	struct attr_entry *e;
	char *n = NULL;
	int ret;

	if (attr_size < ATTR_SIZE_VER0 || (nr_ids && !ids))
		return pyperf_err(-EINVAL);
	if (name && !(n = pp_strdup(name)))
		return pyperf_err(-ENOMEM);
	ret = pyperf_data_add_attr(d, attr, attr_size, (const uint8_t *)ids, nr_ids);
	if (ret) {
		free(n);
		return pyperf_err(ret);
	}
	e = &d->attrs[d->nr_attrs - 1];
	if (n) {
		free(e->name);
		e->name = n;
	}
	pyperf_data_refresh_attr_pointers(d);
	pyperf_data_check_same_layout(d);
	return 0;
}

PYPERF_API int pyperf_decoder__decode(struct pyperf_decoder *dec, const void *rec, size_t size,
				      const struct pyperf_record **out)
{
	return decode_one(dec->d, rec, size, out);
}

PYPERF_API const struct pyperf_data_stats *pyperf_decoder__stats(const struct pyperf_decoder *dec)
{
	return pyperf_data__stats(dec->d);
}

PYPERF_API void pyperf_decoder__free(struct pyperf_decoder *dec)
{
	if (!dec)
		return;
	pyperf_data__close(dec->d);
	free(dec);
}
