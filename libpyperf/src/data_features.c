// SPDX-License-Identifier: MIT
/*
 * perf.data's feature sections that the reader decodes when a file is
 * opened: build ids, the command line, event descriptions, and the
 * embedded perf maps and jitdumps (whose writer is in record.c).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <zlib.h>
#include "data_internal.h"
#include "untrusted.h"

int pyperf_data_add_build_id(struct pyperf_data *d, const uint8_t *rec, uint64_t size)
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

void pyperf_data_parse_build_id_feature(struct pyperf_data *d)
{
	const uint8_t *p = d->base + d->feat_offset[PYPERF_FEAT_BUILD_ID];
	const uint8_t *end = p + d->feat_size[PYPERF_FEAT_BUILD_ID];

	while (end - p >= 8) {
		uint16_t size = load_u16(p + 6);

		if (size < 8 || size > end - p)
			break;
		if (pyperf_data_add_build_id(d, p, size) == -ENOMEM) {
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

void pyperf_data_parse_cmdline_feature(struct pyperf_data *d)
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
		const char *s = pyperf_data_read_header_string(d, &p, end);
		if (!s)
			break;
		d->cmdline[d->cmdline_argc++] = (char *)s;
	}
}

/* EVENT_DESC names the events ("cpu-clock:ppp") and may list more ids. */
void pyperf_data_parse_event_desc_feature(struct pyperf_data *d)
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
		name = pyperf_data_read_header_string(d, &p, end);
		if (!name || (uint64_t)(end - p) / 8 < nr_ids)
			return;
		/* Match by position when the counts agree (perf writes them in
		 * attr order), else by the first id. */
		struct attr_entry *e = NULL;
		if (nr == d->nr_attrs)
			e = &d->attrs[i];
		else if (nr_ids) {
			int idx = pyperf_data_ids_find(d, load_u64(p));
			if (idx >= 0)
				e = &d->attrs[idx];
		}
		if (!e && !d->nr_attrs) {
			/* No attrs section (should not happen in PERFILE2): take these. */
			if (pyperf_data_add_attr(d, attr, asz, p, nr_ids)) {
				d->features_oom = true; /* its only failure */
				return;
			}
			pyperf_data_refresh_attr_pointers(d);
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
				pyperf_data_ids_insert(d, load_u64(p + 8 * k),
						       (uint32_t)(e - d->attrs));
		}
		p += 8 * (uint64_t)nr_ids;
	}
}

/* pyperf-record's copies of perf maps and jitdumps (see record.c). */
void pyperf_data_parse_embedded_files(struct pyperf_data *d)
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
