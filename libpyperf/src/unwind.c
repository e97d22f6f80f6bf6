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
#include "unwind_internal.h"

/* clang-format off */
/* perf_regs bit -> DWARF register, for PERF_SAMPLE_REGS_USER on x86-64. */
static const int8_t perf_to_dwarf[24] = {
	R_RAX, R_RBX, R_RCX, R_RDX, R_RSI, R_RDI, R_RBP, R_RSP, R_RIP, -1, -1, -1,
	-1,    -1,    -1,    -1,    R_R8,  R_R9,  R_R10, R_R11, R_R12, R_R13, R_R14, R_R15,
};
/* clang-format on */

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

PYPERF_API struct pyperf_unwinder *pyperf_unwinder__new(const struct pyperf_unwinder_opts *opts)
{
	struct pyperf_unwinder *u;

	if (!OPTS_VALID(opts, pyperf_unwinder_opts))
		return pyperf_err_ptr(-EINVAL);
	u = pp_calloc(1, sizeof(*u));
	if (!u)
		return pyperf_err_ptr(-ENOMEM);
	u->live = OPTS_GET(opts, live, false);
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

/* ---- stepping --------------------------------------------------------------------- */

/* Applies a CFI row; returns 0, or a stop reason. */
static int step_cfi(const struct obj_unwind *o, const struct cfi_rule *r, struct state *s,
		    uint64_t *ra)
{
	struct state next = *s;
	uint64_t cfa, v;
	bool isval;
	int ret;

	ret = pyperf_unwind_eval(s, o->ops + r->cfa.ops, r->cfa.nops, 0, false, &cfa, &isval);
	if (ret)
		return ret == -EFAULT ? pyperf_unwind_fault_stop(s) : PYPERF_UNWIND_BAD_FRAME;
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
			ret = pyperf_unwind_eval(s, o->ops + rr->ops, rr->nops, cfa, true, &v,
						 &isval);
			if (ret == 0 && !isval && !pyperf_unwind_read_mem(s, v, &v))
				ret = -EFAULT;
			if (ret == 0) {
				next.regs[reg] = v;
				next.valid |= 1u << reg;
			} else if (reg == r->ra_reg) {
				return ret == -EFAULT ? pyperf_unwind_fault_stop(s)
						      : PYPERF_UNWIND_BAD_FRAME;
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
	if (!pyperf_unwind_read_mem(s, sp + slot, ra))
		return pyperf_unwind_fault_stop(s);
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
		if (!pyperf_unwind_read_mem(s, sp, &bp) || !pyperf_unwind_read_mem(s, sp + 8, ra))
			return pyperf_unwind_fault_stop(s);
		s->regs[R_RBP] = bp;
		s->valid |= 1u << R_RBP;
		sp += 16;
	} else {
		if (!pyperf_unwind_read_mem(s, sp, ra))
			return pyperf_unwind_fault_stop(s);
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

	if (!pyperf_unwind_reg_get(s, R_RBP, &bp) || bp < sp || bp % 8)
		return PYPERF_UNWIND_BAD_FRAME;
	if (!pyperf_unwind_read_mem(s, bp, &nbp) || !pyperf_unwind_read_mem(s, bp + 8, ra))
		return pyperf_unwind_fault_stop(s);
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
	o = pyperf_unwind_obj_for(u, map->dso);
	off = pyperf_map__map_ip(map, ra - 1) + 1;
	if (!o || !pyperf_unwind_off_to_vaddr(o, off - 1, &vaddr) ||
	    !pyperf_unwind_rule_for(u, map->dso, o, vaddr))
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

	if (leaf && pyperf_unwind_read_mem(s, sp, &v) && plausible_return(u, th, v)) {
		s->regs[R_RSP] = sp + 8;
	} else if (pyperf_unwind_reg_get(s, R_RBP, &bp) && bp >= sp && !(bp % 8) &&
		   pyperf_unwind_read_mem(s, bp, &nbp) && pyperf_unwind_read_mem(s, bp + 8, &v) &&
		   plausible_return(u, th, v)) {
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
		    (jo = pyperf_unwind_jit_obj(u, map->dso, jcfi)) &&
		    (jr = pyperf_unwind_rule_for(u, map->dso, jo, lookup))) {
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
			struct obj_unwind *o = pyperf_unwind_obj_for(u, map->dso);
			const struct cfi_rule *r;
			uint64_t vaddr;

			if (!o || !pyperf_unwind_off_to_vaddr(o, off, &vaddr) ||
			    !(r = pyperf_unwind_rule_for(u, map->dso, o, vaddr))) {
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
