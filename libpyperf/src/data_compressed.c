// SPDX-License-Identifier: MIT
/*
 * COMPRESSED records (perf record -z): zstd frames inflated into chunks
 * that live until the records queued from them are delivered.
 */
#include <inttypes.h>
#include <stdlib.h>
#ifdef HAVE_ZSTD
#include <zstd.h>
#endif
#include "data_internal.h"

/*
 * What one COMPRESSED record may inflate to. perf record compresses one
 * ring-buffer read at a time and notes the buffer's size in the
 * COMPRESSED feature (comp_mmap_len); perf report gives each record that
 * much room and fails beyond it. A record that gives more is damaged or
 * a decompression bomb (kilobytes that become gigabytes). Without the
 * feature, and above it, a fixed ceiling applies.
 */
#define INFLATE_CEILING ((uint64_t)64 << 20)
/* ---- compressed records --------------------------------------------------------- */

/* No more records come from the current chunk: it may go once the
 * records queued from it are delivered. */
static void chunk_done(struct pyperf_data *d)
{
	struct decomp_chunk *c = d->cur_chunk;

	if (!c)
		return;
	c->seq_end = d->seq;
	d->cur_chunk = NULL;
	if (!d->ordered)
		pyperf_data_release_chunks(d, d->seq); /* file order: nothing points in */
}

void pyperf_data_release_chunks(struct pyperf_data *d, uint64_t min_seq)
{
	while (d->chunks && d->chunks->seq_end <= min_seq) {
		struct decomp_chunk *c = d->chunks;

		d->chunks = c->next;
		if (!d->chunks)
			d->chunks_tail = NULL;
		d->chunk_bytes -= c->len;
		free(c);
	}
}

#ifdef HAVE_ZSTD
static uint64_t inflate_limit(struct pyperf_data *d)
{
	uint64_t size = 0;
	const uint8_t *f = pyperf_data__feature(d, PYPERF_FEAT_COMPRESSED, &size);
	uint32_t mmap_len = f && size >= 20 ? load_u32(f + 16) : 0;

	return mmap_len ? MIN((uint64_t)mmap_len, INFLATE_CEILING) : INFLATE_CEILING;
}

int pyperf_data_decompress(struct pyperf_data *d, const uint8_t *src, uint64_t len,
			   struct pyperf_error *err)
{
	ZSTD_inBuffer in = {src, len, 0};
	uint64_t limit, carried = d->carry_len;
	size_t cap;
	struct decomp_chunk *c;

	if (!d->inflate_limit)
		d->inflate_limit = inflate_limit(d);
	limit = d->inflate_limit;
	cap = (size_t)MIN(MAX(len * 8, (uint64_t)256 * 1024), limit) + carried;
	c = pp_malloc(sizeof(*c) + cap);
	if (!c)
		return pyperf_error_set(err, -ENOMEM, d->comp_offset, d->name, "out of memory");
	if (!d->zstd) {
		d->zstd = ZSTD_createDStream();
		if (!d->zstd || ZSTD_isError(ZSTD_initDStream(d->zstd))) {
			free(c);
			return pyperf_error_set(err, -ENOMEM, d->comp_offset, d->name,
						"cannot set up zstd");
		}
	}
	if (carried)
		memcpy(c->data, d->carry, carried);
	c->len = carried;
	d->carry_len = 0;
	while (in.pos < in.size) {
		ZSTD_outBuffer out = {c->data, cap, c->len};
		size_t r;

		if (c->len == cap) {
			struct decomp_chunk *n;

			if (cap - carried >= limit) {
				free(c);
				return pyperf_error_set(
				    err, -EBADMSG, d->comp_offset, d->name,
				    "COMPRESSED record of %" PRIu64 " bytes inflates to more than "
				    "%" PRIu64 " bytes, the most one may give%s; damaged (or a "
				    "decompression bomb): not read further",
				    len + 8, limit,
				    limit < INFLATE_CEILING ? " in this file (its compression "
							      "header's buffer size)"
							    : "");
			}
			cap = (size_t)MIN((uint64_t)cap * 2, limit + carried);
			n = pp_realloc(c, sizeof(*c) + cap);
			if (!n) {
				free(c);
				return pyperf_error_set(err, -ENOMEM, d->comp_offset, d->name,
							"out of memory");
			}
			c = n;
			out.dst = c->data;
			out.size = cap;
		}
		r = ZSTD_decompressStream(d->zstd, &out, &in);
		if (ZSTD_isError(r)) {
			free(c);
			return pyperf_error_set(err, -EBADMSG, d->comp_offset, d->name,
						"COMPRESSED record does not decompress: %s",
						ZSTD_getErrorName(r));
		}
		c->len = out.pos;
	}
	d->stats.compressed_bytes += c->len - carried;
	chunk_done(d);
	c->seq_end = UINT64_MAX;
	c->next = NULL;
	if (d->chunks_tail)
		d->chunks_tail->next = c;
	else
		d->chunks = c;
	d->chunks_tail = c;
	d->chunk_bytes += c->len;
	d->cur_chunk = c;
	d->chunk_pos = 0;
	return 0;
}
#endif

/* Moves an incomplete record at the end of the current chunk into carry. */
int pyperf_data_carry_tail(struct pyperf_data *d)
{
	struct decomp_chunk *c = d->cur_chunk;
	uint64_t rem = c->len - d->chunk_pos;

	if (rem) {
		if (PP_GROW(d->carry, d->carry_cap, rem))
			return -ENOMEM;
		memcpy(d->carry, c->data + d->chunk_pos, rem);
	}
	d->carry_len = rem;
	chunk_done(d);
	return 0;
}
