// SPDX-License-Identifier: MIT
/*
 * Inlined functions at an address, from the DWARF of the dso (a -dbg
 * package's debug file, or the file's own), the way perf lists them for
 * DWARF-unwound frames (machine.c append_inlines(), with addr2line -i):
 * innermost first, down to the function the code belongs to. Each gets a
 * symbol of its own spanning the function it was inlined in, named
 * "NAME (inlined)" as perf prints it; an entry named like the ELF symbol
 * is that symbol.
 */
#include <dwarf.h>
#include <errno.h>
#include <elfutils/libdw.h>
#include <gelf.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <pyperf/symbols.h>
#include "binary.h"
#include "internal.h"
#include "symbols_internal.h"

#define INLINED_SUFFIX " (inlined)"
#define MAX_DEPTH 64

struct load {
	uint64_t offset, size, vaddr;
};

struct inline_sym {
	const struct pyperf_symbol *base;
	const char *dwarf_name; /* owned by the Dwarf handle */
	struct pyperf_symbol sym;
};

/* A range of a scope: a function (depth 0) or an inlined call or a block in it. */
struct scope {
	Dwarf_Addr low, high;
	uint32_t depth;
	const char *name; /* NULL: a lexical block */
};

/* Each function's scopes, read once, in DWARF order (parents first). */
struct fn_scopes {
	Dwarf_Off die; /* + 1; 0: empty slot */
	struct scope *v;
	size_t n;
};

/* The functions of a CU by address, read once: the only walk of the CU. */
struct fn_range {
	Dwarf_Addr low, high;
	Dwarf_Off die;
};

struct cu_index {
	Dwarf_Off cu; /* + 1; 0: empty slot */
	struct fn_range *v;
	size_t n;
};

struct dso_inlines {
	int fd;
	Elf *elf;
	Dwarf *dw;
	struct cu_index *cus; /* open addressing on the CU's offset */
	size_t nr_cus, cap_cus;
	struct fn_scopes *fns; /* open addressing on the function's offset */
	size_t nr_fns, cap_fns;
	struct load *loads;
	size_t nr_loads;
	struct inline_sym **syms; /* open addressing on (base, dwarf_name) */
	size_t nr_syms, cap_syms;
	struct pp_arena arena;
	bool dw_lost;	 /* libdw ran out of memory inside: never called again */
	bool dw_damaged; /* its address index does not load: no inlines */
};

/*
 * libdw ends the process (error(3), exit 1, "libdw: Cannot allocate
 * memory") when an allocation of its own fails, unless the Dwarf has
 * another handler, which must not return. Ours jumps back to the lookup
 * that called libdw, which fails with -ENOMEM as every other allocation
 * does; libdw cannot be resumed, so that Dwarf is not used again (nor
 * ended: its locks and lists may be half-updated; it is left to the
 * process's exit, which the failed report is heading for).
 */
static __thread sigjmp_buf *dw_oom_jump;

static __attribute__((noreturn)) void dw_oom(void)
{
	siglongjmp(*dw_oom_jump, 1);
}

void pyperf_dso_inlines_free(void *p)
{
	struct dso_inlines *in = p;

	if (!in)
		return;
	if (in->dw && !in->dw_lost)
		dwarf_end(in->dw);
	if (in->elf)
		elf_end(in->elf);
	if (in->fd >= 0)
		close(in->fd);
	free(in->loads);
	for (size_t i = 0; i < in->cap_cus; i++)
		free(in->cus[i].v);
	free(in->cus);
	for (size_t i = 0; i < in->cap_fns; i++)
		free(in->fns[i].v);
	free(in->fns);
	free(in->syms);
	pp_arena_free(&in->arena);
	free(in);
}

/*
 * PT_LOAD segments of the file with the code: dso offsets to addresses.
 * Return: 0, -ENOENT (no such ELF file) or -ENOMEM (libelf reports a failed
 * allocation as no file: errno tells them apart).
 */
static int read_loads(struct dso_inlines *in, const char *path)
{
	int fd;
	Elf *elf = pyperf_elf_open(path, &fd);
	size_t n;
	int ret = -ENOENT;

	if (!elf)
		return errno == ENOMEM ? -ENOMEM : -ENOENT;
	if (!elf_getphdrnum(elf, &n)) {
		in->loads = pp_calloc(n + 1, sizeof(*in->loads));
		ret = in->loads ? 0 : -ENOMEM;
		for (size_t i = 0; !ret && i < n; i++) {
			GElf_Phdr ph;

			if (gelf_getphdr(elf, (int)i, &ph) && ph.p_type == PT_LOAD)
				in->loads[in->nr_loads++] =
				    (struct load){ph.p_offset, ph.p_filesz, ph.p_vaddr};
		}
	}
	elf_end(elf);
	close(fd);
	return ret;
}

/*
 * The dso's DWARF state in *@out, NULL when it has no DWARF to read (not
 * tried again). A failed allocation is -ENOMEM and is tried again next
 * time: it must not pass for a dso without debug info.
 */
static int state(struct pyperf_dso *d, struct dso_inlines **out)
{
	struct dso_inlines *in = d->inlines;
	const char *dwarf_path;
	int ret = 0;

	*out = in;
	if (in || d->inlines_failed)
		return 0;
	if (d->kind != PYPERF_DSO_ELF || !d->run_path) {
		d->inlines_failed = true;
		return 0;
	}
	in = pp_calloc(1, sizeof(*in));
	if (!in)
		return -ENOMEM;
	in->fd = -1;
	pp_arena_init(&in->arena, 16 * 1024);
	dwarf_path = d->debug_path ? d->debug_path : d->run_path;
	/* a recording names these paths: never a FIFO (see binary.h) */
	in->elf = pyperf_elf_open(dwarf_path, &in->fd);
	if (in->elf) {
		errno = 0;
		in->dw = dwarf_begin_elf(in->elf, DWARF_C_READ, NULL);
		if (in->dw)
			dwarf_new_oom_handler(in->dw, dw_oom);
	}
	if (!in->dw && errno == ENOMEM)
		ret = -ENOMEM;
	else if (in->dw)
		ret = read_loads(in, d->run_path);
	else
		ret = -ENOENT;
	if (ret) {
		pyperf_dso_inlines_free(in);
		if (ret == -ENOMEM)
			return ret;
		d->inlines_failed = true;
		return 0;
	}
	d->inlines = in;
	*out = in;
	return 0;
}

static uint64_t sym_hash(const struct pyperf_symbol *base, const char *name)
{
	return hash_u64((uintptr_t)base ^ hash_u64((uintptr_t)name));
}

/* The inline symbol for @name inlined in @base, made once. */
static const struct pyperf_symbol *inline_symbol(struct dso_inlines *in,
						 const struct pyperf_symbol *base, const char *name)
{
	size_t j, len;
	struct inline_sym *s;
	char *full;

	if ((in->nr_syms + 1) * 2 > in->cap_syms) {
		size_t cap = in->cap_syms ? in->cap_syms * 2 : 64;
		struct inline_sym **t = pp_calloc(cap, sizeof(*t));

		if (!t)
			return NULL;
		for (size_t i = 0; i < in->cap_syms; i++) {
			if (!in->syms[i])
				continue;
			for (j = pp_probe_start(
				 sym_hash(in->syms[i]->base, in->syms[i]->dwarf_name), cap);
			     t[j]; j = pp_probe_next(j, cap))
				;
			t[j] = in->syms[i];
		}
		free(in->syms);
		in->syms = t;
		in->cap_syms = cap;
	}
	for (j = pp_probe_start(sym_hash(base, name), in->cap_syms); (s = in->syms[j]);
	     j = pp_probe_next(j, in->cap_syms))
		if (s->base == base && s->dwarf_name == name)
			return &s->sym;
	len = strlen(name);
	s = pp_arena_alloc(&in->arena, sizeof(*s));
	full = pp_arena_alloc(&in->arena, len + sizeof(INLINED_SUFFIX));
	if (!s || !full)
		return NULL;
	memcpy(full, name, len);
	memcpy(full + len, INLINED_SUFFIX, sizeof(INLINED_SUFFIX));
	*s = (struct inline_sym){base, name, {base->start, base->end, full}};
	in->syms[j] = s;
	in->nr_syms++;
	return &s->sym;
}

/* Appends the ranges of @die (low_pc/high_pc or DW_AT_ranges). */
static int add_ranges(Dwarf_Die *die, uint32_t depth, const char *name, struct scope **v, size_t *n,
		      size_t *cap)
{
	Dwarf_Addr base, start, end;
	ptrdiff_t off = 0;

	while ((off = dwarf_ranges(die, off, &base, &start, &end)) > 0) {
		if (PP_GROW(*v, *cap, *n + 1))
			return -ENOMEM;
		(*v)[(*n)++] = (struct scope){start, end, depth, name};
	}
	return 0;
}

/* The scopes of function @die and below, depth first (parents first). */
static int read_scopes(Dwarf_Die *die, uint32_t depth, struct scope **v, size_t *n, size_t *cap)
{
	Dwarf_Die child;
	int tag = dwarf_tag(die);
	const char *name = NULL;

	if (tag != DW_TAG_lexical_block) {
		Dwarf_Attribute at;

		/* The linkage name first, as binutils (perf's addr2line) names
		 * it: glibc's fortified open() is open64 in the binary. A
		 * mangled C++ name keeps its plain name (we do not demangle). */
		name = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_linkage_name, &at));
		if (!name)
			name = dwarf_formstring(
			    dwarf_attr_integrate(die, DW_AT_MIPS_linkage_name, &at));
		if (!name || !strncmp(name, "_Z", 2))
			name = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_name, &at));
		if (!name)
			name = "??";
	}
	if (add_ranges(die, depth, name, v, n, cap))
		return -ENOMEM;
	if (dwarf_child(die, &child))
		return 0;
	do {
		tag = dwarf_tag(&child);
		if ((tag == DW_TAG_inlined_subroutine || tag == DW_TAG_lexical_block) &&
		    read_scopes(&child, depth + 1, v, n, cap))
			return -ENOMEM;
	} while (dwarf_siblingof(&child, &child) == 0);
	return 0;
}

static int cmp_fn_range(const void *a, const void *b)
{
	const struct fn_range *x = a, *y = b;

	return (x->low > y->low) - (x->low < y->low);
}

/* Slot of @key (stored + 1) in an open-addressing table of @cap entries
 * of @size bytes whose first member is the key. */
static void *slot_of(void *table, size_t cap, size_t size, Dwarf_Off key)
{
	for (size_t j = pp_probe_start(hash_u64(key), cap);; j = pp_probe_next(j, cap)) {
		Dwarf_Off *k = (Dwarf_Off *)((char *)table + j * size);

		if (!*k || *k == key + 1)
			return k;
	}
}

/* Makes room for one more in a table of such slots; rehashes. */
static int table_room(void **table, size_t *cap, size_t used, size_t size)
{
	size_t ncap = *cap ? *cap * 2 : 64;
	char *t;

	if ((used + 1) * 2 <= *cap)
		return 0;
	t = pp_calloc(ncap, size);
	if (!t)
		return -ENOMEM;
	for (size_t i = 0; i < *cap; i++) {
		Dwarf_Off *k = (Dwarf_Off *)((char *)*table + i * size);

		if (*k)
			memcpy(slot_of(t, ncap, size, *k - 1), k, size);
	}
	free(*table);
	*table = t;
	*cap = ncap;
	return 0;
}

static const struct cu_index *cu_index(struct dso_inlines *in, Dwarf_Die *cu)
{
	Dwarf_Off off = dwarf_dieoffset(cu);
	struct cu_index *c;
	Dwarf_Die child;
	size_t cap = 0;

	if (table_room((void **)&in->cus, &in->cap_cus, in->nr_cus, sizeof(*in->cus)))
		return NULL;
	c = slot_of(in->cus, in->cap_cus, sizeof(*c), off);
	if (c->cu)
		return c;
	c->cu = off + 1;
	in->nr_cus++;
	if (dwarf_child(cu, &child))
		return c;
	do {
		Dwarf_Addr base, start, end;
		ptrdiff_t r = 0;

		if (dwarf_tag(&child) != DW_TAG_subprogram)
			continue;
		while ((r = dwarf_ranges(&child, r, &base, &start, &end)) > 0) {
			if (PP_GROW(c->v, cap, c->n + 1)) {
				/* the slot was the last one taken: emptying it
				 * keeps every probe chain whole */
				free(c->v);
				*c = (struct cu_index){0};
				in->nr_cus--;
				return NULL;
			}
			c->v[c->n++] = (struct fn_range){start, end, dwarf_dieoffset(&child)};
		}
	} while (dwarf_siblingof(&child, &child) == 0);
	qsort(c->v, c->n, sizeof(*c->v), cmp_fn_range);
	return c;
}

static const struct fn_scopes *fn_scopes(struct dso_inlines *in, Dwarf_Off off)
{
	struct fn_scopes *f;
	Dwarf_Die die;
	size_t cap = 0;

	if (table_room((void **)&in->fns, &in->cap_fns, in->nr_fns, sizeof(*in->fns)))
		return NULL;
	f = slot_of(in->fns, in->cap_fns, sizeof(*f), off);
	if (f->die)
		return f;
	f->die = off + 1;
	in->nr_fns++;
	if (dwarf_offdie(in->dw, off, &die) && read_scopes(&die, 0, &f->v, &f->n, &cap)) {
		/* out of memory: undone as in cu_index() */
		free(f->v);
		*f = (struct fn_scopes){0};
		in->nr_fns--;
		return NULL;
	}
	return f;
}

/*
 * Whether libdw's last error was its "out of memory". Its error codes are
 * not public: the code is the one whose message says so (10 in elfutils
 * 0.188), found once; the same value whichever thread finds it.
 */
static bool dw_error_is_nomem(void)
{
	static int nomem = -1;
	int e = dwarf_errno();

	if (nomem < 0) {
		int found = 10;

		for (int c = 1; c < 64; c++) {
			const char *m = dwarf_errmsg(c);

			if (m && !strcmp(m, "out of memory")) {
				found = c;
				break;
			}
		}
		nomem = found;
	}
	return e == nomem;
}

/*
 * The function and inlined instances containing @pc, outermost first
 * (dwarf_getscopes() finds nothing in the LTO units of Debian's python,
 * and a walk per address would cost the CU's size): the CU's functions
 * and each function's scopes are indexed once.
 */
static long scopes(struct dso_inlines *in, Dwarf_Addr pc, const char **names, size_t max)
{
	const struct cu_index *c;
	const struct fn_scopes *f;
	Dwarf_Die cu;
	size_t lo = 0, hi, n = 0;

	if (!dwarf_addrdie(in->dw, pc, &cu)) {
		Dwarf_Aranges *ar;
		size_t nar;

		/* no unit holds @pc, or the address index could not be read:
		 * under memory pressure libelf's failed section loads read as
		 * "invalid DWARF", told apart by the errno of the failed
		 * allocation or libdw's own error; otherwise the debug info is
		 * damaged and gives no inlined frames (as perf shows none) */
		bool nomem = errno == ENOMEM || dw_error_is_nomem();

		if (!nomem && !dwarf_getaranges(in->dw, &ar, &nar))
			return 0;
		if (nomem || errno == ENOMEM || dw_error_is_nomem())
			return -ENOMEM;
		in->dw_damaged = true;
		return 0;
	}
	if (!(c = cu_index(in, &cu)))
		return -ENOMEM;
	hi = c->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (c->v[mid].low <= pc)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo || pc >= c->v[lo - 1].high)
		return 0;
	if (!(f = fn_scopes(in, c->v[lo - 1].die)))
		return -ENOMEM;
	/* parents come first and contain their children: the scopes holding
	 * @pc, in order, are the chain */
	for (size_t i = 0; i < f->n && n < max; i++)
		if (f->v[i].low <= pc && pc < f->v[i].high && f->v[i].name)
			names[n++] = f->v[i].name;
	return (long)n;
}

/* scopes() with libdw's running out of memory made -ENOMEM (see dw_oom). */
static long scopes_guarded(struct dso_inlines *in, Dwarf_Addr pc, const char **names, size_t max)
{
	sigjmp_buf env;
	long n;

	if (in->dw_lost)
		return -ENOMEM;
	if (in->dw_damaged)
		return 0;
	if (sigsetjmp(env, 0)) {
		dw_oom_jump = NULL;
		in->dw_lost = true;
		return -ENOMEM;
	}
	dw_oom_jump = &env;
	errno = 0;
	n = scopes(in, pc, names, max);
	dw_oom_jump = NULL;
	/* libdw reports most failed allocations as "no such DIE" or "no
	 * ranges", which the indexes would keep as "nothing here": the
	 * errno of the failed malloc tells them apart */
	if (n >= 0 && errno == ENOMEM) {
		in->dw_lost = true;
		return -ENOMEM;
	}
	return n;
}

/* A dso offset as the address the DWARF uses. */
static bool offset_vaddr(const struct dso_inlines *in, uint64_t off, uint64_t *vaddr)
{
	for (size_t i = 0; i < in->nr_loads; i++) {
		const struct load *l = &in->loads[i];

		if (off >= l->offset && off < l->offset + l->size) {
			*vaddr = off - l->offset + l->vaddr;
			return true;
		}
	}
	return false;
}

PYPERF_API long pyperf_dso__inlines(struct pyperf_dso *d, uint64_t addr,
				    const struct pyperf_symbol **out, size_t max)
{
	const struct pyperf_symbol *base = pyperf_dso__find_symbol(d, addr);
	const char *names[MAX_DEPTH];
	struct dso_inlines *in;
	uint64_t pc = 0;
	long n, k = 0;
	int ret;

	if (!base || !max)
		return 0;
	ret = state(d, &in);
	if (ret || !in)
		return ret;
	if (!offset_vaddr(in, addr, &pc))
		return 0;
	n = scopes_guarded(in, pc, names, MAX_DEPTH);
	if (n < 0)
		return n;
	/* innermost first; the name of the ELF symbol is that symbol */
	while (n-- && (size_t)k < max) {
		out[k] = !strcmp(names[n], base->name) ? base : inline_symbol(in, base, names[n]);
		if (!out[k])
			return -ENOMEM;
		k++;
	}
	return k;
}

PYPERF_API bool pyperf_symbol__is_inlined(const struct pyperf_symbol *sym)
{
	size_t n = sym && sym->name ? strlen(sym->name) : 0;

	return n > sizeof(INLINED_SUFFIX) - 1 &&
	       !strcmp(sym->name + n - (sizeof(INLINED_SUFFIX) - 1), INLINED_SUFFIX);
}
