// SPDX-License-Identifier: MIT
/*
 * pyperf-top's live aggregate: the recorder's records into profiles (the
 * library's), ranked at each refresh.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <pyperf/machine.h>
#include <pyperf/symbols.h>
#include "top_live.h"

#define NR_VIEWS 3

struct top_live {
	pthread_mutex_t lock;
	struct pyperf_symbols *syms;
	struct pyperf_machine *machine;
	/* per view (enum pyperf_view): since the start, the interval being
	 * counted, and the last whole one (what snapshots show) */
	struct pyperf_profile *all[NR_VIEWS], *cur[NR_VIEWS], *prev[NR_VIEWS];
	double prev_len; /* seconds the last whole interval lasted */
	struct pyperf_recorder *rec;
	uint64_t lost;
	char event[64]; /* the recorder's event */
	struct timespec t0, interval_start;
	bool gil_known; /* a take_gil frame was seen */
	/* scratch for rankings, grown as needed (never per sample) */
	struct pyperf_top_entry *rank, *other;
	size_t cap_rank, cap_other;
};

const char *top_view_name(enum pyperf_view v)
{
	return v == PYPERF_VIEW_PYTHON ? "python" : v == PYPERF_VIEW_NATIVE ? "native" : "mixed";
}

static double since(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t->tv_sec) + (double)(now.tv_nsec - t->tv_nsec) / 1e9;
}

static struct pyperf_profile *new_profile(struct top_live *l, int view)
{
	/* the recorder unwound the samples: no stack copies come */
	PYPERF_OPTS(pyperf_profile_opts, o, .view = (enum pyperf_view)view,
		    .weight = PYPERF_WEIGHT_CPU, .no_unwind = true, .live = true);

	return pyperf_profile__new(l->syms, &o);
}

struct top_live *top_live_new(void)
{
	struct top_live *l = calloc(1, sizeof(*l));

	if (!l)
		return NULL;
	pthread_mutex_init(&l->lock, NULL);
	clock_gettime(CLOCK_MONOTONIC, &l->t0);
	l->interval_start = l->t0;
	l->syms = pyperf_symbols__new(NULL);
	l->machine = l->syms ? pyperf_machine__new(l->syms, NULL) : NULL;
	if (!l->machine)
		goto fail;
	for (int v = 0; v < NR_VIEWS; v++) {
		l->all[v] = new_profile(l, v);
		l->cur[v] = new_profile(l, v);
		l->prev[v] = new_profile(l, v);
		if (!l->all[v] || !l->cur[v] || !l->prev[v])
			goto fail;
	}
	return l;
fail:
	top_live_free(l);
	errno = ENOMEM;
	return NULL;
}

void top_live_free(struct top_live *l)
{
	if (!l)
		return;
	for (int v = 0; v < NR_VIEWS; v++) {
		pyperf_profile__free(l->all[v]);
		pyperf_profile__free(l->cur[v]);
		pyperf_profile__free(l->prev[v]);
	}
	pyperf_machine__free(l->machine);
	pyperf_symbols__free(l->syms);
	free(l->rank);
	free(l->other);
	pthread_mutex_destroy(&l->lock);
	free(l);
}

void top_live_set_recorder(struct top_live *l, struct pyperf_recorder *r)
{
	l->rec = r;
}

/* Runs on the recorder's thread. */
int top_live_sink(void *ctx, const struct pyperf_record *rec)
{
	struct top_live *l = ctx;
	int ret = 0;

	pthread_mutex_lock(&l->lock);
	if (rec->type == PYPERF_RECORD_SAMPLE) {
		for (int v = 0; v < NR_VIEWS && !ret; v++) {
			ret = pyperf_profile__add_record(l->all[v], l->machine, rec);
			if (!ret)
				ret = pyperf_profile__add_record(l->cur[v], l->machine, rec);
		}
	} else {
		/* the machine once: one profile passes it on */
		ret = pyperf_profile__add_record(l->all[0], l->machine, rec);
	}
	/* the recorder's counts, read on its own thread */
	if (l->rec) {
		const struct pyperf_record_stats *st = pyperf_recorder__stats(l->rec);

		l->lost = st->lost_samples;
		if (!*l->event && st->event_name)
			snprintf(l->event, sizeof(l->event), "%s", st->event_name);
	}
	pthread_mutex_unlock(&l->lock);
	return ret;
}

/* All entries of @p as @o ranks them, into *@buf. Return: how many, or -errno. */
static long rank_all(struct pyperf_profile *p, const struct pyperf_top_opts *o,
		     struct pyperf_top_entry **buf, size_t *cap)
{
	size_t nr = 0;
	long n = pyperf_profile__top(p, o, NULL, 0, &nr);

	if (n < 0)
		return n;
	if (nr > *cap) {
		struct pyperf_top_entry *b = realloc(*buf, nr * sizeof(**buf));

		if (!b)
			return -ENOMEM;
		*buf = b;
		*cap = nr;
	}
	return pyperf_profile__top(p, o, *buf, nr, NULL);
}

static uint64_t event_samples(const struct pyperf_profile *p)
{
	uint32_t ev = pyperf_profile__event_node(p, 0);

	return ev ? pyperf_profile__node(p, ev)->total_samples : 0;
}

static const struct pyperf_frame *thread_of(const struct pyperf_profile *p, uint32_t node)
{
	return node ? pyperf_profile__frame(p, pyperf_profile__node(p, node)->frame) : NULL;
}

/* The same function (in the same thread) in another profile of the view. */
static bool same_entry(const struct pyperf_profile *pa, const struct pyperf_top_entry *a,
		       const struct pyperf_profile *pb, const struct pyperf_top_entry *b)
{
	const struct pyperf_frame *fa = pyperf_profile__frame(pa, a->frame);
	const struct pyperf_frame *fb = pyperf_profile__frame(pb, b->frame);

	if (fa->kind != fb->kind || fa->dso != fb->dso || strcmp(fa->name, fb->name))
		return false;
	if (a->thread || b->thread) {
		const struct pyperf_frame *ta = thread_of(pa, a->thread),
					  *tb = thread_of(pb, b->thread);

		return ta && tb && ta->pid == tb->pid && ta->tid == tb->tid;
	}
	return true;
}

static double pct(uint64_t n, uint64_t total)
{
	return total ? 100.0 * (double)n / (double)total : 0;
}

static bool is_clock(const char *event)
{
	return !strncmp(event, "cpu-clock", 9) || !strncmp(event, "task-clock", 10);
}

/* The threads of the interval, busiest first, with their GIL share where known. */
static int snapshot_threads(struct top_live *l, struct top_snapshot *s)
{
	struct pyperf_profile *p = l->prev[PYPERF_VIEW_NATIVE];
	uint32_t ev = pyperf_profile__event_node(p, 0);
	PYPERF_OPTS(pyperf_top_opts, o, .per_thread = true, .by_total = true);
	long n = 0;

	if (!l->gil_known) {
		const struct pyperf_profile *a = l->all[PYPERF_VIEW_NATIVE];

		for (size_t i = 0; i < pyperf_profile__nr_frames(a) && !l->gil_known; i++) {
			const struct pyperf_frame *f = pyperf_profile__frame(a, (uint32_t)i);

			l->gil_known = f->sym && !strcmp(f->name, "take_gil");
		}
	}
	pyperf_profile__finish(p); /* the threads' totals */
	if (l->gil_known && ev) {
		n = rank_all(p, &o, &l->other, &l->cap_other);
		if (n < 0)
			return (int)n;
	}
	for (uint32_t t = ev ? pyperf_profile__node(p, ev)->first_child : 0; t;
	     t = pyperf_profile__node(p, t)->next_sibling) {
		const struct pyperf_node *tn = pyperf_profile__node(p, t);
		const struct pyperf_frame *f = pyperf_profile__frame(p, tn->frame);
		struct top_thread th = {.pid = f->pid, .tid = f->tid, .samples = tn->total_samples};
		size_t at;

		s->nr_threads_all++;
		snprintf(th.comm, sizeof(th.comm), "%s", f->name);
		th.cpu = is_clock(s->event) && s->interval > 0
			     ? 100.0 * (double)tn->total_period / (s->interval * 1e9)
			     : -1;
		th.gil = l->gil_known ? 0 : -1;
		for (long i = 0; i < n; i++) {
			const struct pyperf_frame *g = pyperf_profile__frame(p, l->other[i].frame);

			if (l->other[i].thread == t && !strcmp(g->name, "take_gil"))
				th.gil = pct(l->other[i].total_samples, tn->total_samples);
		}
		/* insertion into the busiest few */
		for (at = s->nr_threads; at > 0 && s->threads[at - 1].samples < th.samples; at--)
			;
		if (at >= sizeof(s->threads) / sizeof(s->threads[0]))
			continue;
		if (s->nr_threads < sizeof(s->threads) / sizeof(s->threads[0]))
			s->nr_threads++;
		memmove(&s->threads[at + 1], &s->threads[at],
			(s->nr_threads - 1 - at) * sizeof(s->threads[0]));
		s->threads[at] = th;
	}
	return 0;
}

static void name_row(const struct pyperf_profile *p, const struct pyperf_top_entry *e,
		     struct top_row *row)
{
	const struct pyperf_frame *f = pyperf_profile__frame(p, e->frame);
	const struct pyperf_frame *t = thread_of(p, e->thread);
	const char *dso = f->dso ? pyperf_dso__short_name(f->dso) : NULL;

	if (f->kind == PYPERF_FRAME_NATIVE && dso && !f->sym)
		snprintf(row->name, sizeof(row->name), "%s (%s)", f->name, dso);
	else if (f->kind == PYPERF_FRAME_NATIVE && dso)
		snprintf(row->name, sizeof(row->name), "%s [%s]", f->name, dso);
	else if (f->kind == PYPERF_FRAME_KERNEL)
		snprintf(row->name, sizeof(row->name), "%s [kernel]", f->name);
	else
		snprintf(row->name, sizeof(row->name), "%s", f->name);
	if (t)
		snprintf(row->where, sizeof(row->where), "%s %d", t->name, t->tid);
}

/* The interval being counted becomes the last whole one. */
static int rotate_interval(struct top_live *l)
{
	struct pyperf_profile *fresh[NR_VIEWS];

	for (int v = 0; v < NR_VIEWS; v++) {
		fresh[v] = new_profile(l, v);
		if (!fresh[v]) {
			while (v--)
				pyperf_profile__free(fresh[v]);
			return -ENOMEM;
		}
	}
	for (int v = 0; v < NR_VIEWS; v++) {
		pyperf_profile__free(l->prev[v]);
		l->prev[v] = l->cur[v];
		l->cur[v] = fresh[v];
	}
	l->prev_len = since(&l->interval_start);
	clock_gettime(CLOCK_MONOTONIC, &l->interval_start);
	return 0;
}

int top_live_snapshot(struct top_live *l, const struct top_show *show, bool rotate,
		      struct top_snapshot *s)
{
	PYPERF_OPTS(pyperf_top_opts, o, .per_thread = show->per_thread, .by_total = show->by_total);
	struct pyperf_profile *ranked, *other, *last, *all;
	long nr, nro;
	int ret = 0;

	memset(s, 0, sizeof(*s));
	pthread_mutex_lock(&l->lock);
	if (rotate && (ret = rotate_interval(l)))
		goto out;
	last = l->prev[show->view];
	all = l->all[show->view];
	s->elapsed = since(&l->t0);
	s->interval = l->prev_len;
	ranked = show->since_start ? all : last;
	other = show->since_start ? last : all;
	s->lost = l->lost;
	s->cut_all = pyperf_profile__stats(all)->truncated_stacks;
	s->python_all = pyperf_profile__stats(l->all[PYPERF_VIEW_MIXED])->samples_python;
	snprintf(s->event, sizeof(s->event), "%s", *l->event ? l->event : "no samples yet");
	nr = rank_all(ranked, &o, &l->rank, &l->cap_rank);
	nro = nr < 0 ? nr : rank_all(other, &o, &l->other, &l->cap_other);
	if (nro < 0) {
		ret = (int)nro;
		goto out;
	}
	/* after ranking: the totals are up to date */
	s->samples_last = event_samples(last);
	s->samples_all = event_samples(all);
	s->nr_functions = (size_t)nr;
	for (long i = 0; i < nr && s->nr_rows < sizeof(s->rows) / sizeof(s->rows[0]); i++) {
		const struct pyperf_top_entry *e = &l->rank[i];
		struct top_row *row = &s->rows[s->nr_rows++];
		uint64_t tot_r = event_samples(ranked), tot_o = event_samples(other);
		double own_o = -1, total_o = -1;

		name_row(ranked, e, row);
		for (long j = 0; j < nro; j++) {
			if (same_entry(ranked, e, other, &l->other[j])) {
				own_o = pct(l->other[j].self_samples, tot_o);
				total_o = pct(l->other[j].total_samples, tot_o);
				break;
			}
		}
		if (show->since_start) {
			row->own_all = pct(e->self_samples, tot_r);
			row->total_all = pct(e->total_samples, tot_r);
			row->own_last = own_o;
			row->total_last = total_o;
		} else {
			row->own_last = pct(e->self_samples, tot_r);
			row->total_last = pct(e->total_samples, tot_r);
			row->own_all = own_o;
			row->total_all = total_o;
		}
	}
	ret = snapshot_threads(l, s);
out:
	pthread_mutex_unlock(&l->lock);
	return ret;
}

static void fmt_pct(char *buf, size_t size, double v)
{
	if (v < 0)
		snprintf(buf, size, "-");
	else
		snprintf(buf, size, "%.1f", v);
}

void top_format(const struct top_snapshot *s, const struct top_show *show, int cols,
		size_t max_rows, void (*fn)(void *ctx, const char *line, int kind), void *ctx)
{
	char line[1024], a[16], b[16], c[16], d[16];
	size_t w = cols > 0 && (size_t)cols < sizeof(line) ? (size_t)cols + 1 : sizeof(line);

	snprintf(line, w, "pyperf-top: %s, %.1f s, view %s, %s, ranked by %s %s", s->event,
		 s->elapsed, top_view_name(show->view),
		 show->per_thread ? "per thread" : "threads merged",
		 show->by_total ? "total" : "own",
		 show->since_start ? "since start" : "in the last interval");
	fn(ctx, line, TOP_LINE_HEADER);
	snprintf(line, w,
		 "Samples: %" PRIu64 " in the last %.1f s, %" PRIu64 " since start; lost %" PRIu64
		 "; cut stacks %" PRIu64 " (%.1f%%); with Python frames %.1f%%",
		 s->samples_last, s->interval, s->samples_all, s->lost, s->cut_all,
		 pct(s->cut_all, s->samples_all), pct(s->python_all, s->samples_all));
	fn(ctx, line, TOP_LINE_HEADER);
	for (size_t i = 0; i < s->nr_threads; i++) {
		const struct top_thread *t = &s->threads[i];
		int n = snprintf(line, w, "Thread %s %d: %" PRIu64 " samples", t->comm, t->tid,
				 t->samples);

		if (t->cpu >= 0 && n >= 0 && (size_t)n < w)
			n += snprintf(line + n, w - (size_t)n, ", cpu %.1f%%, idle %.1f%%", t->cpu,
				      t->cpu < 100 ? 100 - t->cpu : 0);
		if (t->gil >= 0 && n >= 0 && (size_t)n < w)
			snprintf(line + n, w - (size_t)n, ", in take_gil %.1f%%", t->gil);
		fn(ctx, line, TOP_LINE_HEADER);
	}
	if (s->nr_threads_all > s->nr_threads) {
		snprintf(line, w, "(%zu more threads)", s->nr_threads_all - s->nr_threads);
		fn(ctx, line, TOP_LINE_HEADER);
	}
	snprintf(line, w, "%-15s %-15s", "  Last interval", "  Since start");
	fn(ctx, line, TOP_LINE_COLUMNS);
	snprintf(line, w, "%6s %7s  %6s %7s  %s%s", "Own%", "Total%", "Own%", "Total%", "Function",
		 show->per_thread ? "  [thread]" : "");
	fn(ctx, line, TOP_LINE_COLUMNS);
	for (size_t i = 0; i < s->nr_rows && i < max_rows; i++) {
		const struct top_row *r = &s->rows[i];

		fmt_pct(a, sizeof(a), r->own_last);
		fmt_pct(b, sizeof(b), r->total_last);
		fmt_pct(c, sizeof(c), r->own_all);
		fmt_pct(d, sizeof(d), r->total_all);
		snprintf(line, w, "%6s %7s  %6s %7s  %s%s%s%s", a, b, c, d, r->name,
			 *r->where ? "  [" : "", r->where, *r->where ? "]" : "");
		fn(ctx, line, TOP_LINE_ROW);
	}
	if (!s->nr_rows) {
		snprintf(line, w, "(no samples yet)");
		fn(ctx, line, TOP_LINE_NOTE);
	} else if (s->nr_functions > s->nr_rows || s->nr_rows > max_rows) {
		snprintf(line, w, "(%zu functions, %zu shown)", s->nr_functions,
			 s->nr_rows < max_rows ? s->nr_rows : max_rows);
		fn(ctx, line, TOP_LINE_NOTE);
	}
}
