/* SPDX-License-Identifier: MIT */
/*
 * The recorder's state, shared by its stages: events (record_events.c),
 * /proc synthesis (record_synth.c), the Python environment
 * (record_python.c), launch and attach (record_launch.c), draining and
 * online unwinding (record_drain.c), build ids (record_buildid.c),
 * embedded perf maps and jitdumps (record_embed.c) and the driver
 * (record.c). Never installed.
 */
#ifndef PYPERF_RECORD_INTERNAL_H
#define PYPERF_RECORD_INTERNAL_H

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
#include "order_queue.h"
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
	struct perf_event_attr file_attr; /* what the written samples hold */
	struct pyperf_decoder *decoder;	  /* the ring buffers' records, with the kernel's attrs */
	struct pyperf_symbols *syms;
	struct pyperf_machine *machine;
	struct pyperf_unwinder *unwinder;
	uint64_t *uips;
	uint64_t *outbuf;
	/* records drained, until written in time order; a record's tag is
	 * the arena holding its copy */
	struct pyperf_order_queue queue;
	uint64_t seq, max_time, prev_max;
	/* Queued records live in two arenas: one fills while the other
	 * drains; an arena is reused once none of its records is queued. */
	struct pp_arena pass_arena[2];
	size_t arena_live[2];
	unsigned fill;
	bool backlog;  /* records due for writing are still queued */
	bool shedding; /* see SHED_ABOVE */
	bool wrote;

	/* pyperf_recorder__set_sink(): written records decoded with the
	 * file's attrs */
	pyperf_record_sink_fn_t sink;
	void *sink_ctx;
	struct pyperf_decoder *sink_decoder;
	int sink_err; /* what the sink returned when it stopped the recording */
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

/* A line for pyperf_recorder__notes(), printf-style. */
void pyperf_recorder_note(struct pyperf_recorder *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* An object samples hit (record_buildid.c). */
struct hit_dso {
	char *name;
	uint8_t cpumode;
};

/* record.c: the driver */
double pyperf_recorder_realtime_now(void);
unsigned pyperf_recorder_read_proc_uint(const char *path, unsigned fallback);
int pyperf_recorder_commit_output(struct pyperf_recorder *r, struct pyperf_error *err);

/* record_events.c: events */
void pyperf_recorder_build_attr(struct pyperf_recorder *r, bool launch);
int pyperf_recorder_open_events(struct pyperf_recorder *r, bool launch, struct pyperf_error *err);
void pyperf_recorder_evlist_delete(struct perf_evlist *evlist);
int pyperf_recorder_cmp_u64(const void *a, const void *b);
int pyperf_recorder_write_attrs(struct pyperf_recorder *r, struct pyperf_error *err);

/* record_synth.c: records synthesized from /proc */
int pyperf_recorder_write_rec(struct pyperf_recorder *r, const void *rec, size_t size);
size_t pyperf_recorder_trailer(struct pyperf_recorder *r, uint8_t *p, uint32_t pid, uint32_t tid);
int pyperf_recorder_synth_kernel_mmap(struct pyperf_recorder *r);
int pyperf_recorder_synth_comm(struct pyperf_recorder *r, uint32_t pid, uint32_t tid,
			       const char *comm);
int pyperf_recorder_synth_process(struct pyperf_recorder *r, pid_t pid);

/* record_python.c: the Python environment */
void pyperf_recorder_remove_stale_maps(void);
void pyperf_recorder_python_environment(struct pyperf_recorder *r);
bool pyperf_recorder_have_python_support(struct pyperf_recorder *r, int v);
void pyperf_recorder_watch_python(struct pyperf_recorder *r, pid_t pid, int version);
void pyperf_recorder_attach_python_note(struct pyperf_recorder *r, pid_t pid);
void pyperf_recorder_decide_python_and_callgraph(struct pyperf_recorder *r, char *const argv[],
						 bool attach);

/* record_drain.c: draining, time order, online unwinding */
int pyperf_recorder_enqueue(struct pyperf_recorder *r, const union perf_event *ev);
int pyperf_recorder_flush_queue(struct pyperf_recorder *r, uint64_t limit, size_t budget);
int pyperf_recorder_drain(struct pyperf_recorder *r);

/* record_buildid.c and record_embed.c: finishing */
int pyperf_recorder_scan_recording(struct pyperf_recorder *r, struct hit_dso **hits,
				   size_t *nr_hits, pid_t **pids, size_t *nr_pids);
int pyperf_recorder_add_build_ids(struct pyperf_recorder *r, const struct hit_dso *hits, size_t nr);
int pyperf_recorder_embed_files(struct pyperf_recorder *r, const pid_t *pids, size_t nr);

#endif /* PYPERF_RECORD_INTERNAL_H */
