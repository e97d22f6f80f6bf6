/* SPDX-License-Identifier: MIT */
/*
 * A sorted table of symbols with perf's rules for sizing and choosing
 * among aliases. Shared by ELF files, kallsyms and perf maps.
 */
#ifndef PYPERF_SYMTAB_H
#define PYPERF_SYMTAB_H

#include <pyperf/symbols.h>
#include "internal.h"

struct symtab {
	struct pyperf_symbol *syms;
	size_t nr, cap;
	/* While building: what perf's choose_best_symbol() looks at. */
	uint8_t *bind;	 /* STB_* */
	uint8_t *type;	 /* STT_* */
	uint32_t *order; /* insertion order, to keep sorting stable */
	size_t meta_cap;
	uint32_t next_order;
	/*
	 * Lookups, O(log n) however symbols overlap. Perf maps: perf's
	 * red-black tree rebuilt (left/right children, index + 1, of the
	 * sorted entries), searched as perf searches it, so that an address
	 * covered by several entries gets the one perf names. Other tables:
	 * the maximum end per block of SYMTAB_BLOCK entries, as a binary
	 * tree (block_max[1] the root, leaves from block_leaves), to find
	 * the last entry starting at or before an address that covers it.
	 */
	uint32_t *rb_left, *rb_right, rb_root;
	uint64_t *block_max;
	size_t block_leaves;
	/* An allocation failed while building: symbols are missing or
	 * unsorted, so lookups cannot be trusted (the owner reports it). */
	bool nomem;
	struct pp_arena names;
	/*
	 * A finished table mapped from the symbol cache (symcache.c): the
	 * arrays live in the mapping and syms is NULL; the symbols lookups
	 * return are made one by one in the names arena and remembered by
	 * index, so a run that hits a hundred kernel symbols makes a hundred.
	 */
	const uint64_t *m_start, *m_end;
	const uint32_t *m_name;
	const char *m_names;
	size_t m_names_size;
	void *map;
	size_t map_size;
	struct symtab_made {
		uint64_t idx1; /* index + 1; 0: empty */
		struct pyperf_symbol *sym;
	} * made;
	size_t made_cap, made_used;
};

enum symtab_finish_mode {
	SYMTAB_LAST_WINS, /* jitdumps: newest code at an address wins */
	SYMTAB_KEEP,	  /* just sort */
	SYMTAB_PERF_MAP,  /* every entry kept, found as perf finds them */
};

#define SYMTAB_BLOCK 16
/* Leaves of the block-maximum tree of @nr symbols (a power of two). */
size_t symtab_block_leaves(size_t nr);

void symtab_init(struct symtab *t);
void symtab_free(struct symtab *t);
/* Adds [start, end) named by @len bytes of @name (copied). */
int symtab_add(struct symtab *t, uint64_t start, uint64_t end, const char *name, size_t len);
int symtab_add_elf(struct symtab *t, uint64_t start, uint64_t end, const char *name, uint8_t bind,
		   uint8_t type);
/* Stable sort by start. */
void symtab_sort(struct symtab *t);
/* perf's symbols__fixup_end() then symbols__fixup_duplicate(). */
void symtab_fixup_perf(struct symtab *t, bool is_kallsyms);
/* Sorts, resolves duplicates per @mode and builds the lookup index. */
int symtab_finish(struct symtab *t, enum symtab_finish_mode mode);
/* The symbol covering @addr, or NULL. Needs symtab_finish(). */
const struct pyperf_symbol *symtab_find(const struct symtab *t, uint64_t addr);
/* The same, counting the entries it looked at in *@steps (for tests). */
const struct pyperf_symbol *symtab_find_counted(const struct symtab *t, uint64_t addr,
						size_t *steps);
/* Entry @i (< nr) of a finished table. */
const struct pyperf_symbol *symtab_at(const struct symtab *t, size_t i);
/* The symbol starting exactly at @addr (after sorting), or NULL. */
struct pyperf_symbol *symtab_find_start(struct symtab *t, uint64_t addr, uint8_t *type);

/* For symbols.c: the table inside a parsed perf map. */
struct pyperf_map_table;
struct symtab *pyperf_map_table__symtab(struct pyperf_map_table *t);
/* The bytes of text the table was parsed from. */
size_t pyperf_map_table__bytes(const struct pyperf_map_table *t);

#endif
