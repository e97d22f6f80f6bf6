/* SPDX-License-Identifier: MIT */
/* What the fuzz harnesses share: libFuzzer's entry points and EXPECT. */
#ifndef PYPERF_FUZZ_H
#define PYPERF_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <pyperf/pyperf.h>

int LLVMFuzzerTestOneInput(const uint8_t *buf, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* A broken promise of the API: abort, so that both the fuzzer and the
 * replay report it with the input. */
#define EXPECT(cond)                                                                               \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: expectation failed: %s\n", __FILE__, __LINE__,     \
				#cond);                                                            \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

/* The usual set-up: the library's warnings are noise to a fuzzer. */
#define FUZZ_QUIET_INITIALIZE                                                                      \
	int LLVMFuzzerInitialize(int *argc, char ***argv)                                          \
	{                                                                                          \
		(void)argc;                                                                        \
		(void)argv;                                                                        \
		pyperf_set_print(NULL);                                                            \
		return 0;                                                                          \
	}

#endif
