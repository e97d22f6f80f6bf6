// SPDX-License-Identifier: MIT
/*
 * Fuzzes the jitdump parser (/tmp/jit-PID.dump, or one embedded in a
 * perf.data): code loads and moves become symbols, unwinding-info records
 * become the .eh_frame of an ELF image built in memory, which libdw then
 * reads. The bytes are parsed, every region is looked up, and the CFI is
 * asked for a frame at each region's start, middle and end; then the
 * same bytes go to a perf-map dso as an embedded jitdump would.
 *
 * Besides crashes, leaks and sanitizer reports (a 4-byte heap overflow in
 * the .eh_frame copy was found this way), the harness aborts when the
 * table breaks a promise: regions sorted, lookups covering the address.
 *
 * Built with libFuzzer (build/fuzz/fuzz-jitdump) and with
 * tests/fuzz/replay.c (build/{out,san}/tests/fuzz-jitdump-replay), which
 * replays tests/fuzz/corpus/jitdump in `make test`.
 */
#include <elfutils/libdw.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "fuzz.h"
#include <pyperf/symbols.h>
#include "jitdump.h"
#include "symtab.h"

FUZZ_QUIET_INITIALIZE

static void lookup(const struct symtab *t, uint64_t addr)
{
	const struct pyperf_symbol *s = symtab_find(t, addr);

	if (!s)
		return;
	EXPECT(s->name);
	EXPECT((s->start <= addr && addr < s->end) || (s->start == addr && s->end == addr));
	(void)strlen(s->name);
}

static void frame_at(Dwarf_CFI *cfi, uint64_t addr)
{
	Dwarf_Frame *frame = NULL;

	if (cfi && !dwarf_cfi_addrframe(cfi, addr, &frame)) {
		Dwarf_Op *ops;
		size_t n;

		(void)dwarf_frame_cfa(frame, &ops, &n);
		free(frame);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *buf, size_t size)
{
	struct jitdump *j = jitdump_parse(buf, size);
	struct pyperf_symbols *syms;
	struct pyperf_dso *dso;

	if (j) {
		const struct symtab *t = jitdump_symtab(j);
		Dwarf_CFI *cfi = jitdump_cfi(j);

		for (size_t i = 0; i < t->nr; i++) {
			const struct pyperf_symbol *s = symtab_at(t, i);

			EXPECT(s && s->name && s->start <= s->end);
			if (i)
				EXPECT(symtab_at(t, i - 1)->start <= s->start);
			if (i < 256 || i + 256 > t->nr) {
				lookup(t, s->start);
				lookup(t, s->end);
				if (s->end > s->start)
					lookup(t, s->end - 1);
				frame_at(cfi, s->start);
				frame_at(cfi, s->start + (s->end - s->start) / 2);
			}
		}
		lookup(t, 0);
		lookup(t, UINT64_MAX);
		jitdump_free(j);
	} else {
		EXPECT(errno == EBADMSG || errno == ENOMEM);
	}

	/* The same bytes as a jitdump embedded in a recording. */
	PYPERF_OPTS(pyperf_symbols_opts, sopts, .buildid_dir = "",
		    .symfs = "/nonexistent/pyperf-fuzz-symfs", .no_kernel = true,
		    .table_cache = "");
	syms = pyperf_symbols__new(&sopts);
	if (!syms)
		return 0;
	dso = pyperf_symbols__findnew_dso(syms, "/tmp/perf-2147483646.map", NULL);
	if (dso && !pyperf_dso__set_jitdump(dso, buf, size)) {
		size_t n = pyperf_dso__nr_symbols(dso);

		for (size_t i = 0; i < n && i < 64; i++) {
			const struct pyperf_symbol *s = pyperf_dso__symbol(dso, i);

			EXPECT(s && s->name);
			(void)pyperf_dso__find_symbol(dso, s->start);
		}
		(void)pyperf_dso__find_symbol(dso, 0);
	}
	pyperf_symbols__free(syms);
	return 0;
}
