// SPDX-License-Identifier: MIT
/*
 * Symbols from ELF files (libelf): which file supplies them (the binary,
 * its debug file by build id or debuglink, perf's build-id cache, a
 * symfs), which symbols are kept and how they are sized, as perf's
 * symbol-elf.c does; tables saved in the symbol cache.
 */
#include <elfutils/libdwelf.h>
#include <errno.h>
#include <zlib.h>
#include "symbols_elf.h"

/* ---- ELF ----------------------------------------------------------------------- */

void pyperf_symbols_elf_file_close(struct elf_file *f)
{
	if (f->elf)
		elf_end(f->elf);
	if (f->fd >= 0)
		close(f->fd);
	f->elf = NULL;
	f->fd = -1;
}

Elf_Scn *pyperf_symbols_section_by_name(Elf *elf, const GElf_Ehdr *ehdr, const char *name,
					GElf_Shdr *shdr, size_t *idx)
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

/* The GNU build id note (libdw finds it in sections or segments). */
static int elf_build_id(Elf *elf, uint8_t out[20])
{
	const void *id;
	ssize_t n = dwelf_elf_gnu_build_id(elf, &id);

	if (n <= 0)
		return -ENODATA;
	memset(out, 0, 20);
	memcpy(out, id, n > 20 ? 20 : (size_t)n);
	return n > 20 ? 20 : (int)n;
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

bool pyperf_symbols_is_regular(const char *path)
{
	struct stat st;

	return !stat(path, &st) && S_ISREG(st.st_mode);
}

/* Opens @path as ELF; checks the build id against the dso's when known. */
bool pyperf_symbols_elf_file_open(struct elf_file *f, const char *path, const struct pyperf_dso *d)
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
	f->symtab = pyperf_symbols_section_by_name(f->elf, &f->ehdr, ".symtab", &f->symtab_shdr,
						   &f->symtab_idx);
	if (f->symtab && f->symtab_shdr.sh_type != SHT_SYMTAB)
		f->symtab = NULL;
	f->dynsym = pyperf_symbols_section_by_name(f->elf, &f->ehdr, ".dynsym", &f->dynsym_shdr,
						   &f->dynsym_idx);
	if (f->dynsym && f->dynsym_shdr.sh_type != SHT_DYNSYM)
		f->dynsym = NULL;
	return true;
fail:
	pyperf_symbols_elf_file_close(f);
	return false;
}

/* The PT_LOAD segment holding @vaddr, as perf's elf_read_program_header(). */
bool pyperf_symbols_load_segment(Elf *elf, uint64_t vaddr, GElf_Phdr *out)
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
int pyperf_symbols_load_elf_table(struct pyperf_dso *d, struct elf_file *syms_f,
				  struct elf_file *run_f, bool dynsym)
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
		if (pyperf_symbols_load_segment(run_f->elf, value, &ph))
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

/* .gnu_debuglink: the name of a separate debug file and its CRC-32. */
static bool debuglink(struct elf_file *f, char *out, size_t size, uint32_t *crc)
{
	GElf_Word c;
	const char *name = dwelf_elf_gnu_debuglink(f->elf, &c);

	if (!name || !name[0] || strlen(name) >= size)
		return false;
	memcpy(out, name, strlen(name) + 1);
	*crc = c;
	return true;
}

/*
 * Whether the file open at @fd has the CRC-32 the debug link names (zlib's
 * CRC is the one .gnu_debuglink uses). Only asked of files found by the
 * link's name alone: with a build id, the id already said it is the one.
 */
static bool crc_matches(int fd, uint32_t want)
{
	static const size_t chunk = 1 << 20;
	uint8_t *buf = malloc(chunk);
	uLong crc = crc32(0L, Z_NULL, 0);
	off_t off = 0;
	ssize_t n;

	if (!buf)
		return false;
	while ((n = pread(fd, buf, chunk, off)) > 0 || (n < 0 && errno == EINTR)) {
		if (n < 0)
			continue;
		crc = crc32(crc, buf, (uInt)n);
		off += n;
	}
	free(buf);
	return n == 0 && (uint32_t)crc == want;
}

void pyperf_symbols_bid_hex(const struct pyperf_dso *d, char *out)
{
	for (int i = 0; i < d->bid_size; i++)
		sprintf(out + 2 * i, "%02x", d->bid[i]);
	out[2 * d->bid_size] = 0;
}

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
#define ELF_LINK_CANDIDATES 3 /* steps 0-2 are found by the debug link */

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
int pyperf_symbols_load_elf(struct pyperf_dso *d, struct table_key *k)
{
	struct pyperf_symbols *s = d->owner;
	struct elf_search es = {0};
	char cand[PATH_MAX];
	struct elf_file files[2], probe, *syms_f = NULL, *run_f = NULL;
	int nfiles = 0, added = 0;
	/* libelf and libdw report a failed allocation as no file, no note or
	 * no table; the errno of the failed malloc or mmap tells it apart,
	 * noted after each step (a later open's ENOENT would overwrite it) */
	bool oom = false;

	errno = 0;
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
		pyperf_symbols_bid_hex(d, es.hex);
	if (pyperf_symbols_elf_file_open(&probe, es.main_path, d)) {
		es.have_link = debuglink(&probe, es.link, sizeof(es.link), &es.link_crc);
		pyperf_symbols_elf_file_close(&probe);
	}
	oom |= errno == ENOMEM;
	if (k)
		k->len = 0;
	if (k && elf_table_key(d, &es, k)) {
		int n = load_elf_saved(d, k);

		if (n >= 0)
			return n;
	}

	for (int step = 0; step < ELF_CANDIDATES && !(syms_f && run_f); step++) {
		if (!elf_candidate(d, &es, step, cand, sizeof(cand)))
			continue;
		errno = 0;
		if (!pyperf_symbols_elf_file_open(&files[nfiles], cand, d)) {
			oom |= errno == ENOMEM;
			continue;
		}
		if (step < ELF_LINK_CANDIDATES && !d->bid_size &&
		    !crc_matches(files[nfiles].fd, es.link_crc)) {
			oom |= errno == ENOMEM;
			pyperf_symbols_elf_file_close(&files[nfiles]);
			continue;
		}
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
			pyperf_symbols_elf_file_close(&files[nfiles]);
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

		n = pyperf_symbols_load_elf_table(d, syms_f, run_f, false);
		if (n > 0)
			added += n;
		n = pyperf_symbols_load_elf_table(d, syms_f, run_f, true);
		if (n > 0)
			added += n;
		if (added > 0)
			pyperf_symbols_synthesize_plt(d, run_f);
	}
	if (oom || errno == ENOMEM)
		d->tab.nomem = true;
	for (int i = 0; i < nfiles; i++)
		pyperf_symbols_elf_file_close(&files[i]);
	if (!k)
		return added;
	snprintf(k->aux, sizeof(k->aux), "run %s\ndebug %s\n", d->run_path ? d->run_path : "",
		 d->debug_path ? d->debug_path : "");
	if ((d->run_path && strchr(d->run_path, '\n')) ||
	    (d->debug_path && strchr(d->debug_path, '\n')))
		k->len = 0; /* the aux text could not say it back */
	return added;
}
