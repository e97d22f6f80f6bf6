// SPDX-License-Identifier: MIT
/*
 * What the unwinder keeps per object (a dso): its code and debug files,
 * libdw's CFI for them, and the CFI rows decoded once into a compact form
 * and cached by PC, so a PC seen again costs one hash probe.
 */
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdlib.h>
#include <sys/auxv.h>
#include <unistd.h>
#include "internal.h"
#include "binary.h"
#include "symbols_internal.h"
#include "unwind_internal.h"

/* ---- per-object state ----------------------------------------------------- */

static void obj_free(void *p)
{
	struct obj_unwind *o = p;

	if (!o)
		return;
	if (o->eh && !o->borrowed_cfi)
		dwarf_cfi_end(o->eh);
	if (o->dbg)
		dwarf_end(o->dbg);
	if (o->elf)
		elf_end(o->elf);
	if (o->dbg_elf)
		elf_end(o->dbg_elf);
	if (o->fd >= 0)
		close(o->fd);
	if (o->dbg_fd >= 0)
		close(o->dbg_fd);
	free(o->rules);
	free(o->slots);
	free(o->ops);
	free(o);
}

static void load_segments(struct obj_unwind *o)
{
	size_t n;

	if (elf_getphdrnum(o->elf, &n))
		return;
	for (size_t i = 0; i < n && o->nseg < (int)ARRAY_SIZE(o->seg); i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(o->elf, (int)i, &ph) || ph.p_type != PT_LOAD)
			continue;
		o->seg[o->nseg].off = ph.p_offset;
		o->seg[o->nseg].vaddr = ph.p_vaddr;
		o->seg[o->nseg].size = ph.p_filesz;
		o->nseg++;
	}
}

struct obj_unwind *pyperf_unwind_obj_for(struct pyperf_unwinder *u, struct pyperf_dso *d)
{
	struct obj_unwind *o = d->unwind;
	const char *path;

	if (o)
		return o->broken ? NULL : o;
	o = pp_calloc(1, sizeof(*o));
	if (!o) {
		u->stats.alloc_failures++;
		return NULL;
	}
	o->fd = o->dbg_fd = -1;
	d->unwind = o;
	d->unwind_free = obj_free;
	if (d->kind == PYPERF_DSO_VDSO) {
		/* the vdso of this kernel: ours */
		unsigned long base = getauxval(AT_SYSINFO_EHDR);

		if (base) {
			const Elf64_Ehdr *eh = (const Elf64_Ehdr *)base;

			o->elf = elf_memory((char *)base,
					    eh->e_shoff + (size_t)eh->e_shnum * eh->e_shentsize);
		}
	} else {
		symbols_dso_load(d);
		path = d->run_path ? d->run_path : d->name;
		errno = 0;
		o->elf = pyperf_elf_open(path, &o->fd);
	}
	if (o->elf) {
		errno = 0;
		o->eh = dwarf_getcfi_elf(o->elf);
		load_segments(o);
	}
	/* libelf and libdw say "nothing" when an allocation failed */
	if ((!o->elf || !o->eh) && errno == ENOMEM)
		u->stats.alloc_failures++;
	if (!o->elf)
		o->broken = true;
	return o->broken ? NULL : o;
}

/* JIT code with a jitdump: its CFI, at the code's own addresses. */
struct obj_unwind *pyperf_unwind_jit_obj(struct pyperf_unwinder *u, struct pyperf_dso *d,
					 Dwarf_CFI *cfi)
{
	struct obj_unwind *o = d->unwind;

	if (!o) {
		o = pp_calloc(1, sizeof(*o));
		if (!o) {
			u->stats.alloc_failures++;
			return NULL;
		}
		o->fd = o->dbg_fd = -1;
		o->borrowed_cfi = true;
		o->dbg_tried = true;
		d->unwind = o;
		d->unwind_free = obj_free;
	}
	if (o->eh != cfi) {
		/* the jitdump was re-read: rows looked up before, and found
		 * missing, may be there now */
		o->nr_rules = o->nr_ops = 0;
		if (o->slots)
			memset(o->slots, 0, o->slots_cap * sizeof(*o->slots));
		o->eh = cfi;
	}
	return o;
}

/* The separate debug file's .debug_frame, for code .eh_frame misses. */
static Dwarf_CFI *debug_cfi(struct pyperf_dso *d, struct obj_unwind *o)
{
	if (o->dbg_tried)
		return o->dcfi;
	o->dbg_tried = true;
	if (d->debug_path) {
		o->dbg_elf = pyperf_elf_open(d->debug_path, &o->dbg_fd);
		if (o->dbg_elf)
			o->dbg = dwarf_begin_elf(o->dbg_elf, DWARF_C_READ, NULL);
	} else if (o->elf) {
		o->dbg = dwarf_begin_elf(o->elf, DWARF_C_READ, NULL);
	}
	if (o->dbg)
		o->dcfi = dwarf_getcfi(o->dbg);
	return o->dcfi;
}

bool pyperf_unwind_off_to_vaddr(const struct obj_unwind *o, uint64_t off, uint64_t *vaddr)
{
	for (int i = 0; i < o->nseg; i++) {
		if (off >= o->seg[i].off && off < o->seg[i].off + o->seg[i].size) {
			*vaddr = off - o->seg[i].off + o->seg[i].vaddr;
			return true;
		}
	}
	return false;
}

/* ---- rules ------------------------------------------------------------------ */

/*
 * Expressions of all of an object's rows share one pool, addressed by a
 * 32-bit index: a large library's rows need hundreds of thousands of ops
 * over a recording (a 16-bit index ran out after ~5000 distinct PCs of
 * libpython, and every row after that looked like code without CFI).
 */
static int store_ops(struct obj_unwind *o, const Dwarf_Op *ops, size_t n, struct reg_rule *r)
{
	if (n > UINT8_MAX || o->nr_ops + n > UINT32_MAX)
		return -E2BIG;
	if (PP_GROW(o->ops, o->cap_ops, o->nr_ops + n))
		return -ENOMEM;
	memcpy(o->ops + o->nr_ops, ops, n * sizeof(*ops));
	r->ops = (uint32_t)o->nr_ops;
	r->nops = (uint8_t)n;
	r->kind = RULE_EXPR;
	o->nr_ops += n;
	return 0;
}

/* Returns 0 (r->valid says whether the row is usable), or -ENOMEM. */
static int decode_rule(struct obj_unwind *o, Dwarf_Frame *f, struct cfi_rule *r)
{
	Dwarf_Op *ops, mem[3];
	size_t n, ops_before = o->nr_ops;
	Dwarf_Addr start, end;
	int ret;

	memset(r, 0, sizeof(*r));
	r->ra_reg = (uint8_t)dwarf_frame_info(f, &start, &end, &r->signal);
	if (dwarf_frame_cfa(f, &ops, &n) || !n)
		return 0;
	ret = store_ops(o, ops, n, &r->cfa);
	for (int reg = 0; !ret && reg < NREGS; reg++) {
		if (dwarf_frame_register(f, reg, mem, &ops, &n)) {
			r->regs[reg].kind = RULE_UNDEF;
			continue;
		}
		if (!n) {
			r->regs[reg].kind = ops ? RULE_UNDEF : RULE_SAME;
			continue;
		}
		ret = store_ops(o, ops, n, &r->regs[reg]);
	}
	if (ret) {
		o->nr_ops = ops_before;
		return ret == -ENOMEM ? ret : 0;
	}
	r->valid = true;
	return 0;
}

static bool rule_slot_hash(const void *slot, const void *ctx, uint64_t *hash)
{
	const struct rule_slot *s = slot;

	(void)ctx;
	*hash = hash_u64(s->pc);
	return s->idx != 0;
}

static int rule_slots_grow(struct obj_unwind *o)
{
	return pp_table_grow((void **)&o->slots, &o->slots_cap, 256, sizeof(*o->slots),
			     rule_slot_hash, NULL);
}

/* The decoded CFI row for @vaddr (cached), or NULL. */
const struct cfi_rule *pyperf_unwind_rule_for(struct pyperf_unwinder *u, struct pyperf_dso *d,
					      struct obj_unwind *o, uint64_t vaddr)
{
	Dwarf_Frame *frame = NULL;
	struct cfi_rule *r;
	size_t j;
	int ret = 0;

	if ((o->nr_rules + 1) * 2 > o->slots_cap && rule_slots_grow(o))
		goto nomem;
	for (j = pp_probe_start(hash_u64(vaddr), o->slots_cap); o->slots[j].idx;
	     j = pp_probe_next(j, o->slots_cap))
		if (o->slots[j].pc == vaddr) {
			r = &o->rules[o->slots[j].idx - 1];
			return r->valid ? r : NULL;
		}
	if (PP_GROW(o->rules, o->cap_rules, o->nr_rules + 1))
		goto nomem;
	r = &o->rules[o->nr_rules];
	memset(r, 0, sizeof(*r));
	errno = 0;
	if ((o->eh && !dwarf_cfi_addrframe(o->eh, vaddr, &frame)) ||
	    (debug_cfi(d, o) && !dwarf_cfi_addrframe(o->dcfi, vaddr, &frame))) {
		ret = decode_rule(o, frame, r);
		free(frame);
	} else if (errno == ENOMEM) {
		ret = -ENOMEM; /* libdw found no frame for lack of memory */
	}
	if (ret)
		goto nomem; /* not cached: a later look may succeed */
	r->pc = vaddr;
	o->slots[j].pc = vaddr;
	o->slots[j].idx = (uint32_t)++o->nr_rules;
	return r->valid ? r : NULL;
nomem:
	u->stats.alloc_failures++;
	return NULL;
}
