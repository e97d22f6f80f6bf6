/* SPDX-License-Identifier: MIT */
/*
 * Reading perf.data files.
 *
 * A struct pyperf_data is one perf.data file (PERFILE2, native endian),
 * opened from a path (mmapped) or from a memory buffer. Records come out in
 * file order with pyperf_data__next(), or in time order with
 * pyperf_data__next_ordered(), which reorders within the window that
 * FINISHED_ROUND records bound, as perf does.
 *
 * Damage is never fatal to what came before it: the iterators return every
 * record up to the damage, then -EBADMSG with a struct pyperf_error naming
 * the file, the byte offset and the problem. A record whose header is sound
 * but whose body is not (a sample whose fields overrun it, a name without
 * its terminating NUL) is skipped and counted in the stats; iteration goes
 * on.
 */
#ifndef PYPERF_DATA_H
#define PYPERF_DATA_H

#include <stdbool.h>
#include <stdint.h>
#include <pyperf/pyperf.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Record types, numbered as the kernel and perf number them. */
enum pyperf_record_type {
	PYPERF_RECORD_MMAP = 1,
	PYPERF_RECORD_LOST = 2,
	PYPERF_RECORD_COMM = 3,
	PYPERF_RECORD_EXIT = 4,
	PYPERF_RECORD_THROTTLE = 5,
	PYPERF_RECORD_UNTHROTTLE = 6,
	PYPERF_RECORD_FORK = 7,
	PYPERF_RECORD_READ = 8,
	PYPERF_RECORD_SAMPLE = 9,
	PYPERF_RECORD_MMAP2 = 10,
	PYPERF_RECORD_AUX = 11,
	PYPERF_RECORD_ITRACE_START = 12,
	PYPERF_RECORD_LOST_SAMPLES = 13,
	PYPERF_RECORD_SWITCH = 14,
	PYPERF_RECORD_SWITCH_CPU_WIDE = 15,
	PYPERF_RECORD_NAMESPACES = 16,
	PYPERF_RECORD_KSYMBOL = 17,
	PYPERF_RECORD_BPF_EVENT = 18,
	PYPERF_RECORD_CGROUP = 19,
	PYPERF_RECORD_TEXT_POKE = 20,
	PYPERF_RECORD_AUX_OUTPUT_HW_ID = 21,
	/* Records perf itself writes. */
	PYPERF_RECORD_HEADER_ATTR = 64,
	PYPERF_RECORD_HEADER_EVENT_TYPE = 65,
	PYPERF_RECORD_HEADER_TRACING_DATA = 66,
	PYPERF_RECORD_HEADER_BUILD_ID = 67,
	PYPERF_RECORD_FINISHED_ROUND = 68,
	PYPERF_RECORD_ID_INDEX = 69,
	PYPERF_RECORD_AUXTRACE_INFO = 70,
	PYPERF_RECORD_AUXTRACE = 71,
	PYPERF_RECORD_AUXTRACE_ERROR = 72,
	PYPERF_RECORD_THREAD_MAP = 73,
	PYPERF_RECORD_CPU_MAP = 74,
	PYPERF_RECORD_STAT_CONFIG = 75,
	PYPERF_RECORD_STAT = 76,
	PYPERF_RECORD_STAT_ROUND = 77,
	PYPERF_RECORD_EVENT_UPDATE = 78,
	PYPERF_RECORD_TIME_CONV = 79,
	PYPERF_RECORD_HEADER_FEATURE = 80,
	PYPERF_RECORD_COMPRESSED = 81,
	PYPERF_RECORD_FINISHED_INIT = 82,
	PYPERF_RECORD_TYPE_MAX = 128,
};

/* sample_type bits, with the kernel's values (PERF_SAMPLE_*). */
#define PYPERF_SAMPLE_IP (1ULL << 0)
#define PYPERF_SAMPLE_TID (1ULL << 1)
#define PYPERF_SAMPLE_TIME (1ULL << 2)
#define PYPERF_SAMPLE_ADDR (1ULL << 3)
#define PYPERF_SAMPLE_READ (1ULL << 4)
#define PYPERF_SAMPLE_CALLCHAIN (1ULL << 5)
#define PYPERF_SAMPLE_ID (1ULL << 6)
#define PYPERF_SAMPLE_CPU (1ULL << 7)
#define PYPERF_SAMPLE_PERIOD (1ULL << 8)
#define PYPERF_SAMPLE_STREAM_ID (1ULL << 9)
#define PYPERF_SAMPLE_RAW (1ULL << 10)
#define PYPERF_SAMPLE_BRANCH_STACK (1ULL << 11)
#define PYPERF_SAMPLE_REGS_USER (1ULL << 12)
#define PYPERF_SAMPLE_STACK_USER (1ULL << 13)
#define PYPERF_SAMPLE_WEIGHT (1ULL << 14)
#define PYPERF_SAMPLE_DATA_SRC (1ULL << 15)
#define PYPERF_SAMPLE_IDENTIFIER (1ULL << 16)
#define PYPERF_SAMPLE_TRANSACTION (1ULL << 17)
#define PYPERF_SAMPLE_REGS_INTR (1ULL << 18)
#define PYPERF_SAMPLE_PHYS_ADDR (1ULL << 19)
#define PYPERF_SAMPLE_AUX (1ULL << 20)
#define PYPERF_SAMPLE_CGROUP (1ULL << 21)
#define PYPERF_SAMPLE_DATA_PAGE_SIZE (1ULL << 22)
#define PYPERF_SAMPLE_CODE_PAGE_SIZE (1ULL << 23)
#define PYPERF_SAMPLE_WEIGHT_STRUCT (1ULL << 24)
#define PYPERF_SAMPLE_MAX (1ULL << 25)

/* header.misc: where the sample was taken (PERF_RECORD_MISC_CPUMODE_*). */
#define PYPERF_CPUMODE_MASK 7
#define PYPERF_CPUMODE_UNKNOWN 0
#define PYPERF_CPUMODE_KERNEL 1
#define PYPERF_CPUMODE_USER 2
#define PYPERF_CPUMODE_HYPERVISOR 3
#define PYPERF_CPUMODE_GUEST_KERNEL 4
#define PYPERF_CPUMODE_GUEST_USER 5
/* On COMM records: the comm changed because the thread called exec(). */
#define PYPERF_MISC_COMM_EXEC (1 << 13)

/* Callchain context markers (PERF_CONTEXT_*): entries at or above
 * PYPERF_CONTEXT_MAX are not addresses but say whose frames follow. */
#define PYPERF_CONTEXT_HV ((uint64_t)-32)
#define PYPERF_CONTEXT_KERNEL ((uint64_t)-128)
#define PYPERF_CONTEXT_USER ((uint64_t)-512)
#define PYPERF_CONTEXT_GUEST ((uint64_t)-2048)
#define PYPERF_CONTEXT_GUEST_KERNEL ((uint64_t)-2176)
#define PYPERF_CONTEXT_GUEST_USER ((uint64_t)-2560)
#define PYPERF_CONTEXT_MAX ((uint64_t)-4095)

/*
 * Why a sample's stack is incomplete: its outermost frames are missing, so
 * its outermost frame is not where the thread started. pyperf-record marks
 * a cut stack in the file by ending the sample's callchain with N
 * PYPERF_CONTEXT_USER markers, N being the cause (1 to PYPERF_CUT_SHED).
 * perf and other readers take a marker as a switch to user context and
 * show no frame for it, so the file reads as without the mark. A chain the
 * kernel stopped at its frame limit can end with one such marker (the user
 * context it had no room left to fill): that is PYPERF_CUT_MAX_STACK too.
 */
enum pyperf_stack_cut {
	PYPERF_CUT_NONE,
	PYPERF_CUT_MAX_STACK,  /* more frames than were kept (a frame limit) */
	PYPERF_CUT_STACK_COPY, /* deeper than the stack copy */
	PYPERF_CUT_NO_CFI,     /* code without unwind information */
	PYPERF_CUT_NO_MAP,     /* a return address outside every mapping */
	PYPERF_CUT_BAD_FRAME,  /* registers or stack memory that make no sense, or
				  a frame-pointer chain that ends in garbage */
	PYPERF_CUT_SHED,       /* the recorder was behind: only the user address kept */
	PYPERF_CUT_CORRUPT,    /* an unknown context marker: the chain was dropped */
	PYPERF_CUT_NR,
};

/** pyperf_stack_cut__name() - "max-stack", "stack-copy", "no-cfi", "no-map"... */
PYPERF_API const char *pyperf_stack_cut__name(enum pyperf_stack_cut cut);

/**
 * pyperf_callchain__cut() - the cut mark at the end of a callchain.
 * @chain: the sample's callchain, leaf first.
 * @nr: its entries.
 * @nr_before: receives the number of entries before the mark (@nr when
 *	       there is none); may be NULL.
 *
 * Return: the cause, or PYPERF_CUT_NONE for an unmarked chain.
 */
PYPERF_API enum pyperf_stack_cut pyperf_callchain__cut(const uint64_t *chain, uint64_t nr,
						       uint64_t *nr_before);

/*
 * One event (perf_event_attr) of the recording. Fields are copied from the
 * file; fields the file's attr is too old to hold are zero.
 */
struct pyperf_attr {
	uint32_t type; /* PERF_TYPE_* */
	uint32_t size; /* attr size in the file */
	uint64_t config;
	uint64_t sample_period; /* or the frequency when freq */
	uint64_t sample_type;	/* PYPERF_SAMPLE_* */
	uint64_t read_format;
	uint64_t flags; /* the attr's bit-field word */
	uint64_t branch_sample_type;
	uint64_t sample_regs_user;
	uint32_t sample_stack_user;
	uint64_t sample_regs_intr;
	bool freq;
	bool sample_id_all;
	bool exclude_user;
	bool exclude_kernel;
	const char *name; /* "cpu-clock:ppp" (event_desc) or derived */
	uint64_t nr_ids;
	const uint64_t *ids;
	const void *raw; /* the attr as stored, @size bytes */
};

/*
 * A decoded sample. Pointers point into the record and live as long as it.
 * @present holds the PYPERF_SAMPLE_* bits of the fields that were decoded.
 * For records other than SAMPLE, the same struct holds the sample_id
 * trailer (pid, tid, time, id, stream_id, cpu) when the event has one.
 */
struct pyperf_sample {
	uint64_t present;
	uint16_t cpumode; /* PYPERF_CPUMODE_* from header.misc */
	uint64_t ip;
	uint32_t pid, tid;
	uint64_t time;
	uint64_t addr;
	uint64_t id;
	uint64_t stream_id;
	uint32_t cpu;
	uint64_t period;
	const void *read; /* struct read_format, read_size bytes */
	uint32_t read_size;
	uint64_t callchain_nr;
	const uint64_t *callchain; /* callchain_nr entries, leaf first */
	uint32_t raw_size;
	const void *raw; /* tracepoint data */
	uint64_t branch_nr;
	uint64_t branch_hw_idx;
	const uint64_t *branches; /* branch_nr entries of {from, to, flags} */
	uint64_t regs_user_abi;	  /* 0: no registers (kernel thread) */
	uint64_t regs_user_mask;
	const uint64_t *regs_user;    /* one per bit of regs_user_mask */
	uint64_t stack_user_size;     /* bytes copied */
	uint64_t stack_user_dyn_size; /* of which valid */
	const uint8_t *stack_user;
	uint64_t weight; /* WEIGHT, or WEIGHT_STRUCT's var1_dw */
	uint16_t weight_var2, weight_var3;
	uint64_t data_src;
	uint64_t transaction;
	uint64_t regs_intr_abi;
	uint64_t regs_intr_mask;
	const uint64_t *regs_intr;
	uint64_t phys_addr;
	uint64_t cgroup;
	uint64_t data_page_size;
	uint64_t code_page_size;
	uint64_t aux_size;
	const void *aux;
};

/* MMAP and MMAP2 records. */
struct pyperf_record_mmap {
	uint32_t pid, tid;
	uint64_t start, len, pgoff;
	bool mmap2;
	bool has_build_id; /* MMAP2 with PERF_RECORD_MISC_MMAP_BUILD_ID */
	uint8_t build_id_size;
	uint8_t build_id[20];
	uint32_t maj, min;
	uint64_t ino, ino_generation;
	uint32_t prot, flags; /* MMAP2 only; PROT_EXEC assumed for MMAP */
	const char *filename;
};

/* COMM records. */
struct pyperf_record_comm {
	uint32_t pid, tid;
	bool exec;
	const char *comm;
};

/* FORK and EXIT records. */
struct pyperf_record_task {
	uint32_t pid, ppid, tid, ptid;
	uint64_t time;
};

/* LOST (lost = records) and LOST_SAMPLES (lost = samples). */
struct pyperf_record_lost {
	uint64_t id;
	uint64_t lost;
};

/* KSYMBOL records: a kernel text region (BPF program, trampoline) comes or goes. */
struct pyperf_record_ksymbol {
	uint64_t addr;
	uint32_t len;
	uint16_t ksym_type;
	uint16_t flags; /* bit 0: unregister */
	const char *name;
};

/* THROTTLE and UNTHROTTLE records. */
struct pyperf_record_throttle {
	uint64_t time, id, stream_id;
};

/*
 * One record. @data points at the record as stored (header first), 8-byte
 * aligned. For records that came out of a COMPRESSED record, @offset is the
 * offset of that COMPRESSED record. @attr is the event the record belongs
 * to, or NULL for records that carry no event id (perf's own records).
 * Only the union member that @type names is filled.
 */
struct pyperf_record {
	uint32_t type;
	uint16_t misc;
	uint16_t size;
	uint64_t offset;
	const void *data;
	const struct pyperf_attr *attr;
	union {
		struct pyperf_record_mmap mmap;
		struct pyperf_record_comm comm;
		struct pyperf_record_task task;
		struct pyperf_record_lost lost;
		struct pyperf_record_ksymbol ksymbol;
		struct pyperf_record_throttle throttle;
	};
	/* last: fields appended to struct pyperf_sample move nothing else */
	struct pyperf_sample sample;
};

/* Header feature bits (HEADER_*), numbered as perf numbers them. */
enum pyperf_feature {
	PYPERF_FEAT_TRACING_DATA = 1,
	PYPERF_FEAT_BUILD_ID = 2,
	PYPERF_FEAT_HOSTNAME = 3,
	PYPERF_FEAT_OSRELEASE = 4,
	PYPERF_FEAT_VERSION = 5,
	PYPERF_FEAT_ARCH = 6,
	PYPERF_FEAT_NRCPUS = 7,
	PYPERF_FEAT_CPUDESC = 8,
	PYPERF_FEAT_CPUID = 9,
	PYPERF_FEAT_TOTAL_MEM = 10,
	PYPERF_FEAT_CMDLINE = 11,
	PYPERF_FEAT_EVENT_DESC = 12,
	PYPERF_FEAT_CPU_TOPOLOGY = 13,
	PYPERF_FEAT_NUMA_TOPOLOGY = 14,
	PYPERF_FEAT_BRANCH_STACK = 15,
	PYPERF_FEAT_PMU_MAPPINGS = 16,
	PYPERF_FEAT_GROUP_DESC = 17,
	PYPERF_FEAT_AUXTRACE = 18,
	PYPERF_FEAT_STAT = 19,
	PYPERF_FEAT_CACHE = 20,
	PYPERF_FEAT_SAMPLE_TIME = 21,
	PYPERF_FEAT_MEM_TOPOLOGY = 22,
	PYPERF_FEAT_CLOCKID = 23,
	PYPERF_FEAT_DIR_FORMAT = 24,
	PYPERF_FEAT_BPF_PROG_INFO = 25,
	PYPERF_FEAT_BPF_BTF = 26,
	PYPERF_FEAT_COMPRESSED = 27,
	PYPERF_FEAT_CPU_PMU_CAPS = 28,
	PYPERF_FEAT_CLOCK_DATA = 29,
	PYPERF_FEAT_HYBRID_TOPOLOGY = 30,
	PYPERF_FEAT_PMU_CAPS = 31,
	PYPERF_FEAT_MAX = 256,
};

/* A build id from the BUILD_ID feature (or a HEADER_BUILD_ID record). */
struct pyperf_build_id {
	int32_t pid;	  /* -1: kernel or any process */
	uint16_t cpumode; /* PYPERF_CPUMODE_* */
	uint8_t size;	  /* bytes of @id in use (20 for SHA-1) */
	uint8_t id[20];
	const char *filename;
};

/* What the reader counted. */
struct pyperf_data_stats {
	uint64_t records[PYPERF_RECORD_TYPE_MAX]; /* by type (file order) */
	uint64_t unknown_records;		  /* types the reader does not know */
	uint64_t malformed_records;		  /* skipped: body does not fit its size */
	uint64_t unknown_ids;			  /* samples whose event id is not in attrs */
	uint64_t out_of_order;			  /* arrived after their time was flushed */
	uint64_t lost_records;			  /* sum of LOST records */
	uint64_t lost_samples;			  /* sum of LOST_SAMPLES records (not BPF drops) */
	uint64_t compressed_bytes;		  /* decompressed from COMPRESSED */
};

struct pyperf_data;

struct pyperf_data_open_opts {
	size_t sz;
	/*
	 * Read a file whose header says its data section is empty (perf record
	 * or pyperf-record killed before finishing it) by taking the data
	 * section to run to the end of the file. On by default; set
	 * strict_size to refuse such files instead.
	 */
	bool strict_size;
	/*
	 * Read a file that another user owns (root's and the caller's are
	 * always read), as perf's -f does: such a file could be made to say
	 * anything. Without it those files fail with EPERM.
	 */
	bool force;
	size_t : 0;
};
#define pyperf_data_open_opts__last_field force

/**
 * pyperf_data__open() - open a perf.data file.
 * @path: file to read; "-" is not supported (no pipe mode yet).
 * @opts: options, or NULL for defaults.
 * @err: filled on failure; may be NULL.
 *
 * The file is mapped read-only; the header, attrs and feature sections are
 * checked now, records are read by the iterators.
 *
 * Return: a new object to free with pyperf_data__close(), or NULL with
 * errno set: ENOENT/EACCES (open), EBADMSG (not a valid perf.data),
 * EOPNOTSUPP (byte-swapped, pipe-mode or version 1 file), ENOMEM.
 */
PYPERF_API struct pyperf_data *pyperf_data__open(const char *path,
						 const struct pyperf_data_open_opts *opts,
						 struct pyperf_error *err);

/**
 * pyperf_data__open_mem() - read a perf.data image held in memory.
 * @buf: the image; copied if it is not 8-byte aligned, else borrowed and
 *	 must outlive the object.
 * @size: its size.
 * @name: name used in messages, or NULL for "<memory>".
 * @opts, @err: as for pyperf_data__open().
 */
PYPERF_API struct pyperf_data *pyperf_data__open_mem(const void *buf, size_t size, const char *name,
						     const struct pyperf_data_open_opts *opts,
						     struct pyperf_error *err);

/** pyperf_data__close() - unmap and free; NULL is accepted. */
PYPERF_API void pyperf_data__close(struct pyperf_data *data);

/** pyperf_data__name() - the path or name given at open. Borrowed. */
PYPERF_API const char *pyperf_data__name(const struct pyperf_data *data);

/** pyperf_data__nr_attrs() - number of events in the recording. */
PYPERF_API size_t pyperf_data__nr_attrs(const struct pyperf_data *data);

/** pyperf_data__attr() - event @idx, or NULL if out of range. Borrowed. */
PYPERF_API const struct pyperf_attr *pyperf_data__attr(const struct pyperf_data *data, size_t idx);

/** pyperf_data__attr_by_id() - the event a sample id belongs to, or NULL. */
PYPERF_API const struct pyperf_attr *pyperf_data__attr_by_id(const struct pyperf_data *data,
							     uint64_t id);

/** pyperf_data__has_feature() - whether the header holds feature @feat. */
PYPERF_API bool pyperf_data__has_feature(const struct pyperf_data *data, enum pyperf_feature feat);

/**
 * pyperf_data__feature() - the raw bytes of a feature section.
 * @data: the file.
 * @feat: feature bit.
 * @size: set to the section's size.
 *
 * Return: a borrowed pointer into the file, or NULL if the feature is absent.
 */
PYPERF_API const void *pyperf_data__feature(const struct pyperf_data *data,
					    enum pyperf_feature feat, uint64_t *size);

/**
 * pyperf_data__feature_string() - a string feature: HOSTNAME, OSRELEASE,
 * VERSION, ARCH, CPUDESC or CPUID.
 *
 * Return: a borrowed NUL-terminated string, or NULL if absent or malformed.
 */
PYPERF_API const char *pyperf_data__feature_string(const struct pyperf_data *data,
						   enum pyperf_feature feat);

/**
 * pyperf_data__cmdline() - the recording command line (CMDLINE feature).
 * @argc: set to the number of arguments.
 *
 * Return: a borrowed array of @argc strings, or NULL if absent.
 */
PYPERF_API const char *const *pyperf_data__cmdline(const struct pyperf_data *data, size_t *argc);

/**
 * pyperf_data__nr_cpus() - the NRCPUS feature.
 * Return: 0 and the two counts, or -ENOENT if absent.
 */
PYPERF_API int pyperf_data__nr_cpus(const struct pyperf_data *data, uint32_t *available,
				    uint32_t *online);

/** pyperf_data__total_mem() - TOTAL_MEM in KiB, or 0 if absent. */
PYPERF_API uint64_t pyperf_data__total_mem(const struct pyperf_data *data);

/** pyperf_data__nr_build_ids() - build ids from the header and records so far. */
PYPERF_API size_t pyperf_data__nr_build_ids(const struct pyperf_data *data);

/** pyperf_data__build_id() - build id @idx. Borrowed. */
PYPERF_API const struct pyperf_build_id *pyperf_data__build_id(const struct pyperf_data *data,
							       size_t idx);

/**
 * pyperf_data__find_build_id() - the build id recorded for a file name,
 * or NULL. Borrowed.
 */
PYPERF_API const struct pyperf_build_id *pyperf_data__find_build_id(const struct pyperf_data *data,
								    const char *filename);

/* A file pyperf-record copied into the recording (PYPERF_FEAT_EMBEDDED_FILES
 * in record.h): a perf map or a jitdump of a recorded process. */
struct pyperf_embedded_file {
	uint32_t kind; /* 1: perf map, 2: jitdump */
	int32_t pid;
	const char *path; /* where it was: "/tmp/perf-PID.map" */
	const void *data; /* its bytes, borrowed from the file */
	uint64_t size;
};

/** pyperf_data__nr_embedded_files() - files embedded by pyperf-record. */
PYPERF_API size_t pyperf_data__nr_embedded_files(const struct pyperf_data *data);

/** pyperf_data__embedded_file() - embedded file @idx. Borrowed. */
PYPERF_API const struct pyperf_embedded_file *
pyperf_data__embedded_file(const struct pyperf_data *data, size_t idx);

/** pyperf_data__data_size() - bytes in the data section as read. */
PYPERF_API uint64_t pyperf_data__data_size(const struct pyperf_data *data);

/**
 * pyperf_data__size_from_file() - whether the data section's size had to be
 * taken from the file length (an unfinished recording).
 */
PYPERF_API bool pyperf_data__size_from_file(const struct pyperf_data *data);

/**
 * pyperf_data__next() - the next record in file order.
 * @data: the file.
 * @rec: set to a record valid until the next call on @data.
 * @err: filled when -EBADMSG or -EOPNOTSUPP is returned; may be NULL.
 *
 * Return: 1 with a record, 0 at the end, a negative errno on damage
 * (-EBADMSG) or on a record that cannot be read here (-EOPNOTSUPP:
 * COMPRESSED without zstd); further calls return the same error.
 */
PYPERF_API int pyperf_data__next(struct pyperf_data *data, const struct pyperf_record **rec,
				 struct pyperf_error *err);

/**
 * pyperf_data__next_ordered() - the next record in time order.
 *
 * Records with a timestamp are queued and released when a FINISHED_ROUND
 * (or the end of the data) shows that nothing earlier can follow; records
 * without one (perf's own records, and synthesized ones stamped 0) pass
 * straight through, as in perf. Do not mix with pyperf_data__next().
 *
 * Return: as for pyperf_data__next(). On damage, the records queued before
 * it are still delivered first.
 */
PYPERF_API int pyperf_data__next_ordered(struct pyperf_data *data, const struct pyperf_record **rec,
					 struct pyperf_error *err);

/** pyperf_data__stats() - counts so far. Borrowed; updated by the iterators. */
PYPERF_API const struct pyperf_data_stats *pyperf_data__stats(const struct pyperf_data *data);

/**
 * pyperf_data__parse_sample() - decode a sample record's body.
 * @attr: its event (gives the layout).
 * @rec: the record, header first; @size bytes, 8-byte aligned.
 * @size: record size.
 * @out: filled on success.
 *
 * Return: 0, or -EBADMSG if the fields overrun the record. Thread-safe.
 */
PYPERF_API int pyperf_data__parse_sample(const struct pyperf_attr *attr, const void *rec,
					 size_t size, struct pyperf_sample *out);

/**
 * pyperf_data__decode() - decode a record that did not come from the file
 * (e.g. one read from a ring buffer) with the file's events.
 * @data: gives the attrs.
 * @rec: the record, header first, 8-byte aligned, @size bytes.
 * @size: its size.
 * @out: set to the decoded record, valid until the next call on @data.
 *
 * Return: 1, -EBADMSG when the record is malformed (counted, as by the
 * iterators), -ENOENT when its event id is none of the file's (counted in
 * unknown_ids; perf drops these), -EINVAL for a size that is not the
 * header's, or another negative errno.
 */
PYPERF_API int pyperf_data__decode(struct pyperf_data *data, const void *rec, size_t size,
				   const struct pyperf_record **out);

/*
 * A decoder: records read from ring buffers (perf_event_open's mmap)
 * decoded with the events they belong to, without a file. Not thread-safe;
 * one decoder per thread.
 */
struct pyperf_decoder;

/**
 * pyperf_decoder__new() - a decoder without events.
 * @name: names it in warnings ("ring buffer" when NULL).
 *
 * Return: a decoder to free with pyperf_decoder__free(), or NULL (ENOMEM).
 */
PYPERF_API struct pyperf_decoder *pyperf_decoder__new(const char *name);

/**
 * pyperf_decoder__add_attr() - an event whose records will be decoded.
 * @attr: a struct perf_event_attr of @attr_size bytes (copied), as given to
 *	  perf_event_open.
 * @ids: the event ids its records carry (PERF_SAMPLE_ID/IDENTIFIER), @nr_ids
 *	 of them (copied).
 * @name: the event's name ("cpu-clock"), or NULL to derive one.
 *
 * Return: 0, -EINVAL (an attr smaller than PERF_ATTR_SIZE_VER0), -ENOMEM.
 */
PYPERF_API int pyperf_decoder__add_attr(struct pyperf_decoder *dec, const void *attr,
					size_t attr_size, const uint64_t *ids, size_t nr_ids,
					const char *name);

/**
 * pyperf_decoder__decode() - decode one record, header first, 8-byte
 * aligned, @size bytes.
 * @out: set to the record, valid until the next call on @dec.
 *
 * Return: as pyperf_data__decode().
 */
PYPERF_API int pyperf_decoder__decode(struct pyperf_decoder *dec, const void *rec, size_t size,
				      const struct pyperf_record **out);

/** pyperf_decoder__stats() - malformed and unknown-id records so far. Borrowed. */
PYPERF_API const struct pyperf_data_stats *pyperf_decoder__stats(const struct pyperf_decoder *dec);

/** pyperf_decoder__free() - free; NULL is accepted. */
PYPERF_API void pyperf_decoder__free(struct pyperf_decoder *dec);

/** pyperf_record_type__name() - "SAMPLE", "MMAP2"...; "UNKNOWN" otherwise. */
PYPERF_API const char *pyperf_record_type__name(uint32_t type);

/*
 * Writing perf.data files.
 *
 * Layout, as perf writes it: the header, each event's id list, the attrs,
 * the data section, then the feature table and the features. The header is
 * written with an empty data section as soon as the first record is, so
 * that a writer killed mid-way leaves a file readers take up to its end
 * (pyperf_data_open_opts.strict_size off); pyperf_data_writer__finish()
 * writes the features and the final header.
 */
struct pyperf_data_writer;

struct pyperf_data_writer_opts {
	size_t sz;
	/*
	 * zstd level 1-22: records are packed into zstd-compressed
	 * PERF_RECORD_COMPRESSED records (as perf record -z); the COMPRESSED
	 * feature tells readers how. Each packed batch is a complete zstd frame
	 * of at most compression_chunk bytes of records, ended at every
	 * FINISHED_ROUND and flush, so a writer killed mid-way leaves readable
	 * data. 0: not compressed.
	 */
	int compression;
	/* bytes of records per frame (perf's mmap_len); 0: 256 KiB */
	size_t compression_chunk;
	size_t : 0;
};
#define pyperf_data_writer_opts__last_field compression_chunk

/**
 * pyperf_data_writer__open() - start writing @path (created or truncated,
 * mode 0600).
 * @path: output file, or NULL to build the file in memory
 *	  (see pyperf_data_writer__buffer()).
 * @opts: NULL for the defaults (uncompressed).
 * @err: filled on failure; may be NULL.
 *
 * Return: a writer to free with pyperf_data_writer__close(), or NULL with
 * errno set (EINVAL: a compression level out of range or unknown opts;
 * EOPNOTSUPP: compression asked of a build without zstd).
 */
PYPERF_API struct pyperf_data_writer *
pyperf_data_writer__open(const char *path, const struct pyperf_data_writer_opts *opts,
			 struct pyperf_error *err);

/**
 * pyperf_data_writer__add_attr() - describe an event. All attrs come
 * before the first record.
 * @attr: a struct perf_event_attr of @attr_size bytes (copied).
 * @ids: the event ids its records carry (copied); @nr_ids of them.
 * @name: the name shown by reports ("cpu-clock"), kept in EVENT_DESC; or NULL.
 *
 * Return: 0, -EINVAL (records already written, bad size), -ENOMEM.
 */
PYPERF_API int pyperf_data_writer__add_attr(struct pyperf_data_writer *w, const void *attr,
					    size_t attr_size, const uint64_t *ids, size_t nr_ids,
					    const char *name);

/**
 * pyperf_data_writer__write() - append a record (header first, @size bytes,
 * a multiple of 8 equal to its header.size) to the data section.
 *
 * Return: 0, -EINVAL, -EIO/-ENOSPC (write failed), -ENOMEM.
 */
PYPERF_API int pyperf_data_writer__write(struct pyperf_data_writer *w, const void *rec,
					 size_t size);

/**
 * pyperf_data_writer__add_feature() - set a feature section's raw bytes
 * (copied; replaces an earlier one).
 */
PYPERF_API int pyperf_data_writer__add_feature(struct pyperf_data_writer *w,
					       enum pyperf_feature feat, const void *data,
					       size_t size);

/** pyperf_data_writer__add_feature_string() - a string feature (HOSTNAME...). */
PYPERF_API int pyperf_data_writer__add_feature_string(struct pyperf_data_writer *w,
						      enum pyperf_feature feat, const char *s);

/**
 * pyperf_data_writer__finish() - write the features (EVENT_DESC made from
 * the attrs unless set) and the final header. The writer stays valid for
 * pyperf_data_writer__buffer() and close.
 *
 * Return: 0 or a negative errno.
 */
PYPERF_API int pyperf_data_writer__finish(struct pyperf_data_writer *w);

/**
 * pyperf_data_writer__flush() - put buffered records into the file, so that
 * a reader opening it sees them (with the data size taken from the file).
 *
 * Return: 0 or a negative errno.
 */
PYPERF_API int pyperf_data_writer__flush(struct pyperf_data_writer *w);

/** pyperf_data_writer__data_size() - bytes of records written so far. */
PYPERF_API uint64_t pyperf_data_writer__data_size(const struct pyperf_data_writer *w);

/**
 * pyperf_data_writer__buffer() - the file built in memory (writers opened
 * with a NULL path). Borrowed, valid until the next call on @w.
 */
PYPERF_API const void *pyperf_data_writer__buffer(const struct pyperf_data_writer *w, size_t *size);

/** pyperf_data_writer__close() - close (without finishing) and free; NULL is accepted. */
PYPERF_API void pyperf_data_writer__close(struct pyperf_data_writer *w);

#ifdef __cplusplus
}
#endif

#endif /* PYPERF_DATA_H */
