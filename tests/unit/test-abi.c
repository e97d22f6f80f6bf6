// SPDX-License-Identifier: MIT
/*
 * The public API's contracts that callers build on: options structs refuse
 * fields they do not know, names parse both ways, a malformed record is an
 * error and not "nothing", and struct pyperf_record's sample comes last so
 * that growing it moves no other member.
 */
#include <errno.h>
#include <stddef.h>
#include <linux/perf_event.h>
#include <pyperf/data.h>
#include <pyperf/machine.h>
#include <pyperf/output.h>
#include <pyperf/profile.h>
#include <pyperf/symbols.h>
#include <pyperf/unwind.h>
#include "check.h"

/* An options struct from a newer header: one more field, set. */
struct newer_unwinder_opts {
	struct pyperf_unwinder_opts o;
	uint64_t unknown;
};

TEST(opts_refuse_unknown_fields)
{
	struct newer_unwinder_opts n = {{.sz = sizeof(n)}, 1};
	struct pyperf_unwinder *u;
	struct pyperf_symbols *syms = pyperf_symbols__new(NULL);
	struct {
		struct pyperf_machine_opts o;
		uint64_t unknown;
	} m = {{.sz = sizeof(m)}, 1};

	errno = 0;
	CHECK(!pyperf_unwinder__new(&n.o));
	CHECK_EQ(errno, EINVAL);
	n.unknown = 0; /* zero: a newer caller that does not use the field */
	u = pyperf_unwinder__new(&n.o);
	CHECK(u);
	pyperf_unwinder__free(u);
	CHECK(syms);
	errno = 0;
	CHECK(!pyperf_machine__new(syms, &m.o));
	CHECK_EQ(errno, EINVAL);
	pyperf_symbols__free(syms);
}

TEST(writer_compression_in_opts)
{
	PYPERF_OPTS(pyperf_data_writer_opts, bad, .compression = 23);
	PYPERF_OPTS(pyperf_data_writer_opts, good, .compression = 3);
	struct pyperf_error err = {0};
	struct pyperf_data_writer *w;

	errno = 0;
	CHECK(!pyperf_data_writer__open(NULL, &bad, &err));
	CHECK_EQ(errno, EINVAL);
	CHECK_EQ(err.code, -EINVAL);
	w = pyperf_data_writer__open(NULL, &good, NULL);
	CHECK(w);
	pyperf_data_writer__close(w);
}

TEST(view_names_round_trip)
{
	enum pyperf_view v;

	for (int i = PYPERF_VIEW_MIXED; i <= PYPERF_VIEW_PYTHON; i++) {
		CHECK_EQ(pyperf_view__parse(pyperf_view__name((enum pyperf_view)i), &v), 0);
		CHECK_EQ(v, i);
	}
	CHECK_EQ(pyperf_view__parse("Python", &v), -EINVAL);
	CHECK_EQ(pyperf_view__parse(NULL, &v), -EINVAL);
	CHECK(!strcmp(pyperf_view__name((enum pyperf_view)7), "?"));
}

TEST(malformed_record_is_an_error)
{
	struct perf_event_attr attr = {
	    .type = PERF_TYPE_SOFTWARE,
	    .size = sizeof(attr),
	    .config = PERF_COUNT_SW_CPU_CLOCK,
	    .sample_type =
		PERF_SAMPLE_IP | PERF_SAMPLE_TID | PERF_SAMPLE_TIME | PERF_SAMPLE_CALLCHAIN,
	};
	uint64_t id = 1;
	struct pyperf_data_writer *w = pyperf_data_writer__open(NULL, NULL, NULL);
	struct pyperf_data *d;
	const struct pyperf_record *r = NULL;
	const void *buf;
	size_t size;
	/* a sample whose callchain says 1000 entries in a 48-byte record */
	uint64_t rec[6] __attribute__((aligned(8))) = {0};
	struct perf_event_header *h = (void *)rec;

	REQUIRE(w && !pyperf_data_writer__add_attr(w, &attr, sizeof(attr), &id, 1, "cpu-clock") &&
		!pyperf_data_writer__finish(w));
	buf = pyperf_data_writer__buffer(w, &size);
	d = pyperf_data__open_mem(buf, size, "abi.data", NULL, NULL);
	REQUIRE(d);
	*h = (struct perf_event_header){PERF_RECORD_SAMPLE, PERF_RECORD_MISC_USER, sizeof(rec)};
	rec[1] = 0x400000;
	rec[2] = 1 | (1ULL << 32);
	rec[3] = 1000;
	rec[4] = 1000;
	CHECK_EQ(pyperf_data__decode(d, rec, sizeof(rec), &r), -EBADMSG);
	rec[4] = 1;
	CHECK_EQ(pyperf_data__decode(d, rec, sizeof(rec), &r), 1);
	CHECK(r && r->sample.ip == 0x400000);
	CHECK_EQ(pyperf_data__decode(d, rec, 40, &r), -EINVAL); /* not the header's size */
	pyperf_data__close(d);
	pyperf_data_writer__close(w);
}

TEST(decoder_without_a_file)
{
	struct perf_event_attr a =
				   {
				       .type = PERF_TYPE_SOFTWARE,
				       .size = sizeof(a),
				       .config = PERF_COUNT_SW_CPU_CLOCK,
				       .sample_type = PERF_SAMPLE_IDENTIFIER | PERF_SAMPLE_IP |
						      PERF_SAMPLE_TID,
				   },
			       b = a;
	uint64_t ida = 7, idb = 9;
	struct pyperf_decoder *dec = pyperf_decoder__new(NULL);
	const struct pyperf_record *r = NULL;
	uint64_t rec[4] __attribute__((aligned(8))) = {0};
	struct perf_event_header hdr = {PERF_RECORD_SAMPLE, PERF_RECORD_MISC_USER, sizeof(rec)};

	b.config = PERF_COUNT_SW_TASK_CLOCK;
	REQUIRE(dec);
	CHECK_EQ(pyperf_decoder__add_attr(dec, &a, 8, &ida, 1, NULL), -EINVAL);
	REQUIRE(!pyperf_decoder__add_attr(dec, &a, sizeof(a), &ida, 1, "cpu-clock"));
	REQUIRE(!pyperf_decoder__add_attr(dec, &b, sizeof(b), &idb, 1, "task-clock"));
	memcpy(rec, &hdr, sizeof(hdr));
	rec[1] = 9;
	rec[2] = 0x401000;
	rec[3] = 5 | (6ULL << 32);
	CHECK_EQ(pyperf_decoder__decode(dec, rec, sizeof(rec), &r), 1);
	REQUIRE(r && r->attr);
	CHECK(!strcmp(r->attr->name, "task-clock"));
	CHECK_U64(r->sample.ip, 0x401000);
	CHECK_EQ(r->sample.tid, 6);
	rec[1] = 8; /* no event has it */
	CHECK_EQ(pyperf_decoder__decode(dec, rec, sizeof(rec), &r), -ENOENT);
	CHECK_U64(pyperf_decoder__stats(dec)->unknown_ids, 1);
	rec[1] = 7;
	hdr.size = 24; /* TID cut off */
	memcpy(rec, &hdr, sizeof(hdr));
	CHECK_EQ(pyperf_decoder__decode(dec, rec, 24, &r), -EBADMSG);
	CHECK_U64(pyperf_decoder__stats(dec)->malformed_records, 1);
	pyperf_decoder__free(dec);
}

TEST(record_sample_last)
{
	CHECK(offsetof(struct pyperf_record, sample) > offsetof(struct pyperf_record, mmap));
	CHECK_EQ(offsetof(struct pyperf_record, sample) + sizeof(struct pyperf_sample),
		 sizeof(struct pyperf_record));
}

int main(void)
{
	return RUN(CASE(opts_refuse_unknown_fields), CASE(writer_compression_in_opts),
		   CASE(view_names_round_trip), CASE(malformed_record_is_an_error),
		   CASE(decoder_without_a_file), CASE(record_sample_last));
}
