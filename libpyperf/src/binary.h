/* SPDX-License-Identifier: MIT */
#ifndef PYPERF_BINARY_H
#define PYPERF_BINARY_H

#include <stddef.h>

/* @cmd resolved through PATH to a real path. 0 or -errno. */
int binary_resolve(const char *cmd, char *out, size_t size);
/* The object holding most of a program's code: its libpython if it loads
 * one (returns 1), else the program itself (returns 0). */
int binary_code_object(const char *path, char *out, size_t size);

/*
 * Opens an ELF file named by a recording or a command line (a library, an
 * executable, a debug file, a build-id cache link) for libelf, through
 * pyperf_open_untrusted(): any owner, symlinks followed, but never a FIFO
 * or device; mapped when pyperf_file_mappable(), else read. Returns the
 * Elf (NULL: not opened, or not ELF at all, errno saying which: ENOMEM
 * when libelf ran out of memory) with *@fd open for elf_end() then
 * close(); *@fd is -1 when nothing is open.
 */
typedef struct Elf Elf;
Elf *pyperf_elf_open(const char *path, int *fd);

#endif
