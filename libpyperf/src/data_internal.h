/* SPDX-License-Identifier: MIT */
/*
 * The perf.data reader's state, shared by its parts: open and getters
 * (data_read.c), attrs (data_attrs.c), feature sections
 * (data_features.c), samples (data_sample.c), record bodies
 * (data_decode.c), compressed records (data_compressed.c), file-order
 * iteration (data_iter.c) and time order (data_order.c).
 */
#ifndef PYPERF_DATA_INTERNAL_H
#define PYPERF_DATA_INTERNAL_H

#include <pyperf/data.h>
#include "internal.h"
#include "order_queue.h"
#include "perf_file.h"

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
/* Records inflated from one COMPRESSED record. */
struct decomp_chunk {
	struct decomp_chunk *next;
	uint64_t len;
	/* records from here were queued with sequence numbers below this;
	 * UINT64_MAX while records still come from it */
	uint64_t seq_end;
	_Alignas(8) uint8_t data[];
};

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
	 * (pyperf_data_release_chunks), so memory follows the reorder window, not
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

	/* time-ordered iteration */
	struct pyperf_order_queue queue;
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
int pyperf_data_decode(struct pyperf_data *d, const void *p, uint64_t size, uint64_t offset);
/* The raw next record in file order, without decoding; 1/0/-errno. */
int pyperf_data_next_raw(struct pyperf_data *d, const void **p, uint64_t *offset,
			 struct pyperf_error *err);
/* Takes note of perf's own records: attrs, build ids, id index. */
void pyperf_data_handle_user_record(struct pyperf_data *d, const void *rec);
/* The timestamp a record sorts by, or 0 when it has none. */
uint64_t pyperf_data_record_time(struct pyperf_data *d, const void *p);

/* A writer on @fd (consumed; -1: in memory), @path naming it in errors. */
/* data_read.c: an empty reader (no file), named @name for messages. */
struct pyperf_data *pyperf_data_new(const char *name);
struct pyperf_data_writer *pyperf_data_writer_open_fd(int fd, const char *path,
						      struct pyperf_error *err);
/* From now on, pack records into COMPRESSED records (see
 * pyperf_data_writer_opts.compression): 0, -EOPNOTSUPP, -EINVAL, -ENOMEM. */
int pyperf_data_writer_set_compression(struct pyperf_data_writer *w, int level, size_t max_chunk);

/* Frees the decompressed chunks that no queued record with a sequence
 * number of @min_seq or more can point into (the queue's lowest; d->seq
 * when it is empty). */
void pyperf_data_release_chunks(struct pyperf_data *d, uint64_t min_seq);

/* data_read.c */
const char *pyperf_data_read_header_string(struct pyperf_data *d, const uint8_t **p,
					   const uint8_t *end);
bool pyperf_data_record_type_known(uint32_t type);

/* data_attrs.c: attrs and the id table */
int pyperf_data_popcount64(uint64_t x);
int pyperf_data_add_attr(struct pyperf_data *d, const uint8_t *raw, uint64_t size,
			 const uint8_t *ids, uint64_t nr);
int pyperf_data_ids_find(const struct pyperf_data *d, uint64_t id);
int pyperf_data_ids_insert(struct pyperf_data *d, uint64_t id, uint32_t idx);
void pyperf_data_refresh_attr_pointers(struct pyperf_data *d);
void pyperf_data_check_same_layout(struct pyperf_data *d);

/* data_features.c: feature sections */
int pyperf_data_add_build_id(struct pyperf_data *d, const uint8_t *rec, uint64_t size);
void pyperf_data_parse_build_id_feature(struct pyperf_data *d);
void pyperf_data_parse_cmdline_feature(struct pyperf_data *d);
void pyperf_data_parse_event_desc_feature(struct pyperf_data *d);
void pyperf_data_parse_embedded_files(struct pyperf_data *d);

/* data_sample.c: samples and sample_id trailers */
void pyperf_data_parse_trailer(const struct attr_entry *e, const uint8_t *rec, uint64_t size,
			       struct pyperf_sample *s);
const struct attr_entry *pyperf_data_record_attr(struct pyperf_data *d, const uint8_t *rec,
						 uint32_t type, uint64_t size);

/* data_compressed.c: COMPRESSED records */
int pyperf_data_decompress(struct pyperf_data *d, const uint8_t *src, uint64_t len,
			   struct pyperf_error *err);
int pyperf_data_carry_tail(struct pyperf_data *d);

#endif
