/* SPDX-License-Identifier: MIT */
/*
 * perf's --time syntax: the ranges perf 6.1 computes for the same text
 * (tools/perf/util/time-utils.c), the samples they keep, and refusals.
 */
#include <errno.h>
#include <stdlib.h>
#include <pyperf/time_range.h>
#include "check.h"

#define S 1000000000ULL

static struct pyperf_time_range *parse(const char *s, uint64_t first, uint64_t last, bool rel,
				       size_t *nr)
{
	struct pyperf_error err;

	return pyperf_time_range__parse(s, first, last, rel, nr, &err);
}

TEST(absolute)
{
	size_t nr = 0;
	struct pyperf_time_range *r = parse("100.5,100.75", 0, 0, false, &nr);

	REQUIRE(r);
	CHECK_EQ(nr, 1);
	CHECK_U64(r[0].start, 100 * S + 500000000);
	CHECK_U64(r[0].end, 100 * S + 750000000);
	free(r);
	/* open sides; nanoseconds; several ranges, perf's spaces and our commas */
	r = parse(",7.000000001", 0, 0, false, &nr);
	REQUIRE(r);
	CHECK_U64(r[0].start, 0);
	CHECK_U64(r[0].end, 7 * S + 1);
	free(r);
	r = parse("1,2  3,", 0, 0, false, &nr);
	REQUIRE(r);
	CHECK_EQ(nr, 2);
	CHECK_U64(r[1].start, 3 * S);
	CHECK_U64(r[1].end, 0);
	CHECK(!pyperf_time_range__keep(r, nr, 2 * S + 1));
	CHECK(pyperf_time_range__keep(r, nr, 2 * S));
	CHECK(pyperf_time_range__keep(r, nr, 1 * S));
	CHECK(pyperf_time_range__keep(r, nr, 99 * S));
	CHECK(pyperf_time_range__keep(r, nr, 0)); /* no time: kept, as perf */
	free(r);
	r = parse("1,2,3,4", 0, 0, false, &nr);
	REQUIRE(r);
	CHECK_EQ(nr, 2);
	CHECK_U64(r[1].start, 3 * S);
	CHECK_U64(r[1].end, 4 * S);
	free(r);
}

TEST(relative)
{
	size_t nr = 0;
	struct pyperf_time_range *r = parse("0.5,1", 1000 * S, 1010 * S, true, &nr);

	REQUIRE(r);
	CHECK_U64(r[0].start, 1000 * S + S / 2);
	CHECK_U64(r[0].end, 1001 * S);
	free(r);
	r = parse(",1", 1000 * S, 1010 * S, true, &nr);
	REQUIRE(r);
	CHECK_U64(r[0].start, 1000 * S);
	free(r);
}

TEST(percent)
{
	uint64_t a = 1000, b = 2000; /* a span of 1000 ns */
	size_t nr = 0;
	struct pyperf_time_range *r = parse("10%/2", a, b, false, &nr);

	REQUIRE(r);
	CHECK_EQ(nr, 1);
	CHECK_U64(r[0].start, 1100);
	CHECK_U64(r[0].end, 1199); /* one short, as perf */
	free(r);
	r = parse("0%-10%,90%-100%", a, b, false, &nr);
	REQUIRE(r);
	CHECK_EQ(nr, 2);
	CHECK_U64(r[0].start, 1000);
	CHECK_U64(r[0].end, 1099);
	CHECK_U64(r[1].start, 1900);
	CHECK_U64(r[1].end, 2000); /* the end stays the end */
	free(r);
	r = parse("50%", a, b, false, &nr);
	REQUIRE(r);
	CHECK_U64(r[0].start, 1000);
	CHECK_U64(r[0].end, 1499);
	free(r);
}

TEST(refused)
{
	static const char *const bad[] = {
	    "",	      "5",     "5,2",  "1,2,3", "a,b",	"1.1234567890,", "2,3 1,2",
	    "1, 2,3", "10%/0", "0%/1", "120%",	"10%-", "10%/1,5%-6%",	 "x%",
	    "1%,2%"};
	size_t nr;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct pyperf_error err = {0};
		struct pyperf_time_range *r =
		    pyperf_time_range__parse(bad[i], 1000, 2000, false, &nr, &err);

		if (r)
			fprintf(stderr, "accepted: '%s'\n", bad[i]);
		CHECK(!r);
		CHECK_EQ(errno, EINVAL);
		CHECK(err.text[0]);
		free(r);
	}
	/* shares need the recording's span */
	CHECK(!parse("10%/1", 0, 0, false, &nr));
	CHECK(!parse("1,2", 0, 0, true, &nr));
}

TEST(format)
{
	struct pyperf_time_range r[2] = {{12 * S + 345678000, 13 * S}, {14 * S, 0}};
	char buf[64];

	CHECK_STR(pyperf_time_range__format(r, 2, buf, sizeof(buf)),
		  "12.345678,13.000000 14.000000,");
}

int main(void)
{
	return RUN(CASE(absolute), CASE(relative), CASE(percent), CASE(refused), CASE(format));
}
