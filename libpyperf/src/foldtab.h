/* SPDX-License-Identifier: MIT */
/*
 * Folded stacks being counted: "comm;outer;...;leaf" strings, each with a
 * weight, merged when equal and written sorted as "STACK WEIGHT" lines, as
 * stackcollapse-perf.pl prints them. Shared by the collapsed writer (from
 * a profile) and the perf script folder (from text).
 */
#ifndef PYPERF_FOLDTAB_H
#define PYPERF_FOLDTAB_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "internal.h"

struct pp_folded_line {
	const char *text;
	size_t len;
	uint64_t weight;
};

struct pp_foldtab {
	struct pp_folded_line *lines;
	size_t nr, cap;
	struct pp_hslot *slots;
	size_t slots_cap;
	struct pp_arena arena; /* the lines' text */
};

void pp_foldtab_init(struct pp_foldtab *t);
/* Adds @w to the line @s (@n bytes), copying it if new; weights saturate. */
int pp_foldtab_add(struct pp_foldtab *t, const char *s, size_t n, uint64_t w);
/* The index of line @s (@n bytes) in t->lines, added with weight 0 if new;
 * -ENOMEM. */
long pp_foldtab_index(struct pp_foldtab *t, const char *s, size_t n);
/* Writes the lines in ascending byte order. Return: 0 or -EIO. */
int pp_foldtab_write(struct pp_foldtab *t, FILE *out);
void pp_foldtab_free(struct pp_foldtab *t);

#endif
