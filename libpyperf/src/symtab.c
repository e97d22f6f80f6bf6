// SPDX-License-Identifier: MIT
/*
 * Sorted symbol tables. The sizing and alias rules are perf's
 * (tools/perf/util/symbol.c: symbols__fixup_end, symbols__fixup_duplicate,
 * choose_best_symbol), because the reporter must name the same function
 * perf names for the same address.
 */
#include <elf.h>
#include <stdlib.h>
#include <sys/mman.h>
#include "symtab.h"

void symtab_init(struct symtab *t)
{
	memset(t, 0, sizeof(*t));
	pp_arena_init(&t->names, 32 * 1024);
}

void symtab_free(struct symtab *t)
{
	if (t->map) {
		munmap(t->map, t->map_size);
		t->block_max = NULL; /* it pointed into the mapping */
	}
	free(t->made);
	free(t->rb_left);
	free(t->rb_right);
	free(t->syms);
	free(t->bind);
	free(t->type);
	free(t->order);
	free(t->block_max);
	pp_arena_free(&t->names);
	memset(t, 0, sizeof(*t));
}

int symtab_add_elf(struct symtab *t, uint64_t start, uint64_t end, const char *name, uint8_t bind,
		   uint8_t type)
{
	size_t mcap = t->meta_cap;
	char *n;

	if (PP_GROW(t->syms, t->cap, t->nr + 1))
		goto nomem;
	if (PP_GROW(t->bind, mcap, t->nr + 1))
		goto nomem;
	mcap = t->meta_cap;
	if (PP_GROW(t->type, mcap, t->nr + 1))
		goto nomem;
	mcap = t->meta_cap;
	if (PP_GROW(t->order, mcap, t->nr + 1))
		goto nomem;
	t->meta_cap = mcap;
	n = pp_arena_strdup(&t->names, name);
	if (!n)
		goto nomem;
	t->syms[t->nr] = (struct pyperf_symbol){start, end, n};
	t->bind[t->nr] = bind;
	t->type[t->nr] = type;
	t->order[t->nr] = t->next_order++;
	t->nr++;
	return 0;
nomem:
	t->nomem = true;
	return -ENOMEM;
}

int symtab_add(struct symtab *t, uint64_t start, uint64_t end, const char *name, size_t len)
{
	char buf[1024];
	char *heap = NULL;
	int ret;

	/* Names come from files; most are short. */
	if (len < sizeof(buf)) {
		memcpy(buf, name, len);
		buf[len] = 0;
		return symtab_add_elf(t, start, end, buf, STB_GLOBAL, STT_FUNC);
	}
	heap = pp_strndup(name, len);
	if (!heap) {
		t->nomem = true;
		return -ENOMEM;
	}
	ret = symtab_add_elf(t, start, end, heap, STB_GLOBAL, STT_FUNC);
	free(heap);
	return ret;
}

/* Sorting moves five parallel arrays; do it through an index permutation. */
static int cmp_idx(const void *a, const void *b, void *ctx)
{
	const struct symtab *sort_ctx = ctx;
	uint32_t i = *(const uint32_t *)a, j = *(const uint32_t *)b;
	const struct pyperf_symbol *x = &sort_ctx->syms[i], *y = &sort_ctx->syms[j];

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return sort_ctx->order[i] < sort_ctx->order[j] ? -1 : 1;
}

/* Positions (+ 1) of sorted entries, by the order they were added in. */
static int cmp_order(const void *a, const void *b, void *ctx)
{
	const struct symtab *sort_ctx = ctx;
	uint32_t i = *(const uint32_t *)a - 1, j = *(const uint32_t *)b - 1;

	return sort_ctx->order[i] < sort_ctx->order[j] ? -1
						       : sort_ctx->order[i] > sort_ctx->order[j];
}

static int permute(struct symtab *t, const uint32_t *idx)
{
	struct pyperf_symbol *s = pp_calloc(t->nr, sizeof(*s));
	uint8_t *b = pp_calloc(t->nr, 1), *ty = pp_calloc(t->nr, 1);
	uint32_t *o = pp_calloc(t->nr, sizeof(*o));

	if (!s || !b || !ty || !o) {
		free(s);
		free(b);
		free(ty);
		free(o);
		t->nomem = true;
		return -ENOMEM;
	}
	for (size_t i = 0; i < t->nr; i++) {
		s[i] = t->syms[idx[i]];
		b[i] = t->bind[idx[i]];
		ty[i] = t->type[idx[i]];
		o[i] = t->order[idx[i]];
	}
	free(t->syms);
	free(t->bind);
	free(t->type);
	free(t->order);
	t->syms = s;
	t->bind = b;
	t->type = ty;
	t->order = o;
	t->cap = t->meta_cap = t->nr;
	return 0;
}

void symtab_sort(struct symtab *t)
{
	uint32_t *idx;
	bool sorted = true;

	for (size_t i = 1; i < t->nr && sorted; i++)
		if (t->syms[i - 1].start > t->syms[i].start)
			sorted = false;
	if (sorted || !t->bind || t->map)
		return;
	idx = pp_calloc(t->nr, sizeof(*idx));
	if (!idx) {
		t->nomem = true;
		return;
	}
	for (size_t i = 0; i < t->nr; i++)
		idx[i] = (uint32_t)i;
	qsort_r(idx, t->nr, sizeof(*idx), cmp_idx, t);
	permute(t, idx);
	free(idx);
}

static unsigned prefix_underscores(const char *s)
{
	unsigned n = 0;

	while (s[n] == '_')
		n++;
	return n;
}

/* perf's choose_best_symbol(): true when @a should stay. */
static bool choose_a(const struct symtab *t, size_t a, size_t b)
{
	const struct pyperf_symbol *sa = &t->syms[a], *sb = &t->syms[b];
	uint64_t la = sa->end - sa->start, lb = sb->end - sb->start;
	bool wa, wb, ga, gb;
	unsigned ua, ub;
	size_t na, nb;

	if (lb == 0 && la > 0)
		return true;
	if (la == 0 && lb > 0)
		return false;
	wa = t->bind[a] == STB_WEAK;
	wb = t->bind[b] == STB_WEAK;
	if (wb && !wa)
		return true;
	if (wa && !wb)
		return false;
	ga = t->bind[a] == STB_GLOBAL;
	gb = t->bind[b] == STB_GLOBAL;
	if (ga && !gb)
		return true;
	if (gb && !ga)
		return false;
	ua = prefix_underscores(sa->name);
	ub = prefix_underscores(sb->name);
	if (ub > ua)
		return true;
	if (ua > ub)
		return false;
	na = strlen(sa->name);
	nb = strlen(sb->name);
	return na >= nb;
}

static void drop_marked(struct symtab *t, const bool *drop)
{
	size_t w = 0;

	for (size_t r = 0; r < t->nr; r++) {
		if (drop[r])
			continue;
		t->syms[w] = t->syms[r];
		t->bind[w] = t->bind[r];
		t->type[w] = t->type[r];
		t->order[w] = t->order[r];
		w++;
	}
	t->nr = w;
}

void symtab_fixup_perf(struct symtab *t, bool is_kallsyms)
{
	bool *drop;
	size_t curr;

	symtab_sort(t);
	if (!t->nr)
		return;
	/* Zero-sized symbols (assembly, misannotated) reach the next one. */
	for (size_t i = 1; i < t->nr; i++) {
		struct pyperf_symbol *prev = &t->syms[i - 1], *cur = &t->syms[i];

		if (prev->end != prev->start)
			continue;
		if (!is_kallsyms) {
			prev->end = cur->start;
			continue;
		}
		/* kallsyms: a module's last symbol must not swallow the gap to
		 * the next module or to the kernel. Module symbols carry
		 * "\t[mod]" in their name while tables are built. */
		const char *pm = strchr(prev->name, '['), *cm = strchr(cur->name, '[');
		if (!pm != !cm || (pm && strcmp(pm, cm)))
			prev->end = ALIGN_UP(prev->end + 4096, 4096);
		else
			prev->end = cur->start;
	}
	if (t->syms[t->nr - 1].end == t->syms[t->nr - 1].start)
		t->syms[t->nr - 1].end = ALIGN_UP(t->syms[t->nr - 1].start, 4096) + 4096;

	drop = pp_calloc(t->nr, sizeof(*drop));
	if (!drop) {
		t->nomem = true;
		return;
	}
	curr = 0;
	for (size_t next = 1; next < t->nr; next++) {
		if (t->syms[curr].start != t->syms[next].start) {
			curr = next;
			continue;
		}
		if (choose_a(t, curr, next)) {
			drop[next] = true;
		} else {
			drop[curr] = true;
			curr = next;
		}
	}
	drop_marked(t, drop);
	free(drop);
}

size_t symtab_block_leaves(size_t nr)
{
	size_t blocks = (nr + SYMTAB_BLOCK - 1) / SYMTAB_BLOCK, leaves = 1;

	while (leaves < blocks)
		leaves *= 2;
	return leaves;
}

static int build_block_max(struct symtab *t)
{
	size_t leaves = symtab_block_leaves(t->nr);
	uint64_t *m = pp_calloc(2 * leaves, sizeof(*m));

	if (!m)
		return -ENOMEM;
	for (size_t i = 0; i < t->nr; i++)
		m[leaves + i / SYMTAB_BLOCK] = MAX(m[leaves + i / SYMTAB_BLOCK], t->syms[i].end);
	for (size_t i = leaves - 1; i >= 1; i--)
		m[i] = MAX(m[2 * i], m[2 * i + 1]);
	free(t->block_max);
	t->block_max = m;
	t->block_leaves = leaves;
	return 0;
}

/*
 * perf keeps a perf map's symbols in a red-black tree, inserted in the
 * map's line order (an equal start goes right), and searches it from the
 * root for the first symbol covering the address (symbols__insert,
 * symbols__find in tools/perf/util/symbol.c; no fixup of the entries).
 * Where entries overlap, which one perf names depends on the tree's
 * shape, so the tree is rebuilt the same way: the kernel's insertion with
 * its recolourings and rotations (lib/rbtree.c). Nodes are the entries'
 * sorted positions, which are the tree's in-order.
 */
struct rb_build {
	uint32_t *l, *r, *p; /* index + 1; 0: none */
	uint8_t *red;
	uint32_t root;
};

static void rb_replace_child(struct rb_build *b, uint32_t parent, uint32_t old, uint32_t new)
{
	if (!parent)
		b->root = new;
	else if (b->l[parent - 1] == old)
		b->l[parent - 1] = new;
	else
		b->r[parent - 1] = new;
}

/* Rotates @x down to the left (its right child takes its place). */
static void rb_rotate_left(struct rb_build *b, uint32_t x)
{
	uint32_t y = b->r[x - 1], px = b->p[x - 1];

	b->r[x - 1] = b->l[y - 1];
	if (b->l[y - 1])
		b->p[b->l[y - 1] - 1] = x;
	b->l[y - 1] = x;
	b->p[y - 1] = px;
	b->p[x - 1] = y;
	rb_replace_child(b, px, x, y);
}

static void rb_rotate_right(struct rb_build *b, uint32_t x)
{
	uint32_t y = b->l[x - 1], px = b->p[x - 1];

	b->l[x - 1] = b->r[y - 1];
	if (b->r[y - 1])
		b->p[b->r[y - 1] - 1] = x;
	b->r[y - 1] = x;
	b->p[y - 1] = px;
	b->p[x - 1] = y;
	rb_replace_child(b, px, x, y);
}

/* Links node @n (red) under the place its start leads to, then restores
 * the colours as the kernel's __rb_insert() does, case for case. */
static void rb_insert(struct rb_build *b, const struct symtab *t, uint32_t n)
{
	uint64_t ip = t->syms[n - 1].start;
	uint32_t parent = 0, at = b->root;
	bool left = false;

	while (at) {
		parent = at;
		left = ip < t->syms[at - 1].start;
		at = left ? b->l[at - 1] : b->r[at - 1];
	}
	b->p[n - 1] = parent;
	b->red[n - 1] = 1;
	if (!parent)
		b->root = n;
	else if (left)
		b->l[parent - 1] = n;
	else
		b->r[parent - 1] = n;
	for (;;) {
		uint32_t g, uncle;

		parent = b->p[n - 1];
		if (!parent) {
			b->red[n - 1] = 0;
			break;
		}
		if (!b->red[parent - 1])
			break;
		g = b->p[parent - 1];
		if (parent == b->l[g - 1]) {
			uncle = b->r[g - 1];
			if (uncle && b->red[uncle - 1]) { /* case 1: recolour, go up */
				b->red[uncle - 1] = b->red[parent - 1] = 0;
				b->red[g - 1] = 1;
				n = g;
				continue;
			}
			if (n == b->r[parent - 1]) { /* case 2 */
				rb_rotate_left(b, parent);
				n = parent;
				parent = b->p[n - 1];
			}
			rb_rotate_right(b, g); /* case 3 */
			b->red[parent - 1] = 0;
			b->red[g - 1] = 1;
			break;
		}
		uncle = b->l[g - 1];
		if (uncle && b->red[uncle - 1]) {
			b->red[uncle - 1] = b->red[parent - 1] = 0;
			b->red[g - 1] = 1;
			n = g;
			continue;
		}
		if (n == b->l[parent - 1]) {
			rb_rotate_right(b, parent);
			n = parent;
			parent = b->p[n - 1];
		}
		rb_rotate_left(b, g);
		b->red[parent - 1] = 0;
		b->red[g - 1] = 1;
		break;
	}
}

static int build_rb_tree(struct symtab *t)
{
	struct rb_build b = {0};
	uint32_t *by_order = NULL;
	int ret = -ENOMEM;

	if (t->nr >= UINT32_MAX)
		return -ENOMEM;
	b.l = pp_calloc(t->nr ? t->nr : 1, sizeof(*b.l));
	b.r = pp_calloc(t->nr ? t->nr : 1, sizeof(*b.r));
	b.p = pp_calloc(t->nr ? t->nr : 1, sizeof(*b.p));
	b.red = pp_calloc(t->nr ? t->nr : 1, 1);
	by_order = pp_calloc(t->nr ? t->nr : 1, sizeof(*by_order));
	if (!b.l || !b.r || !b.p || !b.red || !by_order)
		goto out;
	/* insertion order: the order entries were added in (their lines) */
	for (size_t i = 0; i < t->nr; i++)
		by_order[i] = (uint32_t)i + 1;
	qsort_r(by_order, t->nr, sizeof(*by_order), cmp_order, t);
	for (size_t i = 0; i < t->nr; i++)
		rb_insert(&b, t, by_order[i]);
	free(t->rb_left);
	free(t->rb_right);
	t->rb_left = b.l;
	t->rb_right = b.r;
	t->rb_root = b.root;
	b.l = b.r = NULL;
	ret = 0;
out:
	free(b.l);
	free(b.r);
	free(b.p);
	free(b.red);
	free(by_order);
	return ret;
}

int symtab_finish(struct symtab *t, enum symtab_finish_mode mode)
{
	if (t->map)
		return 0; /* saved finished */
	symtab_sort(t);
	if (t->nomem)
		return -ENOMEM;
	if (mode == SYMTAB_LAST_WINS && t->nr > 1) {
		bool *drop = pp_calloc(t->nr, sizeof(*drop));

		if (!drop) {
			t->nomem = true;
			return -ENOMEM;
		}
		for (size_t i = 0; i + 1 < t->nr; i++)
			if (t->syms[i].start == t->syms[i + 1].start)
				drop[i] = true;
		drop_marked(t, drop);
		free(drop);
	}
	if (mode == SYMTAB_PERF_MAP ? build_rb_tree(t) : build_block_max(t)) {
		t->nomem = true;
		return -ENOMEM;
	}
	/* The build-time arrays are no longer needed. */
	free(t->bind);
	free(t->type);
	free(t->order);
	t->bind = t->type = NULL;
	t->order = NULL;
	t->meta_cap = 0;
	return 0;
}

static inline uint64_t start_of(const struct symtab *t, size_t i)
{
	return t->map ? t->m_start[i] : t->syms[i].start;
}

static inline bool covers(const struct symtab *t, size_t i, uint64_t addr)
{
	uint64_t start = start_of(t, i), end = t->map ? t->m_end[i] : t->syms[i].end;

	return (addr >= start && addr < end) || (addr == start && start == end);
}

static bool made_hash(const void *slot, const void *ctx, uint64_t *hash)
{
	const struct symtab_made *s = slot;

	(void)ctx;
	*hash = hash_u64(s->idx1);
	return s->idx1 != 0;
}

/* Entry @i of a mapped table, made on first use. NULL on ENOMEM. */
static const struct pyperf_symbol *mapped_at(struct symtab *t, size_t i)
{
	struct pyperf_symbol *s;
	size_t j, off;

	if ((t->made_used + 1) * 2 > t->made_cap &&
	    pp_table_grow((void **)&t->made, &t->made_cap, 256, sizeof(*t->made), made_hash,
			  NULL)) {
		t->nomem = true;
		return NULL;
	}
	for (j = pp_probe_start(hash_u64(i + 1), t->made_cap); t->made[j].idx1;
	     j = pp_probe_next(j, t->made_cap))
		if (t->made[j].idx1 == i + 1)
			return t->made[j].sym;
	s = pp_arena_alloc_raw(&t->names, sizeof(*s));
	if (!s) {
		t->nomem = true;
		return NULL;
	}
	off = MIN(t->m_name[i], t->m_names_size - 1);
	*s = (struct pyperf_symbol){t->m_start[i], t->m_end[i], t->m_names + off};
	t->made[j] = (struct symtab_made){i + 1, s};
	t->made_used++;
	return s;
}

const struct pyperf_symbol *symtab_at(const struct symtab *t, size_t i)
{
	/* What a mapped table has made is a cache: a const table fills it too. */
	return t->map ? mapped_at((struct symtab *)t, i) : &t->syms[i];
}

/* perf's symbols__find(): the first entry on the search path covering
 * @addr (end exclusive; an empty entry matches its start). */
static ptrdiff_t find_rb(const struct symtab *t, uint64_t addr, size_t *steps)
{
	uint32_t n = t->rb_root;

	while (n) {
		const struct pyperf_symbol *s = &t->syms[n - 1];

		++*steps;
		if (addr < s->start)
			n = t->rb_left[n - 1];
		else if (addr > s->end || (addr == s->end && addr != s->start))
			n = t->rb_right[n - 1];
		else
			return (ptrdiff_t)n - 1;
	}
	return -1;
}

/* The last entry of block @b, at or before @k, covering @addr, or -1. */
static ptrdiff_t scan_block(const struct symtab *t, size_t b, size_t k, uint64_t addr,
			    size_t *steps)
{
	size_t first = b * SYMTAB_BLOCK;

	for (size_t i = MIN(k + 1, first + SYMTAB_BLOCK); i-- > first;) {
		++*steps;
		if (covers(t, i, addr))
			return (ptrdiff_t)i;
	}
	return -1;
}

/*
 * The innermost symbol covering @addr: the last one starting at or
 * before it whose end lies past it. Its block is scanned; earlier blocks
 * are skipped in the block-maximum tree while none of their symbols
 * reaches @addr, so a long symbol covering thousands of small ones (or
 * none) costs a walk up and down the tree, not a scan.
 */
static ptrdiff_t find_index(const struct symtab *t, uint64_t addr, size_t *steps)
{
	size_t lo = 0, hi = t->nr, k, kb, i, leaves = t->block_leaves;
	ptrdiff_t hit;

	if (t->rb_left)
		return find_rb(t, addr, steps);
	/* The last symbol starting at or before addr. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		++*steps;
		if (start_of(t, mid) <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return -1;
	k = lo - 1;
	kb = k / SYMTAB_BLOCK;
	if ((hit = scan_block(t, kb, k, addr, steps)) >= 0 || !kb || !t->block_max)
		return hit;
	/* the last earlier block whose maximum end passes addr: from the leaf
	 * before kb, leftwards over whole subtrees, then down its rightmost
	 * qualifying path */
	i = leaves + kb - 1;
	for (;;) {
		++*steps;
		if (t->block_max[i] > addr)
			break;
		while (!(i & 1))
			i >>= 1;
		if (i == 1)
			return -1;
		i--;
	}
	while (i < leaves) {
		++*steps;
		i = t->block_max[2 * i + 1] > addr ? 2 * i + 1 : 2 * i;
	}
	return scan_block(t, i - leaves, t->nr - 1, addr, steps);
}

const struct pyperf_symbol *symtab_find_counted(const struct symtab *t, uint64_t addr,
						size_t *steps)
{
	ptrdiff_t i = find_index(t, addr, steps);

	return i < 0 ? NULL : symtab_at(t, (size_t)i);
}

const struct pyperf_symbol *symtab_find(const struct symtab *t, uint64_t addr)
{
	size_t steps = 0;

	return symtab_find_counted(t, addr, &steps);
}

struct pyperf_symbol *symtab_find_start(struct symtab *t, uint64_t addr, uint8_t *type)
{
	size_t lo = 0, hi = t->nr;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (start_of(t, mid) < addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < t->nr && start_of(t, lo) == addr) {
		if (type)
			*type = t->type ? t->type[lo] : 0;
		return (struct pyperf_symbol *)symtab_at(t, lo);
	}
	return NULL;
}
