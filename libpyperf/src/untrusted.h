/* SPDX-License-Identifier: MIT */
/*
 * Opening files that someone else could have placed: perf maps and
 * jitdumps in /tmp (any local user can create /tmp/perf-PID.map for the
 * next pids), the symbol cache's files, binaries named by a recording,
 * perf.data files. Every such open goes through here. Never installed.
 */
#ifndef PYPERF_UNTRUSTED_H
#define PYPERF_UNTRUSTED_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <pyperf/pyperf.h>

enum {
	/* Accept a file any user owns (--force), not only ours or root's. */
	PP_OPEN_ANY_OWNER = 1u << 0,
	/* Follow a symlink at the path (the file it leads to is checked). */
	PP_OPEN_FOLLOW = 1u << 1,
};

/*
 * Opens @path read-only: without blocking (a FIFO or a device planted at
 * the path would otherwise hold the open, or the first read, for ever),
 * without following a symlink unless PP_OPEN_FOLLOW, close-on-exec, and
 * only when it is a regular file owned by the caller or root (any owner
 * with PP_OPEN_ANY_OWNER). @st (may be NULL) receives the file's stat.
 *
 * Return: the fd, or a negative errno with @err (may be NULL) naming the
 * path and saying what to do: -EPERM for a refused file (symlink, not a
 * regular file, another owner), else the open's error.
 */
int pyperf_open_untrusted(const char *path, unsigned flags, struct stat *st,
			  struct pyperf_error *err);

/*
 * The same, then reads the whole file into a new buffer (freed by the
 * caller) with a NUL after its @len bytes. Reads are retried on EINTR and
 * stop at @max bytes: a larger file is refused (-EFBIG), so that a sparse
 * or growing file cannot fill memory.
 *
 * Return: 0, or a negative errno with @err filled (-ENOMEM included).
 */
int pyperf_read_untrusted(const char *path, unsigned flags, size_t max, char **buf, size_t *len,
			  struct stat *st, struct pyperf_error *err);

/* Reads up to @size bytes from @fd, retrying on EINTR and short reads:
 * the bytes read (fewer only at the end of the file), or a negative errno. */
ssize_t pyperf_read_full(int fd, void *buf, size_t size);

/*
 * Whether a file opened so may be mapped: only when it is ours or root's.
 * Anyone else could truncate it while it is mapped, and touching a page
 * past the new end kills the process (SIGBUS); such files are read.
 */
bool pyperf_file_mappable(const struct stat *st);

/* The most read of a perf map or jitdump: far past real ones (a large
 * program's map is a few MB), small enough not to balloon. */
#define PP_MAX_JIT_FILE ((size_t)256 << 20)

#endif
