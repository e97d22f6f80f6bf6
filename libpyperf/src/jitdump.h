/* SPDX-License-Identifier: MIT */
#ifndef PYPERF_JITDUMP_H
#define PYPERF_JITDUMP_H

#include <elfutils/libdw.h>
#include <stdbool.h>
#include <stddef.h>

struct jitdump;
struct symtab;

/* Parses a jitdump image (a trailing partial record is ignored). */
struct jitdump *jitdump_parse(const void *buf, size_t size);
/* Reads one the way perf maps are read: regular file, ours unless @force. */
struct jitdump *jitdump_load(const char *path, bool force);
void jitdump_free(struct jitdump *j);
/* The code regions as symbols. */
struct symtab *jitdump_symtab(struct jitdump *j);
/* CFI of the regions that came with unwinding info, or NULL. Addresses are
 * the code's absolute addresses. */
Dwarf_CFI *jitdump_cfi(struct jitdump *j);

#endif
