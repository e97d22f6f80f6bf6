// SPDX-License-Identifier: MIT
/*
 * Processes, threads and memory maps rebuilt from perf.data records.
 * Thread naming and map handling follow perf's machine.c and map.c where
 * the result is visible in reports (names of unknown threads, which memory
 * counts as JIT code, how overlapping mmaps cut older ones).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <pyperf/machine.h>
#include "internal.h"
#include "machine_internal.h"
#include "symbols_internal.h"

struct maps {
	struct pyperf_map *v;
	size_t nr, cap;
	uint64_t gen;
	unsigned refs;
	int32_t pid;
};

struct pyperf_thread {
	int32_t pid, tid, ppid;
	const char *comm;
	bool comm_set;
	bool exited;
	struct maps *maps;
	struct pyperf_machine *m;
};

struct pyperf_machine {
	struct pyperf_symbols *syms;
	const struct pyperf_data *data;
	struct pyperf_thread **threads; /* open addressing by tid */
	size_t threads_cap, nr_threads;
	size_t nr_processes;
	struct pyperf_thread *last; /* one-entry cache: samples repeat threads */
	struct maps kernel;
	struct pyperf_dso *kernel_dso;
	struct pyperf_dso *unknown_dso;
	struct pp_strtab comms;
	struct pp_arena arena; /* threads */
	struct {
		const char *filename; /* interned in comms */
		struct pyperf_dso *dso;
	} * overrides;
	size_t nr_overrides, cap_overrides;
	struct maps **all_maps; /* to free them */
	size_t nr_all_maps, cap_all_maps;
	bool modules_loaded;
};

/* ---- maps ------------------------------------------------------------------ */

/* Generations are unique across machines, so that caches keyed on them can
 * outlive one file and serve the next. */
static uint64_t next_generation(void)
{
	static uint64_t counter;

	return __atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED);
}

static struct maps *maps_new(struct pyperf_machine *m, int32_t pid)
{
	struct maps *ms = pp_calloc(1, sizeof(*ms));

	if (!ms)
		return NULL;
	if (PP_GROW(m->all_maps, m->cap_all_maps, m->nr_all_maps + 1)) {
		free(ms);
		return NULL;
	}
	m->all_maps[m->nr_all_maps++] = ms;
	ms->gen = next_generation();
	ms->pid = pid;
	m->nr_processes++;
	return ms;
}

static size_t maps_lower_bound(const struct maps *ms, uint64_t addr)
{
	size_t lo = 0, hi = ms->nr;

	/* first map whose end > addr */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (ms->v[mid].end <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static const struct pyperf_map *maps_find(const struct maps *ms, uint64_t addr)
{
	size_t i = maps_lower_bound(ms, addr);

	if (i < ms->nr && ms->v[i].start <= addr)
		return &ms->v[i];
	return NULL;
}

/*
 * Inserts @nm, cutting what it overlaps out of older maps: the kernel
 * replaced those pages. An older map sticking out on both sides splits in
 * two, the part after keeping its file offset in step.
 */
static int maps_insert(struct maps *ms, const struct pyperf_map *nm)
{
	struct pyperf_map *out;
	size_t i = maps_lower_bound(ms, nm->start), w, cap_needed;
	size_t first = i, last = i;

	if (nm->end <= nm->start)
		return 0;
	while (last < ms->nr && ms->v[last].start < nm->end)
		last++;
	/* Worst case: one split adds one map. */
	cap_needed = ms->nr + 2;
	if (PP_GROW(ms->v, ms->cap, cap_needed))
		return -ENOMEM;
	out = pp_calloc(cap_needed, sizeof(*out));
	if (!out)
		return -ENOMEM;
	w = 0;
	for (size_t k = 0; k < first; k++)
		out[w++] = ms->v[k];
	for (size_t k = first; k < last; k++) {
		struct pyperf_map old = ms->v[k];

		if (old.start < nm->start) {
			struct pyperf_map before = old;

			before.end = nm->start;
			out[w++] = before;
		}
		if (old.end > nm->end) {
			struct pyperf_map after = old;

			after.start = nm->end;
			if (!after.identity)
				after.pgoff += nm->end - old.start;
			/* goes after the new map */
			old = after;
			out[w++] = *nm;
			out[w++] = old;
			nm = NULL;
			break;
		}
	}
	if (nm)
		out[w++] = *nm;
	for (size_t k = last; k < ms->nr; k++)
		out[w++] = ms->v[k];
	/* A split map already consumed the rest of the overlap range. */
	memcpy(ms->v, out, w * sizeof(*out));
	ms->nr = w;
	free(out);
	ms->gen = next_generation();
	return 0;
}

static void maps_remove_range(struct maps *ms, uint64_t start, uint64_t end)
{
	size_t w = 0;

	for (size_t k = 0; k < ms->nr; k++)
		if (!(ms->v[k].start == start && ms->v[k].end == end))
			ms->v[w++] = ms->v[k];
	if (w != ms->nr) {
		ms->nr = w;
		ms->gen = next_generation();
	}
}

static struct maps *maps_clone(struct pyperf_machine *m, const struct maps *src, int32_t pid)
{
	struct maps *ms = maps_new(m, pid);

	if (!ms)
		return NULL;
	if (src && src->nr) {
		if (PP_GROW(ms->v, ms->cap, src->nr))
			return NULL;
		memcpy(ms->v, src->v, src->nr * sizeof(*ms->v));
		ms->nr = src->nr;
	}
	return ms;
}

/* ---- threads ------------------------------------------------------------------ */

static int threads_rehash(struct pyperf_machine *m, size_t ncap)
{
	struct pyperf_thread **t = pp_calloc_dense(ncap, sizeof(*t));

	if (!t)
		return -ENOMEM;
	for (size_t i = 0; i < m->threads_cap; i++) {
		struct pyperf_thread *th = m->threads[i];
		size_t j;

		if (!th)
			continue;
		for (j = pp_probe_start(hash_u64((uint64_t)(uint32_t)th->tid), ncap); t[j];
		     j = pp_probe_next(j, ncap))
			;
		t[j] = th;
	}
	free(m->threads);
	m->threads = t;
	m->threads_cap = ncap;
	return 0;
}

static struct pyperf_thread *thread_find(struct pyperf_machine *m, int32_t tid)
{
	if (m->last && m->last->tid == tid)
		return m->last;
	if (!m->threads_cap)
		return NULL;
	for (size_t j = pp_probe_start(hash_u64((uint64_t)(uint32_t)tid), m->threads_cap);
	     m->threads[j]; j = pp_probe_next(j, m->threads_cap))
		if (m->threads[j]->tid == tid)
			return m->last = m->threads[j];
	return NULL;
}

static void thread_unlink(struct pyperf_machine *m, struct pyperf_thread *th)
{
	/* Backward-shift deletion keeps the probe sequences intact. */
	size_t cap = m->threads_cap, i, j;

	for (i = pp_probe_start(hash_u64((uint64_t)(uint32_t)th->tid), cap); m->threads[i] != th;
	     i = pp_probe_next(i, cap))
		if (!m->threads[i])
			return;
	m->threads[i] = NULL;
	for (j = pp_probe_next(i, cap); m->threads[j]; j = pp_probe_next(j, cap)) {
		size_t home = pp_probe_start(hash_u64((uint64_t)(uint32_t)m->threads[j]->tid), cap);

		if ((j > i && (home <= i || home > j)) || (j < i && home <= i && home > j)) {
			m->threads[i] = m->threads[j];
			m->threads[j] = NULL;
			i = j;
		}
	}
	m->nr_threads--;
	if (m->last == th)
		m->last = NULL;
}

static const char *intern_comm(struct pyperf_machine *m, const char *s)
{
	return pp_strtab_intern(&m->comms, s, strlen(s));
}

static struct pyperf_thread *thread_new(struct pyperf_machine *m, int32_t pid, int32_t tid)
{
	struct pyperf_thread *th;
	char buf[32];

	if ((m->nr_threads + 1) * 2 > m->threads_cap &&
	    threads_rehash(m, m->threads_cap ? m->threads_cap * 2 : 256))
		return NULL;
	th = pp_arena_alloc(&m->arena, sizeof(*th));
	if (!th)
		return NULL;
	th->m = m;
	th->pid = pid;
	th->tid = tid;
	th->ppid = -1;
	/* perf names threads it has no COMM for ":TID"; idle is "swapper". */
	if (tid == 0)
		snprintf(buf, sizeof(buf), "swapper");
	else
		snprintf(buf, sizeof(buf), ":%d", tid);
	th->comm = intern_comm(m, buf);
	if (!th->comm)
		return NULL;
	{
		size_t j;

		for (j = pp_probe_start(hash_u64((uint64_t)(uint32_t)tid), m->threads_cap);
		     m->threads[j]; j = pp_probe_next(j, m->threads_cap))
			;
		m->threads[j] = th;
	}
	m->nr_threads++;
	m->last = th;
	return th;
}

/* Threads of one process share their leader's maps. */
static int thread_attach_maps(struct pyperf_machine *m, struct pyperf_thread *th)
{
	struct pyperf_thread *leader;

	if (th->maps)
		return 0;
	if (th->pid >= 0 && th->pid != th->tid) {
		leader = thread_find(m, th->pid);
		if (!leader) {
			leader = thread_new(m, th->pid, th->pid);
			if (!leader)
				return -ENOMEM;
		}
		if (!leader->maps) {
			leader->maps = maps_new(m, leader->pid);
			if (!leader->maps)
				return -ENOMEM;
		}
		th->maps = leader->maps;
		th->maps->refs++;
		m->last = th;
		return 0;
	}
	th->maps = maps_new(m, th->pid);
	return th->maps ? 0 : -ENOMEM;
}

PYPERF_API struct pyperf_thread *pyperf_machine__findnew_thread(struct pyperf_machine *m,
								int32_t pid, int32_t tid)
{
	struct pyperf_thread *th = thread_find(m, tid);

	if (th) {
		/* First seen without its process (pid -1), now we know it. */
		if (th->pid < 0 && pid >= 0) {
			th->pid = pid;
			if (pid != tid && th->maps && !th->maps->nr) {
				th->maps = NULL;
				if (thread_attach_maps(m, th))
					return NULL;
			}
		}
		return th;
	}
	th = thread_new(m, pid, tid);
	if (!th || thread_attach_maps(m, th))
		return NULL;
	return th;
}

/* ---- construction ------------------------------------------------------------------ */

PYPERF_API struct pyperf_machine *pyperf_machine__new(struct pyperf_symbols *syms,
						      const struct pyperf_machine_opts *opts)
{
	const struct pyperf_data *data = OPTS_GET(opts, data, NULL);
	const struct pyperf_build_id *kbid = NULL;
	struct pyperf_machine *m;

	if (!OPTS_VALID(opts, pyperf_machine_opts))
		return pyperf_err_ptr(-EINVAL);
	m = pp_calloc(1, sizeof(*m));
	if (!m)
		return pyperf_err_ptr(-ENOMEM);
	m->syms = syms;
	m->data = data;
	pp_strtab_init(&m->comms);
	pp_arena_init(&m->arena, 64 * 1024);
	m->kernel.gen = next_generation();
	/*
	 * perf report makes a dso for each entry of the build-id table as it
	 * reads the header, before any record, and orders call-graph branches
	 * of equal weight by dso (by its address: roughly that order). Making
	 * ours in the same order keeps such ties printed alike.
	 */
	for (size_t i = 0; data && i < pyperf_data__nr_build_ids(data); i++) {
		const struct pyperf_build_id *b = pyperf_data__build_id(data, i);

		if (!strcmp(b->filename, "[kernel.kallsyms]") &&
		    b->cpumode == PYPERF_CPUMODE_KERNEL && !m->kernel_dso) {
			kbid = b;
			m->kernel_dso = pyperf_symbols__kernel_dso(
			    syms, kbid, pyperf_data__feature_string(data, PYPERF_FEAT_OSRELEASE));
		} else if (b->cpumode == PYPERF_CPUMODE_USER && b->filename[0] == '/') {
			pyperf_symbols__findnew_dso(syms, b->filename, b);
		}
	}
	if (!m->kernel_dso)
		m->kernel_dso = pyperf_symbols__kernel_dso(
		    syms, kbid,
		    data ? pyperf_data__feature_string(data, PYPERF_FEAT_OSRELEASE) : NULL);
	m->unknown_dso = symbols_add_dso(syms, "[unknown]", PYPERF_DSO_UNKNOWN, NULL, 0);
	if (!m->kernel_dso || !m->unknown_dso) {
		pyperf_machine__free(m);
		return pyperf_err_ptr(-ENOMEM);
	}
	return m;
}

PYPERF_API void pyperf_machine__free(struct pyperf_machine *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->nr_all_maps; i++) {
		free(m->all_maps[i]->v);
		free(m->all_maps[i]);
	}
	free(m->all_maps);
	free(m->overrides);
	free(m->kernel.v);
	free(m->threads);
	pp_strtab_free(&m->comms);
	pp_arena_free(&m->arena);
	free(m);
}

PYPERF_API size_t pyperf_machine__nr_threads(const struct pyperf_machine *m)
{
	return m->nr_threads;
}

static int cmp_pid(const void *a, const void *b)
{
	int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;

	return (x > y) - (x < y);
}

/* Distinct process ids among the threads (not address spaces: exec makes a
 * new one for the same process). */
PYPERF_API size_t pyperf_machine__nr_processes(const struct pyperf_machine *m)
{
	int32_t *v = pp_calloc(m->nr_threads + 1, sizeof(*v));
	size_t n = 0, count = 0;

	if (!v)
		return m->nr_processes;
	for (size_t i = 0; i < m->threads_cap; i++)
		if (m->threads[i] && m->threads[i]->pid >= 0)
			v[n++] = m->threads[i]->pid;
	qsort(v, n, sizeof(*v), cmp_pid);
	for (size_t i = 0; i < n; i++)
		if (!i || v[i] != v[i - 1])
			count++;
	free(v);
	return count;
}

PYPERF_API struct pyperf_dso *pyperf_machine__unknown_dso(struct pyperf_machine *m)
{
	return m->unknown_dso;
}

/* ---- records ------------------------------------------------------------------------ */

static const struct pyperf_build_id *build_id_for(struct pyperf_machine *m, const char *filename,
						  struct pyperf_build_id *tmp,
						  const struct pyperf_record_mmap *mm)
{
	if (mm && mm->has_build_id && mm->build_id_size) {
		memset(tmp, 0, sizeof(*tmp));
		tmp->size = mm->build_id_size;
		memcpy(tmp->id, mm->build_id, mm->build_id_size);
		tmp->filename = filename;
		return tmp;
	}
	return m->data ? pyperf_data__find_build_id(m->data, filename) : NULL;
}

/* "/lib/modules/.../virtio_net.ko.xz" or "[virtio_net]" -> "[virtio_net]" */
static void module_name(const char *filename, char *out, size_t size)
{
	const char *b = strrchr(filename, '/');
	size_t n;

	if (filename[0] == '[') {
		snprintf(out, size, "%s", filename);
		return;
	}
	b = b ? b + 1 : filename;
	n = strcspn(b, ".");
	snprintf(out, size, "[%.*s]", (int)n, b);
	for (char *p = out; *p; p++)
		if (*p == '-')
			*p = '_';
}

static int process_kernel_mmap(struct pyperf_machine *m, const struct pyperf_record_mmap *mm)
{
	struct pyperf_map map = {.start = mm->start,
				 .end = mm->start + mm->len,
				 .pgoff = mm->pgoff,
				 .prot = PROT_EXEC,
				 .identity = true};

	if (!strncmp(mm->filename, "[kernel.kallsyms]", 17) ||
	    !strncmp(mm->filename, "[guest.kernel", 13)) {
		map.dso = m->kernel_dso;
		/* A zero-sized kernel map came from old perf versions: cover all. */
		if (!mm->start && !mm->len)
			map.end = UINT64_MAX;
	} else if (mm->filename[0] == '/' || mm->filename[0] == '[') {
		char name[256];

		module_name(mm->filename, name, sizeof(name));
		map.dso = symbols_add_dso(m->syms, name, PYPERF_DSO_KMODULE, NULL, 0);
		if (!map.dso)
			return -ENOMEM;
		map.dso->loaded = true; /* symbols come from the kernel's kallsyms */
	} else {
		return 0;
	}
	return maps_insert(&m->kernel, &map);
}

/* The anonymous memory perf treats as JIT code named by a perf map. */
static bool jit_candidate(const char *f, uint32_t flags)
{
	return !strcmp(f, "//anon") || !strncmp(f, "/dev/zero", 9) ||
	       !strncmp(f, "/anon_hugepage", 14) || (flags & MAP_HUGETLB) ||
	       !strncmp(f, "[stack", 6) || !strncmp(f, "/SYSV", 5) || !strcmp(f, "[heap]");
}

static int process_mmap(struct pyperf_machine *m, const struct pyperf_record *rec)
{
	const struct pyperf_record_mmap *mm = &rec->mmap;
	uint8_t cpumode = rec->misc & PYPERF_CPUMODE_MASK;
	struct pyperf_build_id tmp;
	struct pyperf_thread *th;
	struct pyperf_map map = {0};
	const char *filename = mm->filename;
	char jit[64];
	bool anon;

	if (cpumode == PYPERF_CPUMODE_KERNEL || cpumode == PYPERF_CPUMODE_GUEST_KERNEL)
		return process_kernel_mmap(m, mm);
	th = pyperf_machine__findnew_thread(m, (int32_t)mm->pid, (int32_t)mm->tid);
	if (!th)
		return -ENOMEM;
	anon = jit_candidate(filename, mm->flags);
	map.start = mm->start;
	map.end = mm->start + mm->len;
	map.pgoff = mm->pgoff;
	map.prot = mm->prot;
	map.flags = mm->flags;
	if (anon && (mm->prot & PROT_EXEC)) {
		snprintf(jit, sizeof(jit), "/tmp/perf-%d.map", th->pid >= 0 ? th->pid : th->tid);
		filename = jit;
	}
	if (!strcmp(filename, "[vdso]"))
		map.pgoff = 0;
	map.dso = NULL;
	for (size_t i = 0; i < m->nr_overrides; i++)
		if (!strcmp(m->overrides[i].filename, filename))
			map.dso = m->overrides[i].dso;
	if (!map.dso)
		map.dso = pyperf_symbols__findnew_dso(m->syms, filename,
						      build_id_for(m, filename, &tmp, mm));
	if (!map.dso)
		return -ENOMEM;
	map.identity = anon;
	if (map.end < map.start)
		return 0;
	return maps_insert(th->maps, &map);
}

static int process_comm(struct pyperf_machine *m, const struct pyperf_record *rec)
{
	struct pyperf_thread *th =
	    pyperf_machine__findnew_thread(m, (int32_t)rec->comm.pid, (int32_t)rec->comm.tid);

	if (!th)
		return -ENOMEM;
	th->comm = intern_comm(m, rec->comm.comm);
	if (!th->comm)
		return -ENOMEM;
	th->comm_set = true;
	if (rec->comm.exec && th->maps) {
		/* A new program: the old one's maps are gone. Other threads of
		 * the process died with the exec. */
		struct maps *fresh = maps_new(m, th->pid);

		if (!fresh)
			return -ENOMEM;
		th->maps = fresh;
	}
	return 0;
}

static int process_fork(struct pyperf_machine *m, const struct pyperf_record *rec)
{
	const struct pyperf_record_task *t = &rec->task;
	struct pyperf_thread *parent, *th;

	parent = pyperf_machine__findnew_thread(m, (int32_t)t->ppid, (int32_t)t->ptid);
	if (!parent)
		return -ENOMEM;
	/* A tid being reused: the old thread is gone. */
	th = thread_find(m, (int32_t)t->tid);
	if (th && th != parent)
		thread_unlink(m, th);
	th = thread_new(m, (int32_t)t->pid, (int32_t)t->tid);
	if (!th)
		return -ENOMEM;
	if (parent->comm_set) {
		th->comm = parent->comm;
		th->comm_set = true;
	}
	th->ppid = parent->tid;
	if (th->pid == parent->pid) {
		/* A new thread shares its process's maps. */
		if (thread_attach_maps(m, th))
			return -ENOMEM;
	} else {
		/* A new process starts with a copy of its parent's. Synthesized
		 * FORKs (misc FORK_EXEC) must not copy: their MMAPs follow. */
		bool clone = !(rec->misc & (1 << 13));

		th->maps = maps_clone(m, clone ? parent->maps : NULL, th->pid);
		if (!th->maps)
			return -ENOMEM;
	}
	return 0;
}

static int process_ksymbol(struct pyperf_machine *m, const struct pyperf_record *rec)
{
	const struct pyperf_record_ksymbol *k = &rec->ksymbol;
	struct pyperf_map map = {
	    .start = k->addr, .end = k->addr + k->len, .identity = true, .prot = PROT_EXEC};

	if (k->flags & 1) { /* unregister */
		maps_remove_range(&m->kernel, map.start, map.end);
		return 0;
	}
	map.dso = pyperf_symbols__bpf_dso(m->syms, k->name, k->addr, k->len);
	if (!map.dso)
		return -ENOMEM;
	return maps_insert(&m->kernel, &map);
}

PYPERF_API int pyperf_machine__process(struct pyperf_machine *m, const struct pyperf_record *rec)
{
	int ret = 0;

	switch (rec->type) {
	case PYPERF_RECORD_MMAP:
	case PYPERF_RECORD_MMAP2:
		ret = process_mmap(m, rec);
		break;
	case PYPERF_RECORD_COMM:
		ret = process_comm(m, rec);
		break;
	case PYPERF_RECORD_FORK:
		ret = process_fork(m, rec);
		break;
	case PYPERF_RECORD_EXIT: {
		struct pyperf_thread *th = thread_find(m, (int32_t)rec->task.tid);

		if (th)
			th->exited = true;
		break;
	}
	case PYPERF_RECORD_KSYMBOL:
		ret = process_ksymbol(m, rec);
		break;
	default:
		break;
	}
	return pyperf_err(ret);
}

/* ---- lookups -------------------------------------------------------------------------- */

PYPERF_API int32_t pyperf_thread__pid(const struct pyperf_thread *t)
{
	return t->pid;
}

PYPERF_API int32_t pyperf_thread__tid(const struct pyperf_thread *t)
{
	return t->tid;
}

PYPERF_API int32_t pyperf_thread__ppid(const struct pyperf_thread *t)
{
	return t->ppid;
}

PYPERF_API const char *pyperf_thread__comm(const struct pyperf_thread *t)
{
	return t->comm;
}

PYPERF_API bool pyperf_thread__exited(const struct pyperf_thread *t)
{
	return t->exited;
}

PYPERF_API uint64_t pyperf_thread__maps_generation(const struct pyperf_thread *t)
{
	return t->maps ? t->maps->gen : 0;
}

static bool is_kernel_mode(uint8_t cpumode)
{
	return cpumode == PYPERF_CPUMODE_KERNEL;
}

PYPERF_API const struct pyperf_map *pyperf_thread__find_map(struct pyperf_thread *t,
							    uint8_t cpumode, uint64_t addr)
{
	if (is_kernel_mode(cpumode))
		return maps_find(&t->m->kernel, addr);
	if (cpumode != PYPERF_CPUMODE_USER || !t->maps)
		return NULL;
	return maps_find(t->maps, addr);
}

PYPERF_API uint64_t pyperf_map__map_ip(const struct pyperf_map *map, uint64_t addr)
{
	return map->identity ? addr : addr - map->start + map->pgoff;
}

PYPERF_API bool pyperf_thread__resolve(struct pyperf_thread *t, uint8_t cpumode, uint64_t addr,
				       struct pyperf_addr_loc *loc)
{
	const struct pyperf_map *map = pyperf_thread__find_map(t, cpumode, addr);

	loc->map = map;
	loc->cpumode = cpumode;
	loc->sym = NULL;
	if (!map) {
		loc->dso = t->m->unknown_dso;
		loc->addr = addr;
		return false;
	}
	loc->dso = map->dso;
	loc->addr = pyperf_map__map_ip(map, addr);
	/* Modules' symbols live in the kernel's kallsyms table. */
	if (map->dso->kind == PYPERF_DSO_KMODULE)
		loc->sym = pyperf_dso__find_symbol(t->m->kernel_dso, loc->addr);
	else if (map->dso->kind != PYPERF_DSO_ANON && map->dso->kind != PYPERF_DSO_UNKNOWN)
		loc->sym = pyperf_dso__find_symbol(map->dso, loc->addr);
	return loc->sym != NULL;
}

PYPERF_API uint64_t pyperf_machine__kernel_generation(const struct pyperf_machine *m)
{
	return m->kernel.gen;
}

int machine_override_dso(struct pyperf_machine *m, const char *filename, struct pyperf_dso *dso)
{
	const char *f = intern_comm(m, filename);

	if (!f || PP_GROW(m->overrides, m->cap_overrides, m->nr_overrides + 1))
		return -ENOMEM;
	m->overrides[m->nr_overrides].filename = f;
	m->overrides[m->nr_overrides].dso = dso;
	m->nr_overrides++;
	return 0;
}

bool machine_has_override(const struct pyperf_machine *m, const char *filename)
{
	for (size_t i = 0; i < m->nr_overrides; i++)
		if (!strcmp(m->overrides[i].filename, filename))
			return true;
	return false;
}
