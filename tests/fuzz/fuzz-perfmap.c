// SPDX-License-Identifier: MIT
/*
 * Fuzzes the perf map parser (/tmp/perf-PID.map text): parse, walk the
 * entries, look up addresses at and around them, then give the same text
 * to a perf-map dso as an embedded map would be.
 *
 * Besides crashes, leaks and sanitizer reports, the harness aborts when the
 * table breaks a promise of map.h: entries sorted by start, lookups that
 * return an entry covering the address.
 *
 * Built with libFuzzer (build/fuzz/fuzz-perfmap) and with
 * tests/fuzz/replay.c (build/{out,san}/tests/fuzz-perfmap-replay).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "fuzz.h"
#include <pyperf/map.h>
#include <pyperf/symbols.h>

FUZZ_QUIET_INITIALIZE

static void lookup(const struct pyperf_map_table *t, uint64_t addr)
{
	const struct pyperf_symbol *sym = pyperf_map_table__find(t, addr);

	if (!sym)
		return;
	EXPECT(sym->name);
	/* A zero-size entry matches its own start, as perf's symbol lookup
	 * does (symtab.c: covers()). */
	EXPECT((sym->start <= addr && addr < sym->end) ||
	       (sym->start == addr && sym->end == sym->start));
	/* The name is a copy; reading it all must stay inside it. */
	(void)strlen(sym->name);
}

int LLVMFuzzerTestOneInput(const uint8_t *buf, size_t size)
{
	const char *text = (const char *)buf;
	struct pyperf_map_table *t;
	struct pyperf_symbols *syms;
	struct pyperf_dso *dso;
	size_t n, lines = 1;

	pyperf_set_print(NULL);
	t = pyperf_map_table__parse(text, size);
	if (!t)
		return 0; /* ENOMEM only */
	n = pyperf_map_table__size(t);
	for (size_t i = 0; i < size; i++)
		lines += buf[i] == '\n';
	EXPECT(pyperf_map_table__bad_lines(t) <= lines);
	EXPECT(n <= lines);

	for (size_t i = 0; i < n; i++) {
		const struct pyperf_symbol *e = pyperf_map_table__entry(t, i);

		EXPECT(e && e->name);
		EXPECT(e->start <= e->end);
		if (i) {
			const struct pyperf_symbol *prev = pyperf_map_table__entry(t, i - 1);

			EXPECT(prev->start <= e->start);
		}
		(void)strlen(e->name);
		/* A few lookups per entry: its start, its last byte, its end,
		 * and the gap before the next one. */
		if (i < 64 || i + 64 > n) {
			lookup(t, e->start);
			lookup(t, e->end);
			if (e->end > e->start)
				lookup(t, e->end - 1);
			if (e->start)
				lookup(t, e->start - 1);
			if (i + 1 < n) {
				const struct pyperf_symbol *next =
				    pyperf_map_table__entry(t, i + 1);

				lookup(t, e->start + (next->start - e->start) / 2);
			}
		}
	}
	EXPECT(!pyperf_map_table__entry(t, n));
	EXPECT(!pyperf_map_table__entry(t, SIZE_MAX));
	lookup(t, 0);
	lookup(t, 1);
	lookup(t, UINT64_MAX);
	lookup(t, UINT64_MAX - 1);
	lookup(t, (uint64_t)1 << 63);
	if (n) {
		const struct pyperf_symbol *first = pyperf_map_table__entry(t, 0);
		const struct pyperf_symbol *last = pyperf_map_table__entry(t, n - 1);

		/* An entry the table keeps covers its own start unless it is
		 * empty; then nothing is promised. */
		if (first->end > first->start)
			EXPECT(pyperf_map_table__find(t, first->start));
		if (last->end > last->start)
			EXPECT(pyperf_map_table__find(t, last->end - 1));
		lookup(t, first->start + (last->end - first->start) / 2);
	}
	pyperf_map_table__free(t);

	/* The same text as a map embedded in a recording. */
	PYPERF_OPTS(pyperf_symbols_opts, sopts, .buildid_dir = "",
		    .symfs = "/nonexistent/pyperf-fuzz-symfs", .no_kernel = true);
	syms = pyperf_symbols__new(&sopts);
	if (!syms)
		return 0;
	dso = pyperf_symbols__findnew_dso(syms, "/tmp/perf-2147483646.map", NULL);
	if (dso && !pyperf_dso__set_perf_map(dso, text, size)) {
		size_t nsyms = pyperf_dso__nr_symbols(dso);

		for (size_t i = 0; i < nsyms && i < 64; i++) {
			const struct pyperf_symbol *s = pyperf_dso__symbol(dso, i);

			EXPECT(s && s->name);
			(void)pyperf_dso__find_symbol(dso, s->start);
			(void)pyperf_symbol__is_python(s);
		}
		(void)pyperf_dso__find_symbol(dso, 0);
		(void)pyperf_dso__find_symbol(dso, UINT64_MAX);
	}
	pyperf_symbols__free(syms);
	return 0;
}
