/* SPDX-License-Identifier: MIT */
/*
 * Saved symbol tables. Reading /proc/kallsyms and the symbol tables of
 * large libraries costs more than aggregating a small recording, and the
 * answer rarely changes between runs: a finished table is saved once and
 * mapped by later runs, under a key that names everything it was built
 * from (boot, loaded modules, the files' identity and times).
 */
#ifndef PYPERF_SYMCACHE_H
#define PYPERF_SYMCACHE_H

#include "symtab.h"

/*
 * The cache folder: @dir, or when NULL $PYPERF_SYMBOL_CACHE, else
 * $XDG_CACHE_HOME/pyperf/symbols, else $HOME/.cache/pyperf/symbols. An
 * empty string disables the cache. Written to @out; false when disabled.
 */
bool symcache_dir(const char *dir, char *out, size_t size);

/*
 * Maps the table saved under @key into @t (empty, initialised), with the
 * @aux text saved beside it (NUL-terminated, owned by @t's mapping).
 * False when there is none or it does not check out; nothing is changed.
 */
bool symcache_load(const char *dir, const char *key, size_t key_len, struct symtab *t,
		   const char **aux);

/* Saves the finished table @t under @key; false if it could not (a cache:
 * nothing else depends on it). */
bool symcache_store(const char *dir, const char *key, size_t key_len, const struct symtab *t,
		    const char *aux);

/* Appends "path dev ino size mtime\n" (or "path -\n") for @path to @key. */
void symcache_key_file(char *key, size_t size, size_t *len, const char *path);
/* Appends formatted text to @key. */
__attribute__((format(printf, 4, 5))) void symcache_key_add(char *key, size_t size, size_t *len,
							    const char *fmt, ...);

#endif
