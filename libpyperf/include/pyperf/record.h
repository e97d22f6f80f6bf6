/* SPDX-License-Identifier: MIT */
/*
 * Recording: sampling a command or running processes with perf_event_open
 * (through the kernel's libperf) into a perf.data file that perf report and
 * pyperf-report read.
 *
 * A struct pyperf_recorder launches a command (events are enabled on its
 * exec, so nothing of the recorder's own start-up is sampled, and inherited
 * by every thread and child process) or attaches to running processes
 * (their threads, names and maps are synthesized from /proc), drains the
 * per-CPU ring buffers into the file, and when recording ends writes the
 * header features, the build ids of the objects samples hit, and copies of
 * the recorded processes' perf maps so that the file reports correctly
 * after /tmp is cleaned or on another machine.
 */
#ifndef PYPERF_RECORD_H
#define PYPERF_RECORD_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <pyperf/data.h>
#include <pyperf/pyperf.h>

#ifdef __cplusplus
extern "C" {
#endif

enum pyperf_event_kind {
	PYPERF_EVENT_DEFAULT, /* cycles where the hardware counts them, else cpu-clock */
	PYPERF_EVENT_CPU_CLOCK,
	PYPERF_EVENT_TASK_CLOCK,
	PYPERF_EVENT_CYCLES,
	PYPERF_EVENT_INSTRUCTIONS,
	PYPERF_EVENT_RAW, /* raw_config */
};

enum pyperf_callgraph {
	PYPERF_CALLGRAPH_NONE,
	PYPERF_CALLGRAPH_FP,	/* frame pointers: the kernel walks them */
	PYPERF_CALLGRAPH_DWARF, /* registers + a copy of the user stack */
	PYPERF_CALLGRAPH_AUTO,	/* dwarf if the program lacks frame pointers */
};

/* The section pyperf-record stores perf maps and jitdumps in. perf skips
 * feature bits it does not know. */
#define PYPERF_FEAT_EMBEDDED_FILES 250

/* The largest stack copy the kernel takes (PERF_SAMPLE_STACK_USER): what a
 * record's 16-bit size leaves, rounded down to 8 bytes. */
#define PYPERF_RECORD_MAX_STACK_BYTES 65528u

struct pyperf_record_opts {
	size_t sz;
	const char *output; /* default "perf.data" */
	enum pyperf_event_kind event;
	uint64_t raw_config;
	unsigned freq;	 /* samples per second; default 4000 */
	uint64_t period; /* fixed period instead of freq (perf -c) */
	enum pyperf_callgraph callgraph;
	unsigned stack_bytes; /* dwarf copy size; default 40960, max 65528 */
	unsigned mmap_pages;  /* per-CPU ring buffer data pages (power of 2); default 128,
				 2048 in dwarf mode */
	bool no_python;	      /* do not enable Python's perf support (3.12+'s, trampolines) */
	bool clean_maps;      /* remove perf maps launched processes wrote, once embedded */
	bool no_inherit;      /* only the launched or attached threads */
	/*
	 * dwarf mode: keep the stack copies in the file (perf's way, for
	 * offline unwinding). By default each sample is unwound as it is
	 * drained and written as a compact callchain sample instead.
	 */
	bool raw_stacks;
	/*
	 * zstd level for perf-style compressed records (perf record -z):
	 * 0 or -1 = none (the default, as perf record: hotspot 1.3 cannot
	 * read compressed records), 1..22 = that level.
	 */
	int compression;
	/*
	 * Folder holding the perf_trampoline package and its sitecustomize.py
	 * (built into build/out/python, installed in PREFIX/lib/pyperf/python).
	 * Launched commands get it first on PYTHONPATH with PYPERF_TRAMPOLINE=1,
	 * which names Python functions on CPython 3.8-3.11. NULL: not done.
	 */
	const char *python_dir;
	/*
	 * Also record sched:sched_switch with call graphs (and context-switch
	 * records, which say when a thread runs again), for off-CPU and
	 * wall-clock profiles. The tracepoint's format is stored in the file.
	 */
	bool off_cpu;
	/*
	 * dwarf mode: stack bytes copied at each context switch; default
	 * 16384 (about 30 nested Python calls on 3.12), at most the CPU
	 * samples' copy. Switches can come 50,000 times a second: smaller
	 * copies keep the recording's cost and ring-buffer use bounded.
	 */
	unsigned off_cpu_stack_bytes;
	/*
	 * perf's build-id cache, filled at the end as perf record fills it
	 * (every binary samples hit, and the kernel's symbols), so that
	 * reports keep their symbols after a rebuild. NULL: $PERF_BUILDID_DIR,
	 * else $HOME/.debug; "" or no_buildid_cache: not written (perf -N).
	 */
	const char *buildid_dir;
	bool no_buildid_cache;
	/*
	 * dwarf mode: unwind while recording, and keep each sample's stack
	 * copy too, so that the file can be unwound again offline and the two
	 * compared sample by sample (the tests do; pyperf-report unwinds the
	 * copies, and with no_unwind takes the written chains). The file is as
	 * large as with raw_stacks, and perf shows the user frames twice.
	 */
	bool check_unwind;
	/*
	 * perf's event modifiers: exclude_kernel (":u", also the hypervisor),
	 * exclude_user (":k"), precise_ip (":p" counted, at most 3). The event
	 * is named with them ("cpu-clock:u"). When the kernel refuses the
	 * event (perf_event_paranoid 2 for unprivileged users) and neither
	 * was asked, the recorder falls back to user space, as perf record
	 * does, and says so in the notes.
	 */
	bool exclude_kernel;
	bool exclude_user;
	unsigned precise_ip;
	size_t : 0;
};
#define pyperf_record_opts__last_field precise_ip

/* What a recording saw; filled as it runs and at the end. */
struct pyperf_record_stats {
	uint64_t samples;
	uint64_t lost_samples;	     /* reported by the kernel in LOST records */
	uint64_t lost_chunks;	     /* LOST records */
	uint64_t bytes_written;	     /* to the file (after compression) */
	int compression;	     /* zstd level used, 0 if none */
	uint64_t buildid_cached;     /* binaries added to (or found in) the build-id cache */
	uint64_t processes, threads; /* seen in the recording */
	uint64_t wakeups;	     /* ring buffer drain passes */
	uint64_t throttled;	     /* THROTTLE records */
	uint64_t maps_embedded;	     /* perf maps / jitdumps copied into the file */
	uint64_t unwound;	     /* samples unwound while recording */
	uint64_t truncated_by_copy;  /* of those, stacks deeper than the copy */
	uint64_t truncated_other;    /* stopped for other reasons (no CFI, no map...) */
	double recorder_cpu_seconds; /* user + system time of the recorder itself */
	double wall_seconds;
	unsigned freq;			 /* the frequency used (may be lowered) */
	unsigned stack_bytes;		 /* dwarf copy size used */
	enum pyperf_callgraph callgraph; /* after AUTO was decided */
	const char *event_name;		 /* e.g. "cpu-clock" */
	int python_version; /* e.g. 312 for the launched interpreter, 0 if not Python */
	uint64_t switches;  /* sched_switch samples (off_cpu) */
	/* of those, written without their user stack because the recorder
	 * was behind (kernel frames and the user address only) */
	uint64_t switch_stacks_shed;
	/* samples written with a cut stack, by cause (PYPERF_CUT_*; the
	 * file marks each, see enum pyperf_stack_cut); truncated_by_copy and
	 * truncated_other above are sums of these */
	uint64_t stacks_cut[PYPERF_CUT_NR];
	uint64_t stacks_cut_total;
	/* perf maps / jitdumps of recorded pids not embedded: unsafe (a
	 * symlink, FIFO, another user's file: said as a warning), or last
	 * written before the process started (a dead process's) */
	uint64_t maps_refused;
	uint64_t maps_stale;
	/* pyperf_recorder__finish() could not write everything (a full disk):
	 * the file is cut, the figures above are what was recorded, not
	 * what the file holds */
	bool write_failed;
};

struct pyperf_recorder;

/**
 * pyperf_recorder__new() - prepare a recording; nothing runs yet.
 * @opts: options, or NULL.
 * @err: filled on failure; may be NULL.
 *
 * The recording is written to a new file beside the output, created now
 * so that an unwritable output fails before any command starts; it takes
 * the output's name once the command runs or the pids are attached to (an
 * existing file is renamed to "FILE.old" then, as perf does). A start
 * that fails (the command or pid could not be started) leaves nothing and
 * an older output untouched.
 *
 * Return: a recorder to free with pyperf_recorder__free(), or NULL with
 * errno set.
 */
PYPERF_API struct pyperf_recorder *pyperf_recorder__new(const struct pyperf_record_opts *opts,
							struct pyperf_error *err);

/**
 * pyperf_recorder__launch() - start @argv under sampling.
 *
 * The command is forked, the events are opened on it, then it execs (found
 * through PATH). With callgraph AUTO the mode is decided from the program's
 * binaries here.
 *
 * Return: 0; -ENOENT when the command is not found and -ENOEXEC when it
 * cannot be executed (a shell exits 127 and 126 for these), -EACCES/-EPERM
 * when perf_event_open is not allowed (@err says which sysctl or
 * capability), other negative errnos.
 */
PYPERF_API int pyperf_recorder__launch(struct pyperf_recorder *r, char *const argv[],
				       struct pyperf_error *err);

/**
 * pyperf_recorder__attach() - sample running processes and their threads.
 * @pids: process ids.
 * @nr: how many.
 *
 * Return: 0, -ESRCH (no such process; @err names it), or as for launch.
 */
PYPERF_API int pyperf_recorder__attach(struct pyperf_recorder *r, const pid_t *pids, size_t nr,
				       struct pyperf_error *err);

/**
 * pyperf_recorder__run() - drain the ring buffers until the launched
 * command exits, the attached processes are gone, or
 * pyperf_recorder__stop() is called (e.g. from a signal handler).
 *
 * Return: 0 or a negative errno (writing failed: @err names the file).
 */
PYPERF_API int pyperf_recorder__run(struct pyperf_recorder *r, struct pyperf_error *err);

/**
 * pyperf_recorder__stop() - ask run() to return soon. Async-signal-safe.
 */
PYPERF_API void pyperf_recorder__stop(struct pyperf_recorder *r);

/**
 * pyperf_recorder__signal_child() - forward a signal to the launched
 * command (a no-op when attached). Async-signal-safe.
 */
PYPERF_API void pyperf_recorder__signal_child(struct pyperf_recorder *r, int sig);

/**
 * pyperf_recorder__finish() - stop sampling, drain what is left, write the
 * features (build ids, embedded perf maps) and the final header.
 *
 * Return: 0 or a negative errno.
 */
PYPERF_API int pyperf_recorder__finish(struct pyperf_recorder *r, struct pyperf_error *err);

/**
 * pyperf_recorder__child_status() - the launched command's wait status
 * (as from waitpid), or -1 if it has not exited or none was launched.
 */
PYPERF_API int pyperf_recorder__child_status(const struct pyperf_recorder *r);

/** pyperf_recorder__child_pid() - the launched command's pid, or -1. */
PYPERF_API pid_t pyperf_recorder__child_pid(const struct pyperf_recorder *r);

/** pyperf_recorder__stats() - counts so far. Borrowed. */
PYPERF_API const struct pyperf_record_stats *
pyperf_recorder__stats(const struct pyperf_recorder *r);

/**
 * pyperf_recorder__notes() - one-line notes for the user made while
 * preparing (event fallback, lowered frequency, call graph choice, Python
 * support), separated by newlines; "" if none. Borrowed.
 */
PYPERF_API const char *pyperf_recorder__notes(const struct pyperf_recorder *r);

/*
 * A record as the recording's file gets it (see pyperf_recorder__set_sink()).
 * @rec and everything it points to are borrowed for the call. Return 0 to
 * go on; a negative errno stops the recording: pyperf_recorder__run()
 * returns it (@err says the sink stopped it), the sink is not called
 * again, and pyperf_recorder__finish() still completes the file.
 */
typedef int (*pyperf_record_sink_fn_t)(void *ctx, const struct pyperf_record *rec);

/**
 * pyperf_recorder__set_sink() - also hand every record written to the
 * file to @fn, for live views (pyperf-top).
 * @fn: called with each record once it is written, decoded with the
 *	file's events (pyperf_data__attr() of what the file holds): samples
 *	as written (after unwinding while recording, with the callchain and
 *	cut mark the file gets), and the side-band records a reader needs to
 *	name their frames (COMM, MMAP2, FORK, EXIT, synthesized ones too).
 *	With online unwinding (dwarf mode without raw_stacks) they come in
 *	time order, as a reader of the file would take them; otherwise in
 *	ring-buffer order. NULL: none.
 * @ctx: passed to @fn.
 *
 * Call before pyperf_recorder__launch() or __attach(). @fn runs on the
 * thread that calls pyperf_recorder__run() or __finish(), and allocates
 * nothing per record on the recorder's side.
 *
 * Return: 0, or -EINVAL once started.
 */
PYPERF_API int pyperf_recorder__set_sink(struct pyperf_recorder *r, pyperf_record_sink_fn_t fn,
					 void *ctx);

/** pyperf_recorder__free() - free (kills nothing; finish first). NULL is accepted. */
PYPERF_API void pyperf_recorder__free(struct pyperf_recorder *r);

/**
 * pyperf_binary_has_frame_pointers() - whether most functions of an ELF
 * file set up a frame pointer (push %rbp; mov %rsp,%rbp on x86-64), so
 * that the kernel can walk its stacks.
 *
 * Return: 1 yes, 0 no, negative errno if the file cannot be read.
 */
PYPERF_API int pyperf_binary_has_frame_pointers(const char *path);

/**
 * pyperf_python_version() - the CPython version of an interpreter binary
 * as major * 100 + minor (312), from its name, its libpython dependency,
 * or by asking it; 0 if it is not CPython.
 */
PYPERF_API int pyperf_python_version(const char *path);

#ifdef __cplusplus
}
#endif

#endif /* PYPERF_RECORD_H */
