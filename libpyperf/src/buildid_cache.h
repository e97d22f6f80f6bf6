/* SPDX-License-Identifier: MIT */
/*
 * perf's build-id cache (~/.debug), written as perf record writes it, so
 * that a recording keeps its symbols after its binaries are rebuilt or
 * upgraded: DIR/<path>/<build id>/elf (a hard link to the file, or a
 * copy), DIR/[kernel.kallsyms]/<build id>/kallsyms, and the index
 * DIR/.build-id/<xx>/<rest of the id> -> ../../<path>/<build id>.
 */
#ifndef PYPERF_BUILDID_CACHE_H
#define PYPERF_BUILDID_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The cache folder: @dir if given ("" disables), else $PERF_BUILDID_DIR,
 * else $HOME/.debug. False when there is none (no HOME, "", too long).
 */
bool pyperf_buildid_cache_dir(const char *dir, char *out, size_t size);

/*
 * Adds @path (an ELF file whose build id is @id, @len bytes), or, with
 * @path "[kernel.kallsyms]", a copy of /proc/kallsyms. Already cached is
 * success. A cache folder owned by another user (root running with a
 * user's $HOME) is left alone: -EPERM.
 * Return: 0 or a negative errno.
 */
int pyperf_buildid_cache_add(const char *dir, const char *path, const uint8_t *id, size_t len);

#endif
