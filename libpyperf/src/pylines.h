/* SPDX-License-Identifier: MIT */
/*
 * CPython line tables: the line of the instruction at a byte offset of a
 * code object's bytecode, as the interpreter's own PyCode_Addr2Line()
 * gives it (a frame's f_lineno), for each version's format.
 */
#ifndef PYPERF_PYLINES_H
#define PYPERF_PYLINES_H

#include <stddef.h>
#include <stdint.h>

enum pyperf_pylines_format {
	PYPERF_PYLINES_LNOTAB,	  /* 3.8-3.9 co_lnotab: (bytes, line) increments */
	PYPERF_PYLINES_LINETABLE, /* 3.10 co_linetable: (bytes, line delta or -128) */
	PYPERF_PYLINES_LOCATIONS, /* 3.11+ co_linetable: the location table */
};

/* The format of a version (PY_VERSION_HEX of major.minor). */
enum pyperf_pylines_format pyperf_pylines_format_of(uint32_t version);

/* Bytes [start, end) of the bytecode are on @line (-1: no line). */
struct pyperf_pyline_range {
	uint32_t start, end;
	int32_t line;
};

/*
 * Decodes @table (@len bytes) of a code object whose first line is
 * @firstlineno into at most @max ranges in address order, adjacent ranges
 * of one line merged. Returns how many it would hold (more than @max: call
 * again with room for them all). A damaged table ends the ranges where it
 * stops making sense; nothing is read past @len.
 */
size_t pyperf_pylines_decode(enum pyperf_pylines_format fmt, const uint8_t *table, size_t len,
			     int firstlineno, struct pyperf_pyline_range *out, size_t max);

/*
 * The line at byte offset @off among @n decoded ranges; a negative offset
 * (a frame that has not started) gives @firstlineno, as CPython does.
 * Returns -1 where the table gives no line (3.10+: artificial
 * instructions) or does not reach @off.
 */
int pyperf_pylines_find(const struct pyperf_pyline_range *r, size_t n, int firstlineno,
			int64_t off);

/* Both in one go, for a single lookup. */
int pyperf_pyline(enum pyperf_pylines_format fmt, const uint8_t *table, size_t len, int firstlineno,
		  int64_t off);

#endif /* PYPERF_PYLINES_H */
