// SPDX-License-Identifier: MIT
/*
 * The recorder: perf_event_open through libperf, ring buffers drained into
 * a perf.data file, then the features that make the file self-contained.
 */
#include "record_internal.h"

static int libperf_print(enum libperf_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	(void)fmt;
	(void)ap;
	return 0;
}

void pyperf_recorder_note(struct pyperf_recorder *r, const char *fmt, ...)
{
	size_t len = strlen(r->notes);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->notes + len, sizeof(r->notes) - len, fmt, ap);
	va_end(ap);
	len = strlen(r->notes);
	if (len + 1 < sizeof(r->notes)) {
		r->notes[len] = '\n';
		r->notes[len + 1] = 0;
	}
}

double pyperf_recorder_realtime_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

unsigned pyperf_recorder_read_proc_uint(const char *path, unsigned fallback)
{
	FILE *f = fopen(path, "re");
	unsigned v;

	if (!f)
		return fallback;
	if (fscanf(f, "%u", &v) != 1)
		v = fallback;
	fclose(f);
	return v;
}

/*
 * The recording is written to a new file beside the output, which takes
 * the output's name only once the command runs or the pids are attached
 * to: a start that fails (no such command or pid) leaves an older file of
 * that name where it was and writes nothing, an output nobody can create
 * fails before any command runs, and a symlink planted at the name is
 * replaced, never followed. A device (-o /dev/null) is written as it is.
 */
static int open_output(struct pyperf_recorder *r, struct pyperf_error *err)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(r->output, '/'), *base = slash ? slash + 1 : r->output;
	struct stat st;
	int fd;

	if (!stat(r->output, &st) && !S_ISREG(st.st_mode)) {
		if (!S_ISCHR(st.st_mode))
			return pyperf_error_set(err, S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL,
						PYPERF_NO_OFFSET, r->output,
						"is not a regular file; give -o another name");
		fd = open(r->output, O_WRONLY | O_CLOEXEC | O_NOCTTY);
		if (fd < 0)
			return pyperf_error_set(err, -errno, PYPERF_NO_OFFSET, r->output,
						"cannot open: %s", strerror(errno));
		snprintf(r->write_path, sizeof(r->write_path), "%s", r->output);
	} else {
		if (!*base)
			return pyperf_error_set(err, -EISDIR, PYPERF_NO_OFFSET, r->output,
						"names a folder; give -o a file name");
		if (slash)
			snprintf(dir, sizeof(dir), "%.*s",
				 (int)(slash - r->output + (slash == r->output)), r->output);
		else
			snprintf(dir, sizeof(dir), ".");
		if (snprintf(r->write_path, sizeof(r->write_path), "%s/.%s.pyperf-XXXXXX", dir,
			     base) >= (int)sizeof(r->write_path))
			return pyperf_error_set(err, -ENAMETOOLONG, PYPERF_NO_OFFSET, r->output,
						"name too long");
		fd = mkostemp(r->write_path, O_CLOEXEC);
		if (fd < 0)
			return pyperf_error_set(err, -errno, PYPERF_NO_OFFSET, r->output,
						"cannot create a file in %s: %s", dir,
						strerror(errno));
		r->temp_output = true;
	}
	r->w = pyperf_data_writer_open_fd(fd, r->output, err);
	if (!r->w) {
		if (r->temp_output)
			unlink(r->write_path);
		return -ENOMEM;
	}
	return 0;
}

/* The recording takes the output's name once started; an older file
 * there becomes FILE.old, as perf does. */
int pyperf_recorder_commit_output(struct pyperf_recorder *r, struct pyperf_error *err)
{
	char old[PATH_MAX + 8];
	struct stat st;

	if (!r->temp_output)
		return 0;
	if (!lstat(r->output, &st) && S_ISREG(st.st_mode) && st.st_size) {
		snprintf(old, sizeof(old), "%s.old", r->output);
		if (rename(r->output, old)) {
			r->keep_temp = true;
			return pyperf_error_set(err, -errno, PYPERF_NO_OFFSET, r->output,
						"cannot rename to %s: %s (the recording is in %s)",
						old, strerror(errno), r->write_path);
		}
	}
	if (rename(r->write_path, r->output)) {
		r->keep_temp = true;
		return pyperf_error_set(err, -errno, PYPERF_NO_OFFSET, r->output,
					"cannot rename %s to it: %s (the recording is there)",
					r->write_path, strerror(errno));
	}
	r->temp_output = false;
	snprintf(r->write_path, sizeof(r->write_path), "%s", r->output); /* read back at finish */
	return 0;
}

PYPERF_API struct pyperf_recorder *pyperf_recorder__new(const struct pyperf_record_opts *opts,
							struct pyperf_error *err)
{
	struct pyperf_recorder *r;
	const char *out;
	int ret;

	if (!OPTS_VALID(opts, pyperf_record_opts)) {
		pyperf_error_set(err, -EINVAL, PYPERF_NO_OFFSET, NULL, "invalid options");
		return pyperf_err_ptr(-EINVAL);
	}
	r = pp_calloc(1, sizeof(*r));
	if (!r) {
		pyperf_error_set(err, -ENOMEM, PYPERF_NO_OFFSET, NULL, "out of memory");
		return NULL;
	}
	if (opts)
		memcpy(&r->o, opts, MIN(opts->sz, sizeof(r->o)));
	r->o.sz = sizeof(r->o);
	r->child = -1;
	r->go_fd = r->exec_err_fd = -1;
	r->child_status = -1;
	out = r->o.output && *r->o.output ? r->o.output : "perf.data";
	snprintf(r->output, sizeof(r->output), "%s", out);
	r->o.output = r->output;
	if (r->o.python_dir && strlen(r->o.python_dir) < sizeof(r->python_dir))
		strcpy(r->python_dir, r->o.python_dir);
	r->o.python_dir = r->python_dir[0] ? r->python_dir : NULL;
	r->default_pages = !r->o.mmap_pages;
	if (!r->o.mmap_pages)
		r->o.mmap_pages = DEFAULT_PAGES;
	if (r->o.mmap_pages & (r->o.mmap_pages - 1)) {
		pyperf_error_set(err, -EINVAL, PYPERF_NO_OFFSET, NULL,
				 "ring buffer size %u is not a power of two pages",
				 r->o.mmap_pages);
		free(r);
		return pyperf_err_ptr(-EINVAL);
	}
	libperf_init(libperf_print);

	ret = open_output(r, err);
	if (ret) {
		free(r);
		return pyperf_err_ptr(ret);
	}
	return r;
}

static bool child_done(struct pyperf_recorder *r)
{
	int status;

	if (!r->launched || r->child < 0)
		return false;
	if (r->child_status != -1)
		return true;
	if (waitpid(r->child, &status, WNOHANG) == r->child) {
		r->child_status = status;
		return true;
	}
	return false;
}

PYPERF_API int pyperf_recorder__run(struct pyperf_recorder *r, struct pyperf_error *err)
{
	int ret;

	if (!r->started)
		return pyperf_err(-EINVAL);
	for (;;) {
		bool done = r->stop || child_done(r);

		ret = pyperf_recorder_drain(r);
		if (ret && r->sink_err)
			return pyperf_err(pyperf_error_set(err, ret, PYPERF_NO_OFFSET, r->output,
							   "the record sink stopped recording: %s",
							   strerror(-ret)));
		if (ret)
			return pyperf_err(pyperf_error_set(err, ret, PYPERF_NO_OFFSET, r->output,
							   "cannot write: %s", strerror(-ret)));
		if (done)
			break;
		if (r->attached && perf_evlist__filter_pollfd(r->evlist, POLLERR | POLLHUP) == 0)
			break; /* every attached thread is gone */
		/* A signal (child exit, Ctrl-C) interrupts the wait early. */
		perf_evlist__poll(r->evlist, r->backlog ? 0 : 100);
	}
	return 0;
}

PYPERF_API void pyperf_recorder__stop(struct pyperf_recorder *r)
{
	r->stop = 1;
}

PYPERF_API void pyperf_recorder__signal_child(struct pyperf_recorder *r, int sig)
{
	if (r->launched && r->child > 0 && r->child_status == -1)
		kill(r->child, sig);
}

static int write_lost_samples(struct pyperf_recorder *r)
{
	struct perf_evsel *evsels[2] = {r->evsel, r->sw_evsel};
	int ncpu = perf_cpu_map__nr(r->cpus), nthr = perf_thread_map__nr(r->threads);
	uint64_t total = 0;

	if (r->no_read_lost)
		return 0;
	for (int e = 0; e < 2 && evsels[e]; e++) {
		for (int c = 0; c < ncpu; c++) {
			for (int t = 0; t < nthr; t++) {
				struct perf_counts_values v = {0};
				uint8_t buf[64] = {0};
				uint32_t type = PERF_RECORD_LOST_SAMPLES, pid = 0, tid = 0;
				uint16_t size;
				size_t off;
				int ret;

				if (perf_evsel__read(evsels[e], c, t, &v) || !v.lost)
					continue;
				total += v.lost;
				memcpy(buf, &type, 4);
				memcpy(buf + 8, &v.lost, 8);
				off = 16 + pyperf_recorder_trailer(r, buf + 16, pid, tid);
				/* the instance's id, so that readers know the event */
				if (r->o.off_cpu)
					memcpy(buf + off - 8, &v.id, 8);
				size = (uint16_t)off;
				memcpy(buf + 6, &size, 2);
				ret = pyperf_recorder_write_rec(r, buf, off);
				if (ret)
					return ret;
			}
		}
	}
	r->stats.lost_samples = MAX(r->stats.lost_samples, total);
	return 0;
}

PYPERF_API int pyperf_recorder__finish(struct pyperf_recorder *r, struct pyperf_error *err)
{
	struct hit_dso *hits = NULL;
	pid_t *pids = NULL;
	size_t nr_hits = 0, nr_pids = 0;
	struct rusage ru;
	struct timespec now;
	char version[64];
	int ret;

	if (r->finished)
		return 0;
	r->finished = true;
	if (!r->started)
		return pyperf_err(-EINVAL);
	perf_evlist__disable(r->evlist);
	ret = pyperf_recorder_drain(r);
	if (!ret && r->online)
		ret = pyperf_recorder_flush_queue(r, UINT64_MAX, 0);
	if (!ret)
		ret = write_lost_samples(r);
	if (!ret && r->online && r->wrote) {
		static const struct perf_event_header round = {PERF_RECORD_FINISHED_ROUND, 0, 8};

		ret = pyperf_recorder_write_rec(r, &round, sizeof(round));
	}
	if (ret)
		goto write_error;
	/* The data so far must be on disk to be read back. */
	ret = pyperf_data_writer__flush(r->w);
	if (ret)
		goto write_error;
	pyperf_recorder_scan_recording(r, &hits, &nr_hits, &pids, &nr_pids);
	snprintf(version, sizeof(version), "pyperf-record %s", pyperf_version());
	if ((ret = sysinfo_write_features(r->w, version)) || (ret = sysinfo_write_cmdline(r->w)) ||
	    (ret = pyperf_recorder_add_build_ids(r, hits, nr_hits)) ||
	    (ret = pyperf_recorder_embed_files(r, pids, nr_pids)))
		goto write_error;
	for (size_t k = 0; k < r->nr_py; k++)
		if (r->py[k].seen && !r->py[k].named)
			pyperf_recorder_note(
			    r,
			    "warning: pid %d (Python %d.%d) named no Python function for perf (no "
			    "/tmp/perf-%d.map): its samples show interpreter frames only%s",
			    r->py[k].pid, r->py[k].version / 100, r->py[k].version % 100,
			    r->py[k].pid,
			    r->launched
				? " (did it run with -I, -E or -S, which skip PYTHONPATH or "
				  "site?)"
				: "");
	/* the format of sched_switch, for decoding anywhere (perf's
	 * tracing-data section, which perf script reads too) */
	if (r->tracing && (ret = pyperf_data_writer__add_feature(r->w, PYPERF_FEAT_TRACING_DATA,
								 r->tracing, r->tracing_size)))
		goto write_error;
	if (r->first_time) {
		uint64_t t[2] = {r->first_time, r->last_time};

		if ((ret = pyperf_data_writer__add_feature(r->w, PYPERF_FEAT_SAMPLE_TIME, t,
							   sizeof(t))))
			goto write_error;
	}
	ret = pyperf_data_writer__finish(r->w);
	if (ret)
		goto write_error;
	r->stats.bytes_written = pyperf_data_writer__data_size(r->w);
	if (!getrusage(RUSAGE_SELF, &ru))
		r->stats.recorder_cpu_seconds =
		    (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
		    (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
	clock_gettime(CLOCK_MONOTONIC, &now);
	r->stats.wall_seconds =
	    (double)(now.tv_sec - r->t0.tv_sec) + (double)(now.tv_nsec - r->t0.tv_nsec) / 1e9;
	ret = pyperf_recorder_commit_output(r, err);
	goto out;
write_error:
	pyperf_error_set(err, ret, PYPERF_NO_OFFSET, r->output, "cannot write: %s", strerror(-ret));
	r->stats.write_failed = true;
	/* what was written is kept, as perf keeps a cut perf.data: the
	 * reader takes what it can (the error above is the first word) */
	pyperf_recorder_commit_output(r, NULL);
out:
	for (size_t i = 0; i < nr_hits; i++)
		free(hits[i].name);
	free(hits);
	free(pids);
	return pyperf_err(ret);
}

PYPERF_API int pyperf_recorder__child_status(const struct pyperf_recorder *r)
{
	return r->child_status;
}

PYPERF_API pid_t pyperf_recorder__child_pid(const struct pyperf_recorder *r)
{
	return r->launched ? r->child : -1;
}

PYPERF_API const struct pyperf_record_stats *pyperf_recorder__stats(const struct pyperf_recorder *r)
{
	return &r->stats;
}

PYPERF_API const char *pyperf_recorder__notes(const struct pyperf_recorder *r)
{
	return r->notes;
}

PYPERF_API int pyperf_recorder__set_sink(struct pyperf_recorder *r, pyperf_record_sink_fn_t fn,
					 void *ctx)
{
	if (r->started || r->sink_decoder)
		return pyperf_err(-EINVAL);
	r->sink = fn;
	r->sink_ctx = ctx;
	return 0;
}

PYPERF_API void pyperf_recorder__free(struct pyperf_recorder *r)
{
	if (!r)
		return;
	pyperf_recorder_evlist_delete(r->evlist);
	perf_cpu_map__put(r->cpus);
	perf_thread_map__put(r->threads);
	if (r->go_fd >= 0)
		close(r->go_fd);
	if (r->exec_err_fd >= 0)
		close(r->exec_err_fd);
	pyperf_data_writer__close(r->w);
	/* never finished (the start failed): nothing is left behind */
	if (r->temp_output && !r->keep_temp)
		unlink(r->write_path);
	pyperf_decoder__free(r->decoder);
	pyperf_decoder__free(r->sink_decoder);
	pyperf_machine__free(r->machine);
	pyperf_unwinder__free(r->unwinder);
	pyperf_symbols__free(r->syms);
	free(r->uips);
	free(r->outbuf);
	pyperf_order_queue_free(&r->queue);
	pp_arena_free(&r->pass_arena[0]);
	pp_arena_free(&r->pass_arena[1]);
	free(r->attach_pids);
	free(r->attach_started);
	free(r->tracing);
	free(r->sw_ids);
	free(r);
}
