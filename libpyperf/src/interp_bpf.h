/* SPDX-License-Identifier: MIT */
/*
 * What the interpreter-frame walker's BPF program (libpyperf/bpf/
 * interp_walk.bpf.c) and the library share: the per-process configuration
 * the library writes into the program's map, and the record the program
 * writes for each sample. Compiled both by clang -target bpf and by the C
 * compiler of the library, so only fixed-size kernel types (__u64...).
 * Never installed: the record's public face is struct pyperf_pystack.
 */
#ifndef PYPERF_INTERP_BPF_H
#define PYPERF_INTERP_BPF_H

#include <linux/types.h>

/* A walk stops after this many frames (the record says "truncated"). */
#define PYPERF_WALK_MAX_FRAMES 1024
/* Thread states looked at to find the sampled thread's (cache misses only). */
#define PYPERF_WALK_MAX_THREADS 1024
#define PYPERF_WALK_MAX_INTERPS 8
/* Bytes of a frame and of a code object read in one go. */
#define PYPERF_WALK_FRAME_WIN 128
#define PYPERF_WALK_IDENT_WIN 48
#define PYPERF_WALK_TSTATE_WIN 256
#define PYPERF_WALK_GIL_WIN 32

#define PYPERF_WALK_MAGIC 0x70797374u /* "tsyp" in memory */
#define PYPERF_WALK_FORMAT 1

/* How the sampled thread's PyThreadState is recognised. */
enum pyperf_walk_tid_mode {
	/* tstate->native_thread_id == the kernel's tid (3.11+) */
	PYPERF_WALK_TID_NATIVE = 0,
	/* tstate->thread_id (pthread_self()) == the task's fs base: x86-64
	 * glibc and musl put the thread control block there (3.8-3.10) */
	PYPERF_WALK_TID_FSBASE = 1,
};

/*
 * One process to walk, keyed by its pid (tgid) in the program's map.
 * Offsets are bytes, -1 where the version has no such field. Frame fields
 * are relative to the frame window [frame_win_off, +frame_win_len).
 */
struct pyperf_walk_proc {
	__u64 runtime; /* address of _PyRuntime */
	__u32 max_frames;
	__u8 tid_mode;
	__s8 owner_cstack; /* owner value of C-stack shim frames (3.12+) */
	__u8 lasti_scale;  /* 0: instruction pointer; else f_lasti * scale */
	__u8 gil_locked_size;
	__s32 runtime_interp_head;
	__s32 interp_next;
	__s32 interp_tstate_head;
	__s32 runtime_gil;    /* GIL struct inside _PyRuntime (3.8-3.11) */
	__s32 interp_gil_ptr; /* or behind this interp pointer (3.12+) */
	__s32 gil_locked;
	__s32 gil_holder;
	__s32 tstate_next;
	__s32 tstate_interp;
	__s32 tstate_tid; /* native_thread_id or thread_id, by tid_mode */
	__s32 tstate_frame;
	__s32 cframe_current_frame;
	__s32 frame_win_off;
	__s32 frame_win_len;
	__s32 frame_back;
	__s32 frame_code;
	__s32 frame_lasti;
	__s32 frame_instr;
	__s32 frame_owner;
	__s32 frame_is_entry;
	__s32 code_adaptive;
	__s32 code_ident;
	__s32 code_ident_len;
	/* The thread state's fields the walk needs, read in one go: the window
	 * [tstate_win_off, +tstate_win_len) and the fields within it. */
	__s32 tstate_win_off;
	__s32 tstate_win_len;
	__s32 tstate_w_tid;
	__s32 tstate_w_interp;
	__s32 tstate_w_frame;
	/* the same for the GIL's locked and last_holder */
	__s32 gil_win_off;
	__s32 gil_win_len;
	__s32 gil_w_locked;
	__s32 gil_w_holder;
};

/* One frame, innermost first. */
struct pyperf_walk_frame {
	__u64 code;  /* PyCodeObject address */
	__u32 ident; /* pyperf_walk_ident() of the code object at the sample */
	__u32 loc;   /* PYPERF_WALK_LOC_* flags | (byte offset of the instruction + 2) */
};
#define PYPERF_WALK_LOC_ENTRY (1u << 31)    /* first frame of an evaluation-loop call */
#define PYPERF_WALK_LOC_NO_IDENT (1u << 30) /* the code object could not be read */
#define PYPERF_WALK_LOC_OFFSET 0x3fffffffu

enum pyperf_walk_status {
	PYPERF_WALK_OK = 0,
	PYPERF_WALK_NO_TSTATE = 1,  /* the thread has no interpreter state */
	PYPERF_WALK_FAULT = 2,	    /* a read failed: frames up to it kept */
	PYPERF_WALK_TRUNCATED = 3,  /* more frames than max_frames */
	PYPERF_WALK_NO_RUNTIME = 4, /* no interpreter (not started or finalizing) */
	PYPERF_WALK_BAD_CHAIN = 5,  /* a frame links to itself */
};

enum pyperf_walk_gil {
	PYPERF_WALK_GIL_NO = 0,
	PYPERF_WALK_GIL_YES = 1,
	PYPERF_WALK_GIL_UNKNOWN = 2,
};

struct pyperf_walk_record {
	__u32 magic;
	__u16 format;
	__u16 nr; /* frames that follow */
	__u32 pid;
	__u32 tid;
	__u64 seq;  /* per CPU, counts every record the program tried to write */
	__u64 time; /* bpf_ktime_get_ns() */
	__u64 tstate;
	__u32 cpu;
	__u8 status;
	__u8 gil;
	__u16 reserved;
	struct pyperf_walk_frame frames[PYPERF_WALK_MAX_FRAMES];
};
#define PYPERF_WALK_HEADER_SIZE 48

/* Per-CPU counters of the program, summed by the library. */
struct pyperf_walk_stats {
	__u64 runs;	     /* samples of walked processes */
	__u64 written;	     /* records written to the ring buffer */
	__u64 output_errors; /* bpf_perf_event_output() failed (buffer full) */
	__u64 no_tstate;
	__u64 faults;
	__u64 truncated;
	__u64 tstate_walks; /* thread-state list walks (cache misses) */
	__u64 frames;
};

/*
 * The identity of a code object: a mix of the words of its identity window
 * (fields fixed once the object exists). The program computes it at the
 * sample, the library when it reads the object: a code object freed and
 * another made at its address differ here, so a frame never takes the
 * name of the object that replaced its own.
 */
static inline __u32 pyperf_walk_ident(const void *words, unsigned int nwords)
{
	__u64 h = 0x9e3779b97f4a7c15ull, w;

	for (unsigned int i = 0; i < PYPERF_WALK_IDENT_WIN / 8; i++) {
		if (i >= nwords)
			break;
		__builtin_memcpy(&w, (const char *)words + 8 * i, sizeof(w));
		h ^= w;
		h *= 0xff51afd7ed558ccdull;
		h ^= h >> 32;
	}
	/* 0 means "not read" nowhere, but keep it free anyway */
	return (__u32)h | 1;
}

#endif /* PYPERF_INTERP_BPF_H */
