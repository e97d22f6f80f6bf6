/* SPDX-License-Identifier: MIT */
/* The perf.data reader's state, shared by data_read.c and data_order.c. */
#ifndef PYPERF_DATA_INTERNAL_H
#define PYPERF_DATA_INTERNAL_H

#include <pyperf/data.h>
#include "internal.h"

/* Where a sample keeps its event id, and how long the sample_id trailer of
 * other records is, for one attr. */
struct attr_layout {
	int sample_id_pos;     /* u64 index after the header, or -1 */
	unsigned trailer_size; /* bytes of sample_id at the end of non-samples */
	int trailer_id_pos;    /* u64 index counted back from the end, or -1 */
	int trailer_time_pos;  /* same, for the timestamp */
};

struct attr_entry {
	struct pyperf_attr attr;
	struct attr_layout layout;
	uint64_t *ids; /* owned */
	char *name;    /* owned */
	void *raw;     /* owned copy of the attr bytes */
};

struct id_slot {
	uint64_t id;
	uint32_t attr_idx;
	bool used;
};

/* An entry of the time-ordering queue (data_order.c). */
struct queued {
	uint64_t time;
	uint64_t seq; /* arrival order breaks ties, as in perf */
	const void *rec;
	uint64_t offset;
};

struct decomp_chunk;

/* perf's own record types start here; the kernel's stay below. */
#define RECORD_USER_TYPE_START 64

struct pyperf_data {
	bool features_oom; /* a feature parser could not allocate */
	char *name;
	const uint8_t *base; /* the file image */
	uint64_t size;
	void *map;   /* mmap of the file, or NULL */
	void *owned; /* aligned copy for open_mem, or NULL */
	size_t map_size;

	uint64_t attr_size;
	struct attr_entry *attrs;
	size_t nr_attrs, cap_attrs;
	struct id_slot *ids; /* id -> attr, open addressing */
	size_t ids_cap, ids_count;
	bool same_layout; /* all attrs place the id alike */

	uint64_t data_offset, data_size, data_end;
	uint64_t data_size_claimed;
	bool size_from_file;
	uint64_t feat_offset[PYPERF_FEAT_MAX];
	uint64_t feat_size[PYPERF_FEAT_MAX];
	bool feat_present[PYPERF_FEAT_MAX];
	char **cmdline;
	size_t cmdline_argc;
	struct pyperf_embedded_file *embedded;
	size_t nr_embedded;
	struct pyperf_build_id *build_ids;
	size_t nr_build_ids, cap_build_ids;
	struct pp_arena arena; /* strings that live as long as the file */

	/* file-order iteration */
	uint64_t pos;
	int sticky_err;
	struct pyperf_error sticky_error;
	struct pyperf_record rec;
	uint8_t *scratch; /* aligned copy of a misaligned record */
	bool warned_malformed[PYPERF_RECORD_TYPE_MAX];

	/* records decompressed from PERF_RECORD_COMPRESSED */
	void *zstd;
	/* Chunks oldest first; one is freed once no queued record points in
	 * (data__release_chunks), so memory follows the reorder window, not
	 * the file. */
	struct decomp_chunk *chunks, *chunks_tail;
	struct decomp_chunk *cur_chunk;
	bool ordered;		/* read by pyperf_data__next_ordered() */
	uint64_t inflate_limit; /* bytes one COMPRESSED record may give */
	uint64_t chunk_bytes;	/* held in chunks now */
	uint64_t chunk_pos;
	uint64_t comp_offset; /* offset of the COMPRESSED record */
	uint8_t *carry;	      /* a record split across COMPRESSED records */
	size_t carry_len, carry_cap;

	/* time-ordered iteration: sorted runs, and a heap for the rest */
	struct order_run {
		struct queued *q;
		size_t head, len, cap; /* queued: q[head..len) */
	} runs[8];
	unsigned nr_runs;
	struct queued *heap;
	size_t heap_len, heap_cap;
	uint64_t seq;
	uint64_t max_time;
	uint64_t next_flush;
	uint64_t last_flush;
	bool flushing; /* draining up to flush_limit */
	uint64_t flush_limit;
	bool input_done;
	int pending_err;
	struct pyperf_error pending_error;
	uint64_t released; /* bytes of the mapping handed back to the kernel */

	struct pyperf_data_stats stats;
};

/* Decodes the record at @p (8-byte aligned, @size bytes) into d->rec. */
int data__decode(struct pyperf_data *d, const void *p, uint64_t size, uint64_t offset);
/* The raw next record in file order, without decoding; 1/0/-errno. */
int data__next_raw(struct pyperf_data *d, const void **p, uint64_t *offset,
		   struct pyperf_error *err);
/* Takes note of perf's own records: attrs, build ids, id index. */
void data__handle_user_record(struct pyperf_data *d, const void *rec);
/* The timestamp a record sorts by, or 0 when it has none. */
uint64_t data__record_time(struct pyperf_data *d, const void *p);

/* A writer on @fd (consumed; -1: in memory), @path naming it in errors. */
struct pyperf_data_writer *pyperf_data_writer_open_fd(int fd, const char *path,
						      struct pyperf_error *err);

/* Frees the decompressed chunks that no queued record with a sequence
 * number of @min_seq or more can point into (the queue's lowest; d->seq
 * when it is empty). */
void data__release_chunks(struct pyperf_data *d, uint64_t min_seq);

#endif
