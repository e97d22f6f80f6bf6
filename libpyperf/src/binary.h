/* SPDX-License-Identifier: MIT */
#ifndef PYPERF_BINARY_H
#define PYPERF_BINARY_H

#include <stddef.h>

/* @cmd resolved through PATH to a real path. 0 or -errno. */
int binary_resolve(const char *cmd, char *out, size_t size);
/* The object holding most of a program's code: its libpython if it loads
 * one (returns 1), else the program itself (returns 0). */
int binary_code_object(const char *path, char *out, size_t size);

#endif
