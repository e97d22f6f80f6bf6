// SPDX-License-Identifier: MIT
/*
 * perf's --time syntax (tools/perf/util/time-utils.c), read the way perf
 * 6.1 reads it, so that `pyperf-report --time X` and `perf report --time X`
 * keep the same samples.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pyperf/time_range.h>

#include "internal.h"

#define NSEC_PER_SEC UINT64_C(1000000000)

struct parser {
	const char *s; /* the whole text, for offsets */
	struct pyperf_error *err;
};

static int fail(const struct parser *ps, const char *at, const char *what)
{
	pyperf_error_set(ps->err, -EINVAL, (uint64_t)(at - ps->s), "", "%s", what);
	return -EINVAL;
}

/* "SEC[.NSEC]" (perf's parse_nsec_time): digits only, up to 9 decimals. */
static int parse_seconds(const struct parser *ps, const char *b, const char *e, uint64_t *out)
{
	uint64_t sec = 0, nsec = 0;
	const char *p = b;
	int digits = 0;

	for (; p < e && *p >= '0' && *p <= '9'; p++) {
		if (sec > (UINT64_MAX / NSEC_PER_SEC - 9) / 10)
			return fail(ps, b, "time too large");
		sec = sec * 10 + (uint64_t)(*p - '0');
	}
	if (p < e && *p == '.') {
		for (p++; p < e && *p >= '0' && *p <= '9'; p++) {
			if (++digits > 9)
				return fail(ps, b, "more than 9 decimals (nanoseconds)");
			nsec = nsec * 10 + (uint64_t)(*p - '0');
		}
		for (int i = digits; i < 9; i++)
			nsec *= 10;
	}
	if (p != e || p == b)
		return fail(ps, b, "expected seconds such as 81498.237162");
	*out = sec * NSEC_PER_SEC + nsec;
	return 0;
}

/* "START,STOP" in [b, e), either side may be empty. */
static int parse_pair(const struct parser *ps, const char *b, const char *e,
		      struct pyperf_time_range *r)
{
	const char *comma = memchr(b, ',', (size_t)(e - b));

	if (!comma)
		return fail(ps, b, "expected START,STOP");
	r->start = r->end = 0;
	if (comma > b && parse_seconds(ps, b, comma, &r->start))
		return -EINVAL;
	if (e > comma + 1 && parse_seconds(ps, comma + 1, e, &r->end))
		return -EINVAL;
	if (r->end && r->end < r->start)
		return fail(ps, b, "STOP before START");
	return 0;
}

static bool space(char c)
{
	return c == ' ' || c == '\t' || c == '\n';
}

static long parse_absolute(const struct parser *ps, struct pyperf_time_range *out, size_t cap)
{
	const char *p = ps->s, *end = ps->s + strlen(ps->s);
	size_t n = 0, tokens = 0, commas = 0;

	for (const char *q = p; *q; q++)
		commas += *q == ',';
	for (const char *q = p; *q;) {
		while (space(*q))
			q++;
		if (!*q)
			break;
		tokens++;
		while (*q && !space(*q))
			q++;
	}
	if (tokens == 1 && commas > 1) {
		/* "A,B,C,D": one list of pairs (perf would refuse it) */
		const char *b = p, *c;

		while (space(*b))
			b++;
		if (commas % 2 == 0)
			return fail(ps, b, "a comma-separated list needs START,STOP pairs");
		while (b < end && !space(*b)) {
			c = strchr(b, ',');
			c = strchr(c + 1, ',');
			if (!c || space(*c))
				c = b + strcspn(b, " \t\n");
			if (n == cap || parse_pair(ps, b, c, &out[n++]))
				return -EINVAL;
			b = *c == ',' ? c + 1 : c;
		}
	} else {
		for (const char *b = p; *b;) {
			const char *e, *c1;

			while (space(*b))
				b++;
			if (!*b)
				break;
			e = b + strcspn(b, " \t\n");
			c1 = memchr(b, ',', (size_t)(e - b));
			if (c1 && memchr(c1 + 1, ',', (size_t)(e - c1 - 1)))
				return fail(ps, b,
					    "one START,STOP per range (ranges are separated "
					    "by spaces)");
			if (n == cap || parse_pair(ps, b, e, &out[n++]))
				return -EINVAL;
			b = e;
		}
	}
	if (!n)
		return fail(ps, p, "expected START,STOP");
	for (size_t i = 0; i + 1 < n; i++)
		if (!out[i].end || !out[i + 1].start || out[i].end >= out[i + 1].start)
			return fail(ps, p,
				    "ranges must be in increasing order and must not overlap");
	return (long)n;
}

/* "N%" in [b, e) as a fraction */
static int parse_share(const struct parser *ps, const char *b, const char *e, double *out)
{
	char buf[64], *tail;

	if (e - b < 2 || e[-1] != '%' || (size_t)(e - b) >= sizeof(buf))
		return fail(ps, b, "expected a share such as 10%");
	memcpy(buf, b, (size_t)(e - b - 1));
	buf[e - b - 1] = 0;
	*out = strtod(buf, &tail) / 100.0;
	if (*tail || tail == buf || !isfinite(*out))
		return fail(ps, b, "expected a share such as 10%");
	return 0;
}

/* perf's set_percent_time */
static int share_range(const struct parser *ps, const char *at, double a, double b, uint64_t first,
		       uint64_t last, struct pyperf_time_range *r)
{
	uint64_t total = last - first;

	if (a < 0.0 || a > 1.0 || b < 0.0 || b > 1.0)
		return fail(ps, at, "shares must lie between 0% and 100%");
	r->start = first + (uint64_t)round(a * (double)total);
	r->end = first + (uint64_t)round(b * (double)total);
	if (r->end > r->start && r->end != last)
		r->end--;
	return 0;
}

static long parse_percent(const struct parser *ps, uint64_t first, uint64_t last,
			  struct pyperf_time_range *out, size_t cap)
{
	const char *s = ps->s;
	bool slash = strchr(s, '/'), dash = strchr(s, '-');
	size_t n = 0;

	for (const char *b = s; *b;) {
		const char *e = b + strcspn(b, ","), *m;
		double a, z;

		if (n == cap)
			return fail(ps, b, "too many ranges");
		if (slash) {
			char *tail;
			long i;

			m = memchr(b, '/', (size_t)(e - b));
			if (!m || parse_share(ps, b, m, &a))
				return m ? -EINVAL
					 : fail(ps, b,
						"expected N%/SLICE (one form for every range)");
			errno = 0;
			i = strtol(m + 1, &tail, 10);
			if (tail != e || tail == m + 1 || errno)
				return fail(ps, m + 1, "expected the slice's number");
			if (a <= 0.0)
				return fail(ps, b, "a slice must be more than 0%");
			if (share_range(ps, b, a * (double)(i - 1), a * (double)i, first, last,
					&out[n++]))
				return -EINVAL;
		} else if (dash) {
			m = memchr(b, '-', (size_t)(e - b));
			if (!m)
				return fail(ps, b, "expected N%-M%");
			if (parse_share(ps, b, m, &a) || parse_share(ps, m + 1, e, &z) ||
			    share_range(ps, b, a, z, first, last, &out[n++]))
				return -EINVAL;
		} else {
			/* "50%": the first half; perf takes one such share only */
			if (*e || n)
				return fail(ps, b, "use N%/SLICE or N%-M% for several ranges");
			if (parse_share(ps, b, e, &a) || a <= 0.0 ||
			    share_range(ps, b, 0.0, a, first, last, &out[n++]))
				return a <= 0.0 ? fail(ps, b, "a share must be more than 0%")
						: -EINVAL;
		}
		b = *e ? e + 1 : e;
	}
	if (!n)
		return fail(ps, s, "expected a share such as 10%/2");
	return (long)n;
}

PYPERF_API struct pyperf_time_range *pyperf_time_range__parse(const char *s, uint64_t first,
							      uint64_t last, bool rel, size_t *nr,
							      struct pyperf_error *err)
{
	struct parser ps = {s ? s : "", err};
	struct pyperf_time_range *out;
	size_t cap = 1;
	long n;

	if (!s || !nr) {
		pyperf_error_set(err, -EINVAL, UINT64_MAX, "", "--time: no ranges given");
		errno = EINVAL;
		return NULL;
	}
	for (const char *q = s; *q; q++)
		cap += *q == ',' || space(*q);
	out = calloc(cap, sizeof(*out));
	if (!out) {
		errno = ENOMEM;
		return NULL;
	}
	if (strchr(s, '%')) {
		n = !first && !last ? fail(&ps, s, "the recording's samples carry no time")
				    : parse_percent(&ps, first, last, out, cap);
	} else {
		n = rel && !first && !last ? fail(&ps, s, "the recording's samples carry no time")
					   : parse_absolute(&ps, out, cap);
		for (long i = 0; rel && i < n; i++) {
			/* an open side stays open */
			if (out[i].start || i == 0)
				out[i].start += first;
			if (out[i].end)
				out[i].end += first;
		}
	}
	if (n < 0) {
		free(out);
		errno = -(int)n;
		return NULL;
	}
	*nr = (size_t)n;
	return out;
}

PYPERF_API bool pyperf_time_range__keep(const struct pyperf_time_range *ranges, size_t nr,
					uint64_t time)
{
	if (!nr || !time)
		return true;
	for (size_t i = 0; i < nr; i++)
		if (time >= ranges[i].start && (!ranges[i].end || time <= ranges[i].end))
			return true;
	return false;
}

PYPERF_API char *pyperf_time_range__format(const struct pyperf_time_range *ranges, size_t nr,
					   char *buf, size_t size)
{
	size_t w = 0;

	if (!size)
		return buf;
	buf[0] = 0;
	for (size_t i = 0; i < nr && w < size; i++) {
		char a[32] = "", b[32] = "";

		if (ranges[i].start)
			snprintf(a, sizeof(a), "%" PRIu64 ".%06" PRIu64,
				 ranges[i].start / NSEC_PER_SEC,
				 ranges[i].start % NSEC_PER_SEC / 1000);
		if (ranges[i].end)
			snprintf(b, sizeof(b), "%" PRIu64 ".%06" PRIu64,
				 ranges[i].end / NSEC_PER_SEC, ranges[i].end % NSEC_PER_SEC / 1000);
		w += (size_t)snprintf(buf + w, size - w, "%s%s,%s", i ? " " : "", a, b);
	}
	return buf;
}

PYPERF_API int pyperf_data__sample_time_bounds(struct pyperf_data *data, uint64_t *first,
					       uint64_t *last, struct pyperf_error *err)
{
	const struct pyperf_record *rec;
	uint64_t size = 0, lo = 0, hi = 0;
	const uint64_t *t = pyperf_data__feature(data, PYPERF_FEAT_SAMPLE_TIME, &size);
	int ret;

	if (t && size >= 16 && (t[0] || t[1])) {
		*first = t[0];
		*last = t[1];
		return 0;
	}
	while ((ret = pyperf_data__next(data, &rec, err)) > 0) {
		const struct pyperf_sample *s = &rec->sample;

		if (rec->type != PYPERF_RECORD_SAMPLE || !(s->present & PYPERF_SAMPLE_TIME) ||
		    !s->time)
			continue;
		if (!lo || s->time < lo)
			lo = s->time;
		if (s->time > hi)
			hi = s->time;
	}
	*first = lo;
	*last = hi;
	return pyperf_err(ret);
}
