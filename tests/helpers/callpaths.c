// SPDX-License-Identifier: MIT
/*
 * A workload with known call paths, built with frame pointers so that
 * perf record -g sees whole stacks.
 *
 *   callpaths [-t THREADS] [-f FORKS] [-d DEPTH] [-s] SECONDS
 *
 * main -> run -> {path_a -> work_a, path_b -> middle -> work_b} in a 2:1
 * split of iterations, plus recurse(DEPTH) -> work_c for deep stacks.
 * -t runs the same in extra threads, -f in forked children. -s adds a
 * small branch, path_s -> work_s, every 16th iteration (~1.5% of the
 * time: between perf's 0.5% call-graph limit and a 5% --percent-limit).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile unsigned long sink;
static double seconds = 1.0;
static int depth = 12;

__attribute__((noinline)) static void work_a(void)
{
	for (int i = 0; i < 20000; i++)
		sink += (unsigned long)i * 7;
}

__attribute__((noinline)) static void work_b(void)
{
	for (int i = 0; i < 20000; i++)
		sink ^= (unsigned long)i * 13;
}

__attribute__((noinline)) static void work_c(void)
{
	for (int i = 0; i < 20000; i++)
		sink += (unsigned long)i ^ 5;
}

__attribute__((noinline)) static void path_a(void)
{
	work_a();
}

__attribute__((noinline)) static void middle(void)
{
	work_b();
}

__attribute__((noinline)) static void path_b(void)
{
	middle();
}

__attribute__((noinline)) static void work_s(void)
{
	for (int i = 0; i < 20000; i++)
		sink -= (unsigned long)i * 3;
}

__attribute__((noinline)) static void path_s(void)
{
	work_s();
}

static int small_branch;

__attribute__((noinline)) static void recurse(int n)
{
	if (n <= 0)
		work_c();
	else
		recurse(n - 1);
	sink++;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

__attribute__((noinline)) static void *run(void *arg)
{
	double end = now() + seconds;
	unsigned iter = 0;

	(void)arg;
	while (now() < end) {
		path_a();
		path_a();
		path_b();
		recurse(depth);
		if (small_branch && !(++iter % 16))
			path_s();
	}
	return NULL;
}

int main(int argc, char **argv)
{
	int threads = 0, forks = 0, c;
	pthread_t tids[64];

	while ((c = getopt(argc, argv, "t:f:d:s")) != -1) {
		if (c == 't')
			threads = atoi(optarg);
		else if (c == 'f')
			forks = atoi(optarg);
		else if (c == 'd')
			depth = atoi(optarg);
		else if (c == 's')
			small_branch = 1;
		else
			return 2;
	}
	if (optind < argc)
		seconds = atof(argv[optind]);
	if (threads > 64)
		threads = 64;
	for (int i = 0; i < forks; i++) {
		if (fork() == 0) {
			run(NULL);
			_exit(0);
		}
	}
	for (int i = 0; i < threads; i++)
		pthread_create(&tids[i], NULL, run, NULL);
	run(NULL);
	for (int i = 0; i < threads; i++)
		pthread_join(tids[i], NULL);
	while (wait(NULL) > 0)
		;
	return 0;
}
