// SPDX-License-Identifier: MIT
/*
 * The unwinder's parts (unwind.c steps frames and drives a sample;
 * unwind_objects.c keeps per-object files, CFI and decoded rows;
 * unwind_eval.c evaluates DWARF expressions): the state they share.
 */
#ifndef PYPERF_UNWIND_INTERNAL_H
#define PYPERF_UNWIND_INTERNAL_H

#include <elfutils/libdw.h>
#include <libelf.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <pyperf/unwind.h>
#include "symbols_internal.h"

/* clang-format off */
/* DWARF register numbers on x86-64. */
enum { R_RAX, R_RDX, R_RCX, R_RBX, R_RSI, R_RDI, R_RBP, R_RSP, R_R8, R_R9, R_R10, R_R11,
       R_R12, R_R13, R_R14, R_R15, R_RIP, NREGS };
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

/* The registers of the frame being stepped, and the sample's stack copy. */
struct state {
	uint64_t regs[NREGS];
	uint32_t valid;		     /* bit per register */
	const uint8_t *stack;	     /* the copy */
	uint64_t stack_lo, stack_hi; /* its addresses */
	uint64_t fault;		     /* the last address read_mem() could not read */
};

static inline bool pyperf_unwind_read_mem(struct state *s, uint64_t addr, uint64_t *v)
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
static inline int pyperf_unwind_fault_stop(const struct state *s)
{
	return s->fault >= s->stack_hi - 8 && s->fault - s->stack_hi < STACK_SPAN
		   ? PYPERF_UNWIND_STACK_COPY
		   : PYPERF_UNWIND_BAD_FRAME;
}

static inline bool pyperf_unwind_reg_get(const struct state *s, int reg, uint64_t *v)
{
	if (reg < 0 || reg >= NREGS || !(s->valid & (1u << reg)))
		return false;
	*v = s->regs[reg];
	return true;
}

/* The object's unwind state, made on first use; NULL when it has no CFI
 * (counted in the unwinder's stats). */
struct obj_unwind *pyperf_unwind_obj_for(struct pyperf_unwinder *u, struct pyperf_dso *d);
/* A jitdump's code: CFI borrowed from the dump. */
struct obj_unwind *pyperf_unwind_jit_obj(struct pyperf_unwinder *u, struct pyperf_dso *d,
					 Dwarf_CFI *cfi);
bool pyperf_unwind_off_to_vaddr(const struct obj_unwind *o, uint64_t off, uint64_t *vaddr);
/* The decoded CFI row at @vaddr of @d, cached; NULL when there is none. */
const struct cfi_rule *pyperf_unwind_rule_for(struct pyperf_unwinder *u, struct pyperf_dso *d,
					      struct obj_unwind *o, uint64_t vaddr);
/*
 * A DWARF expression as CFI uses them. Returns 0 with *out the address (or
 * the value, *is_value set, after DW_OP_stack_value); -EFAULT when memory
 * is outside the copy; -EINVAL for anything else.
 */
int pyperf_unwind_eval(struct state *s, const Dwarf_Op *ops, size_t n, uint64_t cfa, bool have_cfa,
		       uint64_t *out, bool *is_value);

#endif
