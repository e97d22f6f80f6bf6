// SPDX-License-Identifier: MIT
/*
 * The perf-map writer and parser (pyperf/map.h): files planted by someone
 * else are never written through, concurrent appends never interleave,
 * forked children get their own map, write errors are reported, and
 * malformed lines are skipped and counted.
 *
 * Every test writes into its own folder under /tmp (opts.dir), so the
 * process's real /tmp/perf-PID.map is never touched.
 */

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <pyperf/map.h>
#include "check.h"

#define NOBODY 65534

static char dir[64];

static void make_dir(void)
{
	strcpy(dir, "/tmp/pyperf-map-test-XXXXXX");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		exit(2);
	}
}

static void remove_dir(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
}

static void map_path(char *buf, size_t size, pid_t pid)
{
	snprintf(buf, size, "%s/perf-%d.map", dir, (int)pid);
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t cap = 0, n = 0, got;

	if (!f)
		return NULL;
	do {
		if (n + 4096 > cap) {
			cap = cap ? 2 * cap : 65536;
			buf = realloc(buf, cap + 1);
			if (!buf)
				abort();
		}
		got = fread(buf + n, 1, cap - n, f);
		n += got;
	} while (got);
	fclose(f);
	buf[n] = 0;
	if (len)
		*len = n;
	return buf;
}

static struct pyperf_map_writer *open_writer(bool reemit, struct pyperf_error *err)
{
	PYPERF_OPTS(pyperf_map_writer_opts, opts, .dir = dir, .reemit_on_fork = reemit);

	return pyperf_map_writer__open(&opts, err);
}

TEST(creates_private_map_and_writes_entries)
{
	struct pyperf_error err = {0};
	struct pyperf_map_writer *w;
	char path[128], *text;
	struct stat st;
	mode_t old = umask(0);

	map_path(path, sizeof(path), getpid());
	w = open_writer(false, &err);
	umask(old);
	REQUIRE(w);
	CHECK_STR(pyperf_map_writer__path(w), path);
	CHECK_EQ(pyperf_map_writer__add(w, 0x7f0000001000, 0x10, "py::main:app.py"), 0);
	CHECK_EQ(pyperf_map_writer__add(w, 0x20, 0x8, "two\nlines\r"), 0);
	CHECK_EQ(pyperf_map_writer__flush(w), 0);
	CHECK_EQ(pyperf_map_writer__entries(w), 2);
	CHECK_EQ(pyperf_map_writer__close(w), 0);
	REQUIRE(stat(path, &st) == 0);
	/* 0600 even with umask 0: only the user who profiles reads it */
	CHECK_EQ(st.st_mode & 07777, 0600);
	text = slurp(path, NULL);
	CHECK_STR(text, "7f0000001000 10 py::main:app.py\n20 8 two lines \n");
	free(text);
	unlink(path);
}

TEST(appends_to_own_existing_map_and_truncates_on_request)
{
	PYPERF_OPTS(pyperf_map_writer_opts, opts, .dir = dir, .truncate = true, .mode = 0640);
	struct pyperf_map_writer *w;
	char path[128], *text;
	struct stat st;
	FILE *f;

	map_path(path, sizeof(path), getpid());
	f = fopen(path, "w");
	REQUIRE(f);
	fputs("1000 10 from_another_generator\n", f);
	fclose(f);
	w = open_writer(false, NULL);
	REQUIRE(w);
	CHECK_EQ(pyperf_map_writer__add(w, 0x2000, 0x10, "ours"), 0);
	pyperf_map_writer__close(w);
	text = slurp(path, NULL);
	CHECK_STR(text, "1000 10 from_another_generator\n2000 10 ours\n");
	free(text);

	w = pyperf_map_writer__open(&opts, NULL);
	REQUIRE(w);
	CHECK_EQ(pyperf_map_writer__add(w, 0x3000, 0x10, "fresh"), 0);
	pyperf_map_writer__close(w);
	text = slurp(path, NULL);
	CHECK_STR(text, "3000 10 fresh\n");
	free(text);
	unlink(path);

	umask(0);
	w = pyperf_map_writer__open(&opts, NULL);
	umask(022);
	REQUIRE(w);
	pyperf_map_writer__close(w);
	CHECK(stat(path, &st) == 0 && (st.st_mode & 07777) == 0640);
	unlink(path);
}

TEST(map_of_a_dead_process_with_our_pid_is_emptied)
{
	struct timespec old[2] = {{.tv_sec = time(NULL) - 3600}, {.tv_sec = time(NULL) - 3600}};
	struct pyperf_map_writer *w;
	char path[128], *text;
	FILE *f;

	map_path(path, sizeof(path), getpid());
	f = fopen(path, "w");
	REQUIRE(f);
	fputs("1000 10 py::from_a_dead_process:old.py\n", f);
	fclose(f);
	/* last written an hour ago: before this process started */
	REQUIRE(utimensat(AT_FDCWD, path, old, 0) == 0);
	w = open_writer(false, NULL);
	REQUIRE(w);
	CHECK_EQ(pyperf_map_writer__add(w, 0x2000, 0x10, "ours"), 0);
	pyperf_map_writer__close(w);
	text = slurp(path, NULL);
	CHECK_STR(text, "2000 10 ours\n");
	free(text);
	unlink(path);
}

TEST(planted_symlink_is_not_followed)
{
	struct pyperf_error err = {0};
	char path[128], target[128], *text;

	map_path(path, sizeof(path), getpid());
	snprintf(target, sizeof(target), "%s/precious", dir);
	FILE *f = fopen(target, "w");
	REQUIRE(f);
	fputs("precious\n", f);
	fclose(f);
	REQUIRE(symlink(target, path) == 0);
	errno = 0;
	CHECK(open_writer(false, &err) == NULL);
	CHECK_EQ(errno, EPERM);
	CHECK_EQ(err.code, -EPERM);
	CHECK_STR(err.source, path);
	CHECK_CONTAINS(err.text, "symbolic link");
	text = slurp(target, NULL);
	CHECK_STR(text, "precious\n");
	free(text);

	/* a dangling symlink must not create its target either */
	unlink(target);
	CHECK(open_writer(false, &err) == NULL);
	CHECK(access(target, F_OK) != 0);
	unlink(path);
}

TEST(file_of_another_user_is_refused)
{
	struct pyperf_error err = {0};
	char path[128];
	int fd;

	if (geteuid() != 0) {
		printf("skipped: needs root to give a file away\n");
		return;
	}
	map_path(path, sizeof(path), getpid());
	fd = open(path, O_WRONLY | O_CREAT, 0666);
	REQUIRE(fd >= 0);
	close(fd);
	REQUIRE(chown(path, NOBODY, NOBODY) == 0);
	CHECK(open_writer(false, &err) == NULL);
	CHECK_EQ(err.code, -EPERM);
	CHECK_CONTAINS(err.text, "another user");
	struct stat st;
	CHECK(stat(path, &st) == 0 && st.st_size == 0);
	unlink(path);
}

TEST(hard_link_and_fifo_are_refused)
{
	struct pyperf_error err = {0};
	char path[128], other[128];
	int fd;

	map_path(path, sizeof(path), getpid());
	snprintf(other, sizeof(other), "%s/elsewhere", dir);
	fd = open(other, O_WRONLY | O_CREAT, 0600);
	REQUIRE(fd >= 0);
	close(fd);
	REQUIRE(link(other, path) == 0);
	CHECK(open_writer(false, &err) == NULL);
	CHECK_EQ(err.code, -EPERM);
	CHECK_CONTAINS(err.text, "hard links");
	unlink(path);
	unlink(other);

	/* a fifo nobody reads: refused at once rather than hanging */
	REQUIRE(mkfifo(path, 0600) == 0);
	alarm(10);
	CHECK(open_writer(false, &err) == NULL);
	CHECK_EQ(err.code, -EPERM);
	CHECK_CONTAINS(err.text, "fifo");
	CHECK(pyperf_map_table__load(path, NULL, &err) == NULL);
	CHECK_CONTAINS(err.text, "not a regular file");
	/* another owner's: the uid was glued to the text ("not read1001") */
	if (geteuid() == 0 && chown(path, 1001, 1001) == 0) {
		CHECK(pyperf_map_table__load(path, NULL, &err) == NULL);
		CHECK(err.text[0] && !strchr("0123456789", err.text[strlen(err.text) - 1]));
	}
	alarm(0);
	unlink(path);
	/* a device someone put there (root can): refused, the text whole */
	if (geteuid() == 0 && mknod(path, S_IFCHR | 0666, makedev(1, 3)) == 0) {
		if (chown(path, 1001, 1001) == 0) {
			CHECK(open_writer(false, &err) == NULL);
			CHECK_CONTAINS(err.text, "not a regular file; not written");
			CHECK(!strstr(err.text, "written1001"));
		}
		unlink(path);
	}
}

TEST(missing_or_unwritable_folder_gives_clear_error)
{
	PYPERF_OPTS(pyperf_map_writer_opts, opts, .dir = "/nonexistent/pyperf");
	struct pyperf_error err = {0};
	pid_t pid;
	int status;

	CHECK(pyperf_map_writer__open(&opts, &err) == NULL);
	CHECK_EQ(err.code, -ENOENT);
	CHECK_CONTAINS(err.source, "/nonexistent/pyperf/perf-");
	CHECK_CONTAINS(err.text, "cannot create");

	/* root writes anywhere: test a read-only folder as nobody */
	REQUIRE(chmod(dir, 0755) == 0);
	pid = fork();
	REQUIRE(pid >= 0);
	if (pid == 0) {
		if (geteuid() == 0 && (setgid(NOBODY) || setuid(NOBODY)))
			_exit(3);
		struct pyperf_map_writer *w = open_writer(false, &err);

		_exit(w == NULL && err.code == -EACCES && strstr(err.text, "cannot create") &&
			      strstr(err.source, dir)
			  ? 0
			  : 1);
	}
	REQUIRE(waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status));
	CHECK_EQ(WEXITSTATUS(status), 0);
	chmod(dir, 0700);
}

#define THREADS 16
#define PER_THREAD 2000

struct appender {
	struct pyperf_map_writer *w;
	int id;
	int failures;
};

/* Names of many lengths, some longer than a pipe buffer's atomic size and
 * than the writer's stack buffer, all recognisable from their address. */
static size_t name_for(int id, int i, char *buf, size_t size)
{
	size_t len = 8 + (size_t)((id * 7919 + i * 104729) % 5000);

	if (len >= size)
		len = size - 1;
	int n = snprintf(buf, size, "t%d_i%d_", id, i);

	for (size_t k = (size_t)n; k < len; k++)
		buf[k] = (char)('a' + (id + i + (int)k) % 26);
	buf[len] = 0;
	return len;
}

static void *append_entries(void *arg)
{
	struct appender *a = arg;
	char name[6000];

	for (int i = 0; i < PER_THREAD; i++) {
		name_for(a->id, i, name, sizeof(name));
		if (pyperf_map_writer__add(a->w, ((uint64_t)a->id << 32) | ((uint64_t)i << 4), 16,
					   name))
			a->failures++;
	}
	return NULL;
}

TEST(concurrent_appends_never_interleave)
{
	struct appender a[THREADS];
	pthread_t t[THREADS];
	struct pyperf_map_table *table;
	struct pyperf_error err = {0};
	struct pyperf_map_writer *w;
	char path[128], name[6000];
	int failures = 0, wrong = 0;

	map_path(path, sizeof(path), getpid());
	w = open_writer(false, &err);
	REQUIRE(w);
	for (int k = 0; k < THREADS; k++) {
		a[k] = (struct appender){.w = w, .id = k};
		REQUIRE(pthread_create(&t[k], NULL, append_entries, &a[k]) == 0);
	}
	for (int k = 0; k < THREADS; k++) {
		pthread_join(t[k], NULL);
		failures += a[k].failures;
	}
	CHECK_EQ(failures, 0);
	CHECK_EQ(pyperf_map_writer__entries(w), THREADS * PER_THREAD);
	CHECK_EQ(pyperf_map_writer__close(w), 0);

	table = pyperf_map_table__load(path, NULL, &err);
	REQUIRE(table);
	CHECK_EQ(pyperf_map_table__bad_lines(table), 0);
	CHECK_EQ(pyperf_map_table__size(table), THREADS * PER_THREAD);
	for (int k = 0; k < THREADS; k++) {
		for (int i = 0; i < PER_THREAD; i++) {
			uint64_t addr = ((uint64_t)k << 32) | ((uint64_t)i << 4);
			const struct pyperf_symbol *s = pyperf_map_table__find(table, addr + 15);

			name_for(k, i, name, sizeof(name));
			if (!s || s->start != addr || s->end != addr + 16 || strcmp(s->name, name))
				wrong++;
		}
	}
	CHECK_EQ(wrong, 0);
	pyperf_map_table__free(table);
	unlink(path);
}

/* In a child: add one entry, then report through the exit status whether
 * the writer moved to the child's own map. */
static void fork_and_add(bool reemit, bool explicit_switch)
{
	struct pyperf_map_writer *w;
	char parent_path[128], child_path[128], *text;
	pid_t pid;
	int status;

	map_path(parent_path, sizeof(parent_path), getpid());
	w = open_writer(reemit, NULL);
	REQUIRE(w);
	CHECK_EQ(pyperf_map_writer__add(w, 0x1000, 0x10, "py::inherited:a.py"), 0);
	pid = fork();
	REQUIRE(pid >= 0);
	if (pid == 0) {
		struct pyperf_error err = {0};

		if (explicit_switch && pyperf_map_writer__after_fork(w, &err))
			_exit(2);
		if (pyperf_map_writer__add(w, 0x2000, 0x10, "py::child_only:a.py"))
			_exit(3);
		map_path(child_path, sizeof(child_path), getpid());
		_exit(strcmp(pyperf_map_writer__path(w), child_path) ? 4 : 0);
	}
	REQUIRE(waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status));
	CHECK_EQ(WEXITSTATUS(status), 0);
	/* the parent goes on writing its own map */
	CHECK_EQ(pyperf_map_writer__add(w, 0x3000, 0x10, "py::parent_later:a.py"), 0);
	pyperf_map_writer__close(w);

	text = slurp(parent_path, NULL);
	CHECK_STR(text, "1000 10 py::inherited:a.py\n3000 10 py::parent_later:a.py\n");
	free(text);
	map_path(child_path, sizeof(child_path), pid);
	text = slurp(child_path, NULL);
	CHECK_STR(text, reemit ? "1000 10 py::inherited:a.py\n2000 10 py::child_only:a.py\n"
			       : "2000 10 py::child_only:a.py\n");
	free(text);
	unlink(parent_path);
	unlink(child_path);
}

TEST(forked_child_writes_its_own_map_reemitting)
{
	fork_and_add(true, false);
	fork_and_add(true, true);
}

TEST(forked_child_writes_its_own_map_without_reemit)
{
	fork_and_add(false, false);
	fork_and_add(false, true);
}

TEST(write_errors_are_returned_and_kept_for_close)
{
	char path[128];
	pid_t pid;
	int status;

	pid = fork();
	REQUIRE(pid >= 0);
	if (pid == 0) {
		struct rlimit lim = {.rlim_cur = 100, .rlim_max = 100};
		struct pyperf_map_writer *w;
		int ret = 0, i;

		signal(SIGXFSZ, SIG_IGN);
		w = open_writer(false, NULL);
		if (!w || setrlimit(RLIMIT_FSIZE, &lim))
			_exit(2);
		for (i = 0; i < 100 && !ret; i++)
			ret = pyperf_map_writer__add(w, 0x1000 + 16 * (uint64_t)i, 16,
						     "py::a_function_name:file.py");
		if (ret != -EFBIG || pyperf_map_writer__entries(w) != (uint64_t)(i - 1))
			_exit(3);
		_exit(pyperf_map_writer__close(w) == -EFBIG ? 0 : 4);
	}
	REQUIRE(waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status));
	CHECK_EQ(WEXITSTATUS(status), 0);
	map_path(path, sizeof(path), pid);
	unlink(path);
}

TEST(malformed_lines_are_skipped_and_counted)
{
	static const char text[] = "1000 10 good_one\n"
				   "zz 10 not_hex\n"
				   "2000 20\n"		  /* no name */
				   "\n"			  /* empty: skipped, not counted */
				   "3000\n"		  /* one field */
				   "   \n"		  /* blanks */
				   "0x4000 10 prefixed\n" /* perf reads 0x too */
				   "5000 10 name with spaces\n"
				   "1000 10 written_later\n" /* same start: see below */
				   "6000 10 no_final_newline";
	struct pyperf_map_table *t = pyperf_map_table__parse(text, sizeof(text) - 1);
	const struct pyperf_symbol *s;

	REQUIRE(t);
	CHECK_EQ(pyperf_map_table__bad_lines(t), 4);
	/* perf's tree of these five entries (insertion in line order, equal
	 * starts going right) has 0x4000 at the root and good_one as its left
	 * child, met before written_later: perf names 0x100f good_one */
	s = pyperf_map_table__find(t, 0x100f);
	CHECK(s && !strcmp(s->name, "good_one"));
	CHECK_EQ(pyperf_map_table__size(t), 5);
	CHECK(pyperf_map_table__find(t, 0x1010) == NULL);
	s = pyperf_map_table__find(t, 0x5005);
	CHECK(s && !strcmp(s->name, "name with spaces"));
	s = pyperf_map_table__find(t, 0x6000);
	CHECK(s && !strcmp(s->name, "no_final_newline"));
	s = pyperf_map_table__find(t, 0x4000);
	CHECK(s && !strcmp(s->name, "prefixed"));
	for (size_t i = 1; i < pyperf_map_table__size(t); i++)
		CHECK(pyperf_map_table__entry(t, i - 1)->start <=
		      pyperf_map_table__entry(t, i)->start);
	pyperf_map_table__free(t);

	t = pyperf_map_table__parse("", 0);
	REQUIRE(t);
	CHECK_EQ(pyperf_map_table__size(t), 0);
	CHECK(pyperf_map_table__find(t, 0) == NULL);
	pyperf_map_table__free(t);
}

int main(void)
{
	int ret;

	make_dir();
	ret = RUN(CASE(creates_private_map_and_writes_entries),
		  CASE(appends_to_own_existing_map_and_truncates_on_request),
		  CASE(map_of_a_dead_process_with_our_pid_is_emptied),
		  CASE(planted_symlink_is_not_followed), CASE(file_of_another_user_is_refused),
		  CASE(hard_link_and_fifo_are_refused),
		  CASE(missing_or_unwritable_folder_gives_clear_error),
		  CASE(concurrent_appends_never_interleave),
		  CASE(forked_child_writes_its_own_map_reemitting),
		  CASE(forked_child_writes_its_own_map_without_reemit),
		  CASE(write_errors_are_returned_and_kept_for_close),
		  CASE(malformed_lines_are_skipped_and_counted));
	remove_dir();
	return ret;
}
