/* SPDX-License-Identifier: MIT */
/*
 * Writing profiles: perf report's text reports (flat, with Children/Self
 * and call graphs, and hierarchical) and folded stacks for flame graphs.
 *
 * Every writer reads a finished profile (pyperf_profile__finish() is called
 * for you) and writes to a FILE it does not close.
 */
#ifndef PYPERF_OUTPUT_H
#define PYPERF_OUTPUT_H

#include <stdbool.h>
#include <stdio.h>
#include <pyperf/profile.h>
#include <pyperf/pyperf.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Keys a report groups samples by (perf report --sort). */
enum pyperf_sort_key {
	PYPERF_SORT_COMM,   /* thread name */
	PYPERF_SORT_PID,    /* "pid:comm", as perf's pid key (a thread) */
	PYPERF_SORT_TID,    /* "tid:comm" */
	PYPERF_SORT_DSO,    /* shared object of the sampled address */
	PYPERF_SORT_SYM,    /* function of the sampled address */
	PYPERF_SORT_SAMPLE, /* one group, labelled with its sample count */
};

/* Columns (perf report -F). Sort keys are columns too. */
enum pyperf_field {
	PYPERF_FIELD_OVERHEAD, /* self share of the period, % */
	PYPERF_FIELD_CHILDREN, /* share of samples passing through, % */
	PYPERF_FIELD_SAMPLE,   /* number of samples */
	PYPERF_FIELD_PERIOD,   /* summed period */
	PYPERF_FIELD_COMM,
	PYPERF_FIELD_PID,
	PYPERF_FIELD_TID,
	PYPERF_FIELD_DSO,
	PYPERF_FIELD_SYM,
};

enum pyperf_callchain_mode {
	PYPERF_CALLCHAIN_GRAPH,	  /* tree, % of the total (perf's default) */
	PYPERF_CALLCHAIN_FRACTAL, /* tree, % of the parent */
	PYPERF_CALLCHAIN_FLAT,	  /* one chain per block */
	PYPERF_CALLCHAIN_FOLDED,  /* one chain per line, ';'-separated */
	PYPERF_CALLCHAIN_NONE,
};

enum pyperf_callchain_order {
	PYPERF_ORDER_DEFAULT, /* callee, or caller when showing children */
	PYPERF_ORDER_CALLER,
	PYPERF_ORDER_CALLEE,
};

struct pyperf_report_opts {
	size_t sz;
	const enum pyperf_sort_key *sort; /* default comm,dso,sym */
	size_t nr_sort;
	const enum pyperf_field *fields; /* default: overhead (+children) + sort keys */
	size_t nr_fields;
	bool hierarchy;	      /* nested levels, one per sort key */
	bool no_children;     /* no Children column (hierarchy implies it) */
	bool show_nr_samples; /* add a Samples column (perf -n) */
	bool no_header;	      /* omit the "# Samples: ..." block */
	enum pyperf_callchain_mode callchain;
	enum pyperf_callchain_order order;
	double callchain_min_percent; /* branches below are hidden; default 0.5 */
	double percent_limit;	      /* entries below are hidden */
	size_t : 0;
};
#define pyperf_report_opts__last_field percent_limit

/**
 * pyperf_profile__write_report() - write a perf report --stdio style report.
 * @p: the profile.
 * @out: where to write.
 * @opts: options, or NULL for perf's defaults.
 *
 * One section per event. Percentages are of the period, as in perf;
 * Samples columns count samples.
 *
 * Return: 0, -EINVAL (bad options), -ENOMEM, -EIO (write failed).
 */
PYPERF_API int pyperf_profile__write_report(struct pyperf_profile *p, FILE *out,
					    const struct pyperf_report_opts *opts);

struct pyperf_collapsed_opts {
	size_t sz;
	bool pid;	      /* "comm-pid" as the first frame */
	bool tid;	      /* "comm-pid/tid" */
	bool annotate_kernel; /* kernel frames get "_[k]" */
	bool annotate_jit;    /* perf-map frames get "_[j]" */
	bool addrs;	      /* unknown frames show their address */
	bool period;	      /* sum periods instead of counting samples */
	size_t : 0;
};
#define pyperf_collapsed_opts__last_field period

/**
 * pyperf_profile__write_collapsed() - folded stacks, one line per distinct
 * stack: "comm;outer;...;leaf COUNT", named and merged exactly as
 * `perf script | stackcollapse-perf.pl` would (unresolved frames become
 * "[dso]" or "[unknown]"), in ascending line order. Profiles weighed in
 * time (pyperf_profile__event_in_ns(): off-cpu, wall) count microseconds;
 * stacks under half a microsecond in all are left out.
 *
 * Return: 0, -ENOMEM or -EIO.
 */
PYPERF_API int pyperf_profile__write_collapsed(struct pyperf_profile *p, FILE *out,
					       const struct pyperf_collapsed_opts *opts);

/**
 * pyperf_sort_key__parse() - parse "comm,dso,sym" into keys.
 * @s: the list.
 * @keys: receives up to @max keys.
 * @max: capacity of @keys.
 *
 * Return: the number of keys, or -EINVAL naming nothing (the caller prints
 * the list); unknown names and empty items are errors.
 */
PYPERF_API int pyperf_sort_key__parse(const char *s, enum pyperf_sort_key *keys, size_t max);

/** pyperf_field__parse() - parse "overhead,sample,comm,dso,sym" likewise. */
PYPERF_API int pyperf_field__parse(const char *s, enum pyperf_field *fields, size_t max);

#ifdef __cplusplus
}
#endif

#endif /* PYPERF_OUTPUT_H */
