/* deepstack: a CPU-bound C program whose samples have 10-30 frame deep
 * call chains, for the reporter benchmarks (bench/report.py, bench/record.py).
 *
 *   deepstack [SECONDS=5] [THREADS=2] [CALLS=0]
 *
 * With CALLS > 0 each thread makes that many top-level calls and the program
 * ends when they are done (a fixed amount of work, for overhead figures);
 * otherwise the threads run for SECONDS.
 *
 * Each thread repeatedly picks one of 64 fixed paths through 8 mutually
 * recursive functions and a depth, so the recording has a few thousand
 * distinct call chains over a dozen symbols, like a real program (rather
 * than a unique stack per sample).
 * Build with -O2 -fno-omit-frame-pointer; the functions are noinline and do
 * work after the call, so neither inlining nor tail calls flatten the stack.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define NFUNCS 8

#define NPATHS 64
#define MAXDEPTH 32

typedef uint64_t (*step_fn)(const uint8_t *path, uint64_t seed, int depth);
static uint8_t paths[NPATHS][MAXDEPTH];
static step_fn funcs[NFUNCS];
static volatile int stop;
static long calls;

/* The leaf burns a little CPU so most samples land at full depth. */
static __attribute__((noinline)) uint64_t leaf(uint64_t x)
{
	for (int i = 0; i < 2000; i++)
		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
	return x;
}

#define STEP(n)                                                                                    \
	static __attribute__((noinline))                                                           \
	uint64_t step##n(const uint8_t *path, uint64_t seed, int depth)                            \
	{                                                                                          \
		uint64_t r;                                                                        \
		if (depth <= 0)                                                                    \
			return leaf(seed + n);                                                     \
		seed = seed * 2862933555777941757ULL + 3037000493ULL;                              \
		r = funcs[path[depth - 1]](path, seed, depth - 1);                                 \
		asm volatile("" : "+r"(r));                                                        \
		return r ^ (uint64_t)n;                                                            \
	}
STEP(0)
STEP(1)
STEP(2)
STEP(3)
STEP(4)
STEP(5)
STEP(6)
STEP(7)

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void *worker(void *arg)
{
	uint64_t seed = (uintptr_t)arg * 0x9E3779B97F4A7C15ULL + 1, sum = 0;
	for (long i = 0; !stop && (calls <= 0 || i < calls); i++) {
		/* Depth of the recursion: 8..27, plus main/worker/start frames. */
		int depth = 8 + (int)((seed >> 40) % 20);
		const uint8_t *path = paths[(seed >> 20) % NPATHS];
		sum += funcs[path[depth]](path, seed, depth);
		seed = seed * 6364136223846793005ULL + 1;
	}
	return (void *)(uintptr_t)sum;
}

int main(int argc, char **argv)
{
	double seconds = argc > 1 ? atof(argv[1]) : 5.0;
	int nthreads = argc > 2 ? atoi(argv[2]) : 2;
	calls = argc > 3 ? atol(argv[3]) : 0;
	pthread_t tids[64];
	uint64_t total = 0;
	double t0 = now();

	funcs[0] = step0, funcs[1] = step1, funcs[2] = step2, funcs[3] = step3;
	funcs[4] = step4, funcs[5] = step5, funcs[6] = step6, funcs[7] = step7;
	srand(42);
	for (int p = 0; p < NPATHS; p++)
		for (int d = 0; d < MAXDEPTH; d++)
			paths[p][d] = rand() % NFUNCS;
	if (nthreads < 1 || nthreads > 64)
		nthreads = 2;
	for (int i = 0; i < nthreads; i++)
		pthread_create(&tids[i], NULL, worker, (void *)(uintptr_t)(i + 1));
	while (calls <= 0 && now() - t0 < seconds) {
		struct timespec ts = {0, 10 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	if (calls <= 0)
		stop = 1;
	for (int i = 0; i < nthreads; i++) {
		void *r;
		pthread_join(tids[i], &r);
		total += (uintptr_t)r;
	}
	fprintf(stderr, "deepstack: seconds=%.3f threads=%d sum=%llu\n", now() - t0, nthreads,
		(unsigned long long)total);
	return 0;
}
