/* SPDX-License-Identifier: MIT */
/*
 * The interpreter-frame walker's BPF side: loading the program (compiled
 * at build time and embedded as a libbpf skeleton), the processes it
 * walks, the events it runs on and the bpf-output events it writes to.
 */
#include <fcntl.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "interp_internal.h"
#include "interp_walk.skel.h"

struct pyperf_interp_walker {
	struct interp_walk *skel;
	struct bpf_link **links;
	size_t nr_links, cap_links;
	int *fds; /* bpf-output events we opened */
	size_t nr_fds, cap_fds;
	int ncpus;
	unsigned max_frames;
	bool switch_attached;
};

/* libbpf's messages are details of our error: debug level, through our hook. */
static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char line[512];

	if (level == LIBBPF_DEBUG)
		return 0;
	vsnprintf(line, sizeof(line), fmt, ap);
	pyperf_print(PYPERF_DEBUG, "libpyperf: libbpf: %s", line);
	return 0;
}

/* "none", "integrity" or "confidentiality": the kernel's lockdown mode. */
static void lockdown_mode(char *out, size_t size)
{
	char buf[128] = "", *l, *r;
	FILE *f = fopen("/sys/kernel/security/lockdown", "re");

	snprintf(out, size, "none");
	if (!f)
		return;
	if (fgets(buf, sizeof(buf), f) && (l = strchr(buf, '[')) && (r = strchr(l, ']'))) {
		*r = 0;
		snprintf(out, size, "%s", l + 1);
	}
	fclose(f);
}

static int load_error(int ret, struct pyperf_error *err)
{
	char mode[32];

	lockdown_mode(mode, sizeof(mode));
	if (strcmp(mode, "none"))
		return pyperf_error_set(
		    err, -EPERM, PYPERF_NO_OFFSET, "bpf",
		    "the kernel is locked down (%s): it refuses the BPF program "
		    "that reads Python frames; use perf maps",
		    mode);
	if (ret == -EPERM || ret == -EACCES)
		return pyperf_error_set(err, -EPERM, PYPERF_NO_OFFSET, "bpf",
					"no permission to load BPF programs (needs root, or "
					"CAP_BPF and CAP_PERFMON); use perf maps");
	return pyperf_error_set(err, ret, PYPERF_NO_OFFSET, "bpf",
				"the kernel refused the BPF program that reads Python frames (%s); "
				"use perf maps",
				strerror(-ret));
}

PYPERF_API struct pyperf_interp_walker *
pyperf_interp_walker__open(const struct pyperf_interp_walker_open_opts *opts,
			   struct pyperf_error *err)
{
	struct pyperf_interp_walker *w;
	int ret;

	if (!OPTS_VALID(opts, pyperf_interp_walker_open_opts)) {
		pyperf_error_set(err, -EINVAL, PYPERF_NO_OFFSET, "pyperf_interp_walker__open",
				 "bad options");
		return pyperf_err_ptr(-EINVAL);
	}
	libbpf_set_print(libbpf_print);
	if (access("/sys/kernel/btf/vmlinux", R_OK)) {
		pyperf_error_set(err, -EOPNOTSUPP, PYPERF_NO_OFFSET, "/sys/kernel/btf/vmlinux",
				 "the kernel has no BTF (CONFIG_DEBUG_INFO_BTF), which the BPF "
				 "frame reader needs; use perf maps");
		return pyperf_err_ptr(-EOPNOTSUPP);
	}
	ret = libbpf_probe_bpf_helper(BPF_PROG_TYPE_PERF_EVENT, BPF_FUNC_loop, NULL);
	if (ret == 0) {
		pyperf_error_set(err, -EOPNOTSUPP, PYPERF_NO_OFFSET, "bpf",
				 "the kernel lacks bpf_loop (Linux 5.17 or later is needed to read "
				 "Python frames); use perf maps");
		return pyperf_err_ptr(-EOPNOTSUPP);
	}
	if (ret < 0 && ret != -EOPNOTSUPP) {
		pyperf_err_ptr(load_error(ret, err));
		return NULL;
	}
	w = pp_calloc(1, sizeof(*w));
	if (!w)
		return pyperf_err_ptr(-ENOMEM);
	w->max_frames = OPTS_GET(opts, max_frames, 0);
	if (!w->max_frames || w->max_frames > PYPERF_WALK_MAX_FRAMES)
		w->max_frames = PYPERF_WALK_MAX_FRAMES;
	w->ncpus = libbpf_num_possible_cpus();
	w->skel = interp_walk__open();
	if (!w->skel || w->ncpus <= 0) {
		ret = errno ? -errno : -ENOMEM;
		pyperf_error_set(err, ret, PYPERF_NO_OFFSET, "bpf",
				 "cannot open the BPF object: %s", strerror(-ret));
		goto fail;
	}
	bpf_map__set_max_entries(w->skel->maps.outputs, (uint32_t)w->ncpus);
	ret = interp_walk__load(w->skel);
	if (ret) {
		load_error(ret, err);
		goto fail;
	}
	return w;
fail:
	pyperf_interp_walker__close(w);
	return pyperf_err_ptr(ret);
}

PYPERF_API void pyperf_interp_walker__close(struct pyperf_interp_walker *w)
{
	if (!w)
		return;
	for (size_t i = 0; i < w->nr_links; i++)
		bpf_link__destroy(w->links[i]);
	for (size_t i = 0; i < w->nr_fds; i++)
		close(w->fds[i]);
	interp_walk__destroy(w->skel);
	free(w->links);
	free(w->fds);
	free(w);
}

PYPERF_API int pyperf_interp_walker__add(struct pyperf_interp_walker *w,
					 const struct pyperf_interp *ip, int pid)
{
	struct pyperf_walk_proc proc = ip->proc;
	uint32_t key = (uint32_t)pid;
	int ret;

	if (pid <= 0)
		return pyperf_err(-EINVAL);
	proc.max_frames = w->max_frames;
	ret = bpf_map__update_elem(w->skel->maps.procs, &key, sizeof(key), &proc, sizeof(proc),
				   BPF_ANY);
	return pyperf_err(ret == -E2BIG ? -ENOSPC : ret);
}

PYPERF_API int pyperf_interp_walker__remove(struct pyperf_interp_walker *w, int pid)
{
	uint32_t key = (uint32_t)pid;

	return pyperf_err(bpf_map__delete_elem(w->skel->maps.procs, &key, sizeof(key), 0));
}

PYPERF_API int pyperf_interp_walker__attach(struct pyperf_interp_walker *w, int event_fd,
					    enum pyperf_interp_event kind, struct pyperf_error *err)
{
	struct bpf_program *prog = kind == PYPERF_INTERP_EVENT_SWITCH
				       ? w->skel->progs.pyperf_walk_switch
				       : w->skel->progs.pyperf_walk_sample;
	struct bpf_link *link;
	int ret;

	/*
	 * A tracepoint runs its programs once per hit, for all of its perf
	 * events (they hang off the tracepoint, not the event): one attachment
	 * serves every CPU's and thread's sched_switch event, and a second
	 * fails with EEXIST.
	 */
	if (kind == PYPERF_INTERP_EVENT_SWITCH && w->switch_attached)
		return 0;
	if (PP_GROW(w->links, w->cap_links, w->nr_links + 1))
		return pyperf_err(-ENOMEM);
	link = bpf_program__attach_perf_event(prog, event_fd);
	if (!link) {
		ret = -errno;
		return pyperf_err(pyperf_error_set(
		    err, ret, PYPERF_NO_OFFSET, "bpf",
		    "cannot attach the frame reader to event fd %d: %s", event_fd, strerror(-ret)));
	}
	w->links[w->nr_links++] = link;
	if (kind == PYPERF_INTERP_EVENT_SWITCH)
		w->switch_attached = true;
	return 0;
}

PYPERF_API int pyperf_interp_walker__set_output(struct pyperf_interp_walker *w, int cpu, int fd)
{
	uint32_t key = (uint32_t)cpu, val = (uint32_t)fd;

	if (cpu < 0 || cpu >= w->ncpus)
		return pyperf_err(-EINVAL);
	return pyperf_err(bpf_map__update_elem(w->skel->maps.outputs, &key, sizeof(key), &val,
					       sizeof(val), BPF_ANY));
}

PYPERF_API int pyperf_interp_walker__open_output(struct pyperf_interp_walker *w, int cpu,
						 int buffer_fd, uint64_t sample_type,
						 bool use_clockid, int clockid, uint64_t *id,
						 struct pyperf_error *err)
{
	struct perf_event_attr attr = {
	    .size = sizeof(attr),
	    .type = PERF_TYPE_SOFTWARE,
	    .config = PERF_COUNT_SW_BPF_OUTPUT,
	    .sample_period = 1,
	    .sample_type = sample_type | PERF_SAMPLE_RAW,
	    .wakeup_events = 1,
	    .sample_id_all = 1,
	    .use_clockid = use_clockid,
	    .clockid = clockid,
	};
	int fd, ret;

	if (PP_GROW(w->fds, w->cap_fds, w->nr_fds + 1))
		return pyperf_err(-ENOMEM);
	fd = (int)syscall(__NR_perf_event_open, &attr, -1, cpu, -1, PERF_FLAG_FD_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		return pyperf_err(pyperf_error_set(err, ret, PYPERF_NO_OFFSET, "perf_event_open",
						   "cannot open the bpf-output event on CPU %d: %s",
						   cpu, strerror(-ret)));
	}
	if (ioctl(fd, PERF_EVENT_IOC_SET_OUTPUT, buffer_fd) ||
	    (id && ioctl(fd, PERF_EVENT_IOC_ID, id))) {
		ret = -errno;
		close(fd);
		return pyperf_err(
		    pyperf_error_set(err, ret, PYPERF_NO_OFFSET, "perf_event_open",
				     "cannot send the bpf-output event of CPU %d into "
				     "the ring buffer of fd %d: %s",
				     cpu, buffer_fd, strerror(-ret)));
	}
	ret = pyperf_interp_walker__set_output(w, cpu, fd);
	if (ret) {
		close(fd);
		return pyperf_err(pyperf_error_set(
		    err, ret, PYPERF_NO_OFFSET, "bpf",
		    "cannot register the bpf-output event of CPU %d: %s", cpu, strerror(-ret)));
	}
	w->fds[w->nr_fds++] = fd;
	return fd;
}

PYPERF_API int pyperf_interp_walker__stats(const struct pyperf_interp_walker *w,
					   struct pyperf_interp_walker_stats *out)
{
	size_t stride = (sizeof(struct pyperf_walk_stats) + 7) & ~(size_t)7;
	struct pyperf_walk_stats *per = pp_calloc((size_t)w->ncpus, stride);
	uint32_t key = 0;
	int ret;
	const struct bpf_program *progs[] = {w->skel->progs.pyperf_walk_sample,
					     w->skel->progs.pyperf_walk_switch};

	memset(out, 0, sizeof(*out));
	if (!per)
		return pyperf_err(-ENOMEM);
	ret = bpf_map__lookup_elem(w->skel->maps.stats, &key, sizeof(key), per,
				   stride * (size_t)w->ncpus, 0);
	for (int c = 0; !ret && c < w->ncpus; c++) {
		const struct pyperf_walk_stats *s =
		    (const void *)((const char *)per + stride * (size_t)c);

		out->runs += s->runs;
		out->written += s->written;
		out->output_errors += s->output_errors;
		out->no_tstate += s->no_tstate;
		out->faults += s->faults;
		out->truncated += s->truncated;
		out->tstate_walks += s->tstate_walks;
		out->frames += s->frames;
	}
	free(per);
	for (size_t i = 0; !ret && i < ARRAY_SIZE(progs); i++) {
		struct bpf_prog_info info;
		uint32_t len = sizeof(info);

		memset(&info, 0, sizeof(info));
		if (!bpf_obj_get_info_by_fd(bpf_program__fd(progs[i]), &info, &len)) {
			out->run_time_ns += info.run_time_ns;
			out->run_cnt += info.run_cnt;
		}
	}
	return pyperf_err(ret);
}
