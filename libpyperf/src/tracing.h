/* SPDX-License-Identifier: MIT */
/*
 * Tracepoints: the tracing-data section of perf.data (perf's
 * HEADER_TRACING_DATA feature), which carries the format of each recorded
 * tracepoint so that a file decodes on any machine, and the fields of
 * sched:sched_switch that off-CPU profiles need. Formats are parsed by
 * libtraceevent; this module reads and writes the container around them.
 */
#ifndef PYPERF_TRACING_H
#define PYPERF_TRACING_H

#include <stddef.h>
#include <stdint.h>
#include <pyperf/pyperf.h>

struct tp_formats;

/*
 * Parses the container (as perf's trace-event-read.c lays it out: magic,
 * version, endianness, sizes, header page/event, ftrace and event formats,
 * kallsyms, printk, saved cmdlines). Only the event formats are kept.
 * Returns NULL with @err filled (-EBADMSG, -ENOMEM, -EOPNOTSUPP for another
 * byte order) when it cannot be used.
 */
struct tp_formats *tp_formats_parse(const void *buf, size_t size, const char *source,
				    struct pyperf_error *err);
void tp_formats_free(struct tp_formats *f);

/* What a sched_switch record says. */
struct tp_switch {
	int32_t prev_pid, next_pid;
	const char *prev_state; /* "S", "D", "R", "R+", ... (interned, never NULL) */
};

/*
 * Decodes a sched_switch record of tracepoint @id from its raw data.
 * Returns 0, -ENOENT if @id is not sched_switch or its fields are missing,
 * -EBADMSG if @raw is too short.
 */
int tp_formats_sched_switch(struct tp_formats *f, uint64_t id, const void *raw, size_t size,
			    struct tp_switch *out);

/* Whether the format of sched_switch was there but damaged (refused
 * before libtraceevent read it): its records cannot be decoded. */
bool tp_formats_damaged(const struct tp_formats *f);

/* Is tracepoint @id "sched:sched_switch"? */
bool tp_formats_is_sched_switch(struct tp_formats *f, uint64_t id);

/*
 * Builds a container for the tracepoints @names ("sched/sched_switch") from
 * tracefs, and their ids (the attr config). @buf is malloc'ed.
 */
/*
 * pyperf_tracefs_mount() - make tracefs reachable for tracepoint formats:
 * mounted already, or mounted now at /sys/kernel/tracing when allowed, as
 * perf does (libapi's tracefs__mount()). @mounted says it was mounted now.
 * Return: 0, or a negative errno (-EPERM without the right to mount,
 * -ENODEV without tracefs in the kernel), with @err filled.
 */
int pyperf_tracefs_mount(bool *mounted, struct pyperf_error *err);

int tp_formats_build(const char *const *names, size_t n, void **buf, size_t *size, uint64_t *ids,
		     struct pyperf_error *err);

#endif
