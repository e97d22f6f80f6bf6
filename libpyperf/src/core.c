// SPDX-License-Identifier: MIT
/* Version, print hook, errors, options, allocation, arenas and interning. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include "internal.h"

PYPERF_API const char *pyperf_version(void)
{
	return PYPERF_VERSION_STRING;
}

static int default_print(enum pyperf_print_level level, const char *fmt, va_list ap)
{
	if (level == PYPERF_DEBUG && !getenv("PYPERF_DEBUG"))
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static pyperf_print_fn_t print_fn = default_print;

PYPERF_API pyperf_print_fn_t pyperf_set_print(pyperf_print_fn_t fn)
{
	pyperf_print_fn_t old = print_fn;

	print_fn = fn;
	return old;
}

void pyperf_print(enum pyperf_print_level level, const char *fmt, ...)
{
	va_list ap;

	if (!print_fn)
		return;
	va_start(ap, fmt);
	print_fn(level, fmt, ap);
	va_end(ap);
}

int pyperf_error_set(struct pyperf_error *err, int code, uint64_t offset, const char *source,
		     const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return code;
	err->code = code;
	err->offset = offset;
	/* no source: the message stands alone (a recorder's "no such process") */
	snprintf(err->source, sizeof(err->source), "%s", source ? source : "");
	va_start(ap, fmt);
	vsnprintf(err->text, sizeof(err->text), fmt, ap);
	va_end(ap);
	return code;
}

PYPERF_API char *pyperf_error__format(const struct pyperf_error *err, char *buf, size_t size)
{
	if (!size)
		return buf;
	if (err->offset != PYPERF_NO_OFFSET)
		snprintf(buf, size, "%s: offset %" PRIu64 " (0x%" PRIx64 "): %s", err->source,
			 err->offset, err->offset, err->text);
	else if (err->source[0])
		snprintf(buf, size, "%s: %s", err->source, err->text);
	else
		snprintf(buf, size, "%s", err->text);
	return buf;
}

bool pyperf_validate_opts(const void *opts, size_t opts_sz, size_t user_sz, const char *type_name)
{
	const char *p = opts;

	if (user_sz < sizeof(size_t)) {
		pr_warn("%s: sz %zu is too small\n", type_name, user_sz);
		return false;
	}
	for (size_t i = opts_sz; i < user_sz; i++) {
		if (p[i]) {
			pr_warn("%s has non-zero bytes past the fields this library knows\n",
				type_name);
			return false;
		}
	}
	return true;
}

/* The allocation hook: counts down, fails when it reaches one. */
static unsigned long fail_countdown;

void pyperf__fail_alloc_after(unsigned long n)
{
	fail_countdown = n;
}

unsigned long pyperf__alloc_countdown(void)
{
	return fail_countdown;
}

static bool alloc_should_fail(void)
{
	if (likely(!fail_countdown))
		return false;
	if (--fail_countdown == 0)
		return true;
	return false;
}

void *pp_malloc(size_t size)
{
	if (alloc_should_fail()) {
		errno = ENOMEM;
		return NULL;
	}
	return malloc(size ? size : 1);
}

void *pp_calloc(size_t n, size_t size)
{
	if (alloc_should_fail()) {
		errno = ENOMEM;
		return NULL;
	}
	return calloc(n ? n : 1, size ? size : 1);
}

void *pp_calloc_dense(size_t n, size_t size)
{
	void *p = pp_calloc(n, size);
	size_t bytes = (n ? n : 1) * (size ? size : 1);

#ifdef MADV_POPULATE_WRITE
	/* Probing reads a slot before writing it: each page would fault
	 * twice (zero page, then a copy). Populate the whole pages of the
	 * block writable in one call; where the kernel lacks it, nothing. */
	if (p && bytes >= 64 * 1024) {
		uintptr_t start = ALIGN_UP((uintptr_t)p, 4096);
		uintptr_t end = ((uintptr_t)p + bytes) & ~(uintptr_t)4095;

		if (end > start)
			madvise((void *)start, end - start, MADV_POPULATE_WRITE);
	}
#endif
	return p;
}

void *pp_realloc(void *ptr, size_t size)
{
	if (alloc_should_fail()) {
		errno = ENOMEM;
		return NULL;
	}
	return realloc(ptr, size ? size : 1);
}

void *pp_reallocarray(void *ptr, size_t n, size_t size)
{
	if (size && n > SIZE_MAX / size) {
		errno = ENOMEM;
		return NULL;
	}
	return pp_realloc(ptr, n * size);
}

char *pp_strndup(const char *s, size_t n)
{
	size_t len = strnlen(s, n);
	char *d = pp_malloc(len + 1);

	if (!d)
		return NULL;
	memcpy(d, s, len);
	d[len] = 0;
	return d;
}

char *pp_strdup(const char *s)
{
	return pp_strndup(s, strlen(s));
}

int pp_grow(void **arr, size_t *cap, size_t need, size_t elem)
{
	size_t ncap;
	void *n;

	if (need <= *cap)
		return 0;
	ncap = *cap ? *cap : 16;
	while (ncap < need) {
		if (ncap > SIZE_MAX / 2 / elem)
			return -ENOMEM;
		ncap *= 2;
	}
	n = pp_reallocarray(*arr, ncap, elem);
	if (!n)
		return -ENOMEM;
	*arr = n;
	*cap = ncap;
	return 0;
}

struct pp_arena_chunk {
	struct pp_arena_chunk *next;
	size_t size, used;
	_Alignas(16) unsigned char mem[];
};

int pp_table_grow(void **slots, size_t *cap, size_t first_cap, size_t elem,
		  pp_slot_hash_fn *slot_hash, const void *ctx)
{
	size_t ncap = *cap ? *cap * 2 : first_cap;
	unsigned char *n = pp_calloc_dense(ncap, elem), *old = *slots;
	uint64_t h, unused;

	if (!n)
		return -ENOMEM;
	for (size_t i = 0; i < *cap; i++) {
		size_t j;

		if (!slot_hash(old + i * elem, ctx, &h))
			continue;
		for (j = pp_probe_start(h, ncap); slot_hash(n + j * elem, ctx, &unused);
		     j = pp_probe_next(j, ncap))
			;
		memcpy(n + j * elem, old + i * elem, elem);
	}
	free(*slots);
	*slots = n;
	*cap = ncap;
	return 0;
}

static bool hslot_hash(const void *slot, const void *ctx, uint64_t *hash)
{
	const struct pp_hslot *s = slot;

	(void)ctx;
	*hash = s->hash;
	return s->idx != 0;
}

int pp_hslots_grow(struct pp_hslot **slots, size_t *cap, size_t first_cap)
{
	return pp_table_grow((void **)slots, cap, first_cap, sizeof(**slots), hslot_hash, NULL);
}

void pp_arena_init(struct pp_arena *a, size_t chunk_size)
{
	a->head = NULL;
	a->spare = NULL;
	a->chunk_size = chunk_size ? chunk_size : 64 * 1024;
	a->used_bytes = 0;
}

void *pp_arena_alloc_raw(struct pp_arena *a, size_t size)
{
	struct pp_arena_chunk *c = a->head;
	void *p;

	size = ALIGN_UP(size, 8);
	if (!c || c->size - c->used < size) {
		size_t csize = size > a->chunk_size / 4 ? size : a->chunk_size;

		if (csize == a->chunk_size && a->spare) {
			c = a->spare;
			a->spare = c->next;
		} else {
			c = pp_malloc(sizeof(*c) + csize);
			if (!c)
				return NULL;
		}
		c->size = csize;
		c->used = 0;
		/* A big one-off allocation goes behind the current chunk so the
		 * current chunk's free space is not wasted. */
		if (csize != a->chunk_size && a->head) {
			c->next = a->head->next;
			a->head->next = c;
		} else {
			c->next = a->head;
			a->head = c;
		}
	}
	p = c->mem + c->used;
	c->used += size;
	a->used_bytes += size;
	return p;
}

void *pp_arena_alloc(struct pp_arena *a, size_t size)
{
	void *p = pp_arena_alloc_raw(a, size);

	if (p)
		memset(p, 0, ALIGN_UP(size, 8));
	return p;
}

void pp_arena_reset(struct pp_arena *a)
{
	struct pp_arena_chunk *c = a->head, *n;

	while (c) {
		n = c->next;
		if (c->size == a->chunk_size) {
			c->next = a->spare;
			a->spare = c;
		} else {
			free(c);
		}
		c = n;
	}
	a->head = NULL;
	a->used_bytes = 0;
}

char *pp_arena_strndup(struct pp_arena *a, const char *s, size_t n)
{
	size_t len = strnlen(s, n);
	char *d = pp_arena_alloc(a, len + 1);

	if (!d)
		return NULL;
	memcpy(d, s, len);
	d[len] = 0;
	return d;
}

char *pp_arena_strdup(struct pp_arena *a, const char *s)
{
	return pp_arena_strndup(a, s, strlen(s));
}

void pp_arena_free(struct pp_arena *a)
{
	struct pp_arena_chunk *c, *n;

	pp_arena_reset(a);
	for (c = a->spare; c; c = n) {
		n = c->next;
		free(c);
	}
	a->spare = NULL;
}

void pp_strtab_init(struct pp_strtab *t)
{
	memset(t, 0, sizeof(*t));
	pp_arena_init(&t->arena, 64 * 1024);
}

static int strtab_rehash(struct pp_strtab *t, size_t ncap)
{
	const char **slots = pp_calloc_dense(ncap, sizeof(*slots));
	uint64_t *hashes = pp_calloc_dense(ncap, sizeof(*hashes));

	if (!slots || !hashes) {
		free(slots);
		free(hashes);
		return -ENOMEM;
	}
	for (size_t i = 0; i < t->cap; i++) {
		size_t j;

		if (!t->slots[i])
			continue;
		for (j = pp_probe_start(t->hashes[i], ncap); slots[j]; j = pp_probe_next(j, ncap))
			;
		slots[j] = t->slots[i];
		hashes[j] = t->hashes[i];
	}
	free(t->slots);
	free(t->hashes);
	t->slots = slots;
	t->hashes = hashes;
	t->cap = ncap;
	return 0;
}

const char *pp_strtab_intern(struct pp_strtab *t, const char *s, size_t n)
{
	uint64_t h;
	size_t i;
	char *d;

	n = strnlen(s, n);
	if ((t->count + 1) * 4 > t->cap * 3 && strtab_rehash(t, t->cap ? t->cap * 2 : 256))
		return NULL;
	h = hash_bytes(s, n, HASH_SEED);
	for (i = pp_probe_start(h, t->cap); t->slots[i]; i = pp_probe_next(i, t->cap)) {
		if (t->hashes[i] == h && !strncmp(t->slots[i], s, n) && !t->slots[i][n])
			return t->slots[i];
	}
	d = pp_arena_strndup(&t->arena, s, n);
	if (!d)
		return NULL;
	t->slots[i] = d;
	t->hashes[i] = h;
	t->count++;
	return d;
}

void pp_strtab_free(struct pp_strtab *t)
{
	free(t->slots);
	free(t->hashes);
	pp_arena_free(&t->arena);
	memset(t, 0, sizeof(*t));
}
