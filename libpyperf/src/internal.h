/* SPDX-License-Identifier: MIT */
/* Helpers shared by the library's modules. Never installed. */
#ifndef PYPERF_INTERNAL_H
#define PYPERF_INTERNAL_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <pyperf/pyperf.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define ALIGN_UP(x, a) (((x) + (a)-1) & ~((uint64_t)(a)-1))
#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))

/* Messages go through the user's print callback (pyperf_set_print). */
__attribute__((format(printf, 2, 3))) void pyperf_print(enum pyperf_print_level level,
							const char *fmt, ...);
#define pr_warn(fmt, ...) pyperf_print(PYPERF_WARN, "libpyperf: " fmt, ##__VA_ARGS__)
#define pr_info(fmt, ...) pyperf_print(PYPERF_INFO, "libpyperf: " fmt, ##__VA_ARGS__)
#define pr_debug(fmt, ...) pyperf_print(PYPERF_DEBUG, "libpyperf: " fmt, ##__VA_ARGS__)

/* At the public boundary, int errors also land in errno. */
static inline int pyperf_err(int ret)
{
	if (ret < 0)
		errno = -ret;
	return ret;
}

static inline void *pyperf_err_ptr(int err)
{
	errno = -err;
	return NULL;
}

/* Fills @err (if any) with code, offset, source and a formatted text. */
__attribute__((format(printf, 5, 6))) int pyperf_error_set(struct pyperf_error *err, int code,
							   uint64_t offset, const char *source,
							   const char *fmt, ...);
#define PYPERF_NO_OFFSET UINT64_MAX

struct stat;
/* A file (perf map, jitdump) last written before process @pid (0: this
 * one) started: left by a dead process with the same pid. map.c. */
bool pyperf_left_by_dead_process(const struct stat *st, int pid);
/* When process @pid (0: this one) started, in seconds of CLOCK_REALTIME
 * (to compare with file times): 0, or a negative errno (it is gone). map.c. */
int pyperf_process_started(int pid, double *realtime);

/*
 * Options structs: a caller built against an older header passes a smaller
 * sz; fields past it read as zero. Bytes past the fields we know must be
 * zero, or the caller expects behaviour we lack.
 */
bool pyperf_validate_opts(const void *opts, size_t opts_sz, size_t user_sz, const char *type_name);
#define OPTS_VALID(opts, type)                                                                     \
	(!(opts) || pyperf_validate_opts((opts),                                                   \
					 offsetof(struct type, type##__last_field) +               \
					     sizeof((opts)->type##__last_field),                   \
					 (opts)->sz, #type))
#define OPTS_HAS(opts, field)                                                                      \
	((opts) && (opts)->sz >= offsetof(typeof(*(opts)), field) + sizeof((opts)->field))
#define OPTS_GET(opts, field, fallback) (OPTS_HAS(opts, field) ? (opts)->field : fallback)

/*
 * Allocation goes through these so that tests can fail the Nth call and
 * check that every error path cleans up.
 */
void *pp_malloc(size_t size);
void *pp_calloc(size_t n, size_t size);
/* Zeroed, for tables written all over (hash slots): see core.c. */
void *pp_calloc_dense(size_t n, size_t size);
void *pp_realloc(void *ptr, size_t size);
void *pp_reallocarray(void *ptr, size_t n, size_t size);
char *pp_strdup(const char *s);
char *pp_strndup(const char *s, size_t n);
/* Test hook: the @n-th allocation from now fails (0 disables). */
void pyperf__fail_alloc_after(unsigned long n);
/* What is left of that count: armed with ULONG_MAX, the allocations made
 * since are ULONG_MAX minus this. */
unsigned long pyperf__alloc_countdown(void);

/* Grows *@arr so that it holds at least @need elements of @elem bytes. */
int pp_grow(void **arr, size_t *cap, size_t need, size_t elem);
#define PP_GROW(arr, cap, need) pp_grow((void **)&(arr), &(cap), (need), sizeof(*(arr)))

/* Loads that do not assume alignment (fuzzed input can be misaligned). */
static inline uint64_t load_u64(const void *p)
{
	uint64_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}
static inline uint32_t load_u32(const void *p)
{
	uint32_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}
static inline uint16_t load_u16(const void *p)
{
	uint16_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}

/* A 64-bit mix for hash tables keyed by integers. */
static inline uint64_t hash_u64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

/* FNV-1a over bytes, for string keys. */
static inline uint64_t hash_bytes(const void *p, size_t n, uint64_t h)
{
	const unsigned char *s = p;
	for (size_t i = 0; i < n; i++) {
		h ^= s[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}
#define HASH_SEED 0xcbf29ce484222325ULL

/*
 * The probe sequence of every open-addressing table here: capacities are
 * powers of two, a key's probe starts at its hash's low bits and goes on
 * to the next slot, wrapping at the end.
 */
static inline size_t pp_probe_start(uint64_t hash, size_t cap)
{
	return (size_t)hash & (cap - 1);
}

static inline size_t pp_probe_next(size_t slot, size_t cap)
{
	return (slot + 1) & (cap - 1);
}

/*
 * A slot of an open-addressing hash index over an array kept elsewhere:
 * the entry's hash and its index + 1 (0: empty). Tables are powers of two,
 * probed linearly, and kept at most half full by their owners.
 */
struct pp_hslot {
	uint64_t hash;
	uint32_t idx;
};
/* Doubles the table (or makes it @first_cap slots) and re-slots what it held. */
int pp_hslots_grow(struct pp_hslot **slots, size_t *cap, size_t first_cap);

/*
 * The same for any open-addressing table whose empty slots are all zero
 * bytes: @slot_hash says whether a slot is taken and gives the hash its
 * probe starts from (the low bits, masked by the capacity).
 */
typedef bool pp_slot_hash_fn(const void *slot, const void *ctx, uint64_t *hash);
int pp_table_grow(void **slots, size_t *cap, size_t first_cap, size_t elem,
		  pp_slot_hash_fn *slot_hash, const void *ctx);

/*
 * An arena: many small allocations freed together. Used for strings and
 * nodes that live as long as their owner, so the hot path never calls
 * malloc for them one by one.
 */
struct pp_arena {
	struct pp_arena_chunk *head;
	struct pp_arena_chunk *spare; /* kept by pp_arena_reset() for reuse */
	size_t chunk_size;
	size_t used_bytes;
};
void pp_arena_init(struct pp_arena *a, size_t chunk_size);
void *pp_arena_alloc(struct pp_arena *a, size_t size); /* 8-byte aligned, zeroed */
/* The same, not zeroed: for memory the caller overwrites at once. */
void *pp_arena_alloc_raw(struct pp_arena *a, size_t size);
/* Frees everything allocated but keeps standard chunks for the next
 * allocations: an arena refilled again and again (the recorder's
 * per-pass queue) does not go back to the system each time. */
void pp_arena_reset(struct pp_arena *a);
char *pp_arena_strndup(struct pp_arena *a, const char *s, size_t n);
char *pp_arena_strdup(struct pp_arena *a, const char *s);
void pp_arena_free(struct pp_arena *a);

/*
 * String interning: one copy of each distinct string, compared by pointer
 * afterwards.
 */
struct pp_strtab {
	const char **slots;
	uint64_t *hashes;
	size_t cap, count;
	struct pp_arena arena;
};
void pp_strtab_init(struct pp_strtab *t);
const char *pp_strtab_intern(struct pp_strtab *t, const char *s, size_t n);
void pp_strtab_free(struct pp_strtab *t);

#endif /* PYPERF_INTERNAL_H */
