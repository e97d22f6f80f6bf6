// SPDX-License-Identifier: MIT
/*
 * perf.data opened: the file header, the attrs and feature sections it
 * points to, and the getters of what was read. Layouts follow
 * tools/perf/Documentation/perf.data-file-format.txt and
 * include/uapi/linux/perf_event.h (perf_file.h). The other parts of the
 * reader are listed in data_internal.h.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#ifdef HAVE_ZSTD
#include <zstd.h>
#endif
#include "data_internal.h"
#include "untrusted.h"

static const char *const record_names[PYPERF_RECORD_TYPE_MAX] = {
    [PYPERF_RECORD_MMAP] = "MMAP",
    [PYPERF_RECORD_LOST] = "LOST",
    [PYPERF_RECORD_COMM] = "COMM",
    [PYPERF_RECORD_EXIT] = "EXIT",
    [PYPERF_RECORD_THROTTLE] = "THROTTLE",
    [PYPERF_RECORD_UNTHROTTLE] = "UNTHROTTLE",
    [PYPERF_RECORD_FORK] = "FORK",
    [PYPERF_RECORD_READ] = "READ",
    [PYPERF_RECORD_SAMPLE] = "SAMPLE",
    [PYPERF_RECORD_MMAP2] = "MMAP2",
    [PYPERF_RECORD_AUX] = "AUX",
    [PYPERF_RECORD_ITRACE_START] = "ITRACE_START",
    [PYPERF_RECORD_LOST_SAMPLES] = "LOST_SAMPLES",
    [PYPERF_RECORD_SWITCH] = "SWITCH",
    [PYPERF_RECORD_SWITCH_CPU_WIDE] = "SWITCH_CPU_WIDE",
    [PYPERF_RECORD_NAMESPACES] = "NAMESPACES",
    [PYPERF_RECORD_KSYMBOL] = "KSYMBOL",
    [PYPERF_RECORD_BPF_EVENT] = "BPF_EVENT",
    [PYPERF_RECORD_CGROUP] = "CGROUP",
    [PYPERF_RECORD_TEXT_POKE] = "TEXT_POKE",
    [PYPERF_RECORD_AUX_OUTPUT_HW_ID] = "AUX_OUTPUT_HW_ID",
    [PYPERF_RECORD_HEADER_ATTR] = "ATTR",
    [PYPERF_RECORD_HEADER_EVENT_TYPE] = "EVENT_TYPE",
    [PYPERF_RECORD_HEADER_TRACING_DATA] = "TRACING_DATA",
    [PYPERF_RECORD_HEADER_BUILD_ID] = "BUILD_ID",
    [PYPERF_RECORD_FINISHED_ROUND] = "FINISHED_ROUND",
    [PYPERF_RECORD_ID_INDEX] = "ID_INDEX",
    [PYPERF_RECORD_AUXTRACE_INFO] = "AUXTRACE_INFO",
    [PYPERF_RECORD_AUXTRACE] = "AUXTRACE",
    [PYPERF_RECORD_AUXTRACE_ERROR] = "AUXTRACE_ERROR",
    [PYPERF_RECORD_THREAD_MAP] = "THREAD_MAP",
    [PYPERF_RECORD_CPU_MAP] = "CPU_MAP",
    [PYPERF_RECORD_STAT_CONFIG] = "STAT_CONFIG",
    [PYPERF_RECORD_STAT] = "STAT",
    [PYPERF_RECORD_STAT_ROUND] = "STAT_ROUND",
    [PYPERF_RECORD_EVENT_UPDATE] = "EVENT_UPDATE",
    [PYPERF_RECORD_TIME_CONV] = "TIME_CONV",
    [PYPERF_RECORD_HEADER_FEATURE] = "FEATURE",
    [PYPERF_RECORD_COMPRESSED] = "COMPRESSED",
    [PYPERF_RECORD_FINISHED_INIT] = "FINISHED_INIT",
};

PYPERF_API const char *pyperf_record_type__name(uint32_t type)
{
	if (type < PYPERF_RECORD_TYPE_MAX && record_names[type])
		return record_names[type];
	return "UNKNOWN";
}

bool pyperf_data_record_type_known(uint32_t type)
{
	return type < PYPERF_RECORD_TYPE_MAX && record_names[type];
}

/* ---- open ---------------------------------------------------------------- */

static int fail(struct pyperf_data *d, struct pyperf_error *err, int code, uint64_t off,
		const char *fmt, const char *what)
{
	return pyperf_error_set(err, code, off, d->name, fmt, what);
}

static bool in_file(const struct pyperf_data *d, uint64_t off, uint64_t len)
{
	return off <= d->size && len <= d->size - off;
}

/* A perf_header_string: u32 len, then len bytes holding a NUL. */
const char *pyperf_data_read_header_string(struct pyperf_data *d, const uint8_t **p,
					   const uint8_t *end)
{
	uint32_t len;
	const char *s;

	if (end - *p < 4)
		return NULL;
	len = load_u32(*p);
	if ((uint64_t)(end - *p - 4) < len || !len)
		return NULL;
	s = (const char *)*p + 4;
	if (!memchr(s, 0, len))
		return NULL;
	*p += 4 + len;
	s = pp_arena_strndup(&d->arena, s, len);
	if (!s)
		d->features_oom = true;
	return s;
}

static int read_header(struct pyperf_data *d, const struct pyperf_data_open_opts *opts,
		       struct pyperf_error *err)
{
	const uint8_t *h = d->base;
	uint64_t magic, hsize, attrs_off, attrs_size, entry, nfeat = 0;
	uint64_t feat_table;

	if (d->size == 0)
		return fail(
		    d, err, -EBADMSG, 0,
		    "file is empty%s; record a profile first (pyperf-record or perf record)", "");
	if (d->size < 8)
		return fail(d, err, -EBADMSG, 0, "file is too short (%s) to be a perf.data file",
			    d->size == 1 ? "1 byte" : "a few bytes");
	magic = load_u64(h);
	if (magic == __builtin_bswap64(PERF_MAGIC2))
		return fail(d, err, -EOPNOTSUPP, 0,
			    "perf.data is byte-swapped (recorded on a machine of the other "
			    "endianness)%s; report it on a machine like the one that recorded it",
			    "");
	if (magic == PERF_MAGIC1)
		return fail(d, err, -EOPNOTSUPP, 0,
			    "perf.data version 1 (PERFFILE) is not supported%s; convert it with "
			    "a current 'perf inject -i OLD -o NEW'",
			    "");
	if (magic != PERF_MAGIC2)
		return fail(d, err, -EBADMSG, 0, "not a perf.data file (no PERFILE2 magic)%s", "");
	if (d->size < 16)
		return fail(d, err, -EBADMSG, 8, "file ends inside the header%s", "");
	hsize = load_u64(h + 8);
	if (hsize == PIPE_HEADER_SIZE)
		return fail(d, err, -EOPNOTSUPP, 8,
			    "pipe-mode perf.data (perf record -o -) is not supported yet%s; record "
			    "to a file, or convert with 'perf inject -i IN -o OUT'",
			    "");
	if (hsize < FILE_HEADER_SIZE)
		return fail(d, err, -EBADMSG, 8, "header size is too small%s", "");
	if (d->size < FILE_HEADER_SIZE)
		return fail(d, err, -EBADMSG, d->size,
			    "file ends inside the %s-byte header; the file is truncated", "104");

	/* attr_size is the size of a whole attrs entry: the attr, then a
	 * perf_file_section locating its ids. */
	entry = load_u64(h + 16);
	attrs_off = load_u64(h + 24);
	attrs_size = load_u64(h + 32);
	d->data_offset = load_u64(h + 40);
	d->data_size_claimed = load_u64(h + 48);

	if (entry < ATTR_SIZE_VER0 + 16 || entry > ATTR_MAX_SIZE + 16 || entry % 8)
		return fail(d, err, -EBADMSG, 16, "attr size is %s (expected 80 to 4112)",
			    "out of range");
	d->attr_size = entry - 16;
	if (!in_file(d, attrs_off, attrs_size))
		return fail(d, err, -EBADMSG, 24,
			    "attrs section points past the end of the file%s; the file is "
			    "truncated or corrupt",
			    "");
	if (attrs_size % entry)
		return fail(d, err, -EBADMSG, 32,
			    "attrs section size is not a multiple of the attr entry size%s", "");

	for (uint64_t off = attrs_off; off < attrs_off + attrs_size; off += entry) {
		uint64_t ids_off = load_u64(d->base + off + d->attr_size);
		uint64_t ids_size = load_u64(d->base + off + d->attr_size + 8);
		uint32_t asz = load_u32(d->base + off + ATTR_OFF_SIZE);
		int ret;

		if (!in_file(d, ids_off, ids_size) || ids_size % 8)
			return fail(d, err, -EBADMSG, off + d->attr_size,
				    "an attr's id list points outside the file%s; the file is "
				    "truncated or corrupt",
				    "");
		/* The attr's own size field says how much of the slot is used. */
		if (!asz || asz > d->attr_size)
			asz = (uint32_t)d->attr_size;
		ret = pyperf_data_add_attr(d, d->base + off, asz, d->base + ids_off, ids_size / 8);
		if (ret)
			return pyperf_error_set(err, ret, PYPERF_NO_OFFSET, d->name,
						"out of memory");
	}
	pyperf_data_refresh_attr_pointers(d);
	if (!d->nr_attrs)
		return fail(d, err, -EBADMSG, 24, "the file describes no events%s", "");

	if (d->data_offset > d->size)
		return fail(d, err, -EBADMSG, 40,
			    "data section starts past the end of the file%s; the file is truncated",
			    "");
	if (d->data_offset < FILE_HEADER_SIZE)
		return fail(d, err, -EBADMSG, 40, "data section overlaps the header%s", "");

	d->data_size = d->data_size_claimed;
	if (d->data_size == 0 && !OPTS_GET(opts, strict_size, false)) {
		/* An unfinished recording: the header was never rewritten. */
		d->data_size = d->size - d->data_offset;
		d->size_from_file = d->data_size > 0;
	} else if (d->data_size > d->size - d->data_offset) {
		/* Truncated: read what is there; the iterator reports the cut. */
		d->data_size = d->size - d->data_offset;
	}
	d->data_end = d->data_offset + d->data_size;

	/* Feature sections: a table of perf_file_section after the data. */
	for (int bit = 1; bit < PYPERF_FEAT_MAX; bit++) {
		if (load_u64(h + 72 + (bit / 64) * 8) & (1ULL << (bit % 64)))
			nfeat++;
	}
	feat_table = d->data_offset + d->data_size_claimed;
	if (nfeat && !d->size_from_file) {
		if (!in_file(d, feat_table, nfeat * 16)) {
			pr_warn("%s: the feature sections are missing (file truncated?); reading "
				"records without them\n",
				d->name);
		} else {
			uint64_t idx = 0;

			for (int bit = 1; bit < PYPERF_FEAT_MAX; bit++) {
				uint64_t off, sz;

				if (!(load_u64(h + 72 + (bit / 64) * 8) & (1ULL << (bit % 64))))
					continue;
				off = load_u64(d->base + feat_table + idx * 16);
				sz = load_u64(d->base + feat_table + idx * 16 + 8);
				idx++;
				if (!in_file(d, off, sz)) {
					pr_warn(
					    "%s: feature %d points outside the file; ignoring it\n",
					    d->name, bit);
					continue;
				}
				d->feat_present[bit] = true;
				d->feat_offset[bit] = off;
				d->feat_size[bit] = sz;
			}
		}
	}
	if (d->feat_present[PYPERF_FEAT_BUILD_ID])
		pyperf_data_parse_build_id_feature(d);
	if (d->feat_present[PYPERF_FEAT_CMDLINE])
		pyperf_data_parse_cmdline_feature(d);
	if (d->feat_present[PYPERF_FEAT_EVENT_DESC])
		pyperf_data_parse_event_desc_feature(d);
	if (d->feat_present[FEAT_EMBEDDED_FILES])
		pyperf_data_parse_embedded_files(d);
	/* the parsers skip what is malformed; a failed allocation is not that */
	if (d->features_oom)
		return pyperf_error_set(err, -ENOMEM, PYPERF_NO_OFFSET, d->name, "out of memory");
	pyperf_data_check_same_layout(d);
	d->pos = d->data_offset;
	return 0;
}

struct pyperf_data *pyperf_data_new(const char *name)
{
	struct pyperf_data *d = pp_calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	pp_arena_init(&d->arena, 16 * 1024);
	d->name = pp_strdup(name);
	d->scratch = pp_malloc(65536 + 8);
	if (!d->name || !d->scratch) {
		free(d->name);
		free(d->scratch);
		free(d);
		return NULL;
	}
	return d;
}

static struct pyperf_data *finish_open(struct pyperf_data *d,
				       const struct pyperf_data_open_opts *opts,
				       struct pyperf_error *err)
{
	int ret = read_header(d, opts, err);

	if (ret) {
		pyperf_data__close(d);
		return pyperf_err_ptr(ret);
	}
	return d;
}

PYPERF_API struct pyperf_data *pyperf_data__open(const char *path,
						 const struct pyperf_data_open_opts *opts,
						 struct pyperf_error *err)
{
	struct pyperf_data *d;
	struct stat st;
	int fd, e;

	if (!path || !OPTS_VALID(opts, pyperf_data_open_opts)) {
		pyperf_error_set(err, -EINVAL, PYPERF_NO_OFFSET, path, "invalid argument");
		return pyperf_err_ptr(-EINVAL);
	}
	/* perf's rule: a file of another user (it could be made to say
	 * anything to a root reader) only with force; never a FIFO, which
	 * would hold the open for ever (pipe mode is not read yet). */
	fd = pyperf_open_untrusted(
	    path, PP_OPEN_FOLLOW | (OPTS_GET(opts, force, false) ? PP_OPEN_ANY_OWNER : 0), &st,
	    err);
	if (fd < 0)
		return pyperf_err_ptr(fd);
	d = pyperf_data_new(path);
	if (!d) {
		close(fd);
		pyperf_error_set(err, -ENOMEM, PYPERF_NO_OFFSET, path, "out of memory");
		return pyperf_err_ptr(-ENOMEM);
	}
	d->size = st.st_size;
	if (d->size && !pyperf_file_mappable(&st)) {
		/* someone else's file: read, since a mapping dies with SIGBUS
		 * when its owner truncates it */
		ssize_t n;

		d->owned = pp_malloc(d->size);
		n = d->owned ? pyperf_read_full(fd, d->owned, d->size) : -ENOMEM;
		close(fd);
		if (n < 0) {
			pyperf_error_set(err, (int)n, PYPERF_NO_OFFSET, path, "cannot read: %s",
					 strerror((int)-n));
			pyperf_data__close(d);
			return pyperf_err_ptr((int)n);
		}
		d->size = (size_t)n; /* it may have shrunk: what was read */
		d->base = d->owned;
		return finish_open(d, opts, err);
	}
	if (d->size) {
		d->map = mmap(NULL, d->size, PROT_READ, MAP_PRIVATE, fd, 0);
		if (d->map == MAP_FAILED) {
			e = errno;
			d->map = NULL;
			close(fd);
			pyperf_error_set(err, -e, PYPERF_NO_OFFSET, path, "cannot map: %s",
					 strerror(e));
			pyperf_data__close(d);
			return pyperf_err_ptr(-e);
		}
		d->map_size = d->size;
		madvise(d->map, d->size, MADV_SEQUENTIAL);
		d->base = d->map;
	}
	close(fd);
	return finish_open(d, opts, err);
}

PYPERF_API struct pyperf_data *pyperf_data__open_mem(const void *buf, size_t size, const char *name,
						     const struct pyperf_data_open_opts *opts,
						     struct pyperf_error *err)
{
	struct pyperf_data *d;

	if ((!buf && size) || !OPTS_VALID(opts, pyperf_data_open_opts)) {
		pyperf_error_set(err, -EINVAL, PYPERF_NO_OFFSET, name, "invalid argument");
		return pyperf_err_ptr(-EINVAL);
	}
	d = pyperf_data_new(name ? name : "<memory>");
	if (!d) {
		pyperf_error_set(err, -ENOMEM, PYPERF_NO_OFFSET, name, "out of memory");
		return pyperf_err_ptr(-ENOMEM);
	}
	d->size = size;
	if ((uintptr_t)buf % 8) {
		d->owned = pp_malloc(size);
		if (!d->owned) {
			pyperf_data__close(d);
			pyperf_error_set(err, -ENOMEM, PYPERF_NO_OFFSET, name, "out of memory");
			return pyperf_err_ptr(-ENOMEM);
		}
		memcpy(d->owned, buf, size);
		d->base = d->owned;
	} else {
		d->base = buf;
	}
	return finish_open(d, opts, err);
}

PYPERF_API void pyperf_data__close(struct pyperf_data *d)
{
	struct decomp_chunk *c, *n;

	if (!d)
		return;
	if (d->map)
		munmap(d->map, d->map_size);
	free(d->owned);
	for (size_t i = 0; i < d->nr_attrs; i++) {
		free(d->attrs[i].ids);
		free(d->attrs[i].name);
		free(d->attrs[i].raw);
	}
	free(d->attrs);
	free(d->ids);
	free(d->build_ids);
	for (c = d->chunks; c; c = n) {
		n = c->next;
		free(c);
	}
	d->chunks = d->chunks_tail = d->cur_chunk = NULL;
#ifdef HAVE_ZSTD
	if (d->zstd)
		ZSTD_freeDStream(d->zstd);
#endif
	free(d->carry);
	pyperf_order_queue_free(&d->queue);
	free(d->scratch);
	pp_arena_free(&d->arena);
	free(d->name);
	free(d);
}

/* ---- getters -------------------------------------------------------------- */

PYPERF_API const char *pyperf_data__name(const struct pyperf_data *d)
{
	return d->name;
}

PYPERF_API size_t pyperf_data__nr_attrs(const struct pyperf_data *d)
{
	return d->nr_attrs;
}

PYPERF_API const struct pyperf_attr *pyperf_data__attr(const struct pyperf_data *d, size_t idx)
{
	return idx < d->nr_attrs ? &d->attrs[idx].attr : NULL;
}

PYPERF_API const struct pyperf_attr *pyperf_data__attr_by_id(const struct pyperf_data *d,
							     uint64_t id)
{
	int idx = pyperf_data_ids_find(d, id);

	return idx >= 0 ? &d->attrs[idx].attr : NULL;
}

PYPERF_API bool pyperf_data__has_feature(const struct pyperf_data *d, enum pyperf_feature feat)
{
	return feat > 0 && feat < PYPERF_FEAT_MAX && d->feat_present[feat];
}

PYPERF_API const void *pyperf_data__feature(const struct pyperf_data *d, enum pyperf_feature feat,
					    uint64_t *size)
{
	if (!pyperf_data__has_feature(d, feat))
		return NULL;
	if (size)
		*size = d->feat_size[feat];
	return d->base + d->feat_offset[feat];
}

PYPERF_API const char *pyperf_data__feature_string(const struct pyperf_data *d,
						   enum pyperf_feature feat)
{
	const uint8_t *p, *end;
	uint32_t len;

	switch (feat) {
	case PYPERF_FEAT_HOSTNAME:
	case PYPERF_FEAT_OSRELEASE:
	case PYPERF_FEAT_VERSION:
	case PYPERF_FEAT_ARCH:
	case PYPERF_FEAT_CPUDESC:
	case PYPERF_FEAT_CPUID:
		break;
	default:
		return NULL;
	}
	if (!pyperf_data__has_feature(d, feat))
		return NULL;
	p = d->base + d->feat_offset[feat];
	end = p + d->feat_size[feat];
	if (end - p < 4)
		return NULL;
	len = load_u32(p);
	if (!len || len > (uint64_t)(end - p - 4) || !memchr(p + 4, 0, len))
		return NULL;
	return (const char *)p + 4;
}

PYPERF_API const char *const *pyperf_data__cmdline(const struct pyperf_data *d, size_t *argc)
{
	if (argc)
		*argc = d->cmdline_argc;
	return d->cmdline ? (const char *const *)d->cmdline : NULL;
}

PYPERF_API int pyperf_data__nr_cpus(const struct pyperf_data *d, uint32_t *avail, uint32_t *online)
{
	const uint8_t *p;

	if (!pyperf_data__has_feature(d, PYPERF_FEAT_NRCPUS) ||
	    d->feat_size[PYPERF_FEAT_NRCPUS] < 8)
		return pyperf_err(-ENOENT);
	p = d->base + d->feat_offset[PYPERF_FEAT_NRCPUS];
	if (avail)
		*avail = load_u32(p);
	if (online)
		*online = load_u32(p + 4);
	return 0;
}

PYPERF_API uint64_t pyperf_data__total_mem(const struct pyperf_data *d)
{
	if (!pyperf_data__has_feature(d, PYPERF_FEAT_TOTAL_MEM) ||
	    d->feat_size[PYPERF_FEAT_TOTAL_MEM] < 8)
		return 0;
	return load_u64(d->base + d->feat_offset[PYPERF_FEAT_TOTAL_MEM]);
}

PYPERF_API size_t pyperf_data__nr_build_ids(const struct pyperf_data *d)
{
	return d->nr_build_ids;
}

PYPERF_API const struct pyperf_build_id *pyperf_data__build_id(const struct pyperf_data *d,
							       size_t idx)
{
	return idx < d->nr_build_ids ? &d->build_ids[idx] : NULL;
}

PYPERF_API const struct pyperf_build_id *pyperf_data__find_build_id(const struct pyperf_data *d,
								    const char *filename)
{
	for (size_t i = 0; i < d->nr_build_ids; i++)
		if (!strcmp(d->build_ids[i].filename, filename))
			return &d->build_ids[i];
	return NULL;
}

PYPERF_API size_t pyperf_data__nr_embedded_files(const struct pyperf_data *d)
{
	return d->nr_embedded;
}

PYPERF_API const struct pyperf_embedded_file *
pyperf_data__embedded_file(const struct pyperf_data *d, size_t idx)
{
	return idx < d->nr_embedded ? &d->embedded[idx] : NULL;
}

PYPERF_API uint64_t pyperf_data__data_size(const struct pyperf_data *d)
{
	return d->data_size;
}

PYPERF_API bool pyperf_data__size_from_file(const struct pyperf_data *d)
{
	return d->size_from_file;
}

PYPERF_API const struct pyperf_data_stats *pyperf_data__stats(const struct pyperf_data *d)
{
	return &d->stats;
}
