/* SPDX-License-Identifier: MIT */
/*
 * What the parts of the symbol loader share: symbols.c (the dso registry,
 * loading and lookup), symbols_elf.c (ELF files), symbols_plt.c (PLT
 * names) and symbols_kernel.c (vdso, kallsyms). Never installed.
 */
#ifndef PYPERF_SYMBOLS_ELF_H
#define PYPERF_SYMBOLS_ELF_H

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

/* An ELF file open for its symbols. */
struct elf_file {
	int fd;
	Elf *elf;
	GElf_Ehdr ehdr;
	Elf_Scn *symtab, *dynsym;
	GElf_Shdr symtab_shdr, dynsym_shdr;
	size_t symtab_idx, dynsym_idx;
	char path[PATH_MAX];
};

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
	char link[256];	   /* .gnu_debuglink of the main file */
	char hex[41];	   /* the build id */
	uint32_t link_crc; /* the CRC-32 the link names */
	bool have_link;
};

/* symbols_elf.c: ELF files */
bool pyperf_symbols_is_regular(const char *path);
bool pyperf_symbols_elf_file_open(struct elf_file *f, const char *path, const struct pyperf_dso *d);
void pyperf_symbols_elf_file_close(struct elf_file *f);
Elf_Scn *pyperf_symbols_section_by_name(Elf *elf, const GElf_Ehdr *ehdr, const char *name,
					GElf_Shdr *shdr, size_t *idx);
bool pyperf_symbols_load_segment(Elf *elf, uint64_t vaddr, GElf_Phdr *out);
int pyperf_symbols_load_elf_table(struct pyperf_dso *d, struct elf_file *syms_f,
				  struct elf_file *run_f, bool dynsym);
void pyperf_symbols_bid_hex(const struct pyperf_dso *d, char *out);
int pyperf_symbols_load_elf(struct pyperf_dso *d, struct table_key *k);

/* symbols_plt.c: PLT names */
void pyperf_symbols_synthesize_plt(struct pyperf_dso *d, struct elf_file *f);
void pyperf_symbols_synthesize_plt_got(struct pyperf_dso *d, struct elf_file *f);

/* symbols_kernel.c: the vdso and kallsyms */
int pyperf_symbols_load_vdso(struct pyperf_dso *d);
int pyperf_symbols_load_kallsyms(struct pyperf_dso *d, struct table_key *k);

#endif /* PYPERF_SYMBOLS_ELF_H */
