/* SPDX-License-Identifier: MIT */
/*
 * Writing profiles: perf report's text reports (flat, with Children/Self
 * and call graphs, and hierarchical), folded stacks for flame graphs, an
 * interactive SVG flame graph, speedscope and pprof files, and a JSON call
 * tree.
 *
 * Every writer reads a finished profile (pyperf_profile__finish() is called
 * for you) and writes to a FILE it does not close. They write the profile in
 * the view it was built with (struct pyperf_profile_opts.view) and after its
 * filters. Writers of one-event formats (collapsed, svg, speedscope, pprof)
 * write the profile's first event, as stackcollapse-perf.pl folds only the
 * first event it meets; the text reports and JSON hold every event.
 *
 * percent_limit, where a writer has it, leaves out call-tree nodes (with
 * everything below them) whose total weight is under that share of their
 * event's total: the same cut in every format.
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

/* The most sort keys and fields a report takes (more: -EINVAL). */
#define PYPERF_REPORT_MAX_SORT_KEYS 8
#define PYPERF_REPORT_MAX_FIELDS 16

struct pyperf_report_opts {
	size_t sz;
	const enum pyperf_sort_key *sort; /* default comm,dso,sym */
	size_t nr_sort;			  /* at most PYPERF_REPORT_MAX_SORT_KEYS */
	const enum pyperf_field *fields;  /* default: overhead (+children) + sort keys */
	size_t nr_fields;		  /* at most PYPERF_REPORT_MAX_FIELDS */
	bool hierarchy;			  /* nested levels, one per sort key */
	bool no_children;		  /* no Children column (hierarchy implies it) */
	bool show_nr_samples;		  /* add a Samples column (perf -n) */
	bool no_header;			  /* omit the "# Samples: ..." block */
	enum pyperf_callchain_mode callchain;
	enum pyperf_callchain_order order;
	double callchain_min_percent; /* branches below are hidden; default 0.5 */
	double percent_limit;	      /* entries below are hidden */
	/* callchain_min_percent is meant even when 0 (perf's -g graph,0: every
	 * branch shown); without it, 0 means the default. */
	bool callchain_min_percent_set;
	/* printed after each event's name as perf prints its --time text:
	 * " (time slices: TEXT)"; NULL: nothing */
	const char *time_slices;
	/* Only the entries whose DSO (its short name, as the Shared Object
	 * column shows it) is one of these, and whose symbol (its name, or
	 * the address of an unresolved one) matches this POSIX extended
	 * regular expression. Percentages stay shares of the event's whole
	 * total; the header says what is left out. NULL/0: every entry. */
	const char *const *dsos;
	size_t nr_dsos;
	const char *symbol_regex;
	size_t : 0;
};
#define pyperf_report_opts__last_field symbol_regex

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

/*
 * The report as rows, for a browser: the lines that
 * pyperf_profile__write_report() writes with the same options, each with
 * its part in the report's outline, so that a browser shows what --stdio
 * prints and folds it where perf's browser folds.
 */
enum pyperf_report_row_kind {
	PYPERF_ROW_HEADER,  /* a '#' line about the recording or an event */
	PYPERF_ROW_COLUMNS, /* an event's column headers ('#' lines) */
	PYPERF_ROW_ENTRY,   /* an entry, or a level of the hierarchy */
	PYPERF_ROW_GRAPH,   /* a line of the call graph of the entry above */
	PYPERF_ROW_NOTE,    /* "no entry >= P%" below a hierarchy level */
	PYPERF_ROW_BLANK,   /* an empty line */
};

struct pyperf_report_row {
	const char *text; /* the line, without its newline */
	enum pyperf_report_row_kind kind;
	/* entries: the hierarchy level (0 in a flat report); graph lines and
	 * notes: one more than the entry or level they belong to */
	unsigned depth;
	/* entries: where the line's text begins after the spaces of its
	 * level (a browser's fold mark goes there, on the first of the two
	 * spaces every entry line starts its text with) */
	unsigned indent;
	int event;	/* the event's section, from 0; -1: the recording's header */
	double percent; /* entries: the share --percent-limit compares */
	/* entries and their graph lines: the entry's thread and DSO (one of
	 * them where an entry or level stands for several). Borrowed from
	 * the profile: valid while it lives. NULL elsewhere. */
	const char *comm, *dso;
	int32_t pid, tid;
};

struct pyperf_report_rows;

/**
 * pyperf_profile__report_rows() - the report of @p as rows.
 * @p: the profile.
 * @opts: as for pyperf_profile__write_report().
 * @out: the rows, to free with pyperf_report_rows__free().
 *
 * The rows' texts, joined by newlines, are pyperf_profile__write_report()'s
 * output, byte for byte.
 *
 * Return: 0, -EINVAL (bad options) or -ENOMEM; *@out is NULL on failure.
 */
PYPERF_API int pyperf_profile__report_rows(struct pyperf_profile *p,
					   const struct pyperf_report_opts *opts,
					   struct pyperf_report_rows **out);

/** pyperf_report_rows__nr() - how many rows. */
PYPERF_API size_t pyperf_report_rows__nr(const struct pyperf_report_rows *r);

/**
 * pyperf_report_rows__row() - row @i (< pyperf_report_rows__nr()), borrowed:
 * valid while @r lives.
 */
PYPERF_API const struct pyperf_report_row *
pyperf_report_rows__row(const struct pyperf_report_rows *r, size_t i);

/** pyperf_report_rows__free() - frees @r (NULL is fine). */
PYPERF_API void pyperf_report_rows__free(struct pyperf_report_rows *r);

struct pyperf_collapsed_opts {
	size_t sz;
	bool pid;	      /* "comm-pid" as the first frame */
	bool tid;	      /* "comm-pid/tid" */
	bool annotate_kernel; /* kernel frames get "_[k]" */
	bool annotate_jit;    /* perf-map frames get "_[j]" */
	bool addrs;	      /* unknown frames show their address */
	bool period;	      /* sum periods instead of counting samples */
	double percent_limit; /* leave out nodes under this % of the total */
	size_t : 0;
};
#define pyperf_collapsed_opts__last_field percent_limit

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

/*
 * Folding `perf script` text. The defaults are stackcollapse-perf.pl's:
 * each sample weighs the period printed in its header (1 when there is
 * none), which is what the script does since 2021; count_samples gives
 * every sample the weight 1, as older versions of the script did.
 */
struct pyperf_perf_script_opts {
	size_t sz;
	bool pid;	      /* --pid: "comm-pid" */
	bool tid;	      /* --tid: "comm-pid/tid" */
	bool annotate_kernel; /* --kernel */
	bool annotate_jit;    /* --jit */
	bool addrs;	      /* --addrs */
	bool count_samples;   /* weight 1 per sample instead of the period */
	size_t : 0;
};
#define pyperf_perf_script_opts__last_field count_samples

/**
 * pyperf_perf_script__collapse() - fold `perf script` output into stacks,
 * byte for byte as `stackcollapse-perf.pl` (FlameGraph, 2023) does with the
 * same options, without inline expansion (--inline, --context, --srcline).
 * @in: the text, read to its end.
 * @name: its name for messages ("-" or a path).
 * @out: receives "comm;outer;...;leaf weight" lines in bytewise order.
 * @opts: options, or NULL.
 * @err: filled on failure; may be NULL.
 *
 * Lines the script would not recognise (it warns and skips them) are
 * skipped too; they make the call fail with -EBADMSG after the output of
 * everything else was written, @err naming the first such line (its
 * number in @err->offset and the text). Other lines are never rejected.
 *
 * Return: 0, -EBADMSG (unrecognised lines, see above), -EIO (read or
 * write failed), -ENOMEM or -EINVAL (bad options).
 */
PYPERF_API int pyperf_perf_script__collapse(FILE *in, const char *name, FILE *out,
					    const struct pyperf_perf_script_opts *opts,
					    struct pyperf_error *err);

struct pyperf_svg_opts {
	size_t sz;
	const char *title;    /* default "Flame Graph" ("Icicle Graph" with icicle) */
	bool icicle;	      /* callers at the top, growing downwards */
	bool period;	      /* widths by period instead of sample counts */
	bool pid;	      /* first frame "comm-pid" instead of comm */
	bool tid;	      /* "comm-pid/tid" */
	unsigned width;	      /* image width in pixels; 0: 1200 */
	double min_width;     /* frames narrower (pixels) are left out; 0: 0.1 */
	double percent_limit; /* leave out nodes under this % of the total */
	/* A differential flame graph (pyperf/diff.h): widths from the
	 * profile, colours from the change of each frame's self share
	 * against this profile's (red grew, blue shrank, saturation by
	 * size), frames the baseline lacks outlined, hover text with both
	 * figures, a "Changed" button that highlights the frames that
	 * changed most. Borrowed; built with the same options. */
	struct pyperf_profile *baseline;
	bool diff_absolute; /* changes in counts, not shares of each total */
	/* A timeline above the flame graph: per thread name a strip of the
	 * samples in each of 200 columns of the recording's span, darker
	 * with more (FlameScope's heat map); dragging over it, or opening
	 * file.svg?t=START,STOP (seconds from the first sample), redraws the
	 * flame graph for that range. Needs a profile built with
	 * opts.timeline; not with a baseline. */
	bool timeline;
	size_t : 0;
};
#define pyperf_svg_opts__last_field timeline

/**
 * pyperf_profile__write_svg() - an interactive flame graph: one SVG file
 * with its own script (no network, no Perl). Frames are merged by name
 * under the same parent, ordered by name, coloured by kind (Python,
 * native, kernel, JIT); hovering shows a frame's details, clicking zooms
 * into it, "Search" highlights frames matching a regular expression and
 * shows their share, "Reset Zoom" (or Escape) goes back. Frames narrower
 * than @opts->min_width pixels are not drawn, as flamegraph.pl's
 * --minwidth: their time stays in their parent's width, and the file
 * stays small whatever the number of distinct stacks.
 *
 * Query parameters of the file's URL drive it too (and tests):
 * "?s=REGEX" searches when the file opens, "?f=NAME" zooms into the first
 * frame of that name. The script's functions are in `pyperf` on window.
 *
 * Return: 0, -EINVAL (bad options), -ENOMEM, -EIO (write failed).
 */
PYPERF_API int pyperf_profile__write_svg(struct pyperf_profile *p, FILE *out,
					 const struct pyperf_svg_opts *opts);

struct pyperf_speedscope_opts {
	size_t sz;
	const char *name;     /* profile name; default: the recorded command */
	bool period;	      /* weights by period (time for clock events) */
	double percent_limit; /* leave out nodes under this % of the total */
	/* samples in time order (runs of equal stacks merged), so that
	 * speedscope's Time Order view shows the program's phases; needs a
	 * profile built with opts.timeline */
	bool time_order;
	size_t : 0;
};
#define pyperf_speedscope_opts__last_field time_order

/**
 * pyperf_profile__write_speedscope() - a speedscope file
 * (https://www.speedscope.app/file-format-schema.json): shared frames and
 * one "sampled" profile per thread, whose samples are the thread's distinct
 * stacks (outermost frame first) in the order they were first seen, each
 * weighing its samples or its period ("nanoseconds" for cpu-clock and
 * task-clock, "none" otherwise). Python frames carry their file.
 *
 * Return: 0, -EINVAL, -ENOMEM, -EIO.
 */
PYPERF_API int pyperf_profile__write_speedscope(struct pyperf_profile *p, FILE *out,
						const struct pyperf_speedscope_opts *opts);

struct pyperf_pprof_opts {
	size_t sz;
	double percent_limit; /* leave out nodes under this % of the total */
	int compression;      /* gzip level 1-9; 0: 6 */
	size_t : 0;
};
#define pyperf_pprof_opts__last_field compression

/**
 * pyperf_profile__write_pprof() - a gzip-compressed profile.proto
 * (github.com/google/pprof), as `go tool pprof`, Pyroscope and Parca read
 * it. Two sample types: "samples"/"count" and the summed period:
 * "cpu"/"nanoseconds" for cpu-clock and task-clock, "EVENT"/"count"
 * otherwise; period_type and period (the mean period) describe the second.
 * One sample per distinct stack and thread, labelled "thread" (comm),
 * "pid" and "tid"; one location per distinct frame, one function per name
 * and file (Python frames carry their source file), one mapping per
 * object file. Binary: do not write it to a terminal.
 *
 * Return: 0, -EINVAL, -ENOMEM, -EIO.
 */
PYPERF_API int pyperf_profile__write_pprof(struct pyperf_profile *p, FILE *out,
					   const struct pyperf_pprof_opts *opts);

struct pyperf_json_opts {
	size_t sz;
	bool pretty;	      /* indented, one member a line */
	double percent_limit; /* leave out nodes under this % of the total */
	size_t : 0;
};
#define pyperf_json_opts__last_field percent_limit

/**
 * pyperf_profile__write_json() - the profile as JSON: metadata (command,
 * view, events with their sample counts and periods, lost samples,
 * truncated stacks...), the frames (name, kind, object file, source file)
 * and the call tree in flat columns (nodes.frame[i], nodes.parent[i],
 * self and total samples and periods), parents before children.
 * The schema is libpyperf/profile.schema.json.
 *
 * Return: 0, -EINVAL, -ENOMEM, -EIO.
 */
PYPERF_API int pyperf_profile__write_json(struct pyperf_profile *p, FILE *out,
					  const struct pyperf_json_opts *opts);

/* What pyperf-report --format names. */
enum pyperf_format {
	PYPERF_FORMAT_TREE,	  /* perf report --stdio: entries with call graphs */
	PYPERF_FORMAT_HIERARCHY,  /* perf report --stdio --hierarchy */
	PYPERF_FORMAT_COLLAPSED,  /* folded stacks */
	PYPERF_FORMAT_SVG,	  /* interactive flame graph */
	PYPERF_FORMAT_SPEEDSCOPE, /* speedscope JSON */
	PYPERF_FORMAT_PPROF,	  /* gzipped profile.proto */
	PYPERF_FORMAT_JSON,	  /* JSON call tree */
	PYPERF_FORMAT_SCRIPT,	  /* one entry per sample, as perf script (pyperf/script.h) */
};

/**
 * pyperf_format__parse() - "svg" -> PYPERF_FORMAT_SVG...
 * Return: the format, or -EINVAL for an unknown name. Thread-safe.
 */
PYPERF_API int pyperf_format__parse(const char *name);

/** pyperf_format__name() - the name of @f, or NULL. Thread-safe. */
PYPERF_API const char *pyperf_format__name(enum pyperf_format f);

/** pyperf_format__is_binary() - whether @f is not text (pprof). Thread-safe. */
PYPERF_API bool pyperf_format__is_binary(enum pyperf_format f);

/**
 * pyperf_sort_key__parse() - parse "comm,dso,sym" into keys.
 * @s: the list.
 * @keys: receives up to @max keys.
 * @max: capacity of @keys (PYPERF_REPORT_MAX_SORT_KEYS is what a report
 *	 takes; a longer list is -EINVAL).
 *
 * Return: the number of keys, or -EINVAL naming nothing (the caller prints
 * the list); unknown names and empty items are errors.
 */
PYPERF_API int pyperf_sort_key__parse(const char *s, enum pyperf_sort_key *keys, size_t max);

/** pyperf_field__parse() - parse "overhead,sample,comm,dso,sym" likewise
 * (at most PYPERF_REPORT_MAX_FIELDS are taken). */
PYPERF_API int pyperf_field__parse(const char *s, enum pyperf_field *fields, size_t max);

#ifdef __cplusplus
}
#endif

#endif /* PYPERF_OUTPUT_H */
