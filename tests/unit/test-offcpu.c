// SPDX-License-Identifier: MIT
/*
 * Off-CPU accounting of the profile (weights off-cpu, wall, cpu) on
 * synthetic perf.data files whose times are known: two events (cpu-clock,
 * sched:sched_switch) with IDENTIFIER, the tracing-data section carrying
 * the sched_switch format, switch-out samples, switch-in records, exits.
 * Also: damaged tracing data still counts switches (state unknown), and
 * every truncation of the section is refused without a crash.
 */
#include <errno.h>
#include <linux/perf_event.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pyperf/data.h>
#include <pyperf/profile.h>
#include "check.h"

#define SW_ID 372
#define CPU_EV_ID 11
#define SW_EV_ID 22

static const char sw_format[] =
    "name: sched_switch\n"
    "ID: 372\n"
    "format:\n"
    "\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n"
    "\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;\n"
    "\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;\n"
    "\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n"
    "\n"
    "\tfield:char prev_comm[16];\toffset:8;\tsize:16;\tsigned:0;\n"
    "\tfield:pid_t prev_pid;\toffset:24;\tsize:4;\tsigned:1;\n"
    "\tfield:int prev_prio;\toffset:28;\tsize:4;\tsigned:1;\n"
    "\tfield:long prev_state;\toffset:32;\tsize:8;\tsigned:1;\n"
    "\tfield:char next_comm[16];\toffset:40;\tsize:16;\tsigned:0;\n"
    "\tfield:pid_t next_pid;\toffset:56;\tsize:4;\tsigned:1;\n"
    "\tfield:int next_prio;\toffset:60;\tsize:4;\tsigned:1;\n"
    "\n"
    "print fmt: \"prev_comm=%s prev_pid=%d prev_prio=%d prev_state=%s%s ==> next_comm=%s "
    "next_pid=%d next_prio=%d\", REC->prev_comm, REC->prev_pid, REC->prev_prio, "
    "(REC->prev_state & ((((0x00000000 | 0x00000001 | 0x00000002 | 0x00000004 | 0x00000008 | "
    "0x00000010 | 0x00000020 | 0x00000040) + 1) << 1) - 1)) ? __print_flags(REC->prev_state "
    "& ((((0x00000000 | 0x00000001 | 0x00000002 | 0x00000004 | 0x00000008 | 0x00000010 | "
    "0x00000020 | 0x00000040) + 1) << 1) - 1), \"|\", { 0x00000001, \"S\" }, { 0x00000002, "
    "\"D\" }, { 0x00000004, \"T\" }, { 0x00000008, \"t\" }, { 0x00000010, \"X\" }, { "
    "0x00000020, \"Z\" }, { 0x00000040, \"P\" }, { 0x00000080, \"I\" }) : \"R\", "
    "REC->prev_state & (((0x00000000 | 0x00000001 | 0x00000002 | 0x00000004 | 0x00000008 | "
    "0x00000010 | 0x00000020 | 0x00000040) + 1) << 1) ? \"+\" : \"\", REC->next_comm, "
    "REC->next_pid, REC->next_prio\n";

struct buf {
	uint8_t d[8192];
	size_t n;
};

static void put(struct buf *b, const void *p, size_t n)
{
	memcpy(b->d + b->n, p, n);
	b->n += n;
}

static void put_u32(struct buf *b, uint32_t v)
{
	put(b, &v, 4);
}

static void put_u64(struct buf *b, uint64_t v)
{
	put(b, &v, 8);
}

/* The format tracing_data() writes: sw_format, or a damaged copy. */
static const char *format = sw_format;

/* The tracing-data container, as perf writes it, with one event. */
static void tracing_data(struct buf *b)
{
	static const uint8_t magic[10] = {23, 8, 68, 't', 'r', 'a', 'c', 'i', 'n', 'g'};
	uint8_t endian_long[2] = {0, 8};

	b->n = 0;
	put(b, magic, sizeof(magic));
	put(b, "0.6", 4);
	put(b, endian_long, 2);
	put_u32(b, 4096);
	put(b, "header_page", 12);
	put_u64(b, 0);
	put(b, "header_event", 13);
	put_u64(b, 0);
	put_u32(b, 0);
	put_u32(b, 1);
	put(b, "sched", 6);
	put_u32(b, 1);
	put_u64(b, strlen(format));
	put(b, format, strlen(format));
	put_u32(b, 0);
	put_u32(b, 0);
	put_u64(b, 0);
}

static void attrs(struct pyperf_data_writer *w)
{
	struct perf_event_attr a = {0}, s;
	uint64_t cpu_id = CPU_EV_ID, sw_id = SW_EV_ID;

	a.size = sizeof(a);
	a.type = PERF_TYPE_SOFTWARE;
	a.config = PERF_COUNT_SW_CPU_CLOCK;
	a.sample_period = 1000000;
	a.sample_type = PERF_SAMPLE_IDENTIFIER | PERF_SAMPLE_IP | PERF_SAMPLE_TID |
			PERF_SAMPLE_TIME | PERF_SAMPLE_PERIOD;
	a.sample_id_all = 1;
	a.context_switch = 1;
	s = a;
	s.type = PERF_TYPE_TRACEPOINT;
	s.config = SW_ID;
	s.sample_period = 1;
	s.sample_type |= PERF_SAMPLE_RAW;
	s.context_switch = 0;
	CHECK_EQ(pyperf_data_writer__add_attr(w, &a, sizeof(a), &cpu_id, 1, "cpu-clock"), 0);
	CHECK_EQ(pyperf_data_writer__add_attr(w, &s, sizeof(s), &sw_id, 1, "sched:sched_switch"),
		 0);
}

static void comm(struct pyperf_data_writer *w, uint32_t pid, uint32_t tid)
{
	uint64_t r[8] = {0};
	struct perf_event_header *h = (void *)r;

	h->type = PERF_RECORD_COMM;
	h->size = 8 + 8 + 16 + 24;
	r[1] = pid | (uint64_t)tid << 32;
	memcpy(&r[2], "app", 4);
	/* trailer: tid, time, id */
	r[4] = pid | (uint64_t)tid << 32;
	r[5] = 0;
	r[6] = CPU_EV_ID;
	CHECK_EQ(pyperf_data_writer__write(w, r, h->size), 0);
}

static void cpu_sample(struct pyperf_data_writer *w, uint32_t tid, uint64_t time)
{
	uint64_t r[6];
	struct perf_event_header *h = (void *)r;

	h->type = PERF_RECORD_SAMPLE;
	h->misc = PERF_RECORD_MISC_USER;
	h->size = sizeof(r);
	r[1] = CPU_EV_ID;
	r[2] = 0x1000;
	r[3] = 100 | (uint64_t)tid << 32;
	r[4] = time;
	r[5] = 1000000;
	CHECK_EQ(pyperf_data_writer__write(w, r, h->size), 0);
}

static void switch_out(struct pyperf_data_writer *w, uint32_t tid, uint64_t time, int64_t state,
		       uint32_t next)
{
	uint64_t r[6 + 9];
	struct perf_event_header *h = (void *)r;
	uint8_t raw[64] = {0};
	uint32_t rsz = 64, prev = tid;
	uint16_t type = SW_ID;

	h->type = PERF_RECORD_SAMPLE;
	h->misc = PERF_RECORD_MISC_KERNEL;
	h->size = sizeof(r);
	r[1] = SW_EV_ID;
	r[2] = 0xffffffff81000000ULL;
	r[3] = 100 | (uint64_t)tid << 32;
	r[4] = time;
	r[5] = 1;
	memcpy(raw, &type, 2);
	memcpy(raw + 8, "app", 4);
	memcpy(raw + 24, &prev, 4);
	memcpy(raw + 32, &state, 8);
	memcpy(raw + 56, &next, 4);
	/* u32 size + 64 bytes, padded to 72 */
	memcpy(&r[6], &rsz, 4);
	memcpy((uint8_t *)&r[6] + 4, raw, 64);
	memset((uint8_t *)&r[6] + 68, 0, 4);
	CHECK_EQ(pyperf_data_writer__write(w, r, h->size), 0);
}

static void switch_in(struct pyperf_data_writer *w, uint32_t tid, uint64_t time)
{
	uint64_t r[4];
	struct perf_event_header *h = (void *)r;

	h->type = PERF_RECORD_SWITCH;
	h->misc = 0;
	h->size = sizeof(r);
	r[1] = 100 | (uint64_t)tid << 32;
	r[2] = time;
	r[3] = CPU_EV_ID;
	CHECK_EQ(pyperf_data_writer__write(w, r, h->size), 0);
}

/*
 * The story (times in ns):
 *	tid 101 sleeps (S) at 1000, switched in at 5000		-> 4000 S
 *	tid 102 preempted (R) at 2000, sampled on CPU at 2500	-> 500 R
 *	tid 103 blocks (D) at 3000; a switch at 6000 names it next -> 3000 D
 *	tid 104 sleeps at 7000, never runs again; last event 9000 -> 2000 S, open at end
 *	tid 101 sampled on CPU at 8000 and 9000 (2 x 1 ms of cpu-clock)
 */
static struct pyperf_data *story(bool good_tracing, long cut, void **keep)
{
	struct pyperf_data_writer *w = pyperf_data_writer__open(NULL, NULL, NULL);
	struct buf tb;
	const void *mem;
	size_t size;

	if (!w)
		return NULL;
	attrs(w);
	for (uint32_t t = 101; t <= 105; t++)
		comm(w, 100, t);
	switch_out(w, 101, 1000, 1, 0);
	switch_out(w, 102, 2000, 0, 0);
	cpu_sample(w, 102, 2500);
	switch_out(w, 103, 3000, 2, 0);
	switch_in(w, 101, 5000);
	switch_out(w, 105, 6000, 0, 103);
	switch_in(w, 105, 6500);
	switch_out(w, 104, 7000, 1, 0);
	cpu_sample(w, 101, 8000);
	cpu_sample(w, 101, 9000);
	if (good_tracing) {
		tracing_data(&tb);
		if (cut >= 0)
			tb.n = (size_t)cut;
		CHECK_EQ(pyperf_data_writer__add_feature(w, PYPERF_FEAT_TRACING_DATA, tb.d, tb.n),
			 0);
	}
	CHECK_EQ(pyperf_data_writer__finish(w), 0);
	mem = pyperf_data_writer__buffer(w, &size);
	/* the reader points into the buffer: a copy that outlives the writer */
	*keep = malloc(size);
	if (!*keep) {
		pyperf_data_writer__close(w);
		return NULL;
	}
	memcpy(*keep, mem, size);
	pyperf_data_writer__close(w);
	return pyperf_data__open_mem(*keep, size, "story", NULL, NULL);
}

static struct pyperf_profile *profile_of(enum pyperf_weight weight, bool good, long cut)
{
	PYPERF_OPTS(pyperf_profile_opts, o, .weight = weight, .no_unwind = true);
	struct pyperf_profile *p = pyperf_profile__new(NULL, &o);
	void *mem = NULL;
	struct pyperf_data *d = story(good, cut, &mem);

	if (!p || !d) {
		CHECK(p && d);
		pyperf_profile__free(p);
		pyperf_data__close(d);
		free(mem);
		return NULL;
	}
	CHECK_EQ(pyperf_profile__add_data(p, d, NULL), 0);
	pyperf_profile__finish(p);
	pyperf_data__close(d);
	free(mem);
	return p;
}

/* Self weight of leaves named @name below thread @tid of event 0. */
static uint64_t weight_of(struct pyperf_profile *p, int32_t tid, const char *name,
			  uint64_t *samples)
{
	uint64_t w = 0;

	*samples = 0;
	for (uint32_t id = 1; id < pyperf_profile__nr_nodes(p); id++) {
		const struct pyperf_node *n = pyperf_profile__node(p, id);
		const struct pyperf_frame *f = pyperf_profile__frame(p, n->frame);
		uint32_t up = n->parent;

		if (!n->self_samples || !f->name || strcmp(f->name, name))
			continue;
		while (up && pyperf_profile__frame(p, pyperf_profile__node(p, up)->frame)->kind !=
				 PYPERF_FRAME_THREAD)
			up = pyperf_profile__node(p, up)->parent;
		if (up &&
		    pyperf_profile__frame(p, pyperf_profile__node(p, up)->frame)->tid == tid) {
			w += n->self_period;
			*samples += n->self_samples;
		}
	}
	return w;
}

TEST(off_cpu_intervals_end_at_the_next_sign_of_life)
{
	struct pyperf_profile *p = profile_of(PYPERF_WEIGHT_OFF_CPU, true, -1);
	const struct pyperf_profile_stats *st;
	uint64_t n, samples, period;

	REQUIRE(p);
	st = pyperf_profile__stats(p);
	CHECK_EQ(pyperf_profile__nr_events(p), 1);
	CHECK(pyperf_profile__event_in_ns(p, 0));
	CHECK_U64(weight_of(p, 101, "[off-cpu: S]", &n), 4000);
	CHECK_U64(weight_of(p, 102, "[off-cpu: R]", &n), 500);
	CHECK_U64(weight_of(p, 103, "[off-cpu: D]", &n), 3000);
	CHECK_U64(weight_of(p, 104, "[off-cpu: S]", &n), 2000);
	CHECK_U64(weight_of(p, 105, "[off-cpu: R]", &n), 500);
	CHECK_EQ(st->switches, 5);
	CHECK_EQ(st->off_cpu_intervals, 5);
	CHECK_U64(st->off_cpu_ns, 4000 + 500 + 3000 + 2000 + 500);
	CHECK_EQ(st->off_cpu_open_at_end, 1);
	CHECK_EQ(st->switches_undecoded, 0);
	pyperf_profile__event_total(p, 0, &samples, &period);
	CHECK_U64(period, 10000);
	pyperf_profile__free(p);
}

TEST(wall_adds_cpu_time_cpu_leaves_switches_out)
{
	struct pyperf_profile *p = profile_of(PYPERF_WEIGHT_WALL, true, -1);
	uint64_t samples, period;

	REQUIRE(p);
	CHECK_EQ(pyperf_profile__nr_events(p), 1);
	pyperf_profile__event_total(p, 0, &samples, &period);
	/* 3 cpu-clock samples of 1 ms + 10000 ns off CPU */
	CHECK_U64(period, 3 * 1000000 + 10000);
	CHECK_EQ(samples, 3 + 5);
	pyperf_profile__free(p);

	p = profile_of(PYPERF_WEIGHT_CPU, true, -1);
	REQUIRE(p);
	CHECK_EQ(pyperf_profile__nr_events(p), 1);
	CHECK(!pyperf_profile__event_in_ns(p, 0));
	pyperf_profile__event_total(p, 0, &samples, &period);
	CHECK_EQ(samples, 3);
	CHECK_EQ(pyperf_profile__stats(p)->samples_other_weight, 5);
	pyperf_profile__free(p);

	/* events: both, as perf report shows them */
	p = profile_of(PYPERF_WEIGHT_EVENTS, true, -1);
	REQUIRE(p);
	CHECK_EQ(pyperf_profile__nr_events(p), 2);
	pyperf_profile__free(p);
}

TEST(damaged_or_missing_tracing_data_keeps_the_switches)
{
	for (int k = 0; k < 2; k++) {
		struct pyperf_profile *p = profile_of(PYPERF_WEIGHT_OFF_CPU, k == 1, 100);
		uint64_t n;

		REQUIRE(p);
		/* no state: "?" leaves, the same times (next_pid unknown: tid
		 * 103 runs until its next sign of life, the end) */
		CHECK_EQ(pyperf_profile__stats(p)->switches_undecoded, 5);
		CHECK_U64(weight_of(p, 101, "[off-cpu: ?]", &n), 4000);
		CHECK_U64(weight_of(p, 103, "[off-cpu: ?]", &n), 6000);
		pyperf_profile__free(p);
	}
}

TEST(every_truncation_of_the_tracing_data_is_safe)
{
	struct buf tb;
	size_t formats_end;
	int wrong = 0;

	tracing_data(&tb);
	/* kallsyms (u32), printk (u32) and cmdlines (u64) follow the formats */
	formats_end = tb.n - 4 - 4 - 8;
	for (size_t cut = 0; cut < tb.n; cut++) {
		struct pyperf_profile *p = profile_of(PYPERF_WEIGHT_OFF_CPU, true, (long)cut);
		uint64_t undecoded;

		if (!p)
			return;
		undecoded = pyperf_profile__stats(p)->switches_undecoded;
		if (cut < formats_end ? undecoded != 5 : undecoded != 0)
			wrong++;
		pyperf_profile__free(p);
	}
	CHECK_EQ(wrong, 0);
}

/*
 * libtraceevent follows whatever the format says: one changed byte (a
 * field renamed, "prev_state" -> "prev_stafe") made it crash (perf does
 * too). Every byte of the format changed in turn: no crash, the five
 * switches counted, each decoded or (state unknown) shown as "?".
 */
TEST(every_byte_of_the_format_changed_is_safe)
{
	static char damaged[sizeof(sw_format)];
	int wrong = 0, undecoded_runs = 0;

	for (size_t i = 0; i + 1 < sizeof(sw_format); i++) {
		struct pyperf_profile *p;
		const struct pyperf_profile_stats *st;

		memcpy(damaged, sw_format, sizeof(sw_format));
		damaged[i] = damaged[i] == 'f' ? 't' : damaged[i] == '\n' ? ' ' : 'f';
		format = damaged;
		p = profile_of(PYPERF_WEIGHT_OFF_CPU, true, -1);
		format = sw_format;
		if (!p) {
			wrong++;
			continue;
		}
		st = pyperf_profile__stats(p);
		if (st->switches != 5 ||
		    (st->switches_undecoded != 0 && st->switches_undecoded != 5))
			wrong++;
		undecoded_runs += st->switches_undecoded == 5;
		pyperf_profile__free(p);
	}
	CHECK_EQ(wrong, 0);
	/* renamed fields among them */
	CHECK(undecoded_runs > 0);
}

TEST(weight_names_parse)
{
	enum pyperf_weight w;

	CHECK(!pyperf_weight__parse("off-cpu", &w) && w == PYPERF_WEIGHT_OFF_CPU);
	CHECK(!pyperf_weight__parse("wall", &w) && w == PYPERF_WEIGHT_WALL);
	CHECK(!pyperf_weight__parse("cpu", &w) && w == PYPERF_WEIGHT_CPU);
	CHECK_EQ(pyperf_weight__parse("walls", &w), -EINVAL);
	CHECK_EQ(pyperf_weight__parse(NULL, &w), -EINVAL);
}

int main(void)
{
	return RUN(CASE(off_cpu_intervals_end_at_the_next_sign_of_life),
		   CASE(wall_adds_cpu_time_cpu_leaves_switches_out),
		   CASE(damaged_or_missing_tracing_data_keeps_the_switches),
		   CASE(every_truncation_of_the_tracing_data_is_safe),
		   CASE(every_byte_of_the_format_changed_is_safe), CASE(weight_names_parse));
}
