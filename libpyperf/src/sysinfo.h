/* SPDX-License-Identifier: MIT */
#ifndef PYPERF_SYSINFO_H
#define PYPERF_SYSINFO_H

#include <stdint.h>

struct pyperf_data_writer;

/* [start, end) of the kernel's text, from /proc/kallsyms (_text.._etext). */
int sysinfo_kernel_text(uint64_t *start, uint64_t *end);
/* hostname, osrelease, arch, version, nrcpus, cpudesc, cpuid, total_mem */
int sysinfo_write_features(struct pyperf_data_writer *w, const char *version);
/* CMDLINE from /proc/self */
int sysinfo_write_cmdline(struct pyperf_data_writer *w);

#endif
