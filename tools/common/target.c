// SPDX-License-Identifier: MIT
/* What the recording tools are pointed at (target.h). */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "target.h"

/*
 * The perf_trampoline package for launched Pythons: $PYPERF_PYTHON_DIR, or
 * beside this program in the build tree (bin/../python) or installed
 * (bin/../lib/pyperf/python).
 */
const char *tools_find_python_dir(char *buf, size_t size)
{
	static const char *const rel[] = {"/../python", "/../lib/pyperf/python"};
	const char *env = getenv("PYPERF_PYTHON_DIR");
	char exe[PATH_MAX], probe[PATH_MAX + 64];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	struct stat st;

	if (env && *env)
		return env;
	if (n <= 0)
		return NULL;
	exe[n] = 0;
	*strrchr(exe, '/') = 0;
	for (size_t i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
		snprintf(probe, sizeof(probe), "%s%s/perf_trampoline/__init__.py", exe, rel[i]);
		if (!stat(probe, &st) && realpath(probe, buf) && strlen(buf) < size) {
			/* strip "/perf_trampoline/__init__.py" */
			*strrchr(buf, '/') = 0;
			*strrchr(buf, '/') = 0;
			return buf;
		}
	}
	return NULL;
}

int tools_parse_pids(const char *arg, pid_t **pids, size_t *nr)
{
	const char *s = arg;

	if (!*s)
		return -EINVAL;
	while (*s) {
		char *end;
		long p;
		pid_t *n;

		errno = 0;
		p = strtol(s, &end, 10);
		if (errno || end == s || p <= 0 || p > INT32_MAX || (*end && *end != ',') ||
		    (*end == ',' && !end[1]))
			return -EINVAL;
		n = realloc(*pids, (*nr + 1) * sizeof(**pids));
		if (!n)
			return -ENOMEM;
		*pids = n;
		(*pids)[(*nr)++] = (pid_t)p;
		s = *end ? end + 1 : end;
	}
	return 0;
}
