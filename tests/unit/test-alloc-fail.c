// SPDX-License-Identifier: MIT
/*
 * Allocation failures are errors, never quiet degradations: the whole
 * report of small recordings (profile, every writer) runs once for
 * reference, then again with allocation N failing, for every N the
 * reference made. Each run must either produce the reference's output
 * byte for byte or fail with -ENOMEM (pyperf-report: "out of memory",
 * exit 2); an exit 0 with other output (a name missing, a stack cut, a
 * frame unresolved) is the silent loss this test exists to catch.
 *
 * ALLOC_FAIL_STRIDE=K tries every K-th allocation only (quicker looks);
 * ALLOC_FAIL_ONLY=N only the N-th (with TEST_ONLY=case, under a debugger).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pyperf/data.h>
#include <pyperf/output.h>
#include <pyperf/profile.h>
#include <pyperf/symbols.h>
#include "check.h"
#include "internal.h"

#ifndef PYPERF_TEST_SHARED
struct run {
	int ret;
	char *out;
	size_t len;
};

/* One whole report of @path: every format, one after the other. */
static struct run report(const char *path, enum pyperf_weight weight)
{
	PYPERF_OPTS(pyperf_symbols_opts, sopts, .buildid_dir = "", .no_kernel = true,
		    .table_cache = "");
	PYPERF_OPTS(pyperf_profile_opts, popts, .weight = weight);
	PYPERF_OPTS(pyperf_report_opts, ropts);
	PYPERF_OPTS(pyperf_report_opts, hopts, .hierarchy = true);
	PYPERF_OPTS(pyperf_collapsed_opts, copts);
	PYPERF_OPTS(pyperf_svg_opts, svgopts);
	PYPERF_OPTS(pyperf_speedscope_opts, ssopts);
	PYPERF_OPTS(pyperf_pprof_opts, ppopts);
	PYPERF_OPTS(pyperf_json_opts, jopts);
	struct run r = {0};
	struct pyperf_symbols *syms;
	struct pyperf_profile *prof = NULL;
	struct pyperf_error err;
	FILE *out = open_memstream(&r.out, &r.len);

	if (!out) {
		r.ret = -ENOMEM;
		return r;
	}
	syms = pyperf_symbols__new(&sopts);
	if (syms)
		prof = pyperf_profile__new(syms, &popts);
	if (!prof) {
		r.ret = -ENOMEM;
		goto out;
	}
	r.ret = pyperf_profile__add_file(prof, path, &err);
	if (r.ret)
		goto out;
	if ((r.ret = pyperf_profile__write_report(prof, out, &ropts)) ||
	    (r.ret = pyperf_profile__write_report(prof, out, &hopts)) ||
	    (r.ret = pyperf_profile__write_collapsed(prof, out, &copts)) ||
	    (r.ret = pyperf_profile__write_svg(prof, out, &svgopts)) ||
	    (r.ret = pyperf_profile__write_speedscope(prof, out, &ssopts)) ||
	    (r.ret = pyperf_profile__write_json(prof, out, &jopts)) ||
	    (r.ret = pyperf_profile__write_pprof(prof, out, &ppopts)))
		goto out;
out:
	pyperf_profile__free(prof);
	pyperf_symbols__free(syms);
	fclose(out);
	return r;
}

static void every_allocation(const char *name, enum pyperf_weight weight)
{
	char path[4096];
	const char *top = getenv("PYPERF_TOP");
	const char *stride_env = getenv("ALLOC_FAIL_STRIDE");
	const char *only_env = getenv("ALLOC_FAIL_ONLY");
	unsigned long stride = stride_env ? strtoul(stride_env, NULL, 10) : 1, total;
	unsigned long first = only_env ? strtoul(only_env, NULL, 10) : 1;
	unsigned long nomem = 0, same = 0;
	struct run ref;

	snprintf(path, sizeof(path), "%s/tests/fuzz/corpus/data/%s", top ? top : ".", name);
	pyperf__fail_alloc_after(ULONG_MAX);
	ref = report(path, weight);
	total = ULONG_MAX - pyperf__alloc_countdown();
	pyperf__fail_alloc_after(0);
	REQUIRE(ref.ret == 0);
	REQUIRE(ref.len > 0);
	if (!stride)
		stride = 1;
	if (only_env)
		total = first;
	for (unsigned long n = first; n <= total; n += stride) {
		struct run r;

		pyperf__fail_alloc_after(n);
		r = report(path, weight);
		pyperf__fail_alloc_after(0);
		if (r.ret == -ENOMEM) {
			nomem++;
		} else if (r.ret == 0 && r.len == ref.len && !memcmp(r.out, ref.out, r.len)) {
			same++;
		} else {
			CHECK_FAIL_(
			    "%s: allocation %lu of %lu failing: returned %d (%s) with %s output",
			    name, n, total, r.ret, r.ret ? strerror(-r.ret) : "ok",
			    r.ret ? "some" : "different");
		}
		free(r.out);
	}
	printf("%s: %lu allocations; failing each: %lu out of memory, %lu unaffected\n", name,
	       total, nomem, same);
	free(ref.out);
}

/* A pyperf-record file: compressed records, a perf map embedded, stacks
 * unwound while recording. */
TEST(pyperf_recording)
{
	every_allocation("pyperf-python312.data", PYPERF_WEIGHT_EVENTS);
}

/* perf record --call-graph dwarf: stacks unwound here, with libdw. */
TEST(dwarf_recording)
{
	every_allocation("dwarf1024.data", PYPERF_WEIGHT_EVENTS);
}

/* Frame-pointer chains of threads and a forked child. */
TEST(threads_recording)
{
	every_allocation("threads-forks.data", PYPERF_WEIGHT_EVENTS);
}

/* sched_switch decoded with libtraceevent, weighed by time off CPU. */
TEST(off_cpu_recording)
{
	every_allocation("sched-raw.data", PYPERF_WEIGHT_WALL);
}
#endif

int main(void)
{
#ifdef PYPERF_TEST_SHARED
	puts("the allocation hook is internal: tested against the static library");
	return 0;
#else
	pyperf_set_print(NULL);
	return RUN(CASE(pyperf_recording), CASE(dwarf_recording), CASE(threads_recording),
		   CASE(off_cpu_recording));
#endif
}
