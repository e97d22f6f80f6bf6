// SPDX-License-Identifier: MIT
/*
 * Differential profiles: perf diff's report (tools/perf/builtin-diff.c:
 * shares of each side's total period, Delta Abs order, its column
 * widths) and difffolded.pl's two-count folded stacks. Both match what
 * the entries show (strings), so profiles built from different runs,
 * whose frames and addresses differ, pair up.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <pyperf/diff.h>

#include "foldtab.h"
#include "internal.h"

#define ADDR_WIDTH 16 /* perf's unresolved symbol: "%#.16llx" */

struct dentry {
	uint64_t period[2], samples[2];
	bool in[2];
	const char *dso, *sym; /* into the key's text */
	int dso_len;
};

struct dtab {
	struct pp_foldtab keys; /* "level\x1fdso\x1fsym" */
	struct dentry *e;
	size_t cap;
	uint64_t total_period[2], total_samples[2];
	bool absolute; /* deltas of samples, not of shares */
};

static const struct pyperf_frame *frame_of(const struct pyperf_profile *p, uint32_t node)
{
	return pyperf_profile__frame(p, pyperf_profile__node(p, node)->frame);
}

/* The event node of @p named @name, or 0. */
static uint32_t event_named(const struct pyperf_profile *p, const char *name)
{
	for (uint32_t c = pyperf_profile__node(p, 0)->first_child; c;
	     c = pyperf_profile__node(p, c)->next_sibling)
		if (!strcmp(frame_of(p, c)->name, name))
			return c;
	return 0;
}

static int add_entry(struct dtab *t, int side, const struct pyperf_frame *f,
		     const struct pyperf_node *n)
{
	char key[1200], sym[1024];
	const char *dso = f->dso ? pyperf_dso__short_name(f->dso) : "[unknown]";
	char level =
	    f->kind == PYPERF_FRAME_KERNEL || f->cpumode == PYPERF_CPUMODE_KERNEL ? 'k' : '.';
	size_t before = t->keys.nr;
	struct dentry *e;
	long i;
	int len;

	if (f->sym)
		snprintf(sym, sizeof(sym), "[%c] %s", level, f->sym->name);
	else
		snprintf(sym, sizeof(sym), "[%c] %#.*" PRIx64, level, ADDR_WIDTH, f->addr);
	len = snprintf(key, sizeof(key), "%s\x1f%s", dso, sym);
	i = pp_foldtab_index(&t->keys, key, (size_t)MIN(len, (int)sizeof(key) - 1));
	if (i < 0 || PP_GROW(t->e, t->cap, (size_t)i + 1))
		return -ENOMEM;
	e = &t->e[i];
	if (t->keys.nr > before) {
		const char *k = t->keys.lines[i].text;

		memset(e, 0, sizeof(*e));
		e->dso = k;
		e->sym = strchr(k, '\x1f') + 1;
		e->dso_len = (int)(e->sym - 1 - k);
	}
	e->period[side] += n->self_period;
	e->samples[side] += n->self_samples;
	e->in[side] = true;
	return 0;
}

static int gather(struct dtab *t, int side, struct pyperf_profile *p, uint32_t ev)
{
	uint32_t *stack = NULL;
	size_t cap = 0, sp = 0;
	uint64_t samples = 0, period = 0;
	int ret = 0;

	if (!ev)
		return 0;
	pyperf_profile__event_total(p, frame_of(p, ev)->event, &samples, &period);
	t->total_period[side] = period;
	t->total_samples[side] = samples;
	/* below the thread nodes */
	for (uint32_t th = pyperf_profile__node(p, ev)->first_child; th && !ret;
	     th = pyperf_profile__node(p, th)->next_sibling) {
		if (PP_GROW(stack, cap, sp + 1)) {
			ret = -ENOMEM;
			break;
		}
		stack[sp++] = th;
		while (sp && !ret) {
			uint32_t id = stack[--sp];
			const struct pyperf_node *n = pyperf_profile__node(p, id);

			if (id != th && n->self_samples)
				ret = add_entry(t, side, pyperf_profile__frame(p, n->frame), n);
			for (uint32_t c = n->first_child; c && !ret;
			     c = pyperf_profile__node(p, c)->next_sibling) {
				if (PP_GROW(stack, cap, sp + 1))
					ret = -ENOMEM;
				else
					stack[sp++] = c;
			}
		}
	}
	free(stack);
	return ret;
}

static double share(const struct dtab *t, const struct dentry *e, int side)
{
	return t->total_period[side]
		   ? (double)e->period[side] * 100.0 / (double)t->total_period[side]
		   : 0.0;
}

static double delta_of(const struct dtab *t, const struct dentry *e)
{
	if (t->absolute)
		return (double)e->samples[1] - (double)e->samples[0];
	return share(t, e, 1) - share(t, e, 0);
}

/* perf diff's order: the largest |delta| first, entries without a new side
 * last; then the larger baseline; then object and symbol */
static int cmp_entries(const void *a, const void *b, void *ctx)
{
	const struct dtab *sort_t = ctx;
	const struct dentry *x = &sort_t->e[*(const uint32_t *)a],
			    *y = &sort_t->e[*(const uint32_t *)b];
	double dx, dy;
	int c;

	if (x->in[1] != y->in[1])
		return x->in[1] ? -1 : 1;
	if (x->in[1]) {
		dx = fabs(delta_of(sort_t, x));
		dy = fabs(delta_of(sort_t, y));
		if (dx != dy)
			return dx > dy ? -1 : 1;
	}
	if (x->period[0] != y->period[0])
		return x->period[0] > y->period[0] ? -1 : 1;
	c = strcmp(x->dso, y->dso);
	return c ? c : strcmp(x->sym, y->sym);
}

/* A column's dotted underline, after @sep. */
static void dots(FILE *out, size_t n, const char *sep)
{
	fputs(sep, out);
	while (n--)
		fputc('.', out);
}

static int write_event(FILE *out, const char *name, struct pyperf_profile *base, uint32_t bev,
		       struct pyperf_profile *cur, uint32_t cev, const struct pyperf_diff_opts *o)
{
	struct dtab t = {0};
	uint32_t *order = NULL;
	size_t n = 0, w_dso = strlen("Shared Object"), w_sym = strlen("Symbol");
	int w_base = (int)strlen("Baseline"),
	    w_delta = (int)strlen(o->absolute ? "Delta" : "Delta Abs");
	int w_new = (int)strlen("New");
	int ret;

	pp_foldtab_init(&t.keys);
	ret = gather(&t, 0, base, bev);
	if (!ret)
		ret = gather(&t, 1, cur, cev);
	if (!ret && t.keys.nr && !(order = pp_calloc(t.keys.nr, sizeof(*order))))
		ret = -ENOMEM;
	for (size_t i = 0; !ret && i < t.keys.nr; i++) {
		const struct dentry *e = &t.e[i];

		if (o->percent_limit > 0 && share(&t, e, 0) < o->percent_limit &&
		    share(&t, e, 1) < o->percent_limit)
			continue;
		order[n++] = (uint32_t)i;
		w_dso = MAX(w_dso, (size_t)e->dso_len);
		w_sym = MAX(w_sym, strlen(e->sym));
		if (o->absolute) {
			char buf[32];

			w_base = MAX(w_base, snprintf(buf, sizeof(buf), "%" PRIu64, e->samples[0]));
			w_new = MAX(w_new, snprintf(buf, sizeof(buf), "%" PRIu64, e->samples[1]));
			w_delta = MAX(w_delta, snprintf(buf, sizeof(buf), "%+" PRId64,
							(int64_t)(e->samples[1] - e->samples[0])));
		}
	}
	if (ret)
		goto out;
	t.absolute = o->absolute;
	if (n)
		qsort_r(order, n, sizeof(*order), cmp_entries, &t);
	fprintf(out, "# Event '%s'\n#\n", name);
	if (o->absolute) {
		fprintf(out, "# %*s  %*s  %*s  %-*s  %-*s\n", w_base, "Baseline", w_new, "New",
			w_delta, "Delta", (int)w_dso, "Shared Object", (int)w_sym, "Symbol");
	} else {
		fprintf(out, "# %*s  %*s  %-*s  %-*s\n", w_base, "Baseline", w_delta, "Delta Abs",
			(int)w_dso, "Shared Object", (int)w_sym, "Symbol");
	}
	fputs("# ", out);
	dots(out, (size_t)w_base, "");
	if (o->absolute)
		dots(out, (size_t)w_new, "  ");
	dots(out, (size_t)w_delta, "  ");
	dots(out, w_dso, "  ");
	dots(out, w_sym, "  ");
	fputs("\n#\n", out);
	for (size_t i = 0; i < n; i++) {
		const struct dentry *e = &t.e[order[i]];
		char b[32] = "", d[32] = "", nw[32] = "";
		int dso_len = e->dso_len;

		if (o->absolute) {
			snprintf(b, sizeof(b), "%" PRIu64, e->samples[0]);
			snprintf(nw, sizeof(nw), "%" PRIu64, e->samples[1]);
			snprintf(d, sizeof(d), "%+" PRId64,
				 (int64_t)(e->samples[1] - e->samples[0]));
			fprintf(out, "  %*s  %*s  %*s  %-*.*s  %s\n", w_base, b, w_new, nw, w_delta,
				d, (int)w_dso, dso_len, e->dso, e->sym);
			continue;
		}
		/* perf: no baseline figure for an entry new in this profile, no
		 * delta for one the new profile lacks */
		if (e->in[0])
			snprintf(b, sizeof(b), "%6.2f%%", share(&t, e, 0));
		if (e->in[1])
			snprintf(d, sizeof(d), "%+4.2f%%", share(&t, e, 1) - share(&t, e, 0));
		fprintf(out, "  %*s  %*s  %-*.*s  %s\n", w_base, b, w_delta, d, (int)w_dso, dso_len,
			e->dso, e->sym);
	}
out:
	free(order);
	free(t.e);
	pp_foldtab_free(&t.keys);
	return ret;
}

PYPERF_API int pyperf_diff__write_report(struct pyperf_profile *base, struct pyperf_profile *cur,
					 FILE *out, const struct pyperf_diff_opts *opts)
{
	struct pyperf_diff_opts o = {0};
	int ret = 0;

	if (!base || !cur || !out || !OPTS_VALID(opts, pyperf_diff_opts))
		return pyperf_err(-EINVAL);
	if (opts)
		memcpy(&o, opts, MIN(opts->sz, sizeof(o)));
	pyperf_profile__finish(base);
	pyperf_profile__finish(cur);
	/* the new profile's events, then those only the baseline has */
	for (uint32_t c = pyperf_profile__node(cur, 0)->first_child; c && !ret;
	     c = pyperf_profile__node(cur, c)->next_sibling) {
		const char *name = frame_of(cur, c)->name;

		if (c != pyperf_profile__node(cur, 0)->first_child)
			fputc('\n', out);
		ret = write_event(out, name, base, event_named(base, name), cur, c, &o);
	}
	for (uint32_t c = pyperf_profile__node(base, 0)->first_child; c && !ret;
	     c = pyperf_profile__node(base, c)->next_sibling) {
		const char *name = frame_of(base, c)->name;

		if (!event_named(cur, name)) {
			fputc('\n', out);
			ret = write_event(out, name, base, c, cur, 0, &o);
		}
	}
	if (!ret && ferror(out))
		ret = -EIO;
	return pyperf_err(ret);
}

/* ---- collapsed -------------------------------------------------------------------------- */

/* Folds @p with the collapsed writer and adds its lines to side @side. */
static int fold_side(struct pyperf_profile *p, const struct pyperf_collapsed_opts *copts,
		     struct pp_foldtab *t, uint64_t **w, size_t *cap, int side, uint64_t *total)
{
	char *buf = NULL, *line, *end;
	size_t size = 0;
	FILE *mem = open_memstream(&buf, &size);
	int ret;

	if (!mem)
		return -ENOMEM;
	ret = pyperf_profile__write_collapsed(p, mem, copts);
	if (fclose(mem) && !ret)
		ret = -ENOMEM;
	for (line = buf; !ret && line && line < buf + size; line = end + 1) {
		size_t before = t->nr;
		char *sp, *tail;
		uint64_t n;
		long i;

		end = memchr(line, '\n', (size_t)(buf + size - line));
		if (!end)
			end = buf + size;
		sp = memrchr(line, ' ', (size_t)(end - line));
		if (!sp)
			continue;
		n = strtoull(sp + 1, &tail, 10);
		i = pp_foldtab_index(t, line, (size_t)(sp - line));
		if (i < 0 || PP_GROW(*w, *cap, 2 * ((size_t)i + 1))) {
			ret = -ENOMEM;
			break;
		}
		if (t->nr > before)
			(*w)[2 * i] = (*w)[2 * i + 1] = 0;
		(*w)[2 * i + side] += n;
		*total += n;
	}
	free(buf);
	return ret;
}

static int cmp_lines(const void *a, const void *b, void *ctx)
{
	const struct pp_foldtab *sort_lines = ctx;
	const struct pp_folded_line *x = &sort_lines->lines[*(const uint32_t *)a],
				    *y = &sort_lines->lines[*(const uint32_t *)b];
	int c = memcmp(x->text, y->text, MIN(x->len, y->len));

	return c ? c : x->len < y->len ? -1 : x->len > y->len;
}

PYPERF_API int pyperf_diff__write_collapsed(struct pyperf_profile *base, struct pyperf_profile *cur,
					    FILE *out, const struct pyperf_collapsed_opts *copts,
					    const struct pyperf_diff_opts *opts)
{
	struct pyperf_diff_opts o = {0};
	struct pp_foldtab t;
	uint64_t *w = NULL, totals[2] = {0, 0};
	uint32_t *order = NULL;
	size_t cap = 0;
	int ret;

	if (!base || !cur || !out || !OPTS_VALID(opts, pyperf_diff_opts))
		return pyperf_err(-EINVAL);
	if (opts)
		memcpy(&o, opts, MIN(opts->sz, sizeof(o)));
	pp_foldtab_init(&t);
	ret = fold_side(base, copts, &t, &w, &cap, 0, &totals[0]);
	if (!ret)
		ret = fold_side(cur, copts, &t, &w, &cap, 1, &totals[1]);
	if (!ret && t.nr && !(order = pp_calloc(t.nr, sizeof(*order))))
		ret = -ENOMEM;
	for (size_t i = 0; !ret && i < t.nr; i++)
		order[i] = (uint32_t)i;
	if (!ret && t.nr) {
		qsort_r(order, t.nr, sizeof(*order), cmp_lines, &t);
	}
	for (size_t i = 0; !ret && i < t.nr; i++) {
		uint64_t b = w[2 * order[i]], n = w[2 * order[i] + 1];

		/* difffolded.pl -n: int(count1 * total2 / total1) */
		if (!o.absolute && totals[0] && totals[0] != totals[1])
			b = (uint64_t)((double)b * (double)totals[1] / (double)totals[0]);
		fprintf(out, "%.*s %" PRIu64 " %" PRIu64 "\n", (int)t.lines[order[i]].len,
			t.lines[order[i]].text, b, n);
	}
	if (!ret && ferror(out))
		ret = -EIO;
	free(order);
	free(w);
	pp_foldtab_free(&t);
	return pyperf_err(ret);
}
