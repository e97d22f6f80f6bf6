// SPDX-License-Identifier: MIT
/*
 * PLT entries named "NAME@plt" from the relocations they jump through
 * (.plt, .plt.sec, .plt.got), as perf names them.
 */
#include "symbols_elf.h"

/* x86-64 PLT stubs start with an optional endbr64 and bnd prefix, then
 * jmp *disp(%rip): the GOT slot they jump through. */
static uint32_t x86_64_plt_disp(const uint8_t *p, size_t avail)
{
	static const uint8_t endbr64[] = {0xf3, 0x0f, 0x1e, 0xfa};
	size_t n = 0;
	uint32_t disp;

	if (avail >= 4 && !memcmp(p, endbr64, 4))
		n += 4;
	if (n < avail && p[n] == 0xf2)
		n++;
	if (n + 6 <= avail && p[n] == 0xff && p[n + 1] == 0x25) {
		memcpy(&disp, p + n + 2, 4);
		return (uint32_t)(n + 6) + disp;
	}
	return 0;
}

struct rela_ref {
	uint64_t offset;
	uint32_t sym;
};

static int cmp_rela_ref(const void *a, const void *b)
{
	const struct rela_ref *x = a, *y = b;

	return x->offset < y->offset ? -1 : x->offset > y->offset;
}

static const char *dynsym_name(Elf *elf, Elf_Data *syms, GElf_Shdr *symshdr, uint32_t idx)
{
	GElf_Sym sym;

	if (!gelf_getsym(syms, (int)idx, &sym))
		return NULL;
	return elf_strptr(elf, symshdr->sh_link, sym.st_name);
}

static int add_plt_sym(struct pyperf_dso *d, uint64_t start, uint64_t size, const char *name)
{
	char buf[1024];

	snprintf(buf, sizeof(buf), "%s@plt", name);
	return symtab_add_elf(&d->tab, start, start + size, buf, STB_GLOBAL, STT_FUNC);
}

/* .plt.got: stubs for functions bound at load time, named via .rela.dyn. */
void pyperf_symbols_synthesize_plt_got(struct pyperf_dso *d, struct elf_file *f)
{
	GElf_Shdr sh, rsh, dsh;
	Elf_Scn *scn = pyperf_symbols_section_by_name(f->elf, &f->ehdr, ".plt.got", &sh, NULL);
	Elf_Scn *rscn, *dscn;
	Elf_Data *data, *rdata = NULL, *ddata = NULL;
	struct rela_ref *refs = NULL;
	size_t nrefs = 0;
	char name[64];

	if (!scn || !sh.sh_entsize || sh.sh_type == SHT_NOBITS)
		return;
	data = elf_getdata(scn, NULL);
	if (!data || !data->d_buf)
		return;
	rscn = pyperf_symbols_section_by_name(f->elf, &f->ehdr, ".rela.dyn", &rsh, NULL);
	if (rscn && rsh.sh_link && rsh.sh_entsize && (rdata = elf_getdata(rscn, NULL)) &&
	    (dscn = elf_getscn(f->elf, rsh.sh_link)) && gelf_getshdr(dscn, &dsh) &&
	    (ddata = elf_getdata(dscn, NULL))) {
		size_t n = rsh.sh_size / rsh.sh_entsize;

		refs = pp_calloc(n ? n : 1, sizeof(*refs));
		if (!refs)
			d->tab.nomem = true;
		for (size_t i = 0; refs && i < n; i++) {
			GElf_Rela r;

			if (gelf_getrela(rdata, (int)i, &r) && GELF_R_SYM(r.r_info))
				refs[nrefs++] =
				    (struct rela_ref){r.r_offset, (uint32_t)GELF_R_SYM(r.r_info)};
		}
		if (refs)
			qsort(refs, nrefs, sizeof(*refs), cmp_rela_ref);
	}
	for (uint64_t i = 0; i + sh.sh_entsize <= sh.sh_size && i < data->d_size;
	     i += sh.sh_entsize) {
		const char *n = NULL;
		uint32_t disp = x86_64_plt_disp((const uint8_t *)data->d_buf + i, data->d_size - i);

		if (disp && refs && f->ehdr.e_machine == EM_X86_64) {
			struct rela_ref key = {sh.sh_offset + i + disp, 0}, *hit;

			hit = bsearch(&key, refs, nrefs, sizeof(*refs), cmp_rela_ref);
			if (hit)
				n = dynsym_name(f->elf, ddata, &dsh, hit->sym);
		}
		if (!n || !*n) {
			snprintf(name, sizeof(name), "offset_%#" PRIx64, sh.sh_offset + i);
			n = name;
		}
		add_plt_sym(d, sh.sh_offset + i, sh.sh_entsize, n);
	}
	free(refs);
}

struct rel_slot {
	uint64_t offset;
	uint32_t sym;
	uint64_t addend;
	bool irelative;
};

static int cmp_rel_slot(const void *a, const void *b)
{
	const struct rel_slot *x = a, *y = b;

	return x->offset < y->offset ? -1 : x->offset > y->offset;
}

/* Names for PLT stubs: "func@plt", from the PLT relocations (perf's
 * dso__synthesize_plt_symbols, x86 variants). */
void pyperf_symbols_synthesize_plt(struct pyperf_dso *d, struct elf_file *f)
{
	GElf_Shdr plt, sec, rel, symsh;
	Elf_Scn *rscn, *symscn;
	Elf_Data *rdata, *sdata;
	uint64_t hdr_size, ent_size, plt_off;
	struct rel_slot *slots;
	size_t nr;
	bool lazy, is_x86 = f->ehdr.e_machine == EM_X86_64 || f->ehdr.e_machine == EM_386;
	struct pyperf_symbol *over;
	const struct pyperf_symbol *cover;

	if (!pyperf_symbols_section_by_name(f->elf, &f->ehdr, ".plt", &plt, NULL))
		return;
	/* A symbol stretched by the zero-size rule must not cover .plt. */
	symtab_sort(&d->tab);
	cover = symtab_find(&d->tab, plt.sh_offset);
	over = (struct pyperf_symbol *)cover;
	if (over && over->start < plt.sh_offset && over->end > plt.sh_offset)
		over->end = plt.sh_offset;
	if (!is_x86)
		return;
	ent_size = plt.sh_entsize;
	if (ent_size != 8 && ent_size != 16)
		ent_size = plt.sh_addralign == 8 ? 8 : 16;
	hdr_size = ent_size;
	symtab_add_elf(&d->tab, plt.sh_offset, plt.sh_offset + hdr_size, ".plt", STB_GLOBAL,
		       STT_FUNC);
	pyperf_symbols_synthesize_plt_got(d, f);
	if (pyperf_symbols_section_by_name(f->elf, &f->ehdr, ".plt.sec", &sec, NULL)) {
		ent_size = sec.sh_entsize;
		if (ent_size != 8 && ent_size != 16)
			ent_size = sec.sh_addralign == 8 ? 8 : 16;
		/* The .plt symbol then covers the whole .plt. */
		{
			uint8_t ty;
			struct pyperf_symbol *p;

			symtab_sort(&d->tab);
			p = symtab_find_start(&d->tab, plt.sh_offset, &ty);
			if (p && !strcmp(p->name, ".plt"))
				p->end = p->start + plt.sh_size;
		}
		plt_off = sec.sh_offset;
		lazy = false;
	} else {
		plt_off = plt.sh_offset;
		lazy = true;
	}
	rscn = pyperf_symbols_section_by_name(f->elf, &f->ehdr, ".rela.plt", &rel, NULL);
	if (!rscn)
		rscn = pyperf_symbols_section_by_name(f->elf, &f->ehdr, ".rel.plt", &rel, NULL);
	if (!rscn || (rel.sh_type != SHT_RELA && rel.sh_type != SHT_REL) || !rel.sh_link ||
	    !rel.sh_entsize)
		return;
	symscn = elf_getscn(f->elf, rel.sh_link);
	if (!symscn || !gelf_getshdr(symscn, &symsh) || symsh.sh_type == SHT_NOBITS)
		return;
	rdata = elf_getdata(rscn, NULL);
	sdata = elf_getdata(symscn, NULL);
	if (!rdata || !sdata)
		return;
	nr = rel.sh_size / rel.sh_entsize;
	if (lazy) {
		/* A .plt exactly as long as its entries has no header. */
		if (nr * ent_size == plt.sh_size) {
			uint8_t ty;
			struct pyperf_symbol *p;

			symtab_sort(&d->tab);
			p = symtab_find_start(&d->tab, plt.sh_offset, &ty);
			if (p && !strcmp(p->name, ".plt"))
				p->end = p->start; /* perf deletes it; zero size never matches */
		} else {
			plt_off += hdr_size;
		}
	}
	slots = pp_calloc(nr ? nr : 1, sizeof(*slots));
	if (!slots) {
		d->tab.nomem = true;
		return;
	}
	for (size_t i = 0; i < nr; i++) {
		if (rel.sh_type == SHT_RELA) {
			GElf_Rela r;

			if (!gelf_getrela(rdata, (int)i, &r))
				continue;
			slots[i] = (struct rel_slot){
			    r.r_offset, (uint32_t)GELF_R_SYM(r.r_info), (uint64_t)r.r_addend,
			    f->ehdr.e_machine == EM_X86_64 &&
				GELF_R_TYPE(r.r_info) == R_X86_64_IRELATIVE};
		} else {
			GElf_Rel r;

			if (!gelf_getrel(rdata, (int)i, &r))
				continue;
			slots[i] =
			    (struct rel_slot){r.r_offset, (uint32_t)GELF_R_SYM(r.r_info), 0, false};
		}
	}
	/* IFUNC relocations are not in PLT order; GOT slot order is. */
	qsort(slots, nr, sizeof(*slots), cmp_rel_slot);
	symtab_sort(&d->tab);
	for (size_t i = 0; i < nr; i++) {
		const char *n = dynsym_name(f->elf, sdata, &symsh, slots[i].sym);
		char buf[64];

		if (!n || !*n) {
			n = NULL;
			if (slots[i].irelative) {
				GElf_Phdr ph;
				uint64_t a = slots[i].addend;
				uint8_t ty = 0;
				struct pyperf_symbol *t;

				if (pyperf_symbols_load_segment(f->elf, a, &ph)) {
					a -= ph.p_vaddr - ph.p_offset;
					t = symtab_find_start(&d->tab, a, &ty);
					if (t && ty == STT_GNU_IFUNC)
						n = t->name;
				}
			}
			if (!n) {
				snprintf(buf, sizeof(buf), "offset_%#" PRIx64, plt_off);
				n = buf;
			}
		}
		add_plt_sym(d, plt_off, ent_size, n);
		plt_off += ent_size;
	}
	free(slots);
}
