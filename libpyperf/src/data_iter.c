// SPDX-License-Identifier: MIT
/*
 * Records in file order: the data section walked record by record, user
 * records (perf's own: ids, features in pipe mode) taken in on the way.
 */
#include <inttypes.h>
#include <stdlib.h>
#include "data_internal.h"

/* ---- file-order iteration ---------------------------------------------------------- */

static int sticky(struct pyperf_data *d, int code, struct pyperf_error *err)
{
	d->sticky_err = code;
	d->sticky_error = *err;
	return code;
}

int pyperf_data_next_raw(struct pyperf_data *d, const void **out, uint64_t *offset,
			 struct pyperf_error *err)
{
	struct pyperf_error local;

	if (!err)
		err = &local;
	if (d->sticky_err) {
		*err = d->sticky_error;
		return d->sticky_err;
	}
	for (;;) {
		const uint8_t *rec;
		uint64_t size;
		uint32_t type;

		/* Records unpacked from a COMPRESSED record come first. */
		if (d->cur_chunk) {
			struct decomp_chunk *c = d->cur_chunk;

			if (c->len - d->chunk_pos < 8 ||
			    load_u16(c->data + d->chunk_pos + 6) > c->len - d->chunk_pos) {
				if (pyperf_data_carry_tail(d))
					return sticky(d,
						      pyperf_error_set(err, -ENOMEM,
								       PYPERF_NO_OFFSET, d->name,
								       "out of memory"),
						      err);
				continue;
			}
			rec = c->data + d->chunk_pos;
			size = load_u16(rec + 6);
			if (size < 8)
				return sticky(
				    d,
				    pyperf_error_set(err, -EBADMSG, d->comp_offset, d->name,
						     "a record inside this COMPRESSED record has "
						     "size %" PRIu64 "; cannot go on",
						     size),
				    err);
			d->chunk_pos += size;
			/* A damaged size inside the stream misaligns what follows. */
			if (((uintptr_t)rec | size) % 8) {
				memcpy(d->scratch, rec, size);
				rec = d->scratch;
			}
			*out = rec;
			*offset = d->comp_offset;
			d->stats
			    .records[load_u32(rec) < PYPERF_RECORD_TYPE_MAX ? load_u32(rec) : 0]++;
			return 1;
		}

		if (d->pos >= d->data_end) {
			if (d->carry_len)
				pr_warn(
				    "%s: %zu bytes of an incomplete compressed record at the end "
				    "ignored\n",
				    d->name, d->carry_len);
			d->carry_len = 0;
			if (d->data_size < d->data_size_claimed)
				return sticky(
				    d,
				    pyperf_error_set(err, -EBADMSG, d->size, d->name,
						     "file is truncated: the header promises "
						     "%" PRIu64 " bytes of records but the file "
						     "ends after %" PRIu64,
						     d->data_size_claimed, d->data_size),
				    err);
			return 0;
		}
		if (d->data_end - d->pos < 8)
			return sticky(
			    d,
			    pyperf_error_set(err, -EBADMSG, d->pos, d->name,
					     "file ends inside a record header (truncated)"),
			    err);
		rec = d->base + d->pos;
		size = load_u16(rec + 6);
		type = load_u32(rec);
		if (size < 8)
			return sticky(
			    d,
			    pyperf_error_set(err, -EBADMSG, d->pos, d->name,
					     "record of type %u has size %" PRIu64
					     ", which cannot be stepped over; the file is "
					     "corrupt from here on",
					     type, size),
			    err);
		if (size > d->data_end - d->pos)
			return sticky(d,
				      pyperf_error_set(err, -EBADMSG, d->pos, d->name,
						       "%s record of %" PRIu64
						       " bytes runs past the end "
						       "of the data (file truncated)",
						       pyperf_record_type__name(type), size),
				      err);
		*offset = d->pos;
		d->pos += size;

		if (!pyperf_data_record_type_known(type)) {
			d->stats.unknown_records++;
			continue;
		}
		d->stats.records[type]++;
		if (type == PYPERF_RECORD_COMPRESSED) {
#ifdef HAVE_ZSTD
			int ret;

			d->comp_offset = *offset;
			ret = pyperf_data_decompress(d, rec + 8, size - 8, err);
			if (ret)
				return sticky(d, ret, err);
			continue;
#else
			return sticky(
			    d,
			    pyperf_error_set(err, -EOPNOTSUPP, *offset, d->name,
					     "compressed records (perf record -z) are not "
					     "supported by this build (no zstd); record "
					     "without -z or 'perf inject' the file"),
			    err);
#endif
		}
		/* Records are 8-byte aligned in any file perf writes; a damaged
		 * size breaks that, so copy rather than misread. */
		if (((uintptr_t)rec | size) % 8) {
			memcpy(d->scratch, rec, size);
			rec = d->scratch;
		}
		*out = rec;
		return 1;
	}
}

static void handle_user_record(struct pyperf_data *d, const uint8_t *rec, uint64_t size)
{
	uint32_t type = load_u32(rec);

	if (type == PYPERF_RECORD_HEADER_ATTR && size >= 8 + ATTR_SIZE_VER0) {
		uint32_t asz = load_u32(rec + 8 + ATTR_OFF_SIZE);
		uint64_t nr;

		if (!asz)
			asz = ATTR_SIZE_VER0;
		if (asz > size - 8 || asz % 8)
			return;
		nr = (size - 8 - asz) / 8;
		if (!pyperf_data_add_attr(d, rec + 8, asz, rec + 8 + asz, nr)) {
			pyperf_data_refresh_attr_pointers(d);
			pyperf_data_check_same_layout(d);
		}
	} else if (type == PYPERF_RECORD_HEADER_BUILD_ID) {
		pyperf_data_add_build_id(d, rec, size);
	} else if (type == PYPERF_RECORD_ID_INDEX && size >= 16) {
		/* ids only: perf uses the cpu/tid too, we need the attr. */
		uint64_t nr = load_u64(rec + 8);

		if (nr > (size - 16) / 32)
			nr = (size - 16) / 32;
		for (uint64_t i = 0; i < nr; i++) {
			uint64_t id = load_u64(rec + 16 + 32 * i);
			uint64_t idx = load_u64(rec + 16 + 32 * i + 8);

			if (idx < d->nr_attrs && pyperf_data_ids_find(d, id) < 0)
				pyperf_data_ids_insert(d, id, (uint32_t)idx);
		}
	}
}

PYPERF_API int pyperf_data__next(struct pyperf_data *d, const struct pyperf_record **out,
				 struct pyperf_error *err)
{
	for (;;) {
		const void *p;
		uint64_t off;
		int ret = pyperf_data_next_raw(d, &p, &off, err);

		if (ret <= 0)
			return pyperf_err(ret);
		if (load_u32(p) >= RECORD_USER_TYPE_START)
			handle_user_record(d, p, load_u16((const uint8_t *)p + 6));
		ret = pyperf_data_decode(d, p, load_u16((const uint8_t *)p + 6), off);
		if (ret < 0)
			return pyperf_err(ret);
		if (ret == 0)
			continue;
		*out = &d->rec;
		return 1;
	}
}

void pyperf_data_handle_user_record(struct pyperf_data *d, const void *rec)
{
	handle_user_record(d, rec, load_u16((const uint8_t *)rec + 6));
}
