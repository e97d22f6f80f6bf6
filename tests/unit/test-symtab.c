// SPDX-License-Identifier: MIT
/*
 * Symbol lookups (symtab.c) stay O(log n) whatever the overlaps: one entry
 * covering a JIT region and 100,000 tiny ones inside it (a perf map any
 * process can write, and any perf.data can embed) took 8.3 s for a report
 * that perf makes in 0.29 s, each lookup walking back over the tiny ones.
 * The entries each lookup looks at are counted, so the bound is checked
 * without timing anything. Results: perf maps as perf's tree finds them
 * (the integration test compares names with perf report), other tables
 * the innermost covering symbol, checked against a brute-force scan.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pyperf/map.h>
#include "check.h"
#include "symtab.h"

#ifndef PYPERF_TEST_SHARED
#define TINY 100000

static double log2n(size_t n)
{
	return log2((double)n + 1);
}

/* Lookups at every tiny entry's start, inside it, in the gap after it. */
static size_t worst_steps(const struct symtab *t, uint64_t base, size_t n, size_t *misses)
{
	size_t worst = 0;

	*misses = 0;
	for (size_t i = 0; i < n; i++) {
		uint64_t a = base + 16 * i;
		uint64_t probes[3] = {a, a + 3, a + 9};

		for (int k = 0; k < 3; k++) {
			size_t steps = 0;

			if (!symtab_find_counted(t, probes[k], &steps))
				++*misses;
			worst = steps > worst ? steps : worst;
		}
	}
	return worst;
}

TEST(perf_map_with_a_covering_entry_and_tiny_ones)
{
	size_t len = 0, cap = 64 * (TINY + 2), misses, worst;
	char *text = malloc(cap);
	struct pyperf_map_table *m;

	REQUIRE(text);
	len += (size_t)snprintf(text + len, cap - len, "100000 %x py::cover:/x.py\n", 16 * TINY);
	for (size_t i = 0; i < TINY; i++)
		len += (size_t)snprintf(text + len, cap - len, "%zx 8 py::f%zu:/x.py\n",
					0x100000 + 16 * i, i);
	m = pyperf_map_table__parse(text, len);
	REQUIRE(m);
	worst = worst_steps(pyperf_map_table__symtab(m), 0x100000, TINY, &misses);
	printf("  perf map: %d entries, at most %zu entries looked at per lookup\n", TINY + 1,
	       worst);
	/* a red-black tree is at most 2 log2(n + 1) deep */
	CHECK(worst <= (size_t)(2 * log2n(TINY + 1)) + 1);
	pyperf_map_table__free(m);
	free(text);
}

static void fill(struct symtab *t, bool staircase)
{
	symtab_init(t);
	/* the covering symbol, then tiny ones, or ever shorter nested ones */
	symtab_add(t, 0x100000, 0x100000 + 16 * TINY, "cover", 5);
	for (size_t i = 0; i < TINY; i++) {
		uint64_t s = 0x100000 + 16 * i + 1;
		uint64_t e = staircase ? 0x100000 + 16 * TINY - 16 * i : s + 7;
		char name[32];

		snprintf(name, sizeof(name), "f%zu", i);
		symtab_add(t, s, e > s ? e : s + 1, name, strlen(name));
	}
}

TEST(elf_like_tables_with_overlaps)
{
	for (int staircase = 0; staircase < 2; staircase++) {
		struct symtab t;
		size_t misses, worst;

		fill(&t, staircase);
		REQUIRE(!symtab_finish(&t, SYMTAB_KEEP));
		worst = worst_steps(&t, 0x100000, TINY, &misses);
		printf("  %s: at most %zu entries looked at per lookup, %zu misses\n",
		       staircase ? "nested staircase" : "cover + tiny", worst, misses);
		/* a binary search, two blocks of 16, a walk up and down the tree */
		CHECK(worst <= (size_t)(3 * log2n(TINY + 1)) + 2 * SYMTAB_BLOCK + 2);
		CHECK_EQ(misses, 0); /* the cover covers everything */
		symtab_free(&t);
	}
}

/* The innermost symbol: the last starting at or before @a covering it. */
static const struct pyperf_symbol *brute(const struct symtab *t, uint64_t a)
{
	for (size_t i = t->nr; i-- > 0;) {
		const struct pyperf_symbol *s = &t->syms[i];

		if (s->start <= a && (a < s->end || (a == s->start && s->start == s->end)))
			return s;
	}
	return NULL;
}

TEST(innermost_symbol_as_a_scan_finds_it)
{
	unsigned seed = 12345;
	int wrong = 0;

	for (int round = 0; round < 300; round++) {
		struct symtab t;
		size_t n = 1 + (size_t)(rand_r(&seed) % 200);

		symtab_init(&t);
		for (size_t i = 0; i < n; i++) {
			uint64_t s = (uint64_t)(rand_r(&seed) % 2000);
			uint64_t len = rand_r(&seed) % 5 ? (uint64_t)(rand_r(&seed) % 20)
							 : (uint64_t)(rand_r(&seed) % 1500);

			symtab_add(&t, s, s + len, "s", 1);
		}
		REQUIRE(!symtab_finish(&t, round % 2 ? SYMTAB_KEEP : SYMTAB_LAST_WINS));
		for (uint64_t a = 0; a < 3600; a++)
			wrong += symtab_find(&t, a) != brute(&t, a);
		symtab_free(&t);
	}
	CHECK_EQ(wrong, 0);
}
#endif

int main(void)
{
#ifdef PYPERF_TEST_SHARED
	puts("symtab is internal: tested against the static library");
	return 0;
#else
	return RUN(CASE(perf_map_with_a_covering_entry_and_tiny_ones),
		   CASE(elf_like_tables_with_overlaps), CASE(innermost_symbol_as_a_scan_finds_it));
#endif
}
