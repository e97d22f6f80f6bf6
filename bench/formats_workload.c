// SPDX-License-Identifier: MIT
/*
 * The workload of bench/formats.py: threads that spend their CPU time at
 * the end of call chains 10 to 30 frames deep, built from 16 functions in
 * orders drawn from a few thousand seeds, so that a recording holds some
 * thousands of distinct stacks, as a real program's does. Built with frame
 * pointers (-fno-omit-frame-pointer -fno-inline) so perf record -g walks
 * them.
 *
 * usage: formats_workload THREADS CPU_SECONDS
 * Stops when the process has used CPU_SECONDS of CPU time in all.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define NOINLINE __attribute__((noinline))

typedef unsigned long (*step_fn)(int depth, unsigned long s);
static step_fn table[16];
static double cpu_budget;
static volatile int stop;

static NOINLINE unsigned long leaf(unsigned long s)
{
	/* the work: a few microseconds of arithmetic */
	for (int i = 0; i < 2000; i++)
		s = s * 2862933555777941757ULL + 3037000493ULL;
	return s;
}

#define STEP(n)                                                                                    \
	static NOINLINE unsigned long f##n(int depth, unsigned long s)                             \
	{                                                                                          \
		if (depth <= 0)                                                                    \
			return leaf(s);                                                            \
		s = s * 6364136223846793005ULL + 1442695040888963407ULL;                           \
		return table[(s >> 60) & 15](depth - 1, s) + 1;                                    \
	}
STEP(0)
STEP(1)
STEP(2)
STEP(3)
STEP(4)
STEP(5)
STEP(6)
STEP(7)
STEP(8)
STEP(9)
STEP(10)
STEP(11)
STEP(12)
STEP(13)
STEP(14)
STEP(15)

static double cpu_seconds(void)
{
	struct timespec t;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void *worker(void *arg)
{
	unsigned long r = (unsigned long)arg * 7919 + 1, sink = 0;

	while (!stop) {
		for (int i = 0; i < 200; i++) {
			/* one of 2000 seeds: its chain and its depth (10-30) */
			unsigned long seed;

			r = r * 6364136223846793005ULL + 1;
			seed = (r >> 33) % 2000;
			sink += f0(10 + (int)(seed % 21) - 1, seed * 0x9e3779b97f4a7c15ULL);
		}
		if (cpu_seconds() >= cpu_budget)
			stop = 1;
	}
	return (void *)sink;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 2;
	pthread_t th[64];

	cpu_budget = argc > 2 ? atof(argv[2]) : 25.0;
	step_fn fs[16] = {f0, f1, f2, f3, f4, f5, f6, f7, f8, f9, f10, f11, f12, f13, f14, f15};
	for (int i = 0; i < 16; i++)
		table[i] = fs[i];
	if (n < 1 || n > 64)
		n = 2;
	for (int i = 0; i < n; i++)
		pthread_create(&th[i], NULL, worker, (void *)(long)i);
	for (int i = 0; i < n; i++)
		pthread_join(th[i], NULL);
	return 0;
}
