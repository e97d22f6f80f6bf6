/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The interpreter-frame walker: at each sample of a process the library
 * registered, reads the sampled thread's CPython frame chain from user
 * memory (code object, instruction offset, per frame, outermost included)
 * and writes one record (interp_bpf.h) to the bpf-output event of this CPU,
 * whose ring buffer is the sampling event's own: the record lands right
 * before its sample. The same walk serves sched_switch (off-CPU) events.
 *
 * Kernel types are declared here with preserve_access_index (CO-RE), so the
 * build needs no vmlinux.h and libbpf relocates the few fields against the
 * running kernel's BTF.
 */
#include <linux/bpf.h>
#include <linux/bpf_perf_event.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "interp_bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct thread_struct {
	unsigned long fsbase;
} __attribute__((preserve_access_index));

struct task_struct {
	struct thread_struct thread;
} __attribute__((preserve_access_index));

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct pyperf_walk_proc);
} procs SEC(".maps");

/* tid -> PyThreadState address, checked at each use. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, __u64);
} tstates SEC(".maps");

/*
 * tid -> time until which the thread is known to have no thread state: a
 * C-only thread (BLAS workers...) would otherwise walk every thread state
 * at each of its samples. Short, since a C thread may get one later
 * (PyGILState_Ensure).
 */
#define NO_TSTATE_NS 50000000ull
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, __u64);
} no_tstates SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} outputs SEC(".maps");

/*
 * The walks' state lives here, in a map value, not on the stack: the
 * verifier tracks stack scalars exactly, and a frame count it tracks
 * exactly makes every loop iteration a new state to verify (a 1024-frame
 * walk then exceeds its instruction budget). Values loaded from a map are
 * only bounded by the masks below, so the loop body is checked once.
 */
struct scratch {
	struct pyperf_walk_record rec;
	__u8 frame[PYPERF_WALK_FRAME_WIN];
	__u8 tsw[PYPERF_WALK_TSTATE_WIN];
	__u8 gilw[PYPERF_WALK_GIL_WIN];
	__u64 ident[PYPERF_WALK_IDENT_WIN / 8];
	__u64 last_code; /* the frame before's code object and identity */
	__u32 last_ident;
	__u64 seq;
	/* thread-state search */
	__u64 want; /* tid or fs base */
	__u64 interp;
	__u64 tstate; /* next candidate */
	__u64 found;
	__u32 interps;
	/* frame walk */
	__u32 n;
	__u64 cur;
	__u8 status;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct scratch);
} scratch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pyperf_walk_stats);
} stats SEC(".maps");

static __always_inline int read_u64(__u64 addr, __s32 off, __u64 *out)
{
	*out = 0;
	if (off < 0 || !addr)
		return -1;
	return bpf_probe_read_user(out, sizeof(*out), (const void *)(addr + (__u64)off));
}

/* A field of the frame window; the offsets were checked by the library. */
/*
 * Offsets come from the map as signed 32-bit values: widened unsigned and
 * compared in 64 bits, the verifier sees the bound (a 32-bit signed compare
 * leaves the 64-bit register unbounded). -1 (absent) is out of range.
 */
static __always_inline __u64 win_u64(const struct scratch *s, __s32 off)
{
	__u64 o = (__u64)(__u32)off;

	if (o > PYPERF_WALK_FRAME_WIN - 8)
		return 0;
	return *(const __u64 *)(s->frame + o);
}

static __always_inline __u64 tsw_u64(const struct scratch *s, __s32 off)
{
	__u64 o = (__u64)(__u32)off;

	if (o > PYPERF_WALK_TSTATE_WIN - 8)
		return 0;
	return *(const __u64 *)(s->tsw + o);
}

/* The thread state's window at @tstate: 0, or -1 if it cannot be read. */
static __always_inline int read_tstate(const struct pyperf_walk_proc *p, struct scratch *s,
				       __u64 tstate)
{
	__u32 len = (__u32)p->tstate_win_len;

	if (!tstate || len > PYPERF_WALK_TSTATE_WIN)
		return -1;
	return bpf_probe_read_user(s->tsw, len, (const void *)(tstate + (__u64)p->tstate_win_off))
		   ? -1
		   : 0;
}

static __always_inline __u8 win_u8(const struct scratch *s, __s32 off)
{
	__u64 o = (__u64)(__u32)off;

	if (o > PYPERF_WALK_FRAME_WIN - 1)
		return 0;
	return s->frame[o];
}

/* What the loop callbacks get: their state is in @s (see struct scratch). */
struct loop_ctx {
	const struct pyperf_walk_proc *p;
	struct scratch *s;
};

/* One thread state per call; at a list's end, the next interpreter's list. */
static long find_step(__u32 i, struct loop_ctx *c)
{
	const struct pyperf_walk_proc *p = c->p;
	struct scratch *s = c->s;
	__u64 id, next;

	if (!s->tstate) {
		if (++s->interps >= PYPERF_WALK_MAX_INTERPS ||
		    read_u64(s->interp, p->interp_next, &next) || !next)
			return 1;
		s->interp = next;
		return read_u64(next, p->interp_tstate_head, &s->tstate) ? 1 : 0;
	}
	if (read_u64(s->tstate, p->tstate_tid, &id))
		return 1;
	if (id == s->want) {
		s->found = s->tstate;
		return 1;
	}
	if (read_u64(s->tstate, p->tstate_next, &next))
		return 1;
	s->tstate = next;
	return 0;
}

static long walk_step(__u32 i, struct loop_ctx *c)
{
	const struct pyperf_walk_proc *p = c->p;
	struct scratch *s = c->s;
	struct pyperf_walk_frame *f;
	__u64 code, back, cur = s->cur;
	__u32 len = (__u32)p->frame_win_len, loc, n = s->n;
	long lasti;

	if (!cur)
		return 1;
	if (n >= p->max_frames || n >= PYPERF_WALK_MAX_FRAMES) {
		s->status = PYPERF_WALK_TRUNCATED;
		return 1;
	}
	if (len > PYPERF_WALK_FRAME_WIN)
		len = PYPERF_WALK_FRAME_WIN;
	if (bpf_probe_read_user(s->frame, len, (const void *)(cur + (__u64)p->frame_win_off))) {
		s->status = PYPERF_WALK_FAULT;
		return 1;
	}
	back = win_u64(s, p->frame_back);
	if (back == cur) {
		s->status = PYPERF_WALK_BAD_CHAIN;
		return 1;
	}
	s->cur = back;
	if (p->owner_cstack >= 0 && win_u8(s, p->frame_owner) == (__u8)p->owner_cstack) {
		/* a shim the C code pushed to enter the evaluation loop (3.12+):
		 * the frame above it is that loop's first */
		if (n > 0)
			s->rec.frames[(n - 1) & (PYPERF_WALK_MAX_FRAMES - 1)].loc |=
			    PYPERF_WALK_LOC_ENTRY;
		return 0;
	}
	code = win_u64(s, p->frame_code);
	if (p->lasti_scale)
		lasti = (long)(int)win_u64(s, p->frame_lasti) * p->lasti_scale;
	else
		lasti = (long)(win_u64(s, p->frame_instr) - code - (__u64)p->code_adaptive);
	if (lasti < -2)
		lasti = -2;
	loc = (__u32)(lasti + 2) & PYPERF_WALK_LOC_OFFSET;
	/* up to 3.10 every Python call is its own evaluation-loop call */
	if (p->lasti_scale || (p->frame_is_entry >= 0 && win_u8(s, p->frame_is_entry)))
		loc |= PYPERF_WALK_LOC_ENTRY;
	f = &s->rec.frames[n & (PYPERF_WALK_MAX_FRAMES - 1)];
	f->code = code;
	{
		__u32 ilen = (__u32)p->code_ident_len;

		if (ilen > PYPERF_WALK_IDENT_WIN)
			ilen = PYPERF_WALK_IDENT_WIN;
		if (ilen < 8 || bpf_probe_read_user(s->ident, ilen,
						    (const void *)(code + (__u64)p->code_ident))) {
			f->ident = 0;
			loc |= PYPERF_WALK_LOC_NO_IDENT;
		} else {
			f->ident = pyperf_walk_ident(s->ident, ilen / 8);
		}
	}
	f->loc = loc;
	s->n = n + 1;
	return 0;
}

static __always_inline void count(__u32 field_off)
{
	__u32 zero = 0;
	__u64 *st = bpf_map_lookup_elem(&stats, &zero);

	if (st && field_off < sizeof(struct pyperf_walk_stats))
		__sync_fetch_and_add((__u64 *)((char *)st + field_off), 1);
}
#define COUNT(field) count(__builtin_offsetof(struct pyperf_walk_stats, field))

static __always_inline __u8 gil_state(const struct pyperf_walk_proc *p, struct scratch *s,
				      __u64 interp, __u64 tstate)
{
	__u64 gil = 0, holder;
	__u32 locked, len = (__u32)p->gil_win_len;
	__u64 lo = (__u64)(__u32)p->gil_w_locked, ho = (__u64)(__u32)p->gil_w_holder;

	if (p->runtime_gil >= 0)
		gil = p->runtime + (__u64)p->runtime_gil;
	else if (read_u64(interp, p->interp_gil_ptr, &gil))
		return PYPERF_WALK_GIL_UNKNOWN;
	/* locked and last_holder in one read */
	if (!gil || len > PYPERF_WALK_GIL_WIN || lo > PYPERF_WALK_GIL_WIN - 4 ||
	    ho > PYPERF_WALK_GIL_WIN - 8 ||
	    bpf_probe_read_user(s->gilw, len, (const void *)(gil + (__u64)p->gil_win_off)))
		return PYPERF_WALK_GIL_UNKNOWN;
	locked = *(const __u32 *)(s->gilw + lo);
	holder = *(const __u64 *)(s->gilw + ho);
	if (p->gil_locked_size == 1)
		locked &= 0xff;
	return locked && holder == tstate ? PYPERF_WALK_GIL_YES : PYPERF_WALK_GIL_NO;
}

static __always_inline int walk(void *ctx)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 pid = (__u32)(pid_tgid >> 32), tid = (__u32)pid_tgid, zero = 0;
	const struct pyperf_walk_proc *p = bpf_map_lookup_elem(&procs, &pid);
	struct scratch *s;
	struct pyperf_walk_record *rec;
	__u64 want = tid, tstate = 0, interp = 0, *cached, size, top = 0;
	struct loop_ctx lc;

	if (!p)
		return 1;
	s = bpf_map_lookup_elem(&scratch, &zero);
	if (!s)
		return 1;
	COUNT(runs);
	rec = &s->rec;
	rec->magic = PYPERF_WALK_MAGIC;
	rec->format = PYPERF_WALK_FORMAT;
	rec->nr = 0;
	rec->pid = pid;
	rec->tid = tid;
	rec->seq = s->seq++;
	rec->time = bpf_ktime_get_ns();
	rec->tstate = 0;
	rec->cpu = bpf_get_smp_processor_id();
	rec->status = PYPERF_WALK_OK;
	rec->gil = PYPERF_WALK_GIL_UNKNOWN;
	rec->reserved = 0;

	if (p->tid_mode == PYPERF_WALK_TID_FSBASE) {
		struct task_struct *task = (struct task_struct *)bpf_get_current_task();

		want = BPF_CORE_READ(task, thread.fsbase);
	}
	if (read_u64(p->runtime, p->runtime_interp_head, &interp) || !interp) {
		rec->status = PYPERF_WALK_NO_RUNTIME;
		goto out;
	}
	cached = bpf_map_lookup_elem(&tstates, &tid);
	/* the cached thread state still is this thread's: same thread id, an interpreter */
	if (cached && !read_tstate(p, s, *cached) && tsw_u64(s, p->tstate_w_tid) == want &&
	    tsw_u64(s, p->tstate_w_interp))
		tstate = *cached;
	lc.p = p;
	lc.s = s;
	if (!tstate) {
		__u64 *until = bpf_map_lookup_elem(&no_tstates, &tid);

		if (until && rec->time < *until) {
			rec->status = PYPERF_WALK_NO_TSTATE;
			COUNT(no_tstate);
			goto out;
		}
	}
	if (!tstate) {
		COUNT(tstate_walks);
		s->want = want;
		s->interp = interp;
		s->interps = 0;
		s->found = 0;
		if (read_u64(interp, p->interp_tstate_head, &s->tstate) == 0)
			bpf_loop(PYPERF_WALK_MAX_THREADS + PYPERF_WALK_MAX_INTERPS, find_step, &lc,
				 0);
		tstate = s->found;
		if (tstate && read_tstate(p, s, tstate))
			tstate = 0;
		if (tstate)
			bpf_map_update_elem(&tstates, &tid, &tstate, BPF_ANY);
	}
	if (!tstate) {
		__u64 until = rec->time + NO_TSTATE_NS;

		bpf_map_update_elem(&no_tstates, &tid, &until, BPF_ANY);
		rec->status = PYPERF_WALK_NO_TSTATE;
		COUNT(no_tstate);
		goto out;
	}
	rec->tstate = tstate;
	if (tsw_u64(s, p->tstate_w_interp))
		interp = tsw_u64(s, p->tstate_w_interp);
	rec->gil = gil_state(p, s, interp, tstate);
	top = tsw_u64(s, p->tstate_w_frame);
	if (p->cframe_current_frame >= 0 && top && read_u64(top, p->cframe_current_frame, &top)) {
		rec->status = PYPERF_WALK_FAULT;
		goto out;
	}
	s->cur = top;
	s->n = 0;
	s->last_code = 0;
	s->last_ident = 0;
	s->status = PYPERF_WALK_OK;
	bpf_loop(PYPERF_WALK_MAX_FRAMES + 1, walk_step, &lc, 0);
	rec->nr = (__u16)s->n;
	rec->status = s->status;
	if (s->status == PYPERF_WALK_FAULT)
		COUNT(faults);
	else if (s->status == PYPERF_WALK_TRUNCATED)
		COUNT(truncated);
	{
		__u32 zero2 = 0;
		struct pyperf_walk_stats *st = bpf_map_lookup_elem(&stats, &zero2);

		if (st)
			__sync_fetch_and_add(&st->frames, s->n);
	}
out:
	size = PYPERF_WALK_HEADER_SIZE +
	       (__u64)(rec->nr & (PYPERF_WALK_MAX_FRAMES - 1)) * sizeof(struct pyperf_walk_frame);
	if (rec->nr >= PYPERF_WALK_MAX_FRAMES)
		size = sizeof(*rec);
	if (size > sizeof(*rec))
		size = sizeof(*rec);
	if (bpf_perf_event_output(ctx, &outputs, BPF_F_CURRENT_CPU, rec, size))
		COUNT(output_errors);
	else
		COUNT(written);
	return 1;
}

SEC("perf_event")
int pyperf_walk_sample(struct bpf_perf_event_data *ctx)
{
	return walk(ctx);
}

/* sched_switch runs in the task switching out: its frames at the switch. */
SEC("tracepoint")
int pyperf_walk_switch(void *ctx)
{
	return walk(ctx);
}
