/* SPDX-License-Identifier: MIT */
/*
 * Line tables of CPython 3.8-3.13 (Objects/lnotab_notes.txt for 3.8-3.10,
 * InternalDocs/locations.md for 3.11+). Each format is read as a run of
 * address ranges, each with its line.
 */
#include <stdbool.h>
#include "pylines.h"

enum pyperf_pylines_format pyperf_pylines_format_of(uint32_t version)
{
	if (version < 0x030a0000)
		return PYPERF_PYLINES_LNOTAB;
	if (version < 0x030b0000)
		return PYPERF_PYLINES_LINETABLE;
	return PYPERF_PYLINES_LOCATIONS;
}

struct it {
	const uint8_t *t;
	size_t len, i;
	int64_t start;
	int line;
	bool done;
};

/* 3.11+ varints: 6 bits a byte, bit 6 says another byte follows. */
static int varint(struct it *it, uint32_t *out)
{
	uint32_t v = 0;
	unsigned shift = 0;

	for (;;) {
		uint8_t b;

		if (it->i >= it->len || shift > 30)
			return -1;
		b = it->t[it->i++];
		v |= (uint32_t)(b & 63) << shift;
		if (!(b & 64))
			break;
		shift += 6;
	}
	*out = v;
	return 0;
}

static int svarint(struct it *it, int *out)
{
	uint32_t u;

	if (varint(it, &u))
		return -1;
	*out = u & 1 ? -(int)(u >> 1) : (int)(u >> 1);
	return 0;
}

/*
 * 3.8-3.9: PyCode_Addr2Line() adds an entry's line increment once its
 * address increment has been passed, so the first range (up to the first
 * increment) has the first line and the last runs to the end of the code.
 */
static bool lnotab_next(struct it *it, int64_t *start, int64_t *end, int *line)
{
	if (it->done)
		return false;
	*start = it->start;
	*line = it->line;
	while (it->i + 1 < it->len) {
		uint8_t a = it->t[it->i];
		int8_t l = (int8_t)it->t[it->i + 1];

		it->i += 2;
		if (a) {
			*end = it->start = it->start + a;
			it->line += l;
			return true;
		}
		it->line += l; /* a line jump of more than 127 spans entries */
		*line = it->line;
	}
	*end = INT64_MAX;
	it->done = true;
	return true;
}

/* 3.10: (length in bytes, line delta) pairs; -128 marks a range without line. */
static bool linetable_next(struct it *it, int64_t *start, int64_t *end, int *line)
{
	uint8_t a;
	int8_t l;

	if (it->i + 1 >= it->len)
		return false;
	a = it->t[it->i];
	l = (int8_t)it->t[it->i + 1];
	it->i += 2;
	*start = it->start;
	*end = it->start += a;
	if (l == -128) {
		*line = -1;
	} else {
		it->line += l;
		*line = it->line;
	}
	return true;
}

/*
 * 3.11+: entries start with a byte 1CCCCLLL: code C, length L+1 code units.
 * 15: no location; 14: long form (line delta, end line, columns); 13: line
 * delta only; 10-12: delta C-10 plus two column bytes; 0-9: same line, one
 * column byte.
 */
static bool locations_next(struct it *it, int64_t *start, int64_t *end, int *line)
{
	uint8_t b;
	unsigned code;
	int delta = 0;
	uint32_t skip;

	if (it->i >= it->len)
		return false;
	b = it->t[it->i++];
	if (!(b & 0x80))
		return false; /* not an entry's first byte: damaged */
	code = (b >> 3) & 15;
	switch (code) {
	case 15:
		break;
	case 14:
		if (svarint(it, &delta) || varint(it, &skip) || varint(it, &skip) ||
		    varint(it, &skip))
			return false;
		break;
	case 13:
		if (svarint(it, &delta))
			return false;
		break;
	case 10:
	case 11:
	case 12:
		delta = (int)code - 10;
		it->i += 2;
		break;
	default:
		it->i += 1;
		break;
	}
	if (it->i > it->len)
		return false;
	*start = it->start;
	*end = it->start += 2 * ((b & 7) + 1);
	if (code == 15) {
		*line = -1;
	} else {
		it->line += delta;
		*line = it->line;
	}
	return true;
}

static bool next(enum pyperf_pylines_format fmt, struct it *it, int64_t *start, int64_t *end,
		 int *line)
{
	switch (fmt) {
	case PYPERF_PYLINES_LNOTAB:
		return lnotab_next(it, start, end, line);
	case PYPERF_PYLINES_LINETABLE:
		return linetable_next(it, start, end, line);
	case PYPERF_PYLINES_LOCATIONS:
		return locations_next(it, start, end, line);
	}
	return false;
}

size_t pyperf_pylines_decode(enum pyperf_pylines_format fmt, const uint8_t *table, size_t len,
			     int firstlineno, struct pyperf_pyline_range *out, size_t max)
{
	struct it it = {.t = table, .len = len, .line = firstlineno};
	int64_t start, end;
	int line;
	size_t n = 0;

	while (next(fmt, &it, &start, &end, &line)) {
		if (end > UINT32_MAX)
			end = UINT32_MAX;
		if (start >= end)
			continue;
		if (n && n <= max && out[n - 1].line == line && out[n - 1].end == start) {
			out[n - 1].end = (uint32_t)end;
			continue;
		}
		if (n < max)
			out[n] = (struct pyperf_pyline_range){(uint32_t)start, (uint32_t)end, line};
		n++;
		if (end == UINT32_MAX)
			break;
	}
	return n;
}

int pyperf_pylines_find(const struct pyperf_pyline_range *r, size_t n, int firstlineno, int64_t off)
{
	size_t lo = 0, hi = n;

	if (off < 0)
		return firstlineno;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (off < r[mid].start)
			hi = mid;
		else if (off >= r[mid].end)
			lo = mid + 1;
		else
			return r[mid].line;
	}
	return -1;
}

int pyperf_pyline(enum pyperf_pylines_format fmt, const uint8_t *table, size_t len, int firstlineno,
		  int64_t off)
{
	struct it it = {.t = table, .len = len, .line = firstlineno};
	int64_t start, end;
	int line;

	if (off < 0)
		return firstlineno;
	while (next(fmt, &it, &start, &end, &line))
		if (off >= start && off < end)
			return line;
	return -1;
}
