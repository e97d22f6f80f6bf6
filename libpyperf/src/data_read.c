// SPDX-License-Identifier: MIT
/*
 * perf.data: the file header, attrs, feature sections, and records in file
 * order. Layouts follow tools/perf/Documentation/perf.data-file-format.txt
 * and include/uapi/linux/perf_event.h.
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

#define PERF_MAGIC2 0x32454c4946524550ULL /* "PERFILE2" */
#define PERF_MAGIC1 0x454c494646524550ULL /* "PERFFILE" */
#define FILE_HEADER_SIZE 104
#define PIPE_HEADER_SIZE 16
#define ATTR_SIZE_VER0 64
#define ATTR_MAX_SIZE 4096
#define RECORD_HEADER_SIZE 8

/* perf_event_attr field offsets (the struct only ever grows at the end). */
#define ATTR_OFF_TYPE 0
#define ATTR_OFF_SIZE 4
#define ATTR_OFF_CONFIG 8
#define ATTR_OFF_PERIOD 16
#define ATTR_OFF_SAMPLE_TYPE 24
#define ATTR_OFF_READ_FORMAT 32
#define ATTR_OFF_FLAGS 40
#define ATTR_OFF_BRANCH_SAMPLE_TYPE 72
#define ATTR_OFF_REGS_USER 80
#define ATTR_OFF_STACK_USER 88
#define ATTR_OFF_REGS_INTR 96

#define ATTR_FLAG_EXCLUDE_USER (1ULL << 4)
#define ATTR_FLAG_EXCLUDE_KERNEL (1ULL << 5)
#define ATTR_FLAG_EXCLUDE_HV (1ULL << 6)
#define ATTR_FLAG_FREQ (1ULL << 10)
#define ATTR_PRECISE_SHIFT 15
#define ATTR_FLAG_SAMPLE_ID_ALL (1ULL << 18)

#define READ_FORMAT_TOTAL_TIME_ENABLED (1ULL << 0)
#define READ_FORMAT_TOTAL_TIME_RUNNING (1ULL << 1)
#define READ_FORMAT_ID (1ULL << 2)
#define READ_FORMAT_GROUP (1ULL << 3)
#define READ_FORMAT_LOST (1ULL << 4)
/* LOST_SAMPLES of samples a BPF filter dropped on purpose: not lost */
#define MISC_LOST_SAMPLES_BPF (1U << 15)

#define BRANCH_SAMPLE_HW_INDEX (1ULL << 17)
#define BRANCH_SAMPLE_COUNTERS (1ULL << 19)

#define MISC_MMAP_BUILD_ID (1 << 14)
#define MISC_BUILD_ID_SIZE (1 << 15)

struct decomp_chunk {
	struct decomp_chunk *next;
	uint64_t len;
	/* records from here were queued with sequence numbers below this;
	 * UINT64_MAX while records still come from it */
	uint64_t seq_end;
	_Alignas(8) uint8_t data[];
};

/*
 * What one COMPRESSED record may inflate to. perf record compresses one
 * ring-buffer read at a time and notes the buffer's size in the
 * COMPRESSED feature (comp_mmap_len); perf report gives each record that
 * much room and fails beyond it. A record that gives more is damaged or
 * a decompression bomb (kilobytes that become gigabytes). Without the
 * feature, and above it, a fixed ceiling applies.
 */
#define INFLATE_CEILING ((uint64_t)64 << 20)

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

static bool record_type_known(uint32_t type)
{
	return type < PYPERF_RECORD_TYPE_MAX && record_names[type];
}

/* ---- attrs and ids ---------------------------------------------------- */

static int popcount64(uint64_t x)
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

static int ids_insert(struct pyperf_data *d, uint64_t id, uint32_t idx);

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
			ids_insert(d, old[i].id, old[i].attr_idx);
	free(old);
	return 0;
}

static int ids_insert(struct pyperf_data *d, uint64_t id, uint32_t idx)
{
	size_t i;

	if ((d->ids_count + 1) * 2 > d->ids_cap) {
		int ret = ids_rehash(d, d->ids_cap ? d->ids_cap * 2 : 64);
		if (ret)
			return ret;
	}
	for (i = hash_u64(id) & (d->ids_cap - 1); d->ids[i].used; i = (i + 1) & (d->ids_cap - 1)) {
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

static int ids_find(const struct pyperf_data *d, uint64_t id)
{
	if (!d->ids_cap)
		return -1;
	for (size_t i = hash_u64(id) & (d->ids_cap - 1); d->ids[i].used;
	     i = (i + 1) & (d->ids_cap - 1))
		if (d->ids[i].id == id)
			return d->ids[i].attr_idx;
	return -1;
}

/* Adds an attr read from @raw (@size bytes) with @nr ids. */
static int add_attr(struct pyperf_data *d, const uint8_t *raw, uint64_t size, const uint8_t *ids,
		    uint64_t nr)
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
		ret = ids_insert(d, e->ids[i], (uint32_t)(d->nr_attrs - 1));
		if (ret)
			return ret;
	}
	return 0;
}

/* Attr pointers were handed out before the array grew: refresh them. */
static void refresh_attr_pointers(struct pyperf_data *d)
{
	for (size_t i = 0; i < d->nr_attrs; i++) {
		d->attrs[i].attr.ids = d->attrs[i].ids;
		d->attrs[i].attr.raw = d->attrs[i].raw;
		d->attrs[i].attr.name = d->attrs[i].name;
	}
}

static void check_same_layout(struct pyperf_data *d)
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
static const char *read_header_string(struct pyperf_data *d, const uint8_t **p, const uint8_t *end)
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

static int add_build_id(struct pyperf_data *d, const uint8_t *rec, uint64_t size)
{
	struct pyperf_build_id *b;
	uint16_t misc;
	const char *fname;
	int ret;

	/* header(8) pid(4) build_id[24] filename[] */
	if (size < 8 + 4 + 24 + 1)
		return -EBADMSG;
	fname = (const char *)rec + 36;
	if (!memchr(fname, 0, size - 36))
		return -EBADMSG;
	ret = PP_GROW(d->build_ids, d->cap_build_ids, d->nr_build_ids + 1);
	if (ret)
		return ret;
	b = &d->build_ids[d->nr_build_ids];
	memset(b, 0, sizeof(*b));
	misc = load_u16(rec + 4);
	b->cpumode = misc & PYPERF_CPUMODE_MASK;
	b->pid = (int32_t)load_u32(rec + 8);
	memcpy(b->id, rec + 12, 20);
	b->size = 20;
	if (misc & MISC_BUILD_ID_SIZE) {
		b->size = rec[12 + 20];
		if (b->size > 20)
			b->size = 20;
	} else {
		/* Older perf zero-pads short ids; trailing zeros are padding. */
		while (b->size > 0 && !b->id[b->size - 1])
			b->size--;
	}
	b->filename = pp_arena_strdup(&d->arena, fname);
	if (!b->filename)
		return -ENOMEM;
	d->nr_build_ids++;
	return 0;
}

static void parse_build_id_feature(struct pyperf_data *d)
{
	const uint8_t *p = d->base + d->feat_offset[PYPERF_FEAT_BUILD_ID];
	const uint8_t *end = p + d->feat_size[PYPERF_FEAT_BUILD_ID];

	while (end - p >= 8) {
		uint16_t size = load_u16(p + 6);

		if (size < 8 || size > end - p)
			break;
		if (add_build_id(d, p, size) == -ENOMEM) {
			d->features_oom = true;
			return;
		}
		p += size;
	}
	if (p != end)
		pr_warn("%s: BUILD_ID feature is malformed at offset %" PRIu64
			"; using %zu build ids\n",
			d->name, (uint64_t)(p - d->base), d->nr_build_ids);
}

static void parse_cmdline_feature(struct pyperf_data *d)
{
	const uint8_t *p = d->base + d->feat_offset[PYPERF_FEAT_CMDLINE];
	const uint8_t *end = p + d->feat_size[PYPERF_FEAT_CMDLINE];
	uint32_t nr;

	if (end - p < 4)
		return;
	nr = load_u32(p);
	p += 4;
	if (nr > (uint64_t)(end - p) / 5)
		return;
	d->cmdline = pp_arena_alloc(&d->arena, (nr + 1) * sizeof(char *));
	if (!d->cmdline) {
		d->features_oom = true;
		return;
	}
	for (uint32_t i = 0; i < nr; i++) {
		const char *s = read_header_string(d, &p, end);
		if (!s)
			break;
		d->cmdline[d->cmdline_argc++] = (char *)s;
	}
}

/* EVENT_DESC names the events ("cpu-clock:ppp") and may list more ids. */
static void parse_event_desc_feature(struct pyperf_data *d)
{
	const uint8_t *p = d->base + d->feat_offset[PYPERF_FEAT_EVENT_DESC];
	const uint8_t *end = p + d->feat_size[PYPERF_FEAT_EVENT_DESC];
	uint32_t nr, asz;

	if (end - p < 8)
		return;
	nr = load_u32(p);
	asz = load_u32(p + 4);
	p += 8;
	if (asz < ATTR_SIZE_VER0 || asz > ATTR_MAX_SIZE)
		return;
	for (uint32_t i = 0; i < nr; i++) {
		uint32_t nr_ids;
		const char *name;
		const uint8_t *attr = p;

		if ((uint64_t)(end - p) < asz + 4)
			return;
		p += asz;
		nr_ids = load_u32(p);
		p += 4;
		name = read_header_string(d, &p, end);
		if (!name || (uint64_t)(end - p) / 8 < nr_ids)
			return;
		/* Match by position when the counts agree (perf writes them in
		 * attr order), else by the first id. */
		struct attr_entry *e = NULL;
		if (nr == d->nr_attrs)
			e = &d->attrs[i];
		else if (nr_ids) {
			int idx = ids_find(d, load_u64(p));
			if (idx >= 0)
				e = &d->attrs[idx];
		}
		if (!e && !d->nr_attrs) {
			/* No attrs section (should not happen in PERFILE2): take these. */
			if (add_attr(d, attr, asz, p, nr_ids)) {
				d->features_oom = true; /* its only failure */
				return;
			}
			refresh_attr_pointers(d);
			e = &d->attrs[d->nr_attrs - 1];
		}
		if (e) {
			char *n = pp_strdup(name);
			if (!n)
				d->features_oom = true;
			if (n) {
				free(e->name);
				e->name = n;
				e->attr.name = n;
			}
			for (uint32_t k = 0; k < nr_ids; k++)
				ids_insert(d, load_u64(p + 8 * k), (uint32_t)(e - d->attrs));
		}
		p += 8 * (uint64_t)nr_ids;
	}
}

#define FEAT_EMBEDDED_FILES 250

/* pyperf-record's copies of perf maps and jitdumps (see record.c). */
static void parse_embedded_files(struct pyperf_data *d)
{
	const uint8_t *p = d->base + d->feat_offset[FEAT_EMBEDDED_FILES];
	const uint8_t *end = p + d->feat_size[FEAT_EMBEDDED_FILES];
	uint32_t nr;

	if (end - p < 8 || (load_u32(p) != 1 && load_u32(p) != 2))
		return;
	nr = load_u32(p + 4);
	if (load_u32(p) == 2) {
		/* the entries, deflated: [u64 their size][zlib stream] */
		uint64_t raw;
		uLongf got;
		uint8_t *buf;

		if (end - p < 16)
			return;
		raw = load_u64(p + 8);
		/* no more than the stream could hold (zlib's best is ~1032:1) */
		if (raw > (uint64_t)(end - p - 16) * 1032 || raw > (1ULL << 32))
			return;
		buf = pp_arena_alloc_raw(&d->arena, raw ? raw : 1);
		got = (uLongf)raw;
		if (!buf)
			d->features_oom = true;
		if (!buf || uncompress(buf, &got, p + 16, (uLong)(end - p - 16)) != Z_OK ||
		    got != raw)
			return;
		p = buf;
		end = buf + raw;
	} else {
		p += 8;
	}
	if (nr > (uint64_t)(end - p) / 20)
		return;
	d->embedded = pp_arena_alloc(&d->arena, (nr ? nr : 1) * sizeof(*d->embedded));
	if (!d->embedded) {
		d->features_oom = true;
		return;
	}
	for (uint32_t i = 0; i < nr; i++) {
		struct pyperf_embedded_file *f = &d->embedded[d->nr_embedded];
		uint64_t size;
		uint32_t slen;

		if (end - p < 20)
			break;
		f->kind = load_u32(p);
		f->pid = (int32_t)load_u32(p + 4);
		size = load_u64(p + 8);
		slen = load_u32(p + 16);
		if (slen > (uint64_t)(end - p - 20) || !memchr(p + 20, 0, slen) ||
		    size > (uint64_t)(end - p - 20 - slen))
			break;
		f->path = (const char *)p + 20;
		f->data = p + 20 + slen;
		f->size = size;
		p += 20 + slen + ALIGN_UP(size, 8);
		d->nr_embedded++;
		if (p > end)
			break;
	}
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
		ret = add_attr(d, d->base + off, asz, d->base + ids_off, ids_size / 8);
		if (ret)
			return pyperf_error_set(err, ret, PYPERF_NO_OFFSET, d->name,
						"out of memory");
	}
	refresh_attr_pointers(d);
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
		parse_build_id_feature(d);
	if (d->feat_present[PYPERF_FEAT_CMDLINE])
		parse_cmdline_feature(d);
	if (d->feat_present[PYPERF_FEAT_EVENT_DESC])
		parse_event_desc_feature(d);
	if (d->feat_present[FEAT_EMBEDDED_FILES])
		parse_embedded_files(d);
	/* the parsers skip what is malformed; a failed allocation is not that */
	if (d->features_oom)
		return pyperf_error_set(err, -ENOMEM, PYPERF_NO_OFFSET, d->name, "out of memory");
	check_same_layout(d);
	d->pos = d->data_offset;
	return 0;
}

static struct pyperf_data *data_new(const char *name)
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
	d = data_new(path);
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
	d = data_new(name ? name : "<memory>");
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
	free(d->heap);
	for (unsigned i = 0; i < d->nr_runs; i++)
		free(d->runs[i].q);
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
	int idx = ids_find(d, id);

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
	if (!cur_skip(c, (uint64_t)popcount64(mask) * 8, &w))
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
static void parse_trailer(const struct attr_entry *e, const uint8_t *rec, uint64_t size,
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
static const struct attr_entry *record_attr(struct pyperf_data *d, const uint8_t *rec,
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
	idx = ids_find(d, id);
	if (idx < 0) {
		d->stats.unknown_ids++;
		/* The layout is shared, so a non-sample record still decodes;
		 * a sample of an unknown event has nothing to be counted under. */
		return type == PYPERF_RECORD_SAMPLE ? NULL : first;
	}
	return &d->attrs[idx];
}

uint64_t data__record_time(struct pyperf_data *d, const void *p)
{
	const uint8_t *rec = p;
	uint32_t type = load_u32(rec);
	uint64_t size = load_u16(rec + 6);
	const struct attr_entry *e;

	if (type >= RECORD_USER_TYPE_START || !d->nr_attrs)
		return 0;
	e = record_attr(d, rec, type, size);
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
int data__decode(struct pyperf_data *d, const void *p, uint64_t size, uint64_t offset)
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
		e = record_attr(d, rec, r->type, size);
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
		parse_trailer(e, rec, size, &r->sample);
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
		data__release_chunks(d, d->seq); /* file order: nothing points in */
}

void data__release_chunks(struct pyperf_data *d, uint64_t min_seq)
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

static int decompress(struct pyperf_data *d, const uint8_t *src, uint64_t len,
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
static int carry_tail(struct pyperf_data *d)
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

/* ---- file-order iteration ---------------------------------------------------------- */

static int sticky(struct pyperf_data *d, int code, struct pyperf_error *err)
{
	d->sticky_err = code;
	d->sticky_error = *err;
	return code;
}

int data__next_raw(struct pyperf_data *d, const void **out, uint64_t *offset,
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
				if (carry_tail(d))
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

		if (!record_type_known(type)) {
			d->stats.unknown_records++;
			continue;
		}
		d->stats.records[type]++;
		if (type == PYPERF_RECORD_COMPRESSED) {
#ifdef HAVE_ZSTD
			int ret;

			d->comp_offset = *offset;
			ret = decompress(d, rec + 8, size - 8, err);
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
		if (!add_attr(d, rec + 8, asz, rec + 8 + asz, nr)) {
			refresh_attr_pointers(d);
			check_same_layout(d);
		}
	} else if (type == PYPERF_RECORD_HEADER_BUILD_ID) {
		add_build_id(d, rec, size);
	} else if (type == PYPERF_RECORD_ID_INDEX && size >= 16) {
		/* ids only: perf uses the cpu/tid too, we need the attr. */
		uint64_t nr = load_u64(rec + 8);

		if (nr > (size - 16) / 32)
			nr = (size - 16) / 32;
		for (uint64_t i = 0; i < nr; i++) {
			uint64_t id = load_u64(rec + 16 + 32 * i);
			uint64_t idx = load_u64(rec + 16 + 32 * i + 8);

			if (idx < d->nr_attrs && ids_find(d, id) < 0)
				ids_insert(d, id, (uint32_t)idx);
		}
	}
}

PYPERF_API int pyperf_data__next(struct pyperf_data *d, const struct pyperf_record **out,
				 struct pyperf_error *err)
{
	for (;;) {
		const void *p;
		uint64_t off;
		int ret = data__next_raw(d, &p, &off, err);

		if (ret <= 0)
			return pyperf_err(ret);
		if (load_u32(p) >= RECORD_USER_TYPE_START)
			handle_user_record(d, p, load_u16((const uint8_t *)p + 6));
		ret = data__decode(d, p, load_u16((const uint8_t *)p + 6), off);
		if (ret < 0)
			return pyperf_err(ret);
		if (ret == 0)
			continue;
		*out = &d->rec;
		return 1;
	}
}

void data__handle_user_record(struct pyperf_data *d, const void *rec)
{
	handle_user_record(d, rec, load_u16((const uint8_t *)rec + 6));
}

PYPERF_API int pyperf_data__decode(struct pyperf_data *d, const void *rec, size_t size,
				   const struct pyperf_record **out)
{
	int ret;

	if (size < 8 || size > 65535 || (uintptr_t)rec % 8 ||
	    load_u16((const uint8_t *)rec + 6) != size)
		return pyperf_err(-EINVAL);
	ret = data__decode(d, rec, size, 0);
	if (ret == 1)
		*out = &d->rec;
	return pyperf_err(ret);
}
