// SPDX-License-Identifier: MIT
/*
 * A main() for the fuzz harnesses without libFuzzer (after jansson's
 * test/ossfuzz/standaloneengine.cc): runs LLVMFuzzerTestOneInput once on
 * every regular file under the files and folders given, folders walked
 * recursively in name order, so that `make test` replays the corpus with
 * gcc and under ASan/UBSan.
 *
 *   fuzz-NAME-replay [-q] PATH...
 *
 * Each input is read into a buffer of exactly its size, so that a read
 * past the end shows under ASan. The name of each input is printed before
 * it runs (not with -q), so that the last name in the log is the input a
 * crash came from: a crash kills the replay, and the test runner reports
 * the status and the sanitizer's report. With -q the input is named only
 * when ASan or a signal ends the process.
 *
 * Exit status: 0 when every input ran; 1 when a path cannot be read or a
 * folder holds no input at all (a corpus that went missing must not pass
 * silently).
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *buf, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));
/* Present when linked with a sanitizer runtime. */
void __sanitizer_set_death_callback(void (*callback)(void)) __attribute__((weak));

static int verbose;
static char current[4096];

/* Names the input being run when the replay dies. */
static void say_current(void)
{
	static const char msg[] = "replay: died on input ";
	ssize_t r;

	if (!current[0])
		return;
	r = write(STDERR_FILENO, msg, sizeof(msg) - 1);
	r = write(STDERR_FILENO, current, strlen(current));
	r = write(STDERR_FILENO, "\n", 1);
	(void)r;
}

static void on_fatal(int sig)
{
	say_current();
	signal(sig, SIG_DFL);
	raise(sig);
}

static int run_file(const char *path, size_t *count)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	long size;

	if (!f) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (fseek(f, 0, SEEK_END) || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET)) {
		fprintf(stderr, "replay: %s: cannot seek: %s\n", path, strerror(errno));
		fclose(f);
		return -1;
	}
	/* Exactly the input's size (malloc(0) may return NULL: ask for 1). */
	buf = malloc(size ? (size_t)size : 1);
	if (!buf) {
		fprintf(stderr, "replay: %s: out of memory\n", path);
		fclose(f);
		return -1;
	}
	if (size && fread(buf, 1, (size_t)size, f) != (size_t)size) {
		fprintf(stderr, "replay: %s: read failed\n", path);
		free(buf);
		fclose(f);
		return -1;
	}
	fclose(f);
	snprintf(current, sizeof(current), "%s", path);
	if (verbose) {
		printf("  %s (%ld bytes)\n", path, size);
		fflush(stdout);
	}
	LLVMFuzzerTestOneInput(buf, (size_t)size);
	current[0] = 0; /* leaks show at exit and belong to no one input */
	free(buf);
	(*count)++;
	return 0;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int run_path(const char *path, size_t *count)
{
	struct stat st;
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, cap = 0;
	int ret = 0;
	DIR *dir;

	if (stat(path, &st)) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (S_ISREG(st.st_mode))
		return run_file(path, count);
	if (!S_ISDIR(st.st_mode))
		return 0; /* sockets, fifos...: not inputs */
	dir = opendir(path);
	if (!dir) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	while ((de = readdir(dir))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (n == cap) {
			char **nn = realloc(names, (cap = cap ? cap * 2 : 64) * sizeof(*names));

			if (!nn) {
				ret = -1;
				break;
			}
			names = nn;
		}
		if (asprintf(&names[n], "%s/%s", path, de->d_name) < 0) {
			ret = -1;
			break;
		}
		n++;
	}
	closedir(dir);
	if (names)
		qsort(names, n, sizeof(*names), cmp_names);
	for (size_t i = 0; i < n; i++) {
		if (!ret && run_path(names[i], count))
			ret = -1;
		free(names[i]);
	}
	free(names);
	return ret;
}

int main(int argc, char **argv)
{
	int status = 0, first = 1;

	verbose = 1;
	if (argc > 1 && !strcmp(argv[1], "-q")) {
		verbose = 0;
		first = 2;
	}
	if (first >= argc) {
		fprintf(stderr, "usage: %s [-q] FILE_OR_DIR...\n", argv[0]);
		return 1;
	}
	if (LLVMFuzzerInitialize)
		LLVMFuzzerInitialize(&argc, &argv);
	/* Under a sanitizer, its own handlers report faults (and then call
	 * the death callback); without, a signal handler names the input. */
	if (__sanitizer_set_death_callback) {
		__sanitizer_set_death_callback(say_current);
	} else {
		signal(SIGSEGV, on_fatal);
		signal(SIGBUS, on_fatal);
		signal(SIGFPE, on_fatal);
		signal(SIGILL, on_fatal);
	}
	signal(SIGABRT, on_fatal); /* the harnesses' own checks */
	for (int i = first; i < argc; i++) {
		size_t count = 0;

		if (run_path(argv[i], &count)) {
			status = 1;
			continue;
		}
		printf("replayed %zu inputs from %s\n", count, argv[i]);
		fflush(stdout);
		if (!count) {
			fprintf(stderr, "replay: %s holds no input\n", argv[i]);
			status = 1;
		}
	}
	return status;
}
