// SPDX-License-Identifier: MIT
/*
 * Perf maps and jitdumps of a process being recorded (symbols.c): while
 * recording, a miss re-reads what grew (symbols_refresh_perf_map). A
 * jitdump was reloaded, and the one before leaked, on every refresh when
 * an older perf map of the same pid (a dead process's) was in /tmp. Now
 * the jitdump is read again only when it grew, and a perf map replaces it
 * only when written after it. Under ASan a leak fails the test too.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <pyperf/symbols.h>
#include "check.h"
#include "symbols_internal.h"

#ifndef PYPERF_TEST_SHARED
static char map_path[64], jit_path[64];

static void put32(FILE *f, uint32_t v)
{
	fwrite(&v, 4, 1, f);
}

static void put64(FILE *f, uint64_t v)
{
	fwrite(&v, 8, 1, f);
}

/* A code load record: @name at @vma, 16 bytes of code. */
static void load(FILE *f, uint64_t vma, const char *name)
{
	size_t n = strlen(name) + 1;

	put32(f, 0);
	put32(f, (uint32_t)(56 + n + 16));
	put64(f, 1);
	put32(f, (uint32_t)getpid());
	put32(f, (uint32_t)getpid());
	put64(f, vma);
	put64(f, vma);
	put64(f, 16);
	put64(f, 0);
	fwrite(name, 1, n, f);
	for (int i = 0; i < 16; i++)
		fputc(0xc3, f);
}

static void write_jitdump(int loads)
{
	FILE *f = fopen(jit_path, "w");

	put32(f, 0x4A695444);
	put32(f, 1);
	put32(f, 40);
	put32(f, 62);
	put32(f, 0);
	put32(f, (uint32_t)getpid());
	put64(f, 1);
	put64(f, 0);
	for (int i = 0; i < loads; i++) {
		char name[32];

		snprintf(name, sizeof(name), "jit_%d", i);
		load(f, 0x7f0000000000 + 0x100 * (uint64_t)i, name);
	}
	fclose(f);
}

static void age(const char *path, int seconds)
{
	struct timespec ts[2];

	clock_gettime(CLOCK_REALTIME, &ts[0]);
	ts[0].tv_sec -= seconds;
	ts[1] = ts[0];
	utimensat(AT_FDCWD, path, ts, 0);
}

static void wait_past_the_rate_limit(void)
{
	usleep(6000); /* refreshes come at most every 5 ms */
}

TEST(a_jitdump_is_not_reread_for_an_older_perf_map)
{
	struct pyperf_symbols *s;
	struct pyperf_dso *d;
	const struct pyperf_symbol *sym;
	struct jitdump *first;
	FILE *f;

	snprintf(map_path, sizeof(map_path), "/tmp/perf-%d.map", (int)getpid());
	snprintf(jit_path, sizeof(jit_path), "/tmp/jit-%d.dump", (int)getpid());
	f = fopen(map_path, "w");
	REQUIRE(f);
	fprintf(f, "7f0000000000 10 stale_entry\n");
	fclose(f);
	age(map_path, 3600); /* a dead process's, an hour old */
	write_jitdump(3);
	s = pyperf_symbols__new(&(struct pyperf_symbols_opts){
	    .sz = sizeof(struct pyperf_symbols_opts), .no_kernel = true, .table_cache = ""});
	REQUIRE(s);
	d = pyperf_symbols__findnew_dso(s, map_path, NULL);
	REQUIRE(d);
	sym = pyperf_dso__find_symbol(d, 0x7f0000000100);
	CHECK(sym && !strcmp(sym->name, "jit_1"));
	first = d->jitdump;
	CHECK(first != NULL);
	for (int i = 0; i < 5; i++) {
		wait_past_the_rate_limit();
		CHECK(!symbols_refresh_perf_map(d));
		CHECK(d->jitdump == first); /* not parsed again (nor leaked) */
	}
	/* it grew: read again, the new code found */
	wait_past_the_rate_limit();
	write_jitdump(5);
	CHECK(symbols_refresh_perf_map(d));
	sym = pyperf_dso__find_symbol(d, 0x7f0000000400);
	CHECK(sym && !strcmp(sym->name, "jit_4"));
	/* a perf map written after the jitdump is the process's now */
	wait_past_the_rate_limit();
	f = fopen(map_path, "w");
	fprintf(f, "7f0000000000 10 fresh_entry\n");
	fclose(f);
	CHECK(symbols_refresh_perf_map(d));
	sym = pyperf_dso__find_symbol(d, 0x7f0000000000);
	CHECK(sym && !strcmp(sym->name, "fresh_entry"));
	CHECK(d->jitdump == NULL);
	pyperf_symbols__free(s);
	unlink(map_path);
	unlink(jit_path);
}
#endif

int main(void)
{
#ifdef PYPERF_TEST_SHARED
	puts("the refresh is internal: tested against the static library");
	return 0;
#else
	return RUN(CASE(a_jitdump_is_not_reread_for_an_older_perf_map));
#endif
}
