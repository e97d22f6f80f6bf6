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
#include <elfutils/libdw.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <pyperf/symbols.h>
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

struct dso_inlines {
	int fd;
	Elf *elf;
	Dwarf *dw;
	struct load *loads;
	size_t nr_loads;
	struct inline_sym **syms; /* open addressing on (base, dwarf_name) */
	size_t nr_syms, cap_syms;
	struct pp_arena arena;
};

void pyperf_dso_inlines_free(void *p)
{
	struct dso_inlines *in = p;

	if (!in)
		return;
	if (in->dw)
		dwarf_end(in->dw);
	if (in->elf)
		elf_end(in->elf);
	if (in->fd >= 0)
		close(in->fd);
	free(in->loads);
	free(in->syms);
	pp_arena_free(&in->arena);
	free(in);
}

/* PT_LOAD segments of the file with the code: dso offsets to addresses. */
static bool read_loads(struct dso_inlines *in, const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	Elf *elf;
	size_t n;
	bool ok = false;

	if (fd < 0)
		return false;
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (elf && !elf_getphdrnum(elf, &n)) {
		in->loads = pp_calloc(n + 1, sizeof(*in->loads));
		ok = in->loads != NULL;
		for (size_t i = 0; ok && i < n; i++) {
			GElf_Phdr ph;

			if (gelf_getphdr(elf, (int)i, &ph) && ph.p_type == PT_LOAD)
				in->loads[in->nr_loads++] =
				    (struct load){ph.p_offset, ph.p_filesz, ph.p_vaddr};
		}
	}
	if (elf)
		elf_end(elf);
	close(fd);
	return ok;
}

static struct dso_inlines *state(struct pyperf_dso *d)
{
	struct dso_inlines *in = d->inlines;
	const char *dwarf_path;

	if (in || d->inlines_failed)
		return in;
	d->inlines_failed = true; /* until it works */
	if (d->kind != PYPERF_DSO_ELF || !d->run_path)
		return NULL;
	in = pp_calloc(1, sizeof(*in));
	if (!in)
		return NULL;
	in->fd = -1;
	pp_arena_init(&in->arena, 16 * 1024);
	dwarf_path = d->debug_path ? d->debug_path : d->run_path;
	in->fd = open(dwarf_path, O_RDONLY | O_CLOEXEC);
	if (in->fd >= 0)
		in->elf = elf_begin(in->fd, ELF_C_READ_MMAP, NULL);
	if (in->elf)
		in->dw = dwarf_begin_elf(in->elf, DWARF_C_READ, NULL);
	if (!in->dw || !read_loads(in, d->run_path)) {
		pyperf_dso_inlines_free(in);
		return NULL;
	}
	d->inlines = in;
	d->inlines_failed = false;
	return in;
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
			for (j = sym_hash(in->syms[i]->base, in->syms[i]->dwarf_name) & (cap - 1);
			     t[j]; j = (j + 1) & (cap - 1))
				;
			t[j] = in->syms[i];
		}
		free(in->syms);
		in->syms = t;
		in->cap_syms = cap;
	}
	for (j = sym_hash(base, name) & (in->cap_syms - 1); (s = in->syms[j]);
	     j = (j + 1) & (in->cap_syms - 1))
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

/*
 * The subprogram and inlined instances containing @pc, outermost first:
 * down from the CU through the one child holding @pc at each level
 * (dwarf_getscopes() finds nothing in the LTO units of Debian's python).
 */
static size_t scopes(Dwarf *dw, Dwarf_Addr pc, const char **names, size_t max)
{
	Dwarf_Die die, child;
	size_t n = 0;

	if (!dwarf_addrdie(dw, pc, &die))
		return 0;
	for (;;) {
		bool found = false;

		if (dwarf_child(&die, &child) == 0) {
			do {
				int tag = dwarf_tag(&child);

				if (tag != DW_TAG_subprogram && tag != DW_TAG_inlined_subroutine &&
				    tag != DW_TAG_lexical_block)
					continue;
				if (dwarf_haspc(&child, pc) <= 0)
					continue;
				if (tag != DW_TAG_lexical_block && n < max) {
					Dwarf_Attribute at;
					const char *nm = dwarf_formstring(
					    dwarf_attr_integrate(&child, DW_AT_name, &at));

					names[n++] = nm ? nm : "??";
				}
				die = child;
				found = true;
				break;
			} while (dwarf_siblingof(&child, &child) == 0);
		}
		if (!found)
			return n;
	}
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

PYPERF_API size_t pyperf_dso__inlines(struct pyperf_dso *d, uint64_t addr,
				      const struct pyperf_symbol **out, size_t max)
{
	const struct pyperf_symbol *base = pyperf_dso__find_symbol(d, addr);
	const char *names[MAX_DEPTH];
	struct dso_inlines *in;
	uint64_t pc = 0;
	bool mapped = false;
	size_t n, k = 0;

	if (!base || !max || !(in = state(d)))
		return 0;
	mapped = offset_vaddr(in, addr, &pc);
	if (!mapped)
		return 0;
	n = scopes(in->dw, pc, names, MAX_DEPTH);
	/* innermost first; the name of the ELF symbol is that symbol */
	while (n-- && k < max) {
		out[k] = !strcmp(names[n], base->name) ? base : inline_symbol(in, base, names[n]);
		if (!out[k])
			return 0;
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
