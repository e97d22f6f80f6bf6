// SPDX-License-Identifier: MIT
/*
 * Build ids of the sampled binaries, written into the file and kept in
 * perf's build-id cache, as perf record does at the end.
 */
#include "record_internal.h"

/* ---- finishing ------------------------------------------------------------------------- */

/* Build ids of the objects the samples hit, and the recorded processes. */
int pyperf_recorder_scan_recording(struct pyperf_recorder *r, struct hit_dso **hits,
				   size_t *nr_hits, pid_t **pids, size_t *nr_pids)
{
	struct pyperf_symbols *syms = pyperf_symbols__new(NULL);
	struct pyperf_data *d = syms ? pyperf_data__open(r->write_path, NULL, NULL) : NULL;
	PYPERF_OPTS(pyperf_machine_opts, mopts, .data = d);
	struct pyperf_machine *m = d ? pyperf_machine__new(syms, &mopts) : NULL;
	const struct pyperf_record *rec;
	size_t cap_hits = 0, cap_pids = 0;
	struct pyperf_dso *last = NULL;
	int ret = -ENOMEM;

	*hits = NULL;
	*nr_hits = 0;
	*pids = NULL;
	*nr_pids = 0;
	if (!m)
		goto out;
	while (pyperf_data__next_ordered(d, &rec, NULL) > 0) {
		const struct pyperf_sample *s = &rec->sample;
		struct pyperf_thread *th;
		uint8_t cpumode;

		if (rec->type == PYPERF_RECORD_COMM || rec->type == PYPERF_RECORD_FORK) {
			pid_t p = (pid_t)(rec->type == PYPERF_RECORD_COMM ? rec->comm.pid
									  : rec->task.pid);
			bool seen = false;

			for (size_t i = 0; i < *nr_pids && !seen; i++)
				seen = (*pids)[i] == p;
			if (!seen) {
				if (PP_GROW(*pids, cap_pids, *nr_pids + 1))
					goto out;
				(*pids)[(*nr_pids)++] = p;
			}
		}
		if (rec->type != PYPERF_RECORD_SAMPLE) {
			pyperf_machine__process(m, rec);
			continue;
		}
		th = pyperf_machine__findnew_thread(m, (int32_t)s->pid, (int32_t)s->tid);
		if (!th)
			goto out;
		cpumode = (uint8_t)s->cpumode;
		for (uint64_t i = 0; i <= s->callchain_nr; i++) {
			uint64_t ip = i == 0 ? s->ip : s->callchain[i - 1];
			const struct pyperf_map *map;

			if (ip >= PYPERF_CONTEXT_MAX) {
				cpumode = ip == PYPERF_CONTEXT_KERNEL ? PYPERF_CPUMODE_KERNEL
								      : PYPERF_CPUMODE_USER;
				continue;
			}
			map = pyperf_thread__find_map(th, cpumode, ip);
			if (!map || map->dso == last)
				continue;
			last = map->dso;
			{
				const char *name = pyperf_dso__name(map->dso);
				bool seen = false;

				for (size_t k = 0; k < *nr_hits && !seen; k++)
					seen = !strcmp((*hits)[k].name, name);
				if (seen)
					continue;
				if (PP_GROW(*hits, cap_hits, *nr_hits + 1))
					goto out;
				(*hits)[*nr_hits].name = pp_strdup(name);
				(*hits)[*nr_hits].cpumode = cpumode;
				if (!(*hits)[*nr_hits].name)
					goto out;
				(*nr_hits)++;
			}
		}
	}
	r->stats.processes = pyperf_machine__nr_processes(m);
	r->stats.threads = pyperf_machine__nr_threads(m);
	ret = 0;
out:
	pyperf_machine__free(m);
	pyperf_data__close(d);
	pyperf_symbols__free(syms);
	return ret;
}

/* As perf record does: the binaries stay readable after a rebuild. */
static void cache_build_id(struct pyperf_recorder *r, const char *name, const uint8_t *id, size_t n)
{
	char dir[PATH_MAX];
	int ret;

	if (r->o.no_buildid_cache || r->buildid_cache_failed ||
	    !pyperf_buildid_cache_dir(r->o.buildid_dir, dir, sizeof(dir)))
		return;
	ret = pyperf_buildid_cache_add(dir, name, id, n);
	if (!ret) {
		r->stats.buildid_cached++;
		return;
	}
	if (ret == -EINVAL)
		return; /* a deleted or odd file name: nothing to keep */
	if (ret == -EPERM && !strcmp(name, "[kernel.kallsyms]"))
		return; /* kallsyms without addresses (kptr_restrict) */
	r->buildid_cache_failed = true;
	if (ret == -EPERM)
		pyperf_recorder_note(
		    r,
		    "build-id cache %s is not ours (another user's $HOME?): binaries not kept "
		    "there",
		    dir);
	else
		pyperf_recorder_note(
		    r,
		    "build-id cache %s: %s: %s; reports after a rebuild of the recorded binaries "
		    "will "
		    "lack their symbols",
		    dir, name, strerror(-ret));
}

/* BUILD_ID feature: one build_id_event per object, as perf writes them. */
int pyperf_recorder_add_build_ids(struct pyperf_recorder *r, const struct hit_dso *hits, size_t nr)
{
	uint8_t *buf = NULL;
	size_t len = 0, cap = 0;
	int ret;

	for (size_t i = 0; i < nr; i++) {
		uint8_t id[20] = {0};
		int n;
		const char *name = hits[i].name;
		size_t nlen = strlen(name), size;
		uint16_t misc, size16;
		uint32_t type = PYPERF_RECORD_HEADER_BUILD_ID;
		int32_t pid = -1;

		if (!strcmp(name, "[kernel.kallsyms]"))
			n = pyperf_kernel_build_id(id);
		else if (name[0] == '/' && strncmp(name, "/tmp/perf-", 10))
			n = pyperf_read_build_id(name, id);
		else
			continue;
		if (n <= 0)
			continue;
		cache_build_id(r, name, id, (size_t)n);
		size = 8 + 4 + 24 + ALIGN_UP(nlen + 1, 64);
		if (PP_GROW(buf, cap, len + size)) {
			free(buf);
			return -ENOMEM;
		}
		memset(buf + len, 0, size);
		misc =
		    (uint16_t)((hits[i].cpumode == PYPERF_CPUMODE_KERNEL ? PERF_RECORD_MISC_KERNEL
									 : PERF_RECORD_MISC_USER) |
			       (1 << 15) /* PERF_RECORD_MISC_BUILD_ID_SIZE */);
		size16 = (uint16_t)size;
		memcpy(buf + len, &type, 4);
		memcpy(buf + len + 4, &misc, 2);
		memcpy(buf + len + 6, &size16, 2);
		memcpy(buf + len + 8, &pid, 4);
		memcpy(buf + len + 12, id, (size_t)n);
		buf[len + 12 + 20] = (uint8_t)n;
		memcpy(buf + len + 36, name, nlen);
		len += size;
	}
	ret = len ? pyperf_data_writer__add_feature(r->w, PYPERF_FEAT_BUILD_ID, buf, len) : 0;
	free(buf);
	return ret;
}

/*
 * Copies of perf maps and jitdumps: u32 version, u32 count, then per file
 * u32 kind (1 perf map, 2 jitdump), u32 pid, u64 size, a perf_header_string
 * with the original path, the bytes, padding to 8.
 */
/*
 * Whether a perf map or jitdump last written at @mtime can be recorded
 * process @pid's: not when written before the process started, which
 * makes it a dead process's with the same pid (pids wrap, /tmp keeps maps
 * for ever). Processes attached to started when /proc said; every other
 * recorded process started after the recording did. One second of slack
 * for the clocks' granularity, as the map writer allows.
 */
