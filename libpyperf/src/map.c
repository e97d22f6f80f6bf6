// SPDX-License-Identifier: MIT
/*
 * Perf maps (/tmp/perf-PID.map): writing them for generated code, and
 * parsing them into a sorted lookup table.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <pyperf/map.h>
#include "internal.h"
#include "untrusted.h"
#include "symtab.h"

struct pyperf_map_table {
	struct symtab tab;
	size_t bad_lines;
	size_t bytes; /* of text parsed */
};

/* Hex digits, with an optional 0x; returns the number of bytes used (0 if none). */
static size_t parse_hex(const char *s, const char *end, uint64_t *out)
{
	const char *p = s;
	uint64_t v = 0;
	size_t digits = 0;

	if (end - p > 2 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
		p += 2;
	for (; p < end; p++, digits++) {
		int d;

		if (*p >= '0' && *p <= '9')
			d = *p - '0';
		else if (*p >= 'a' && *p <= 'f')
			d = *p - 'a' + 10;
		else if (*p >= 'A' && *p <= 'F')
			d = *p - 'A' + 10;
		else
			break;
		if (digits >= 16)
			return 0; /* more than 64 bits */
		v = v << 4 | (uint64_t)d;
	}
	if (!digits)
		return 0;
	*out = v;
	return p - s;
}

/* One line (without its newline): 1 if it gave an entry, 0 if malformed. */
static int parse_line(struct pyperf_map_table *t, const char *s, const char *end)
{
	uint64_t start, size;
	size_t n;

	n = parse_hex(s, end, &start);
	if (!n || s + n >= end || (s[n] != ' ' && s[n] != '\t'))
		return 0;
	s += n + 1;
	n = parse_hex(s, end, &size);
	if (!n || s + n >= end || (s[n] != ' ' && s[n] != '\t'))
		return 0;
	s += n + 1;
	if (s >= end || memchr(s, 0, end - s))
		return 0;
	if (start + size < start)
		return 0;
	return symtab_add(&t->tab, start, start + size, s, end - s) ? -ENOMEM : 1;
}

PYPERF_API struct pyperf_map_table *pyperf_map_table__parse(const char *text, size_t len)
{
	struct pyperf_map_table *t = pp_calloc(1, sizeof(*t));
	const char *p = text, *end = text + len;

	if (!t)
		return NULL;
	symtab_init(&t->tab);
	t->bytes = len;
	while (p < end) {
		const char *nl = memchr(p, '\n', end - p);
		const char *le = nl ? nl : end;
		int ret;

		if (le > p && le[-1] == '\r')
			le--;
		if (le > p) {
			ret = parse_line(t, p, le);
			if (ret < 0) {
				pyperf_map_table__free(t);
				errno = ENOMEM;
				return NULL;
			}
			if (!ret)
				t->bad_lines++;
		}
		p = nl ? nl + 1 : end;
	}
	if (symtab_finish(&t->tab, SYMTAB_PERF_MAP)) {
		pyperf_map_table__free(t);
		errno = ENOMEM;
		return NULL;
	}
	return t;
}

PYPERF_API struct pyperf_map_table *pyperf_map_table__load(const char *path,
							   const struct pyperf_map_load_opts *opts,
							   struct pyperf_error *err)
{
	struct pyperf_map_table *t;
	char *buf;
	size_t len;
	int ret;

	if (!path || !OPTS_VALID(opts, pyperf_map_load_opts)) {
		pyperf_error_set(err, -EINVAL, PYPERF_NO_OFFSET, path, "invalid argument");
		return pyperf_err_ptr(-EINVAL);
	}
	ret = pyperf_read_untrusted(
	    path, OPTS_GET(opts, force, false) ? PP_OPEN_ANY_OWNER | PP_OPEN_FOLLOW : 0,
	    PP_MAX_JIT_FILE, &buf, &len, NULL, err);
	if (ret)
		return pyperf_err_ptr(ret);
	t = pyperf_map_table__parse(buf, len);
	free(buf);
	if (!t)
		pyperf_error_set(err, -ENOMEM, PYPERF_NO_OFFSET, path, "out of memory");
	return t;
}

PYPERF_API void pyperf_map_table__free(struct pyperf_map_table *t)
{
	if (!t)
		return;
	symtab_free(&t->tab);
	free(t);
}

PYPERF_API size_t pyperf_map_table__size(const struct pyperf_map_table *t)
{
	return t->tab.nr;
}

PYPERF_API const struct pyperf_symbol *pyperf_map_table__entry(const struct pyperf_map_table *t,
							       size_t idx)
{
	return idx < t->tab.nr ? &t->tab.syms[idx] : NULL;
}

PYPERF_API const struct pyperf_symbol *pyperf_map_table__find(const struct pyperf_map_table *t,
							      uint64_t addr)
{
	return symtab_find(&t->tab, addr);
}

PYPERF_API size_t pyperf_map_table__bad_lines(const struct pyperf_map_table *t)
{
	return t->bad_lines;
}

struct symtab *pyperf_map_table__symtab(struct pyperf_map_table *t)
{
	return &t->tab;
}

size_t pyperf_map_table__bytes(const struct pyperf_map_table *t)
{
	return t->bytes;
}

/* ---- writing ---------------------------------------------------------------------- */

struct pyperf_map_writer {
	int fd;
	pid_t pid; /* the process whose map fd is */
	unsigned int mode;
	bool reemit;
	bool truncate;
	/* Taken only to switch maps after fork(), never around writes. */
	pthread_mutex_t switch_lock;
	atomic_int first_error;
	atomic_uint_fast64_t entries;
	char dir[PATH_MAX / 2];
	char path[PATH_MAX];
};

int pyperf_process_started(int pid, double *realtime)
{
	struct timespec real, boot;
	unsigned long long start_ticks = 0;
	char buf[1024], path[64], *p;
	ssize_t n;
	int fd;

	if (pid)
		snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	else
		snprintf(path, sizeof(path), "/proc/self/stat");
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	buf[n] = 0;
	/* field 22, counted after the parenthesised command name */
	p = strrchr(buf, ')');
	for (int field = 2; p && field < 22; field++)
		p = strchr(p + 1, ' ');
	if (!p || sscanf(p + 1, "%llu", &start_ticks) != 1)
		return -EIO;
	if (clock_gettime(CLOCK_REALTIME, &real) || clock_gettime(CLOCK_BOOTTIME, &boot))
		return -errno;
	*realtime = (double)real.tv_sec + real.tv_nsec / 1e9 -
		    ((double)boot.tv_sec + boot.tv_nsec / 1e9) +
		    (double)start_ticks / (double)sysconf(_SC_CLK_TCK);
	return 0;
}

/*
 * A map last written before its process started was left by a dead
 * process that had the same pid (pids wrap quickly: 32768 by default), and
 * its entries would name that process's code wrongly. A code generator in
 * the process can only have written it since it started. One second of
 * slack keeps the clock granularity from calling a fresh map stale.
 */
bool pyperf_left_by_dead_process(const struct stat *st, int pid)
{
	double started;

	if (pyperf_process_started(pid, &started))
		return false;
	return (double)st->st_mtim.tv_sec + st->st_mtim.tv_nsec / 1e9 < started - 1.0;
}

/*
 * Opens DIR/perf-PID.map for appending, refusing anything another user
 * could have planted: a symlink (O_NOFOLLOW fails with ELOOP), a file of
 * another owner, a device or fifo, or a hard link to some other file.
 */
static int open_map(struct pyperf_map_writer *w, pid_t pid, struct pyperf_error *err)
{
	char path[sizeof(w->path)];
	struct stat st;
	int fd, e;

	if (snprintf(path, sizeof(path), "%s/perf-%d.map", w->dir, (int)pid) >= (int)sizeof(path))
		return pyperf_error_set(err, -ENAMETOOLONG, PYPERF_NO_OFFSET, w->dir,
					"folder name too long for a perf map");
	/* O_NONBLOCK: a fifo planted at the path would otherwise block the
	 * open until someone reads it (it then fails with ENXIO instead). It
	 * does not change writes to a regular file. */
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK,
		  w->mode);
	if (fd < 0) {
		e = errno;
		if (e == ENXIO)
			return pyperf_error_set(err, -EPERM, PYPERF_NO_OFFSET, path,
						"is a fifo; not written (someone may have planted "
						"it: remove it and retry)");
		if (e == ELOOP)
			return pyperf_error_set(
			    err, -EPERM, PYPERF_NO_OFFSET, path,
			    "is a symbolic link; not followed (someone may have "
			    "planted it: remove it and retry)");
		if (e == EACCES || e == EPERM)
			return pyperf_error_set(err, -e, PYPERF_NO_OFFSET, path,
						"cannot create: %s (is /tmp writable, or does "
						"another user own a file of this name?)",
						strerror(e));
		return pyperf_error_set(err, -e, PYPERF_NO_OFFSET, path,
					"cannot create: %s (perf reads maps only from /tmp, "
					"which must be writable)",
					strerror(e));
	}
	if (fstat(fd, &st) < 0) {
		e = errno;
		close(fd);
		return pyperf_error_set(err, -e, PYPERF_NO_OFFSET, path, "cannot stat: %s",
					strerror(e));
	}
	if (!S_ISREG(st.st_mode) || st.st_uid != geteuid() || st.st_nlink != 1) {
		close(fd);
		if (!S_ISREG(st.st_mode))
			return pyperf_error_set(err, -EPERM, PYPERF_NO_OFFSET, path,
						"is not a regular file; not written");
		if (st.st_uid != geteuid())
			return pyperf_error_set(err, -EPERM, PYPERF_NO_OFFSET, path,
						"is owned by another user (uid %u); not written "
						"(someone may have planted it: remove it)",
						(unsigned)st.st_uid);
		return pyperf_error_set(err, -EPERM, PYPERF_NO_OFFSET, path,
					"has other hard links; not written");
	}
	if ((w->truncate || (st.st_size && pyperf_left_by_dead_process(&st, 0))) &&
	    ftruncate(fd, 0) < 0) {
		e = errno;
		close(fd);
		return pyperf_error_set(err, -e, PYPERF_NO_OFFSET, path, "cannot truncate: %s",
					strerror(e));
	}
	w->fd = fd;
	w->pid = pid;
	memcpy(w->path, path, sizeof(path));
	return 0;
}

PYPERF_API struct pyperf_map_writer *
pyperf_map_writer__open(const struct pyperf_map_writer_opts *opts, struct pyperf_error *err)
{
	struct pyperf_map_writer *w;
	const char *dir;
	int ret;

	if (!OPTS_VALID(opts, pyperf_map_writer_opts)) {
		pyperf_error_set(err, -EINVAL, PYPERF_NO_OFFSET, NULL, "invalid options");
		return pyperf_err_ptr(-EINVAL);
	}
	dir = OPTS_GET(opts, dir, NULL);
	if (!dir)
		dir = "/tmp";
	w = pp_calloc(1, sizeof(*w));
	if (!w) {
		pyperf_error_set(err, -ENOMEM, PYPERF_NO_OFFSET, NULL, "out of memory");
		return pyperf_err_ptr(-ENOMEM);
	}
	if (strlen(dir) >= sizeof(w->dir)) {
		free(w);
		pyperf_error_set(err, -ENAMETOOLONG, PYPERF_NO_OFFSET, dir, "folder name too long");
		return pyperf_err_ptr(-ENAMETOOLONG);
	}
	strcpy(w->dir, dir);
	w->mode = OPTS_GET(opts, mode, 0) ? OPTS_GET(opts, mode, 0) & 07777 : 0600;
	w->reemit = OPTS_GET(opts, reemit_on_fork, false);
	w->truncate = OPTS_GET(opts, truncate, false);
	w->fd = -1;
	pthread_mutex_init(&w->switch_lock, NULL);
	ret = open_map(w, getpid(), err);
	if (ret) {
		pthread_mutex_destroy(&w->switch_lock);
		free(w);
		return pyperf_err_ptr(ret);
	}
	return w;
}

static int write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Copies the complete lines of the parent's map into the child's. */
static int copy_map(const char *from, int to, struct pyperf_error *err)
{
	char buf[65536];
	size_t have = 0;
	struct stat st;
	int fd = pyperf_open_untrusted(from, 0, &st, err), ret = 0;

	if (fd == -ENOENT)
		return 0;
	if (fd < 0)
		return fd;
	if (st.st_uid != geteuid()) {
		close(fd);
		return pyperf_error_set(err, -EPERM, PYPERF_NO_OFFSET, from,
					"the parent's map is not a file of ours; not copied");
	}
	for (;;) {
		ssize_t n = read(fd, buf + have, sizeof(buf) - have);
		char *nl;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = pyperf_error_set(err, -errno, PYPERF_NO_OFFSET, from,
					       "cannot read the parent's map: %s", strerror(errno));
			break;
		}
		have += (size_t)n;
		nl = memrchr(buf, '\n', have);
		if (nl) {
			size_t used = (size_t)(nl - buf) + 1;

			ret = write_all(to, buf, used);
			if (ret) {
				pyperf_error_set(err, ret, PYPERF_NO_OFFSET, from,
						 "cannot copy the parent's map: %s",
						 strerror(-ret));
				break;
			}
			memmove(buf, buf + used, have - used);
			have -= used;
		} else if (have == sizeof(buf)) {
			have = 0; /* a line longer than the buffer: not a map entry */
		}
		if (n == 0)
			break;
	}
	close(fd);
	return ret;
}

PYPERF_API int pyperf_map_writer__after_fork(struct pyperf_map_writer *w, struct pyperf_error *err)
{
	char parent[sizeof(w->path)];
	pid_t pid = getpid();
	int old, ret = 0;

	if (!w)
		return pyperf_err(-EINVAL);
	/* A thread of the parent holding the lock at fork() time would leave
	 * it locked here; that only happens if the parent was itself switching
	 * maps, after a fork of its own, at that very moment. */
	pthread_mutex_lock(&w->switch_lock);
	if (w->pid == pid)
		goto out;
	old = w->fd;
	memcpy(parent, w->path, sizeof(parent));
	/* The parent's entries are the parent's: never append to its map. */
	w->fd = -1;
	ret = open_map(w, pid, err);
	if (ret) {
		w->pid = pid; /* do not retry on every add() */
		if (old >= 0)
			close(old);
		goto out;
	}
	if (old >= 0)
		close(old);
	if (w->reemit)
		ret = copy_map(parent, w->fd, err);
out:
	pthread_mutex_unlock(&w->switch_lock);
	return ret ? pyperf_err(ret) : 0;
}

PYPERF_API int pyperf_map_writer__add(struct pyperf_map_writer *w, uint64_t start, uint64_t size,
				      const char *name)
{
	char stack[1024], *line = stack;
	size_t nlen, len;
	int n, ret, fd;

	if (!w || !name)
		return pyperf_err(-EINVAL);
	if (w->pid != getpid()) {
		struct pyperf_error err;

		pyperf_map_writer__after_fork(w, &err);
	}
	fd = w->fd;
	if (fd < 0)
		return pyperf_err(-EBADF);
	nlen = strlen(name);
	len = 2 * 16 + 3 + nlen;
	if (len >= sizeof(stack)) {
		line = pp_malloc(len + 1);
		if (!line)
			return pyperf_err(-ENOMEM);
	}
	n = snprintf(line, len + 1, "%" PRIx64 " %" PRIx64 " ", start, size);
	for (size_t i = 0; i < nlen; i++)
		line[n + i] = name[i] == '\n' || name[i] == '\r' ? ' ' : name[i];
	line[n + nlen] = '\n';
	/* One write: O_APPEND makes it atomic against other writers. */
	ret = write_all(fd, line, (size_t)n + nlen + 1);
	if (line != stack)
		free(line);
	if (ret) {
		int zero = 0;

		atomic_compare_exchange_strong(&w->first_error, &zero, ret);
		return pyperf_err(ret);
	}
	atomic_fetch_add(&w->entries, 1);
	return 0;
}

PYPERF_API int pyperf_map_writer__flush(struct pyperf_map_writer *w)
{
	if (!w)
		return pyperf_err(-EINVAL);
	if (w->fd >= 0 && fdatasync(w->fd) < 0)
		return pyperf_err(-errno);
	return 0;
}

PYPERF_API const char *pyperf_map_writer__path(const struct pyperf_map_writer *w)
{
	return w->path;
}

PYPERF_API uint64_t pyperf_map_writer__entries(const struct pyperf_map_writer *w)
{
	return atomic_load(&((struct pyperf_map_writer *)w)->entries);
}

PYPERF_API int pyperf_map_writer__close(struct pyperf_map_writer *w)
{
	int ret;

	if (!w)
		return 0;
	ret = atomic_load(&w->first_error);
	if (w->fd >= 0 && close(w->fd) < 0 && !ret)
		ret = -errno;
	pthread_mutex_destroy(&w->switch_lock);
	free(w);
	return ret;
}
