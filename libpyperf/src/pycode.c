/* SPDX-License-Identifier: MIT */
/*
 * Code objects of a live process turned into names: read once each
 * (qualified name, file, first line, line table decoded into ranges) and
 * kept by address. A frame carries its code object's identity as read at
 * the sample; a kept object with another identity was replaced at that
 * address, and the frame is named after the object only when the one read
 * now has the frame's identity.
 */
#include <stdlib.h>
#include "interp_internal.h"

#define UNKNOWN "[unknown python]"
/* Longest name or file kept, in characters; longer ones end in "...". */
#define MAX_CHARS 1024
/* Line tables longer than this are not read (the frame keeps its name). */
#define MAX_LINETABLE (4u << 20)

struct pycode {
	uint64_t addr;
	uint32_t ident;	    /* of the object read; 0: no code object there */
	uint32_t bad_ident; /* a frame identity known not to match: not re-read */
	const char *name, *file;
	int first_line;
	uint32_t nranges;
	struct pyperf_pyline_range *ranges;
};

static int read_i64(struct pyperf_interp *ip, uint64_t addr, int32_t off, int64_t *out)
{
	*out = 0;
	return off < 0 ? -ENOENT : pyperf_interp_read(ip, addr + (uint64_t)off, out, sizeof(*out));
}

static size_t utf8(uint32_t c, char *out)
{
	if (c < 0x80) {
		out[0] = (char)c;
		return 1;
	}
	if (c < 0x800) {
		out[0] = (char)(0xc0 | c >> 6);
		out[1] = (char)(0x80 | (c & 63));
		return 2;
	}
	if (c < 0x10000) {
		out[0] = (char)(0xe0 | c >> 12);
		out[1] = (char)(0x80 | ((c >> 6) & 63));
		out[2] = (char)(0x80 | (c & 63));
		return 3;
	}
	out[0] = (char)(0xf0 | (c >> 18 & 7));
	out[1] = (char)(0x80 | ((c >> 12) & 63));
	out[2] = (char)(0x80 | ((c >> 6) & 63));
	out[3] = (char)(0x80 | (c & 63));
	return 4;
}

/* A str object of the process, interned in @ip; NULL if it is none. */
static const char *read_str(struct pyperf_interp *ip, uint64_t addr, int *ret)
{
	const struct pyperf_pyoffsets *o = &ip->off;
	uint8_t hdr[128], raw[MAX_CHARS * 4];
	char out[MAX_CHARS * 4 + 4];
	uint64_t type, data;
	uint32_t state, kind;
	int64_t len;
	size_t n = 0, hdr_len = (size_t)MAX(o->compact_size, o->unicode_data + 8);

	*ret = 0;
	if (!addr || hdr_len > sizeof(hdr))
		return NULL;
	if ((*ret = pyperf_interp_read(ip, addr, hdr, hdr_len)))
		return NULL;
	type = load_u64(hdr + o->ob_type);
	if (type != ip->unicode_type)
		return NULL;
	state = load_u32(hdr + o->unicode_state);
	len = (int64_t)load_u64(hdr + o->unicode_length);
	kind = (state >> o->kind_shift) & ((1u << o->kind_bits) - 1);
	if (len < 0 || (kind != 1 && kind != 2 && kind != 4))
		return NULL;
	if ((state >> o->compact_shift) & 1)
		data = addr +
		       (uint64_t)((state >> o->ascii_shift) & 1 ? o->ascii_size : o->compact_size);
	else
		data = load_u64(hdr + o->unicode_data);
	if (len > MAX_CHARS)
		len = MAX_CHARS;
	if (len && (*ret = pyperf_interp_read(ip, data, raw, (size_t)len * kind)))
		return NULL;
	for (int64_t i = 0; i < len; i++) {
		uint32_t c = kind == 1	 ? raw[i]
			     : kind == 2 ? load_u16(raw + 2 * i)
					 : load_u32(raw + 4 * i);

		/* a newline would split the line-based formats downstream */
		if (c < 0x20)
			c = '?';
		if (c > 0x10ffff || (c >= 0xd800 && c < 0xe000))
			c = 0xfffd;
		n += utf8(c, out + n);
	}
	if ((int64_t)load_u64(hdr + o->unicode_length) > MAX_CHARS) {
		memcpy(out + n, "...", 3);
		n += 3;
	}
	return pp_strtab_intern(&ip->strings, out, n);
}

/* The line table of the code object: decoded into ranges in the arena. */
static int read_lines(struct pyperf_interp *ip, uint64_t bytes, struct pycode *c)
{
	const struct pyperf_pyoffsets *o = &ip->off;
	uint64_t type;
	int64_t size;
	uint8_t *buf;
	size_t n;
	int ret;

	c->nranges = 0;
	c->ranges = NULL;
	if ((ret = read_i64(ip, bytes, o->ob_type, (int64_t *)&type)) ||
	    (ret = read_i64(ip, bytes, o->var_size, &size)))
		return ret;
	if (type != ip->bytes_type || size < 0 || size > MAX_LINETABLE)
		return 0;
	buf = pp_malloc((size_t)size + 1);
	if (!buf)
		return -ENOMEM;
	if (size &&
	    (ret = pyperf_interp_read(ip, bytes + (uint64_t)o->bytes_sval, buf, (size_t)size))) {
		free(buf);
		return ret;
	}
	n = pyperf_pylines_decode(ip->lines, buf, (size_t)size, c->first_line, NULL, 0);
	c->ranges = n ? pp_arena_alloc_raw(&ip->arena, n * sizeof(*c->ranges)) : NULL;
	if (n && !c->ranges) {
		free(buf);
		return -ENOMEM;
	}
	c->nranges = (uint32_t)pyperf_pylines_decode(ip->lines, buf, (size_t)size, c->first_line,
						     c->ranges, n);
	free(buf);
	return 0;
}

/* Reads the code object at @addr into @c (c->ident 0: there is none). */
static int read_code(struct pyperf_interp *ip, uint64_t addr, struct pycode *c)
{
	const struct pyperf_pyoffsets *o = &ip->off;
	uint8_t obj[512];
	size_t size = (size_t)o->code_basicsize;
	int ret = 0;

	memset(c, 0, sizeof(*c));
	c->addr = addr;
	if (size > sizeof(obj))
		return -EOPNOTSUPP;
	if ((ret = pyperf_interp_read(ip, addr, obj, size)))
		return ret == -ESRCH ? ret : 0;
	ip->stats.codes_read++;
	if (load_u64(obj + o->ob_type) != ip->code_type)
		return 0;
	c->first_line = (int)load_u32(obj + o->code_firstlineno);
	c->name = read_str(
	    ip, load_u64(obj + (o->code_qualname >= 0 ? o->code_qualname : o->code_name)), &ret);
	if (ret == -ESRCH)
		return ret;
	c->file = read_str(ip, load_u64(obj + o->code_filename), &ret);
	if (ret == -ESRCH)
		return ret;
	if (!c->name)
		return 0; /* not a code object we can trust */
	if (!c->file)
		c->file = "";
	ret = read_lines(ip, load_u64(obj + o->code_linetable), c);
	if (ret == -ESRCH || ret == -ENOMEM)
		return ret;
	c->ident = pyperf_walk_ident(obj + o->code_ident, (unsigned)o->code_ident_len / 8);
	return 0;
}

static struct pycode *find(struct pyperf_interp *ip, uint64_t addr, uint64_t h)
{
	if (!ip->cap_slots)
		return NULL;
	for (size_t j = pp_probe_start(h, ip->cap_slots);; j = pp_probe_next(j, ip->cap_slots)) {
		const struct pp_hslot *s = &ip->code_slots[j];

		if (!s->idx)
			return NULL;
		if (s->hash == h && ip->codes[s->idx - 1].addr == addr)
			return &ip->codes[s->idx - 1];
	}
}

static struct pycode *insert(struct pyperf_interp *ip, const struct pycode *c, uint64_t h)
{
	size_t j;

	if ((ip->nr_codes + 1) * 2 > ip->cap_slots &&
	    pp_hslots_grow(&ip->code_slots, &ip->cap_slots, 256))
		return NULL;
	if (PP_GROW(ip->codes, ip->cap_codes, ip->nr_codes + 1))
		return NULL;
	for (j = pp_probe_start(h, ip->cap_slots); ip->code_slots[j].idx;
	     j = pp_probe_next(j, ip->cap_slots))
		;
	ip->code_slots[j] = (struct pp_hslot){.hash = h, .idx = (uint32_t)ip->nr_codes + 1};
	ip->codes[ip->nr_codes] = *c;
	return &ip->codes[ip->nr_codes++];
}

static int unknown(struct pyperf_interp *ip, struct pyperf_pyframe_info *out, int ret)
{
	*out = (struct pyperf_pyframe_info){.name = UNKNOWN, .file = ""};
	ip->stats.unknown++;
	return ret;
}

PYPERF_API int pyperf_interp__resolve(struct pyperf_interp *ip, const struct pyperf_pyframe *frame,
				      struct pyperf_pyframe_info *out)
{
	uint64_t h = hash_u64(frame->code);
	struct pycode *c, fresh;
	int ret, line;

	if ((frame->flags & PYPERF_PYFRAME_NO_IDENT) || !frame->code)
		return unknown(ip, out, 0);
	c = find(ip, frame->code, h);
	if (!c || (c->ident != frame->ident && c->bad_ident != frame->ident)) {
		if (ip->gone)
			return unknown(ip, out, pyperf_err(-ESRCH));
		ret = read_code(ip, frame->code, &fresh);
		if (ret)
			return unknown(ip, out, pyperf_err(ret));
		if (c && c->ident && fresh.ident != c->ident)
			ip->stats.codes_changed++;
		if (fresh.ident != frame->ident)
			fresh.bad_ident = frame->ident;
		if (c)
			*c = fresh;
		else if (!(c = insert(ip, &fresh, h)))
			return unknown(ip, out, pyperf_err(-ENOMEM));
	}
	if (!c->ident || c->ident != frame->ident)
		return unknown(ip, out, 0);
	line = pyperf_pylines_find(c->ranges, c->nranges, c->first_line, frame->lasti);
	*out = (struct pyperf_pyframe_info){
	    .name = c->name,
	    .file = c->file,
	    .first_line = c->first_line,
	    .line = line > 0 ? line : 0,
	    .known = true,
	};
	return 1;
}

void pyperf_interp_codes_free(struct pyperf_interp *ip)
{
	free(ip->codes);
	free(ip->code_slots);
	ip->codes = NULL;
	ip->code_slots = NULL;
	ip->nr_codes = ip->cap_codes = ip->cap_slots = 0;
}
