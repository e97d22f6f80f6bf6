// SPDX-License-Identifier: MIT
/*
 * Fuzzes the perf.data reader and everything behind it: the bytes are
 * opened as a perf.data image, every record is read in time order and in
 * file order, then the whole pipeline runs on them (profile, flat and
 * hierarchical report, folded stacks) into /dev/null.
 *
 * Besides crashes, leaks and sanitizer reports, the harness aborts when the
 * reader breaks a promise of data.h: records 8-byte aligned and inside the
 * image, an error that names the input and repeats on later calls.
 *
 * Symbols: the cache is made afresh per input, without the build-id cache
 * and kernel symbols, and with a symfs that does not exist, so that no
 * input costs the time of reading the host's ELF files and the outcome of
 * an input does not depend on the machine. PYPERF_FUZZ_SYMFS=/ resolves
 * against the host's files instead (slower, finds more in symbols.c).
 *
 * Built twice: with libFuzzer (build/fuzz/fuzz-data, `make fuzz`) and with
 * tests/fuzz/replay.c (build/{out,san}/tests/fuzz-data-replay), which
 * replays tests/fuzz/corpus/data in `make test`.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "fuzz.h"
#include <pyperf/data.h>
#include <pyperf/output.h>
#include <pyperf/profile.h>
#include <pyperf/symbols.h>

#define NAME "fuzz.data"

static const char *symfs = "/nonexistent/pyperf-fuzz-symfs";

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *env = getenv("PYPERF_FUZZ_SYMFS");

	(void)argc;
	(void)argv;
	if (env)
		symfs = strcmp(env, "/") ? env : "";
	pyperf_set_print(NULL);
	return 0;
}

static void check_error(const struct pyperf_error *err, int ret, size_t size)
{
	EXPECT(ret < 0);
	EXPECT(err->code == ret);
	EXPECT(!strcmp(err->source, NAME));
	EXPECT(err->offset == UINT64_MAX || err->offset <= size);
	EXPECT(memchr(err->text, 0, sizeof(err->text)) && err->text[0]);
}

static void check_record(const struct pyperf_record *rec, const uint8_t *buf, size_t size)
{
	EXPECT(rec);
	EXPECT(rec->size >= 8);
	EXPECT(rec->data && (uintptr_t)rec->data % 8 == 0);
	EXPECT(rec->offset < size);
	(void)buf;
	switch (rec->type) {
	case PYPERF_RECORD_MMAP:
	case PYPERF_RECORD_MMAP2:
		EXPECT(rec->mmap.filename);
		EXPECT(strlen(rec->mmap.filename) < rec->size);
		break;
	case PYPERF_RECORD_COMM:
		EXPECT(rec->comm.comm);
		EXPECT(strlen(rec->comm.comm) < rec->size);
		break;
	case PYPERF_RECORD_KSYMBOL:
		EXPECT(rec->ksymbol.name);
		break;
	case PYPERF_RECORD_SAMPLE: {
		/* Touch every array the sample points to: a bad length shows
		 * as an overread under ASan. */
		const struct pyperf_sample *s = &rec->sample;
		volatile uint64_t sink = 0;

		for (uint64_t i = 0; i < s->callchain_nr; i++)
			sink += s->callchain[i];
		for (uint32_t i = 0; i < s->raw_size; i++)
			sink += ((const uint8_t *)s->raw)[i];
		for (uint64_t i = 0; i < s->stack_user_size; i++)
			sink += s->stack_user[i];
		for (uint32_t i = 0; i < s->read_size; i++)
			sink += ((const uint8_t *)s->read)[i];
		if (s->regs_user_abi && s->regs_user)
			for (int i = 0; i < __builtin_popcountll(s->regs_user_mask); i++)
				sink += s->regs_user[i];
		(void)sink;
		break;
	}
	default:
		break;
	}
}

/* Header getters: whatever open accepted must be safe to look at. */
static void look_at_header(struct pyperf_data *d)
{
	static const enum pyperf_feature strings[] = {
	    PYPERF_FEAT_HOSTNAME, PYPERF_FEAT_OSRELEASE, PYPERF_FEAT_VERSION,
	    PYPERF_FEAT_ARCH,	  PYPERF_FEAT_CPUDESC,	 PYPERF_FEAT_CPUID,
	};
	volatile size_t sink = 0;
	uint32_t a, b;
	size_t argc, n;
	const char *const *argv;

	EXPECT(!strcmp(pyperf_data__name(d), NAME));
	n = pyperf_data__nr_attrs(d);
	EXPECT(n > 0);
	for (size_t i = 0; i < n; i++) {
		const struct pyperf_attr *attr = pyperf_data__attr(d, i);

		EXPECT(attr && attr->name);
		sink += strlen(attr->name);
		for (uint64_t k = 0; k < attr->nr_ids; k++)
			sink += pyperf_data__attr_by_id(d, attr->ids[k]) != NULL;
	}
	EXPECT(!pyperf_data__attr(d, n));
	for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); i++) {
		const char *s = pyperf_data__feature_string(d, strings[i]);

		if (s)
			sink += strlen(s);
	}
	for (int f = 0; f < PYPERF_FEAT_MAX; f++) {
		uint64_t fsz = 0;
		const uint8_t *p = pyperf_data__feature(d, (enum pyperf_feature)f, &fsz);

		if (p && fsz)
			sink += p[0] + p[fsz - 1];
	}
	argv = pyperf_data__cmdline(d, &argc);
	for (size_t i = 0; argv && i < argc; i++)
		sink += strlen(argv[i]);
	if (!pyperf_data__nr_cpus(d, &a, &b))
		sink += a + b;
	sink += pyperf_data__total_mem(d);
	for (size_t i = 0; i < pyperf_data__nr_build_ids(d); i++) {
		const struct pyperf_build_id *bid = pyperf_data__build_id(d, i);

		EXPECT(bid && bid->filename && bid->size <= 20);
		EXPECT(pyperf_data__find_build_id(d, bid->filename));
	}
	for (size_t i = 0; i < pyperf_data__nr_embedded_files(d); i++) {
		const struct pyperf_embedded_file *f = pyperf_data__embedded_file(d, i);
		const uint8_t *p = f->data;

		EXPECT(f->path);
		sink += strlen(f->path);
		if (f->size)
			sink += p[0] + p[f->size - 1];
	}
	sink += pyperf_data__data_size(d);
	(void)sink;
}

/* Reads every record, in time order or in file order; returns how many came out. */
static uint64_t iterate(const uint8_t *buf, size_t size, bool ordered)
{
	struct pyperf_error err, again;
	const struct pyperf_record *rec;
	struct pyperf_data *d;
	uint64_t n = 0;
	int ret, ret2;

	memset(&err, 0, sizeof(err));
	d = pyperf_data__open_mem(buf, size, NAME, NULL, &err);
	if (!d) {
		EXPECT(errno);
		if (errno != ENOMEM)
			check_error(&err, -errno, size);
		return 0;
	}
	look_at_header(d);
	for (;;) {
		rec = NULL;
		ret = ordered ? pyperf_data__next_ordered(d, &rec, &err)
			      : pyperf_data__next(d, &rec, &err);
		if (ret <= 0)
			break;
		EXPECT(ret == 1);
		check_record(rec, buf, size);
		n++;
	}
	if (ret < 0) {
		if (ret != -ENOMEM)
			check_error(&err, ret, size);
		/* Errors are sticky. */
		memset(&again, 0, sizeof(again));
		ret2 = ordered ? pyperf_data__next_ordered(d, &rec, &again)
			       : pyperf_data__next(d, &rec, &again);
		EXPECT(ret2 == ret);
		EXPECT(again.code == err.code && again.offset == err.offset);
	} else {
		/* The end stays the end. */
		EXPECT((ordered ? pyperf_data__next_ordered(d, &rec, &err)
				: pyperf_data__next(d, &rec, &err)) == 0);
	}
	(void)pyperf_data__stats(d);
	pyperf_data__close(d);
	return n;
}

static void pipeline(const uint8_t *buf, size_t size)
{
	PYPERF_OPTS(pyperf_symbols_opts, sopts, .buildid_dir = "", .symfs = symfs,
		    .no_kernel = true, .table_cache = "");
	/* The view and the weight follow from the size, so that all get
	 * inputs without spending input bytes on them (the time weights
	 * decode sched_switch through libtraceevent). */
	PYPERF_OPTS(pyperf_profile_opts, popts, .view = (enum pyperf_view)(size % 3),
		    .weight = (enum pyperf_weight)(size / 3 % 4));
	PYPERF_OPTS(pyperf_report_opts, hier, .hierarchy = true, .show_nr_samples = true);
	struct pyperf_symbols *syms;
	struct pyperf_profile *prof;
	struct pyperf_data *d;
	struct pyperf_error err;
	FILE *out;
	int ret;

	d = pyperf_data__open_mem(buf, size, NAME, NULL, &err);
	if (!d)
		return;
	syms = pyperf_symbols__new(&sopts);
	prof = syms ? pyperf_profile__new(syms, &popts) : NULL;
	out = fopen("/dev/null", "w");
	if (!prof || !out)
		goto out;
	ret = pyperf_profile__add_data(prof, d, &err);
	if (ret < 0 && ret != -ENOMEM)
		check_error(&err, ret, size);
	ret = pyperf_profile__write_report(prof, out, NULL);
	EXPECT(ret == 0 || ret == -ENOMEM);
	ret = pyperf_profile__write_report(prof, out, &hier);
	EXPECT(ret == 0 || ret == -ENOMEM);
	ret = pyperf_profile__write_collapsed(prof, out, NULL);
	EXPECT(ret == 0 || ret == -ENOMEM);
out:
	if (out)
		fclose(out);
	pyperf_profile__free(prof);
	pyperf_symbols__free(syms);
	pyperf_data__close(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *buf, size_t size)
{
	static bool initialized;

	if (!initialized) {
		/* The replay driver calls LLVMFuzzerInitialize too; this covers
		 * a driver that does not. */
		initialized = true;
		pyperf_set_print(NULL);
	}
	/* The two orders need not deliver the same records: a sample queued
	 * before the HEADER_ATTR or ID_INDEX record that names its event is
	 * decoded after it in time order, and before it in file order. */
	iterate(buf, size, true);
	iterate(buf, size, false);
	pipeline(buf, size);
	return 0;
}
