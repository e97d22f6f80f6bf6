// SPDX-License-Identifier: MIT
/*
 * Golden cases of damaged perf.data files: every folder of
 * tests/data/perfdata/invalid/ holds an input and the error it must give
 * (written by tests/data/perfdata/make-invalid.py, which documents the
 * format of "expected"). Each input is opened with pyperf_data__open() and
 * read with pyperf_data__next(); the struct pyperf_error must carry the
 * expected code, offset and text, after the expected number of records.
 * The same bytes through pyperf_data__open_mem() must give the same error.
 *
 * The repository is found through PYPERF_TOP (set by tests/run.sh), else
 * from this file's path or the program's (build/{out,san}/tests/).
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <pyperf/data.h>
#include "check.h"

#define CASES_DIR "tests/data/perfdata/invalid"

struct expected {
	char stage[16];
	int code;
	bool has_offset;
	uint64_t offset;
	char text[256];
	long records; /* -1: not given */
	bool requires_zstd;
};

static char top[PATH_MAX];
static int nr_cases, nr_skipped;

static int silent(enum pyperf_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	(void)fmt;
	(void)ap;
	return 0;
}

static bool is_top(const char *dir)
{
	char p[PATH_MAX + 64];
	DIR *d;

	snprintf(p, sizeof(p), "%s/" CASES_DIR, dir);
	d = opendir(p);
	if (d)
		closedir(d);
	return d != NULL;
}

/* Cuts @n trailing path components off @path (in place). */
static void dirname_n(char *path, int n)
{
	while (n-- > 0) {
		char *slash = strrchr(path, '/');

		if (!slash)
			return;
		*slash = 0;
	}
}

static bool find_top(void)
{
	const char *env = getenv("PYPERF_TOP");
	char buf[PATH_MAX];
	ssize_t n;

	if (env && is_top(env)) {
		snprintf(top, sizeof(top), "%s", env);
		return true;
	}
	/* tests/unit/test-data-golden.c */
	snprintf(buf, sizeof(buf), "%s", __FILE__);
	dirname_n(buf, 3);
	if (buf[0] == '/' && is_top(buf)) {
		snprintf(top, sizeof(top), "%s", buf);
		return true;
	}
	if (strcmp(buf, __FILE__) && is_top(".")) {
		snprintf(top, sizeof(top), ".");
		return true;
	}
	/* BUILD/{out,san}/tests/test-data-golden */
	n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
	if (n > 0) {
		buf[n] = 0;
		dirname_n(buf, 4);
		if (is_top(buf)) {
			snprintf(top, sizeof(top), "%s", buf);
			return true;
		}
	}
	return false;
}

static int errno_by_name(const char *name)
{
	static const struct {
		const char *name;
		int code;
	} names[] = {
	    {"EBADMSG", EBADMSG}, {"EOPNOTSUPP", EOPNOTSUPP}, {"ENOMEM", ENOMEM},
	    {"EINVAL", EINVAL},	  {"ENOENT", ENOENT},	      {"EIO", EIO},
	    {"EISDIR", EISDIR},
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(names[i].name, name))
			return names[i].code;
	return 0;
}

static bool read_expected(const char *path, struct expected *e)
{
	FILE *f = fopen(path, "r");
	char line[512];
	bool ok = true;

	memset(e, 0, sizeof(*e));
	e->records = -1;
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		char *val = strchr(line, ' ');

		line[strcspn(line, "\n")] = 0;
		if (!line[0])
			continue;
		if (!val) {
			ok = false;
			continue;
		}
		*val++ = 0;
		if (!strcmp(line, "stage")) {
			snprintf(e->stage, sizeof(e->stage), "%s", val);
		} else if (!strcmp(line, "code")) {
			e->code = errno_by_name(val);
			ok &= e->code != 0;
		} else if (!strcmp(line, "offset")) {
			e->has_offset = strcmp(val, "none") != 0;
			e->offset = e->has_offset ? strtoull(val, NULL, 0) : UINT64_MAX;
		} else if (!strcmp(line, "text")) {
			snprintf(e->text, sizeof(e->text), "%s", val);
		} else if (!strcmp(line, "records")) {
			e->records = strtol(val, NULL, 10);
		} else if (!strcmp(line, "requires")) {
			e->requires_zstd = !strcmp(val, "zstd");
		} else {
			ok = false;
		}
	}
	fclose(f);
	return ok && e->code && e->text[0] &&
	       (!strcmp(e->stage, "open") || !strcmp(e->stage, "read"));
}

static void *slurp(const char *path, size_t *size)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	long n;

	if (!f)
		return NULL;
	if (!fseek(f, 0, SEEK_END) && (n = ftell(f)) >= 0 && !fseek(f, 0, SEEK_SET)) {
		buf = malloc(n ? (size_t)n : 1);
		if (buf && n && fread(buf, 1, (size_t)n, f) != (size_t)n) {
			free(buf);
			buf = NULL;
		}
		*size = (size_t)n;
	}
	fclose(f);
	return buf;
}

/* What one way of opening gave. */
struct outcome {
	char stage[8];
	long records;
	struct pyperf_error err;
};

static void run(struct pyperf_data *d, struct outcome *o)
{
	const struct pyperf_record *rec;
	int ret;

	snprintf(o->stage, sizeof(o->stage), "read");
	while ((ret = pyperf_data__next(d, &rec, &o->err)) > 0)
		o->records++;
	if (ret == 0) {
		o->err.code = 0; /* read to the end without an error */
	} else {
		/* Errors are sticky: a second call repeats it. */
		struct pyperf_error again;

		memset(&again, 0, sizeof(again));
		CHECK_EQ(pyperf_data__next(d, &rec, &again), ret);
		CHECK_EQ(again.code, o->err.code);
		CHECK_U64(again.offset, o->err.offset);
	}
	pyperf_data__close(d);
}

static void check_outcome(const char *name, const char *how, const char *source,
			  const struct expected *e, const struct outcome *o)
{
	int before = check_failed_now;

	check_failed_now = 0;
	CHECK_STR(o->stage, e->stage);
	CHECK_EQ(o->err.code, -e->code);
	CHECK_U64(o->err.offset, e->offset);
	CHECK_CONTAINS(o->err.text, e->text);
	if (o->err.code)
		CHECK_STR(o->err.source, source);
	if (e->records >= 0)
		CHECK_EQ(o->records, e->records);
	if (check_failed_now) {
		char line[700];

		pyperf_error__format(&o->err, line, sizeof(line));
		fprintf(stderr, "  ^ case %s (%s): got %s after %ld records: %s\n", name, how,
			o->stage, o->records, o->err.code ? line : "(no error)");
	}
	check_failed_now |= before;
}

static void one_case(const char *name)
{
	char dir[PATH_MAX + 300], input[PATH_MAX + 400], exp_path[PATH_MAX + 400];
	struct expected e;
	struct outcome o;
	struct pyperf_data *d;
	size_t size = 0;
	void *buf;

	snprintf(dir, sizeof(dir), "%s/" CASES_DIR "/%s", top, name);
	snprintf(input, sizeof(input), "%s/input", dir);
	snprintf(exp_path, sizeof(exp_path), "%s/expected", dir);
	if (!read_expected(exp_path, &e)) {
		CHECK_FAIL_("case %s: %s is missing or malformed", name, exp_path);
		return;
	}

	/* From the file (mmapped). */
	memset(&o, 0, sizeof(o));
	d = pyperf_data__open(input, NULL, &o.err);
	if (!d) {
		snprintf(o.stage, sizeof(o.stage), "open");
		CHECK_EQ(errno, -o.err.code);
	} else {
		run(d, &o);
	}
	if (e.requires_zstd && o.err.code == -EOPNOTSUPP && strstr(o.err.text, "zstd")) {
		printf("  skip %s: this build reads no compressed records\n", name);
		nr_skipped++;
		return;
	}
	check_outcome(name, "pyperf_data__open", input, &e, &o);

	/* The same bytes from memory, named alike. */
	buf = slurp(input, &size);
	REQUIRE(buf);
	memset(&o, 0, sizeof(o));
	d = pyperf_data__open_mem(buf, size, input, NULL, &o.err);
	if (!d)
		snprintf(o.stage, sizeof(o.stage), "open");
	else
		run(d, &o);
	check_outcome(name, "pyperf_data__open_mem", input, &e, &o);
	free(buf);
	nr_cases++;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

TEST(invalid_cases)
{
	char path[PATH_MAX + 64];
	char *names[512];
	size_t n = 0;
	struct dirent *de;
	DIR *dir;

	REQUIRE(find_top());
	snprintf(path, sizeof(path), "%s/" CASES_DIR, top);
	dir = opendir(path);
	REQUIRE(dir);
	while ((de = readdir(dir)) && n < sizeof(names) / sizeof(names[0])) {
		if (de->d_name[0] == '.')
			continue;
		names[n] = strdup(de->d_name);
		if (names[n])
			n++;
	}
	closedir(dir);
	qsort(names, n, sizeof(names[0]), cmp_names);
	for (size_t i = 0; i < n; i++) {
		one_case(names[i]);
		free(names[i]);
	}
	printf("  %d golden cases checked, %d skipped, in %s\n", nr_cases, nr_skipped, path);
	/* A folder that went missing or empty must not pass. */
	CHECK(nr_cases + nr_skipped >= 20);
}

int main(void)
{
	pyperf_set_print(silent);
	return RUN(CASE(invalid_cases));
}
