// SPDX-License-Identifier: MIT
/*
 * The output writers: pprof decoded back with protobuf-c, the JSON tree
 * parsed with jansson, the SVG's narrow-frame elision and escaping, and
 * perf-script folding on tricky lines, the report as a browser's rows
 * (the lines --stdio prints) and its entry filters. Profiles come from recordings in
 * the fuzz corpus (tests/fuzz/corpus/data/), found through PYPERF_TOP or
 * this file's path.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <jansson.h>
#include <zlib.h>
#include <pyperf/machine.h>
#include <pyperf/output.h>
#include <pyperf/profile.h>
#include "check.h"
#include "profile.pb-c.h"

static char corpus[PATH_MAX];

static bool find_corpus(void)
{
	const char *env = getenv("PYPERF_TOP");
	const char *rel = "tests/fuzz/corpus/data";
	char buf[PATH_MAX];

	if (env) {
		snprintf(corpus, sizeof(corpus), "%s/%s", env, rel);
		if (!access(corpus, R_OK))
			return true;
	}
	/* __FILE__ is tests/unit/test-outputs.c, relative or absolute */
	snprintf(buf, sizeof(buf), "%s", __FILE__);
	*strrchr(buf, '/') = 0;
	snprintf(corpus, sizeof(corpus), "%s/../fuzz/corpus/data", buf);
	if (!access(corpus, R_OK))
		return true;
	snprintf(corpus, sizeof(corpus), "%s", rel);
	return !access(corpus, R_OK);
}

/*
 * The recordings name the binaries of the checkout they were made in
 * (build/out/tests/helpers/callpaths); the corpus carries those binaries
 * in perf's build-id cache layout (corpus/buildid-cache), and a symfs that
 * does not exist keeps every recorded path out of reach: symbols come from
 * the repository, wherever it is checked out.
 */
static struct pyperf_symbols *corpus_symbols(void)
{
	char cache[PATH_MAX + 32];
	PYPERF_OPTS(pyperf_symbols_opts, so, .buildid_dir = cache,
		    .symfs = "/nonexistent-pyperf-symfs", .table_cache = "", .no_kernel = true);

	snprintf(cache, sizeof(cache), "%s/../buildid-cache", corpus);
	return pyperf_symbols__new(&so);
}

static struct pyperf_profile *load(const char *name, enum pyperf_view view)
{
	PYPERF_OPTS(pyperf_profile_opts, o, .view = view);
	struct pyperf_symbols *s = corpus_symbols();
	struct pyperf_profile *p = s ? pyperf_profile__new(s, &o) : NULL;
	char path[PATH_MAX + 64];

	if (!p) {
		pyperf_symbols__free(s);
		return NULL;
	}
	snprintf(path, sizeof(path), "%s/%s", corpus, name);
	if (pyperf_profile__add_file(p, path, NULL)) {
		pyperf_profile__free(p);
		pyperf_symbols__free(s);
		return NULL;
	}
	pyperf_profile__finish(p);
	return p;
}

/* A profile from load(), with its symbols. */
static void unload(struct pyperf_profile *p)
{
	struct pyperf_symbols *s = p ? pyperf_profile__symbols(p) : NULL;

	pyperf_profile__free(p);
	pyperf_symbols__free(s);
}

/* Everything a writer wrote, NUL-terminated. */
struct buf {
	char *data;
	size_t len;
	FILE *f;
};

static FILE *buf_open(struct buf *b)
{
	b->data = NULL;
	b->len = 0;
	b->f = open_memstream(&b->data, &b->len);
	return b->f;
}

static void buf_close(struct buf *b)
{
	fclose(b->f);
}

static uint64_t event_samples(struct pyperf_profile *p)
{
	const struct pyperf_node *root = pyperf_profile__node(p, 0);

	return root->first_child ? pyperf_profile__node(p, root->first_child)->total_samples : 0;
}

static Pyperf__Pprof__Profile *gunzip_unpack(const struct buf *b)
{
	size_t cap = 1 << 20, len = 0;
	uint8_t *out = malloc(cap);
	z_stream z = {0};
	Pyperf__Pprof__Profile *prof = NULL;
	int r;

	if (!out || inflateInit2(&z, 15 + 16) != Z_OK)
		goto done;
	z.next_in = (unsigned char *)b->data;
	z.avail_in = (uInt)b->len;
	do {
		if (len == cap) {
			uint8_t *n = realloc(out, cap *= 2);

			if (!n)
				break;
			out = n;
		}
		z.next_out = out + len;
		z.avail_out = (uInt)(cap - len);
		r = inflate(&z, Z_NO_FLUSH);
		len = cap - z.avail_out;
	} while (r == Z_OK);
	inflateEnd(&z);
	if (r == Z_STREAM_END)
		prof = pyperf__pprof__profile__unpack(NULL, len, out);
done:
	free(out);
	return prof;
}

TEST(pprof_round_trip)
{
	struct pyperf_profile *p = load("fp-callchain.data", PYPERF_VIEW_NATIVE);
	Pyperf__Pprof__Profile *prof;
	struct buf b;
	uint64_t samples = 0, period = 0;

	REQUIRE(p);
	REQUIRE(buf_open(&b));
	CHECK_EQ(pyperf_profile__write_pprof(p, b.f, NULL), 0);
	buf_close(&b);
	CHECK_EQ((unsigned char)b.data[0], 0x1f); /* gzip magic */
	CHECK_EQ((unsigned char)b.data[1], 0x8b);
	prof = gunzip_unpack(&b);
	REQUIRE(prof);
	REQUIRE(prof->n_string_table > 4);
	CHECK_STR(prof->string_table[0], "");
	REQUIRE(prof->n_sample_type == 2);
	CHECK_STR(prof->string_table[prof->sample_type[0]->type], "samples");
	CHECK_STR(prof->string_table[prof->sample_type[0]->unit], "count");
	CHECK_STR(prof->string_table[prof->sample_type[1]->type], "cpu");
	CHECK_STR(prof->string_table[prof->sample_type[1]->unit], "nanoseconds");
	CHECK(prof->period_type && prof->period > 0);
	for (size_t i = 0; i < prof->n_sample; i++) {
		const Pyperf__Pprof__Sample *s = prof->sample[i];

		REQUIRE(s->n_value == 2);
		samples += (uint64_t)s->value[0];
		period += (uint64_t)s->value[1];
		CHECK(s->n_location_id > 0);
		for (size_t k = 0; k < s->n_location_id; k++)
			CHECK(s->location_id[k] >= 1 && s->location_id[k] <= prof->n_location);
		CHECK_EQ(s->n_label, 3);
	}
	CHECK_U64(samples, event_samples(p));
	CHECK_U64(period,
		  pyperf_profile__node(p, pyperf_profile__node(p, 0)->first_child)->total_period);
	for (size_t i = 0; i < prof->n_location; i++) {
		const Pyperf__Pprof__Location *l = prof->location[i];

		CHECK_EQ(l->id, i + 1);
		CHECK(l->mapping_id >= 1 && l->mapping_id <= prof->n_mapping);
		REQUIRE(l->n_line == 1);
		CHECK(l->line[0]->function_id >= 1 && l->line[0]->function_id <= prof->n_function);
	}
	for (size_t i = 0; i < prof->n_mapping; i++)
		CHECK(prof->mapping[i]->has_functions);
	/* the functions of the recorded program are there by name */
	{
		bool work_a = false;

		for (size_t i = 0; i < prof->n_function; i++)
			work_a |= !strcmp(prof->string_table[prof->function[i]->name], "work_a");
		CHECK(work_a);
	}
	pyperf__pprof__profile__free_unpacked(prof, NULL);
	free(b.data);
	unload(p);
}

TEST(pprof_python_functions_carry_their_file)
{
	struct pyperf_profile *p = load("pyperf-python312.data", PYPERF_VIEW_MIXED);
	Pyperf__Pprof__Profile *prof;
	struct buf b;
	size_t with_file = 0;

	REQUIRE(p);
	REQUIRE(buf_open(&b));
	CHECK_EQ(pyperf_profile__write_pprof(p, b.f, NULL), 0);
	buf_close(&b);
	prof = gunzip_unpack(&b);
	REQUIRE(prof);
	for (size_t i = 0; i < prof->n_function; i++) {
		const char *name = prof->string_table[prof->function[i]->name];
		const char *file = prof->string_table[prof->function[i]->filename];

		if (strstr(name, " (<frozen ")) {
			CHECK(file[0] == '<');
			with_file++;
		}
	}
	CHECK(with_file > 0);
	pyperf__pprof__profile__free_unpacked(prof, NULL);
	free(b.data);
	unload(p);
}

TEST(json_tree)
{
	struct pyperf_profile *p = load("fp-callchain.data", PYPERF_VIEW_NATIVE);
	PYPERF_OPTS(pyperf_json_opts, o, .pretty = true);
	json_error_t jerr;
	json_t *doc, *nodes, *frames;
	struct buf b;
	uint64_t self = 0;

	REQUIRE(p);
	REQUIRE(buf_open(&b));
	CHECK_EQ(pyperf_profile__write_json(p, b.f, &o), 0);
	buf_close(&b);
	doc = json_loads(b.data, 0, &jerr);
	REQUIRE(doc);
	CHECK_STR(json_string_value(json_object_get(doc, "format")), "pyperf-profile");
	CHECK_EQ(json_integer_value(json_object_get(doc, "version")), 1);
	nodes = json_object_get(doc, "nodes");
	frames = json_object_get(doc, "frames");
	REQUIRE(json_is_object(nodes) && json_is_array(frames));
	{
		json_t *parent = json_object_get(nodes, "parent"),
		       *frame = json_object_get(nodes, "frame");
		json_t *selfs = json_object_get(nodes, "self_samples");
		json_t *totals = json_object_get(nodes, "total_samples");

		REQUIRE(json_is_array(parent) && json_is_array(frame) && json_is_array(selfs) &&
			json_is_array(totals));
		/* all but the root */
		CHECK_EQ(json_array_size(parent), pyperf_profile__nr_nodes(p) - 1);
		CHECK_EQ(json_array_size(frame), json_array_size(parent));
		CHECK_EQ(json_integer_value(json_array_get(parent, 0)), -1);
		CHECK_U64(json_integer_value(json_array_get(totals, 0)), event_samples(p));
		for (size_t i = 0; i < json_array_size(parent); i++) {
			CHECK(json_integer_value(json_array_get(parent, i)) < (json_int_t)i);
			CHECK(json_integer_value(json_array_get(frame, i)) <
			      (json_int_t)json_array_size(frames));
			self += (uint64_t)json_integer_value(json_array_get(selfs, i));
		}
	}
	CHECK_U64(self, event_samples(p));
	CHECK_STR(json_string_value(json_object_get(json_array_get(frames, 0), "kind")), "event");
	CHECK_STR(json_string_value(json_object_get(json_array_get(frames, 1), "kind")), "thread");
	/* compact and pretty say the same (the columns are streamed in both) */
	{
		struct buf c;
		json_t *compact;

		REQUIRE(buf_open(&c));
		CHECK_EQ(pyperf_profile__write_json(p, c.f, NULL), 0);
		buf_close(&c);
		CHECK(!strchr(c.data, '\n') || strchr(c.data, '\n') == c.data + strlen(c.data) - 1);
		compact = json_loads(c.data, 0, &jerr);
		CHECK(compact && json_equal(compact, doc));
		json_decref(compact);
		free(c.data);
	}
	json_decref(doc);
	free(b.data);
	unload(p);
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *s = strstr(hay, needle); s; s = strstr(s + 1, needle))
		n++;
	return n;
}

TEST(svg_leaves_out_narrow_frames)
{
	struct pyperf_profile *p = load("pyperf-python312.data", PYPERF_VIEW_NATIVE);
	PYPERF_OPTS(pyperf_svg_opts, fine, .min_width = 0.01);
	PYPERF_OPTS(pyperf_svg_opts, coarse, .min_width = 300);
	struct buf a, c;
	char want[64];

	REQUIRE(p);
	REQUIRE(buf_open(&a));
	CHECK_EQ(pyperf_profile__write_svg(p, a.f, &fine), 0);
	buf_close(&a);
	REQUIRE(buf_open(&c));
	CHECK_EQ(pyperf_profile__write_svg(p, c.f, &coarse), 0);
	buf_close(&c);
	/* the narrow ones are gone, the root still holds every sample */
	CHECK(count(c.data, "<g class=") < count(a.data, "<g class="));
	snprintf(want, sizeof(want), "<title>all (%" PRIu64 " samples,", event_samples(p));
	CHECK_CONTAINS(a.data, want);
	CHECK_CONTAINS(c.data, want);
	/* names are escaped for XML: "<frozen importlib._bootstrap>" appears
	 * in Python views; here, C++-free native names stay as they are */
	CHECK(!strstr(a.data, "<frozen"));
	CHECK_CONTAINS(c.data, "</svg>\n");
	free(a.data);
	free(c.data);
	unload(p);
}

TEST(svg_escapes_python_names)
{
	struct pyperf_profile *p = load("pyperf-python312.data", PYPERF_VIEW_PYTHON);
	struct buf a;

	REQUIRE(p);
	REQUIRE(buf_open(&a));
	CHECK_EQ(pyperf_profile__write_svg(p, a.f, NULL), 0);
	buf_close(&a);
	CHECK_CONTAINS(a.data, "(&lt;frozen importlib._bootstrap&gt;)");
	CHECK(!strstr(a.data, "(<frozen"));
	CHECK_CONTAINS(a.data, "<g class=\"py\">");
	free(a.data);
	unload(p);
}

/* perf script text in, folded stacks out. */
static char *fold(const char *text, const struct pyperf_perf_script_opts *o, int *ret,
		  struct pyperf_error *err)
{
	FILE *in = fmemopen((void *)text, strlen(text), "r");
	struct buf b;

	if (!in || !buf_open(&b))
		return NULL;
	*ret = pyperf_perf_script__collapse(in, "t.txt", b.f, o, err);
	buf_close(&b);
	fclose(in);
	return b.data;
}

TEST(perf_script_tidies_names_as_the_script)
{
	static const char text[] =
	    "# comment\n"
	    "java 12/34 [000] 1.000: 7 cycles:\n"
	    "\t1 Lorg/mozilla/Foo;.call(Lbar;)V+0x1a (/tmp/perf-12.map)\n"
	    "\t2 std::vector<int>::push_back(int const&)+0x10 (/usr/lib/libx.so)\n"
	    "\t3 (anonymous namespace)::f(int) (/usr/lib/libx.so)\n" /* skipped: starts with '(' */
	    "\t3 ns::(anonymous namespace)::f(int) (/usr/lib/libx.so)\n"
	    "\t4 net/http.(*Client).Do (/usr/bin/go prog)\n"
	    "\t5 [unknown] (/usr/lib/liby.so)\n"
	    "\t6 say\"hi\";'x' ([kernel.kallsyms])\n"
	    "\t7 a->b (/usr/lib/libx.so)\n"
	    "\n"
	    "V8 Worker 5 2.000: cycles:\n"
	    "\t8 [unknown] ([unknown])\n"
	    "\n"
	    "other 6 3.000: 5 instructions:\n"
	    "\t9 skipped (/x)\n"
	    "\n";
	PYPERF_OPTS(pyperf_perf_script_opts, o, .annotate_kernel = true, .annotate_jit = true,
		    .tid = true);
	struct pyperf_error err;
	int ret = -1;
	char *out = fold(text, &o, &ret, &err);

	REQUIRE(out);
	CHECK_EQ(ret, 0);
	/* checked against stackcollapse-perf.pl --kernel --jit --tid */
	CHECK_STR(out,
		  "V8_Worker-?/5;[unknown] 1\n"
		  "java-12/34;a;b_[i];sayhi:x_[k];[liby.so];net/http.(*Client).Do;ns::(anonymous "
		  "namespace)::f;std::vector<int>::push_back;org/mozilla/Foo:.call_[j] 7\n");
	free(out);
	o.tid = false;
	o.annotate_jit = false;
	o.addrs = true;
	out = fold(text, &o, &ret, &err);
	REQUIRE(out);
	CHECK_CONTAINS(out, "java;a;b_[i];sayhi:x_[k];[liby.so <5>];");
	CHECK_CONTAINS(out, "V8_Worker;[unknown <8>] 1\n");
	free(out);
}

TEST(perf_script_bad_lines)
{
	static const char text[] = "ab 1 1.0: 1 cycles:\n"
				   "garbage\x01here\n"
				   "\tff main (/bin/x)\n"
				   "\n"
				   "more garbage\n";
	struct pyperf_error err;
	int ret = 0;
	char *out = fold(text, NULL, &ret, &err);

	REQUIRE(out);
	CHECK_EQ(ret, -EBADMSG);
	CHECK_STR(out, "ab;main 1\n"); /* the rest is kept */
	CHECK_STR(err.source, "t.txt");
	CHECK_CONTAINS(err.text, "line 2: not perf script output: 'garbage?here'");
	CHECK_CONTAINS(err.text, "1 more");
	free(out);
}

TEST(formats_by_name)
{
	CHECK_EQ(pyperf_format__parse("svg"), PYPERF_FORMAT_SVG);
	CHECK_EQ(pyperf_format__parse("pprof"), PYPERF_FORMAT_PPROF);
	CHECK_EQ(pyperf_format__parse("tree"), PYPERF_FORMAT_TREE);
	CHECK_EQ(pyperf_format__parse("flamegraph"), -EINVAL);
	CHECK_EQ(pyperf_format__parse(NULL), -EINVAL);
	CHECK_STR(pyperf_format__name(PYPERF_FORMAT_SPEEDSCOPE), "speedscope");
	CHECK(pyperf_format__is_binary(PYPERF_FORMAT_PPROF));
	CHECK(!pyperf_format__is_binary(PYPERF_FORMAT_JSON));
}

/* pyperf_profile__report_rows(): what a browser shows is what --stdio
 * prints, row by row. */

static char *write_text(struct pyperf_profile *p, const struct pyperf_report_opts *o)
{
	char *data = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&data, &len);

	if (!f)
		return NULL;
	if (pyperf_profile__write_report(p, f, o)) {
		fclose(f);
		free(data);
		return NULL;
	}
	fclose(f);
	return data;
}

static char *join_rows(const struct pyperf_report_rows *r)
{
	size_t len = 0, n = pyperf_report_rows__nr(r);
	char *s;

	for (size_t i = 0; i < n; i++)
		len += strlen(pyperf_report_rows__row(r, i)->text) + 1;
	s = calloc(len + 1, 1);
	if (!s)
		return NULL;
	for (size_t i = 0, at = 0; i < n; i++)
		at += (size_t)sprintf(s + at, "%s\n", pyperf_report_rows__row(r, i)->text);
	return s;
}

/* The rows' texts are the report's lines; their kinds make an outline:
 * column headers before entries, graph lines under an entry of their
 * event, one depth deeper. */
static void check_rows(struct pyperf_profile *p, const struct pyperf_report_opts *o,
		       size_t *entries)
{
	struct pyperf_report_rows *r = NULL;
	char *want = write_text(p, o), *got;
	const struct pyperf_report_row *entry = NULL;
	bool columns = false;

	REQUIRE(want);
	REQUIRE(!pyperf_profile__report_rows(p, o, &r));
	got = join_rows(r);
	REQUIRE(got);
	CHECK_STR(got, want);
	*entries = 0;
	for (size_t i = 0; i < pyperf_report_rows__nr(r); i++) {
		const struct pyperf_report_row *row = pyperf_report_rows__row(r, i);

		CHECK(row->kind != PYPERF_ROW_BLANK || !row->text[0]);
		switch (row->kind) {
		case PYPERF_ROW_COLUMNS:
			CHECK(row->text[0] == '#');
			columns = true;
			entry = NULL;
			break;
		case PYPERF_ROW_ENTRY:
			CHECK(columns);
			CHECK(row->event >= 0);
			CHECK(row->comm && row->dso);
			/* the fold mark's place: two spaces, then the entry */
			CHECK(!strncmp(row->text + row->indent, "  ", 2));
			entry = row;
			(*entries)++;
			break;
		case PYPERF_ROW_GRAPH:
			REQUIRE(entry);
			CHECK_EQ(row->event, entry->event);
			CHECK_EQ(row->depth, entry->depth + 1);
			break;
		case PYPERF_ROW_HEADER:
			CHECK(row->text[0] == '#');
			columns = false;
			break;
		default:
			break;
		}
	}
	free(got);
	free(want);
	pyperf_report_rows__free(r);
}

TEST(rows_are_the_stdio_report)
{
	static const char *const files[] = {"fp-callchain.data", "threads-forks.data",
					    "pyperf-python312.data", "dwarf1024.data"};
	static const enum pyperf_sort_key keys[] = {PYPERF_SORT_COMM, PYPERF_SORT_DSO};

	for (size_t f = 0; f < sizeof(files) / sizeof(files[0]); f++) {
		struct pyperf_profile *p = load(files[f], PYPERF_VIEW_MIXED);
		PYPERF_OPTS(pyperf_report_opts, tree);
		PYPERF_OPTS(pyperf_report_opts, hier, .hierarchy = true);
		PYPERF_OPTS(pyperf_report_opts, hier2, .hierarchy = true, .sort = keys,
			    .nr_sort = 2, .percent_limit = 30);
		PYPERF_OPTS(pyperf_report_opts, self, .no_children = true, .percent_limit = 1,
			    .callchain_min_percent = 1, .callchain_min_percent_set = true);
		size_t n_tree, n;

		REQUIRE(p);
		check_rows(p, &tree, &n_tree);
		CHECK(n_tree > 0);
		check_rows(p, &hier, &n);
		CHECK(n > 0);
		check_rows(p, &hier2, &n);
		check_rows(p, &self, &n);
		unload(p);
	}
}

/* --dsos and --symbol-filter keep the entries they name, and say so. */
TEST(entry_filters)
{
	struct pyperf_profile *p = load("pyperf-python312.data", PYPERF_VIEW_MIXED);
	struct pyperf_report_rows *all = NULL, *r = NULL;
	PYPERF_OPTS(pyperf_report_opts, o);
	const char *dso = NULL;
	size_t n_all = 0, n = 0, kept = 0;
	char *text, re[600] = "", sym_name[256];

	REQUIRE(p);
	REQUIRE(!pyperf_profile__report_rows(p, &o, &all));
	for (size_t i = 0; i < pyperf_report_rows__nr(all); i++) {
		const struct pyperf_report_row *row = pyperf_report_rows__row(all, i);

		if (row->kind != PYPERF_ROW_ENTRY)
			continue;
		n_all++;
		if (!dso && row->event == 0 && strcmp(row->dso, "[unknown]"))
			dso = row->dso;
		if (dso && !strcmp(row->dso, dso) && row->event == 0)
			kept++;
	}
	REQUIRE(dso);
	o.dsos = &dso;
	o.nr_dsos = 1;
	check_rows(p, &o, &n);
	REQUIRE(!pyperf_profile__report_rows(p, &o, &r));
	for (size_t i = 0; i < pyperf_report_rows__nr(r); i++) {
		const struct pyperf_report_row *row = pyperf_report_rows__row(r, i);

		if (row->kind == PYPERF_ROW_ENTRY && row->event == 0)
			CHECK_STR(row->dso, dso);
	}
	CHECK(n >= kept && n < n_all);
	pyperf_report_rows__free(r);
	text = write_text(p, &o);
	CHECK_CONTAINS(text, "# Entries: ");
	CHECK_CONTAINS(text, " shown: DSO ");
	free(text);

	/* a symbol regex, the first entry's name: every entry shown has it */
	o.dsos = NULL;
	o.nr_dsos = 0;
	for (size_t i = 0; i < pyperf_report_rows__nr(all) && !re[0]; i++) {
		const struct pyperf_report_row *row = pyperf_report_rows__row(all, i);
		const char *sym = row->kind == PYPERF_ROW_ENTRY ? strstr(row->text, "] ") : NULL;
		size_t at = 1;

		if (!sym)
			continue;
		snprintf(sym_name, sizeof(sym_name), "%s", sym + 2);
		re[0] = '^';
		for (const char *c = sym_name; *c && at + 3 < sizeof(re); c++) {
			if (strchr("\\.[]()*+?{}|^$", *c))
				re[at++] = '\\';
			re[at++] = *c;
		}
		re[at++] = '$';
		re[at] = 0;
	}
	REQUIRE(re[0]);
	o.symbol_regex = re;
	check_rows(p, &o, &n);
	CHECK(n > 0 && n < n_all);
	text = write_text(p, &o);
	CHECK_CONTAINS(text, "symbol matching /");
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n"))
		if (line[0] != '#' && strstr(line, "] "))
			CHECK_STR(strstr(line, "] ") + 2, sym_name);
	free(text);
	o.symbol_regex = "(";
	CHECK_EQ(pyperf_profile__report_rows(p, &o, &r), -EINVAL);
	CHECK(r == NULL);
	pyperf_report_rows__free(all);
	unload(p);
}

/* The profile's functions by (name, thread) summed from the tree, to check
 * pyperf_profile__top() against: self is the leaf count; total counts a
 * sample once per function on its path (recursion included). */
static void walk_totals(struct pyperf_profile *p, uint32_t node, uint32_t *on_path, uint64_t *self,
			uint64_t *total)
{
	const struct pyperf_node *n = pyperf_profile__node(p, node);

	self[n->frame] += n->self_samples;
	if (!on_path[n->frame])
		total[n->frame] += n->total_samples;
	on_path[n->frame]++;
	for (uint32_t c = n->first_child; c; c = pyperf_profile__node(p, c)->next_sibling)
		walk_totals(p, c, on_path, self, total);
	on_path[n->frame]--;
}

static void test_top_counts_as_the_tree(void)
{
	static const char *const files[] = {"fp-callchain.data", "python312-xperf.data",
					    "dwarf1024.data"};

	for (size_t k = 0; k < sizeof(files) / sizeof(files[0]); k++) {
		struct pyperf_profile *p = load(files[k], PYPERF_VIEW_MIXED);
		PYPERF_OPTS(pyperf_top_opts, by_total, .by_total = true);
		PYPERF_OPTS(pyperf_top_opts, per_thread, .per_thread = true);
		size_t nf, nr = 0, nrt = 0;
		uint32_t ev;
		uint64_t *self, *total, all, sum = 0, sum_t = 0;
		uint32_t *on_path;
		struct pyperf_top_entry *e, *et;
		long n, nt;

		CHECK(p != NULL);
		if (!p)
			continue;
		nf = pyperf_profile__nr_frames(p);
		ev = pyperf_profile__event_node(p, 0);
		CHECK(ev != 0);
		all = pyperf_profile__node(p, ev)->total_samples;
		self = calloc(nf, sizeof(*self));
		total = calloc(nf, sizeof(*total));
		on_path = calloc(nf, sizeof(*on_path));
		e = calloc(nf + 1, sizeof(*e));
		et = calloc(nf * 64 + 1, sizeof(*et));
		for (uint32_t t = pyperf_profile__node(p, ev)->first_child; t;
		     t = pyperf_profile__node(p, t)->next_sibling)
			for (uint32_t c = pyperf_profile__node(p, t)->first_child; c;
			     c = pyperf_profile__node(p, c)->next_sibling)
				walk_totals(p, c, on_path, self, total);
		n = pyperf_profile__top(p, NULL, e, nf + 1, &nr);
		CHECK(n > 0);
		CHECK_U64(nr, (uint64_t)n);
		for (long i = 0; i < n; i++) {
			CHECK_U64(e[i].self_samples, self[e[i].frame]);
			CHECK_U64(e[i].total_samples, total[e[i].frame]);
			CHECK(e[i].total_samples <= all);
			CHECK(e[i].total_samples >= e[i].self_samples);
			if (i)
				CHECK(e[i - 1].self_samples >= e[i].self_samples);
			sum += e[i].self_samples;
		}
		/* every sample ends in one function */
		CHECK_U64(sum, all);
		n = pyperf_profile__top(p, &by_total, e, nf + 1, NULL);
		for (long i = 1; i < n; i++)
			CHECK(e[i - 1].total_samples >= e[i].total_samples);
		CHECK(n < 2 || e[0].total_samples == total[e[0].frame]);
		/* per thread: the threads' entries add up to the merged ones */
		nt = pyperf_profile__top(p, &per_thread, et, nf * 64 + 1, &nrt);
		CHECK(nt > 0 && (size_t)nt == nrt);
		for (long i = 0; i < nt; i++) {
			CHECK(et[i].thread != 0);
			sum_t += et[i].self_samples;
		}
		CHECK_U64(sum_t, all);
		/* a short buffer gets the heaviest, and the count of all */
		n = pyperf_profile__top(p, NULL, e, 1, &nr);
		CHECK(n == 1 && nr > 1);
		CHECK(pyperf_profile__top(p, NULL, NULL, 3, NULL) == -EINVAL);
		free(self);
		free(total);
		free(on_path);
		free(e);
		free(et);
		unload(p);
	}
}

/* A file's records one by one through pyperf_profile__add_record(), as a
 * recorder's sink gives them, make the tree add_file() makes. */
static void test_add_record_as_add_file(void)
{
	static const char *const files[] = {"fp-callchain.data", "dwarf1024.data"};

	for (size_t k = 0; k < sizeof(files) / sizeof(files[0]); k++) {
		struct pyperf_profile *a = load(files[k], PYPERF_VIEW_NATIVE);
		struct pyperf_symbols *s = corpus_symbols();
		PYPERF_OPTS(pyperf_profile_opts, o, .view = PYPERF_VIEW_NATIVE, .live = k == 1);
		struct pyperf_profile *b = s ? pyperf_profile__new(s, &o) : NULL;
		PYPERF_OPTS(pyperf_machine_opts, mopts);
		char path[PATH_MAX + 64];
		struct pyperf_data *d;
		struct pyperf_machine *m;
		const struct pyperf_record *rec;
		struct pyperf_top_entry ea[64], eb[64];
		long na, nb;

		snprintf(path, sizeof(path), "%s/%s", corpus, files[k]);
		d = pyperf_data__open(path, NULL, NULL);
		mopts.data = d;
		m = d && s ? pyperf_machine__new(s, &mopts) : NULL;
		CHECK(a && b && d && m);
		if (!a || !b || !d || !m)
			return;
		while (pyperf_data__next_ordered(d, &rec, NULL) > 0)
			CHECK_EQ(pyperf_profile__add_record(b, m, rec), 0);
		pyperf_profile__finish(b);
		CHECK_U64(pyperf_profile__stats(b)->samples, pyperf_profile__stats(a)->samples);
		CHECK_U64(pyperf_profile__nr_nodes(b), pyperf_profile__nr_nodes(a));
		na = pyperf_profile__top(a, NULL, ea, 64, NULL);
		nb = pyperf_profile__top(b, NULL, eb, 64, NULL);
		CHECK_EQ(na, nb);
		for (long i = 0; i < na && i < nb; i++) {
			CHECK_STR(pyperf_profile__frame(a, ea[i].frame)->name,
				  pyperf_profile__frame(b, eb[i].frame)->name);
			CHECK_U64(ea[i].self_samples, eb[i].self_samples);
			CHECK_U64(ea[i].total_samples, eb[i].total_samples);
		}
		pyperf_machine__free(m);
		pyperf_data__close(d);
		pyperf_profile__free(b);
		pyperf_symbols__free(s);
		unload(a);
	}
}

int main(void)
{
	if (!find_corpus()) {
		fprintf(stderr,
			"test-outputs: tests/fuzz/corpus/data not found (set PYPERF_TOP)\n");
		return 1;
	}
	return RUN(CASE(pprof_round_trip), CASE(pprof_python_functions_carry_their_file),
		   CASE(json_tree), CASE(svg_leaves_out_narrow_frames),
		   CASE(svg_escapes_python_names), CASE(perf_script_tidies_names_as_the_script),
		   CASE(perf_script_bad_lines), CASE(formats_by_name),
		   CASE(rows_are_the_stdio_report), CASE(entry_filters),
		   CASE(top_counts_as_the_tree), CASE(add_record_as_add_file));
}
