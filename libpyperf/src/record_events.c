// SPDX-License-Identifier: MIT
/*
 * The recorder's events: attrs built from the options, opened through
 * libperf, and written into the file.
 */
#include "record_internal.h"

/* ---- events ----------------------------------------------------------------- */

static bool hw_event(enum pyperf_event_kind k)
{
	return k == PYPERF_EVENT_CYCLES || k == PYPERF_EVENT_INSTRUCTIONS || k == PYPERF_EVENT_RAW;
}

static void set_event(struct pyperf_recorder *r, enum pyperf_event_kind k)
{
	struct perf_event_attr *a = &r->attr;

	switch (k) {
	case PYPERF_EVENT_DEFAULT:
	case PYPERF_EVENT_CYCLES:
		a->type = PERF_TYPE_HARDWARE;
		a->config = PERF_COUNT_HW_CPU_CYCLES;
		snprintf(r->event_name, sizeof(r->event_name), "cycles");
		break;
	case PYPERF_EVENT_INSTRUCTIONS:
		a->type = PERF_TYPE_HARDWARE;
		a->config = PERF_COUNT_HW_INSTRUCTIONS;
		snprintf(r->event_name, sizeof(r->event_name), "instructions");
		break;
	case PYPERF_EVENT_RAW:
		a->type = PERF_TYPE_RAW;
		a->config = r->o.raw_config;
		snprintf(r->event_name, sizeof(r->event_name), "r%" PRIx64, r->o.raw_config);
		break;
	case PYPERF_EVENT_CPU_CLOCK:
		a->type = PERF_TYPE_SOFTWARE;
		a->config = PERF_COUNT_SW_CPU_CLOCK;
		snprintf(r->event_name, sizeof(r->event_name), "cpu-clock");
		break;
	case PYPERF_EVENT_TASK_CLOCK:
		a->type = PERF_TYPE_SOFTWARE;
		a->config = PERF_COUNT_SW_TASK_CLOCK;
		snprintf(r->event_name, sizeof(r->event_name), "task-clock");
		break;
	}
	r->stats.event_name = r->event_name;
}

/*
 * Off-CPU: sched_switch samples with the same call graphs, their raw data
 * (prev_state, next_pid), and context-switch records on the CPU event,
 * which mark when a thread is switched back in. Two events in one file
 * need an id in every record: IDENTIFIER, first in samples and last in
 * trailers, as perf requires of mixed events.
 */
static void build_switch_attr(struct pyperf_recorder *r)
{
	struct perf_event_attr *a = &r->attr, *s = &r->sw_attr;

	a->sample_type |= PERF_SAMPLE_IDENTIFIER;
	a->context_switch = 1;
	r->time_off = 8 + 8 * 3;      /* header, id, ip, pid/tid */
	r->trailer_time_back = 8 * 2; /* pyperf_recorder_trailer: pid/tid, time, id */
	*s = *a;
	s->type = PERF_TYPE_TRACEPOINT;
	s->config = r->sw_config;
	s->freq = 0;
	s->sample_period = 1;
	s->sample_type |= PERF_SAMPLE_RAW;
	if (s->sample_type & PERF_SAMPLE_STACK_USER) {
		unsigned bytes =
		    r->o.off_cpu_stack_bytes ? r->o.off_cpu_stack_bytes : DEFAULT_OFF_CPU_STACK;

		s->sample_stack_user = MIN(ALIGN_UP(bytes, 8), a->sample_stack_user);
	}
	/* side-band records come once, from the CPU event */
	s->mmap = s->mmap2 = s->comm = s->comm_exec = s->task = s->ksymbol = 0;
	s->context_switch = 0;
}

/* exclude_kernel/user and precise_ip, and perf's name for them: ":u". */
static void event_modifiers(struct pyperf_recorder *r)
{
	struct perf_event_attr *a = &r->attr;
	char mods[8] = "";
	size_t n = 0;

	if (r->o.exclude_kernel && !r->o.exclude_user) {
		a->exclude_kernel = a->exclude_hv = 1;
		mods[n++] = 'u';
	} else if (r->o.exclude_user && !r->o.exclude_kernel) {
		a->exclude_user = a->exclude_hv = 1;
		mods[n++] = 'k';
	}
	a->precise_ip = MIN(r->o.precise_ip, 3u);
	for (unsigned i = 0; i < a->precise_ip; i++)
		mods[n++] = 'p';
	mods[n] = 0;
	if (n) {
		size_t len = strlen(r->event_name);

		snprintf(r->event_name + len, sizeof(r->event_name) - len, ":%s", mods);
	}
}

void pyperf_recorder_build_attr(struct pyperf_recorder *r, bool launch)
{
	struct perf_event_attr *a = &r->attr;
	unsigned max_rate =
	    pyperf_recorder_read_proc_uint("/proc/sys/kernel/perf_event_max_sample_rate", 100000);

	memset(a, 0, sizeof(*a));
	set_event(r, r->o.event);
	a->size = sizeof(*a);
	event_modifiers(r);
	a->sample_type = PERF_SAMPLE_IP | PERF_SAMPLE_TID | PERF_SAMPLE_TIME | PERF_SAMPLE_PERIOD;
	if (r->o.period) {
		a->sample_period = r->o.period;
	} else {
		unsigned freq = r->o.freq ? r->o.freq : DEFAULT_FREQ;

		if (freq > max_rate && !r->freq_noted) {
			r->freq_noted = true; /* attrs are built again on a retry */
			pyperf_recorder_note(
			    r,
			    "frequency lowered from %u to %u Hz, the kernel's limit "
			    "(/proc/sys/kernel/perf_event_max_sample_rate)",
			    freq, max_rate);
		}
		freq = MIN(freq, max_rate);
		a->freq = 1;
		a->sample_freq = freq;
		r->stats.freq = freq;
	}
	if (r->o.callgraph != PYPERF_CALLGRAPH_NONE) {
		a->sample_type |= PERF_SAMPLE_CALLCHAIN;
		/* said, not left to the sysctl: a reader learns from the
		 * file's attr where a chain that long was cut */
		a->sample_max_stack = (uint16_t)MIN(
		    pyperf_recorder_read_proc_uint("/proc/sys/kernel/perf_event_max_stack", 127),
		    UINT16_MAX);
	}
	if (r->o.callgraph == PYPERF_CALLGRAPH_DWARF) {
		unsigned bytes = r->o.stack_bytes ? r->o.stack_bytes : DEFAULT_STACK;

		bytes = MIN(ALIGN_UP(bytes, 8), PYPERF_RECORD_MAX_STACK_BYTES);
		a->sample_type |= PERF_SAMPLE_REGS_USER | PERF_SAMPLE_STACK_USER;
		a->sample_regs_user = X86_64_REGS_MASK;
		a->sample_stack_user = bytes;
		/* the user part comes from the stack copy */
		a->exclude_callchain_user = 1;
		r->stats.stack_bytes = bytes;
	}
	r->online = r->o.callgraph == PYPERF_CALLGRAPH_DWARF && !r->o.raw_stacks;
	/* the kernel's count of lost samples, read back at the end as perf
	 * record does (LOST_SAMPLES records) */
	a->read_format = PERF_FORMAT_ID | (r->no_read_lost ? 0 : PERF_FORMAT_LOST);
	a->disabled = 1;
	a->inherit = !r->o.no_inherit;
	a->enable_on_exec = launch;
	a->mmap = 1;
	a->mmap2 = 1;
	a->comm = 1;
	a->comm_exec = 1;
	a->task = 1;
	a->sample_id_all = 1;
	a->ksymbol = 1;
	/* Wake the drainer when a quarter of the buffer fills. */
	a->watermark = 1;
	a->wakeup_watermark =
	    (uint32_t)((size_t)r->o.mmap_pages * (size_t)sysconf(_SC_PAGESIZE) / 4);
	r->time_off = 8 + 8 * 2;  /* header, ip, pid/tid */
	r->trailer_time_back = 8; /* pyperf_recorder_trailer: pid/tid, time */
	r->stats.callgraph = r->o.callgraph;
	if (r->o.off_cpu)
		build_switch_attr(r);
	/* The written attrs: the same, but without stack copies when they
	 * are unwound here. */
	r->file_attr = *a;
	r->sw_file_attr = r->sw_attr;
	if (r->online) {
		struct perf_event_attr *fa[2] = {&r->file_attr, &r->sw_file_attr};

		for (int i = 0; i < 2; i++) {
			if (!r->o.check_unwind) {
				fa[i]->sample_type &=
				    ~(uint64_t)(PERF_SAMPLE_REGS_USER | PERF_SAMPLE_STACK_USER);
				fa[i]->sample_regs_user = 0;
				fa[i]->sample_stack_user = 0;
			}
			fa[i]->exclude_callchain_user = 0;
			fa[i]->sample_max_stack = CHAIN_LIMIT;
		}
	}
}

static int paranoid_error(struct pyperf_error *err, int e)
{
	unsigned p = pyperf_recorder_read_proc_uint("/proc/sys/kernel/perf_event_paranoid", 2);

	return pyperf_error_set(err, -e, PYPERF_NO_OFFSET, "perf_event_open",
				"not allowed (%s): kernel.perf_event_paranoid is %u; run as root, "
				"lower it with 'sysctl kernel.perf_event_paranoid=1', or give the "
				"recorder CAP_PERFMON ('setcap cap_perfmon,cap_sys_ptrace+ep "
				"pyperf-record')",
				strerror(e), p);
}

/*
 * libperf's perf_evsel__delete() frees the evsel alone: the ids read at
 * open and the cpu and thread maps the evlist propagated to it stay
 * behind (perf's own evsel__exit() releases them). Under LeakSanitizer
 * that made every pyperf-record exit 1 instead of its command's status.
 */
void perf_evsel__free_id(struct perf_evsel *evsel); /* libperf's, not in its public headers */

void pyperf_recorder_evlist_delete(struct perf_evlist *evlist)
{
	struct perf_evsel *e;

	if (!evlist)
		return;
	perf_evlist__munmap(evlist);
	perf_evlist__close(evlist);
	perf_evlist__for_each_evsel(evlist, e)
	{
		perf_evsel__free_id(e);
		/* the references the evlist gave it (it keeps its own) */
		perf_cpu_map__put(perf_evsel__cpus(e));
		perf_thread_map__put(perf_evsel__threads(e));
	}
	perf_evlist__delete(evlist);
}

/* Opens the events on @threads, falling back from cycles to cpu-clock. */
int pyperf_recorder_open_events(struct pyperf_recorder *r, bool launch, struct pyperf_error *err)
{
	int ret;

	if (r->o.off_cpu && !r->tracing) {
		static const char *const names[] = {"sched/sched_switch"};
		bool mounted;

		ret = pyperf_tracefs_mount(&mounted, err);
		if (ret)
			return ret;
		if (mounted)
			pyperf_recorder_note(
			    r, "tracefs was not mounted: mounted it at /sys/kernel/tracing for "
			       "sched:sched_switch, as perf record does");
		ret = tp_formats_build(names, 1, &r->tracing, &r->tracing_size, &r->sw_config, err);
		if (ret)
			return ret;
	}
	for (;;) {
		pyperf_recorder_build_attr(r, launch);
		pyperf_recorder_evlist_delete(r->evlist);
		r->evlist = perf_evlist__new();
		r->evsel = perf_evsel__new(&r->attr);
		r->sw_evsel = r->o.off_cpu ? perf_evsel__new(&r->sw_attr) : NULL;
		if (!r->evlist || !r->evsel || (r->o.off_cpu && !r->sw_evsel))
			return pyperf_error_set(err, -ENOMEM, PYPERF_NO_OFFSET, NULL,
						"out of memory");
		perf_evlist__add(r->evlist, r->evsel);
		if (r->sw_evsel)
			perf_evlist__add(r->evlist, r->sw_evsel);
		perf_evlist__set_maps(r->evlist, r->cpus, r->threads);
		ret = perf_evlist__open(r->evlist);
		if (!ret)
			break;
		if (ret == -EINVAL && !r->no_read_lost) {
			r->no_read_lost = true;
			continue;
		}
		if ((ret == -ENOENT || ret == -EOPNOTSUPP || ret == -EINVAL || ret == -ENODEV) &&
		    r->o.event == PYPERF_EVENT_DEFAULT) {
			pyperf_recorder_note(
			    r, "cycles is not counted on this machine (no hardware PMU); sampling "
			       "cpu-clock instead");
			r->o.event = PYPERF_EVENT_CPU_CLOCK;
			continue;
		}
		if ((ret == -EACCES || ret == -EPERM) && !r->o.exclude_kernel &&
		    !r->o.exclude_user &&
		    pyperf_recorder_read_proc_uint("/proc/sys/kernel/perf_event_paranoid", 2) > 1) {
			/* perf record's fallback (evsel__fallback): user space only */
			r->o.exclude_kernel = true;
			pyperf_recorder_note(
			    r,
			    "kernel.perf_event_paranoid is %u: recording user space only (the "
			    "event gets perf's :u), as perf does; kernel frames need root, "
			    "CAP_PERFMON or 'sysctl kernel.perf_event_paranoid=1'",
			    pyperf_recorder_read_proc_uint("/proc/sys/kernel/perf_event_paranoid",
							   2));
			continue;
		}
		if (ret == -EACCES || ret == -EPERM)
			return paranoid_error(err, -ret);
		if (hw_event(r->o.event) &&
		    (ret == -ENOENT || ret == -EOPNOTSUPP || ret == -ENODEV))
			return pyperf_error_set(err, -EOPNOTSUPP, PYPERF_NO_OFFSET, r->event_name,
						"event not supported here (no hardware PMU?); use "
						"-e cpu-clock");
		if (ret == -ESRCH)
			return pyperf_error_set(err, ret, PYPERF_NO_OFFSET, "perf_event_open",
						"the process is gone");
		return pyperf_error_set(err, ret, PYPERF_NO_OFFSET, "perf_event_open", "%s",
					strerror(-ret));
	}
	/* switch storms come in bursts of stack copies: more room with --off-cpu */
	if (r->default_pages && r->o.callgraph == PYPERF_CALLGRAPH_DWARF)
		r->o.mmap_pages = r->o.off_cpu ? 2 * DEFAULT_PAGES_DWARF : DEFAULT_PAGES_DWARF;
	while ((ret = perf_evlist__mmap(r->evlist, (int)r->o.mmap_pages)) && r->default_pages &&
	       r->o.mmap_pages > DEFAULT_PAGES) {
		/* over the locked-memory limit (unprivileged): smaller buffers */
		perf_evlist__munmap(r->evlist);
		r->o.mmap_pages /= 2;
	}
	if (ret)
		return pyperf_error_set(err, ret < 0 ? ret : -ENOMEM, PYPERF_NO_OFFSET, "mmap",
					"cannot map the ring buffers (%u pages per CPU): %s; try a "
					"smaller -m, or raise kernel.perf_event_mlock_kb",
					r->o.mmap_pages, strerror(ret < 0 ? -ret : ENOMEM));
	return 0;
}

/* The events into @w: as the kernel gives them, or as the file holds them
 * (@file: without stack copies when they are unwound here). */
static int add_attrs(struct pyperf_recorder *r, struct pyperf_data_writer *w, bool file,
		     const uint64_t *ids, size_t n)
{
	bool f = file && r->online;
	int ret = pyperf_data_writer__add_attr(w, f ? &r->file_attr : &r->attr, sizeof(r->attr),
					       ids, n, r->event_name);

	if (!ret && r->o.off_cpu)
		ret = pyperf_data_writer__add_attr(w, f ? &r->sw_file_attr : &r->sw_attr,
						   sizeof(r->sw_attr), r->sw_ids, r->nr_sw_ids,
						   "sched:sched_switch");
	return ret;
}

/* A decoder of the events: as the kernel gives them, or as the file holds
 * them (@file: without stack copies when they are unwound here). */
static int new_decoder(struct pyperf_recorder *r, bool file, const uint64_t *ids, size_t n,
		       const char *name, struct pyperf_decoder **dec)
{
	bool f = file && r->online;
	int ret;

	*dec = pyperf_decoder__new(name);
	if (!*dec)
		return -ENOMEM;
	ret = pyperf_decoder__add_attr(*dec, f ? &r->file_attr : &r->attr, sizeof(r->attr), ids, n,
				       r->event_name);
	if (!ret && r->o.off_cpu)
		ret = pyperf_decoder__add_attr(*dec, f ? &r->sw_file_attr : &r->sw_attr,
					       sizeof(r->sw_attr), r->sw_ids, r->nr_sw_ids,
					       "sched:sched_switch");
	return ret;
}

/*
 * Online unwinding: samples arrive with registers and a stack copy and
 * leave as callchain samples. The written attr says so; a decoder with the
 * kernel's attr reads what the ring buffers hold.
 */
static int setup_online(struct pyperf_recorder *r, const uint64_t *ids, size_t n)
{
	PYPERF_OPTS(pyperf_unwinder_opts, uopts, .live = true);
	int ret = new_decoder(r, false, ids, n, "ring buffer", &r->decoder);

	if (ret)
		return ret;
	r->syms = pyperf_symbols__new(NULL);
	r->machine = r->syms ? pyperf_machine__new(r->syms, NULL) : NULL;
	r->unwinder = pyperf_unwinder__new(&uopts);
	r->uips = pp_calloc(MAX_UNWIND, sizeof(*r->uips));
	r->outbuf = pp_calloc(65536 / 8 + 2, sizeof(*r->outbuf));
	pp_arena_init(&r->pass_arena[0], 1 << 20);
	pp_arena_init(&r->pass_arena[1], 1 << 20);
	if (!r->machine || !r->unwinder || !r->uips || !r->outbuf)
		return -ENOMEM;
	return 0;
}

/* The ids the kernel gave each (cpu, thread) instance of @evsel: read back
 * through PERF_FORMAT_ID. */
static uint64_t *evsel_ids(struct pyperf_recorder *r, struct perf_evsel *evsel, size_t *n)
{
	int ncpu = perf_cpu_map__nr(r->cpus), nthr = perf_thread_map__nr(r->threads);
	uint64_t *ids = pp_calloc((size_t)ncpu * (size_t)nthr + 1, sizeof(*ids));

	*n = 0;
	if (!ids)
		return NULL;
	for (int c = 0; c < ncpu; c++) {
		for (int t = 0; t < nthr; t++) {
			struct perf_counts_values v;

			if (!perf_evsel__read(evsel, c, t, &v) && v.id)
				ids[(*n)++] = v.id;
		}
	}
	return ids;
}

int pyperf_recorder_cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

int pyperf_recorder_write_attrs(struct pyperf_recorder *r, struct pyperf_error *err)
{
	size_t n = 0;
	uint64_t *ids = evsel_ids(r, r->evsel, &n);
	int ret = ids ? 0 : -ENOMEM, level;

	if (!ret && r->o.off_cpu) {
		r->sw_ids = evsel_ids(r, r->sw_evsel, &r->nr_sw_ids);
		if (!r->sw_ids)
			ret = -ENOMEM;
		else
			qsort(r->sw_ids, r->nr_sw_ids, sizeof(*r->sw_ids), pyperf_recorder_cmp_u64);
	}
	if (!ret)
		ret = add_attrs(r, r->w, true, ids, n);
	if (!ret && r->online)
		ret = setup_online(r, ids, n);
	/* the sink's records are decoded as a reader of the file decodes them */
	if (!ret && r->sink)
		ret = new_decoder(r, true, ids, n, r->output, &r->sink_decoder);
	free(ids);
	if (ret)
		return pyperf_error_set(err, ret, PYPERF_NO_OFFSET, r->output, "cannot write: %s",
					strerror(-ret));
	/* Only when asked, as perf record: hotspot's perfparser (1.3, Debian
	 * 12) skips COMPRESSED records and would show an empty profile. */
	level = r->o.compression > 0 ? r->o.compression : 0;
	if (level && !pyperf_data_writer_set_compression(r->w, level, 256 * 1024))
		r->stats.compression = level;
	else if (level && r->o.compression > 0)
		pyperf_recorder_note(
		    r, "compression is not available in this build; writing uncompressed");
	return 0;
}
