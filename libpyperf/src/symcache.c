// SPDX-License-Identifier: MIT
/*
 * Saved symbol tables (see symcache.h).
 *
 * One file per key, named by the key's hash; the key itself is stored and
 * compared whole, so a hash collision is a miss, not a wrong table. The
 * file is native-endian, all arrays 8-byte aligned:
 *
 *	header | key | aux | start[nr] | end[nr] | block_max[2 * leaves] | name[nr] (u32) | names
 *
 * (block_max: the lookup tree of symtab.c, leaves from symtab_block_leaves).
 *
 * Files are written to a temporary name and renamed, so a reader sees a
 * whole file or none. A file that does not check out (size, bounds, the
 * final NUL of the names) is ignored and replaced on the next save. The
 * folder is the user's own (0700); files elsewhere, of another owner or
 * behind a symlink are not read.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "symcache.h"
#include "untrusted.h"

#define SYMCACHE_MAGIC "PYPFSYMT"
#define SYMCACHE_VERSION 2
/* Saved tables not rewritten for this long are removed when another is saved. */
#define SYMCACHE_MAX_AGE_S (30 * 24 * 3600)

struct symcache_header {
	char magic[8];
	uint32_t version;
	uint32_t key_len;
	uint32_t aux_len; /* with its NUL */
	uint32_t reserved;
	uint64_t nr;
	uint64_t names_size;
	uint64_t file_size;
};

static size_t pad8(size_t n)
{
	return (size_t)ALIGN_UP(n, 8);
}

bool symcache_dir(const char *dir, char *out, size_t size)
{
	const char *env = getenv("PYPERF_SYMBOL_CACHE"), *xdg = getenv("XDG_CACHE_HOME");
	const char *home = getenv("HOME");
	int n;

	if (dir)
		n = snprintf(out, size, "%s", dir);
	else if (env)
		n = snprintf(out, size, "%s", env);
	else if (xdg && *xdg == '/')
		n = snprintf(out, size, "%s/pyperf/symbols", xdg);
	else if (home && *home == '/')
		n = snprintf(out, size, "%s/.cache/pyperf/symbols", home);
	else
		return false;
	return n > 0 && (size_t)n < size;
}

/*
 * Whether folders may be made below the nearest existing ancestor of
 * @dir: one of ours, or a sticky shared one such as /tmp. Not, say, a
 * user's home when root runs us with that user's $HOME (sudo -E).
 */
static bool may_create(const char *dir)
{
	char path[PATH_MAX];
	struct stat st;
	char *slash;

	snprintf(path, sizeof(path), "%s", dir);
	for (;;) {
		slash = strrchr(path, '/');
		if (!slash)
			snprintf(path, sizeof(path), "."); /* a relative name: here */
		else if (slash == path)
			path[1] = 0; /* "/" */
		else
			*slash = 0;
		if (!lstat(path, &st))
			return S_ISDIR(st.st_mode) &&
			       (st.st_uid == geteuid() ||
				((st.st_mode & S_ISVTX) && (st.st_mode & 0002)));
		if (!slash || slash == path)
			return false;
	}
}

/* The folder exists, is a real folder of ours and no one else can write it. */
static bool dir_usable(const char *dir, bool create)
{
	struct stat st;

	if (lstat(dir, &st) && errno == ENOENT && create && may_create(dir)) {
		char path[PATH_MAX];

		/* Create the parents (~/.cache/pyperf) as mkdir -p would. */
		snprintf(path, sizeof(path), "%s", dir);
		for (char *p = path + 1; *p; p++) {
			if (*p != '/')
				continue;
			*p = 0;
			mkdir(path, 0700);
			*p = '/';
		}
		mkdir(path, 0700);
	}
	if (lstat(dir, &st))
		return false;
	return S_ISDIR(st.st_mode) && st.st_uid == geteuid() && !(st.st_mode & 022);
}

static void file_name(char *out, size_t size, const char *dir, const char *key, size_t key_len)
{
	snprintf(out, size, "%s/%016llx.sym", dir,
		 (unsigned long long)hash_bytes(key, key_len, HASH_SEED));
}

bool symcache_load(const char *dir, const char *key, size_t key_len, struct symtab *t,
		   const char **aux)
{
	char path[PATH_MAX];
	struct symcache_header h;
	struct stat st;
	size_t off, arrays, leaves;
	const char *base;
	void *map;
	int fd;

	if (!dir_usable(dir, false))
		return false;
	file_name(path, sizeof(path), dir, key, key_len);
	fd = pyperf_open_untrusted(path, 0, &st, NULL);
	if (fd < 0)
		return false;
	if (st.st_uid != geteuid() || (size_t)st.st_size < sizeof(h) ||
	    pread(fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h)) {
		close(fd);
		return false;
	}
	/* Every size is checked against the file before anything is used. */
	if (memcmp(h.magic, SYMCACHE_MAGIC, 8) || h.version != SYMCACHE_VERSION ||
	    h.file_size != (uint64_t)st.st_size || h.key_len != key_len || !h.aux_len ||
	    h.nr > (uint64_t)st.st_size / 28 || h.names_size > (uint64_t)st.st_size ||
	    !h.names_size) {
		close(fd);
		return false;
	}
	off = sizeof(h) + pad8(h.key_len) + pad8(h.aux_len);
	leaves = symtab_block_leaves(h.nr);
	arrays = 2 * 8 * h.nr + 2 * 8 * leaves + pad8(4 * h.nr);
	if (off + arrays + h.names_size != (uint64_t)st.st_size) {
		close(fd);
		return false;
	}
	map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (map == MAP_FAILED)
		return false;
	base = map;
	if (memcmp(base + sizeof(h), key, key_len) ||
	    base[sizeof(h) + pad8(h.key_len) + h.aux_len - 1] || base[st.st_size - 1]) {
		munmap(map, (size_t)st.st_size);
		return false;
	}
	t->map = map;
	t->map_size = (size_t)st.st_size;
	t->syms = NULL; /* made as lookups reach them (symtab_at) */
	t->nr = h.nr;
	t->m_start = (const uint64_t *)(base + off);
	t->m_end = t->m_start + h.nr;
	t->block_max = (uint64_t *)(t->m_end + h.nr);
	t->block_leaves = leaves;
	t->m_name = (const uint32_t *)(t->block_max + 2 * leaves);
	t->m_names = base + off + arrays;
	/* Name offsets are bounded on use (symtab_at): the names end with a
	 * NUL, and an offset past them is clamped to that NUL. */
	t->m_names_size = h.names_size;
	*aux = base + sizeof(h) + pad8(h.key_len);
	return true;
}

/* Removes old tables of earlier boots and files; at most once per save. */
static void prune(const char *dir, const char *keep)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	time_t now = time(NULL);

	if (!d)
		return;
	while ((e = readdir(d))) {
		char path[PATH_MAX];
		struct stat st;
		size_t n = strlen(e->d_name);

		if (n < 5 || strcmp(e->d_name + n - 4, ".sym"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (!strcmp(path, keep) || lstat(path, &st) || !S_ISREG(st.st_mode))
			continue;
		if (st.st_atime + SYMCACHE_MAX_AGE_S < now &&
		    st.st_mtime + SYMCACHE_MAX_AGE_S < now)
			unlink(path);
	}
	closedir(d);
}

static bool write_all(int fd, const void *p, size_t n)
{
	static const char zeros[8];
	size_t pad = pad8(n) - n;

	while (n) {
		ssize_t w = write(fd, p, n);

		if (w <= 0)
			return false;
		p = (const char *)p + w;
		n -= (size_t)w;
	}
	return !pad || write(fd, zeros, pad) == (ssize_t)pad;
}

bool symcache_store(const char *dir, const char *key, size_t key_len, const struct symtab *t,
		    const char *aux)
{
	char path[PATH_MAX], tmp[PATH_MAX + 32];
	struct symcache_header h = {.version = SYMCACHE_VERSION};
	uint64_t *u64 = NULL;
	uint32_t *names = NULL;
	size_t names_size = 0;
	bool ok = false;
	int fd;

	if (t->map || !t->block_max || !dir_usable(dir, true) || key_len > UINT32_MAX)
		return false;
	file_name(path, sizeof(path), dir, key, key_len);
	snprintf(tmp, sizeof(tmp), "%s.%d.tmp", path, (int)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return false;
	u64 = pp_calloc(t->nr ? t->nr : 1, sizeof(*u64));
	names = pp_calloc(t->nr ? t->nr : 1, sizeof(*names));
	if (!u64 || !names)
		goto out;
	for (size_t i = 0; i < t->nr; i++) {
		names[i] = (uint32_t)names_size;
		names_size += strlen(t->syms[i].name) + 1;
		if (names_size > UINT32_MAX)
			goto out;
	}
	memcpy(h.magic, SYMCACHE_MAGIC, 8);
	h.key_len = (uint32_t)key_len;
	h.aux_len = (uint32_t)strlen(aux) + 1;
	h.nr = t->nr;
	h.names_size = names_size ? names_size : 1;
	h.file_size = sizeof(h) + pad8(h.key_len) + pad8(h.aux_len) + 2 * 8 * h.nr +
		      2 * 8 * t->block_leaves + pad8(4 * h.nr) + h.names_size;
	if (!write_all(fd, &h, sizeof(h)) || !write_all(fd, key, key_len) ||
	    !write_all(fd, aux, h.aux_len))
		goto out;
	for (size_t i = 0; i < t->nr; i++)
		u64[i] = t->syms[i].start;
	if (!write_all(fd, u64, 8 * t->nr))
		goto out;
	for (size_t i = 0; i < t->nr; i++)
		u64[i] = t->syms[i].end;
	if (!write_all(fd, u64, 8 * t->nr))
		goto out;
	if (!write_all(fd, t->block_max, 8 * 2 * t->block_leaves) ||
	    !write_all(fd, names, 4 * t->nr))
		goto out;
	{
		/* Names in one buffered pass: kallsyms has 100,000 of them. */
		FILE *f = fdopen(dup(fd), "w");

		if (!f)
			goto out;
		for (size_t i = 0; i < t->nr; i++)
			fwrite(t->syms[i].name, 1, strlen(t->syms[i].name) + 1, f);
		if (!names_size)
			fputc(0, f);
		ok = !ferror(f);
		ok &= !fclose(f);
	}
out:
	free(u64);
	free(names);
	if (close(fd))
		ok = false;
	if (ok && !rename(tmp, path)) {
		prune(dir, path);
		return true;
	}
	unlink(tmp);
	return false;
}

void symcache_key_add(char *key, size_t size, size_t *len, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*len >= size)
		return;
	va_start(ap, fmt);
	n = vsnprintf(key + *len, size - *len, fmt, ap);
	va_end(ap);
	*len = n < 0 ? size : MIN(size, *len + (size_t)n);
}

void symcache_key_file(char *key, size_t size, size_t *len, const char *path)
{
	struct stat st;

	if (stat(path, &st)) {
		symcache_key_add(key, size, len, "%s -\n", path);
		return;
	}
	symcache_key_add(key, size, len, "%s %llx %llx %lld %lld.%09ld\n", path,
			 (unsigned long long)st.st_dev, (unsigned long long)st.st_ino,
			 (long long)st.st_size, (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
}
