// SPDX-License-Identifier: MIT
/*
 * Fuzzes the perf-script folder (pyperf-report --input-format perf-script,
 * stackcollapse-perf.pl's model): the bytes are read as `perf script`
 * text and folded, with each option set the tool offers, into memory.
 *
 * Besides crashes, leaks and sanitizer reports (an event name holding a
 * NUL byte was read past its copy), the harness aborts when a promise of
 * output.h breaks: every output line is "STACK COUNT", the result is the same on a second run, and
 * an error names the input.
 *
 * Built with libFuzzer (build/fuzz/fuzz-script) and with
 * tests/fuzz/replay.c (build/{out,san}/tests/fuzz-script-replay), which
 * replays tests/fuzz/corpus/script in `make test`.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "fuzz.h"
#include <pyperf/output.h>

FUZZ_QUIET_INITIALIZE

/* One fold of the input; the output in *@out (malloc'ed). */
static int fold(const uint8_t *buf, size_t size, const struct pyperf_perf_script_opts *o,
		char **out, size_t *out_len)
{
	struct pyperf_error err;
	FILE *in, *f;
	int ret;

	/* fmemopen refuses a zero-sized buffer: an empty input is "" */
	in = fmemopen(size ? (void *)buf : (void *)"", size, "r");
	f = open_memstream(out, out_len);
	EXPECT(in && f);
	memset(&err, 0, sizeof(err));
	ret = pyperf_perf_script__collapse(in, "fuzz.txt", f, o, &err);
	fclose(in);
	fclose(f);
	EXPECT(ret == 0 || ret == -EBADMSG || ret == -ENOMEM);
	if (ret) {
		EXPECT(err.code == ret);
		EXPECT(!strcmp(err.source, "fuzz.txt"));
		EXPECT(memchr(err.text, 0, sizeof(err.text)) && err.text[0]);
	}
	return ret;
}

/* Every line: a stack, a space, a count (0 when the periods were "00"). */
static void check_lines(const char *s, size_t n)
{
	const char *end = s + n;

	EXPECT(!n || s[n - 1] == '\n');
	while (s < end) {
		const char *nl = memchr(s, '\n', (size_t)(end - s)), *sp = nl;

		EXPECT(nl);
		while (sp > s && sp[-1] >= '0' && sp[-1] <= '9')
			sp--;
		EXPECT(sp < nl && sp > s && sp[-1] == ' ');
		s = nl + 1;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *buf, size_t size)
{
	struct pyperf_perf_script_opts sets[4];
	char *a = NULL, *b = NULL;
	size_t na = 0, nb = 0;

	memset(sets, 0, sizeof(sets));
	for (int i = 0; i < 4; i++)
		sets[i].sz = sizeof(sets[i]);
	sets[1].annotate_kernel = sets[1].annotate_jit = true;
	sets[2].addrs = sets[2].pid = true;
	sets[3].tid = sets[3].count_samples = true;
	for (int i = 0; i < 4; i++) {
		int r1 = fold(buf, size, &sets[i], &a, &na);
		int r2 = fold(buf, size, &sets[i], &b, &nb);

		EXPECT(r1 == r2);
		EXPECT(na == nb && !memcmp(a, b, na));
		check_lines(a, na);
		free(a);
		free(b);
		a = b = NULL;
	}
	return 0;
}
