// SPDX-License-Identifier: MIT
/*
 * DSOs and their symbols: ELF files (libelf), kallsyms, the vdso, perf maps
 * and KSYMBOL regions. Which file supplies the symbols, which symbols are
 * kept and how they are sized follow perf (tools/perf/util/symbol.c,
 * symbol-elf.c), so that both tools name an address alike.
 */
#include <fcntl.h>
#include <gelf.h>
#include <inttypes.h>
#include <libelf.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>
#include <pyperf/map.h>
#include <pyperf/symbols.h>
#include "internal.h"
#include "buildid_cache.h"
#include "symbols_internal.h"
#include "symtab.h"
#include "binary.h"
#include "untrusted.h"
#include "symcache.h"
#include "jitdump.h"

#ifndef STT_GNU_IFUNC
#define STT_GNU_IFUNC 10
#endif

/* ---- the cache ------------------------------------------------------------ */

PYPERF_API struct pyperf_symbols *pyperf_symbols__new(const struct pyperf_symbols_opts *opts)
{
	struct pyperf_symbols *s;
	char buf[PATH_MAX];

	if (!OPTS_VALID(opts, pyperf_symbols_opts))
		return pyperf_err_ptr(-EINVAL);
	s = pp_calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	pp_arena_init(&s->arena, 16 * 1024);
	if (pyperf_buildid_cache_dir(OPTS_GET(opts, buildid_dir, NULL), buf, sizeof(buf)))
		s->buildid_dir = pp_arena_strdup(&s->arena, buf);
	else
		s->buildid_dir = "";
	s->kallsyms =
	    OPTS_GET(opts, kallsyms, NULL) ? pp_arena_strdup(&s->arena, opts->kallsyms) : NULL;
	s->symfs = pp_arena_strdup(&s->arena, OPTS_GET(opts, symfs, NULL) ? opts->symfs : "");
	s->force = OPTS_GET(opts, force, false);
	s->no_kernel = OPTS_GET(opts, no_kernel, false);
	if (symcache_dir(OPTS_GET(opts, table_cache, NULL), buf, sizeof(buf)) && buf[0])
		s->table_cache = pp_arena_strdup(&s->arena, buf);
	if (!s->buildid_dir || !s->symfs) {
		pyperf_symbols__free(s);
		return pyperf_err_ptr(-ENOMEM);
	}
	elf_version(EV_CURRENT);
	return s;
}

static void dso_free(struct pyperf_dso *d)
{
	if (d->unwind && d->unwind_free)
		d->unwind_free(d->unwind);
	pyperf_dso_inlines_free(d->inlines);
	free(d->run_path);
	free(d->debug_path);
	symtab_free(&d->tab);
	pyperf_map_table__free(d->perf_map);
	jitdump_free(d->jitdump);
	free(d->name);
	free(d->short_name);
	free(d);
}

PYPERF_API void pyperf_symbols__free(struct pyperf_symbols *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nr_dsos; i++)
		dso_free(s->dsos[i]);
	free(s->dsos);
	free(s->slots);
	pp_arena_free(&s->arena);
	free(s);
}

PYPERF_API const struct pyperf_symbols_stats *pyperf_symbols__stats(const struct pyperf_symbols *s)
{
	return &s->stats;
}

static uint64_t dso_key(const char *name, const uint8_t *bid, uint8_t bid_size)
{
	return hash_bytes(bid, bid_size, hash_bytes(name, strlen(name), HASH_SEED));
}

static bool dso_matches(const struct pyperf_dso *d, const char *name, const uint8_t *bid,
			uint8_t bid_size)
{
	return d->bid_size == bid_size && (!bid_size || !memcmp(d->bid, bid, bid_size)) &&
	       !strcmp(d->name, name);
}

static int dsos_rehash(struct pyperf_symbols *s, size_t ncap)
{
	uint32_t *slots = pp_calloc(ncap, sizeof(*slots));

	if (!slots)
		return -ENOMEM;
	for (size_t i = 0; i < s->nr_dsos; i++) {
		size_t j = s->dsos[i]->key & (ncap - 1);

		while (slots[j])
			j = (j + 1) & (ncap - 1);
		slots[j] = (uint32_t)i + 1;
	}
	free(s->slots);
	s->slots = slots;
	s->slots_cap = ncap;
	return 0;
}

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

/* "/tmp/perf-123.map" -> 123 */
static bool perf_map_pid(const char *name, int *pid)
{
	const char *b;
	char *end;
	long v;

	if (strncmp(name, "/tmp/perf-", 10))
		return false;
	b = name + 10;
	v = strtol(b, &end, 10);
	if (end == b || strcmp(end, ".map") || v <= 0)
		return false;
	*pid = (int)v;
	return true;
}

static enum pyperf_dso_kind kind_for(const char *name)
{
	int pid;

	if (!strcmp(name, "[vdso]"))
		return PYPERF_DSO_VDSO;
	if (perf_map_pid(name, &pid))
		return PYPERF_DSO_PERF_MAP;
	if (!strcmp(name, "//anon") || !strncmp(name, "/dev/zero", 9) ||
	    !strncmp(name, "/anon_hugepage", 14) || !strncmp(name, "[stack", 6) ||
	    !strncmp(name, "/SYSV", 5) || !strcmp(name, "[heap]") || name[0] == '[' ||
	    !strncmp(name, "//", 2))
		return PYPERF_DSO_ANON;
	return PYPERF_DSO_ELF;
}

struct pyperf_dso *symbols_add_dso(struct pyperf_symbols *s, const char *name,
				   enum pyperf_dso_kind kind, const uint8_t *bid, uint8_t bid_size)
{
	uint64_t key = dso_key(name, bid, bid_size);
	struct pyperf_dso *d;
	size_t j;
	int pid;

	if ((s->nr_dsos + 1) * 2 > s->slots_cap &&
	    dsos_rehash(s, s->slots_cap ? s->slots_cap * 2 : 64))
		return NULL;
	for (j = key & (s->slots_cap - 1); s->slots[j]; j = (j + 1) & (s->slots_cap - 1)) {
		d = s->dsos[s->slots[j] - 1];
		if (d->key == key && dso_matches(d, name, bid, bid_size))
			return d;
	}
	if (PP_GROW(s->dsos, s->cap_dsos, s->nr_dsos + 1))
		return NULL;
	d = pp_calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	d->owner = s;
	d->index = (uint32_t)s->nr_dsos;
	d->kind = kind;
	d->key = key;
	symtab_init(&d->tab);
	d->name = pp_strdup(name);
	if (kind == PYPERF_DSO_PERF_MAP && perf_map_pid(name, &pid)) {
		char buf[64];

		snprintf(buf, sizeof(buf), "[JIT] tid %d", pid);
		d->short_name = pp_strdup(buf);
	} else {
		d->short_name = pp_strdup(base_name(name));
	}
	if (!d->name || !d->short_name) {
		dso_free(d);
		return NULL;
	}
	if (bid_size) {
		memcpy(d->bid, bid, bid_size);
		d->bid_size = bid_size;
	}
	if (kind == PYPERF_DSO_ANON || kind == PYPERF_DSO_UNKNOWN)
		d->loaded = true; /* nothing to load */
	s->dsos[s->nr_dsos] = d;
	s->slots[j] = (uint32_t)++s->nr_dsos;
	return d;
}

PYPERF_API struct pyperf_dso *pyperf_symbols__findnew_dso(struct pyperf_symbols *s,
							  const char *filename,
							  const struct pyperf_build_id *bid)
{
	enum pyperf_dso_kind kind = kind_for(filename);
	struct pyperf_dso *d;

	/* Build ids only tell ELF files apart. */
	if (kind != PYPERF_DSO_ELF)
		bid = NULL;
	d = symbols_add_dso(s, filename, kind, bid ? bid->id : NULL, bid ? bid->size : 0);
	if (!d)
		errno = ENOMEM;
	return d;
}

PYPERF_API struct pyperf_dso *pyperf_symbols__bpf_dso(struct pyperf_symbols *s, const char *name,
						      uint64_t addr, uint64_t len)
{
	struct pyperf_dso *d = symbols_add_dso(s, name, PYPERF_DSO_BPF, NULL, 0);

	if (!d)
		return NULL;
	if (!d->loaded) {
		if (symtab_add(&d->tab, addr, addr + len, name, strlen(name)) ||
		    symtab_finish(&d->tab, SYMTAB_LAST_WINS))
			return NULL;
		d->loaded = true;
	}
	return d;
}

/* ---- getters ----------------------------------------------------------------- */

PYPERF_API const char *pyperf_dso__name(const struct pyperf_dso *d)
{
	return d->name;
}

PYPERF_API const char *pyperf_dso__short_name(const struct pyperf_dso *d)
{
	return d->short_name;
}

PYPERF_API enum pyperf_dso_kind pyperf_dso__kind(const struct pyperf_dso *d)
{
	return d->kind;
}

PYPERF_API bool pyperf_symbol__is_python(const struct pyperf_symbol *sym)
{
	return sym && !strncmp(sym->name, "py::", 4);
}

/* ---- ELF ----------------------------------------------------------------------- */

struct elf_file {
	int fd;
	Elf *elf;
	GElf_Ehdr ehdr;
	Elf_Scn *symtab, *dynsym;
	GElf_Shdr symtab_shdr, dynsym_shdr;
	size_t symtab_idx, dynsym_idx;
	char path[PATH_MAX];
};

static void elf_file_close(struct elf_file *f)
{
	if (f->elf)
		elf_end(f->elf);
	if (f->fd >= 0)
		close(f->fd);
	f->elf = NULL;
	f->fd = -1;
}

static Elf_Scn *section_by_name(Elf *elf, const GElf_Ehdr *ehdr, const char *name, GElf_Shdr *shdr,
				size_t *idx)
{
	Elf_Scn *scn = NULL;
	size_t shstrndx;

	if (elf_getshdrstrndx(elf, &shstrndx))
		return NULL;
	(void)ehdr;
	while ((scn = elf_nextscn(elf, scn))) {
		const char *n;

		if (!gelf_getshdr(scn, shdr))
			continue;
		n = elf_strptr(elf, shstrndx, shdr->sh_name);
		if (n && !strcmp(n, name)) {
			if (idx)
				*idx = elf_ndxscn(scn);
			return scn;
		}
	}
	return NULL;
}

static int elf_build_id(Elf *elf, uint8_t out[20])
{
	Elf_Scn *scn = NULL;
	GElf_Shdr shdr;

	while ((scn = elf_nextscn(elf, scn))) {
		Elf_Data *data;
		size_t off = 0, name_off, desc_off;
		GElf_Nhdr nhdr;

		if (!gelf_getshdr(scn, &shdr) || shdr.sh_type != SHT_NOTE)
			continue;
		data = elf_getdata(scn, NULL);
		if (!data || !data->d_buf)
			continue;
		while ((off = gelf_getnote(data, off, &nhdr, &name_off, &desc_off)) > 0) {
			if (nhdr.n_type == NT_GNU_BUILD_ID && nhdr.n_namesz == 4 &&
			    !memcmp((char *)data->d_buf + name_off, "GNU", 4) &&
			    nhdr.n_descsz > 0) {
				size_t n = nhdr.n_descsz > 20 ? 20 : nhdr.n_descsz;

				memset(out, 0, 20);
				memcpy(out, (char *)data->d_buf + desc_off, n);
				return (int)n;
			}
		}
	}
	return -ENODATA;
}

PYPERF_API int pyperf_read_build_id(const char *path, uint8_t out[20])
{
	int fd, ret;
	Elf *elf = pyperf_elf_open(path, &fd);

	if (!elf)
		return pyperf_err(-errno);
	if (elf_kind(elf) != ELF_K_ELF) {
		elf_end(elf);
		close(fd);
		return pyperf_err(-EBADMSG);
	}
	ret = elf_build_id(elf, out);
	elf_end(elf);
	close(fd);
	return pyperf_err(ret);
}

static bool is_regular(const char *path)
{
	struct stat st;

	return !stat(path, &st) && S_ISREG(st.st_mode);
}

/* Opens @path as ELF; checks the build id against the dso's when known. */
static bool elf_file_open(struct elf_file *f, const char *path, const struct pyperf_dso *d)
{
	memset(f, 0, sizeof(*f));
	f->elf = pyperf_elf_open(path, &f->fd);
	if (!f->elf || elf_kind(f->elf) != ELF_K_ELF || !gelf_getehdr(f->elf, &f->ehdr))
		goto fail;
	if (d->bid_size) {
		uint8_t id[20];
		int n = elf_build_id(f->elf, id);

		if (n != d->bid_size || memcmp(id, d->bid, n))
			goto fail;
	}
	snprintf(f->path, sizeof(f->path), "%s", path);
	f->symtab = section_by_name(f->elf, &f->ehdr, ".symtab", &f->symtab_shdr, &f->symtab_idx);
	if (f->symtab && f->symtab_shdr.sh_type != SHT_SYMTAB)
		f->symtab = NULL;
	f->dynsym = section_by_name(f->elf, &f->ehdr, ".dynsym", &f->dynsym_shdr, &f->dynsym_idx);
	if (f->dynsym && f->dynsym_shdr.sh_type != SHT_DYNSYM)
		f->dynsym = NULL;
	return true;
fail:
	elf_file_close(f);
	return false;
}

/* The PT_LOAD segment holding @vaddr, as perf's elf_read_program_header(). */
static bool load_segment(Elf *elf, uint64_t vaddr, GElf_Phdr *out)
{
	size_t n;

	if (elf_getphdrnum(elf, &n))
		return false;
	for (size_t i = 0; i < n; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_LOAD)
			continue;
		if (vaddr >= ph.p_vaddr && vaddr < ph.p_vaddr + ph.p_memsz) {
			*out = ph;
			return true;
		}
	}
	return false;
}

static bool sym_is_function(const GElf_Sym *s)
{
	int t = GELF_ST_TYPE(s->st_info);

	return (t == STT_FUNC || t == STT_GNU_IFUNC) && s->st_name && s->st_shndx != SHN_UNDEF;
}

static bool sym_is_object(const GElf_Sym *s)
{
	return GELF_ST_TYPE(s->st_info) == STT_OBJECT && s->st_name && s->st_shndx != SHN_UNDEF;
}

static bool sym_is_label(const GElf_Sym *s)
{
	int vis = GELF_ST_VISIBILITY(s->st_other);

	return GELF_ST_TYPE(s->st_info) == STT_NOTYPE && s->st_name && s->st_shndx != SHN_UNDEF &&
	       s->st_shndx != SHN_ABS && vis != STV_HIDDEN && vis != STV_INTERNAL;
}

/* Adds the symbols of one table (.symtab or .dynsym) of @syms_f. */
static int load_elf_table(struct pyperf_dso *d, struct elf_file *syms_f, struct elf_file *run_f,
			  bool dynsym)
{
	Elf_Scn *sec = dynsym ? syms_f->dynsym : syms_f->symtab;
	GElf_Shdr *shdr = dynsym ? &syms_f->dynsym_shdr : &syms_f->symtab_shdr;
	size_t shstrndx_sym, shstrndx_run, nr;
	Elf_Data *data, *strs;
	Elf_Scn *strscn;
	int added = 0;

	if (!sec || !shdr->sh_entsize)
		return 0;
	data = elf_getdata(sec, NULL);
	strscn = elf_getscn(syms_f->elf, shdr->sh_link);
	strs = strscn ? elf_getdata(strscn, NULL) : NULL;
	if (!data || !data->d_buf || !strs || !strs->d_buf)
		return 0;
	if (elf_getshdrstrndx(syms_f->elf, &shstrndx_sym) ||
	    elf_getshdrstrndx(run_f->elf, &shstrndx_run))
		return 0;
	nr = shdr->sh_size / shdr->sh_entsize;
	for (size_t i = 0; i < nr; i++) {
		GElf_Sym sym;
		GElf_Shdr sh;
		GElf_Phdr ph;
		Elf_Scn *ssec;
		const char *name, *secname;
		bool label;
		size_t strndx = shstrndx_sym;
		uint64_t value;

		if (!gelf_getsym(data, (int)i, &sym))
			continue;
		label = sym_is_label(&sym);
		if (!label && !sym_is_function(&sym) && !sym_is_object(&sym))
			continue;
		if (sym.st_shndx == SHN_ABS || sym.st_shndx >= SHN_LORESERVE)
			continue;
		if (sym.st_name >= strs->d_size)
			continue;
		name = (const char *)strs->d_buf + sym.st_name;
		if (!memchr(name, 0, strs->d_size - sym.st_name))
			continue;
		ssec = elf_getscn(syms_f->elf, sym.st_shndx);
		if (!ssec || !gelf_getshdr(ssec, &sh))
			continue;
		/* Not loaded at run time (.gnu.warning.*): never executed. */
		if (!(sh.sh_flags & SHF_ALLOC))
			continue;
		/* Debug files keep section headers but not contents (NOBITS):
		 * the running file's header has the real offsets. */
		if (sh.sh_type == SHT_NOBITS && run_f != syms_f) {
			ssec = elf_getscn(run_f->elf, sym.st_shndx);
			if (!ssec || !gelf_getshdr(ssec, &sh))
				continue;
			strndx = shstrndx_run;
		}
		if (label) {
			secname = elf_strptr(strndx == shstrndx_run ? run_f->elf : syms_f->elf,
					     strndx, sh.sh_name);
			if (!secname || !strstr(secname, "text"))
				continue;
		}
		/* Symbols are kept as file offsets, the space perf's map_ip
		 * turns sample addresses into. */
		value = sym.st_value;
		if (load_segment(run_f->elf, value, &ph))
			value -= ph.p_vaddr - ph.p_offset;
		else
			value -= sh.sh_addr - sh.sh_offset;
		if (symtab_add_elf(&d->tab, value, value + sym.st_size, name,
				   GELF_ST_BIND(sym.st_info), GELF_ST_TYPE(sym.st_info)))
			return -ENOMEM;
		added++;
	}
	if (added)
		symtab_fixup_perf(&d->tab, false);
	return added;
}

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
static void synthesize_plt_got(struct pyperf_dso *d, struct elf_file *f)
{
	GElf_Shdr sh, rsh, dsh;
	Elf_Scn *scn = section_by_name(f->elf, &f->ehdr, ".plt.got", &sh, NULL);
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
	rscn = section_by_name(f->elf, &f->ehdr, ".rela.dyn", &rsh, NULL);
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
static void synthesize_plt(struct pyperf_dso *d, struct elf_file *f)
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

	if (!section_by_name(f->elf, &f->ehdr, ".plt", &plt, NULL))
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
	synthesize_plt_got(d, f);
	if (section_by_name(f->elf, &f->ehdr, ".plt.sec", &sec, NULL)) {
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
	rscn = section_by_name(f->elf, &f->ehdr, ".rela.plt", &rel, NULL);
	if (!rscn)
		rscn = section_by_name(f->elf, &f->ehdr, ".rel.plt", &rel, NULL);
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

				if (load_segment(f->elf, a, &ph)) {
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

/* .gnu_debuglink: the name of a separate debug file. */
static bool debuglink(struct elf_file *f, char *out, size_t size)
{
	GElf_Shdr sh;
	Elf_Scn *scn = section_by_name(f->elf, &f->ehdr, ".gnu_debuglink", &sh, NULL);
	Elf_Data *data;

	if (!scn || sh.sh_type == SHT_NOBITS)
		return false;
	data = elf_getdata(scn, NULL);
	if (!data || !data->d_buf || !data->d_size || !memchr(data->d_buf, 0, data->d_size))
		return false;
	snprintf(out, size, "%s", (const char *)data->d_buf);
	return out[0] != 0;
}

static void bid_hex(const struct pyperf_dso *d, char *out)
{
	for (int i = 0; i < d->bid_size; i++)
		sprintf(out + 2 * i, "%02x", d->bid[i]);
	out[2 * d->bid_size] = 0;
}

/* What a table is saved under (symcache.h), and what it keeps beside.
 * Loaders take NULL when tables are not saved. */
struct table_key {
	char text[16384];
	size_t len;
	char aux[2 * PATH_MAX + 16];
};

/* Where load_elf() looks for files: perf's order (see elf_candidate). */
struct elf_search {
	char main_path[PATH_MAX];
	char link[256]; /* .gnu_debuglink of the main file */
	char hex[41];	/* the build id */
	bool have_link;
};

/*
 * Candidate @step in perf's order: the .gnu_debuglink target, perf's
 * build-id cache, /usr/lib/debug by build id and by path, then the file
 * itself. False when the step does not apply.
 */
static bool elf_candidate(const struct pyperf_dso *d, const struct elf_search *es, int step,
			  char *cand, size_t size)
{
	const struct pyperf_symbols *s = d->owner;
	char dir[PATH_MAX];
	char *slash;

	cand[0] = 0;
	snprintf(dir, sizeof(dir), "%s", es->main_path);
	slash = strrchr(dir, '/');
	if (slash)
		*slash = 0;
	switch (step) {
	case 0:
		if (es->have_link)
			snprintf(cand, size, "%s/%s", dir, es->link);
		break;
	case 1:
		if (es->have_link)
			snprintf(cand, size, "%s/.debug/%s", dir, es->link);
		break;
	case 2:
		if (es->have_link)
			snprintf(cand, size, "%s/usr/lib/debug%s/%s", s->symfs,
				 dir + strlen(s->symfs), es->link);
		break;
	case 3:
		if (d->bid_size && s->buildid_dir[0])
			snprintf(cand, size, "%s/.build-id/%.2s/%s/elf", s->buildid_dir, es->hex,
				 es->hex + 2);
		break;
	case 4:
		if (d->bid_size && s->buildid_dir[0])
			snprintf(cand, size, "%s/.build-id/%.2s/%s/debug", s->buildid_dir, es->hex,
				 es->hex + 2);
		break;
	case 5:
		snprintf(cand, size, "%s/usr/lib/debug%s.debug", s->symfs, d->name);
		break;
	case 6:
		snprintf(cand, size, "%s/usr/lib/debug%s", s->symfs, d->name);
		break;
	case 7:
		if (d->bid_size)
			snprintf(cand, size, "%s/usr/lib/debug/.build-id/%.2s/%s.debug", s->symfs,
				 es->hex, es->hex + 2);
		break;
	case 8:
		snprintf(cand, size, "%s", es->main_path);
		break;
	}
	return cand[0] != 0;
}
#define ELF_CANDIDATES 9

/*
 * The key of an ELF file's table: every file the search could pick, with
 * its identity and time (or its absence), so that installing a debug file
 * or upgrading the library is a miss.
 */
static bool elf_table_key(const struct pyperf_dso *d, const struct elf_search *es,
			  struct table_key *k)
{
	char cand[PATH_MAX];

	k->len = 0;
	symcache_key_add(k->text, sizeof(k->text), &k->len,
			 "elf 1\nsymfs %s\nbuild-id cache %s\nname %s\nbuild id %s\nlink %s\n",
			 d->owner->symfs, d->owner->buildid_dir, d->name,
			 d->bid_size ? es->hex : "-", es->have_link ? es->link : "-");
	for (int step = 0; step < ELF_CANDIDATES; step++)
		if (elf_candidate(d, es, step, cand, sizeof(cand)))
			symcache_key_file(k->text, sizeof(k->text), &k->len, cand);
	return k->len < sizeof(k->text);
}

/* A saved table of the file: its paths are kept in the aux text. */
static int load_elf_saved(struct pyperf_dso *d, struct table_key *k)
{
	const char *aux, *nl;

	if (!symcache_load(d->owner->table_cache, k->text, k->len, &d->tab, &aux))
		return -1;
	/* "run PATH\ndebug PATH\n", either may be empty */
	nl = strchr(aux, '\n');
	if (!strncmp(aux, "run ", 4) && nl && nl > aux + 4 &&
	    !(d->run_path = pp_strndup(aux + 4, (size_t)(nl - aux - 4))))
		d->tab.nomem = true;
	if (nl && !strncmp(nl + 1, "debug ", 6) && nl[7] && nl[7] != '\n' &&
	    !(d->debug_path = pp_strndup(nl + 7, strcspn(nl + 7, "\n"))))
		d->tab.nomem = true;
	d->owner->stats.tables_mapped++;
	k->len = 0; /* nothing to save */
	return (int)d->tab.nr;
}

/*
 * The recorded build id is nowhere, but the file at the recorded path is
 * there: rebuilt or upgraded since. Its frames stay addresses; say why
 * once, and what keeps them next time.
 */
static void warn_build_id_mismatch(const struct pyperf_dso *d, const struct elf_search *es)
{
	uint8_t id[20];
	char now[41];
	int n = pyperf_read_build_id(es->main_path, id);

	if (n <= 0 || (n == d->bid_size && !memcmp(id, d->bid, (size_t)n)))
		return;
	for (int i = 0; i < n; i++)
		snprintf(now + 2 * i, 3, "%02x", id[i]);
	d->owner->stats.build_id_mismatches++;
	pr_warn("%s: build id %s in the recording, %s on disk (rebuilt since?), and not in the "
		"build-id cache %s: its frames stay unresolved. pyperf-record and perf record keep "
		"a copy there ('perf buildid-cache -a FILE' adds one)\n",
		es->main_path, es->hex, now,
		d->owner->buildid_dir[0] ? d->owner->buildid_dir : "(none)");
}

/*
 * The first candidate with .symtab supplies symbols, the first with
 * .dynsym is the "runtime" file that has the real program and section
 * headers.
 */
static int load_elf(struct pyperf_dso *d, struct table_key *k)
{
	struct pyperf_symbols *s = d->owner;
	struct elf_search es = {0};
	char cand[PATH_MAX];
	struct elf_file files[2], probe, *syms_f = NULL, *run_f = NULL;
	int nfiles = 0, added = 0;

	snprintf(es.main_path, sizeof(es.main_path), "%s%s", s->symfs, d->name);
	/* Without a recorded build id, the file's own finds its debug file. */
	if (!d->bid_size) {
		uint8_t id[20];
		int n = pyperf_read_build_id(es.main_path, id);

		if (n > 0) {
			memcpy(d->bid, id, n);
			d->bid_size = (uint8_t)n;
		}
	}
	if (d->bid_size)
		bid_hex(d, es.hex);
	if (elf_file_open(&probe, es.main_path, d)) {
		es.have_link = debuglink(&probe, es.link, sizeof(es.link));
		elf_file_close(&probe);
	}
	if (k)
		k->len = 0;
	if (k && elf_table_key(d, &es, k)) {
		int n = load_elf_saved(d, k);

		if (n >= 0)
			return n;
	}

	/* libelf reports a failed allocation as no file or no table; the
	 * errno of the failed malloc or mmap tells it apart */
	errno = 0;
	for (int step = 0; step < ELF_CANDIDATES && !(syms_f && run_f); step++) {
		if (!elf_candidate(d, &es, step, cand, sizeof(cand)))
			continue;
		if (!elf_file_open(&files[nfiles], cand, d))
			continue;
		bool used = false;
		if (!syms_f && files[nfiles].symtab) {
			syms_f = &files[nfiles];
			used = true;
		}
		if (!run_f && files[nfiles].dynsym) {
			run_f = &files[nfiles];
			used = true;
		}
		if (used)
			nfiles++;
		else
			elf_file_close(&files[nfiles]);
	}
	if (!syms_f)
		syms_f = run_f;
	if (!run_f)
		run_f = syms_f;
	if (!run_f && d->bid_size)
		warn_build_id_mismatch(d, &es);
	if (run_f && !(d->run_path = pp_strdup(run_f->path)))
		d->tab.nomem = true;
	if (syms_f && syms_f != run_f && !(d->debug_path = pp_strdup(syms_f->path)))
		d->tab.nomem = true;
	if (syms_f) {
		int n;

		n = load_elf_table(d, syms_f, run_f, false);
		if (n > 0)
			added += n;
		n = load_elf_table(d, syms_f, run_f, true);
		if (n > 0)
			added += n;
		if (added > 0)
			synthesize_plt(d, run_f);
	}
	if (errno == ENOMEM)
		d->tab.nomem = true;
	for (int i = 0; i < nfiles; i++)
		elf_file_close(&files[i]);
	if (!k)
		return added;
	snprintf(k->aux, sizeof(k->aux), "run %s\ndebug %s\n", d->run_path ? d->run_path : "",
		 d->debug_path ? d->debug_path : "");
	if ((d->run_path && strchr(d->run_path, '\n')) ||
	    (d->debug_path && strchr(d->debug_path, '\n')))
		k->len = 0; /* the aux text could not say it back */
	return added;
}

/* ---- vdso ---------------------------------------------------------------------------- */

/*
 * The vdso image is the same for every process of a kernel: read our own
 * (perf does the same, or uses the copy in its build-id cache).
 */
static int load_vdso(struct pyperf_dso *d)
{
	struct pyperf_symbols *s = d->owner;
	unsigned long base = getauxval(AT_SYSINFO_EHDR);
	struct elf_file f;
	char path[PATH_MAX];
	Elf *elf;
	int added;

	if (d->bid_size && s->buildid_dir[0]) {
		char hex[41];

		bid_hex(d, hex);
		snprintf(path, sizeof(path), "%s/[vdso]/%s/vdso", s->buildid_dir, hex);
		if (elf_file_open(&f, path, d)) {
			added = load_elf_table(d, &f, &f, false);
			added += MAX(0, load_elf_table(d, &f, &f, true));
			elf_file_close(&f);
			if (added > 0)
				return added;
		}
	}
	if (!base)
		return 0;
	/* The image is a page-aligned ELF; its size is its section headers' end. */
	{
		const Elf64_Ehdr *eh = (const Elf64_Ehdr *)base;
		size_t size = eh->e_shoff + (size_t)eh->e_shnum * eh->e_shentsize;

		elf = elf_memory((char *)base, size);
	}
	if (!elf)
		return 0;
	memset(&f, 0, sizeof(f));
	f.fd = -1;
	f.elf = elf;
	if (!gelf_getehdr(elf, &f.ehdr)) {
		elf_end(elf);
		return 0;
	}
	f.symtab = section_by_name(elf, &f.ehdr, ".symtab", &f.symtab_shdr, &f.symtab_idx);
	if (f.symtab && f.symtab_shdr.sh_type != SHT_SYMTAB)
		f.symtab = NULL;
	f.dynsym = section_by_name(elf, &f.ehdr, ".dynsym", &f.dynsym_shdr, &f.dynsym_idx);
	if (f.dynsym && f.dynsym_shdr.sh_type != SHT_DYNSYM)
		f.dynsym = NULL;
	added = MAX(0, load_elf_table(d, &f, &f, false));
	added += MAX(0, load_elf_table(d, &f, &f, true));
	elf_end(elf);
	return added;
}

/* ---- kallsyms ------------------------------------------------------------------------ */

static bool kallsyms_type_kept(char t)
{
	t = (char)(t & ~0x20); /* upper case */
	return t == 'T' || t == 'W' || t == 'D' || t == 'B';
}

/* Reads the running kernel's build id from /sys/kernel/notes. */
static int running_kernel_build_id(uint8_t out[20])
{
	uint8_t buf[4096];
	ssize_t n;
	size_t off = 0;
	int fd = open("/sys/kernel/notes", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n <= 0)
		return -EIO;
	while (off + 12 <= (size_t)n) {
		uint32_t namesz = load_u32(buf + off), descsz = load_u32(buf + off + 4);
		uint32_t type = load_u32(buf + off + 8);
		size_t name_off = off + 12, desc_off = name_off + ALIGN_UP(namesz, 4);

		if (desc_off + descsz > (size_t)n)
			break;
		if (type == NT_GNU_BUILD_ID && namesz == 4 && !memcmp(buf + name_off, "GNU", 4)) {
			size_t k = descsz > 20 ? 20 : descsz;

			memcpy(out, buf + desc_off, k);
			return (int)k;
		}
		off = desc_off + ALIGN_UP(descsz, 4);
	}
	return -ENODATA;
}

/* Which kallsyms file describes the recorded kernel, or NULL. */
static const char *pick_kallsyms(struct pyperf_dso *d, char *buf, size_t size)
{
	struct pyperf_symbols *s = d->owner;
	struct utsname u;
	uint8_t id[20];
	int n;

	if (s->kallsyms)
		return s->kallsyms;
	if (d->bid_size && s->buildid_dir[0]) {
		char hex[41];

		bid_hex(d, hex);
		snprintf(buf, size, "%s/[kernel.kallsyms]/%s/kallsyms", s->buildid_dir, hex);
		if (is_regular(buf))
			return buf;
		n = running_kernel_build_id(id);
		if (n == d->bid_size && !memcmp(id, d->bid, n))
			return "/proc/kallsyms";
		return NULL;
	}
	/* No build id recorded: trust the release string. */
	if (d->osrelease[0] && (uname(&u) || strcmp(u.release, d->osrelease)))
		return NULL;
	return "/proc/kallsyms";
}

/* Appends a hash and the length of what @path reads to the key; a file
 * that does not exist (/proc/modules of a kernel without modules) is a
 * fact of the key too. */
static bool key_add_contents(struct table_key *k, const char *path)
{
	char buf[16384];
	uint64_t h = HASH_SEED;
	size_t total = 0;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		if (errno != ENOENT)
			return false;
		symcache_key_add(k->text, sizeof(k->text), &k->len, "%s absent\n", path);
		return true;
	}
	while ((n = read(fd, buf, sizeof(buf))) > 0 || (n < 0 && errno == EINTR)) {
		if (n < 0)
			continue;
		h = hash_bytes(buf, (size_t)n, h);
		total += (size_t)n;
	}
	close(fd);
	if (n < 0)
		return false;
	symcache_key_add(k->text, sizeof(k->text), &k->len, "%s %016llx %zu\n", path,
			 (unsigned long long)h, total);
	return true;
}

/*
 * The key of a kallsyms table. /proc/kallsyms changes with the boot and
 * the loaded modules (and their addresses, in /proc/modules); a copy in a
 * file changes with the file.
 */
static bool kallsyms_table_key(const char *path, struct table_key *k)
{
	k->len = 0;
	symcache_key_add(k->text, sizeof(k->text), &k->len, "kallsyms 1\n");
	if (strcmp(path, "/proc/kallsyms")) {
		symcache_key_file(k->text, sizeof(k->text), &k->len, path);
	} else {
		if (!key_add_contents(k, "/proc/sys/kernel/random/boot_id") ||
		    !key_add_contents(k, "/proc/modules") ||
		    !key_add_contents(k, "/proc/sys/kernel/kptr_restrict"))
			return false;
		symcache_key_add(k->text, sizeof(k->text), &k->len, "euid %d\n", (int)geteuid());
	}
	snprintf(k->aux, sizeof(k->aux), "kallsyms %s\n", path);
	return k->len < sizeof(k->text);
}

static int load_kallsyms(struct pyperf_dso *d, struct table_key *k)
{
	char pathbuf[PATH_MAX], line[1024];
	const char *path, *aux;
	FILE *f;
	int added = 0, fd;

	if (k)
		k->len = 0;
	if (d->owner->no_kernel)
		return 0;
	path = pick_kallsyms(d, pathbuf, sizeof(pathbuf));
	if (!path) {
		pr_warn("no kernel symbols for the recorded kernel (build id not in "
			"%s/[kernel.kallsyms] "
			"and not the running kernel); kernel frames stay unresolved\n",
			d->owner->buildid_dir);
		return 0;
	}
	if (k && !kallsyms_table_key(path, k))
		k->len = 0; /* half a key would save a table no run can find */
	if (k && k->len && symcache_load(d->owner->table_cache, k->text, k->len, &d->tab, &aux)) {
		d->owner->stats.tables_mapped++;
		k->len = 0;
		return (int)d->tab.nr;
	}
	/* a file named on the command line or in the build-id cache: it may
	 * be anyone's, but a FIFO there must not hang the report */
	fd = pyperf_open_untrusted(path, PP_OPEN_FOLLOW | PP_OPEN_ANY_OWNER, NULL, NULL);
	f = fd >= 0 ? fdopen(fd, "r") : NULL;
	if (!f) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	while (fgets(line, sizeof(line), f)) {
		char *end, *name;
		uint64_t addr = strtoull(line, &end, 16);
		char type;
		size_t len;

		if (end == line || *end != ' ' || !end[1] || end[2] != ' ')
			continue;
		type = end[1];
		if (!kallsyms_type_kept(type))
			continue;
		name = end + 3;
		len = strcspn(name, "\n");
		name[len] = 0;
		if (!len)
			continue;
		if (symtab_add_elf(
			&d->tab, addr, addr, name, (type >= 'a') ? STB_LOCAL : STB_GLOBAL,
			(type == 't' || type == 'T' || type == 'w' || type == 'W') ? STT_FUNC
										   : STT_OBJECT))
			break; /* the table says it (nomem) */
		added++;
	}
	fclose(f);
	symtab_fixup_perf(&d->tab, true);
	/* Addresses hidden (kptr_restrict) read as 0 and fold into one
	 * symbol: not worth keeping. */
	if (k && d->tab.nr < 1000)
		k->len = 0;
	/* Module symbols read "name\t[module]" until sized; keep the name. */
	for (size_t i = 0; i < d->tab.nr; i++) {
		char *tab = strchr(d->tab.syms[i].name, '\t');

		if (tab)
			*tab = 0;
	}
	return added;
}

/* ---- loading and lookup -------------------------------------------------------------- */

static void jit_path(const struct pyperf_dso *d, char *path, size_t size)
{
	int pid = 0;

	perf_map_pid(d->name, &pid);
	snprintf(path, size, "/tmp/jit-%d.dump", pid);
}

/* A perf map or jitdump not read: counted, said once per dso, and an
 * allocation failure remembered as the error it is. */
static void jit_file_refused(struct pyperf_dso *d, const struct pyperf_error *err)
{
	if (err->code == -ENOMEM) {
		d->owner->stats.alloc_failures++;
	} else if (err->code != -ENOENT && !d->refusal_said) {
		d->owner->stats.perf_maps_refused++;
		d->refusal_said = true;
		pr_warn("%s %s\n", err->source, err->text);
	}
}

/* Reads /tmp/jit-PID.dump for the perf-map dso @d, in place of any jitdump
 * it had. Returns its number of code regions, 0 when not read. */
static int load_jitdump_file(struct pyperf_dso *d)
{
	char path[64];
	struct pyperf_error err;
	struct stat st;
	struct jitdump *j;

	jit_path(d, path, sizeof(path));
	j = jitdump_load(path, d->owner->force, &st, &err);
	if (!j) {
		jit_file_refused(d, &err);
		return 0;
	}
	jitdump_free(d->jitdump);
	d->jitdump = j;
	d->jitdump_size = (uint64_t)st.st_size;
	d->jitdump_mtime = st.st_mtim;
	return (int)jitdump_symtab(j)->nr;
}

/* Reads the perf map of @d in place of what it had: its number of
 * entries, 0 when not read. */
static int load_perf_map_file(struct pyperf_dso *d)
{
	struct pyperf_error err;
	struct pyperf_map_table *t;
	PYPERF_OPTS(pyperf_map_load_opts, mo, .force = d->owner->force);

	t = pyperf_map_table__load(d->name, &mo, &err);
	if (!t) {
		jit_file_refused(d, &err);
		return 0;
	}
	pyperf_map_table__free(d->perf_map);
	d->perf_map = t;
	d->owner->stats.perf_map_bad_lines += pyperf_map_table__bad_lines(t);
	/* the size read, not a later one: the file may still grow */
	d->perf_map_size = pyperf_map_table__bytes(t);
	return (int)pyperf_map_table__size(t);
}

static bool ts_after(struct timespec a, struct timespec b)
{
	return a.tv_sec > b.tv_sec || (a.tv_sec == b.tv_sec && a.tv_nsec > b.tv_nsec);
}

/* Whether /tmp/jit-PID.dump exists and was written after the perf map. */
static bool jitdump_is_newer(const struct pyperf_dso *d)
{
	char path[64];
	struct stat jst, mst;

	jit_path(d, path, sizeof(path));
	if (stat(path, &jst))
		return false;
	if (stat(d->name, &mst))
		return true;
	return ts_after(jst.st_mtim, mst.st_mtim);
}

static void dso_load(struct pyperf_dso *d)
{
	struct pyperf_symbols *s = d->owner;
	struct table_key *key = NULL;
	int n = 0;

	d->loaded = true;
	if ((d->kind == PYPERF_DSO_ELF || d->kind == PYPERF_DSO_KERNEL) && s->table_cache)
		key = pp_malloc(sizeof(*key));
	switch (d->kind) {
	case PYPERF_DSO_ELF:
		n = load_elf(d, key);
		break;
	case PYPERF_DSO_VDSO:
		n = load_vdso(d);
		break;
	case PYPERF_DSO_KERNEL:
		n = load_kallsyms(d, key);
		break;
	case PYPERF_DSO_PERF_MAP:
		/* A process writes a perf map or a jitdump (CPython 3.13
		 * -X perf_jit); /tmp keeps both kinds from dead processes with
		 * the same pid. When both are there, the one written last is
		 * the recorded process's. */
		if (jitdump_is_newer(d) && (n = load_jitdump_file(d)) > 0)
			break;
		n = load_perf_map_file(d);
		/* No perf map: the runtime may write a jitdump instead. */
		if (!n && !d->perf_map && !d->jitdump)
			n = load_jitdump_file(d);
		break;
	default:
		break;
	}
	if (d->kind != PYPERF_DSO_PERF_MAP && symtab_finish(&d->tab, SYMTAB_KEEP))
		n = 0;
	if (d->tab.nomem) {
		/* some symbols are missing: the report must not pass for whole */
		s->stats.alloc_failures++;
		n = 0;
	}
	if (key && key->len && n > 0) {
		if (symcache_store(s->table_cache, key->text, key->len, &d->tab, key->aux))
			s->stats.tables_saved++;
	}
	free(key);
	if (n > 0)
		s->stats.dsos_loaded++;
	else
		s->stats.dsos_without_symbols++;
}

void symbols_dso_load(struct pyperf_dso *d)
{
	if (!d->loaded)
		dso_load(d);
}

PYPERF_API int pyperf_dso__set_perf_map(struct pyperf_dso *d, const char *text, size_t len)
{
	struct pyperf_map_table *t = pyperf_map_table__parse(text, len);

	if (!t)
		return pyperf_err(-ENOMEM);
	pyperf_map_table__free(d->perf_map);
	d->perf_map = t;
	d->owner->stats.perf_map_bad_lines += pyperf_map_table__bad_lines(t);
	d->loaded = true;
	d->embedded = true;
	return 0;
}

PYPERF_API int pyperf_dso__set_jitdump(struct pyperf_dso *d, const void *data, size_t len)
{
	struct jitdump *j = jitdump_parse(data, len);

	if (!j)
		return pyperf_err(-EBADMSG);
	jitdump_free(d->jitdump);
	d->jitdump = j;
	pyperf_map_table__free(d->perf_map);
	d->perf_map = NULL;
	d->loaded = true;
	d->embedded = true;
	return 0;
}

struct Dwarf_CFI_s *symbols_jit_cfi(struct pyperf_dso *d)
{
	if (!d->loaded)
		dso_load(d);
	return d->jitdump ? (struct Dwarf_CFI_s *)jitdump_cfi(d->jitdump) : NULL;
}

bool symbols_refresh_perf_map(struct pyperf_dso *d)
{
	struct timespec ts;
	uint64_t now;
	struct stat st;
	char path[64];

	if (d->kind != PYPERF_DSO_PERF_MAP || d->embedded)
		return false;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
	if (now - d->perf_map_checked_ns < 5000000ULL)
		return false;
	d->perf_map_checked_ns = now;
	d->loaded = true;
	if (d->perf_map) {
		/* re-read when it grew */
		if (stat(d->name, &st) || (uint64_t)st.st_size == d->perf_map_size)
			return false;
		return load_perf_map_file(d) > 0;
	}
	jit_path(d, path, sizeof(path));
	if (d->jitdump) {
		/* re-read when it grew; a perf map of the same pid is another
		 * (dead) process's unless written after the jitdump */
		if (!stat(path, &st) && (uint64_t)st.st_size != d->jitdump_size)
			return load_jitdump_file(d) > 0;
		if (!stat(d->name, &st) && ts_after(st.st_mtim, d->jitdump_mtime) &&
		    load_perf_map_file(d) > 0) {
			jitdump_free(d->jitdump);
			d->jitdump = NULL;
			return true;
		}
		return false;
	}
	/* nothing yet: either may have appeared */
	if (jitdump_is_newer(d) && load_jitdump_file(d) > 0)
		return true;
	return !stat(d->name, &st) && load_perf_map_file(d) > 0;
}

PYPERF_API const struct pyperf_symbol *pyperf_dso__find_symbol(struct pyperf_dso *d, uint64_t addr)
{
	const struct pyperf_symbol *sym;

	if (unlikely(!d->loaded))
		dso_load(d);
	if (d->perf_map)
		return pyperf_map_table__find(d->perf_map, addr);
	if (d->jitdump)
		return symtab_find(jitdump_symtab(d->jitdump), addr);
	sym = symtab_find(&d->tab, addr);
	/* a mapped table makes the symbols it returns: that may fail */
	if (unlikely(!sym && d->tab.nomem))
		d->owner->stats.alloc_failures++;
	return sym;
}

PYPERF_API size_t pyperf_dso__nr_symbols(struct pyperf_dso *d)
{
	if (!d->loaded)
		dso_load(d);
	if (d->jitdump)
		return jitdump_symtab(d->jitdump)->nr;
	return d->perf_map ? pyperf_map_table__size(d->perf_map) : d->tab.nr;
}

PYPERF_API const struct pyperf_symbol *pyperf_dso__symbol(struct pyperf_dso *d, size_t idx)
{
	if (!d->loaded)
		dso_load(d);
	if (d->perf_map)
		return pyperf_map_table__entry(d->perf_map, idx);
	if (d->jitdump)
		return idx < jitdump_symtab(d->jitdump)->nr ? &jitdump_symtab(d->jitdump)->syms[idx]
							    : NULL;
	return idx < d->tab.nr ? symtab_at(&d->tab, idx) : NULL;
}

PYPERF_API struct pyperf_dso *pyperf_symbols__kernel_dso(struct pyperf_symbols *s,
							 const struct pyperf_build_id *bid,
							 const char *osrelease)
{
	struct pyperf_dso *d = symbols_add_dso(s, "[kernel.kallsyms]", PYPERF_DSO_KERNEL,
					       bid ? bid->id : NULL, bid ? bid->size : 0);

	if (!d) {
		errno = ENOMEM;
		return NULL;
	}
	if (osrelease && !d->osrelease[0])
		snprintf(d->osrelease, sizeof(d->osrelease), "%s", osrelease);
	return d;
}
