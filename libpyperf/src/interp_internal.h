/* SPDX-License-Identifier: MIT */
/* A located CPython process, shared by interp.c, pycode.c and interp_walker.c. */
#ifndef PYPERF_INTERP_INTERNAL_H
#define PYPERF_INTERP_INTERNAL_H

#include <limits.h>
#include <pyperf/interp.h>
#include "internal.h"
#include "interp_bpf.h"
#include "pylines.h"
#include "pyoffsets.h"

struct pycode;

struct pyperf_interp {
	int pid;
	unsigned version;    /* 0x030b for 3.11 */
	char path[PATH_MAX]; /* the file holding _PyRuntime, as mapped */
	uint8_t build_id[20];
	int build_id_size;
	uint64_t bias;	       /* load address of that file */
	uint64_t runtime;      /* &_PyRuntime */
	uint64_t code_type;    /* &PyCode_Type */
	uint64_t unicode_type; /* &PyUnicode_Type */
	uint64_t bytes_type;   /* &PyBytes_Type */
	struct pyperf_pyoffsets off;
	struct pyperf_walk_proc proc; /* what the BPF program gets */
	enum pyperf_pylines_format lines;
	bool gone; /* the process exited */
	/* code objects read so far (pycode.c) */
	struct pycode *codes;
	size_t nr_codes, cap_codes;
	struct pp_hslot *code_slots; /* index + 1 into codes, by address hash */
	size_t cap_slots;
	struct pp_strtab strings;
	struct pp_arena arena;
	struct pyperf_interp_stats stats;
};

/* Reads @n bytes at @addr of the process: 0, -ESRCH (gone), -EFAULT... */
int pyperf_interp_read(struct pyperf_interp *ip, uint64_t addr, void *buf, size_t n);
void pyperf_interp_codes_free(struct pyperf_interp *ip);

#endif /* PYPERF_INTERP_INTERNAL_H */
