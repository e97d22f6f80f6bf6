/* SPDX-License-Identifier: MIT */
/*
 * Perf maps: /tmp/perf-PID.map, the text format through which JIT compilers
 * (CPython 3.12's -X perf, libpyperf's trampolines) tell perf what lives in
 * code they generated. One entry per line: "START SIZE name", START and SIZE
 * in hex without 0x, the name running to the end of the line
 * (tools/perf/Documentation/jit-interface.txt).
 *
 * This module writes maps for programs that generate code (the CPython
 * trampolines of libpyperf use it) and parses maps into a sorted lookup
 * table. The reporter reads maps through it; so do the symbol code and tests.
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

/* ---- writing ----------------------------------------------------------- */

struct pyperf_map_writer;

struct pyperf_map_writer_opts {
	size_t sz;
	/* Folder of the map; default "/tmp", the only place perf looks. */
	const char *dir;
	/* Permissions of a map this writer creates; default 0600 (the user
	 * who profiles, and root, can read it). */
	unsigned int mode;
	/* After fork(), the child's map starts with a copy of the parent's
	 * entries: the child runs the code it inherited, which must keep its
	 * names. */
	bool reemit_on_fork;
	/* Start from an empty map when the file exists (left by an earlier
	 * process with the same pid). Off by default: another code generator
	 * in this process may be writing to the same map. */
	bool truncate;
	size_t : 0;
};
#define pyperf_map_writer_opts__last_field truncate

/**
 * pyperf_map_writer__open() - open the perf map of the calling process.
 * @opts: options, or NULL.
 * @err: why it failed; may be NULL.
 *
 * Opens or creates DIR/perf-PID.map for appending. The path is never
 * followed if it is a symbolic link, and an existing file is used only if
 * it is a regular file with one link, owned by the calling user: anyone
 * can create files in /tmp, and writing into a planted file would write
 * wherever its owner pointed it. A map last written before this process
 * started belongs to a dead process that had the same pid: it is emptied,
 * so that its entries do not name this process's code.
 *
 * Return: a writer, or NULL with errno: EPERM (refused: symlink, another
 * owner, not a regular file), EACCES/EROFS/ENOENT (cannot create), ENOMEM.
 */
PYPERF_API struct pyperf_map_writer *
pyperf_map_writer__open(const struct pyperf_map_writer_opts *opts, struct pyperf_error *err);

/**
 * pyperf_map_writer__add() - append one entry: "START SIZE NAME\n".
 * @w: the writer.
 * @start: first address of the code.
 * @size: its length in bytes.
 * @name: the function's name; newlines in it are written as spaces.
 *
 * Each entry goes to the file in one write(2) on a descriptor opened with
 * O_APPEND, so entries from many threads never interleave and a reader
 * (perf, pyperf-record) never sees half an entry. Safe to call from any
 * thread. In a child after fork(), the first call switches to the child's
 * own map (see pyperf_map_writer__after_fork()).
 *
 * Return: 0, or a negative errno (-EIO, -ENOSPC...: the entry is lost).
 */
PYPERF_API int pyperf_map_writer__add(struct pyperf_map_writer *w, uint64_t start, uint64_t size,
				      const char *name);

/**
 * pyperf_map_writer__flush() - make the entries written so far durable
 * (fdatasync): for readers that look at the map after a crash of the
 * machine or from another mount of the same file system. Entries are
 * visible to readers on this machine as soon as add() returns.
 *
 * Return: 0 or a negative errno.
 */
PYPERF_API int pyperf_map_writer__flush(struct pyperf_map_writer *w);

/**
 * pyperf_map_writer__after_fork() - switch a forked child to its own map,
 * perf-CHILDPID.map, copying the parent's entries first when
 * reemit_on_fork is set. Call it from a fork handler in the child (for
 * example pthread_atfork(), or os.register_at_fork() in Python) so that
 * a child that creates no code still gets a map; add() does the same
 * lazily. Does nothing when the process has not changed.
 *
 * Return: 0 or a negative errno, with @err filled.
 */
PYPERF_API int pyperf_map_writer__after_fork(struct pyperf_map_writer *w, struct pyperf_error *err);

/** pyperf_map_writer__path() - the map being written. Borrowed. */
PYPERF_API const char *pyperf_map_writer__path(const struct pyperf_map_writer *w);

/** pyperf_map_writer__entries() - entries this writer added since it was opened. */
PYPERF_API uint64_t pyperf_map_writer__entries(const struct pyperf_map_writer *w);

/**
 * pyperf_map_writer__close() - close and free; the map stays for perf to
 * read. NULL is accepted.
 *
 * Return: 0, or the first write error seen by add().
 */
PYPERF_API int pyperf_map_writer__close(struct pyperf_map_writer *w);

#ifdef __cplusplus
}
#endif

#endif /* PYPERF_MAP_H */
