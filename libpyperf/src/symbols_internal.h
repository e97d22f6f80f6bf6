/* SPDX-License-Identifier: MIT */
#ifndef PYPERF_SYMBOLS_INTERNAL_H
#define PYPERF_SYMBOLS_INTERNAL_H

#include <time.h>
#include <pyperf/symbols.h>
#include "internal.h"
#include "symtab.h"

struct pyperf_dso {
	struct pyperf_symbols *owner;
	enum pyperf_dso_kind kind;
	char *name;
	char *short_name;
	uint64_t key;
	uint32_t index; /* creation order */
	uint8_t bid[20];
	uint8_t bid_size;
	bool loaded;
	char osrelease[65]; /* kernel: the recorded release */
	struct symtab tab;
	struct pyperf_map_table *perf_map;
	struct jitdump *jitdump; /* JIT code named by a jitdump instead */
	uint64_t jitdump_size;
	struct timespec jitdump_mtime;
	char *run_path;		      /* the ELF file with the code (after load) */
	char *debug_path;	      /* the file symbols came from, if another */
	uint64_t perf_map_size;	      /* bytes of the perf map when read */
	uint64_t perf_map_checked_ns; /* last look for growth */
	bool embedded;		      /* content given, not read from a file */
	bool refusal_said;	      /* an unsafe perf map or jitdump was reported */
	void *unwind;		      /* the unwinder's per-object state */
	void (*unwind_free)(void *);
	void *inlines;	     /* inlines.c's DWARF state, or NULL */
	bool inlines_failed; /* no DWARF to read: not tried again */
	/* tables replaced when the files grew: frames and lookups made
	 * before keep pointing into them, so they live as long as the dso */
	struct pyperf_map_table **old_maps;
	struct jitdump **old_jitdumps;
	size_t nr_old_maps, cap_old_maps, nr_old_jitdumps, cap_old_jitdumps;
};

/* Frees a dso's inlines.c state (NULL is accepted). */
void pyperf_dso_inlines_free(void *inlines);
/* symbols_kernel.c: the running kernel's build id (/sys/kernel/notes); its
 * length, or -errno / -ENODATA. */
int pyperf_kernel_build_id(uint8_t out[20]);

/* A perf map still being written (live recording): re-reads it if it grew,
 * at most every few milliseconds. Returns true if it did. */
bool symbols_refresh_perf_map(struct pyperf_dso *d);

/* The jitdump's CFI for a perf-map dso, or NULL. */
struct Dwarf_CFI_s;
struct Dwarf_CFI_s *symbols_jit_cfi(struct pyperf_dso *d);

/* Loads the symbols now if not yet (finds run_path and debug_path). */
void symbols_dso_load(struct pyperf_dso *d);

struct pyperf_symbols {
	struct pyperf_dso **dsos;
	size_t nr_dsos, cap_dsos;
	uint32_t *slots; /* hash: index + 1 into dsos */
	size_t slots_cap;
	const char *buildid_dir;
	const char *kallsyms;
	const char *symfs;
	bool force;
	bool no_kernel;
	const char *table_cache; /* folder of saved tables, or NULL */
	struct pp_arena arena;
	struct pyperf_symbols_stats stats;
};

struct pyperf_dso *symbols_add_dso(struct pyperf_symbols *s, const char *name,
				   enum pyperf_dso_kind kind, const uint8_t *bid, uint8_t bid_size);

#endif
