/* SPDX-License-Identifier: MIT */
/*
 * Line tables of CPython 3.8-3.13 against each interpreter's own answers.
 * The truth files (tests/interp/lines_truth.py, run by each interpreter)
 * list every code object's table and the line PyCode_Addr2Line gives each
 * bytecode offset. Without arguments the committed files of
 * tests/data/pylines/ are checked; with arguments, those files (the
 * integration test makes them afresh from every interpreter here).
 */
#include <dirent.h>
#include <stdlib.h>
#include "check.h"
#include "pylines.h"
#ifdef PYPERF_TEST_SHARED
/* internal, so not exported by libpyperf.so: this variant compiles it in */
#include "pylines.c"
#endif

static int check_truth_file(const char *path)
{
	FILE *f = fopen(path, "r");
	char *line = NULL, name[512];
	size_t cap = 0, codes = 0, offsets = 0, bad = 0;
	unsigned major = 0, minor = 0;
	enum pyperf_pylines_format fmt = PYPERF_PYLINES_LNOTAB;
	uint8_t *table = NULL;
	size_t tlen = 0;
	int first = 0;
	struct pyperf_pyline_range *ranges = NULL;
	size_t nranges = 0;

	if (!f) {
		CHECK_FAIL_("%s: cannot open", path);
		return -1;
	}
	while (getline(&line, &cap, f) > 0) {
		if (sscanf(line, "version %u.%u", &major, &minor) == 2) {
			fmt = pyperf_pylines_format_of((major << 24) | (minor << 16));
			continue;
		}
		if (!strncmp(line, "code ", 5)) {
			char *hex = malloc(strlen(line));
			size_t nbytes;

			if (!hex ||
			    sscanf(line, "code %d %s %zu %511s", &first, hex, &nbytes, name) != 4) {
				CHECK_FAIL_("%s: bad line %.60s", path, line);
				free(hex);
				break;
			}
			free(table);
			tlen = strcmp(hex, "-") ? strlen(hex) / 2 : 0;
			table = malloc(tlen + 1);
			for (size_t i = 0; i < tlen; i++) {
				unsigned b;

				sscanf(hex + 2 * i, "%2x", &b);
				table[i] = (uint8_t)b;
			}
			free(hex);
			free(ranges);
			nranges = pyperf_pylines_decode(fmt, table, tlen, first, NULL, 0);
			ranges = calloc(nranges + 1, sizeof(*ranges));
			nranges = pyperf_pylines_decode(fmt, table, tlen, first, ranges, nranges);
			codes++;
			continue;
		}
		/* "off:line off:line ..." for the code above */
		for (char *tok = strtok(line, " \n"); tok; tok = strtok(NULL, " \n")) {
			long long off;
			int want, got, got2;

			if (sscanf(tok, "%lld:%d", &off, &want) != 2)
				continue;
			offsets++;
			got = pyperf_pyline(fmt, table, tlen, first, off);
			got2 = pyperf_pylines_find(ranges, nranges, first, off);
			if (got != want || got2 != want) {
				if (bad++ < 10)
					CHECK_FAIL_("%s: %s offset %lld: line %d (ranges %d), "
						    "interpreter %d",
						    path, name, off, got, got2, want);
			}
		}
	}
	printf("%s: %u.%u, %zu code objects, %zu offsets, %zu wrong\n", path, major, minor, codes,
	       offsets, bad);
	CHECK(codes > 0 && offsets > codes);
	free(line);
	free(table);
	free(ranges);
	fclose(f);
	return bad ? -1 : 0;
}

TEST(committed_truth)
{
	const char *dir = "tests/data/pylines";
	DIR *d = opendir(dir);
	struct dirent *e;
	int files = 0;

	CHECK(d != NULL);
	while (d && (e = readdir(d))) {
		char path[512];

		if (!strstr(e->d_name, ".txt"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		check_truth_file(path);
		files++;
	}
	if (d)
		closedir(d);
	/* one per format at least: 3.8, 3.10, 3.11 */
	CHECK(files >= 3);
}

/* Hand-made tables for the corner cases, with what CPython's algorithm gives. */
TEST(hand_made)
{
	/* 3.8: (6 bytes, +1), (0, +127) (0, +73): a 200-line jump, (4, -2) */
	static const uint8_t lnotab[] = {6, 1, 0, 127, 0, 73, 4, 0xfe};
	/* 3.10: 4 bytes line 10, 2 bytes no line, 6 bytes +3 */
	static const uint8_t lt310[] = {4, 0, 2, 0x80, 6, 3};
	/* 3.11: short form (code 0, 2 units), one-line +1 (code 11, 1 unit), no
	 * location (15, 1 unit), long form -5 (14, 3 units), no-column +200 (13,
	 * its varint in two bytes) */
	static const uint8_t loc[] = {0x81, 0x00, 0xd8, 1, 2,	 0xf8, 0xf2,
				      11,   0,	  1,	1, 0xe8, 0x50, 0x06};
	struct pyperf_pyline_range r[16];

	CHECK_EQ(pyperf_pyline(PYPERF_PYLINES_LNOTAB, lnotab, sizeof(lnotab), 10, -2), 10);
	CHECK_EQ(pyperf_pyline(PYPERF_PYLINES_LNOTAB, lnotab, sizeof(lnotab), 10, 0), 10);
	CHECK_EQ(pyperf_pyline(PYPERF_PYLINES_LNOTAB, lnotab, sizeof(lnotab), 10, 5), 10);
	CHECK_EQ(pyperf_pyline(PYPERF_PYLINES_LNOTAB, lnotab, sizeof(lnotab), 10, 6), 211);
	CHECK_EQ(pyperf_pyline(PYPERF_PYLINES_LNOTAB, lnotab, sizeof(lnotab), 10, 10), 209);
	CHECK_EQ(pyperf_pyline(PYPERF_PYLINES_LNOTAB, lnotab, sizeof(lnotab), 10, 1000), 209);

	CHECK_EQ(pyperf_pyline(PYPERF_PYLINES_LINETABLE, lt310, sizeof(lt310), 10, 2), 10);
	CHECK_EQ(pyperf_pyline(PYPERF_PYLINES_LINETABLE, lt310, sizeof(lt310), 10, 4), -1);
	CHECK_EQ(pyperf_pyline(PYPERF_PYLINES_LINETABLE, lt310, sizeof(lt310), 10, 8), 13);
	CHECK_EQ(pyperf_pyline(PYPERF_PYLINES_LINETABLE, lt310, sizeof(lt310), 10, 12), -1);

	CHECK_EQ(pyperf_pyline(PYPERF_PYLINES_LOCATIONS, loc, sizeof(loc), 10, 0), 10);
	CHECK_EQ(pyperf_pyline(PYPERF_PYLINES_LOCATIONS, loc, sizeof(loc), 10, 2), 10);
	CHECK_EQ(pyperf_pyline(PYPERF_PYLINES_LOCATIONS, loc, sizeof(loc), 10, 4), 11);
	CHECK_EQ(pyperf_pyline(PYPERF_PYLINES_LOCATIONS, loc, sizeof(loc), 10, 6), -1);
	CHECK_EQ(pyperf_pyline(PYPERF_PYLINES_LOCATIONS, loc, sizeof(loc), 10, 8), 6);
	CHECK_EQ(pyperf_pyline(PYPERF_PYLINES_LOCATIONS, loc, sizeof(loc), 10, 12), 6);
	CHECK_EQ(pyperf_pyline(PYPERF_PYLINES_LOCATIONS, loc, sizeof(loc), 10, 14), 206);
	CHECK_EQ(pyperf_pyline(PYPERF_PYLINES_LOCATIONS, loc, sizeof(loc), 10, 16), -1);
	CHECK_EQ(pyperf_pylines_decode(PYPERF_PYLINES_LOCATIONS, loc, sizeof(loc), 10, r, 16), 5);
}

/* Damaged tables: any bytes decode without reading past the end. */
TEST(damaged)
{
	uint8_t buf[64];
	struct pyperf_pyline_range r[128];

	srand(1);
	for (int round = 0; round < 20000; round++) {
		size_t len = (size_t)(rand() % (int)sizeof(buf));
		uint8_t *t = malloc(len ? len : 1);

		for (size_t i = 0; i < len; i++)
			t[i] = (uint8_t)rand();
		for (int fmt = 0; fmt < 3; fmt++) {
			size_t n = pyperf_pylines_decode(fmt, t, len, 1, r, 128);

			CHECK(n <= 128);
			pyperf_pyline(fmt, t, len, 1, rand() % 200);
		}
		free(t);
	}
}

int main(int argc, char **argv)
{
	if (argc > 1) {
		int ret = 0;

		for (int i = 1; i < argc; i++)
			ret |= check_truth_file(argv[i]);
		return ret ? 1 : 0;
	}
	return RUN(CASE(committed_truth), CASE(hand_made), CASE(damaged));
}
