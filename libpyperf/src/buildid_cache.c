// SPDX-License-Identifier: MIT
/*
 * Writing perf's build-id cache: the layout of perf's build_id_cache__add()
 * (tools/perf/util/build-id.c), which perf report, perf script, hotspot's
 * perfparser and our symbol search all read.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "buildid_cache.h"
#include "internal.h"
#include "untrusted.h"

bool pyperf_buildid_cache_dir(const char *dir, char *out, size_t size)
{
	const char *env = getenv("PERF_BUILDID_DIR"), *home = getenv("HOME");
	int n;

	if (dir)
		n = snprintf(out, size, "%s", dir);
	else if (env && *env)
		n = snprintf(out, size, "%s", env);
	else if (home && *home == '/')
		n = snprintf(out, size, "%s/.debug", home);
	else
		return false;
	return n > 0 && (size_t)n < size && out[0];
}

/* The cache root exists and is ours, or is made now in a folder of ours. */
static int root_usable(const char *dir)
{
	char parent[PATH_MAX];
	struct stat st;
	char *slash;

	if (!lstat(dir, &st))
		return S_ISDIR(st.st_mode) && st.st_uid == geteuid() ? 0 : -EPERM;
	if (errno != ENOENT)
		return -errno;
	snprintf(parent, sizeof(parent), "%s", dir);
	slash = strrchr(parent, '/');
	if (!slash || slash == parent)
		return -EPERM;
	*slash = 0;
	if (lstat(parent, &st) || !S_ISDIR(st.st_mode) || st.st_uid != geteuid())
		return -EPERM;
	return mkdir(dir, 0755) && errno != EEXIST ? -errno : 0;
}

/* mkdir -p of @root/@rel, @root existing. */
static int make_dirs(const char *root, const char *rel)
{
	char path[PATH_MAX];
	size_t base = strlen(root);
	int n = snprintf(path, sizeof(path), "%s/%s", root, rel);

	if (n < 0 || (size_t)n >= sizeof(path))
		return -ENAMETOOLONG;
	for (char *p = path + base + 1;; p++) {
		if (*p != '/' && *p)
			continue;
		char c = *p;

		*p = 0;
		if (mkdir(path, 0755) && errno != EEXIST)
			return -errno;
		*p = c;
		if (!c)
			return 0;
	}
}

/* Copies @from to @to through a temporary name, so that no reader sees
 * half a file. */
static int copy_file(const char *from, const char *to)
{
	char tmp[PATH_MAX + 16], buf[65536];
	int in, out, ret = 0;
	struct stat st;

	/* a binary a recording names may be gone and something else there
	 * now: a FIFO would block the copy for ever */
	in = pyperf_open_untrusted(from, PP_OPEN_FOLLOW | PP_OPEN_ANY_OWNER, NULL, NULL);
	if (in < 0)
		return in;
	snprintf(tmp, sizeof(tmp), "%s.XXXXXX", to);
	out = mkostemp(tmp, O_CLOEXEC);
	if (out < 0) {
		ret = -errno;
		close(in);
		return ret;
	}
	for (;;) {
		ssize_t n = read(in, buf, sizeof(buf)), w = 0;

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n < 0)
				ret = -errno;
			break;
		}
		while (w < n) {
			ssize_t k = write(out, buf + w, (size_t)(n - w));

			if (k < 0 && errno == EINTR)
				continue;
			if (k <= 0) {
				ret = k < 0 ? -errno : -EIO;
				break;
			}
			w += k;
		}
		if (ret)
			break;
	}
	if (!ret && !fstat(in, &st))
		fchmod(out, st.st_mode & 0755);
	if (close(out) && !ret)
		ret = -errno;
	close(in);
	if (!ret && rename(tmp, to))
		ret = -errno;
	if (ret)
		unlink(tmp);
	return ret;
}

/* A hard link as perf makes, or a copy across file systems. */
static int link_or_copy(const char *from, const char *to)
{
	struct stat st;

	if (!lstat(to, &st))
		return 0;
	/* only regular files: link() would link a FIFO or a symlink itself */
	if (lstat(from, &st) || !S_ISREG(st.st_mode))
		return copy_file(from, to);
	if (!link(from, to) || errno == EEXIST)
		return 0;
	return copy_file(from, to);
}

/* /proc/kallsyms shows zeros for addresses to those who may not see them. */
static bool kallsyms_has_addresses(void)
{
	FILE *f = fopen("/proc/kallsyms", "re");
	unsigned long long a = 0;
	bool ok;

	if (!f)
		return false;
	ok = fscanf(f, "%llx", &a) == 1 && a;
	fclose(f);
	return ok;
}

int pyperf_buildid_cache_add(const char *dir, const char *path, const uint8_t *id, size_t len)
{
	bool kernel = !strcmp(path, "[kernel.kallsyms]");
	char hex[41], rel[PATH_MAX], file[PATH_MAX + 64], link_dir[PATH_MAX], target[PATH_MAX];
	const char *name = kernel ? path : path + 1;
	int ret;

	if (!len || len > 20 ||
	    (!kernel && (path[0] != '/' || strstr(path, "/..") || strstr(path, " (deleted)") ||
			 strstr(path, "//"))))
		return -EINVAL;
	for (size_t i = 0; i < len; i++)
		snprintf(hex + 2 * i, 3, "%02x", id[i]);
	ret = root_usable(dir);
	if (ret)
		return ret;
	if (snprintf(rel, sizeof(rel), "%s/%s", name, hex) >= (int)sizeof(rel))
		return -ENAMETOOLONG;
	ret = make_dirs(dir, rel);
	if (ret)
		return ret;
	snprintf(file, sizeof(file), "%s/%s/%s", dir, rel, kernel ? "kallsyms" : "elf");
	if (kernel) {
		struct stat st;

		if (!lstat(file, &st))
			return 0;
		if (!kallsyms_has_addresses())
			return -EPERM; /* kptr_restrict: perf keeps no such copy either */
		ret = copy_file("/proc/kallsyms", file);
	} else {
		char debug[PATH_MAX];

		ret = link_or_copy(path, file);
		/* the debug file a -dbg package installed, as perf keeps it */
		snprintf(debug, sizeof(debug), "/usr/lib/debug/.build-id/%.2s/%s.debug", hex,
			 hex + 2);
		if (!ret && !access(debug, R_OK)) {
			snprintf(file, sizeof(file), "%s/%s/debug", dir, rel);
			ret = link_or_copy(debug, file);
		}
	}
	if (ret)
		return ret;
	/* the index: .build-id/xx/rest -> ../../PATH/ID */
	snprintf(link_dir, sizeof(link_dir), ".build-id/%.2s", hex);
	ret = make_dirs(dir, link_dir);
	if (ret)
		return ret;
	snprintf(file, sizeof(file), "%s/%s/%s", dir, link_dir, hex + 2);
	if (snprintf(target, sizeof(target), "../../%s", rel) >= (int)sizeof(target))
		return -ENAMETOOLONG;
	if (symlink(target, file) && errno != EEXIST)
		return -errno;
	return 0;
}
