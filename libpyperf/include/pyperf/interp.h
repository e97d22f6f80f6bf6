/* SPDX-License-Identifier: MIT */
/**
 * DOC: interpreter frames read at each sample
 *
 * Python frames straight from a running CPython 3.8-3.13, with no restart,
 * no trampolines and no perf map: an eBPF program on the sampling events
 * reads the sampled thread's frame chain (code object and instruction
 * offset per frame, outermost frame included, up to 1024 frames) and
 * whether the thread holds the GIL; the library names the code objects
 * (qualified name, file, line of the instruction) from the live process.
 *
 * Four objects, each usable from its own thread:
 *
 * - struct pyperf_interp: one located interpreter process. Opening it finds
 *   the file holding _PyRuntime (the executable or libpython), its version
 *   and build id, the struct layout (3.13: the interpreter's own
 *   _Py_DebugOffsets; 3.8-3.12: a table generated from each version's
 *   headers, see mk/gen-pyoffsets.sh) and checks the layout against the
 *   live process; an unknown version or build is refused (-EOPNOTSUPP) so
 *   the caller falls back to perf maps instead of reading wrong frames.
 *   It also turns frames into names (pyperf_interp__resolve()).
 * - struct pyperf_interp_walker: the BPF program. Processes are added to
 *   it, it is attached to the caller's sampling event fds, and it writes
 *   one record per sample of an added process to the bpf-output event of
 *   the sample's CPU.
 * - struct pyperf_pystack: one such record, decoded.
 * - struct pyperf_pystack_pairer: pairs records with their perf samples.
 *
 * Pairing. The bpf-output event of each CPU is redirected
 * (PERF_EVENT_IOC_SET_OUTPUT) into the ring buffer of that CPU's sampling
 * events. The program runs in the sample's overflow handler before the
 * kernel writes the sample, on the same CPU, with interrupts off, so a
 * record is the entry right before its sample in that ring buffer. The
 * pairer holds the last record read from each buffer and hands it to the
 * next sample read from the same buffer if the thread ids agree; anything
 * else read in between (a lost-records notice, another record) drops it,
 * so a sample never gets another sample's frames. Both sit in one buffer,
 * so an overflow loses them together (PERF_RECORD_LOST); a per-CPU
 * sequence number in each record counts records the program could not
 * write while its sample was (pyperf_pystack_pairer_stats).
 *
 * Merging into native stacks (for the recorder, phase 2). Frames come
 * innermost first; PYPERF_PYFRAME_ENTRY marks the first (outermost) frame
 * of each evaluation-loop call. Walking the native stack from the leaf,
 * each _PyEval_EvalFrameDefault frame (3.8-3.10: also its
 * _PyEval_EvalFrame/PyEval_EvalFrameEx callers, up to the function-call
 * glue) takes the run of Python frames from the current position up to and
 * including the next ENTRY frame; 3.8-3.10 mark every frame, since every
 * Python call is its own evaluation loop there. C functions between two
 * evaluation frames (an extension called from Python that calls back) stay
 * between the Python caller run and the callee run. Python frames left
 * over when the native unwinding stops early (a cut stack copy) go above
 * the cut, outermost last, so <module> is still reached. A thread whose
 * native stack has fewer evaluation frames than ENTRY marks (the sample
 * landed while a call was being set up) keeps its Python frames in order
 * all the same; a count that disagrees the other way means the walk raced
 * the interpreter, and the native stack is kept as it is.
 *
 * What perf sees (phase 2). perf 6.1 resolves user addresses of a sample's
 * callchain in two ways that need no change to perf, both checked on a
 * hand-made file: an MMAP2 of an "//anon" range named by /tmp/perf-PID.map
 * (shown as "[JIT] tid N"; the map must be in /tmp where perf report
 * runs), and an MMAP2 of an ELF file (symbols resolved from the file at
 * that path or through its build id, as the jitted-PID-N.so files of
 * perf inject --jit are). The second keeps a recording self-contained:
 * give each (code object, line) a 16-byte slot in a range the process does
 * not map, write an ELF with a symbol per slot ("qualname (file.py:LINE)",
 * or per code object with a .debug_line for perf's srcline), list it in
 * the BUILD_ID feature, and put the slot addresses in the callchain in
 * place of the evaluation frames. Records are 48 bytes + 16 per frame:
 * size the ring buffers for them (300-frame stacks at 2 kHz are ~10 MB/s;
 * 512 KiB buffers read every 50 ms overflowed, counted in output_errors).
 *
 * Version notes. 3.8-3.10: PyFrameObject chain from tstate->frame, f_lasti
 * in bytes (3.10: code units), co_lnotab (3.10: co_linetable pairs), every
 * call its own evaluation loop, no native_thread_id (the thread state is
 * found by pthread_self(), the task's fs base on x86-64). 3.11:
 * _PyInterpreterFrame chain from tstate->cframe->current_frame, prev_instr
 * (code start - 1 before the first instruction: the first line),
 * is_entry, the location table, co_qualname, code objects var-sized
 * (PyCode_Type.tp_basicsize is the offset of the bytecode). 3.12: f_code
 * first, C-stack shim frames (owner 3) between evaluation loops, the GIL
 * behind interp->ceval.gil, smaller str headers. 3.13: no cframe
 * (tstate->current_frame), f_executable and instr_ptr, _Py_DebugOffsets
 * (the few fields it lacks follow from C's layout rules; free-threaded
 * builds are refused). Debian's 3.11 links libpython into the executable
 * (symbols in .dynsym), laid out as pyenv's 3.11.7. Module bodies and
 * exec()'d code are freed right after they run: their frames are named
 * only if read while alive (0.2-0.4% of frames on sympy, pygments).
 *
 * Thread safety: distinct objects may be used from distinct threads; one
 * object must not be used from two threads at once. The walker sets
 * libbpf's print callback (process-wide) to route its messages to
 * pyperf_set_print()'s at debug level.
 */
#ifndef PYPERF_INTERP_H
#define PYPERF_INTERP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <pyperf/pyperf.h>

#ifdef __cplusplus
extern "C" {
#endif

struct pyperf_interp;

struct pyperf_interp_open_opts {
	size_t sz; /* sizeof(struct pyperf_interp_open_opts) */
	/*
	 * Wait up to this long for the interpreter to appear and start (a
	 * program just launched: libpython not mapped yet, or Py_Initialize
	 * not done). 0: look once; -EAGAIN if it has not started.
	 */
	unsigned int wait_ms;
	size_t : 0;
};
#define pyperf_interp_open_opts__last_field wait_ms

/**
 * pyperf_interp__open() - locates the CPython interpreter of a live process.
 * @pid: the process.
 * @opts: NULL for defaults.
 * @err: optional; filled on failure with the reason and what to do.
 *
 * Reads /proc/@pid/maps and the mapped executable or libpython, the struct
 * offsets for the version, and checks them against the process's memory
 * (PyCode_Type's size, the interpreter and thread-state links, every
 * thread's frame chain).
 *
 * Return: a new object (pyperf_interp__close()), or NULL with errno:
 * ESRCH (no such process or it exited), EPERM/EACCES (its memory cannot be
 * read: another user's process, or ptrace restrictions), ENOENT (no CPython
 * in it), EOPNOTSUPP (a version or build whose layout is not known: a
 * debug or free-threaded build, or a version outside 3.8-3.13), EAGAIN
 * (the interpreter has not started yet), EBADMSG (the layout does not match
 * what the process holds), ENOMEM.
 */
PYPERF_API struct pyperf_interp *
pyperf_interp__open(int pid, const struct pyperf_interp_open_opts *opts, struct pyperf_error *err);

/**
 * pyperf_interp__close() - frees @ip and every name it handed out. NULL is
 * fine.
 */
PYPERF_API void pyperf_interp__close(struct pyperf_interp *ip);

/** pyperf_interp__pid() - the process @ip reads. */
PYPERF_API int pyperf_interp__pid(const struct pyperf_interp *ip);

/** pyperf_interp__version() - major << 8 | minor, e.g. 0x030b for 3.11. */
PYPERF_API unsigned int pyperf_interp__version(const struct pyperf_interp *ip);

/**
 * pyperf_interp__path() - the file that holds _PyRuntime (the executable
 * or libpython), as the process maps it. Borrowed, valid while @ip lives.
 */
PYPERF_API const char *pyperf_interp__path(const struct pyperf_interp *ip);

/**
 * pyperf_interp__build_id() - that file's GNU build id.
 * Return: its size (at most 20) copied into @out, or -ENODATA.
 */
PYPERF_API int pyperf_interp__build_id(const struct pyperf_interp *ip, uint8_t out[20]);

/**
 * pyperf_interp__layout() - where the struct offsets came from: the
 * builds of the generated table ("pyenv 3.12.1"...) or "this
 * interpreter's _Py_DebugOffsets". Borrowed, valid while @ip lives.
 */
PYPERF_API const char *pyperf_interp__layout(const struct pyperf_interp *ip);

/* One Python frame of a sample. */
struct pyperf_pyframe {
	uint64_t code;	/* the PyCodeObject's address in the process */
	int32_t lasti;	/* byte offset of the current instruction; -2 or -1: not started */
	uint32_t ident; /* the code object's identity when the frame was read */
	uint32_t flags; /* PYPERF_PYFRAME_* */
};
/* The first (outermost) frame of one evaluation-loop call: see the DOC above. */
#define PYPERF_PYFRAME_ENTRY 1u
/* The code object could not be read at the sample: the frame stays unnamed. */
#define PYPERF_PYFRAME_NO_IDENT 2u

/* What a frame is, once named. */
struct pyperf_pyframe_info {
	const char *name; /* co_qualname (3.11+) or co_name; "[unknown python]" */
	const char *file; /* co_filename; "" when unknown */
	int first_line;	  /* co_firstlineno; 0 when unknown */
	int line;	  /* the instruction's line; 0 when it has none */
	bool known;
};

/**
 * pyperf_interp__resolve() - names a frame of @ip's process.
 * @ip: the frame's process.
 * @frame: a frame from a record (pyperf_pystack__frame()) or from
 *	pyperf_interp__for_each_thread().
 * @out: filled in every case; its strings are borrowed from @ip.
 *
 * Each code object is read once (process_vm_readv) and kept; a frame
 * whose identity differs from the object now at its address (the code
 * object was freed and another made there) and from what was kept is
 * named "[unknown python]", never after another function.
 *
 * Return: 1 named, 0 unknown (out->name is "[unknown python]"), -ESRCH
 * the process is gone (unknown, and so are frames not read before), or
 * -ENOMEM.
 */
PYPERF_API int pyperf_interp__resolve(struct pyperf_interp *ip, const struct pyperf_pyframe *frame,
				      struct pyperf_pyframe_info *out);

struct pyperf_interp_stats {
	uint64_t codes_read;	/* code objects read from the process */
	uint64_t codes_changed; /* a kept object replaced by another at its address */
	uint64_t unknown;	/* frames named "[unknown python]" */
	uint64_t read_errors;	/* reads of the process that failed */
};

/** pyperf_interp__stats() - counters of @ip since it was opened. */
PYPERF_API void pyperf_interp__stats(const struct pyperf_interp *ip,
				     struct pyperf_interp_stats *out);

/* One thread state, read from user space (pyperf_interp__for_each_thread()). */
struct pyperf_pythread {
	uint64_t tstate;    /* the PyThreadState's address */
	uint64_t thread_id; /* its pthread_self() */
	int native_tid;	    /* its kernel thread id (3.11+), else 0 */
	bool holds_gil;
	bool truncated; /* more frames than were asked for */
	unsigned int nr;
	const struct pyperf_pyframe *frames; /* innermost first */
};

/**
 * pyperf_interp__for_each_thread() - reads every thread state of @ip's
 * process now, with up to @max_frames frames each, and calls @fn for each
 * (@t valid during the call). Racy by nature, as any reading of a running
 * process: a thread that changes its frames meanwhile may show a mix.
 * The same layout the BPF program gets, read by the library: a check of
 * it, and a snapshot for tools.
 *
 * Return: the number of thread states, the first non-zero return of @fn,
 * or a negative errno (-ESRCH gone, -EFAULT the links could not be read).
 */
PYPERF_API int pyperf_interp__for_each_thread(struct pyperf_interp *ip, unsigned int max_frames,
					      int (*fn)(const struct pyperf_pythread *t, void *ctx),
					      void *ctx);

/* ----- the BPF program ----- */

struct pyperf_interp_walker;

struct pyperf_interp_walker_open_opts {
	size_t sz;
	/* Frames read per sample at most (default and maximum 1024). */
	unsigned int max_frames;
	size_t : 0;
};
#define pyperf_interp_walker_open_opts__last_field max_frames

/**
 * pyperf_interp_walker__open() - loads the BPF program.
 * @opts: NULL for defaults.
 * @err: optional; filled on failure with the reason and what to do.
 *
 * Return: a new walker (pyperf_interp_walker__close()), or NULL with
 * errno: EPERM (no CAP_BPF/CAP_PERFMON, or the kernel is locked down:
 * the message says which), EOPNOTSUPP (the kernel lacks BPF, BTF or
 * bpf_loop: 5.17 or later is needed), ENOMEM.
 */
PYPERF_API struct pyperf_interp_walker *
pyperf_interp_walker__open(const struct pyperf_interp_walker_open_opts *opts,
			   struct pyperf_error *err);

/** pyperf_interp_walker__close() - detaches and frees @w. NULL is fine. */
PYPERF_API void pyperf_interp_walker__close(struct pyperf_interp_walker *w);

/**
 * pyperf_interp_walker__add() - walks @ip's process from now on.
 * @pid: the process to walk: pyperf_interp__pid(@ip), or a child it forked
 *	(same memory layout until it executes another program).
 * Return: 0, -ENOSPC (1024 processes already), or another negative errno.
 */
PYPERF_API int pyperf_interp_walker__add(struct pyperf_interp_walker *w,
					 const struct pyperf_interp *ip, int pid);

/** pyperf_interp_walker__remove() - stops walking @pid. Return: 0 or -ENOENT. */
PYPERF_API int pyperf_interp_walker__remove(struct pyperf_interp_walker *w, int pid);

/* What an attached event is, for the program to run on it. */
enum pyperf_interp_event {
	PYPERF_INTERP_EVENT_SAMPLE = 0, /* a sampling event (cpu-clock, cycles...) */
	PYPERF_INTERP_EVENT_SWITCH = 1, /* the sched:sched_switch tracepoint (off-CPU) */
};

/**
 * pyperf_interp_walker__attach() - runs the program at each overflow of
 * the perf event @event_fd (borrowed: it must stay open while @w lives).
 * Events inherited by children (attr.inherit) run it too. For
 * PYPERF_INTERP_EVENT_SWITCH the program hangs off the tracepoint itself
 * and runs once per switch for all its events: the first such event
 * attaches it (keep that one open), later ones are accepted as they are.
 * Return: 0 or a negative errno (-EEXIST: the event has a program already).
 */
PYPERF_API int pyperf_interp_walker__attach(struct pyperf_interp_walker *w, int event_fd,
					    enum pyperf_interp_event kind,
					    struct pyperf_error *err);

/**
 * pyperf_interp_walker__set_output() - where records of samples taken on
 * @cpu go: @fd (borrowed) is a bpf-output event (PERF_TYPE_SOFTWARE,
 * PERF_COUNT_SW_BPF_OUTPUT, pid -1, that cpu, sample_type with
 * PERF_SAMPLE_RAW) that the caller redirected into the ring buffer of that
 * CPU's sampling events with PERF_EVENT_IOC_SET_OUTPUT (libperf does so
 * for every event of an evlist). Return: 0 or a negative errno.
 */
PYPERF_API int pyperf_interp_walker__set_output(struct pyperf_interp_walker *w, int cpu, int fd);

/**
 * pyperf_interp_walker__open_output() - opens that bpf-output event for
 * @cpu itself and redirects it into @buffer_fd's ring buffer (an event on
 * @cpu whose buffer is mmapped; borrowed).
 * @sample_type: the bpf-output event's attr.sample_type; PERF_SAMPLE_RAW
 *	is added. Give it the fields the buffer's other events have, so that
 *	one parser reads both (PERF_SAMPLE_IDENTIFIER first tells them apart).
 * @use_clockid, @clockid: as the buffer's events (the kernel refuses to
 *	mix clocks in one buffer).
 * @id: if not NULL, the new event's sample id (PERF_EVENT_IOC_ID).
 * Return: the event's fd (owned by @w), or a negative errno.
 */
PYPERF_API int pyperf_interp_walker__open_output(struct pyperf_interp_walker *w, int cpu,
						 int buffer_fd, uint64_t sample_type,
						 bool use_clockid, int clockid, uint64_t *id,
						 struct pyperf_error *err);

struct pyperf_interp_walker_stats {
	uint64_t runs;		/* program runs on samples of added processes */
	uint64_t written;	/* records written */
	uint64_t output_errors; /* records the ring buffer had no room for */
	uint64_t no_tstate;	/* samples of threads without interpreter state */
	uint64_t faults;	/* walks cut by an unreadable frame */
	uint64_t truncated;	/* walks cut at max_frames */
	uint64_t tstate_walks;	/* thread-state list searches (cache misses) */
	uint64_t frames;	/* frames read */
	uint64_t run_time_ns;	/* the programs' time, if kernel.bpf_stats_enabled is 1 */
	uint64_t run_cnt;	/* runs counted with that time */
};

/** pyperf_interp_walker__stats() - the program's counters (summed over CPUs). */
PYPERF_API int pyperf_interp_walker__stats(const struct pyperf_interp_walker *w,
					   struct pyperf_interp_walker_stats *out);

/* ----- records ----- */

enum pyperf_pystack_status {
	PYPERF_PYSTACK_OK = 0,
	PYPERF_PYSTACK_NO_TSTATE = 1,  /* the thread has no interpreter state (C-only thread) */
	PYPERF_PYSTACK_FAULT = 2,      /* a frame could not be read: the frames before it kept */
	PYPERF_PYSTACK_TRUNCATED = 3,  /* more frames than max_frames: the outermost are missing */
	PYPERF_PYSTACK_NO_RUNTIME = 4, /* no interpreter: not started yet, or finalizing */
	PYPERF_PYSTACK_BAD_CHAIN = 5,  /* a frame links to itself (read while it changed) */
};

enum pyperf_pystack_gil {
	PYPERF_PYSTACK_GIL_NO = 0,
	PYPERF_PYSTACK_GIL_YES = 1,
	PYPERF_PYSTACK_GIL_UNKNOWN = 2,
};

/* A decoded record: the Python frames of one sample. */
struct pyperf_pystack {
	uint32_t pid, tid, cpu;
	uint64_t seq;	 /* per CPU: every record the program tried to write */
	uint64_t time;	 /* CLOCK_MONOTONIC ns when the program ran */
	uint64_t tstate; /* the thread's PyThreadState address, 0 if none */
	enum pyperf_pystack_status status;
	enum pyperf_pystack_gil gil;
	uint32_t nr;	     /* frames, innermost first (pyperf_pystack__frame()) */
	const void *frames_; /* in the record's bytes: read through pyperf_pystack__frame() */
};

/**
 * pyperf_pystack__parse() - decodes one record: the PERF_SAMPLE_RAW bytes
 * of a bpf-output sample (after the raw size field).
 * Return: 0; -EBADMSG (not a walker record, or cut short: @err says
 * where), -EOPNOTSUPP (a record format this library does not know).
 * @out->frames_ points into @raw: valid while @raw is.
 */
PYPERF_API int pyperf_pystack__parse(const void *raw, size_t size, struct pyperf_pystack *out,
				     struct pyperf_error *err);

/** pyperf_pystack__frame() - frame @i (< @s->nr) of @s, innermost first. */
PYPERF_API void pyperf_pystack__frame(const struct pyperf_pystack *s, uint32_t i,
				      struct pyperf_pyframe *out);

/** pyperf_pystack__status_name() - "ok", "no-tstate", "fault", ... */
PYPERF_API const char *pyperf_pystack__status_name(enum pyperf_pystack_status status);

/* ----- pairing records with samples ----- */

struct pyperf_pystack_pairer;

/**
 * pyperf_pystack_pairer__new() - a pairer for @nr_buffers ring buffers
 * (index them as you like: by CPU for per-CPU buffers).
 * Return: a new pairer (pyperf_pystack_pairer__free()), or NULL (ENOMEM,
 * EINVAL).
 */
PYPERF_API struct pyperf_pystack_pairer *pyperf_pystack_pairer__new(unsigned int nr_buffers);
PYPERF_API void pyperf_pystack_pairer__free(struct pyperf_pystack_pairer *p);

/**
 * pyperf_pystack_pairer__record() - a walker record (the raw bytes of a
 * bpf-output sample) read from ring buffer @buf. The bytes are copied.
 * Return: 0, -EBADMSG (not a record: counted, and the buffer's pending
 * record is dropped), -EINVAL (@buf out of range), -ENOMEM.
 */
PYPERF_API int pyperf_pystack_pairer__record(struct pyperf_pystack_pairer *p, unsigned int buf,
					     const void *raw, size_t size);

/**
 * pyperf_pystack_pairer__sample() - a sample of thread @tid read from ring
 * buffer @buf, right after whatever was read from it before.
 * @out: set to the sample's Python frames when paired; valid until the next
 *	call for @buf.
 * Return: 1 paired, 0 no record for it (@out NULL), -EINVAL.
 */
PYPERF_API int pyperf_pystack_pairer__sample(struct pyperf_pystack_pairer *p, unsigned int buf,
					     uint32_t tid, const struct pyperf_pystack **out);

/**
 * pyperf_pystack_pairer__other() - anything else read from @buf (a lost
 * notice, mmap, comm...): a pending record does not survive it.
 */
PYPERF_API void pyperf_pystack_pairer__other(struct pyperf_pystack_pairer *p, unsigned int buf);

struct pyperf_pystack_pairer_stats {
	uint64_t records;	   /* records given */
	uint64_t paired;	   /* samples that got their record */
	uint64_t unpaired_records; /* records no sample took (dropped) */
	uint64_t bad_records;	   /* bytes that were no record */
	uint64_t samples_without;  /* samples with no record right before them */
	uint64_t records_missing;  /* gaps in a buffer's sequence numbers */
};

PYPERF_API void pyperf_pystack_pairer__stats(const struct pyperf_pystack_pairer *p,
					     struct pyperf_pystack_pairer_stats *out);

#ifdef __cplusplus
}
#endif

#endif /* PYPERF_INTERP_H */
