/* SPDX-License-Identifier: MIT */
/*
 * The perf.data format's on-disk constants, in one place for the reader
 * and the writers (tools/perf/Documentation/perf.data-file-format.txt,
 * include/uapi/linux/perf_event.h). Offsets into struct perf_event_attr
 * are checked against the kernel's header at compile time. Never
 * installed.
 */
#ifndef PYPERF_PERF_FILE_H
#define PYPERF_PERF_FILE_H

#include <stddef.h>
#include <linux/perf_event.h>

#define PERF_MAGIC2 0x32454c4946524550ULL /* "PERFILE2" */
#define PERF_MAGIC1 0x454c494646524550ULL /* "PERFFILE" */
#define FILE_HEADER_SIZE 104
#define PIPE_HEADER_SIZE 16
#define ATTR_SIZE_VER0 64
#define ATTR_MAX_SIZE 4096
#define RECORD_HEADER_SIZE 8

/* perf_event_attr field offsets (the struct only ever grows at the end). */
#define ATTR_OFF_TYPE 0
#define ATTR_OFF_SIZE 4
#define ATTR_OFF_CONFIG 8
#define ATTR_OFF_PERIOD 16
#define ATTR_OFF_SAMPLE_TYPE 24
#define ATTR_OFF_READ_FORMAT 32
#define ATTR_OFF_FLAGS 40
#define ATTR_OFF_BRANCH_SAMPLE_TYPE 72
#define ATTR_OFF_REGS_USER 80
#define ATTR_OFF_STACK_USER 88
#define ATTR_OFF_REGS_INTR 96

#define ATTR_FLAG_EXCLUDE_USER (1ULL << 4)
#define ATTR_FLAG_EXCLUDE_KERNEL (1ULL << 5)
#define ATTR_FLAG_EXCLUDE_HV (1ULL << 6)
#define ATTR_FLAG_FREQ (1ULL << 10)
#define ATTR_PRECISE_SHIFT 15
#define ATTR_FLAG_SAMPLE_ID_ALL (1ULL << 18)

#define READ_FORMAT_TOTAL_TIME_ENABLED (1ULL << 0)
#define READ_FORMAT_TOTAL_TIME_RUNNING (1ULL << 1)
#define READ_FORMAT_ID (1ULL << 2)
#define READ_FORMAT_GROUP (1ULL << 3)
#define READ_FORMAT_LOST (1ULL << 4)
/* LOST_SAMPLES of samples a BPF filter dropped on purpose: not lost */
#define MISC_LOST_SAMPLES_BPF (1U << 15)

#define BRANCH_SAMPLE_HW_INDEX (1ULL << 17)
#define BRANCH_SAMPLE_COUNTERS (1ULL << 19)

#define MISC_MMAP_BUILD_ID (1 << 14)
#define MISC_BUILD_ID_SIZE (1 << 15)
/* Feature section of pyperf-record's embedded perf maps and jitdumps
 * (beyond perf's own feature bits; perf skips it). */
#define FEAT_EMBEDDED_FILES 250

_Static_assert(ATTR_OFF_TYPE == offsetof(struct perf_event_attr, type), "attr.type");
_Static_assert(ATTR_OFF_SIZE == offsetof(struct perf_event_attr, size), "attr.size");
_Static_assert(ATTR_OFF_CONFIG == offsetof(struct perf_event_attr, config), "attr.config");
_Static_assert(ATTR_OFF_PERIOD == offsetof(struct perf_event_attr, sample_period),
	       "attr.sample_period");
_Static_assert(ATTR_OFF_SAMPLE_TYPE == offsetof(struct perf_event_attr, sample_type),
	       "attr.sample_type");
_Static_assert(ATTR_OFF_READ_FORMAT == offsetof(struct perf_event_attr, read_format),
	       "attr.read_format");
_Static_assert(ATTR_OFF_FLAGS == offsetof(struct perf_event_attr, read_format) + 8,
	       "attr flags word");
_Static_assert(ATTR_OFF_BRANCH_SAMPLE_TYPE == offsetof(struct perf_event_attr, branch_sample_type),
	       "attr.branch_sample_type");
_Static_assert(ATTR_OFF_REGS_USER == offsetof(struct perf_event_attr, sample_regs_user),
	       "attr.sample_regs_user");
_Static_assert(ATTR_OFF_STACK_USER == offsetof(struct perf_event_attr, sample_stack_user),
	       "attr.sample_stack_user");
_Static_assert(ATTR_OFF_REGS_INTR == offsetof(struct perf_event_attr, sample_regs_intr),
	       "attr.sample_regs_intr");
_Static_assert(ATTR_SIZE_VER0 == PERF_ATTR_SIZE_VER0, "attr size, version 0");
_Static_assert(RECORD_HEADER_SIZE == sizeof(struct perf_event_header), "record header");
_Static_assert(READ_FORMAT_TOTAL_TIME_ENABLED == PERF_FORMAT_TOTAL_TIME_ENABLED, "read_format");
_Static_assert(READ_FORMAT_TOTAL_TIME_RUNNING == PERF_FORMAT_TOTAL_TIME_RUNNING, "read_format");
_Static_assert(READ_FORMAT_ID == PERF_FORMAT_ID, "read_format");
_Static_assert(READ_FORMAT_GROUP == PERF_FORMAT_GROUP, "read_format");
_Static_assert(READ_FORMAT_LOST == PERF_FORMAT_LOST, "read_format");
_Static_assert(MISC_MMAP_BUILD_ID == PERF_RECORD_MISC_MMAP_BUILD_ID, "misc");
_Static_assert(BRANCH_SAMPLE_HW_INDEX == PERF_SAMPLE_BRANCH_HW_INDEX, "branch_sample_type");

#endif /* PYPERF_PERF_FILE_H */
