/* SPDX-License-Identifier: MIT */
/*
 * Symbols: which function an address belongs to.
 *
 * A struct pyperf_dso is one object code can live in: an ELF file, the
 * kernel or one of its modules, the [vdso], a JIT region described by a
 * perf map (/tmp/perf-PID.map), or anonymous memory. Its symbols load
 * lazily, the first time an address is looked up, and stay cached in the
 * struct pyperf_symbols that owns every dso.
 *
 * ELF symbols come from .symtab (of the file itself or of a separate debug
 * file found by build id or .gnu_debuglink) and .dynsym, with PLT entries
 * named "func@plt", chosen and sized as perf does. Kernel symbols come from
 * kallsyms: the copy perf saved in its build-id cache, else /proc/kallsyms
 * when the running kernel is the recorded one.
 *
 * Addresses passed to pyperf_dso__find_symbol() are in the dso's own space:
 * file offsets for ELF files (map start plus pgoff, as perf's map_ip),
 * absolute addresses for the kernel, perf maps and anonymous memory.
 */
#ifndef PYPERF_SYMBOLS_H
#define PYPERF_SYMBOLS_H

#include <stdbool.h>
#include <stdint.h>
#include <pyperf/data.h>
#include <pyperf/pyperf.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A symbol: [start, end) in its dso's address space. */
struct pyperf_symbol {
	uint64_t start;
	uint64_t end;
	const char *name;
};

enum pyperf_dso_kind {
	PYPERF_DSO_UNKNOWN,  /* no map covers the address: "[unknown]" */
	PYPERF_DSO_ELF,	     /* a file mapped from disk */
	PYPERF_DSO_KERNEL,   /* [kernel.kallsyms] */
	PYPERF_DSO_KMODULE,  /* [module] */
	PYPERF_DSO_VDSO,     /* [vdso] */
	PYPERF_DSO_PERF_MAP, /* JIT code named by /tmp/perf-PID.map */
	PYPERF_DSO_ANON,     /* other memory without a file: [heap], [stack], //anon */
	PYPERF_DSO_BPF,	     /* a kernel text region announced by KSYMBOL */
	PYPERF_DSO_PYTHON,   /* a Python source file (frames of the python/mixed views) */
};

struct pyperf_dso;
struct pyperf_symbols;

struct pyperf_symbols_opts {
	size_t sz;
	/* perf's build-id cache; default $PERF_BUILDID_DIR, else "$HOME/.debug".
	 * "" disables it. */
	const char *buildid_dir;
	/* Where kernel symbols come from; default: the build-id cache, else
	 * /proc/kallsyms if the running kernel is the recorded one. */
	const char *kallsyms;
	/* Prefix for every path looked up (perf's --symfs). */
	const char *symfs;
	/* Read perf maps that another user owns, or that are symlinks. */
	bool force;
	/* Do not load kernel symbols. */
	bool no_kernel;
	/* Folder of saved symbol tables (kallsyms, ELF files), mapped instead
	 * of parsed when nothing they came from changed. NULL: the default,
	 * $PYPERF_SYMBOL_CACHE, else $XDG_CACHE_HOME/pyperf/symbols, else
	 * ~/.cache/pyperf/symbols; "" disables it. */
	const char *table_cache;
	size_t : 0;
};
#define pyperf_symbols_opts__last_field table_cache

/* What symbol loading counted. */
struct pyperf_symbols_stats {
	uint64_t dsos_loaded;
	uint64_t dsos_without_symbols; /* file missing, no symbols, build id mismatch */
	uint64_t perf_maps_refused;    /* unsafe perf maps skipped (see force) */
	uint64_t perf_map_bad_lines;   /* malformed lines skipped in perf maps */
	uint64_t tables_mapped;	       /* symbol tables taken from the table cache */
	uint64_t tables_saved;	       /* symbol tables read and saved to it */
	uint64_t build_id_mismatches;  /* files whose build id differs from the recording's */
	/* Symbol tables (or perf maps, jitdumps) not loaded for lack of
	 * memory: the names of their frames are missing, so a report of
	 * them is not to be trusted. */
	uint64_t alloc_failures;
};

/**
 * pyperf_symbols__new() - an empty symbol cache.
 * @opts: options, or NULL for defaults.
 *
 * Return: a new cache to free with pyperf_symbols__free(), or NULL with
 * errno set (ENOMEM, EINVAL for bad opts). Not thread-safe: one thread uses
 * a cache at a time.
 */
PYPERF_API struct pyperf_symbols *pyperf_symbols__new(const struct pyperf_symbols_opts *opts);

/** pyperf_symbols__free() - free the cache and every dso in it; NULL is accepted. */
PYPERF_API void pyperf_symbols__free(struct pyperf_symbols *syms);

/**
 * pyperf_symbols__findnew_dso() - the dso for a mapped file name.
 * @syms: the cache.
 * @filename: the name an MMAP record carries: a path, "[vdso]",
 *	      "/tmp/perf-PID.map", "[heap]", "//anon"...
 * @build_id: the build id the recording gives for it, or NULL.
 *
 * Return: a borrowed dso, valid while @syms lives, or NULL with errno set
 * (ENOMEM).
 */
PYPERF_API struct pyperf_dso *pyperf_symbols__findnew_dso(struct pyperf_symbols *syms,
							  const char *filename,
							  const struct pyperf_build_id *build_id);

/**
 * pyperf_symbols__kernel_dso() - the running or recorded kernel.
 * @syms: the cache.
 * @build_id: the kernel's build id from the recording, or NULL.
 * @osrelease: the recording's `uname -r`, or NULL.
 *
 * Return: a borrowed dso named "[kernel.kallsyms]", or NULL (ENOMEM).
 */
PYPERF_API struct pyperf_dso *pyperf_symbols__kernel_dso(struct pyperf_symbols *syms,
							 const struct pyperf_build_id *build_id,
							 const char *osrelease);

/**
 * pyperf_symbols__bpf_dso() - a dso for a KSYMBOL region, holding one
 * symbol of that name covering [addr, addr + len).
 */
PYPERF_API struct pyperf_dso *pyperf_symbols__bpf_dso(struct pyperf_symbols *syms, const char *name,
						      uint64_t addr, uint64_t len);

/** pyperf_symbols__stats() - counts so far. Borrowed. */
PYPERF_API const struct pyperf_symbols_stats *
pyperf_symbols__stats(const struct pyperf_symbols *syms);

/** pyperf_dso__name() - the long name: the path, or "[kernel.kallsyms]". */
PYPERF_API const char *pyperf_dso__name(const struct pyperf_dso *dso);

/**
 * pyperf_dso__short_name() - the name perf shows: the file's base name,
 * "[kernel.kallsyms]", "[vdso]", "[JIT] tid PID" for perf maps.
 */
PYPERF_API const char *pyperf_dso__short_name(const struct pyperf_dso *dso);

/** pyperf_dso__kind() - what the dso is. */
PYPERF_API enum pyperf_dso_kind pyperf_dso__kind(const struct pyperf_dso *dso);

/**
 * pyperf_dso__find_symbol() - the symbol covering @addr (in the dso's own
 * address space, see above), loading the symbols on first use.
 *
 * Return: a borrowed symbol valid while the cache lives, or NULL.
 */
PYPERF_API const struct pyperf_symbol *pyperf_dso__find_symbol(struct pyperf_dso *dso,
							       uint64_t addr);

/** pyperf_dso__nr_symbols() - number of symbols, loading them if needed. */
PYPERF_API size_t pyperf_dso__nr_symbols(struct pyperf_dso *dso);

/** pyperf_dso__symbol() - symbol @idx in address order. Borrowed. */
PYPERF_API const struct pyperf_symbol *pyperf_dso__symbol(struct pyperf_dso *dso, size_t idx);

/**
 * pyperf_dso__set_perf_map() - give a perf-map dso its entries from a text
 * image (e.g. a copy embedded in a recording) instead of reading the file
 * in /tmp. The text is parsed and copied.
 *
 * Return: 0 or a negative errno.
 */
PYPERF_API int pyperf_dso__set_perf_map(struct pyperf_dso *dso, const char *text, size_t len);

/**
 * pyperf_dso__set_jitdump() - like pyperf_dso__set_perf_map() for a jitdump
 * image (/tmp/jit-PID.dump): code-load records name the code, unwinding
 * records give its CFI. The image is parsed and copied.
 *
 * Return: 0, -EBADMSG (not a jitdump) or -ENOMEM.
 */
PYPERF_API int pyperf_dso__set_jitdump(struct pyperf_dso *dso, const void *data, size_t len);

/**
 * pyperf_dso__inlines() - the functions inlined at @addr (in the dso's
 * own space), from the dso's DWARF (its -dbg package's debug file, or the
 * file's own debug info): innermost first, ending with the function the
 * code belongs to, as perf lists them for DWARF-unwound frames. Inlined
 * ones are symbols named "NAME (inlined)" spanning the function they were
 * inlined in; an entry named like the ELF symbol is that symbol.
 * @out: filled with up to @max borrowed symbols, valid while @dso lives.
 *
 * Return: how many; 0 without debug info or symbol for @addr; -ENOMEM
 * (never passed off as "nothing inlined"). Not thread-safe (one thread
 * per dso, as every dso function).
 */
PYPERF_API long pyperf_dso__inlines(struct pyperf_dso *dso, uint64_t addr,
				    const struct pyperf_symbol **out, size_t max);

/** pyperf_symbol__is_inlined() - whether @sym is an inline symbol of
 * pyperf_dso__inlines() ("NAME (inlined)"). */
PYPERF_API bool pyperf_symbol__is_inlined(const struct pyperf_symbol *sym);

/**
 * pyperf_symbol__is_python() - whether a symbol names a Python function,
 * i.e. starts with "py::" as CPython's perf support and libpyperf's
 * trampolines write them.
 */
PYPERF_API bool pyperf_symbol__is_python(const struct pyperf_symbol *sym);

/**
 * pyperf_read_build_id() - the GNU build id note of an ELF file.
 * @path: the file.
 * @out: receives up to 20 bytes.
 *
 * Return: the id's size (> 0), or a negative errno (-ENOENT, -EBADMSG if
 * not ELF, -ENODATA if it has no build id).
 */
PYPERF_API int pyperf_read_build_id(const char *path, uint8_t out[20]);

#ifdef __cplusplus
}
#endif

#endif /* PYPERF_SYMBOLS_H */
