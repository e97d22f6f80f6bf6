// SPDX-License-Identifier: MIT
/*
 * The one way to open a file someone else could have placed (see
 * untrusted.h). Each check answers an attack seen on /tmp: a FIFO blocks
 * a plain open() until a writer comes (O_NONBLOCK makes it return, and
 * the regular-file check refuses it); a symlink leads a root reader to
 * any file (O_NOFOLLOW); another user's file could name frames at will
 * (the owner check, as perf's "not owned by current user or root").
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include "internal.h"
#include "untrusted.h"

int pyperf_open_untrusted(const char *path, unsigned flags, struct stat *st,
			  struct pyperf_error *err)
{
	struct stat sb;
	int fd, e;

	if (!st)
		st = &sb;
	do {
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY |
				    (flags & PP_OPEN_FOLLOW ? 0 : O_NOFOLLOW));
	} while (fd < 0 && errno == EINTR);
	if (fd < 0) {
		e = errno;
		if (e == ELOOP && !(flags & PP_OPEN_FOLLOW))
			return pyperf_error_set(err, -EPERM, PYPERF_NO_OFFSET, path,
						"is a symlink; not read (someone may have planted "
						"it; -f reads it anyway)");
		return pyperf_error_set(err, -e, PYPERF_NO_OFFSET, path, "cannot open: %s",
					strerror(e));
	}
	if (fstat(fd, st) < 0) {
		e = errno;
		close(fd);
		return pyperf_error_set(err, -e, PYPERF_NO_OFFSET, path, "cannot stat: %s",
					strerror(e));
	}
	if (!S_ISREG(st->st_mode)) {
		close(fd);
		return pyperf_error_set(
		    err, S_ISDIR(st->st_mode) ? -EISDIR : -EPERM, PYPERF_NO_OFFSET, path,
		    S_ISDIR(st->st_mode)    ? "is a folder, not a file"
		    : S_ISFIFO(st->st_mode) ? "is a FIFO, not a regular file; not read "
					      "(someone may have planted it: remove it)"
					    : "is not a regular file; not read");
	}
	if (!(flags & PP_OPEN_ANY_OWNER) && st->st_uid != geteuid() && st->st_uid != 0) {
		close(fd);
		return pyperf_error_set(err, -EPERM, PYPERF_NO_OFFSET, path,
					"is not owned by the current user or root (its owner is "
					"uid %u); not read (-f reads it anyway)",
					(unsigned)st->st_uid);
	}
	/* Reads of a regular file never block: the flag may stay. */
	return fd;
}

int pyperf_read_untrusted(const char *path, unsigned flags, size_t max, char **bufp, size_t *lenp,
			  struct stat *st, struct pyperf_error *err)
{
	struct stat sb;
	char *buf = NULL;
	size_t len = 0, cap = 0;
	int fd, ret = 0;

	*bufp = NULL;
	*lenp = 0;
	if (!st)
		st = &sb;
	fd = pyperf_open_untrusted(path, flags, st, err);
	if (fd < 0)
		return fd;
	if ((uint64_t)st->st_size > max) {
		ret = pyperf_error_set(err, -EFBIG, PYPERF_NO_OFFSET, path,
				       "is %llu bytes, more than the %zu MB read of such a file; "
				       "not read",
				       (unsigned long long)st->st_size, max >> 20);
		goto out;
	}
	/* The size may change while reading (a process still writing): read
	 * to the end, within the cap. */
	for (;;) {
		ssize_t n;

		if (len + 1 >= cap &&
		    PP_GROW(buf, cap, MAX(len + 65536, (size_t)st->st_size + 1))) {
			ret =
			    pyperf_error_set(err, -ENOMEM, PYPERF_NO_OFFSET, path, "out of memory");
			goto out;
		}
		n = read(fd, buf + len, MIN(cap - 1 - len, max + 1 - len));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = pyperf_error_set(err, -errno, PYPERF_NO_OFFSET, path,
					       "read failed: %s", strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > max) {
			ret = pyperf_error_set(err, -EFBIG, PYPERF_NO_OFFSET, path,
					       "grew past the %zu MB read of such a file; not read",
					       max >> 20);
			goto out;
		}
	}
	if (!buf && PP_GROW(buf, cap, 1)) {
		ret = pyperf_error_set(err, -ENOMEM, PYPERF_NO_OFFSET, path, "out of memory");
		goto out;
	}
	buf[len] = 0;
	*bufp = buf;
	*lenp = len;
	buf = NULL;
out:
	free(buf);
	close(fd);
	return ret;
}

bool pyperf_file_mappable(const struct stat *st)
{
	return st->st_uid == 0 || st->st_uid == geteuid();
}

ssize_t pyperf_read_full(int fd, void *buf, size_t size)
{
	size_t done = 0;

	while (done < size) {
		ssize_t n = read(fd, (char *)buf + done, MIN(size - done, (size_t)1 << 30));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		done += (size_t)n;
	}
	return (ssize_t)done;
}
