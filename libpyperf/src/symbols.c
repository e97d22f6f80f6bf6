// SPDX-License-Identifier: MIT
/*
 * DSOs and their symbols: the registry of dsos, loading (ELF files in
 * symbols_elf.c and symbols_plt.c, kallsyms and the vdso in
 * symbols_kernel.c, perf maps, jitdumps and KSYMBOL regions here) and
 * lookup. Which file supplies the symbols, which symbols are kept and how
 * they are sized follow perf (tools/perf/util/symbol.c, symbol-elf.c), so
 * that both tools name an address alike.
 */
#include "symbols_elf.h"

/* ---- the cache ------------------------------------------------------------ */

PYPERF_API struct pyperf_symbols *pyperf_symbols__new(const struct pyperf_symbols_opts *opts)
{
	struct pyperf_symbols *s;
	char buf[PATH_MAX];

	if (!OPTS_VALID(opts, pyperf_symbols_opts))
		return pyperf_err_ptr(-EINVAL);
	s = pp_calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	pp_arena_init(&s->arena, 16 * 1024);
	if (pyperf_buildid_cache_dir(OPTS_GET(opts, buildid_dir, NULL), buf, sizeof(buf)))
		s->buildid_dir = pp_arena_strdup(&s->arena, buf);
	else
		s->buildid_dir = "";
	s->kallsyms =
	    OPTS_GET(opts, kallsyms, NULL) ? pp_arena_strdup(&s->arena, opts->kallsyms) : NULL;
	s->symfs = pp_arena_strdup(&s->arena, OPTS_GET(opts, symfs, NULL) ? opts->symfs : "");
	s->force = OPTS_GET(opts, force, false);
	s->no_kernel = OPTS_GET(opts, no_kernel, false);
	if (symcache_dir(OPTS_GET(opts, table_cache, NULL), buf, sizeof(buf)) && buf[0])
		s->table_cache = pp_arena_strdup(&s->arena, buf);
	if (!s->buildid_dir || !s->symfs) {
		pyperf_symbols__free(s);
		return pyperf_err_ptr(-ENOMEM);
	}
	elf_version(EV_CURRENT);
	return s;
}

static void dso_free(struct pyperf_dso *d)
{
	if (d->unwind && d->unwind_free)
		d->unwind_free(d->unwind);
	pyperf_dso_inlines_free(d->inlines);
	free(d->run_path);
	free(d->debug_path);
	symtab_free(&d->tab);
	pyperf_map_table__free(d->perf_map);
	jitdump_free(d->jitdump);
	for (size_t i = 0; i < d->nr_old_maps; i++)
		pyperf_map_table__free(d->old_maps[i]);
	for (size_t i = 0; i < d->nr_old_jitdumps; i++)
		jitdump_free(d->old_jitdumps[i]);
	free(d->old_maps);
	free(d->old_jitdumps);
	free(d->name);
	free(d->short_name);
	free(d);
}

PYPERF_API void pyperf_symbols__free(struct pyperf_symbols *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nr_dsos; i++)
		dso_free(s->dsos[i]);
	free(s->dsos);
	free(s->slots);
	pp_arena_free(&s->arena);
	free(s);
}

PYPERF_API const struct pyperf_symbols_stats *pyperf_symbols__stats(const struct pyperf_symbols *s)
{
	return &s->stats;
}

static uint64_t dso_key(const char *name, const uint8_t *bid, uint8_t bid_size)
{
	return hash_bytes(bid, bid_size, hash_bytes(name, strlen(name), HASH_SEED));
}

static bool dso_matches(const struct pyperf_dso *d, const char *name, const uint8_t *bid,
			uint8_t bid_size)
{
	return d->bid_size == bid_size && (!bid_size || !memcmp(d->bid, bid, bid_size)) &&
	       !strcmp(d->name, name);
}

static int dsos_rehash(struct pyperf_symbols *s, size_t ncap)
{
	uint32_t *slots = pp_calloc(ncap, sizeof(*slots));

	if (!slots)
		return -ENOMEM;
	for (size_t i = 0; i < s->nr_dsos; i++) {
		size_t j = pp_probe_start(s->dsos[i]->key, ncap);

		while (slots[j])
			j = pp_probe_next(j, ncap);
		slots[j] = (uint32_t)i + 1;
	}
	free(s->slots);
	s->slots = slots;
	s->slots_cap = ncap;
	return 0;
}

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

/* "/tmp/perf-123.map" -> 123 */
static bool perf_map_pid(const char *name, int *pid)
{
	const char *b;
	char *end;
	long v;

	if (strncmp(name, "/tmp/perf-", 10))
		return false;
	b = name + 10;
	v = strtol(b, &end, 10);
	if (end == b || strcmp(end, ".map") || v <= 0)
		return false;
	*pid = (int)v;
	return true;
}

static enum pyperf_dso_kind kind_for(const char *name)
{
	int pid;

	if (!strcmp(name, "[vdso]"))
		return PYPERF_DSO_VDSO;
	if (perf_map_pid(name, &pid))
		return PYPERF_DSO_PERF_MAP;
	if (!strcmp(name, "//anon") || !strncmp(name, "/dev/zero", 9) ||
	    !strncmp(name, "/anon_hugepage", 14) || !strncmp(name, "[stack", 6) ||
	    !strncmp(name, "/SYSV", 5) || !strcmp(name, "[heap]") || name[0] == '[' ||
	    !strncmp(name, "//", 2))
		return PYPERF_DSO_ANON;
	return PYPERF_DSO_ELF;
}

struct pyperf_dso *symbols_add_dso(struct pyperf_symbols *s, const char *name,
				   enum pyperf_dso_kind kind, const uint8_t *bid, uint8_t bid_size)
{
	uint64_t key = dso_key(name, bid, bid_size);
	struct pyperf_dso *d;
	size_t j;
	int pid;

	if ((s->nr_dsos + 1) * 2 > s->slots_cap &&
	    dsos_rehash(s, s->slots_cap ? s->slots_cap * 2 : 64))
		return NULL;
	for (j = pp_probe_start(key, s->slots_cap); s->slots[j];
	     j = pp_probe_next(j, s->slots_cap)) {
		d = s->dsos[s->slots[j] - 1];
		if (d->key == key && dso_matches(d, name, bid, bid_size))
			return d;
	}
	if (PP_GROW(s->dsos, s->cap_dsos, s->nr_dsos + 1))
		return NULL;
	d = pp_calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	d->owner = s;
	d->index = (uint32_t)s->nr_dsos;
	d->kind = kind;
	d->key = key;
	symtab_init(&d->tab);
	d->name = pp_strdup(name);
	if (kind == PYPERF_DSO_PERF_MAP && perf_map_pid(name, &pid)) {
		char buf[64];

		snprintf(buf, sizeof(buf), "[JIT] tid %d", pid);
		d->short_name = pp_strdup(buf);
	} else {
		d->short_name = pp_strdup(base_name(name));
	}
	if (!d->name || !d->short_name) {
		dso_free(d);
		return NULL;
	}
	if (bid_size) {
		memcpy(d->bid, bid, bid_size);
		d->bid_size = bid_size;
	}
	if (kind == PYPERF_DSO_ANON || kind == PYPERF_DSO_UNKNOWN)
		d->loaded = true; /* nothing to load */
	s->dsos[s->nr_dsos] = d;
	s->slots[j] = (uint32_t)++s->nr_dsos;
	return d;
}

PYPERF_API struct pyperf_dso *pyperf_symbols__findnew_dso(struct pyperf_symbols *s,
							  const char *filename,
							  const struct pyperf_build_id *bid)
{
	enum pyperf_dso_kind kind = kind_for(filename);
	struct pyperf_dso *d;

	/* Build ids only tell ELF files apart. */
	if (kind != PYPERF_DSO_ELF)
		bid = NULL;
	d = symbols_add_dso(s, filename, kind, bid ? bid->id : NULL, bid ? bid->size : 0);
	if (!d)
		errno = ENOMEM;
	return d;
}

PYPERF_API struct pyperf_dso *pyperf_symbols__bpf_dso(struct pyperf_symbols *s, const char *name,
						      uint64_t addr, uint64_t len)
{
	struct pyperf_dso *d = symbols_add_dso(s, name, PYPERF_DSO_BPF, NULL, 0);

	if (!d)
		return NULL;
	if (!d->loaded) {
		if (symtab_add(&d->tab, addr, addr + len, name, strlen(name)) ||
		    symtab_finish(&d->tab, SYMTAB_LAST_WINS))
			return NULL;
		d->loaded = true;
	}
	return d;
}

/* ---- getters ----------------------------------------------------------------- */

PYPERF_API const char *pyperf_dso__name(const struct pyperf_dso *d)
{
	return d->name;
}

PYPERF_API const char *pyperf_dso__short_name(const struct pyperf_dso *d)
{
	return d->short_name;
}

PYPERF_API enum pyperf_dso_kind pyperf_dso__kind(const struct pyperf_dso *d)
{
	return d->kind;
}

PYPERF_API bool pyperf_symbol__is_python(const struct pyperf_symbol *sym)
{
	return sym && !strncmp(sym->name, "py::", 4);
}

/* ---- loading and lookup -------------------------------------------------------------- */

static void jit_path(const struct pyperf_dso *d, char *path, size_t size)
{
	int pid = 0;

	perf_map_pid(d->name, &pid);
	snprintf(path, size, "/tmp/jit-%d.dump", pid);
}

/* A perf map or jitdump not read: counted, said once per dso, and an
 * allocation failure remembered as the error it is. */
static void jit_file_refused(struct pyperf_dso *d, const struct pyperf_error *err)
{
	if (err->code == -ENOMEM) {
		d->owner->stats.alloc_failures++;
	} else if (err->code != -ENOENT && !d->refusal_said) {
		d->owner->stats.perf_maps_refused++;
		d->refusal_said = true;
		pr_warn("%s %s\n", err->source, err->text);
	}
}

/* The dso's jitdump is being replaced: kept until the dso goes (see
 * old_jitdumps). false on ENOMEM: then it must stay in place. */
static bool retire_jitdump(struct pyperf_dso *d)
{
	if (!d->jitdump)
		return true;
	if (PP_GROW(d->old_jitdumps, d->cap_old_jitdumps, d->nr_old_jitdumps + 1))
		return false;
	d->old_jitdumps[d->nr_old_jitdumps++] = d->jitdump;
	d->jitdump = NULL;
	return true;
}

static bool retire_perf_map(struct pyperf_dso *d)
{
	if (!d->perf_map)
		return true;
	if (PP_GROW(d->old_maps, d->cap_old_maps, d->nr_old_maps + 1))
		return false;
	d->old_maps[d->nr_old_maps++] = d->perf_map;
	d->perf_map = NULL;
	return true;
}

/* Reads /tmp/jit-PID.dump for the perf-map dso @d, in place of any jitdump
 * it had. Returns its number of code regions, 0 when not read. */
static int load_jitdump_file(struct pyperf_dso *d)
{
	char path[64];
	struct pyperf_error err;
	struct stat st;
	struct jitdump *j;

	jit_path(d, path, sizeof(path));
	j = jitdump_load(path, d->owner->force, &st, &err);
	if (!j) {
		jit_file_refused(d, &err);
		return 0;
	}
	if (!retire_jitdump(d)) {
		jitdump_free(j);
		d->owner->stats.alloc_failures++;
		return 0;
	}
	d->jitdump = j;
	d->jitdump_size = (uint64_t)st.st_size;
	d->jitdump_mtime = st.st_mtim;
	return (int)jitdump_symtab(j)->nr;
}

/* Reads the perf map of @d in place of what it had: its number of
 * entries, 0 when not read. */
static int load_perf_map_file(struct pyperf_dso *d)
{
	struct pyperf_error err;
	struct pyperf_map_table *t;
	PYPERF_OPTS(pyperf_map_load_opts, mo, .force = d->owner->force);

	t = pyperf_map_table__load(d->name, &mo, &err);
	if (!t) {
		jit_file_refused(d, &err);
		return 0;
	}
	if (!retire_perf_map(d)) {
		pyperf_map_table__free(t);
		d->owner->stats.alloc_failures++;
		return 0;
	}
	d->perf_map = t;
	d->owner->stats.perf_map_bad_lines += pyperf_map_table__bad_lines(t);
	/* the size read, not a later one: the file may still grow */
	d->perf_map_size = pyperf_map_table__bytes(t);
	return (int)pyperf_map_table__size(t);
}

static bool ts_after(struct timespec a, struct timespec b)
{
	return a.tv_sec > b.tv_sec || (a.tv_sec == b.tv_sec && a.tv_nsec > b.tv_nsec);
}

/* Whether /tmp/jit-PID.dump exists and was written after the perf map. */
static bool jitdump_is_newer(const struct pyperf_dso *d)
{
	char path[64];
	struct stat jst, mst;

	jit_path(d, path, sizeof(path));
	if (stat(path, &jst))
		return false;
	if (stat(d->name, &mst))
		return true;
	return ts_after(jst.st_mtim, mst.st_mtim);
}

static void dso_load(struct pyperf_dso *d)
{
	struct pyperf_symbols *s = d->owner;
	struct table_key *key = NULL;
	int n = 0;

	d->loaded = true;
	if ((d->kind == PYPERF_DSO_ELF || d->kind == PYPERF_DSO_KERNEL) && s->table_cache)
		key = pp_malloc(sizeof(*key));
	switch (d->kind) {
	case PYPERF_DSO_ELF:
		n = pyperf_symbols_load_elf(d, key);
		break;
	case PYPERF_DSO_VDSO:
		n = pyperf_symbols_load_vdso(d);
		break;
	case PYPERF_DSO_KERNEL:
		n = pyperf_symbols_load_kallsyms(d, key);
		break;
	case PYPERF_DSO_PERF_MAP:
		/* A process writes a perf map or a jitdump (CPython 3.13
		 * -X perf_jit); /tmp keeps both kinds from dead processes with
		 * the same pid. When both are there, the one written last is
		 * the recorded process's. */
		if (jitdump_is_newer(d) && (n = load_jitdump_file(d)) > 0)
			break;
		n = load_perf_map_file(d);
		/* No perf map: the runtime may write a jitdump instead. */
		if (!n && !d->perf_map && !d->jitdump)
			n = load_jitdump_file(d);
		break;
	default:
		break;
	}
	if (d->kind != PYPERF_DSO_PERF_MAP && symtab_finish(&d->tab, SYMTAB_KEEP))
		n = 0;
	if (d->tab.nomem) {
		/* some symbols are missing: the report must not pass for whole */
		s->stats.alloc_failures++;
		n = 0;
	}
	if (key && key->len && n > 0) {
		if (symcache_store(s->table_cache, key->text, key->len, &d->tab, key->aux))
			s->stats.tables_saved++;
	}
	free(key);
	if (n > 0)
		s->stats.dsos_loaded++;
	else
		s->stats.dsos_without_symbols++;
}

void symbols_dso_load(struct pyperf_dso *d)
{
	if (!d->loaded)
		dso_load(d);
}

PYPERF_API int pyperf_dso__set_perf_map(struct pyperf_dso *d, const char *text, size_t len)
{
	struct pyperf_map_table *t = pyperf_map_table__parse(text, len);

	if (!t)
		return pyperf_err(-ENOMEM);
	pyperf_map_table__free(d->perf_map);
	d->perf_map = t;
	d->owner->stats.perf_map_bad_lines += pyperf_map_table__bad_lines(t);
	d->loaded = true;
	d->embedded = true;
	return 0;
}

PYPERF_API int pyperf_dso__set_jitdump(struct pyperf_dso *d, const void *data, size_t len)
{
	struct jitdump *j = jitdump_parse(data, len);

	if (!j)
		return pyperf_err(-EBADMSG);
	jitdump_free(d->jitdump);
	d->jitdump = j;
	pyperf_map_table__free(d->perf_map);
	d->perf_map = NULL;
	d->loaded = true;
	d->embedded = true;
	return 0;
}

struct Dwarf_CFI_s *symbols_jit_cfi(struct pyperf_dso *d)
{
	if (!d->loaded)
		dso_load(d);
	return d->jitdump ? (struct Dwarf_CFI_s *)jitdump_cfi(d->jitdump) : NULL;
}

bool symbols_refresh_perf_map(struct pyperf_dso *d)
{
	struct timespec ts;
	uint64_t now;
	struct stat st;
	char path[64];

	if (d->kind != PYPERF_DSO_PERF_MAP || d->embedded)
		return false;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
	if (now - d->perf_map_checked_ns < 5000000ULL)
		return false;
	d->perf_map_checked_ns = now;
	d->loaded = true;
	if (d->perf_map) {
		/* re-read when it grew */
		if (stat(d->name, &st) || (uint64_t)st.st_size == d->perf_map_size)
			return false;
		return load_perf_map_file(d) > 0;
	}
	jit_path(d, path, sizeof(path));
	if (d->jitdump) {
		/* re-read when it grew; a perf map of the same pid is another
		 * (dead) process's unless written after the jitdump */
		if (!stat(path, &st) && (uint64_t)st.st_size != d->jitdump_size)
			return load_jitdump_file(d) > 0;
		if (!stat(d->name, &st) && ts_after(st.st_mtim, d->jitdump_mtime) &&
		    load_perf_map_file(d) > 0) {
			if (!retire_jitdump(d))
				d->owner->stats.alloc_failures++;
			return true;
		}
		return false;
	}
	/* nothing yet: either may have appeared */
	if (jitdump_is_newer(d) && load_jitdump_file(d) > 0)
		return true;
	return !stat(d->name, &st) && load_perf_map_file(d) > 0;
}

PYPERF_API const struct pyperf_symbol *pyperf_dso__find_symbol(struct pyperf_dso *d, uint64_t addr)
{
	const struct pyperf_symbol *sym;

	if (unlikely(!d->loaded))
		dso_load(d);
	if (d->perf_map)
		return pyperf_map_table__find(d->perf_map, addr);
	if (d->jitdump)
		return symtab_find(jitdump_symtab(d->jitdump), addr);
	sym = symtab_find(&d->tab, addr);
	/* a mapped table makes the symbols it returns: that may fail */
	if (unlikely(!sym && d->tab.nomem))
		d->owner->stats.alloc_failures++;
	return sym;
}

PYPERF_API size_t pyperf_dso__nr_symbols(struct pyperf_dso *d)
{
	if (!d->loaded)
		dso_load(d);
	if (d->jitdump)
		return jitdump_symtab(d->jitdump)->nr;
	return d->perf_map ? pyperf_map_table__size(d->perf_map) : d->tab.nr;
}

PYPERF_API const struct pyperf_symbol *pyperf_dso__symbol(struct pyperf_dso *d, size_t idx)
{
	if (!d->loaded)
		dso_load(d);
	if (d->perf_map)
		return pyperf_map_table__entry(d->perf_map, idx);
	if (d->jitdump)
		return idx < jitdump_symtab(d->jitdump)->nr ? &jitdump_symtab(d->jitdump)->syms[idx]
							    : NULL;
	return idx < d->tab.nr ? symtab_at(&d->tab, idx) : NULL;
}

PYPERF_API struct pyperf_dso *pyperf_symbols__kernel_dso(struct pyperf_symbols *s,
							 const struct pyperf_build_id *bid,
							 const char *osrelease)
{
	struct pyperf_dso *d = symbols_add_dso(s, "[kernel.kallsyms]", PYPERF_DSO_KERNEL,
					       bid ? bid->id : NULL, bid ? bid->size : 0);

	if (!d) {
		errno = ENOMEM;
		return NULL;
	}
	if (osrelease && !d->osrelease[0])
		snprintf(d->osrelease, sizeof(d->osrelease), "%s", osrelease);
	return d;
}
