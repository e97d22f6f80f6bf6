/* SPDX-License-Identifier: MIT */
/*
 * The writers: one file per output format, write_<format>.c. The
 * profile's (report, collapsed, svg, speedscope, pprof, json) each define
 * pyperf_profile__write_<format>(profile, FILE, opts) of
 * <pyperf/output.h>, read the profile (ordering or totalling it first
 * when needed), allocate per call, not per node written, and end with
 * pp_write_done(), so that a failed write, a full disk and a profile that
 * went on without memory are all errors. The report (write_report.c) has
 * parts of its own (report_*.c, report_internal.h); write_diff.c compares
 * two profiles, write_script.c prints samples as they are read.
 *
 * What they share: frame labels, the event they write, the percent-limit
 * cut, UTF-8 hygiene, buffered output. Never installed.
 */
#ifndef PYPERF_WRITER_H
#define PYPERF_WRITER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <pyperf/output.h>
#include <pyperf/profile.h>
#include "internal.h"

/*
 * Labels of frames, computed once per frame id. A label is what every
 * format shows: the symbol (as pyperf-report shows it, in the profile's
 * view), or "[object]" for an address no symbol covers, so that all
 * unresolved addresses of one object merge as in flamegraph.pl. Labels
 * are valid UTF-8: JSON and XML reject anything else.
 */
struct pp_labels {
	struct pyperf_profile *p;
	const char **name;
	const char **file; /* the Python source file, or NULL */
	bool *done;
	struct pp_arena arena;
};

int pp_labels_init(struct pp_labels *l, struct pyperf_profile *p);
void pp_labels_free(struct pp_labels *l);
/* The label of frame @id; NULL on ENOMEM. */
const char *pp_label(struct pp_labels *l, uint32_t id);
/* The Python source file of frame @id, or NULL (none, or ENOMEM). */
const char *pp_label_file(struct pp_labels *l, uint32_t id);

/* "python", "native", "kernel", "jit", "thread", "event" */
const char *pp_kind_name(enum pyperf_frame_kind k);

/*
 * -ENOMEM when an allocation failed somewhere behind the profile (its own
 * tables, the symbols, the unwinder) and it went on without what the
 * memory was for: names, stacks or states may be missing, so neither the
 * profile nor any output of it may pass for complete. Else 0.
 */
int pp_profile_check(const struct pyperf_profile *p);
/*
 * How every writer ends: @ret if it failed, -EIO if the stream did (the
 * buffered rest is flushed first: a full disk shows only then), else
 * pp_profile_check().
 */
int pp_write_done(const struct pyperf_profile *p, FILE *out, int ret);

/* The totals of every node, without ordering siblings as
 * pyperf_profile__finish() does: for writers that sort their own lines. */
void pp_profile_totals(struct pyperf_profile *p);

/* The node of the profile's first event (the lowest event index), or 0. */
uint32_t pp_first_event_node(const struct pyperf_profile *p);

/* Whether the event counts CPU time in nanoseconds (cpu-clock, task-clock). */
bool pp_time_event(const char *name);
/* Whether event node @ev weighs nanoseconds: a clock event, or a profile
 * weighed in time (off-cpu, wall). */
bool pp_event_in_ns(const struct pyperf_profile *p, uint32_t ev);

/* Whether a node of total @w is kept under @pct % of @total. */
static inline bool pp_keep(uint64_t w, uint64_t total, double pct)
{
	return pct <= 0 || !total || (double)w * 100.0 / (double)total >= pct;
}

/* Whether @s (@n bytes) is valid UTF-8 without NUL bytes. */
bool pp_utf8_valid(const char *s, size_t n);
/* @s itself when valid UTF-8, else a copy in @a with each bad byte as '?'. */
const char *pp_utf8_clean(struct pp_arena *a, const char *s, size_t n);

/*
 * Buffered output for the writers' bulk: numbers are formatted here
 * digit by digit, because a printf per number (or, in the JSON formats, a
 * jansson value per integer: an allocation, a formatted print and a
 * free) costs more than the rest of a report when there are hundreds of
 * thousands of them. jansson still builds and writes the JSON documents'
 * frames, names and metadata (all escaping); the long integer runs (tree
 * columns, speedscope's stacks) are streamed between pieces joined with
 * jansson's JSON_EMBED (an object's members without its braces).
 */
struct pp_out {
	FILE *out;
	size_t len;
	bool failed;
	int err; /* errno of the failed write */
	char buf[64 * 1024];
};
struct json_t;
void pp_out_init(struct pp_out *j, FILE *out);
/* JSON syntax written as is ("[", ",\"nodes\":{"). */
void pp_out_raw(struct pp_out *j, const char *s, size_t n);
/* @s must be a string literal: "" s "" refuses anything else at compile time. */
#define pp_out_lit(j, s) pp_out_raw((j), "" s "", sizeof(s) - 1)
void pp_out_int(struct pp_out *j, int64_t v);
/* @v with @decimals (0-4) digits after the point, rounded half up where
 * printf's "%.Nf" rounds an exact binary half to even: coordinates and
 * percentages may differ from printf's in that last digit, nothing more. */
void pp_out_fixed(struct pp_out *j, double v, int decimals);
static inline void pp_out_str(struct pp_out *j, const char *s)
{
	pp_out_raw(j, s, strlen(s));
}
/* A jansson value, dumped with @flags (e.g. JSON_EMBED): 0 or -ENOMEM. */
int pp_out_json(struct pp_out *j, struct json_t *v, size_t flags);
/* Drops a newline just written (JSON_INDENT ends an embedded dump with one). */
void pp_out_trim_newline(struct pp_out *j);
/* Writes what is buffered (also mid-way, before writing to the FILE
 * directly): 0, or the negative errno of the first write that failed. */
int pp_out_finish(struct pp_out *j);

#endif /* PYPERF_WRITER_H */
