// SPDX-License-Identifier: MIT
/*
 * Cut stacks: the mark pyperf-record leaves at the end of a cut chain
 * (encoded and decoded), and the profile's reading of chains on a
 * synthetic perf.data: marked chains, frame-pointer chains that end
 * outside every mapping, chains at the kernel's frame limit, corrupt
 * chains, --max-stack. Each cut stack is counted by cause and gets the
 * [truncated] frame as its outermost frame (unless asked not to).
 */
#include <linux/perf_event.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <pyperf/data.h>
#include <pyperf/profile.h>
#include <pyperf/unwind.h>
#ifndef PYPERF_TEST_SHARED
#include "callchain.h" /* internal: the static build only */
#endif
#include "check.h"

#define CODE 0x400000ULL /* a mapping of /bin/sh: addresses there resolve to a file */
#define U PYPERF_CONTEXT_USER
#define K PYPERF_CONTEXT_KERNEL

#ifndef PYPERF_TEST_SHARED
TEST(marks_round_trip)
{
	for (int c = PYPERF_CUT_NONE; c <= PYPERF_CUT_SHED; c++) {
		uint64_t chain[16] = {K, 0xffffffff81000000ULL, U, CODE + 16, CODE + 32},
			 before = 0;
		size_t n = pyperf_callchain_mark_cut(chain, 5, (enum pyperf_stack_cut)c);

		CHECK_EQ(n, 5 + (size_t)c);
		CHECK_EQ(pyperf_callchain__cut(chain, n, &before), c);
		CHECK_EQ(before, 5);
	}
	/* a reader-only cause adds nothing */
	{
		uint64_t chain[16] = {U, CODE};

		CHECK_EQ(pyperf_callchain_mark_cut(chain, 2, PYPERF_CUT_CORRUPT), 2);
	}
}
#endif

TEST(unmarked_and_odd_chains)
{
	uint64_t whole[] = {U, CODE, CODE + 8}, kmax[] = {K, 0xffffffff81000000ULL, U},
		 markers[] = {K, U, U}, many[] = {U, CODE, U, U, U, U, U, U, U}, before = 0;

	CHECK_EQ(pyperf_callchain__cut(whole, 3, &before), PYPERF_CUT_NONE);
	CHECK_EQ(before, 3);
	/* the kernel filled its limit before the user part: one marker */
	CHECK_EQ(pyperf_callchain__cut(kmax, 3, &before), PYPERF_CUT_MAX_STACK);
	CHECK_EQ(before, 2);
	/* no frame before the markers: nothing cut */
	CHECK_EQ(pyperf_callchain__cut(markers, 3, &before), PYPERF_CUT_NONE);
	CHECK_EQ(before, 3);
	CHECK_EQ(pyperf_callchain__cut(many, 9, &before), PYPERF_CUT_CORRUPT);
	CHECK_EQ(before, 2);
	CHECK_EQ(pyperf_callchain__cut(NULL, 0, NULL), PYPERF_CUT_NONE);
	CHECK(!strcmp(pyperf_stack_cut__name(PYPERF_CUT_STACK_COPY), "stack-copy"));
	CHECK(!strcmp(pyperf_stack_cut__name(PYPERF_CUT_NR), "?"));
	CHECK_EQ(pyperf_unwind_stop__cut(PYPERF_UNWIND_END), PYPERF_CUT_NONE);
	CHECK_EQ(pyperf_unwind_stop__cut(PYPERF_UNWIND_NO_REGS), PYPERF_CUT_NONE);
	CHECK_EQ(pyperf_unwind_stop__cut(PYPERF_UNWIND_NO_CFI), PYPERF_CUT_NO_CFI);
	CHECK_EQ(pyperf_unwind_stop__cut(PYPERF_UNWIND_MAX_DEPTH), PYPERF_CUT_MAX_STACK);
}

/* ---- a synthetic recording ---------------------------------------------------------- */

static void mmap_rec(struct pyperf_data_writer *w)
{
	uint64_t r[16] = {0};
	struct perf_event_header *h = (void *)r;

	h->type = PERF_RECORD_MMAP;
	h->misc = PERF_RECORD_MISC_USER;
	r[1] = 100 | (uint64_t)100 << 32;
	r[2] = CODE;
	r[3] = 0x10000;
	r[4] = 0;
	memcpy(&r[5], "/bin/sh", 8);
	r[6] = 100 | (uint64_t)100 << 32; /* trailer: tid, time */
	r[7] = 0;
	h->size = 8 * 8;
	CHECK_EQ(pyperf_data_writer__write(w, r, h->size), 0);
}

static void sample(struct pyperf_data_writer *w, uint64_t time, const uint64_t *chain, size_t nr)
{
	uint64_t r[32];
	struct perf_event_header *h = (void *)r;

	h->type = PERF_RECORD_SAMPLE;
	h->misc = PERF_RECORD_MISC_USER;
	r[1] = CODE + 16;
	r[2] = 100 | (uint64_t)100 << 32;
	r[3] = time;
	r[4] = nr;
	memcpy(&r[5], chain, nr * 8);
	h->size = (uint16_t)(8 * (5 + nr));
	CHECK_EQ(pyperf_data_writer__write(w, r, h->size), 0);
}

static void *recording(size_t *size)
{
	struct pyperf_data_writer *w = pyperf_data_writer__open(NULL, NULL, NULL);
	struct perf_event_attr a = {0};
	uint64_t id = 1;
	/* whole; marked stack-copy; ends outside every mapping; at the
	 * kernel's limit (4 addresses); corrupt; whole again */
	uint64_t whole[] = {U, CODE + 16, CODE + 32, CODE + 48},
		 copy[] = {U, CODE + 16, CODE + 32, U, U},
		 garbage[] = {U, CODE + 16, 0xdead0000ULL},
		 limit[] = {U, CODE + 16, CODE + 32, CODE + 48, CODE + 64},
		 corrupt[] = {U, CODE + 16, (uint64_t)-3000, CODE + 32};
	const void *mem;
	void *copy_out;

	if (!w)
		return NULL;
	a.size = sizeof(a);
	a.type = PERF_TYPE_SOFTWARE;
	a.config = PERF_COUNT_SW_CPU_CLOCK;
	a.sample_period = 1000;
	a.sample_type = PERF_SAMPLE_IP | PERF_SAMPLE_TID | PERF_SAMPLE_TIME | PERF_SAMPLE_CALLCHAIN;
	a.sample_id_all = 1;
	a.mmap = 1;
	a.sample_max_stack = 4;
	CHECK_EQ(pyperf_data_writer__add_attr(w, &a, sizeof(a), &id, 1, "cpu-clock"), 0);
	mmap_rec(w);
	sample(w, 10, whole, 4);
	sample(w, 20, copy, 5);
	sample(w, 30, garbage, 3);
	sample(w, 40, limit, 5);
	sample(w, 50, corrupt, 4);
	sample(w, 60, whole, 4);
	CHECK_EQ(pyperf_data_writer__finish(w), 0);
	mem = pyperf_data_writer__buffer(w, size);
	copy_out = malloc(*size);
	if (copy_out)
		memcpy(copy_out, mem, *size);
	pyperf_data_writer__close(w);
	return copy_out;
}

struct seen {
	const struct pyperf_profile *p;
	enum pyperf_stack_cut cut[8];
	int outer_truncated[8];
	int n;
};

static void on_stack(void *ctx, const struct pyperf_sample *s, const uint32_t *frames, size_t nr,
		     enum pyperf_stack_cut cut)
{
	struct seen *v = ctx;

	(void)s;
	if (v->n < 8 && nr) {
		v->cut[v->n] = cut;
		v->outer_truncated[v->n] =
		    pyperf_profile__frame(v->p, frames[nr - 1])->kind == PYPERF_FRAME_TRUNCATED;
		v->n++;
	}
}

static void read_with(bool no_root, unsigned max_stack, struct seen *v,
		      struct pyperf_profile_stats *st)
{
	PYPERF_OPTS(pyperf_profile_opts, o, .view = PYPERF_VIEW_NATIVE, .no_unwind = true,
		    .stack_fn = on_stack, .stack_ctx = v, .no_truncated_root = no_root,
		    .max_stack = max_stack);
	PYPERF_OPTS(pyperf_symbols_opts, so, .no_kernel = true, .table_cache = "");
	struct pyperf_symbols *syms = pyperf_symbols__new(&so);
	struct pyperf_profile *p = syms ? pyperf_profile__new(syms, &o) : NULL;
	size_t size = 0;
	void *mem = recording(&size);
	struct pyperf_data *d = mem ? pyperf_data__open_mem(mem, size, "cut", NULL, NULL) : NULL;

	memset(v, 0, sizeof(*v));
	v->p = p;
	CHECK(p && d);
	if (p && d)
		CHECK_EQ(pyperf_profile__add_data(p, d, NULL), 0);
	if (p)
		*st = *pyperf_profile__stats(p);
	pyperf_data__close(d);
	pyperf_profile__free(p);
	pyperf_symbols__free(syms);
	free(mem);
}

TEST(profile_counts_and_roots_cut_stacks)
{
	static const enum pyperf_stack_cut want[6] = {PYPERF_CUT_NONE,	    PYPERF_CUT_STACK_COPY,
						      PYPERF_CUT_BAD_FRAME, PYPERF_CUT_MAX_STACK,
						      PYPERF_CUT_CORRUPT,   PYPERF_CUT_NONE};
	struct pyperf_profile_stats st;
	struct seen v;

	read_with(false, 0, &v, &st);
	CHECK_EQ(v.n, 6);
	for (int i = 0; i < 6 && i < v.n; i++) {
		CHECK_EQ(v.cut[i], want[i]);
		CHECK_EQ(v.outer_truncated[i], want[i] != PYPERF_CUT_NONE);
	}
	CHECK_EQ(st.truncated_stacks, 4);
	CHECK_EQ(st.stacks_cut[PYPERF_CUT_STACK_COPY], 1);
	CHECK_EQ(st.stacks_cut[PYPERF_CUT_BAD_FRAME], 1);
	CHECK_EQ(st.stacks_cut[PYPERF_CUT_MAX_STACK], 1);
	CHECK_EQ(st.stacks_cut[PYPERF_CUT_CORRUPT], 1);

	/* counted the same, shown without the root */
	read_with(true, 0, &v, &st);
	CHECK_EQ(st.truncated_stacks, 4);
	for (int i = 0; i < v.n; i++)
		CHECK_EQ(v.outer_truncated[i], 0);

	/* --max-stack 2: every chain with more addresses is cut there (the
	 * two whole ones and the one at the kernel's limit) */
	read_with(false, 2, &v, &st);
	CHECK_EQ(v.n, 6);
	CHECK_EQ(st.stacks_cut[PYPERF_CUT_MAX_STACK], 3);
	CHECK_EQ(st.stacks_cut[PYPERF_CUT_STACK_COPY], 1);
	CHECK_EQ(st.stacks_cut[PYPERF_CUT_CORRUPT], 1);
	CHECK_EQ(st.stacks_cut[PYPERF_CUT_BAD_FRAME], 1);
}

int main(void)
{
	return RUN(
#ifndef PYPERF_TEST_SHARED
	    CASE(marks_round_trip),
#endif
	    CASE(unmarked_and_odd_chains), CASE(profile_counts_and_roots_cut_stacks));
}
