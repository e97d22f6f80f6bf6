/* SPDX-License-Identifier: MIT */
/*
 * Perf maps: /tmp/perf-PID.map, the text format through which JIT compilers
 * (CPython 3.12's -X perf, libpyperf's trampolines) tell perf what lives in
 * code they generated. One entry per line: "START SIZE name", START and SIZE
 * in hex without 0x, the name running to the end of the line
 * (tools/perf/Documentation/jit-interface.txt).
 *
 * This module parses maps into a sorted lookup table. The reporter reads
 * maps through it; so do the symbol code and tests.
 */
#ifndef PYPERF_MAP_H
#define PYPERF_MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <pyperf/pyperf.h>
#include <pyperf/symbols.h>

#ifdef __cplusplus
extern "C" {
#endif

struct pyperf_map_table;

struct pyperf_map_load_opts {
	size_t sz;
	/* Read the file even if it is a symlink or owned by another user
	 * (neither the caller nor root). */
	bool force;
	size_t : 0;
};
#define pyperf_map_load_opts__last_field force

/**
 * pyperf_map_table__parse() - parse the text of a perf map.
 * @text: the map's bytes (need not be NUL-terminated).
 * @len: their length.
 *
 * Lines that do not parse (no two hex fields, no name, empty) are skipped
 * and counted (pyperf_map_table__bad_lines()). Entries are sorted by start;
 * where several start at the same address, the one written last wins, as
 * it describes the code that is there now.
 *
 * Return: a table to free with pyperf_map_table__free(), or NULL (ENOMEM).
 */
PYPERF_API struct pyperf_map_table *pyperf_map_table__parse(const char *text, size_t len);

/**
 * pyperf_map_table__load() - read and parse a perf map file safely.
 * @path: the map, e.g. "/tmp/perf-1234.map".
 * @opts: options, or NULL.
 * @err: why it was refused or failed; may be NULL.
 *
 * Unless @opts->force, the file must be a regular file (not a symlink,
 * checked without following it) owned by the calling user or by root:
 * anyone can create files in /tmp, and a map planted there by another user
 * would rename the frames of the profile.
 *
 * Return: a table, or NULL with errno: ENOENT, EPERM (refused: not ours,
 * symlink, not a regular file), ENOMEM, EIO.
 */
PYPERF_API struct pyperf_map_table *pyperf_map_table__load(const char *path,
							   const struct pyperf_map_load_opts *opts,
							   struct pyperf_error *err);

/** pyperf_map_table__free() - free; NULL is accepted. */
PYPERF_API void pyperf_map_table__free(struct pyperf_map_table *table);

/** pyperf_map_table__size() - number of entries. */
PYPERF_API size_t pyperf_map_table__size(const struct pyperf_map_table *table);

/** pyperf_map_table__entry() - entry @idx in address order, or NULL. Borrowed. */
PYPERF_API const struct pyperf_symbol *pyperf_map_table__entry(const struct pyperf_map_table *table,
							       size_t idx);

/**
 * pyperf_map_table__find() - the entry whose [start, start + size) covers
 * @addr, or NULL. Borrowed, valid while the table lives.
 */
PYPERF_API const struct pyperf_symbol *pyperf_map_table__find(const struct pyperf_map_table *table,
							      uint64_t addr);

/** pyperf_map_table__bad_lines() - lines skipped as malformed. */
PYPERF_API size_t pyperf_map_table__bad_lines(const struct pyperf_map_table *table);

#ifdef __cplusplus
}
#endif

#endif /* PYPERF_MAP_H */
