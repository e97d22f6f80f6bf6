// SPDX-License-Identifier: MIT
/*
 * DWARF unwinding, one frame at a time: libdw finds the CFI row for a PC
 * (dwarf_cfi_addrframe); the row's rules are decoded once into a compact
 * form, cached per (object, PC), and applied to the registers with reads
 * from the sample's stack copy. Driving the steps ourselves (rather than
 * through libdwfl's whole-thread unwinder) lets JIT code without CFI be
 * stepped over by rules of our own, and makes repeated PCs cheap.
 */
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <fcntl.h>
#include <inttypes.h>
#include <gelf.h>
#include <libelf.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/auxv.h>
#include <sys/uio.h>
#include <unistd.h>
#include <pyperf/unwind.h>
#include "internal.h"
#include "binary.h"
#include "symbols_internal.h"

/* clang-format off */
/* DWARF register numbers on x86-64. */
enum { R_RAX, R_RDX, R_RCX, R_RBX, R_RSI, R_RDI, R_RBP, R_RSP, R_R8, R_R9, R_R10, R_R11,
       R_R12, R_R13, R_R14, R_R15, R_RIP, NREGS };

/* perf_regs bit -> DWARF register, for PERF_SAMPLE_REGS_USER on x86-64. */
static const int8_t perf_to_dwarf[24] = {
	R_RAX, R_RBX, R_RCX, R_RDX, R_RSI, R_RDI, R_RBP, R_RSP, R_RIP, -1, -1, -1,
	-1,    -1,    -1,    -1,    R_R8,  R_R9,  R_R10, R_R11, R_R12, R_R13, R_R14, R_R15,
};
/* clang-format on */

enum rule_kind {
	RULE_UNDEF, /* not recoverable */
	RULE_SAME,  /* unchanged by this frame */
	RULE_EXPR,  /* a DWARF expression: a location, or a value (stack_value) */
};

struct reg_rule {
	uint8_t kind;
	uint8_t nops;
	uint32_t ops; /* index into the object's op pool */
};

/* A decoded CFI row. */
struct cfi_rule {
	uint64_t pc; /* cache key (vaddr) */
	struct reg_rule cfa;
	struct reg_rule regs[NREGS];
	uint8_t ra_reg;
	bool signal;
	bool valid;
};

struct rule_slot {
	uint64_t pc;
	uint32_t idx; /* +1 */
};

/* What the unwinder keeps per object: open files, CFI, decoded rows. */
struct obj_unwind {
	int fd, dbg_fd;
	Elf *elf, *dbg_elf;
	Dwarf_CFI *eh; /* .eh_frame of the code file */
	Dwarf *dbg;    /* the debug file, for .debug_frame */
	Dwarf_CFI *dcfi;
	bool dbg_tried;
	/* file offset -> vaddr through the code file's load segments */
	struct {
		uint64_t off, vaddr, size;
	} seg[16];
	int nseg;
	struct cfi_rule *rules;
	size_t nr_rules, cap_rules;
	struct rule_slot *slots;
	size_t slots_cap;
	Dwarf_Op *ops; /* pool for rules' expressions */
	size_t nr_ops, cap_ops;
	bool broken;	   /* no file, no CFI: do not retry */
	bool borrowed_cfi; /* eh belongs to a jitdump */
};

struct pyperf_unwinder {
	struct pyperf_unwind_stats stats;
	bool live;
};

PYPERF_API void pyperf_unwinder__set_live(struct pyperf_unwinder *u, bool live)
{
	u->live = live;
}

/* CPython's trampoline: sub $8,%rsp; call *%rcx; add $8,%rsp; ret */
static const uint8_t cpython_trampoline[11] = {0x48, 0x83, 0xec, 0x08, 0xff, 0xd1,
					       0x48, 0x83, 0xc4, 0x08, 0xc3};

/*
 * libpyperf's trampoline for CPython 3.8-3.11 (libpyperf/python/_trampoline.c):
 * endbr64; push %rbp; mov %rsp,%rbp; call *%rcx; pop %rbp; ret; int3 x 4.
 * Its perf map entries are 16 bytes long.
 */
static const uint8_t pyperf_trampoline[16] = {0xf3, 0x0f, 0x1e, 0xfa, 0x55, 0x48, 0x89, 0xe5,
					      0xff, 0xd1, 0x5d, 0xc3, 0xcc, 0xcc, 0xcc, 0xcc};
#define PYPERF_TRAMPOLINE_RET 10 /* offset of the return address of its call */

enum trampoline_kind { TRAMPOLINE_CPYTHON, TRAMPOLINE_PYPERF };

static const uint8_t endbr64[4] = {0xf3, 0x0f, 0x1e, 0xfa};

/*
 * Live processes: looks at the code around @pc for a known trampoline:
 * the one whose call returns to @pc, or, for the sampled frame (@leaf),
 * any one @pc lies in (the runtime may not have named it yet). Returns the
 * offset of @pc in it (its endbr64 *@prefix included), or -1.
 */
static int live_trampoline_offset(pid_t pid, uint64_t pc, bool leaf, unsigned *prefix,
				  enum trampoline_kind *kind)
{
	uint8_t code[32];
	struct iovec local = {code, sizeof(code)},
		     remote = {(void *)(uintptr_t)(pc - 16), sizeof(code)};

	if (process_vm_readv(pid, &local, 1, &remote, 1, 0) != (ssize_t)sizeof(code))
		return -1;
	/* code[16] is the byte at pc; a return address sits after the call,
	 * 6 bytes into CPython's template and 10 into ours */
	for (int at = 0; at < (leaf ? 16 : 1); at++) {
		int c = leaf ? at : 6;
		const uint8_t *t = code + 16 - c;

		if (c <= 10 && !memcmp(t, cpython_trampoline, sizeof(cpython_trampoline))) {
			*prefix = !memcmp(t - 4, endbr64, 4) ? 4 : 0;
			*kind = TRAMPOLINE_CPYTHON;
			return c + (int)*prefix;
		}
		if (leaf && c < 4 && !memcmp(t, endbr64, 4) &&
		    !memcmp(t + 4, cpython_trampoline, sizeof(cpython_trampoline))) {
			*prefix = 4;
			*kind = TRAMPOLINE_CPYTHON;
			return c;
		}
		c = leaf ? at : PYPERF_TRAMPOLINE_RET;
		t = code + 16 - c;
		if (c < 12 && !memcmp(t, pyperf_trampoline, sizeof(pyperf_trampoline) - 4) &&
		    (leaf || !memcmp(t, pyperf_trampoline, sizeof(pyperf_trampoline)))) {
			*prefix = 0;
			*kind = TRAMPOLINE_PYPERF;
			return c;
		}
	}
	return -1;
}

PYPERF_API const char *pyperf_unwind_stop__name(enum pyperf_unwind_stop stop)
{
	static const char *const names[] = {"end",	 "no-map",    "no-cfi", "stack-copy",
					    "bad-frame", "max-depth", "no-regs"};

	return stop < PYPERF_UNWIND_NR_STOPS ? names[stop] : "?";
}

PYPERF_API struct pyperf_unwinder *pyperf_unwinder__new(void)
{
	struct pyperf_unwinder *u = pp_calloc(1, sizeof(*u));

	elf_version(EV_CURRENT);
	return u;
}

PYPERF_API void pyperf_unwinder__free(struct pyperf_unwinder *u)
{
	free(u);
}

PYPERF_API const struct pyperf_unwind_stats *pyperf_unwinder__stats(const struct pyperf_unwinder *u)
{
	return &u->stats;
}

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

static struct obj_unwind *obj_for(struct pyperf_unwinder *u, struct pyperf_dso *d)
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
static struct obj_unwind *jit_obj(struct pyperf_unwinder *u, struct pyperf_dso *d, Dwarf_CFI *cfi)
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

static bool off_to_vaddr(const struct obj_unwind *o, uint64_t off, uint64_t *vaddr)
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
static const struct cfi_rule *rule_for(struct pyperf_unwinder *u, struct pyperf_dso *d,
				       struct obj_unwind *o, uint64_t vaddr)
{
	Dwarf_Frame *frame = NULL;
	struct cfi_rule *r;
	size_t j;
	int ret = 0;

	if ((o->nr_rules + 1) * 2 > o->slots_cap && rule_slots_grow(o))
		goto nomem;
	for (j = hash_u64(vaddr) & (o->slots_cap - 1); o->slots[j].idx;
	     j = (j + 1) & (o->slots_cap - 1))
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

/* ---- evaluation ---------------------------------------------------------------- */

struct state {
	uint64_t regs[NREGS];
	uint32_t valid;		     /* bit per register */
	const uint8_t *stack;	     /* the copy */
	uint64_t stack_lo, stack_hi; /* its addresses */
	uint64_t fault;		     /* the last address read_mem() could not read */
};

static bool read_mem(struct state *s, uint64_t addr, uint64_t *v)
{
	if (addr < s->stack_lo || addr > s->stack_hi - 8 || s->stack_hi - s->stack_lo < 8) {
		s->fault = addr;
		return false;
	}
	memcpy(v, s->stack + (addr - s->stack_lo), 8);
	return true;
}

/*
 * Why memory could not be read: above the copy, within what a thread's
 * stack can span, the stack goes on past the copy; anywhere else the
 * address came from registers or memory that make no sense (a frame
 * pointer where there is none), and a bigger copy would not help.
 */
#define STACK_SPAN (256ULL << 20)
static int fault_stop(const struct state *s)
{
	return s->fault >= s->stack_hi - 8 && s->fault - s->stack_hi < STACK_SPAN
		   ? PYPERF_UNWIND_STACK_COPY
		   : PYPERF_UNWIND_BAD_FRAME;
}

static bool reg_get(const struct state *s, int reg, uint64_t *v)
{
	if (reg < 0 || reg >= NREGS || !(s->valid & (1u << reg)))
		return false;
	*v = s->regs[reg];
	return true;
}

/*
 * A DWARF expression as CFI uses them. Returns 0 with *out the address (or
 * the value, *is_value set, after DW_OP_stack_value); -EFAULT when memory
 * is outside the copy; -EINVAL for anything else.
 */
static int eval(struct state *s, const Dwarf_Op *ops, size_t n, uint64_t cfa, bool have_cfa,
		uint64_t *out, bool *is_value)
{
	uint64_t st[32], a, b;
	int sp = 0;

	*is_value = false;
#define PUSH(v)                                                                                    \
	do {                                                                                       \
		if (sp >= (int)ARRAY_SIZE(st))                                                     \
			return -EINVAL;                                                            \
		st[sp++] = (v);                                                                    \
	} while (0)
#define POP(v)                                                                                     \
	do {                                                                                       \
		if (sp <= 0)                                                                       \
			return -EINVAL;                                                            \
		(v) = st[--sp];                                                                    \
	} while (0)
	for (size_t i = 0; i < n; i++) {
		uint8_t op = ops[i].atom;

		if (op >= DW_OP_lit0 && op <= DW_OP_lit31) {
			PUSH((uint64_t)(op - DW_OP_lit0));
		} else if (op >= DW_OP_breg0 && op <= DW_OP_breg31) {
			if (!reg_get(s, op - DW_OP_breg0, &a))
				return -EINVAL;
			PUSH(a + (uint64_t)(int64_t)ops[i].number);
		} else if (op >= DW_OP_reg0 && op <= DW_OP_reg31) {
			/* the register itself: its value */
			if (!reg_get(s, op - DW_OP_reg0, &a))
				return -EINVAL;
			*out = a;
			*is_value = true;
			return 0;
		} else {
			switch (op) {
			case DW_OP_bregx:
				if (!reg_get(s, (int)ops[i].number, &a))
					return -EINVAL;
				PUSH(a + (uint64_t)(int64_t)ops[i].number2);
				break;
			case DW_OP_regx:
				if (!reg_get(s, (int)ops[i].number, &a))
					return -EINVAL;
				*out = a;
				*is_value = true;
				return 0;
			case DW_OP_call_frame_cfa:
				if (!have_cfa)
					return -EINVAL;
				PUSH(cfa);
				break;
			case DW_OP_const1u:
			case DW_OP_const2u:
			case DW_OP_const4u:
			case DW_OP_const8u:
			case DW_OP_constu:
			case DW_OP_const1s:
			case DW_OP_const2s:
			case DW_OP_const4s:
			case DW_OP_const8s:
			case DW_OP_consts:
				PUSH(ops[i].number);
				break;
			case DW_OP_plus_uconst:
				POP(a);
				PUSH(a + ops[i].number);
				break;
			case DW_OP_deref:
				POP(a);
				if (!read_mem(s, a, &b))
					return -EFAULT;
				PUSH(b);
				break;
			case DW_OP_dup:
				POP(a);
				PUSH(a);
				PUSH(a);
				break;
			case DW_OP_drop:
				POP(a);
				break;
			case DW_OP_over:
				if (sp < 2)
					return -EINVAL;
				a = st[sp - 2];
				PUSH(a);
				break;
			case DW_OP_swap:
				POP(a);
				POP(b);
				PUSH(a);
				PUSH(b);
				break;
			case DW_OP_neg:
				POP(a);
				PUSH(-a);
				break;
			case DW_OP_not:
				POP(a);
				PUSH(~a);
				break;
			case DW_OP_plus:
			case DW_OP_minus:
			case DW_OP_mul:
			case DW_OP_and:
			case DW_OP_or:
			case DW_OP_xor:
			case DW_OP_shl:
			case DW_OP_shr:
			case DW_OP_shra:
			case DW_OP_ge:
			case DW_OP_gt:
			case DW_OP_le:
			case DW_OP_lt:
			case DW_OP_eq:
			case DW_OP_ne:
				POP(b);
				POP(a);
				switch (op) {
				case DW_OP_plus:
					a = a + b;
					break;
				case DW_OP_minus:
					a = a - b;
					break;
				case DW_OP_mul:
					a = a * b;
					break;
				case DW_OP_and:
					a = a & b;
					break;
				case DW_OP_or:
					a = a | b;
					break;
				case DW_OP_xor:
					a = a ^ b;
					break;
				case DW_OP_shl:
					a = b < 64 ? a << b : 0;
					break;
				case DW_OP_shr:
					a = b < 64 ? a >> b : 0;
					break;
				case DW_OP_shra:
					a = (uint64_t)((int64_t)a >> (b < 64 ? b : 63));
					break;
				case DW_OP_ge:
					a = (int64_t)a >= (int64_t)b;
					break;
				case DW_OP_gt:
					a = (int64_t)a > (int64_t)b;
					break;
				case DW_OP_le:
					a = (int64_t)a <= (int64_t)b;
					break;
				case DW_OP_lt:
					a = (int64_t)a < (int64_t)b;
					break;
				case DW_OP_eq:
					a = a == b;
					break;
				default:
					a = a != b;
					break;
				}
				PUSH(a);
				break;
			case DW_OP_stack_value:
				*is_value = true;
				break;
			case DW_OP_nop:
				break;
			default:
				return -EINVAL;
			}
		}
	}
	if (!sp)
		return -EINVAL;
	*out = st[sp - 1];
	return 0;
#undef PUSH
#undef POP
}

/* ---- stepping --------------------------------------------------------------------- */

/* Applies a CFI row; returns 0, or a stop reason. */
static int step_cfi(const struct obj_unwind *o, const struct cfi_rule *r, struct state *s,
		    uint64_t *ra)
{
	struct state next = *s;
	uint64_t cfa, v;
	bool isval;
	int ret;

	ret = eval(s, o->ops + r->cfa.ops, r->cfa.nops, 0, false, &cfa, &isval);
	if (ret)
		return ret == -EFAULT ? fault_stop(s) : PYPERF_UNWIND_BAD_FRAME;
	next.valid = 0;
	for (int reg = 0; reg < NREGS; reg++) {
		const struct reg_rule *rr = &r->regs[reg];

		switch (rr->kind) {
		case RULE_SAME:
			if (s->valid & (1u << reg)) {
				next.regs[reg] = s->regs[reg];
				next.valid |= 1u << reg;
			}
			break;
		case RULE_EXPR:
			ret = eval(s, o->ops + rr->ops, rr->nops, cfa, true, &v, &isval);
			if (ret == 0 && !isval && !read_mem(s, v, &v))
				ret = -EFAULT;
			if (ret == 0) {
				next.regs[reg] = v;
				next.valid |= 1u << reg;
			} else if (reg == r->ra_reg) {
				return ret == -EFAULT ? fault_stop(s) : PYPERF_UNWIND_BAD_FRAME;
			}
			break;
		default:
			break;
		}
	}
	if (r->ra_reg >= NREGS || r->regs[r->ra_reg].kind == RULE_UNDEF)
		return PYPERF_UNWIND_END;
	if (!(next.valid & (1u << r->ra_reg)))
		return PYPERF_UNWIND_BAD_FRAME;
	*ra = next.regs[r->ra_reg];
	next.regs[R_RSP] = cfa;
	next.valid |= 1u << R_RSP;
	next.regs[R_RIP] = *ra;
	next.valid |= 1u << R_RIP;
	*s = next;
	return 0;
}

/* After a step by a rule of our own: rax..r11 are not preserved across the
 * call the caller made, the rest is what the callee left (or restored). */
static void keep_callee_saved(struct state *s)
{
	s->valid &= (1u << R_RBX) | (1u << R_RBP) | (1u << R_R12) | (1u << R_R13) | (1u << R_R14) |
		    (1u << R_R15) | (1u << R_RSP) | (1u << R_RIP);
}

/*
 * CPython's perf trampoline (3.12, 3.13; x86-64): "sub $8,%rsp; call *%rcx;
 * add $8,%rsp; ret", eleven bytes, fifteen with an endbr64 before. From
 * inside, the caller's frame is one or two slots up the stack; callee-saved
 * registers pass through untouched.
 */
static int step_cpython_trampoline(struct state *s, uint64_t off, unsigned prefix, uint64_t *ra)
{
	uint64_t sp = s->regs[R_RSP], slot;

	if (off < prefix + 4 || off >= prefix + 10)
		slot = 0; /* before the sub, or at the ret */
	else
		slot = 8; /* the call pushed under our 8-byte pad */
	if (!read_mem(s, sp + slot, ra))
		return fault_stop(s);
	s->regs[R_RSP] = sp + slot + 8;
	s->regs[R_RIP] = *ra;
	keep_callee_saved(s);
	return 0;
}

/*
 * libpyperf's trampoline (see pyperf_trampoline above): before the push
 * (offsets 0-4) and at the ret (11) the return address is on top of the
 * stack; in between, the saved %rbp is, with the return address above it.
 */
static int step_pyperf_trampoline(struct state *s, uint64_t off, uint64_t *ra)
{
	uint64_t sp = s->regs[R_RSP], bp;

	if (off >= 12)
		return PYPERF_UNWIND_BAD_FRAME; /* padding: not code that runs */
	if (off >= 5 && off < 11) {
		if (!read_mem(s, sp, &bp) || !read_mem(s, sp + 8, ra))
			return fault_stop(s);
		s->regs[R_RBP] = bp;
		s->valid |= 1u << R_RBP;
		sp += 16;
	} else {
		if (!read_mem(s, sp, ra))
			return fault_stop(s);
		sp += 8;
	}
	s->regs[R_RSP] = sp;
	s->regs[R_RIP] = *ra;
	keep_callee_saved(s);
	return 0;
}

/* Other JIT code: the frame-pointer convention, if the frame looks sane. */
static int step_frame_pointer(struct state *s, uint64_t *ra)
{
	uint64_t bp, sp = s->regs[R_RSP], nbp;

	if (!reg_get(s, R_RBP, &bp) || bp < sp || bp % 8)
		return PYPERF_UNWIND_BAD_FRAME;
	if (!read_mem(s, bp, &nbp) || !read_mem(s, bp + 8, ra))
		return fault_stop(s);
	s->regs[R_RSP] = bp + 16;
	s->regs[R_RBP] = nbp;
	s->regs[R_RIP] = *ra;
	keep_callee_saved(s);
	return 0;
}

/*
 * Whether @p, the byte at a return address, follows a call instruction:
 * "call rel32" (e8), or "call *r/m" (ff /2) in any ModRM form (a REX
 * prefix sits before the opcode and changes no length after it). The 7
 * bytes before @p and @p itself must be readable.
 */
static bool after_call(const uint8_t *p)
{
	if (p[-5] == 0xe8)
		return true;
	for (int len = 2; len <= 7; len++) {
		const uint8_t *i = p - len;
		unsigned modrm = i[1], mod = modrm >> 6, rm = modrm & 7, need = 2;

		if (i[0] != 0xff || ((modrm >> 3) & 7) != 2)
			continue;
		if (mod != 3 && rm == 4) {
			need++; /* SIB; base 5 without displacement means disp32 */
			if (mod == 0 && (i[2] & 7) == 5)
				need += 4;
		}
		if (mod == 0 && rm == 5)
			need += 4; /* rip-relative */
		else if (mod == 1)
			need += 1;
		else if (mod == 2)
			need += 4;
		if (need == (unsigned)len)
			return true;
	}
	return false;
}

/*
 * A return address worth believing where there was no CFI to find it: it
 * lies in a mapped file's code that has CFI (so the unwind can go on by
 * the rules) and follows a call instruction there.
 */
static bool plausible_return(struct pyperf_unwinder *u, struct pyperf_thread *th, uint64_t ra)
{
	const struct pyperf_map *map = pyperf_thread__find_map(th, PYPERF_CPUMODE_USER, ra - 1);
	const uint8_t *raw;
	struct obj_unwind *o;
	uint64_t off, vaddr;
	size_t size;

	if (ra < 8 || !map || !map->dso ||
	    (map->dso->kind != PYPERF_DSO_ELF && map->dso->kind != PYPERF_DSO_VDSO))
		return false;
	o = obj_for(u, map->dso);
	off = pyperf_map__map_ip(map, ra - 1) + 1;
	if (!o || !off_to_vaddr(o, off - 1, &vaddr) || !rule_for(u, map->dso, o, vaddr))
		return false;
	raw = (const uint8_t *)elf_rawfile(o->elf, &size);
	return raw && off >= 8 && off < size && after_call(raw + off);
}

/*
 * Code of a file without CFI: the crti/crtn pieces (.init, .fini), the
 * parent's side of clone3 after its FDE ends, hand-written assembly.
 * libdw falls back to the frame-pointer chain there, which in code built
 * without frame pointers reads garbage. We try two layouts and keep one
 * only if it gives a plausible_return(): in the sampled function, the
 * return address on top of the stack (nothing pushed yet, or a leaf that
 * pushes nothing); then the frame-pointer convention.
 */
static int step_without_cfi(struct pyperf_unwinder *u, struct pyperf_thread *th, struct state *s,
			    bool leaf, uint64_t *ra)
{
	uint64_t sp = s->regs[R_RSP], bp, v, nbp;

	if (leaf && read_mem(s, sp, &v) && plausible_return(u, th, v)) {
		s->regs[R_RSP] = sp + 8;
	} else if (reg_get(s, R_RBP, &bp) && bp >= sp && !(bp % 8) && read_mem(s, bp, &nbp) &&
		   read_mem(s, bp + 8, &v) && plausible_return(u, th, v)) {
		s->regs[R_RSP] = bp + 16;
		s->regs[R_RBP] = nbp;
	} else {
		return PYPERF_UNWIND_NO_CFI;
	}
	*ra = s->regs[R_RIP] = v;
	keep_callee_saved(s);
	return 0;
}

PYPERF_API size_t pyperf_unwinder__unwind(struct pyperf_unwinder *u, struct pyperf_thread *th,
					  const struct pyperf_sample *smp, uint64_t *ips,
					  size_t max, enum pyperf_unwind_stop *stop)
{
	struct state s = {0};
	size_t n = 0, bit = 0;
	int why = PYPERF_UNWIND_END;

	u->stats.samples++;
	if (!(smp->present & PYPERF_SAMPLE_REGS_USER) || !smp->regs_user_abi || !smp->regs_user) {
		*stop = PYPERF_UNWIND_NO_REGS;
		u->stats.stops[*stop]++;
		return 0;
	}
	for (int b = 0; b < 64; b++) {
		if (!(smp->regs_user_mask & (1ULL << b)))
			continue;
		if (b < (int)ARRAY_SIZE(perf_to_dwarf) && perf_to_dwarf[b] >= 0) {
			s.regs[perf_to_dwarf[b]] = smp->regs_user[bit];
			s.valid |= 1u << perf_to_dwarf[b];
		}
		bit++;
	}
	if (!(s.valid & (1u << R_RIP)) || !(s.valid & (1u << R_RSP))) {
		*stop = PYPERF_UNWIND_NO_REGS;
		u->stats.stops[*stop]++;
		return 0;
	}
	if (smp->stack_user && smp->stack_user_dyn_size) {
		s.stack = smp->stack_user;
		s.stack_lo = s.regs[R_RSP];
		s.stack_hi = s.regs[R_RSP] + smp->stack_user_dyn_size;
		if (s.stack_hi < s.stack_lo)
			s.stack_hi = s.stack_lo;
	}

	for (;;) {
		uint64_t pc = s.regs[R_RIP], lookup, ra = 0, off, prev_sp = s.regs[R_RSP];
		const struct pyperf_map *map;
		Dwarf_CFI *jcfi;
		struct obj_unwind *jo;
		const struct cfi_rule *jr;

		if (n == max) {
			why = PYPERF_UNWIND_MAX_DEPTH;
			break;
		}
		/* callers: the call instruction, not the one after it */
		lookup = n ? pc - 1 : pc;
		map = pyperf_thread__find_map(th, PYPERF_CPUMODE_USER, lookup);
		if (!map || !map->dso) {
			why = PYPERF_UNWIND_NO_MAP;
			break;
		}
		ips[n++] = lookup;
		off = pyperf_map__map_ip(map, lookup);
		if (map->dso->kind == PYPERF_DSO_PERF_MAP &&
		    (jcfi = (Dwarf_CFI *)symbols_jit_cfi(map->dso)) &&
		    (jo = jit_obj(u, map->dso, jcfi)) && (jr = rule_for(u, map->dso, jo, lookup))) {
			/* the JIT described its code (jitdump unwinding info) */
			u->stats.trampoline_frames++;
			why = step_cfi(jo, jr, &s, &ra);
		} else if (map->dso->kind == PYPERF_DSO_PERF_MAP) {
			const struct pyperf_symbol *sym = pyperf_dso__find_symbol(map->dso, lookup);
			uint64_t size;

			/* recording live: the map may have grown since it was read */
			if (!sym && symbols_refresh_perf_map(map->dso))
				sym = pyperf_dso__find_symbol(map->dso, lookup);
			size = sym ? sym->end - sym->start : 0;

			u->stats.trampoline_frames++;
			if (sym && pyperf_symbol__is_python(sym) && (size == 11 || size == 15)) {
				why = step_cpython_trampoline(&s, pc - sym->start,
							      size == 15 ? 4 : 0, &ra);
			} else if (sym && pyperf_symbol__is_python(sym) &&
				   size == sizeof(pyperf_trampoline)) {
				why = step_pyperf_trampoline(&s, pc - sym->start, &ra);
			} else {
				unsigned prefix = 0;
				enum trampoline_kind kind = TRAMPOLINE_CPYTHON;
				int at = u->live ? live_trampoline_offset((pid_t)smp->pid, pc,
									  n == 1, &prefix, &kind)
						 : -1;

				if (at >= 0 && kind == TRAMPOLINE_PYPERF)
					why = step_pyperf_trampoline(&s, (uint64_t)at, &ra);
				else if (at >= 0)
					why =
					    step_cpython_trampoline(&s, (uint64_t)at, prefix, &ra);
				else if ((why = step_frame_pointer(&s, &ra)) && !sym)
					/* code nobody described (its perf map is gone
					 * or not written yet) whose frame pointer does
					 * not lead on: no unwind information */
					why = PYPERF_UNWIND_NO_CFI;
			}
			if (why)
				pr_debug("JIT step at %#" PRIx64 " (%s, size %" PRIu64
					 ", cfi %s) failed\n",
					 pc, sym ? sym->name : "no symbol", size,
					 symbols_jit_cfi(map->dso) ? "yes" : "no");
		} else if (map->dso->kind == PYPERF_DSO_ELF || map->dso->kind == PYPERF_DSO_VDSO) {
			struct obj_unwind *o = obj_for(u, map->dso);
			const struct cfi_rule *r;
			uint64_t vaddr;

			if (!o || !off_to_vaddr(o, off, &vaddr) ||
			    !(r = rule_for(u, map->dso, o, vaddr))) {
				/* Entry points carry no CFI on purpose: the stack ends
				 * there. The loader's and the program's _start, and
				 * the loader's _dl_start_user, which _start jumps to
				 * once the loader has relocated itself. */
				const struct pyperf_symbol *sym =
				    pyperf_dso__find_symbol(map->dso, off);

				if (sym && (!strcmp(sym->name, "_start") ||
					    !strcmp(sym->name, "_dl_start_user"))) {
					why = PYPERF_UNWIND_END;
					break;
				}
				why = o ? step_without_cfi(u, th, &s, n == 1, &ra)
					: PYPERF_UNWIND_NO_CFI;
				if (why)
					break;
				u->stats.fallback_frames++;
			} else {
				why = step_cfi(o, r, &s, &ra);
			}
		} else {
			why = PYPERF_UNWIND_NO_CFI;
		}
		if (why)
			break;
		if (!ra) {
			why = PYPERF_UNWIND_END;
			break;
		}
		/* Frames sit ever higher on the stack; otherwise we would loop. */
		if (s.regs[R_RSP] <= prev_sp) {
			why = PYPERF_UNWIND_BAD_FRAME;
			break;
		}
	}
	if (why != PYPERF_UNWIND_END)
		pr_debug("unwind of %u/%u stopped (%s) after %zu frames at pc %#" PRIx64
			 " sp %#" PRIx64 "\n",
			 smp->pid, smp->tid, pyperf_unwind_stop__name(why), n, s.regs[R_RIP],
			 s.regs[R_RSP]);
	u->stats.frames += n;
	u->stats.stops[why]++;
	*stop = (enum pyperf_unwind_stop)why;
	return n;
}
