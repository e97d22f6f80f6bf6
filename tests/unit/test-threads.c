// SPDX-License-Identifier: MIT
/*
 * pyperf.h's threading rule: different objects may be used from different
 * threads at once. Two threads each build their own profiles from the
 * corpus recordings (reading, unwinding stack copies, symbols, off-CPU
 * switches) and write every format; what each writes must equal what one
 * thread alone wrote. Built with -fsanitize=thread too (make test builds
 * build/tsan/tests/test-threads), where any state two objects share
 * without a lock (a file-scope qsort context, a static buffer) is a
 * reported race.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <pyperf/output.h>
#include <pyperf/profile.h>
#include "check.h"

#define ROUNDS 3

static char corpus[PATH_MAX];

static bool find_corpus(void)
{
	const char *env = getenv("PYPERF_TOP");
	const char *rel = "tests/fuzz/corpus/data";
	char buf[PATH_MAX];

	if (env) {
		snprintf(corpus, sizeof(corpus), "%s/%s", env, rel);
		if (!access(corpus, R_OK))
			return true;
	}
	snprintf(buf, sizeof(buf), "%s", __FILE__);
	*strrchr(buf, '/') = 0;
	snprintf(corpus, sizeof(corpus), "%s/../fuzz/corpus/data", buf);
	if (!access(corpus, R_OK))
		return true;
	snprintf(corpus, sizeof(corpus), "%s", rel);
	return !access(corpus, R_OK);
}

/* Recordings and the profile each is read into. */
static const struct job {
	const char *file;
	enum pyperf_view view;
	enum pyperf_weight weight;
} jobs[] = {
    {"pyperf-python312.data", PYPERF_VIEW_MIXED, PYPERF_WEIGHT_EVENTS},
    {"pyperf-python312.data", PYPERF_VIEW_PYTHON, PYPERF_WEIGHT_EVENTS},
    {"fp-callchain.data", PYPERF_VIEW_NATIVE, PYPERF_WEIGHT_EVENTS},
    {"pyperf-raw-stacks.data", PYPERF_VIEW_NATIVE, PYPERF_WEIGHT_EVENTS},
    {"sched-raw.data", PYPERF_VIEW_MIXED, PYPERF_WEIGHT_WALL},
    {"threads-forks.data", PYPERF_VIEW_NATIVE, PYPERF_WEIGHT_EVENTS},
};
#define NR_JOBS (sizeof(jobs) / sizeof(jobs[0]))

/* Everything written for one job, every format one after the other. */
struct output {
	char *text;
	size_t len;
	int err; /* first failure, negative errno */
};

static int write_all(struct pyperf_profile *p, FILE *f)
{
	static const enum pyperf_sort_key keys[] = {PYPERF_SORT_COMM, PYPERF_SORT_PID,
						    PYPERF_SORT_DSO, PYPERF_SORT_SYM};
	PYPERF_OPTS(pyperf_report_opts, tree, .show_nr_samples = true);
	PYPERF_OPTS(pyperf_report_opts, caller, .order = PYPERF_ORDER_CALLER,
		    .callchain = PYPERF_CALLCHAIN_FRACTAL, .callchain_min_percent = 0.1);
	PYPERF_OPTS(pyperf_report_opts, folded, .no_children = true,
		    .callchain = PYPERF_CALLCHAIN_FOLDED);
	PYPERF_OPTS(pyperf_report_opts, hier, .hierarchy = true, .sort = keys,
		    .nr_sort = sizeof(keys) / sizeof(keys[0]));
	PYPERF_OPTS(pyperf_collapsed_opts, coll, .tid = true, .annotate_kernel = true);
	PYPERF_OPTS(pyperf_svg_opts, svg, .title = "t");
	int ret;

	if ((ret = pyperf_profile__write_report(p, f, &tree)) ||
	    (ret = pyperf_profile__write_report(p, f, &caller)) ||
	    (ret = pyperf_profile__write_report(p, f, &folded)) ||
	    (ret = pyperf_profile__write_report(p, f, &hier)) ||
	    (ret = pyperf_profile__write_collapsed(p, f, &coll)) ||
	    (ret = pyperf_profile__write_svg(p, f, &svg)) ||
	    (ret = pyperf_profile__write_speedscope(p, f, NULL)) ||
	    (ret = pyperf_profile__write_pprof(p, f, NULL)) ||
	    (ret = pyperf_profile__write_json(p, f, NULL)))
		return ret;
	return 0;
}

static void run_job(const struct job *j, struct output *o)
{
	char cache[PATH_MAX + 32];
	/* symbols from the corpus's build-id cache, as test-outputs reads them */
	PYPERF_OPTS(pyperf_symbols_opts, so, .buildid_dir = cache,
		    .symfs = "/nonexistent-pyperf-symfs", .table_cache = "", .no_kernel = true);
	PYPERF_OPTS(pyperf_profile_opts, po, .view = j->view, .weight = j->weight);
	struct pyperf_symbols *s;
	struct pyperf_profile *p;
	char path[PATH_MAX + 64];
	FILE *f;

	snprintf(cache, sizeof(cache), "%s/../buildid-cache", corpus);
	s = pyperf_symbols__new(&so);
	p = s ? pyperf_profile__new(s, &po) : NULL;
	memset(o, 0, sizeof(*o));
	if (!p) {
		o->err = -errno;
		pyperf_symbols__free(s);
		return;
	}
	snprintf(path, sizeof(path), "%s/%s", corpus, j->file);
	f = open_memstream(&o->text, &o->len);
	if (!f)
		o->err = -errno;
	else if (!(o->err = pyperf_profile__add_file(p, path, NULL)))
		o->err = write_all(p, f);
	if (f)
		fclose(f);
	pyperf_profile__free(p);
	pyperf_symbols__free(s);
}

struct worker {
	pthread_t thread;
	size_t first; /* starts with this job: the threads run different files at once */
	struct output out[ROUNDS][NR_JOBS];
};

static void *work(void *arg)
{
	struct worker *w = arg;

	for (size_t r = 0; r < ROUNDS; r++)
		for (size_t k = 0; k < NR_JOBS; k++) {
			size_t i = (w->first + k) % NR_JOBS;

			run_job(&jobs[i], &w->out[r][i]);
		}
	return NULL;
}

TEST(two_threads_write_what_one_wrote)
{
	static struct worker workers[2];
	struct output ref[NR_JOBS];

	for (size_t i = 0; i < NR_JOBS; i++) {
		run_job(&jobs[i], &ref[i]);
		if (ref[i].err)
			CHECK_FAIL_("%s: %s", jobs[i].file, strerror(-ref[i].err));
		CHECK(ref[i].len > 1000);
	}
	for (size_t t = 0; t < 2; t++) {
		workers[t].first = t * (NR_JOBS / 2);
		REQUIRE(!pthread_create(&workers[t].thread, NULL, work, &workers[t]));
	}
	for (size_t t = 0; t < 2; t++)
		pthread_join(workers[t].thread, NULL);
	for (size_t t = 0; t < 2; t++)
		for (size_t r = 0; r < ROUNDS; r++)
			for (size_t i = 0; i < NR_JOBS; i++) {
				struct output *o = &workers[t].out[r][i];

				CHECK_EQ(o->err, ref[i].err);
				if (o->len != ref[i].len || memcmp(o->text, ref[i].text, o->len))
					CHECK_FAIL_("thread %zu round %zu: %s (view %d): %zu bytes "
						    "written, %zu by one thread alone",
						    t, r, jobs[i].file, jobs[i].view, o->len,
						    ref[i].len);
				free(o->text);
			}
	for (size_t i = 0; i < NR_JOBS; i++)
		free(ref[i].text);
}

int main(void)
{
	if (!find_corpus()) {
		fprintf(stderr,
			"test-threads: tests/fuzz/corpus/data not found (set PYPERF_TOP)\n");
		return 1;
	}
	return RUN(CASE(two_threads_write_what_one_wrote));
}
