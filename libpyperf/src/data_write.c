// SPDX-License-Identifier: MIT
/* perf.data writing: header, attrs with ids, records, feature sections. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include "internal.h"
#include "data_internal.h"
#include <pyperf/data.h>
#ifdef HAVE_ZSTD
#include <zstd.h>
#endif

#define PERF_MAGIC2 0x32454c4946524550ULL
#define FILE_HEADER_SIZE 104
#define ATTR_MIN_SIZE 64

struct wattr {
	void *attr;
	size_t size;
	uint64_t *ids;
	size_t nr_ids;
	char *name;
};

struct pyperf_data_writer {
	char *path;
	int fd;	      /* -1 in memory */
	uint8_t *mem; /* the in-memory file */
	size_t mem_len, mem_cap;
	struct wattr *attrs;
	size_t nr_attrs, cap_attrs;
	size_t attr_slot; /* the largest attr size: every slot is this big */
	bool started;
	uint64_t attrs_off, data_off, data_size;
	struct {
		void *data;
		size_t size;
	} feat[PYPERF_FEAT_MAX];
	uint8_t *buf; /* write buffer for file mode */
	size_t buf_len;
	/* compression: records gather in raw, leave as COMPRESSED records */
	int zlevel;
	size_t zchunk;
	uint8_t *raw;
	size_t raw_len;
	uint8_t *zout;
	uint64_t raw_total, packed_total;
	void *zctx;
};

#define COMPRESSED_MAX_PAYLOAD (65535 - 8 - 7)

#define WBUF_SIZE (1 << 20)

static int raw_pwrite(struct pyperf_data_writer *w, const void *p, size_t n, uint64_t off)
{
	if (w->fd < 0) {
		if (PP_GROW(w->mem, w->mem_cap, off + n))
			return -ENOMEM;
		if (off > w->mem_len)
			memset(w->mem + w->mem_len, 0, off - w->mem_len);
		memcpy(w->mem + off, p, n);
		if (off + n > w->mem_len)
			w->mem_len = off + n;
		return 0;
	}
	while (n) {
		ssize_t r = pwrite(w->fd, p, n, (off_t)off);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r < 0 ? -errno : -EIO;
		p = (const uint8_t *)p + r;
		n -= r;
		off += r;
	}
	return 0;
}

static int flush_buf(struct pyperf_data_writer *w)
{
	int ret;

	if (!w->buf_len)
		return 0;
	ret = raw_pwrite(w, w->buf, w->buf_len, w->data_off + w->data_size - w->buf_len);
	w->buf_len = 0;
	return ret;
}

struct pyperf_data_writer *pyperf_data_writer_open_fd(int fd, const char *path,
						      struct pyperf_error *err)
{
	struct pyperf_data_writer *w = pp_calloc(1, sizeof(*w));

	if (!w) {
		if (fd >= 0)
			close(fd);
		pyperf_error_set(err, -ENOMEM, PYPERF_NO_OFFSET, path, "out of memory");
		return NULL;
	}
	w->fd = fd;
	if (fd >= 0) {
		w->path = pp_strdup(path);
		w->buf = pp_malloc(WBUF_SIZE);
		if (!w->path || !w->buf) {
			pyperf_data_writer__close(w);
			pyperf_error_set(err, -ENOMEM, PYPERF_NO_OFFSET, path, "out of memory");
			return pyperf_err_ptr(-ENOMEM);
		}
	}
	return w;
}

PYPERF_API struct pyperf_data_writer *
pyperf_data_writer__open(const char *path, const struct pyperf_data_writer_opts *opts,
			 struct pyperf_error *err)
{
	struct pyperf_data_writer *w;
	int fd = -1, level = OPTS_GET(opts, compression, 0), ret;

	if (!OPTS_VALID(opts, pyperf_data_writer_opts) || level < 0 || level > 22) {
		pyperf_error_set(err, -EINVAL, PYPERF_NO_OFFSET, path ? path : "(memory)",
				 "invalid writer options");
		return pyperf_err_ptr(-EINVAL);
	}
#ifndef HAVE_ZSTD
	if (level) {
		pyperf_error_set(err, -EOPNOTSUPP, PYPERF_NO_OFFSET, path ? path : "(memory)",
				 "compression is not available in this build");
		return pyperf_err_ptr(-EOPNOTSUPP);
	}
#endif
	if (path) {
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (fd < 0) {
			int e = errno;

			pyperf_error_set(err, -e, PYPERF_NO_OFFSET, path, "cannot create: %s",
					 strerror(e));
			return pyperf_err_ptr(-e);
		}
	}
	w = pyperf_data_writer_open_fd(fd, path, err);
	if (w && level &&
	    (ret = pyperf_data_writer_set_compression(w, level,
						      OPTS_GET(opts, compression_chunk, 0)))) {
		pyperf_error_set(err, ret, PYPERF_NO_OFFSET, path ? path : "(memory)", "%s",
				 strerror(-ret));
		pyperf_data_writer__close(w);
		return pyperf_err_ptr(ret);
	}
	return w;
}

PYPERF_API int pyperf_data_writer__add_attr(struct pyperf_data_writer *w, const void *attr,
					    size_t attr_size, const uint64_t *ids, size_t nr_ids,
					    const char *name)
{
	struct wattr *a;

	if (w->started || attr_size < ATTR_MIN_SIZE || attr_size % 8 || attr_size > 4096)
		return pyperf_err(-EINVAL);
	if (PP_GROW(w->attrs, w->cap_attrs, w->nr_attrs + 1))
		return pyperf_err(-ENOMEM);
	a = &w->attrs[w->nr_attrs];
	memset(a, 0, sizeof(*a));
	a->attr = pp_malloc(attr_size);
	a->ids = pp_calloc(nr_ids ? nr_ids : 1, sizeof(*ids));
	a->name = name ? pp_strdup(name) : NULL;
	if (!a->attr || !a->ids || (name && !a->name)) {
		free(a->attr);
		free(a->ids);
		free(a->name);
		return pyperf_err(-ENOMEM);
	}
	memcpy(a->attr, attr, attr_size);
	/* The attr's own size field must say what it holds. */
	{
		uint32_t sz = (uint32_t)attr_size;

		memcpy((uint8_t *)a->attr + 4, &sz, 4);
	}
	if (nr_ids)
		memcpy(a->ids, ids, nr_ids * sizeof(*ids));
	a->size = attr_size;
	a->nr_ids = nr_ids;
	w->attr_slot = MAX(w->attr_slot, attr_size);
	w->nr_attrs++;
	return 0;
}

static void put_u64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, 8);
}

static int write_header(struct pyperf_data_writer *w, uint64_t data_size,
			const uint64_t *flags /* 4 words */)
{
	uint8_t h[FILE_HEADER_SIZE] = {0};

	put_u64(h, PERF_MAGIC2);
	put_u64(h + 8, FILE_HEADER_SIZE);
	put_u64(h + 16, w->attr_slot + 16);
	put_u64(h + 24, w->attrs_off);
	put_u64(h + 32, (uint64_t)w->nr_attrs * (w->attr_slot + 16));
	put_u64(h + 40, w->data_off);
	put_u64(h + 48, data_size);
	for (int i = 0; i < 4; i++)
		put_u64(h + 72 + 8 * i, flags ? flags[i] : 0);
	return raw_pwrite(w, h, sizeof(h), 0);
}

/* Ids, then attrs, then the header with an empty data section. */
static int start(struct pyperf_data_writer *w)
{
	uint64_t off = FILE_HEADER_SIZE;
	uint8_t *slot;
	int ret;

	if (!w->nr_attrs)
		return -EINVAL;
	slot = pp_calloc(1, w->attr_slot + 16);
	if (!slot)
		return -ENOMEM;
	for (size_t i = 0; i < w->nr_attrs; i++) {
		ret = raw_pwrite(w, w->attrs[i].ids, w->attrs[i].nr_ids * 8, off);
		if (ret)
			goto out;
		off += w->attrs[i].nr_ids * 8;
	}
	w->attrs_off = off;
	for (size_t i = 0; i < w->nr_attrs; i++) {
		uint64_t ids_off = FILE_HEADER_SIZE;

		for (size_t k = 0; k < i; k++)
			ids_off += w->attrs[k].nr_ids * 8;
		memset(slot, 0, w->attr_slot + 16);
		memcpy(slot, w->attrs[i].attr, w->attrs[i].size);
		put_u64(slot + w->attr_slot, ids_off);
		put_u64(slot + w->attr_slot + 8, w->attrs[i].nr_ids * 8);
		ret = raw_pwrite(w, slot, w->attr_slot + 16, off);
		if (ret)
			goto out;
		off += w->attr_slot + 16;
	}
	w->data_off = off;
	ret = write_header(w, 0, NULL);
	w->started = true;
out:
	free(slot);
	return ret;
}

static int put_record(struct pyperf_data_writer *w, const void *rec, size_t size);

#ifdef HAVE_ZSTD
/* Packs raw[0..len) (whole records) into COMPRESSED records, halving the
 * batch at record boundaries until each frame fits one record. */
static int pack(struct pyperf_data_writer *w, const uint8_t *raw, size_t len)
{
	size_t n;

	if (!len)
		return 0;
	n = ZSTD_compressCCtx(w->zctx, w->zout + 8, COMPRESSED_MAX_PAYLOAD + 8, raw, len,
			      w->zlevel);
	if (!ZSTD_isError(n) && n <= COMPRESSED_MAX_PAYLOAD) {
		uint32_t type = PYPERF_RECORD_COMPRESSED;
		uint16_t misc = 0, size16;
		/* Not padded to 8 bytes, as perf writes them: its decompressor
		 * would take padding for the start of another frame. */
		size_t total = 8 + n;

		size16 = (uint16_t)total;
		memcpy(w->zout, &type, 4);
		memcpy(w->zout + 4, &misc, 2);
		memcpy(w->zout + 6, &size16, 2);
		w->raw_total += len;
		w->packed_total += total;
		return put_record(w, w->zout, total);
	}
	/* too big once packed: split between records near the middle */
	{
		size_t at = 0, half = 0;

		while (at < len) {
			uint16_t sz;

			memcpy(&sz, raw + at + 6, 2);
			if (!half && at >= len / 2)
				half = at;
			at += sz;
		}
		if (!half || half >= len) {
			/* one record alone does not fit: store it as it is */
			return put_record(w, raw, len);
		}
		int ret = pack(w, raw, half);
		return ret ? ret : pack(w, raw + half, len - half);
	}
}
#endif

static int flush_raw(struct pyperf_data_writer *w)
{
	int ret = 0;

#ifdef HAVE_ZSTD
	if (w->raw_len)
		ret = pack(w, w->raw, w->raw_len);
#endif
	w->raw_len = 0;
	return ret;
}

int pyperf_data_writer_set_compression(struct pyperf_data_writer *w, int level, size_t max_chunk)
{
#ifdef HAVE_ZSTD
	if (level < 1 || level > 22)
		return pyperf_err(-EINVAL);
	w->zchunk = max_chunk ? max_chunk : 256 * 1024;
	if (w->zchunk < 65536)
		w->zchunk = 65536;
	w->zlevel = level;
	if (!w->zctx)
		w->zctx = ZSTD_createCCtx();
	w->raw = pp_realloc(w->raw, w->zchunk);
	w->zout = pp_realloc(w->zout, COMPRESSED_MAX_PAYLOAD + 64);
	if (!w->zctx || !w->raw || !w->zout)
		return pyperf_err(-ENOMEM);
	return 0;
#else
	(void)w;
	(void)level;
	(void)max_chunk;
	return pyperf_err(-EOPNOTSUPP);
#endif
}

PYPERF_API int pyperf_data_writer__write(struct pyperf_data_writer *w, const void *rec, size_t size)
{
	uint16_t hsize;
	uint32_t type;
	int ret;

	if (size < 8 || size % 8 || size > 65535)
		return pyperf_err(-EINVAL);
	memcpy(&hsize, (const uint8_t *)rec + 6, 2);
	if (hsize != size)
		return pyperf_err(-EINVAL);
	if (!w->zlevel)
		return put_record(w, rec, size);
	memcpy(&type, rec, 4);
	/* rounds end a batch and stay outside, as perf writes them */
	if (type == PYPERF_RECORD_FINISHED_ROUND) {
		ret = flush_raw(w);
		return pyperf_err(ret ? ret : put_record(w, rec, size));
	}
	if (w->raw_len + size > w->zchunk && (ret = flush_raw(w)))
		return pyperf_err(ret);
	memcpy(w->raw + w->raw_len, rec, size);
	w->raw_len += size;
	return 0;
}

static int put_record(struct pyperf_data_writer *w, const void *rec, size_t size)
{
	int ret;

	if (!w->started && (ret = start(w)))
		return pyperf_err(ret);
	if (w->fd < 0) {
		ret = raw_pwrite(w, rec, size, w->data_off + w->data_size);
		if (ret)
			return pyperf_err(ret);
		w->data_size += size;
		return 0;
	}
	if (w->buf_len + size > WBUF_SIZE && (ret = flush_buf(w)))
		return pyperf_err(ret);
	memcpy(w->buf + w->buf_len, rec, size);
	w->buf_len += size;
	w->data_size += size;
	return 0;
}

PYPERF_API int pyperf_data_writer__add_feature(struct pyperf_data_writer *w,
					       enum pyperf_feature feat, const void *data,
					       size_t size)
{
	void *copy;

	if (feat <= 0 || feat >= PYPERF_FEAT_MAX)
		return pyperf_err(-EINVAL);
	copy = pp_malloc(size);
	if (!copy)
		return pyperf_err(-ENOMEM);
	memcpy(copy, data, size);
	free(w->feat[feat].data);
	w->feat[feat].data = copy;
	w->feat[feat].size = size;
	return 0;
}

/* perf_header_string: u32 length (padded to 64 bytes, NUL included), chars. */
static size_t header_string(uint8_t *out, const char *s)
{
	uint32_t len = (uint32_t)ALIGN_UP(strlen(s) + 1, 64);

	if (out) {
		memcpy(out, &len, 4);
		memset(out + 4, 0, len);
		memcpy(out + 4, s, strlen(s));
	}
	return 4 + len;
}

PYPERF_API int pyperf_data_writer__add_feature_string(struct pyperf_data_writer *w,
						      enum pyperf_feature feat, const char *s)
{
	size_t n = header_string(NULL, s);
	uint8_t *buf = pp_malloc(n);
	int ret;

	if (!buf)
		return pyperf_err(-ENOMEM);
	header_string(buf, s);
	ret = pyperf_data_writer__add_feature(w, feat, buf, n);
	free(buf);
	return ret;
}

/* EVENT_DESC: nr, attr size, then per event attr, nr_ids, name, ids. */
static int make_event_desc(struct pyperf_data_writer *w)
{
	size_t size = 8, off;
	uint8_t *buf;
	int ret;

	for (size_t i = 0; i < w->nr_attrs; i++)
		size += w->attr_slot + 4 +
			header_string(NULL, w->attrs[i].name ? w->attrs[i].name : "") +
			8 * w->attrs[i].nr_ids;
	buf = pp_calloc(1, size);
	if (!buf)
		return -ENOMEM;
	{
		uint32_t nr = (uint32_t)w->nr_attrs, asz = (uint32_t)w->attr_slot;

		memcpy(buf, &nr, 4);
		memcpy(buf + 4, &asz, 4);
	}
	off = 8;
	for (size_t i = 0; i < w->nr_attrs; i++) {
		uint32_t n = (uint32_t)w->attrs[i].nr_ids;

		memcpy(buf + off, w->attrs[i].attr, w->attrs[i].size);
		off += w->attr_slot;
		memcpy(buf + off, &n, 4);
		off += 4;
		off += header_string(buf + off, w->attrs[i].name ? w->attrs[i].name : "");
		memcpy(buf + off, w->attrs[i].ids, 8 * (size_t)n);
		off += 8 * (size_t)n;
	}
	ret = pyperf_data_writer__add_feature(w, PYPERF_FEAT_EVENT_DESC, buf, size);
	free(buf);
	return ret;
}

PYPERF_API int pyperf_data_writer__finish(struct pyperf_data_writer *w)
{
	uint64_t flags[4] = {0}, table, off;
	size_t nfeat = 0;
	int ret;

	if (!w->started && (ret = start(w)))
		return pyperf_err(ret);
	if ((ret = flush_raw(w)) || (ret = flush_buf(w)))
		return pyperf_err(ret);
	if (w->zlevel) {
		/* perf's HEADER_COMPRESSED: version, type (1: zstd), level,
		 * ratio, and the largest decompressed batch */
		uint32_t c[5] = {1, 1, (uint32_t)w->zlevel,
				 (uint32_t)(w->packed_total ? w->raw_total / w->packed_total : 1),
				 (uint32_t)w->zchunk};

		if ((ret =
			 pyperf_data_writer__add_feature(w, PYPERF_FEAT_COMPRESSED, c, sizeof(c))))
			return pyperf_err(ret);
	}
	if (!w->feat[PYPERF_FEAT_EVENT_DESC].data) {
		bool named = false;

		for (size_t i = 0; i < w->nr_attrs; i++)
			named |= w->attrs[i].name != NULL;
		if (named && (ret = make_event_desc(w)))
			return pyperf_err(ret);
	}
	for (int f = 1; f < PYPERF_FEAT_MAX; f++) {
		if (!w->feat[f].data)
			continue;
		flags[f / 64] |= 1ULL << (f % 64);
		nfeat++;
	}
	table = w->data_off + w->data_size;
	off = table + nfeat * 16;
	for (int f = 1, k = 0; f < PYPERF_FEAT_MAX; f++) {
		uint8_t sec[16];

		if (!w->feat[f].data)
			continue;
		put_u64(sec, off);
		put_u64(sec + 8, w->feat[f].size);
		if ((ret = raw_pwrite(w, sec, 16, table + 16 * (uint64_t)k)) ||
		    (ret = raw_pwrite(w, w->feat[f].data, w->feat[f].size, off)))
			return pyperf_err(ret);
		off += w->feat[f].size;
		k++;
	}
	ret = write_header(w, w->data_size, flags);
	if (!ret && w->fd >= 0 && ftruncate(w->fd, (off_t)off))
		ret = -errno;
	return pyperf_err(ret);
}

PYPERF_API int pyperf_data_writer__flush(struct pyperf_data_writer *w)
{
	int ret = flush_raw(w);

	if (ret)
		return pyperf_err(ret);
	if (!w->started && (ret = start(w)))
		return pyperf_err(ret);
	return pyperf_err(flush_buf(w));
}

PYPERF_API uint64_t pyperf_data_writer__data_size(const struct pyperf_data_writer *w)
{
	return w->data_size;
}

PYPERF_API const void *pyperf_data_writer__buffer(const struct pyperf_data_writer *w, size_t *size)
{
	if (size)
		*size = w->mem_len;
	return w->mem;
}

PYPERF_API void pyperf_data_writer__close(struct pyperf_data_writer *w)
{
	if (!w)
		return;
	if (w->fd >= 0) {
		flush_raw(w);
		flush_buf(w);
		close(w->fd);
	}
#ifdef HAVE_ZSTD
	if (w->zctx)
		ZSTD_freeCCtx(w->zctx);
#endif
	free(w->raw);
	free(w->zout);
	for (size_t i = 0; i < w->nr_attrs; i++) {
		free(w->attrs[i].attr);
		free(w->attrs[i].ids);
		free(w->attrs[i].name);
	}
	for (int f = 0; f < PYPERF_FEAT_MAX; f++)
		free(w->feat[f].data);
	free(w->attrs);
	free(w->mem);
	free(w->buf);
	free(w->path);
	free(w);
}
