// SPDX-License-Identifier: MIT
/*
 * A stand-in for a JIT: generated code in an anonymous executable mapping,
 * named by nobody (the test writes the perf map it wants, hostile ones
 * included). Prints the mapping's address and the offset of each
 * function, then runs them in turn.
 *
 *   jitcode FUNCS SPACING SECONDS
 *
 * Each function is "mov $N,%ecx; 1: dec %ecx; jnz 1b; ret" (10 bytes),
 * placed every SPACING bytes: samples land on its dec and jnz.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

static const unsigned char code[] = {0xb9, 0x00, 0x10, 0x00, 0x00, /* mov $4096,%ecx */
				     0xff, 0xc9,		   /* dec %ecx */
				     0x75, 0xfc,		   /* jnz .-2 */
				     0xc3};			   /* ret */

int main(int argc, char **argv)
{
	int funcs = argc > 1 ? atoi(argv[1]) : 16;
	size_t spacing = argc > 2 ? strtoul(argv[2], NULL, 0) : 256;
	double seconds = argc > 3 ? atof(argv[3]) : 0.5;
	size_t size = (size_t)funcs * spacing;
	unsigned char *region;
	struct timespec t0, t;

	if (funcs < 1 || spacing < sizeof(code))
		return 2;
	region = mmap(NULL, size, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS,
		      -1, 0);
	if (region == MAP_FAILED)
		return 1;
	for (int i = 0; i < funcs; i++)
		memcpy(region + (size_t)i * spacing, code, sizeof(code));
	printf("%p %zu %zu\n", (void *)region, size, spacing);
	fflush(stdout);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		for (int i = 0; i < funcs; i++)
			((void (*)(void))(region + (size_t)i * spacing))();
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while ((double)(t.tv_sec - t0.tv_sec) + (t.tv_nsec - t0.tv_nsec) / 1e9 < seconds);
	return 0;
}
