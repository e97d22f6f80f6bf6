/* SPDX-License-Identifier: MIT */
#ifndef PYPERF_JITDUMP_H
#define PYPERF_JITDUMP_H

#include <elfutils/libdw.h>
#include <stdbool.h>
#include <stddef.h>

struct jitdump;
struct symtab;

struct stat;
struct pyperf_error;

/* Parses a jitdump image (a trailing partial record is ignored). NULL
 * with errno EBADMSG (not a jitdump) or ENOMEM. */
struct jitdump *jitdump_parse(const void *buf, size_t size);
/* Reads one the way perf maps are read (untrusted.h: regular file, ours
 * unless @force); @st (may be NULL) gets the file's stat, @err (may be
 * NULL) why it was not read. NULL with errno set. */
struct jitdump *jitdump_load(const char *path, bool force, struct stat *st,
			     struct pyperf_error *err);
/* Records skipped as malformed. */
size_t jitdump_bad_records(const struct jitdump *j);
void jitdump_free(struct jitdump *j);
/* The code regions as symbols. */
struct symtab *jitdump_symtab(struct jitdump *j);
/* CFI of the regions that came with unwinding info, or NULL. Addresses are
 * the code's absolute addresses. */
Dwarf_CFI *jitdump_cfi(struct jitdump *j);

#endif
