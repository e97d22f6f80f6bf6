// SPDX-License-Identifier: MIT
/*
 * Kernel-side symbols: the vdso image (read from our own process) and
 * kallsyms (a file, /proc/kallsyms, or the recorded kernel's).
 */
#include "symbols_elf.h"

/* ---- vdso ---------------------------------------------------------------------------- */

/*
 * The vdso image is the same for every process of a kernel: read our own
 * (perf does the same, or uses the copy in its build-id cache).
 */
int pyperf_symbols_load_vdso(struct pyperf_dso *d)
{
	struct pyperf_symbols *s = d->owner;
	unsigned long base = getauxval(AT_SYSINFO_EHDR);
	struct elf_file f;
	char path[PATH_MAX];
	Elf *elf;
	int added;

	if (d->bid_size && s->buildid_dir[0]) {
		char hex[41];

		pyperf_symbols_bid_hex(d, hex);
		snprintf(path, sizeof(path), "%s/[vdso]/%s/vdso", s->buildid_dir, hex);
		if (pyperf_symbols_elf_file_open(&f, path, d)) {
			added = pyperf_symbols_load_elf_table(d, &f, &f, false);
			added += MAX(0, pyperf_symbols_load_elf_table(d, &f, &f, true));
			pyperf_symbols_elf_file_close(&f);
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
	f.symtab =
	    pyperf_symbols_section_by_name(elf, &f.ehdr, ".symtab", &f.symtab_shdr, &f.symtab_idx);
	if (f.symtab && f.symtab_shdr.sh_type != SHT_SYMTAB)
		f.symtab = NULL;
	f.dynsym =
	    pyperf_symbols_section_by_name(elf, &f.ehdr, ".dynsym", &f.dynsym_shdr, &f.dynsym_idx);
	if (f.dynsym && f.dynsym_shdr.sh_type != SHT_DYNSYM)
		f.dynsym = NULL;
	added = MAX(0, pyperf_symbols_load_elf_table(d, &f, &f, false));
	added += MAX(0, pyperf_symbols_load_elf_table(d, &f, &f, true));
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
int pyperf_kernel_build_id(uint8_t out[20])
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

		pyperf_symbols_bid_hex(d, hex);
		snprintf(buf, size, "%s/[kernel.kallsyms]/%s/kallsyms", s->buildid_dir, hex);
		if (pyperf_symbols_is_regular(buf))
			return buf;
		n = pyperf_kernel_build_id(id);
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

int pyperf_symbols_load_kallsyms(struct pyperf_dso *d, struct table_key *k)
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
