// SPDX-License-Identifier: MIT
/*
 * The recorder: perf_event_open through libperf, ring buffers drained into
 * a perf.data file, then the features that make the file self-contained.
 */
#include <dirent.h>
#include <fcntl.h>
#include <glob.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/perf_event.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>
#include <perf/core.h>
#include <perf/cpumap.h>
#include <perf/event.h>
#include <perf/evlist.h>
#include <perf/evsel.h>
#include <perf/mmap.h>
#include <perf/threadmap.h>
#include <pyperf/data.h>
#include <pyperf/machine.h>
#include <pyperf/map.h>
#include <pyperf/record.h>
#include <pyperf/symbols.h>
#include <pyperf/unwind.h>
#include "callchain.h"
#include "binary.h"
#include "data_internal.h"
#include "internal.h"
#include "tracing.h"
#include "buildid_cache.h"
#include "symbols_internal.h"
#include "sysinfo.h"
#include "untrusted.h"

#define DEFAULT_FREQ 4000
#define DEFAULT_PAGES 128
/* Stack copies are large: bigger buffers in dwarf mode, so that drain
 * latency does not lose samples. */
#define DEFAULT_PAGES_DWARF 2048
#define DEFAULT_OFF_CPU_STACK 16384
/*
 * Measured on python3.12 -X perf: each nested Python call costs 450-500
 * bytes of C stack (trampoline, _PyEval_EvalFrameDefault, vectorcall), on
 * top of ~10 KiB below the first Python frame; 50 nested calls take about
 * 31 KiB. 40 KiB leaves room for native calls under the innermost one.
 */
#define DEFAULT_STACK 40960
/* x86-64 user registers for unwinding: all general ones, no segments. */
#define X86_64_REGS_MASK 0xff0fffULL

struct pyperf_recorder {
	struct pyperf_record_opts o;
	char output[PATH_MAX];
	char write_path[PATH_MAX + 32]; /* what is written: a new file beside output */
	bool temp_output;		/* write_path is not yet the output */
	bool keep_temp;			/* ... and could not become it: keep it */
	char python_dir[PATH_MAX];
	struct pyperf_data_writer *w;
	struct perf_evlist *evlist;
	struct perf_evsel *evsel;
	/* off_cpu: sched:sched_switch, its attr, ids and format */
	struct perf_evsel *sw_evsel;
	struct perf_event_attr sw_attr, sw_file_attr;
	uint64_t *sw_ids;
	size_t nr_sw_ids;
	void *tracing;
	size_t tracing_size;
	uint64_t sw_config;
	int trailer_time_back; /* bytes from a record's end to the trailer's time */
	struct perf_cpu_map *cpus;
	struct perf_thread_map *threads;
	struct perf_event_attr attr;
	char event_name[64];
	pid_t child;
	int go_fd, exec_err_fd;
	int child_status;
	bool launched, attached, started, finished;
	bool default_pages;
	bool no_read_lost; /* the kernel refused PERF_FORMAT_LOST (before 6.0) */
	bool freq_noted;
	bool buildid_cache_failed; /* noted once; not tried again */
	pid_t *attach_pids;
	double *attach_started; /* when each started, CLOCK_REALTIME seconds */
	size_t nr_attach;
	/* Python processes launched or attached: did they name their frames? */
	struct {
		pid_t pid;
		int version;
		bool named, seen;
	} py[64];
	size_t nr_py;
	double t0_real; /* the recording's start, CLOCK_REALTIME seconds */
	volatile sig_atomic_t stop;
	uint64_t first_time, last_time;
	int time_off; /* byte offset of the time in a sample */
	struct timespec t0;
	struct pyperf_record_stats stats;
	char notes[2048];

	/* online unwinding (dwarf mode without raw_stacks) */
	bool online;
	struct perf_event_attr file_attr;     /* what the written samples hold */
	struct pyperf_data_writer *decoder_w; /* an in-memory file with the kernel's attr */
	struct pyperf_data *decoder;
	struct pyperf_symbols *syms;
	struct pyperf_machine *machine;
	struct pyperf_unwinder *unwinder;
	uint64_t *uips;
	uint64_t *outbuf;
	struct queued_rec {
		uint64_t time, seq;
		uint8_t *rec;
		unsigned arena;
	} * heap;
	size_t heap_len, heap_cap;
	uint64_t seq, max_time, prev_max;
	/* Queued records live in two arenas: one fills while the other
	 * drains; an arena is reused once none of its records is queued. */
	struct pp_arena pass_arena[2];
	size_t arena_live[2];
	unsigned fill;
	bool backlog;  /* records due for writing are still queued */
	bool shedding; /* see SHED_ABOVE */
	bool wrote;
};

/* Records unwound per pass before the ring buffers are read again: a
 * burst of stack copies (context switches) must not keep the drainer
 * away from the buffers until they overflow. */
#define UNWIND_BUDGET 256
/*
 * Context switches can outrun any unwinder (tens of thousands a second).
 * When this many records wait, switch samples are written without their
 * user stack (kernel frames and the user address only) until the queue
 * is down to SHED_UNTIL: every switch still counts, with its time and
 * state, instead of the ring buffers overflowing and losing them.
 */
#define SHED_ABOVE 1024
#define SHED_UNTIL 256
#define PERF_REG_IP 8 /* x86-64: PERF_REG_X86_IP */

#define MAX_UNWIND 2048
/* Callchain entries of a written sample: what a record's 16-bit size
 * holds after the header and fixed fields, less room for a cut mark. */
#define CHAIN_LIMIT ((65535 - 48) / 8 - PYPERF_CUT_MARK_MAX)

static int libperf_print(enum libperf_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	(void)fmt;
	(void)ap;
	return 0;
}

static void note(struct pyperf_recorder *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void note(struct pyperf_recorder *r, const char *fmt, ...)
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

static double realtime_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static unsigned read_proc_uint(const char *path, unsigned fallback)
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
static int commit_output(struct pyperf_recorder *r, struct pyperf_error *err)
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
	r->trailer_time_back = 8 * 2; /* trailer: pid/tid, time, id */
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

static void build_attr(struct pyperf_recorder *r, bool launch)
{
	struct perf_event_attr *a = &r->attr;
	unsigned max_rate = read_proc_uint("/proc/sys/kernel/perf_event_max_sample_rate", 100000);

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
			note(r,
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
		    read_proc_uint("/proc/sys/kernel/perf_event_max_stack", 127), UINT16_MAX);
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
	r->trailer_time_back = 8; /* trailer: pid/tid, time */
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
	unsigned p = read_proc_uint("/proc/sys/kernel/perf_event_paranoid", 2);

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

static void evlist_delete(struct perf_evlist *evlist)
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
static int open_events(struct pyperf_recorder *r, bool launch, struct pyperf_error *err)
{
	int ret;

	if (r->o.off_cpu && !r->tracing) {
		static const char *const names[] = {"sched/sched_switch"};
		bool mounted;

		ret = pyperf_tracefs_mount(&mounted, err);
		if (ret)
			return ret;
		if (mounted)
			note(r, "tracefs was not mounted: mounted it at /sys/kernel/tracing for "
				"sched:sched_switch, as perf record does");
		ret = tp_formats_build(names, 1, &r->tracing, &r->tracing_size, &r->sw_config, err);
		if (ret)
			return ret;
	}
	for (;;) {
		build_attr(r, launch);
		evlist_delete(r->evlist);
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
			note(r, "cycles is not counted on this machine (no hardware PMU); sampling "
				"cpu-clock instead");
			r->o.event = PYPERF_EVENT_CPU_CLOCK;
			continue;
		}
		if ((ret == -EACCES || ret == -EPERM) && !r->o.exclude_kernel &&
		    !r->o.exclude_user &&
		    read_proc_uint("/proc/sys/kernel/perf_event_paranoid", 2) > 1) {
			/* perf record's fallback (evsel__fallback): user space only */
			r->o.exclude_kernel = true;
			note(r,
			     "kernel.perf_event_paranoid is %u: recording user space only (the "
			     "event gets perf's :u), as perf does; kernel frames need root, "
			     "CAP_PERFMON or 'sysctl kernel.perf_event_paranoid=1'",
			     read_proc_uint("/proc/sys/kernel/perf_event_paranoid", 2));
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

/*
 * Online unwinding: samples arrive with registers and a stack copy and
 * leave as callchain samples. The written attr says so; an in-memory file
 * with the kernel's attr decodes what the ring buffers hold.
 */
static int setup_online(struct pyperf_recorder *r, const uint64_t *ids, size_t n)
{
	const void *buf;
	size_t size;
	int ret;

	r->decoder_w = pyperf_data_writer__open(NULL, NULL);
	if (!r->decoder_w)
		return -ENOMEM;
	if ((ret = pyperf_data_writer__add_attr(r->decoder_w, &r->attr, sizeof(r->attr), ids, n,
						r->event_name)) ||
	    (r->o.off_cpu &&
	     (ret = pyperf_data_writer__add_attr(r->decoder_w, &r->sw_attr, sizeof(r->sw_attr),
						 r->sw_ids, r->nr_sw_ids, "sched:sched_switch"))) ||
	    (ret = pyperf_data_writer__finish(r->decoder_w)))
		return ret;
	buf = pyperf_data_writer__buffer(r->decoder_w, &size);
	r->decoder = pyperf_data__open_mem(buf, size, "ring buffer", NULL, NULL);
	r->syms = pyperf_symbols__new(NULL);
	r->machine = r->syms ? pyperf_machine__new(r->syms, NULL) : NULL;
	r->unwinder = pyperf_unwinder__new();
	if (r->unwinder)
		pyperf_unwinder__set_live(r->unwinder, true);
	r->uips = pp_calloc(MAX_UNWIND, sizeof(*r->uips));
	r->outbuf = pp_calloc(65536 / 8 + 2, sizeof(*r->outbuf));
	pp_arena_init(&r->pass_arena[0], 1 << 20);
	pp_arena_init(&r->pass_arena[1], 1 << 20);
	if (!r->decoder || !r->machine || !r->unwinder || !r->uips || !r->outbuf)
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

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int write_attrs(struct pyperf_recorder *r, struct pyperf_error *err)
{
	size_t n = 0;
	uint64_t *ids = evsel_ids(r, r->evsel, &n);
	int ret = ids ? 0 : -ENOMEM, level;

	if (!ret && r->o.off_cpu) {
		r->sw_ids = evsel_ids(r, r->sw_evsel, &r->nr_sw_ids);
		if (!r->sw_ids)
			ret = -ENOMEM;
		else
			qsort(r->sw_ids, r->nr_sw_ids, sizeof(*r->sw_ids), cmp_u64);
	}
	if (!ret)
		ret = pyperf_data_writer__add_attr(r->w, r->online ? &r->file_attr : &r->attr,
						   sizeof(r->attr), ids, n, r->event_name);
	if (!ret && r->o.off_cpu)
		ret = pyperf_data_writer__add_attr(r->w, r->online ? &r->sw_file_attr : &r->sw_attr,
						   sizeof(r->sw_attr), r->sw_ids, r->nr_sw_ids,
						   "sched:sched_switch");
	if (!ret && r->online)
		ret = setup_online(r, ids, n);
	free(ids);
	if (ret)
		return pyperf_error_set(err, ret, PYPERF_NO_OFFSET, r->output, "cannot write: %s",
					strerror(-ret));
	/* Only when asked, as perf record: hotspot's perfparser (1.3, Debian
	 * 12) skips COMPRESSED records and would show an empty profile. */
	level = r->o.compression > 0 ? r->o.compression : 0;
	if (level && !pyperf_data_writer__set_compression(r->w, level, 256 * 1024))
		r->stats.compression = level;
	else if (level && r->o.compression > 0)
		note(r, "compression is not available in this build; writing uncompressed");
	return 0;
}

/* ---- synthesized records ----------------------------------------------------------- */

static int write_rec(struct pyperf_recorder *r, const void *rec, size_t size)
{
	int ret = pyperf_data_writer__write(r->w, rec, size);

	if (!ret)
		r->stats.bytes_written += size;
	return ret;
}

static int enqueue(struct pyperf_recorder *r, const union perf_event *ev);

/* Synthesized records: through the online machine too when unwinding live. */
static int emit(struct pyperf_recorder *r, const void *rec, size_t size)
{
	return r->online ? enqueue(r, rec) : write_rec(r, rec, size);
}

/* The sample_id trailer for synthesized records: pid, tid, time 0, id 0. */
/* The sample_id trailer of a synthesized record: pid/tid, time 0 (before
 * everything), and with two events an id of 0, which readers give to the
 * first event, as perf does with its own synthesized records. */
static size_t trailer(struct pyperf_recorder *r, uint8_t *p, uint32_t pid, uint32_t tid)
{
	memcpy(p, &pid, 4);
	memcpy(p + 4, &tid, 4);
	memset(p + 8, 0, 8);
	if (!r->o.off_cpu)
		return 16;
	memset(p + 16, 0, 8);
	return 24;
}

static int synth_kernel_mmap(struct pyperf_recorder *r)
{
	uint8_t buf[256] = {0};
	const char *name = "[kernel.kallsyms]_text";
	uint64_t start, end;
	uint32_t pid = (uint32_t)-1, tid = 0;
	size_t off, size;
	uint16_t misc = PERF_RECORD_MISC_KERNEL, type16;
	uint32_t type = PERF_RECORD_MMAP;

	if (sysinfo_kernel_text(&start, &end))
		return 0; /* kernel frames unresolved; not fatal */
	memcpy(buf + 8, &pid, 4);
	memcpy(buf + 12, &tid, 4);
	memcpy(buf + 16, &start, 8);
	end -= start;
	memcpy(buf + 24, &end, 8);
	memcpy(buf + 32, &start, 8);
	memcpy(buf + 40, name, strlen(name) + 1);
	off = 40 + ALIGN_UP(strlen(name) + 1, 8);
	off += trailer(r, buf + off, pid, tid);
	size = off;
	memcpy(buf, &type, 4);
	memcpy(buf + 4, &misc, 2);
	type16 = (uint16_t)size;
	memcpy(buf + 6, &type16, 2);
	return emit(r, buf, size);
}

static int synth_comm(struct pyperf_recorder *r, uint32_t pid, uint32_t tid, const char *comm)
{
	uint8_t buf[128] = {0};
	uint32_t type = PERF_RECORD_COMM;
	uint16_t misc = 0, size16;
	size_t n = strnlen(comm, 15), off;

	memcpy(buf + 8, &pid, 4);
	memcpy(buf + 12, &tid, 4);
	memcpy(buf + 16, comm, n);
	off = 16 + ALIGN_UP(n + 1, 8);
	off += trailer(r, buf + off, pid, tid);
	memcpy(buf, &type, 4);
	memcpy(buf + 4, &misc, 2);
	size16 = (uint16_t)off;
	memcpy(buf + 6, &size16, 2);
	return emit(r, buf, off);
}

static int synth_mmap2(struct pyperf_recorder *r, uint32_t pid, uint64_t start, uint64_t len,
		       uint64_t pgoff, uint32_t maj, uint32_t min, uint64_t ino, uint32_t prot,
		       uint32_t flags, const char *name)
{
	uint8_t buf[4096 + 128] = {0};
	uint32_t type = PERF_RECORD_MMAP2;
	uint16_t misc = PERF_RECORD_MISC_USER, size16;
	size_t n = strnlen(name, 4095), off;

	memcpy(buf + 8, &pid, 4);
	memcpy(buf + 12, &pid, 4);
	memcpy(buf + 16, &start, 8);
	memcpy(buf + 24, &len, 8);
	memcpy(buf + 32, &pgoff, 8);
	memcpy(buf + 40, &maj, 4);
	memcpy(buf + 44, &min, 4);
	memcpy(buf + 48, &ino, 8);
	memcpy(buf + 64, &prot, 4);
	memcpy(buf + 68, &flags, 4);
	memcpy(buf + 72, name, n);
	off = 72 + ALIGN_UP(n + 1, 8);
	off += trailer(r, buf + off, pid, pid);
	memcpy(buf, &type, 4);
	memcpy(buf + 4, &misc, 2);
	size16 = (uint16_t)off;
	memcpy(buf + 6, &size16, 2);
	return emit(r, buf, off);
}

static int synth_process(struct pyperf_recorder *r, pid_t pid)
{
	char path[64], line[PATH_MAX + 256], comm[64];
	DIR *dir;
	struct dirent *de;
	FILE *f;
	int ret = 0;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	dir = opendir(path);
	if (!dir)
		return -errno;
	while ((de = readdir(dir)) && !ret) {
		pid_t tid = (pid_t)atoi(de->d_name);

		if (tid <= 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%d/comm", pid, tid);
		f = fopen(path, "re");
		if (!f)
			continue;
		if (!fgets(comm, sizeof(comm), f))
			comm[0] = 0;
		fclose(f);
		comm[strcspn(comm, "\n")] = 0;
		ret = synth_comm(r, (uint32_t)pid, (uint32_t)tid, comm);
	}
	closedir(dir);
	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	f = fopen(path, "re");
	if (!f)
		return ret ? ret : -errno;
	while (!ret && fgets(line, sizeof(line), f)) {
		uint64_t start, end, pgoff, ino;
		unsigned maj, min;
		char perms[8], name[PATH_MAX] = "";
		int n = 0;
		uint32_t prot = 0, flags;

		if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %7s %" SCNx64 " %x:%x %" SCNu64 " %n",
			   &start, &end, perms, &pgoff, &maj, &min, &ino, &n) < 7)
			continue;
		if (perms[2] != 'x')
			continue; /* code only, as perf records without -d */
		snprintf(name, sizeof(name), "%s", n ? line + n : "");
		name[strcspn(name, "\n")] = 0;
		if (!name[0])
			snprintf(name, sizeof(name), "//anon");
		prot = (perms[0] == 'r' ? 1 : 0) | (perms[1] == 'w' ? 2 : 0) | 4;
		flags = perms[3] == 's' ? 1 : 2; /* MAP_SHARED : MAP_PRIVATE */
		ret = synth_mmap2(r, (uint32_t)pid, start, end - start, pgoff, maj, min, ino, prot,
				  flags, name);
	}
	fclose(f);
	return ret;
}

/* ---- launching ------------------------------------------------------------------------ */

/* The program a command runs: skips "env" and its options and assignments. */
static const char *real_command(char *const argv[])
{
	size_t i = 0;
	const char *base = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];

	if (strcmp(base, "env"))
		return argv[0];
	for (i = 1; argv[i]; i++) {
		if (argv[i][0] == '-' || strchr(argv[i], '='))
			continue;
		return argv[i];
	}
	return argv[0];
}

/* Is the trampoline extension for CPython @v (e.g. 311) in python_dir? */
static bool have_trampolines(struct pyperf_recorder *r, int v)
{
	char pattern[PATH_MAX + 64];
	glob_t g;
	bool found;

	if (!r->o.python_dir)
		return false;
	snprintf(pattern, sizeof(pattern), "%s/perf_trampoline/_trampoline.cpython-%d%d-*.so",
		 r->o.python_dir, v / 100, v % 100);
	found = !glob(pattern, 0, NULL, &g);
	if (found)
		globfree(&g);
	return found;
}

/*
 * In the launched child, before exec: a perf map or jitdump named after
 * its pid was left by a dead process that had the same pid (CPython and
 * JITs append to an existing map), and its entries would be read as the
 * child's: removed when it is a regular file of ours. Anything else there
 * was planted (no live process has this pid but the child): a FIFO would
 * hold CPython's open of its map for ever (it opens without O_NONBLOCK),
 * another user's file would take the child's entries. It is removed where
 * the sticky /tmp lets us (root), and the file created empty and ours at
 * once, so nobody can plant it again before the program opens it; where
 * it cannot be removed, Python's perf support stays off for the child.
 */
static void remove_stale_maps(void)
{
	const char *fmt[] = {"/tmp/perf-%d.map", "/tmp/jit-%d.dump"};

	for (size_t i = 0; i < sizeof(fmt) / sizeof(fmt[0]); i++) {
		char path[64];
		struct stat st;
		int fd;

		snprintf(path, sizeof(path), fmt[i], (int)getpid());
		if (lstat(path, &st))
			continue;
		if (S_ISREG(st.st_mode) && st.st_uid == geteuid() && st.st_nlink == 1) {
			unlink(path);
			continue;
		}
		if (unlink(path)) {
			pr_warn(
			    "%s was planted (uid %u, not a file of ours) and cannot be removed: "
			    "Python's perf support is off for this command\n",
			    path, (unsigned)st.st_uid);
			unsetenv("PYTHONPERFSUPPORT");
			unsetenv("PYPERF_TRAMPOLINE");
			continue;
		}
		pr_warn("%s was planted (uid %u, %s): removed\n", path, (unsigned)st.st_uid,
			S_ISFIFO(st.st_mode)  ? "a FIFO"
			: S_ISLNK(st.st_mode) ? "a symlink"
			: S_ISREG(st.st_mode) ? "another user's file"
					      : "not a regular file");
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd >= 0) {
			close(fd);
		} else {
			/* planted again at once: leave it to nobody */
			unsetenv("PYTHONPERFSUPPORT");
			unsetenv("PYPERF_TRAMPOLINE");
		}
	}
}

/* In the launched child: switch on Python's perf support, ours for 3.8-3.11. */
static void python_environment(struct pyperf_recorder *r)
{
	const char *old = getenv("PYTHONPATH");
	char path[2 * PATH_MAX];

	if (r->o.no_python)
		return;
	/* 3.12+ without our folder: CPython's support from startup. With it,
	 * our sitecustomize switches it on once site's own frames run, so
	 * that none of them (nor the bootstrap's) carries a perf name. */
	if (!r->o.python_dir) {
		setenv("PYTHONPERFSUPPORT", "1", 1);
		return;
	}
	if (old && *old)
		snprintf(path, sizeof(path), "%s:%s", r->o.python_dir, old);
	else
		snprintf(path, sizeof(path), "%s", r->o.python_dir);
	setenv("PYTHONPATH", path, 1);
	setenv("PYPERF_TRAMPOLINE", "1", 1);
}

/* Whether a launched Python @v gets its functions named. */
static bool have_python_support(struct pyperf_recorder *r, int v)
{
	return v >= 312 || (v >= 308 && have_trampolines(r, v));
}

/* A Python process whose frames should be named: checked at the end. */
static void watch_python(struct pyperf_recorder *r, pid_t pid, int version)
{
	if (version < 308 || r->nr_py >= sizeof(r->py) / sizeof(r->py[0]))
		return;
	r->py[r->nr_py].pid = pid;
	r->py[r->nr_py].version = version;
	r->py[r->nr_py].named = r->py[r->nr_py].seen = false;
	r->nr_py++;
}

/*
 * A running Python can be named from outside only if it already writes a
 * perf map (-X perf, PYTHONPERFSUPPORT=1, perf_trampoline): say which,
 * and how to get the frames otherwise.
 */
static void attach_python_note(struct pyperf_recorder *r, pid_t pid)
{
	char exe[64], path[PATH_MAX], map[64];
	struct stat st;
	bool live;
	ssize_t n;
	int v;

	snprintf(exe, sizeof(exe), "/proc/%d/exe", pid);
	n = readlink(exe, path, sizeof(path) - 1);
	if (n <= 0)
		return;
	path[n] = 0;
	v = pyperf_python_version(path);
	if (!v)
		return;
	if (!r->stats.python_version)
		r->stats.python_version = v;
	snprintf(map, sizeof(map), "/tmp/perf-%d.map", pid);
	/* a map of a dead process with the same pid names nothing here */
	live = !stat(map, &st) && S_ISREG(st.st_mode) && !pyperf_left_by_dead_process(&st, pid);
	if (v < 308)
		note(r, "pid %d: Python %d.%d: Python frames need CPython 3.8 or newer", pid,
		     v / 100, v % 100);
	else if (live)
		note(r, "pid %d: Python %d.%d writes %s: its Python functions will be named", pid,
		     v / 100, v % 100, map);
	else if (v >= 312)
		note(r,
		     "pid %d: Python %d.%d without perf support (no %s): nothing can switch it on "
		     "from outside, so its Python functions will show as interpreter frames; start "
		     "it "
		     "with python3 -X perf (or PYTHONPERFSUPPORT=1), or under pyperf-record -- "
		     "COMMAND",
		     pid, v / 100, v % 100, map);
	else
		note(r,
		     "pid %d: Python %d.%d without perf trampolines (no %s): nothing can switch "
		     "them "
		     "on from outside, so its Python functions will show as interpreter frames; "
		     "start "
		     "it with python3 -m perf_trampoline SCRIPT (PYTHONPATH=%s), or under "
		     "pyperf-record -- COMMAND",
		     pid, v / 100, v % 100, map,
		     r->o.python_dir ? r->o.python_dir : "pyperf's python folder");
	watch_python(r, pid, v);
}

static void decide_python_and_callgraph(struct pyperf_recorder *r, char *const argv[], bool attach)
{
	char path[PATH_MAX], code[PATH_MAX];
	const char *cmd = real_command(argv);
	int v;

	if (binary_resolve(cmd, path, sizeof(path)))
		return;
	v = pyperf_python_version(path);
	if (!attach)
		r->stats.python_version = v;
	if (v && !r->o.no_python && !attach) {
		if (v >= 312 && r->o.python_dir)
			note(r,
			     "Python %d.%d: perf support switched on through PYTHONPATH "
			     "(sys.activate_stack_trampoline, PYPERF_TRAMPOLINE=1)",
			     v / 100, v % 100);
		else if (v >= 312)
			note(r, "Python %d.%d: perf support switched on (PYTHONPERFSUPPORT=1)",
			     v / 100, v % 100);
		else if (v < 308)
			note(r, "Python %d.%d: Python frames need CPython 3.8 or newer", v / 100,
			     v % 100);
		else if (have_trampolines(r, v))
			note(r,
			     "Python %d.%d: perf trampolines switched on through PYTHONPATH "
			     "(libpyperf, PYPERF_TRAMPOLINE=1)",
			     v / 100, v % 100);
		else
			note(r,
			     "Python %d.%d: perf trampolines were not built for this version "
			     "(build pyperf with its headers installed); Python frames will be "
			     "missing",
			     v / 100, v % 100);
	}
	/* An interpreter without frame pointers: fp stacks end inside it,
	 * before any Python frame. */
	if (r->o.callgraph == PYPERF_CALLGRAPH_FP && v) {
		int is_lib = binary_code_object(path, code, sizeof(code));

		if (!pyperf_binary_has_frame_pointers(code))
			note(r,
			     "warning: --call-graph fp, but %s%s lacks frame pointers: stacks will "
			     "stop inside it, without the Python frames above; --call-graph dwarf "
			     "(or -g) unwinds it",
			     is_lib ? "the interpreter library " : "", code);
	}
	if (r->o.callgraph == PYPERF_CALLGRAPH_AUTO) {
		int is_lib = binary_code_object(path, code, sizeof(code));
		int fp = pyperf_binary_has_frame_pointers(code);

		r->o.callgraph = fp == 1 ? PYPERF_CALLGRAPH_FP : PYPERF_CALLGRAPH_DWARF;
		note(r, "call graphs: %s (%s%s %s frame pointers)", fp == 1 ? "fp" : "dwarf",
		     is_lib ? "the interpreter library " : "", code,
		     fp == 1   ? "keeps"
		     : fp == 0 ? "lacks"
			       : "could not be checked for");
	}
}

PYPERF_API int pyperf_recorder__launch(struct pyperf_recorder *r, char *const argv[],
				       struct pyperf_error *err)
{
	int go[2], ex[2], ret, e = 0;
	pid_t pid;
	char path[PATH_MAX];
	ssize_t n;

	if (!argv || !argv[0] || r->started)
		return pyperf_err(-EINVAL);
	ret = binary_resolve(argv[0], path, sizeof(path));
	if (ret) {
		pyperf_error_set(err, ret, PYPERF_NO_OFFSET, argv[0],
				 ret == -ENOENT ? "command not found" : "cannot execute: %s",
				 strerror(-ret));
		return pyperf_err(ret == -ENOENT ? -ENOENT : -ENOEXEC);
	}
	decide_python_and_callgraph(r, argv, false);
	if (pipe2(go, O_CLOEXEC) || pipe2(ex, O_CLOEXEC))
		return pyperf_err(pyperf_error_set(err, -errno, PYPERF_NO_OFFSET, NULL, "pipe: %s",
						   strerror(errno)));
	pid = fork();
	if (pid < 0) {
		e = errno;
		close(go[0]);
		close(go[1]);
		close(ex[0]);
		close(ex[1]);
		return pyperf_err(
		    pyperf_error_set(err, -e, PYPERF_NO_OFFSET, NULL, "fork: %s", strerror(e)));
	}
	if (pid == 0) {
		char c;

		close(go[1]);
		close(ex[0]);
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		python_environment(r);
		remove_stale_maps();
		/* Wait until the events are armed; EOF means the recorder gave up. */
		if (read(go[0], &c, 1) != 1)
			_exit(127);
		execvp(argv[0], argv);
		e = errno;
		if (write(ex[1], &e, sizeof(e)) < 0)
			_exit(127);
		_exit(127);
	}
	close(go[0]);
	close(ex[1]);
	r->child = pid;
	r->launched = true;
	if (!r->o.no_python && have_python_support(r, r->stats.python_version))
		watch_python(r, pid, r->stats.python_version);
	r->go_fd = go[1];
	r->exec_err_fd = ex[0];

	r->cpus = perf_cpu_map__new_online_cpus();
	r->threads = perf_thread_map__new_array(1, &pid);
	if (!r->cpus || !r->threads) {
		ret = pyperf_error_set(err, -ENOMEM, PYPERF_NO_OFFSET, NULL, "out of memory");
		goto kill_child;
	}
	ret = open_events(r, true, err);
	if (ret)
		goto kill_child;
	if ((ret = write_attrs(r, err)))
		goto kill_child;
	/* perf names the workload before its exec, so the thread exists */
	if ((ret = synth_kernel_mmap(r)) ||
	    (ret = synth_comm(r, (uint32_t)pid, (uint32_t)pid, "pyperf-exec"))) {
		pyperf_error_set(err, ret, PYPERF_NO_OFFSET, r->output, "cannot write: %s",
				 strerror(-ret));
		goto kill_child;
	}
	clock_gettime(CLOCK_MONOTONIC, &r->t0);
	r->t0_real = realtime_now();
	r->started = true;
	if (write(r->go_fd, "x", 1) != 1) {
		ret = pyperf_error_set(err, -errno, PYPERF_NO_OFFSET, NULL,
				       "cannot start the command");
		goto kill_child;
	}
	close(r->go_fd);
	r->go_fd = -1;
	n = read(r->exec_err_fd, &e, sizeof(e));
	close(r->exec_err_fd);
	r->exec_err_fd = -1;
	if (n == sizeof(e)) {
		waitpid(pid, &r->child_status, 0);
		pyperf_error_set(err, -e, PYPERF_NO_OFFSET, argv[0], "cannot execute: %s",
				 strerror(e));
		/* not found vs found but not runnable, as a shell tells them apart */
		return pyperf_err(e == ENOENT ? -ENOENT : -ENOEXEC);
	}
	/* started: the recording takes the output's name now, so that a
	 * recorder killed from here on leaves what it wrote there, as perf's
	 * does (a failed rename is tried again at finish) */
	commit_output(r, NULL);
	return 0;
kill_child:
	if (r->go_fd >= 0)
		close(r->go_fd); /* the child sees EOF and exits */
	r->go_fd = -1;
	waitpid(pid, &r->child_status, 0);
	r->child = -1;
	/* -ENOENT and -ENOEXEC say the command was not found or not run
	 * (exit 127, 126); a failure to record is something else. */
	if (ret == -ENOENT || ret == -ENOEXEC)
		ret = -EIO;
	return pyperf_err(ret);
}

PYPERF_API int pyperf_recorder__attach(struct pyperf_recorder *r, const pid_t *pids, size_t nr,
				       struct pyperf_error *err)
{
	pid_t *tids = NULL;
	size_t nt = 0, cap = 0;
	int ret;

	if (!nr || r->started)
		return pyperf_err(-EINVAL);
	r->attach_pids = pp_calloc(nr, sizeof(*pids));
	r->attach_started = pp_calloc(nr, sizeof(*r->attach_started));
	if (!r->attach_pids || !r->attach_started)
		return pyperf_err(-ENOMEM);
	memcpy(r->attach_pids, pids, nr * sizeof(*pids));
	r->nr_attach = nr;
	for (size_t i = 0; i < nr; i++) {
		attach_python_note(r, pids[i]);
		pyperf_process_started(pids[i], &r->attach_started[i]);
	}
	if (r->o.callgraph == PYPERF_CALLGRAPH_AUTO || r->o.callgraph == PYPERF_CALLGRAPH_FP) {
		char exe[64], path[PATH_MAX];
		ssize_t n;

		snprintf(exe, sizeof(exe), "/proc/%d/exe", pids[0]);
		n = readlink(exe, path, sizeof(path) - 1);
		if (n > 0) {
			char *argv[] = {path, NULL};

			path[n] = 0;
			decide_python_and_callgraph(r, argv, true);
		}
		if (r->o.callgraph == PYPERF_CALLGRAPH_AUTO)
			r->o.callgraph = PYPERF_CALLGRAPH_DWARF;
	}
	for (size_t i = 0; i < nr; i++) {
		char path[64];
		DIR *dir;
		struct dirent *de;

		snprintf(path, sizeof(path), "/proc/%d/task", pids[i]);
		dir = opendir(path);
		if (!dir) {
			free(tids);
			return pyperf_err(pyperf_error_set(err, -ESRCH, PYPERF_NO_OFFSET, NULL,
							   "no such process: %d", pids[i]));
		}
		while ((de = readdir(dir))) {
			pid_t t = (pid_t)atoi(de->d_name);

			if (t <= 0)
				continue;
			if (PP_GROW(tids, cap, nt + 1)) {
				closedir(dir);
				free(tids);
				return pyperf_err(-ENOMEM);
			}
			tids[nt++] = t;
		}
		closedir(dir);
	}
	r->cpus = perf_cpu_map__new_online_cpus();
	r->threads = perf_thread_map__new_array((int)nt, tids);
	free(tids);
	if (!r->cpus || !r->threads)
		return pyperf_err(-ENOMEM);
	ret = open_events(r, false, err);
	if (ret)
		return pyperf_err(ret);
	if ((ret = write_attrs(r, err)))
		return pyperf_err(ret);
	ret = synth_kernel_mmap(r);
	for (size_t i = 0; i < nr && !ret; i++)
		ret = synth_process(r, pids[i]);
	if (ret && ret != -ENOENT)
		return pyperf_err(pyperf_error_set(err, ret, PYPERF_NO_OFFSET, r->output,
						   "cannot write: %s", strerror(-ret)));
	r->attached = true;
	r->started = true;
	clock_gettime(CLOCK_MONOTONIC, &r->t0);
	r->t0_real = realtime_now();
	perf_evlist__enable(r->evlist);
	commit_output(r, NULL); /* as after a launch */
	return 0;
}

/* ---- draining ------------------------------------------------------------------------ */

/* ---- online unwinding ---------------------------------------------------------------- */

static bool q_less(const struct queued_rec *a, const struct queued_rec *b)
{
	return a->time < b->time || (a->time == b->time && a->seq < b->seq);
}

static int enqueue(struct pyperf_recorder *r, const union perf_event *ev)
{
	uint16_t size = ev->header.size;
	uint64_t t = 0;
	struct queued_rec q;
	size_t i;

	if (ev->header.type == PERF_RECORD_SAMPLE) {
		if (size >= r->time_off + 8)
			memcpy(&t, (const uint8_t *)ev + r->time_off, 8);
	} else if (size >= 8 + 8 + r->trailer_time_back) {
		/* from the sample_id trailer */
		memcpy(&t, (const uint8_t *)ev + size - r->trailer_time_back, 8);
	}
	q.rec = pp_arena_alloc_raw(&r->pass_arena[r->fill], size);
	q.arena = r->fill;
	if (!q.rec || PP_GROW(r->heap, r->heap_cap, r->heap_len + 1))
		return -ENOMEM;
	memcpy(q.rec, ev, size);
	r->arena_live[r->fill]++;
	q.time = t;
	q.seq = r->seq++;
	if (t > r->max_time)
		r->max_time = t;
	for (i = r->heap_len++; i;) {
		size_t parent = (i - 1) / 2;

		if (!q_less(&q, &r->heap[parent]))
			break;
		r->heap[i] = r->heap[parent];
		i = parent;
	}
	r->heap[i] = q;
	return 0;
}

static struct queued_rec dequeue(struct pyperf_recorder *r)
{
	struct queued_rec top = r->heap[0], last = r->heap[--r->heap_len];
	size_t i = 0, n = r->heap_len;

	for (;;) {
		size_t l = 2 * i + 1, m;

		if (l >= n)
			break;
		m = (l + 1 < n && q_less(&r->heap[l + 1], &r->heap[l])) ? l + 1 : l;
		if (!q_less(&r->heap[m], &last))
			break;
		r->heap[i] = r->heap[m];
		i = m;
	}
	if (n)
		r->heap[i] = last;
	return top;
}

/* check_unwind: the sample's REGS_USER and STACK_USER fields, as read, at
 * @out; returns their size. */
static size_t append_user_stack(uint8_t *out, const struct pyperf_sample *s)
{
	uint64_t abi = s->regs_user_abi, size = s->stack_user_size;
	size_t nregs = abi ? (size_t)__builtin_popcountll(s->regs_user_mask) : 0, at = 0;

	memcpy(out, &abi, 8);
	at += 8;
	if (nregs) {
		memcpy(out + at, s->regs_user, nregs * 8);
		at += nregs * 8;
	}
	memcpy(out + at, &size, 8);
	at += 8;
	if (size) {
		memcpy(out + at, s->stack_user, size);
		at += size;
		memcpy(out + at, &s->stack_user_dyn_size, 8);
		at += 8;
	}
	return at;
}

/*
 * A sample with a stack copy becomes one with the whole callchain; a stack
 * cut short (by the copy's size, code without CFI, the frame limit...) ends
 * with the mark of its cause, so that every reader of the file can tell it
 * from a whole one.
 */
static int write_unwound(struct pyperf_recorder *r, const struct pyperf_record *rec)
{
	const struct pyperf_sample *s = &rec->sample;
	struct pyperf_thread *th =
	    pyperf_machine__findnew_thread(r->machine, (int32_t)s->pid, (int32_t)s->tid);
	enum pyperf_unwind_stop stop = PYPERF_UNWIND_NO_REGS;
	enum pyperf_stack_cut cut = PYPERF_CUT_NONE;
	uint64_t *o = r->outbuf, nr = 0, *chain;
	size_t nu = 0, limit = CHAIN_LIMIT;
	struct perf_event_header *h = (struct perf_event_header *)o;

	if (!th)
		return -ENOMEM;
	if (r->shedding && rec->attr->type == PERF_TYPE_TRACEPOINT && s->regs_user_abi &&
	    (s->regs_user_mask >> PERF_REG_IP & 1)) {
		/* behind: this switch keeps its kernel stack and the user
		 * address it left from, not the user stack */
		r->uips[0] = s->regs_user[__builtin_popcountll(s->regs_user_mask &
							       ((1ULL << PERF_REG_IP) - 1))];
		nu = 1;
		r->stats.switch_stacks_shed++;
		cut = PYPERF_CUT_SHED;
	} else if (s->regs_user_abi && s->stack_user_size) {
		nu = pyperf_unwinder__unwind(r->unwinder, th, s, r->uips, MAX_UNWIND, &stop);
		cut = pyperf_unwind_stop__cut(stop);
	}
	r->stats.unwound++;
	/* the written layout: [IDENTIFIER] IP TID TIME PERIOD CALLCHAIN [RAW] */
	if (rec->attr->sample_type & PERF_SAMPLE_IDENTIFIER)
		*++o = s->id;
	o[1] = s->ip;
	o[2] = (uint64_t)s->pid | (uint64_t)s->tid << 32;
	o[3] = s->time;
	o[4] = s->period;
	chain = &o[6];
	if (s->raw_size)
		limit -= (s->raw_size + 4 + 7) / 8;
	if (r->o.check_unwind) {
		/* the copy kept: what room is left is for the chain (a
		 * chain of at least 2 entries, a cut one if need be) */
		size_t keep = 3 + (size_t)__builtin_popcountll(s->regs_user_mask) +
			      (size_t)(s->stack_user_size / 8);

		limit = keep + 2 < limit ? limit - keep : 2;
	}
	/* the kernel's part, then ours */
	for (uint64_t i = 0; i < s->callchain_nr; i++) {
		if (s->callchain[i] == PERF_CONTEXT_USER)
			break;
		if (nr == limit) {
			cut = PYPERF_CUT_MAX_STACK;
			break;
		}
		chain[nr++] = s->callchain[i];
	}
	if (nu && nr + 1 < limit) {
		chain[nr++] = PERF_CONTEXT_USER;
		for (size_t i = 0; i < nu; i++) {
			if (nr == limit) {
				cut = PYPERF_CUT_MAX_STACK;
				break;
			}
			chain[nr++] = r->uips[i];
		}
	} else if (nu) {
		cut = PYPERF_CUT_MAX_STACK;
	} else if (!nr) {
		chain[nr++] = (rec->misc & PERF_RECORD_MISC_CPUMODE_MASK) == PERF_RECORD_MISC_KERNEL
				  ? PERF_CONTEXT_KERNEL
				  : PERF_CONTEXT_USER;
		chain[nr++] = s->ip;
	}
	/* limit leaves room for the mark */
	nr = pyperf_callchain_mark_cut(chain, nr, cut);
	if (cut != PYPERF_CUT_NONE) {
		r->stats.stacks_cut[cut]++;
		r->stats.stacks_cut_total++;
		if (cut == PYPERF_CUT_STACK_COPY)
			r->stats.truncated_by_copy++;
		else
			r->stats.truncated_other++;
	}
	o[5] = nr;
	h->type = PERF_RECORD_SAMPLE;
	h->misc = rec->misc;
	h->size = (uint16_t)((uint8_t *)&chain[nr] - (uint8_t *)h);
	if (rec->attr->sample_type & PERF_SAMPLE_RAW) {
		/* u32 size and the data, padded together to 8 bytes */
		uint8_t *raw = (uint8_t *)&chain[nr];
		uint32_t rsz = s->raw_size;
		size_t padded = ALIGN_UP((size_t)rsz + 4, 8);

		memcpy(raw, &rsz, 4);
		if (rsz)
			memcpy(raw + 4, s->raw, rsz);
		memset(raw + 4 + rsz, 0, padded - 4 - rsz);
		h->size = (uint16_t)(h->size + padded);
	}
	if (r->o.check_unwind)
		h->size = (uint16_t)(h->size + append_user_stack((uint8_t *)h + h->size, s));
	return write_rec(r, h, h->size);
}

/* Writes queued records up to time @limit, at most @budget of them
 * (0: all); r->backlog says whether some were left for later. */
static int flush_queue(struct pyperf_recorder *r, uint64_t limit, size_t budget)
{
	/* the budget counts real unwinds: shed and side-band records are cheap */
	uint64_t start = r->stats.unwound - r->stats.switch_stacks_shed;

	while (r->heap_len && r->heap[0].time <= limit) {
		struct queued_rec q;
		const struct pyperf_record *rec;
		uint16_t size;
		int ret;

		if (budget && r->stats.unwound - r->stats.switch_stacks_shed - start >= budget) {
			r->backlog = true;
			return 0;
		}
		q = dequeue(r);
		r->arena_live[q.arena]--;
		memcpy(&size, q.rec + 6, 2);
		if (pyperf_data__decode(r->decoder, q.rec, size, &rec) != 1)
			continue; /* malformed: nothing to write */
		if (rec->type == PYPERF_RECORD_SAMPLE) {
			ret = write_unwound(r, rec);
		} else {
			ret = pyperf_machine__process(r->machine, rec);
			if (!ret)
				ret = write_rec(r, q.rec, size);
		}
		if (ret)
			return ret;
		r->wrote = true;
	}
	r->backlog = false;
	return 0;
}

static int drain(struct pyperf_recorder *r)
{
	static const struct perf_event_header round = {PERF_RECORD_FINISHED_ROUND, 0,
						       sizeof(struct perf_event_header)};
	struct perf_mmap *map;
	bool any = false;
	int ret;

	perf_evlist__for_each_mmap(r->evlist, map, false)
	{
		union perf_event *ev;

		if (perf_mmap__read_init(map) < 0)
			continue;
		while ((ev = perf_mmap__read_event(map))) {
			const struct perf_event_header *h = &ev->header;

			switch (h->type) {
			case PERF_RECORD_SAMPLE: {
				uint64_t t, id;

				r->stats.samples++;
				if (r->nr_sw_ids && h->size >= 16) {
					memcpy(&id, (const uint8_t *)ev + 8, 8);
					if (bsearch(&id, r->sw_ids, r->nr_sw_ids, sizeof(id),
						    cmp_u64))
						r->stats.switches++;
				}
				if (h->size >= r->time_off + 8) {
					memcpy(&t, (const uint8_t *)ev + r->time_off, 8);
					if (!r->first_time)
						r->first_time = t;
					if (t > r->last_time)
						r->last_time = t;
				}
				break;
			}
			case PERF_RECORD_LOST:
				r->stats.lost_chunks++;
				r->stats.lost_samples += ev->lost.lost;
				break;
			case PERF_RECORD_THROTTLE:
				r->stats.throttled++;
				break;
			default:
				break;
			}
			ret = r->online ? enqueue(r, ev) : write_rec(r, ev, h->size);
			perf_mmap__consume(map);
			if (ret)
				return ret;
			any = true;
		}
		perf_mmap__read_done(map);
	}
	r->stats.wakeups++;
	if (r->online) {
		/* Everything up to the newest time of the previous pass is safe:
		 * no later pass can bring older records (perf's round rule). */
		if (r->o.off_cpu && r->heap_len > SHED_ABOVE)
			r->shedding = true;
		else if (r->heap_len < SHED_UNTIL)
			r->shedding = false;
		ret = flush_queue(r, r->prev_max, UNWIND_BUDGET);
		if (ret)
			return ret;
		r->prev_max = r->max_time;
		/* switch arenas when the other one holds nothing queued */
		if (!r->arena_live[r->fill ^ 1]) {
			r->fill ^= 1;
			pp_arena_reset(&r->pass_arena[r->fill]);
		}
		any = r->wrote;
		r->wrote = false;
	}
	if (!any)
		return 0;
	ret = write_rec(r, &round, sizeof(round));
	/* On disk each round: a recorder killed later leaves them readable. */
	return ret ? ret : pyperf_data_writer__flush(r->w);
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

		ret = drain(r);
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

/* ---- finishing ------------------------------------------------------------------------- */

struct hit_dso {
	char *name;
	uint8_t cpumode;
};

/* Build ids of the objects the samples hit, and the recorded processes. */
static int scan_recording(struct pyperf_recorder *r, struct hit_dso **hits, size_t *nr_hits,
			  pid_t **pids, size_t *nr_pids)
{
	struct pyperf_symbols *syms = pyperf_symbols__new(NULL);
	struct pyperf_data *d = syms ? pyperf_data__open(r->write_path, NULL, NULL) : NULL;
	struct pyperf_machine *m = d ? pyperf_machine__new(syms, d) : NULL;
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

static int kernel_build_id(uint8_t out[20])
{
	uint8_t buf[4096];
	int fd = open("/sys/kernel/notes", O_RDONLY | O_CLOEXEC);
	ssize_t n;
	size_t off = 0;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf));
	close(fd);
	while (n > 0 && off + 12 <= (size_t)n) {
		uint32_t namesz = load_u32(buf + off), descsz = load_u32(buf + off + 4);
		uint32_t type = load_u32(buf + off + 8);
		size_t noff = off + 12, doff = noff + ALIGN_UP(namesz, 4);

		if (doff + descsz > (size_t)n)
			break;
		if (type == 3 /* NT_GNU_BUILD_ID */ && namesz == 4 &&
		    !memcmp(buf + noff, "GNU", 4)) {
			size_t k = MIN(descsz, 20u);

			memcpy(out, buf + doff, k);
			return (int)k;
		}
		off = doff + ALIGN_UP(descsz, 4);
	}
	return -ENODATA;
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
		note(r,
		     "build-id cache %s is not ours (another user's $HOME?): binaries not kept "
		     "there",
		     dir);
	else
		note(r,
		     "build-id cache %s: %s: %s; reports after a rebuild of the recorded binaries "
		     "will "
		     "lack their symbols",
		     dir, name, strerror(-ret));
}

/* BUILD_ID feature: one build_id_event per object, as perf writes them. */
static int add_build_ids(struct pyperf_recorder *r, const struct hit_dso *hits, size_t nr)
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
			n = kernel_build_id(id);
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
static bool written_in_lifetime(const struct pyperf_recorder *r, pid_t pid,
				const struct timespec *mtime)
{
	double started = r->t0_real;

	for (size_t i = 0; i < r->nr_attach; i++)
		if (r->attach_pids[i] == pid)
			started = r->attach_started[i];
	return (double)mtime->tv_sec + mtime->tv_nsec / 1e9 >= started - 1.0;
}

static int embed_files(struct pyperf_recorder *r, const pid_t *pids, size_t nr)
{
	uint8_t *buf = NULL;
	size_t len = 8, cap = 0;
	uint32_t count = 0, version = 1;
	int ret = 0;

	if (PP_GROW(buf, cap, len))
		return -ENOMEM;
	for (size_t i = 0; i < nr; i++) {
		for (uint32_t kind = 1; kind <= 2; kind++) {
			char path[64];
			size_t size = 0, plen, need;
			uint32_t slen, pid32 = (uint32_t)pids[i];
			uint64_t size64;
			struct pyperf_error ferr;
			struct stat st;
			char *data;

			snprintf(path, sizeof(path),
				 kind == 1 ? "/tmp/perf-%d.map" : "/tmp/jit-%d.dump", pids[i]);
			for (size_t k = 0; k < r->nr_py; k++)
				r->py[k].seen |= r->py[k].pid == pids[i];
			ret = pyperf_read_untrusted(path, 0, PP_MAX_JIT_FILE, &data, &size, &st,
						    &ferr);
			if (ret == -ENOMEM)
				goto out;
			if (ret) {
				/* refused files are said; missing ones are normal */
				if (ret != -ENOENT) {
					r->stats.maps_refused++;
					pr_warn("%s %s\n", path, ferr.text);
				}
				ret = 0;
				continue;
			}
			if (!written_in_lifetime(r, pids[i], &st.st_mtim)) {
				r->stats.maps_stale++;
				free(data);
				continue;
			}
			for (size_t k = 0; k < r->nr_py; k++)
				r->py[k].named |= r->py[k].pid == pids[i] && size;
			plen = strlen(path) + 1;
			slen = (uint32_t)ALIGN_UP(plen, 8);
			need = 16 + 4 + slen + ALIGN_UP(size, 8);
			if (PP_GROW(buf, cap, len + need)) {
				free(data);
				ret = -ENOMEM;
				goto out;
			}
			memset(buf + len, 0, need);
			size64 = size;
			memcpy(buf + len, &kind, 4);
			memcpy(buf + len + 4, &pid32, 4);
			memcpy(buf + len + 8, &size64, 8);
			memcpy(buf + len + 16, &slen, 4);
			memcpy(buf + len + 20, path, plen);
			memcpy(buf + len + 20 + slen, data, size);
			len += need;
			count++;
			free(data);
			if (r->o.clean_maps && r->launched)
				unlink(path);
		}
	}
	memcpy(buf, &version, 4);
	memcpy(buf + 4, &count, 4);
	if (count) {
		/* Version 2: the entries deflated (perf maps are text that
		 * shrinks 5-10 times), so that a short recording is not mostly
		 * its maps: [u32 2][u32 count][u64 entries' size][zlib stream]. */
		uLongf zlen = compressBound((uLong)(len - 8));
		uint8_t *z = pp_malloc(16 + zlen);
		uint64_t raw = len - 8;

		if (z && compress2(z + 16, &zlen, buf + 8, (uLong)raw, 6) == Z_OK &&
		    16 + zlen < len) {
			version = 2;
			memcpy(z, &version, 4);
			memcpy(z + 4, &count, 4);
			memcpy(z + 8, &raw, 8);
			ret = pyperf_data_writer__add_feature(
			    r->w, (enum pyperf_feature)PYPERF_FEAT_EMBEDDED_FILES, z, 16 + zlen);
		} else {
			ret = pyperf_data_writer__add_feature(
			    r->w, (enum pyperf_feature)PYPERF_FEAT_EMBEDDED_FILES, buf, len);
		}
		free(z);
	}
	r->stats.maps_embedded = count;
out:
	free(buf);
	return ret;
}

/*
 * The kernel's count of samples each event instance could not write
 * (PERF_FORMAT_LOST), as LOST_SAMPLES records: what perf report's "Total
 * Lost Samples" adds up. The LOST records of the ring buffers count the
 * same samples, as they were dropped.
 */
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
				off = 16 + trailer(r, buf + 16, pid, tid);
				/* the instance's id, so that readers know the event */
				if (r->o.off_cpu)
					memcpy(buf + off - 8, &v.id, 8);
				size = (uint16_t)off;
				memcpy(buf + 6, &size, 2);
				ret = write_rec(r, buf, off);
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
	ret = drain(r);
	if (!ret && r->online)
		ret = flush_queue(r, UINT64_MAX, 0);
	if (!ret)
		ret = write_lost_samples(r);
	if (!ret && r->online && r->wrote) {
		static const struct perf_event_header round = {PERF_RECORD_FINISHED_ROUND, 0, 8};

		ret = write_rec(r, &round, sizeof(round));
	}
	if (ret)
		goto write_error;
	/* The data so far must be on disk to be read back. */
	ret = pyperf_data_writer__flush(r->w);
	if (ret)
		goto write_error;
	scan_recording(r, &hits, &nr_hits, &pids, &nr_pids);
	snprintf(version, sizeof(version), "pyperf-record %s", pyperf_version());
	if ((ret = sysinfo_write_features(r->w, version)) || (ret = sysinfo_write_cmdline(r->w)) ||
	    (ret = add_build_ids(r, hits, nr_hits)) || (ret = embed_files(r, pids, nr_pids)))
		goto write_error;
	for (size_t k = 0; k < r->nr_py; k++)
		if (r->py[k].seen && !r->py[k].named)
			note(r,
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
	ret = commit_output(r, err);
	goto out;
write_error:
	pyperf_error_set(err, ret, PYPERF_NO_OFFSET, r->output, "cannot write: %s", strerror(-ret));
	r->stats.write_failed = true;
	/* what was written is kept, as perf keeps a cut perf.data: the
	 * reader takes what it can (the error above is the first word) */
	commit_output(r, NULL);
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

PYPERF_API void pyperf_recorder__free(struct pyperf_recorder *r)
{
	if (!r)
		return;
	evlist_delete(r->evlist);
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
	pyperf_data__close(r->decoder);
	pyperf_data_writer__close(r->decoder_w);
	pyperf_machine__free(r->machine);
	pyperf_unwinder__free(r->unwinder);
	pyperf_symbols__free(r->syms);
	free(r->uips);
	free(r->outbuf);
	free(r->heap);
	pp_arena_free(&r->pass_arena[0]);
	pp_arena_free(&r->pass_arena[1]);
	free(r->attach_pids);
	free(r->attach_started);
	free(r->tracing);
	free(r->sw_ids);
	free(r);
}
