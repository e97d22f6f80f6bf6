/* SPDX-License-Identifier: MIT */
/*
 * top_live: pyperf-top's live aggregate. The recorder's sink (its thread)
 * feeds every record to profiles of the three views, one since the start
 * and one for the current interval each, sharing one machine and one
 * symbol cache; the display thread takes a snapshot (top_live_snapshot())
 * at each refresh, which also starts the next interval. A mutex keeps the
 * two threads apart: the sink holds it per record, the snapshot while it
 * ranks.
 */
#ifndef PYPERF_TOP_LIVE_H
#define PYPERF_TOP_LIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <pyperf/profile.h>
#include <pyperf/record.h>

struct top_live;

/* What a snapshot shows; the display's choices. */
struct top_show {
	enum pyperf_view view;
	bool per_thread;
	bool by_total;	  /* rank by total share, not own */
	bool since_start; /* rank by the shares since the start, not the last interval */
};

/* One ranked function, with its shares in both periods (percent of the
 * samples of the period; -1 when it has none in that period). */
struct top_row {
	char name[256];
	char where[64]; /* per_thread: "comm tid"; else "" */
	double own_last, total_last, own_all, total_all;
};

/* A thread's use of the CPU in the last interval. */
struct top_thread {
	char comm[32];
	int32_t pid, tid;
	double cpu;	  /* percent of one CPU; -1 if the event does not weigh time */
	double gil;	  /* percent of its samples in take_gil; -1 if never seen */
	uint64_t samples; /* in the last interval */
};

struct top_snapshot {
	double elapsed;	 /* seconds since the start */
	double interval; /* seconds the last interval lasted */
	uint64_t samples_last, samples_all;
	uint64_t lost;	     /* samples the kernel dropped (ring buffers full) */
	uint64_t cut_all;    /* samples (since start) whose stack was cut */
	uint64_t python_all; /* samples with a Python frame */
	char event[64];
	size_t nr_threads_all; /* threads seen in the last interval */
	struct top_thread threads[8];
	size_t nr_threads;
	struct top_row rows[256];
	size_t nr_rows;
	size_t nr_functions; /* ranked in all (rows holds the first) */
};

/* Return: NULL with errno on failure. */
struct top_live *top_live_new(void);
void top_live_free(struct top_live *l);

/* The recorder's sink (pyperf_record_sink_fn_t) with @l as its context;
 * @r gives its stats. */
void top_live_set_recorder(struct top_live *l, struct pyperf_recorder *r);
int top_live_sink(void *ctx, const struct pyperf_record *rec);

/*
 * Ranks what came since the start and in the interval since the last
 * snapshot (which @rotate ends: a new interval starts), as @show asks.
 * Return: 0 or a negative errno.
 */
int top_live_snapshot(struct top_live *l, const struct top_show *show, bool rotate,
		      struct top_snapshot *snap);

/* The snapshot as text lines of at most @cols columns (0: no limit),
 * @max_rows function rows; each line to @fn. */
void top_format(const struct top_snapshot *snap, const struct top_show *show, int cols,
		size_t max_rows, void (*fn)(void *ctx, const char *line, int kind), void *ctx);

/* kinds of top_format()'s lines */
enum { TOP_LINE_HEADER, TOP_LINE_COLUMNS, TOP_LINE_ROW, TOP_LINE_NOTE };

const char *top_view_name(enum pyperf_view v);

#endif
