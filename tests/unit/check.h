/* SPDX-License-Identifier: MIT */
/*
 * A tiny unit test harness. Each tests/unit/test-*.c is its own program
 * (a crash stays local); assertions print file, line and both values and
 * mark the current test failed without stopping the others.
 *
 *	TEST(parses_header) { CHECK_EQ(1, 1); }
 *	int main(void) { return RUN(parses_header, ...); }
 */
#ifndef PYPERF_TEST_CHECK_H
#define PYPERF_TEST_CHECK_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int check_failed_now;
static int check_failures;

#define CHECK_FAIL_(fmt, ...)                                                                      \
	do {                                                                                       \
		fprintf(stderr, "%s:%d: " fmt "\n", __FILE__, __LINE__, ##__VA_ARGS__);            \
		check_failed_now = 1;                                                              \
	} while (0)

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond))                                                                       \
			CHECK_FAIL_("CHECK(%s) failed", #cond);                                    \
	} while (0)

#define CHECK_EQ(a, b)                                                                             \
	do {                                                                                       \
		long long check_a_ = (long long)(a), check_b_ = (long long)(b);                    \
		if (check_a_ != check_b_)                                                          \
			CHECK_FAIL_("%s == %s: %lld != %lld", #a, #b, check_a_, check_b_);         \
	} while (0)

#define CHECK_U64(a, b)                                                                            \
	do {                                                                                       \
		uint64_t check_a_ = (uint64_t)(a), check_b_ = (uint64_t)(b);                       \
		if (check_a_ != check_b_)                                                          \
			CHECK_FAIL_("%s == %s: %#" PRIx64 " != %#" PRIx64, #a, #b, check_a_,       \
				    check_b_);                                                     \
	} while (0)

#define CHECK_STR(a, b)                                                                            \
	do {                                                                                       \
		const char *check_a_ = (a), *check_b_ = (b);                                       \
		if (!check_a_ || !check_b_ || strcmp(check_a_, check_b_))                          \
			CHECK_FAIL_("%s == %s: \"%s\" != \"%s\"", #a, #b,                          \
				    check_a_ ? check_a_ : "(null)",                                \
				    check_b_ ? check_b_ : "(null)");                               \
	} while (0)

#define CHECK_CONTAINS(hay, needle)                                                                \
	do {                                                                                       \
		const char *check_h_ = (hay), *check_n_ = (needle);                                \
		if (!check_h_ || !strstr(check_h_, check_n_))                                      \
			CHECK_FAIL_("\"%s\" does not contain \"%s\"",                              \
				    check_h_ ? check_h_ : "(null)", check_n_);                     \
	} while (0)

/* Stops the current test when a precondition fails. */
#define REQUIRE(cond)                                                                              \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			CHECK_FAIL_("REQUIRE(%s) failed", #cond);                                  \
			return;                                                                    \
		}                                                                                  \
	} while (0)

#define TEST(name) static void test_##name(void)

struct check_case {
	const char *name;
	void (*fn)(void);
};

static inline int check_run(const struct check_case *cases, size_t n, const char *file)
{
	const char *only = getenv("TEST_ONLY");

	for (size_t i = 0; i < n; i++) {
		if (only && strcmp(only, cases[i].name))
			continue;
		check_failed_now = 0;
		cases[i].fn();
		printf("%s %s: %s\n", check_failed_now ? "FAIL" : "ok  ", file, cases[i].name);
		check_failures += check_failed_now;
	}
	return check_failures ? 1 : 0;
}

#define CASE(name)                                                                                 \
	{                                                                                          \
#name, test_##name                                                                 \
	}
#define RUN(...)                                                                                   \
	({                                                                                         \
		static const struct check_case check_cases_[] = {__VA_ARGS__};                     \
		check_run(check_cases_, sizeof(check_cases_) / sizeof(check_cases_[0]), __FILE__); \
	})

#endif
