// SPDX-License-Identifier: MIT
/* Folded stacks being counted (foldtab.h). */
#include <inttypes.h>
#include <stdlib.h>
#include "foldtab.h"

void pp_foldtab_init(struct pp_foldtab *t)
{
	memset(t, 0, sizeof(*t));
	pp_arena_init(&t->arena, 256 * 1024);
}

long pp_foldtab_index(struct pp_foldtab *t, const char *s, size_t n)
{
	uint64_t h = hash_bytes(s, n, HASH_SEED);
	char *copy;
	size_t j;

	if ((t->nr + 1) * 2 > t->slots_cap && pp_hslots_grow(&t->slots, &t->slots_cap, 4096))
		return -ENOMEM;
	for (j = pp_probe_start(h, t->slots_cap); t->slots[j].idx;
	     j = pp_probe_next(j, t->slots_cap)) {
		struct pp_folded_line *l = &t->lines[t->slots[j].idx - 1];

		if (t->slots[j].hash == h && l->len == n && !memcmp(l->text, s, n))
			return (long)t->slots[j].idx - 1;
	}
	if (PP_GROW(t->lines, t->cap, t->nr + 1))
		return -ENOMEM;
	copy = pp_arena_alloc_raw(&t->arena, n + 1);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, s, n);
	copy[n] = 0;
	t->lines[t->nr] = (struct pp_folded_line){copy, n, 0};
	t->slots[j] = (struct pp_hslot){h, (uint32_t)++t->nr};
	return (long)t->nr - 1;
}

int pp_foldtab_add(struct pp_foldtab *t, const char *s, size_t n, uint64_t w)
{
	long i = pp_foldtab_index(t, s, n);
	struct pp_folded_line *l;

	if (i < 0)
		return (int)i;
	l = &t->lines[i];
	l->weight = l->weight + w < l->weight ? UINT64_MAX : l->weight + w;
	return 0;
}

static int cmp_lines(const void *a, const void *b)
{
	const struct pp_folded_line *x = a, *y = b;
	int c = memcmp(x->text, y->text, MIN(x->len, y->len));

	if (c)
		return c;
	return x->len < y->len ? -1 : x->len > y->len;
}

int pp_foldtab_write(struct pp_foldtab *t, FILE *out)
{
	if (t->nr) /* qsort(NULL, 0) is undefined */
		qsort(t->lines, t->nr, sizeof(*t->lines), cmp_lines);
	for (size_t i = 0; i < t->nr; i++) {
		fwrite(t->lines[i].text, 1, t->lines[i].len, out);
		fprintf(out, " %" PRIu64 "\n", t->lines[i].weight);
	}
	errno = 0;
	if (fflush(out))
		return errno ? -errno : -EIO;
	return ferror(out) ? -EIO : 0;
}

void pp_foldtab_free(struct pp_foldtab *t)
{
	free(t->lines);
	free(t->slots);
	pp_arena_free(&t->arena);
	memset(t, 0, sizeof(*t));
}
