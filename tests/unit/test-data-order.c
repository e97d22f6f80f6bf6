// SPDX-License-Identifier: MIT
/*
 * Time-ordered reading (pyperf_data__next_ordered) against a model of
 * perf's rule: records are released at each FINISHED_ROUND up to the
 * newest time seen before the previous one, and at the end; released
 * records come out by time, ties in arrival order. Files are built in
 * memory with the library's writer, in the shapes recordings take: one
 * sorted stretch per CPU per round (2 and 16 CPUs: the queue keeps 8 sorted
 * runs, the rest goes to its heap), shuffled rounds with equal times, and
 * no rounds at all.
 */
#include <errno.h>
#include <linux/perf_event.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pyperf/data.h>
#include "check.h"
#include "data_internal.h"

#define MAX_RECS 60000

struct rec {
	uint64_t time;
	uint64_t id; /* arrival order; written as the sample's ip */
};

/* A file being described: records and FINISHED_ROUND marks in file order. */
struct script {
	struct rec recs[MAX_RECS];
	int round_after[MAX_RECS]; /* FINISHED_ROUND after record i */
	size_t n;
};

static uint64_t rng = 88172645463325252ULL;

static uint64_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void add(struct script *s, uint64_t time)
{
	s->recs[s->n] = (struct rec){time, s->n + 1};
	s->round_after[s->n] = 0;
	s->n++;
}

static int cmp_rec(const void *a, const void *b)
{
	const struct rec *x = a, *y = b;

	if (x->time != y->time)
		return x->time < y->time ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

/* The order perf's ordered events deliver @s in. */
static size_t model(const struct script *s, uint64_t *out)
{
	static struct rec queue[MAX_RECS], out_recs[MAX_RECS];
	size_t nq = 0, nout = 0;
	uint64_t max_time = 0, next_flush = 0;

	for (size_t i = 0; i <= s->n; i++) {
		bool end = i == s->n;
		uint64_t limit = end ? UINT64_MAX : next_flush;

		if (!end) {
			queue[nq++] = s->recs[i];
			if (s->recs[i].time > max_time)
				max_time = s->recs[i].time;
			if (!s->round_after[i])
				continue;
			next_flush = max_time;
		}
		/* release everything up to limit, by time, ties by arrival */
		{
			size_t keep = 0, first = nout;

			for (size_t k = 0; k < nq; k++) {
				if (queue[k].time <= limit)
					out_recs[nout++] = queue[k];
				else
					queue[keep++] = queue[k];
			}
			nq = keep;
			qsort(out_recs + first, nout - first, sizeof(*out_recs), cmp_rec);
		}
	}
	for (size_t k = 0; k < nout; k++)
		out[k] = out_recs[k].id;
	return nout;
}

/* A sample of pid/tid 1 at @ip and @time, then a FINISHED_ROUND if @round. */
static int write_sample(struct pyperf_data_writer *w, uint64_t ip, uint64_t time, bool round)
{
	struct {
		struct perf_event_header h;
		uint64_t ip;
		uint32_t pid, tid;
		uint64_t time;
	} sample = {{PERF_RECORD_SAMPLE, PERF_RECORD_MISC_USER, sizeof(sample)}, ip, 1, 1, time};
	struct perf_event_header r = {PYPERF_RECORD_FINISHED_ROUND, 0, sizeof(r)};

	if (pyperf_data_writer__write(w, &sample, sizeof(sample)))
		return -1;
	return round ? pyperf_data_writer__write(w, &r, sizeof(r)) : 0;
}

/* Writes @s as a perf.data file in memory and reads it back in time order. */
static size_t read_back(const struct script *s, uint64_t *out, void **bufp)
{
	struct perf_event_attr attr = {
	    .type = PERF_TYPE_SOFTWARE,
	    .size = sizeof(attr),
	    .config = PERF_COUNT_SW_CPU_CLOCK,
	    .sample_type = PERF_SAMPLE_IP | PERF_SAMPLE_TID | PERF_SAMPLE_TIME,
	};
	struct pyperf_data_writer *w = pyperf_data_writer__open(NULL, NULL, NULL);
	struct pyperf_data *d;
	const struct pyperf_record *r;
	const void *buf;
	size_t size, n = 0;
	uint64_t id = 1;

	if (!w || pyperf_data_writer__add_attr(w, &attr, sizeof(attr), &id, 1, "cpu-clock"))
		return 0;
	for (size_t i = 0; i < s->n; i++)
		if (write_sample(w, s->recs[i].id, s->recs[i].time, s->round_after[i]))
			return 0;
	if (pyperf_data_writer__finish(w))
		return 0;
	buf = pyperf_data_writer__buffer(w, &size);
	/* the reader borrows the bytes: keep a copy past the writer */
	*bufp = malloc(size);
	memcpy(*bufp, buf, size);
	pyperf_data_writer__close(w);
	d = pyperf_data__open_mem(*bufp, size, "order.data", NULL, NULL);
	if (!d)
		return 0;
	while (pyperf_data__next_ordered(d, &r, NULL) == 1)
		if (r->type == PERF_RECORD_SAMPLE)
			out[n++] = r->sample.ip;
	pyperf_data__close(d);
	return n;
}

static void check_script(const struct script *s)
{
	static uint64_t want[MAX_RECS], got[MAX_RECS];
	void *buf = NULL;
	size_t nw = model(s, want), ng = read_back(s, got, &buf);
	size_t first_diff = 0;

	CHECK_EQ(nw, s->n);
	CHECK_EQ(ng, nw);
	while (first_diff < nw && first_diff < ng && want[first_diff] == got[first_diff])
		first_diff++;
	if (first_diff < nw)
		CHECK_FAIL_("order differs at %zu: record %" PRIu64 " expected, %" PRIu64 " read",
			    first_diff, want[first_diff], first_diff < ng ? got[first_diff] : 0);
	free(buf);
}

/* @cpus stretches per round, each sorted, their times interleaved. */
static void per_cpu_rounds(struct script *s, int cpus, int rounds, int per_cpu)
{
	uint64_t base = 1000000;

	s->n = 0;
	for (int r = 0; r < rounds; r++) {
		for (int c = 0; c < cpus; c++) {
			uint64_t t = base + next_rand() % 5000;

			for (int k = 0; k < per_cpu; k++) {
				t += next_rand() % 2000;
				add(s, t);
			}
		}
		s->round_after[s->n - 1] = 1;
		base += 5000 + (uint64_t)per_cpu * 1000;
	}
}

TEST(two_cpus_sorted_stretches)
{
	static struct script s;

	per_cpu_rounds(&s, 2, 200, 60);
	check_script(&s);
}

TEST(sixteen_cpus_more_stretches_than_runs)
{
	static struct script s;

	per_cpu_rounds(&s, 16, 40, 50);
	check_script(&s);
}

TEST(shuffled_rounds_with_equal_times)
{
	static struct script s;

	s.n = 0;
	for (int r = 0; r < 100; r++) {
		for (int k = 0; k < 300; k++)
			add(&s, 1000 + (uint64_t)r * 50 + next_rand() % 120); /* overlaps rounds */
		s.round_after[s.n - 1] = 1;
	}
	check_script(&s);
}

TEST(no_rounds_everything_at_the_end)
{
	static struct script s;

	s.n = 0;
	for (int k = 0; k < 20000; k++)
		add(&s, next_rand() % 3000);
	check_script(&s);
}

TEST(runs_drain_and_refill_across_rounds)
{
	static struct script s;

	/* a late CPU: its stretch lands a round after its time */
	s.n = 0;
	for (int r = 0; r < 300; r++) {
		uint64_t t = 100000 + (uint64_t)r * 1000;

		for (int k = 0; k < 20; k++)
			add(&s, t + (uint64_t)k * 40);
		for (int k = 0; k < 20; k++)
			add(&s, t - 1000 + (uint64_t)k * 45);
		if (r % 3 == 0)
			for (int k = 0; k < 5; k++)
				add(&s, t - 3000 + next_rand() % 6000);
		s.round_after[s.n - 1] = 1;
	}
	check_script(&s);
}

/*
 * Records decompressed from COMPRESSED records are freed once delivered:
 * memory follows the reorder window, not the file (all of it was kept
 * until close, so a file of many compressed records filled memory).
 */
TEST(compressed_chunks_freed_as_delivered)
{
	struct perf_event_attr attr = {
	    .type = PERF_TYPE_SOFTWARE,
	    .size = sizeof(attr),
	    .config = PERF_COUNT_SW_CPU_CLOCK,
	    .sample_type = PERF_SAMPLE_IP | PERF_SAMPLE_TID | PERF_SAMPLE_TIME,
	};
	PYPERF_OPTS(pyperf_data_writer_opts, wopts, .compression = 1);
	struct pyperf_data_writer *w = pyperf_data_writer__open(NULL, &wopts, NULL);
	struct pyperf_data *d;
	const struct pyperf_record *r;
	const void *buf;
	void *copy;
	size_t size, n = 0, nr = 400000, most = 0;
	uint64_t id = 1, last = 0;
	bool sorted = true;

	REQUIRE(w && !pyperf_data_writer__add_attr(w, &attr, sizeof(attr), &id, 1, "cpu-clock"));
	for (size_t i = 0; i < nr; i++)
		REQUIRE(!write_sample(w, 0x400000 + (i * 2654435761u) % 4096, 1000 + i,
				      i % 2000 == 1999));
	REQUIRE(!pyperf_data_writer__finish(w));
	buf = pyperf_data_writer__buffer(w, &size);
	copy = malloc(size);
	REQUIRE(copy);
	memcpy(copy, buf, size);
	pyperf_data_writer__close(w);
	d = pyperf_data__open_mem(copy, size, "compressed.data", NULL, NULL);
	REQUIRE(d);
	while (pyperf_data__next_ordered(d, &r, NULL) == 1) {
		if (r->type != PERF_RECORD_SAMPLE)
			continue;
		sorted = sorted && r->sample.time >= last;
		last = r->sample.time;
		n++;
		most = MAX(most, (size_t)d->chunk_bytes);
	}
	CHECK_EQ(n, nr);
	CHECK(sorted);
	/* 12.8 MB were decompressed; a few 256 KiB batches are held at a time */
	CHECK(pyperf_data__stats(d)->compressed_bytes >= nr * 32);
	if (most > 4 << 20)
		CHECK_FAIL_("%zu bytes of decompressed records held at once", most);
	printf("  %zu of %" PRIu64 " decompressed bytes held at most (file: %zu bytes)\n", most,
	       pyperf_data__stats(d)->compressed_bytes, size);
	pyperf_data__close(d);
	free(copy);
}

int main(void)
{
	return RUN(CASE(two_cpus_sorted_stretches), CASE(sixteen_cpus_more_stretches_than_runs),
		   CASE(shuffled_rounds_with_equal_times), CASE(no_rounds_everything_at_the_end),
		   CASE(runs_drain_and_refill_across_rounds),
		   CASE(compressed_chunks_freed_as_delivered));
}
