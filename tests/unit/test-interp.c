/* SPDX-License-Identifier: MIT */
/*
 * The interpreter walker's parts that need no live process: the offset
 * table and 3.13's _Py_DebugOffsets, walker records, and the pairing of
 * records with samples (adjacency in one ring buffer, losses counted).
 */
#include <stdlib.h>
#include "check.h"
#include "internal.h"
#include "interp_bpf.h"
#include "pyoffsets.h"
#include <pyperf/interp.h>
#ifdef PYPERF_TEST_SHARED
/* internal, so not exported by libpyperf.so: this variant compiles it in */
#include "pyoffsets.c"
#endif

TEST(table_entries_fit_the_reader)
{
	const struct pyperf_pyoffsets *o;
	uint32_t last = 0;
	size_t n = 0;

	for (size_t i = 0; (o = pyperf_pyoffsets_at(i)); i++, n++) {
		CHECK(o->version > last); /* sorted, one per minor version */
		last = o->version;
		CHECK(o->builds && o->builds[0]);
		CHECK(o->code_ident_len >= 8 && o->code_ident_len <= PYPERF_WALK_IDENT_WIN &&
		      o->code_ident_len % 8 == 0);
		CHECK(o->code_ident + o->code_ident_len <= o->code_basicsize);
		CHECK(o->frame_back >= 0 && o->frame_code >= 0 && o->tstate_frame >= 0);
		CHECK((o->frame_lasti >= 0) != (o->frame_instr >= 0));
		/* the GIL is in the runtime or behind the interpreter, not both */
		CHECK((o->runtime_gil >= 0) != (o->interp_gil_ptr >= 0));
		CHECK(o->kind_bits == 3 && o->compact_bits == 1 && o->ascii_bits == 1);
		CHECK(pyperf_pyoffsets_find(o->version) == o);
		CHECK(pyperf_pyoffsets_find(o->version | 0x0bf0) == o); /* any micro release */
	}
	CHECK_EQ(n, 6);
	CHECK(pyperf_pyoffsets_find(0x03070000) == NULL);
	CHECK(pyperf_pyoffsets_find(0x030e0000) == NULL);
	CHECK_EQ(pyperf_pyoffsets_find(0x030a0000)->lasti_scale, 2);
	CHECK_EQ(pyperf_pyoffsets_find(0x03090000)->lasti_scale, 1);
	CHECK_EQ(pyperf_pyoffsets_find(0x030c0000)->owner_cstack, 3);
}

/* _Py_DebugOffsets as 3.13 lays it out, from the table's 3.13 entry. */
static void debug_words(uint64_t w[73])
{
	const struct pyperf_pyoffsets *t = pyperf_pyoffsets_find(0x030d0000);

	memset(w, 0, 73 * 8);
	memcpy(w, "xdebugpy", 8);
	w[1] = 0x030d00f0;
	w[5] = (uint64_t)t->runtime_interp_head;
	w[8] = (uint64_t)t->interp_next;
	w[9] = (uint64_t)t->interp_tstate_head;
	w[14] = (uint64_t)t->interp_gil_ptr;
	w[15] = 5000; /* the interpreter's own GIL struct */
	w[17] = 5000 + (uint64_t)t->gil_locked;
	w[18] = 5000 + (uint64_t)t->gil_holder;
	w[21] = (uint64_t)t->tstate_next;
	w[22] = (uint64_t)t->tstate_interp;
	w[23] = (uint64_t)t->tstate_frame;
	w[24] = (uint64_t)t->tstate_thread_id;
	w[25] = (uint64_t)t->tstate_native_tid;
	w[28] = (uint64_t)t->frame_size;
	w[29] = (uint64_t)t->frame_back;
	w[30] = (uint64_t)t->frame_code;
	w[31] = (uint64_t)t->frame_instr;
	w[33] = (uint64_t)t->frame_owner;
	w[34] = (uint64_t)t->code_basicsize;
	w[35] = (uint64_t)t->code_filename;
	w[36] = (uint64_t)t->code_name;
	w[37] = (uint64_t)t->code_qualname;
	w[38] = (uint64_t)t->code_linetable;
	w[39] = (uint64_t)t->code_firstlineno;
	w[43] = (uint64_t)t->code_adaptive;
	w[45] = (uint64_t)t->ob_type;
	w[47] = (uint64_t)t->type_basicsize - 8;
	w[52] = (uint64_t)t->var_size;
	w[66] = (uint64_t)t->bytes_sval;
	w[68] = (uint64_t)t->unicode_state;
	w[69] = (uint64_t)t->unicode_length;
	w[70] = (uint64_t)t->ascii_size;
}

TEST(debug_offsets_3_13)
{
	const struct pyperf_pyoffsets *t = pyperf_pyoffsets_find(0x030d0000);
	uint64_t w[73];
	struct pyperf_pyoffsets o;
	char why[160];
	size_t first = offsetof(struct pyperf_pyoffsets, runtime_interp_head);

	debug_words(w);
	CHECK_EQ(pyperf_pyoffsets_from_debug(w, sizeof(w), &o, why, sizeof(why)), 0);
	/* what the structure publishes plus C's layout rules give the header's layout */
	CHECK(!memcmp((char *)&o + first, (const char *)t + first, sizeof(o) - first));
	CHECK_CONTAINS(o.builds, "equal to the table");

	/* another 3.13 build: what it says wins, and it says it differs */
	w[23] += 8;
	CHECK_EQ(pyperf_pyoffsets_from_debug(w, sizeof(w), &o, why, sizeof(why)), 0);
	CHECK_EQ(o.tstate_frame, t->tstate_frame + 8);
	CHECK_CONTAINS(o.builds, "other than");

	debug_words(w);
	w[2] = 1;
	CHECK_EQ(pyperf_pyoffsets_from_debug(w, sizeof(w), &o, why, sizeof(why)), -EOPNOTSUPP);
	CHECK_CONTAINS(why, "free-threaded");
	debug_words(w);
	w[1] = 0x030c0000;
	CHECK_EQ(pyperf_pyoffsets_from_debug(w, sizeof(w), &o, why, sizeof(why)), -EOPNOTSUPP);
	debug_words(w);
	w[0] = 0;
	CHECK_EQ(pyperf_pyoffsets_from_debug(w, sizeof(w), &o, why, sizeof(why)), -EBADMSG);
	debug_words(w);
	w[30] = 1ull << 40;
	CHECK_EQ(pyperf_pyoffsets_from_debug(w, sizeof(w), &o, why, sizeof(why)), -EBADMSG);
	debug_words(w);
	CHECK_EQ(pyperf_pyoffsets_from_debug(w, 100, &o, why, sizeof(why)), -EBADMSG);
}

/* A record as the BPF program writes it: @nr frames, frame i at code 0x1000 * (i + 1). */
static size_t make_record(struct pyperf_walk_record *r, uint32_t tid, uint64_t seq, uint32_t cpu,
			  uint16_t nr)
{
	memset(r, 0, PYPERF_WALK_HEADER_SIZE + nr * sizeof(r->frames[0]));
	r->magic = PYPERF_WALK_MAGIC;
	r->format = PYPERF_WALK_FORMAT;
	r->nr = nr;
	r->pid = 100;
	r->tid = tid;
	r->seq = seq;
	r->time = 123456789;
	r->tstate = 0x7f00;
	r->cpu = cpu;
	r->status = PYPERF_WALK_OK;
	r->gil = PYPERF_WALK_GIL_YES;
	for (uint16_t i = 0; i < nr; i++) {
		r->frames[i].code = 0x1000ull * (i + 1);
		r->frames[i].ident = 77 + i;
		r->frames[i].loc = (uint32_t)(2 * i + 2);
	}
	return PYPERF_WALK_HEADER_SIZE + nr * sizeof(r->frames[0]);
}

TEST(record_parse)
{
	static struct pyperf_walk_record r;
	struct pyperf_pystack s;
	struct pyperf_pyframe f;
	struct pyperf_error err = {0};
	size_t size = make_record(&r, 7, 3, 1, 3);
	uint8_t *odd = malloc(size + 1);

	CHECK_EQ(sizeof(struct pyperf_walk_frame), 16);
	CHECK_EQ(offsetof(struct pyperf_walk_record, frames), PYPERF_WALK_HEADER_SIZE);
	r.frames[0].loc = 0 | PYPERF_WALK_LOC_ENTRY; /* not started: -2 */
	r.frames[2].loc = 44 | PYPERF_WALK_LOC_NO_IDENT;
	/* raw data sits 4 bytes into a sample: read unaligned */
	memcpy(odd + 1, &r, size);
	CHECK_EQ(pyperf_pystack__parse(odd + 1, size, &s, &err), 0);
	CHECK_EQ(s.pid, 100);
	CHECK_EQ(s.tid, 7);
	CHECK_EQ(s.cpu, 1);
	CHECK_EQ(s.seq, 3);
	CHECK_EQ(s.nr, 3);
	CHECK_EQ(s.status, PYPERF_PYSTACK_OK);
	CHECK_EQ(s.gil, PYPERF_PYSTACK_GIL_YES);
	CHECK_U64(s.tstate, 0x7f00);
	pyperf_pystack__frame(&s, 0, &f);
	CHECK_U64(f.code, 0x1000);
	CHECK_EQ(f.lasti, -2);
	CHECK_EQ(f.flags, PYPERF_PYFRAME_ENTRY);
	CHECK_EQ(f.ident, 77);
	pyperf_pystack__frame(&s, 1, &f);
	CHECK_EQ(f.lasti, 2);
	CHECK_EQ(f.flags, 0);
	pyperf_pystack__frame(&s, 2, &f);
	CHECK_EQ(f.lasti, 42);
	CHECK_EQ(f.flags, PYPERF_PYFRAME_NO_IDENT);
	CHECK_STR(pyperf_pystack__status_name(PYPERF_PYSTACK_TRUNCATED), "truncated");

	/* cut short, not a record, a newer format */
	CHECK_EQ(pyperf_pystack__parse(odd + 1, size - 1, &s, &err), -EBADMSG);
	CHECK_CONTAINS(err.text, "3 frames do not fit");
	CHECK_EQ(pyperf_pystack__parse(odd + 1, 20, &s, &err), -EBADMSG);
	r.format = 2;
	CHECK_EQ(pyperf_pystack__parse(&r, size, &s, &err), -EOPNOTSUPP);
	r.format = PYPERF_WALK_FORMAT;
	r.magic = 0;
	CHECK_EQ(pyperf_pystack__parse(&r, size, &s, &err), -EBADMSG);
	free(odd);
}

TEST(pairing)
{
	static struct pyperf_walk_record r;
	struct pyperf_pystack_pairer *p = pyperf_pystack_pairer__new(2);
	struct pyperf_pystack_pairer_stats st;
	const struct pyperf_pystack *s;
	size_t size;

	CHECK(p != NULL);
	/* right before its sample: paired, the copy outlives the caller's bytes */
	size = make_record(&r, 5, 0, 0, 4);
	CHECK_EQ(pyperf_pystack_pairer__record(p, 0, &r, size), 0);
	memset(&r, 0xee, size);
	CHECK_EQ(pyperf_pystack_pairer__sample(p, 0, 5, &s), 1);
	CHECK(s && s->nr == 4 && s->tid == 5);
	/* a sample of the same buffer gets no record twice */
	CHECK_EQ(pyperf_pystack_pairer__sample(p, 0, 5, &s), 0);
	CHECK(s == NULL);
	/* anything in between (a lost notice) drops the record */
	size = make_record(&r, 5, 1, 0, 2);
	pyperf_pystack_pairer__record(p, 0, &r, size);
	pyperf_pystack_pairer__other(p, 0);
	CHECK_EQ(pyperf_pystack_pairer__sample(p, 0, 5, &s), 0);
	/* another thread's sample does not take it */
	size = make_record(&r, 5, 2, 0, 2);
	pyperf_pystack_pairer__record(p, 0, &r, size);
	CHECK_EQ(pyperf_pystack_pairer__sample(p, 0, 6, &s), 0);
	/* buffers are independent */
	size = make_record(&r, 9, 0, 1, 1);
	pyperf_pystack_pairer__record(p, 1, &r, size);
	size = make_record(&r, 5, 3, 0, 1);
	pyperf_pystack_pairer__record(p, 0, &r, size);
	CHECK_EQ(pyperf_pystack_pairer__sample(p, 1, 9, &s), 1);
	CHECK(s && s->tid == 9);
	CHECK_EQ(pyperf_pystack_pairer__sample(p, 0, 5, &s), 1);
	CHECK(s && s->seq == 3);
	/* two records in a row: the first had no sample */
	size = make_record(&r, 5, 4, 0, 1);
	pyperf_pystack_pairer__record(p, 0, &r, size);
	size = make_record(&r, 5, 5, 0, 1);
	pyperf_pystack_pairer__record(p, 0, &r, size);
	CHECK_EQ(pyperf_pystack_pairer__sample(p, 0, 5, &s), 1);
	CHECK(s && s->seq == 5);
	/* sequence 6..8 never came: counted missing */
	size = make_record(&r, 5, 9, 0, 1);
	pyperf_pystack_pairer__record(p, 0, &r, size);
	CHECK_EQ(pyperf_pystack_pairer__sample(p, 0, 5, &s), 1);
	/* garbage */
	CHECK_EQ(pyperf_pystack_pairer__record(p, 0, "nonsense", 8), -EBADMSG);
	CHECK_EQ(pyperf_pystack_pairer__record(p, 2, &r, size), -EINVAL);
	pyperf_pystack_pairer__stats(p, &st);
	CHECK_EQ(st.records, 8);
	CHECK_EQ(st.paired, 5);
	CHECK_EQ(st.unpaired_records, 3);
	CHECK_EQ(st.samples_without, 3);
	CHECK_EQ(st.records_missing, 3);
	CHECK_EQ(st.bad_records, 1);
	pyperf_pystack_pairer__free(p);
	CHECK(pyperf_pystack_pairer__new(0) == NULL);
}

#ifndef PYPERF_TEST_SHARED
/* Once a buffer has held the largest record, pairing allocates nothing. */
TEST(pairing_allocates_once)
{
	static struct pyperf_walk_record r;
	struct pyperf_pystack_pairer *p = pyperf_pystack_pairer__new(1);
	const struct pyperf_pystack *s;
	size_t size = make_record(&r, 5, 0, 0, 300);

	CHECK_EQ(pyperf_pystack_pairer__record(p, 0, &r, size), 0);
	pyperf__fail_alloc_after(1);
	for (int i = 1; i < 1000; i++) {
		size = make_record(&r, 5, (uint64_t)i, 0, (uint16_t)(i % 300));
		CHECK_EQ(pyperf_pystack_pairer__record(p, 0, &r, size), 0);
		CHECK_EQ(pyperf_pystack_pairer__sample(p, 0, 5, &s), 1);
	}
	pyperf__fail_alloc_after(0);
	pyperf_pystack_pairer__free(p);
}
#endif

int main(void)
{
	return RUN(CASE(table_entries_fit_the_reader), CASE(debug_offsets_3_13), CASE(record_parse),
		   CASE(pairing),
#ifndef PYPERF_TEST_SHARED
		   CASE(pairing_allocates_once),
#endif
	);
}
