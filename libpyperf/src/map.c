// SPDX-License-Identifier: MIT
/* Perf maps (/tmp/perf-PID.map): parsing into a sorted lookup table. */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <pyperf/map.h>
#include "internal.h"
#include "symtab.h"

struct pyperf_map_table {
	struct symtab tab;
	size_t bad_lines;
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
	if (symtab_finish(&t->tab, SYMTAB_LAST_WINS)) {
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
	struct stat st;
	bool force;
	char *buf = NULL;
	size_t len = 0, cap = 0;
	int fd, e;

	if (!path || !OPTS_VALID(opts, pyperf_map_load_opts)) {
		pyperf_error_set(err, -EINVAL, PYPERF_NO_OFFSET, path, "invalid argument");
		return pyperf_err_ptr(-EINVAL);
	}
	force = OPTS_GET(opts, force, false);
	fd = open(path, O_RDONLY | O_CLOEXEC | (force ? 0 : O_NOFOLLOW));
	if (fd < 0) {
		e = errno;
		if (e == ELOOP) {
			pyperf_error_set(err, -EPERM, PYPERF_NO_OFFSET, path,
					 "is a symlink; not read (use --force to read it anyway)");
			return pyperf_err_ptr(-EPERM);
		}
		pyperf_error_set(err, -e, PYPERF_NO_OFFSET, path, "cannot open: %s", strerror(e));
		return pyperf_err_ptr(-e);
	}
	if (fstat(fd, &st) < 0) {
		e = errno;
		close(fd);
		pyperf_error_set(err, -e, PYPERF_NO_OFFSET, path, "cannot stat: %s", strerror(e));
		return pyperf_err_ptr(-e);
	}
	if (!force && (!S_ISREG(st.st_mode) || (st.st_uid != geteuid() && st.st_uid != 0))) {
		close(fd);
		pyperf_error_set(
		    err, -EPERM, PYPERF_NO_OFFSET, path,
		    S_ISREG(st.st_mode)
			? "is owned by another user (uid %u); not read, since it could "
			  "rename frames (use --force to read it anyway)"
			: "is not a regular file; not read%.0u",
		    (unsigned)st.st_uid);
		return pyperf_err_ptr(-EPERM);
	}
	for (;;) {
		ssize_t n;

		if (PP_GROW(buf, cap, len + 65536)) {
			free(buf);
			close(fd);
			pyperf_error_set(err, -ENOMEM, PYPERF_NO_OFFSET, path, "out of memory");
			return pyperf_err_ptr(-ENOMEM);
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			e = errno;
			free(buf);
			close(fd);
			pyperf_error_set(err, -e, PYPERF_NO_OFFSET, path, "read failed: %s",
					 strerror(e));
			return pyperf_err_ptr(-e);
		}
		if (n == 0)
			break;
		len += n;
	}
	close(fd);
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
