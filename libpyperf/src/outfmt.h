/* SPDX-License-Identifier: MIT */
/*
 * What the writers of the svg, speedscope, pprof and json formats share:
 * frame labels, the event they write, the percent-limit cut, UTF-8
 * hygiene. Never installed.
 */
#ifndef PYPERF_OUTFMT_H
#define PYPERF_OUTFMT_H

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

/* Writes @doc (json_dumps() @flags) and a newline: 0, -ENOMEM or -EIO. */
struct json_t;
int pp_json_write(struct json_t *doc, FILE *out, size_t flags);

#endif /* PYPERF_OUTFMT_H */
