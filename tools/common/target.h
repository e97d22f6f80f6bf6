/* SPDX-License-Identifier: MIT */
/* What the recording tools (pyperf-record, pyperf-top) are pointed at:
 * -p's process ids, and the perf_trampoline package for launched Pythons. */
#ifndef PYPERF_TOOLS_TARGET_H
#define PYPERF_TOOLS_TARGET_H

#include <stddef.h>
#include <sys/types.h>

/*
 * Appends the comma-separated process ids of @arg ("12,34") to *@pids
 * (realloc'd; *@nr counts them). Return: 0, -EINVAL (not a list of
 * positive ids), -ENOMEM.
 */
int tools_parse_pids(const char *arg, pid_t **pids, size_t *nr);

/*
 * The folder holding perf_trampoline (for pyperf_record_opts.python_dir):
 * $PYPERF_PYTHON_DIR, or beside the running program in the build tree
 * (bin/../python) or installed (bin/../lib/pyperf/python); NULL if none.
 * Returns @buf, the environment's string, or NULL.
 */
const char *tools_find_python_dir(char *buf, size_t size);

#endif
