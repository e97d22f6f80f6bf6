// SPDX-License-Identifier: MIT
/*
 * pprof's profile.proto, gzip-compressed. The messages are built in an
 * arena as protobuf-c structs (generated at build time from
 * libpyperf/proto/profile.proto), packed by protobuf-c and compressed by
 * zlib: no encoder of our own.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <zlib.h>
#include "writer.h"
#include "profile.pb-c.h"
#include "symbols_internal.h"

struct func_slot {
	uint64_t hash;
	int64_t name, file; /* string indices */
	uint32_t id;	    /* 0: empty */
};

struct pwriter {
	struct pyperf_profile *p;
	struct pp_labels labels;
	struct pp_arena arena;
	/* string table */
	char **strs;
	size_t nr_strs, cap_strs;
	struct pp_hslot *sslots;
	size_t sslots_cap;
	/* functions, locations and mappings, by id - 1 */
	Pyperf__Pprof__Function **funcs;
	size_t nr_funcs, cap_funcs;
	struct func_slot *fslots;
	size_t fslots_cap;
	Pyperf__Pprof__Location **locs;
	size_t nr_locs, cap_locs;
	uint32_t *loc_of_frame; /* profile frame id -> location id */
	Pyperf__Pprof__Mapping **maps;
	size_t nr_maps, cap_maps;
	const struct pyperf_dso **map_dsos; /* the dso of each mapping */
	size_t cap_map_dsos;
	Pyperf__Pprof__Sample **samples;
	size_t nr_samples, cap_samples;
	uint64_t *path;
	size_t path_cap;
	int64_t label_thread, label_pid, label_tid;
	double pct;
};

/* The string table index of @s (copied if new); -1 on ENOMEM. */
static int64_t str_index(struct pwriter *w, const char *s)
{
	size_t len = strlen(s);
	uint64_t h = hash_bytes(s, len, HASH_SEED);
	size_t j;

	if ((w->nr_strs + 1) * 2 > w->sslots_cap &&
	    pp_hslots_grow(&w->sslots, &w->sslots_cap, 1024))
		return -1;
	for (j = pp_probe_start(h, w->sslots_cap); w->sslots[j].idx;
	     j = pp_probe_next(j, w->sslots_cap))
		if (w->sslots[j].hash == h && !strcmp(w->strs[w->sslots[j].idx - 1], s))
			return w->sslots[j].idx - 1;
	if (PP_GROW(w->strs, w->cap_strs, w->nr_strs + 1))
		return -1;
	w->strs[w->nr_strs] = pp_arena_strndup(&w->arena, s, len);
	if (!w->strs[w->nr_strs])
		return -1;
	w->sslots[j] = (struct pp_hslot){h, (uint32_t)++w->nr_strs};
	return (int64_t)w->nr_strs - 1;
}

static bool func_slot_hash(const void *slot, const void *ctx, uint64_t *hash)
{
	const struct func_slot *s = slot;

	(void)ctx;
	*hash = s->hash;
	return s->id != 0;
}

static int fslots_grow(struct pwriter *w)
{
	return pp_table_grow((void **)&w->fslots, &w->fslots_cap, 1024, sizeof(*w->fslots),
			     func_slot_hash, NULL);
}

/* The function named @name in source file @file (string indices). 0 on ENOMEM. */
static uint64_t function_id(struct pwriter *w, int64_t name, int64_t file)
{
	uint64_t h = hash_u64((uint64_t)name * 0x9e3779b97f4a7c15ULL ^ (uint64_t)file);
	Pyperf__Pprof__Function *f;
	size_t j;

	if ((w->nr_funcs + 1) * 2 > w->fslots_cap && fslots_grow(w))
		return 0;
	for (j = pp_probe_start(h, w->fslots_cap); w->fslots[j].id;
	     j = pp_probe_next(j, w->fslots_cap))
		if (w->fslots[j].name == name && w->fslots[j].file == file)
			return w->fslots[j].id;
	f = pp_arena_alloc(&w->arena, sizeof(*f));
	if (!f || PP_GROW(w->funcs, w->cap_funcs, w->nr_funcs + 1))
		return 0;
	pyperf__pprof__function__init(f);
	f->id = w->nr_funcs + 1;
	f->name = f->system_name = name;
	f->filename = file;
	w->funcs[w->nr_funcs++] = f;
	w->fslots[j] = (struct func_slot){h, name, file, (uint32_t)f->id};
	return f->id;
}

/* One mapping per object file (linear: a profile touches few objects). */
static uint64_t mapping_id(struct pwriter *w, const struct pyperf_dso *dso)
{
	Pyperf__Pprof__Mapping *m;
	const char *name;
	int64_t s;

	for (size_t i = 0; i < w->nr_maps; i++)
		if (w->map_dsos[i] == dso)
			return i + 1;
	name = dso ? pyperf_dso__name(dso) : "[unknown]";
	name = pp_utf8_clean(&w->arena, name, strlen(name));
	s = name ? str_index(w, name) : -1;
	m = pp_arena_alloc(&w->arena, sizeof(*m));
	if (s < 0 || !m || PP_GROW(w->maps, w->cap_maps, w->nr_maps + 1) ||
	    PP_GROW(w->map_dsos, w->cap_map_dsos, w->nr_maps + 1))
		return 0;
	pyperf__pprof__mapping__init(m);
	m->id = w->nr_maps + 1;
	m->filename = s;
	/* Every location names its function: readers must not symbolize. */
	m->has_functions = true;
	m->has_filenames = dso && dso->kind == PYPERF_DSO_PYTHON;
	w->maps[w->nr_maps] = m;
	w->map_dsos[w->nr_maps++] = dso;
	return m->id;
}

/* The location of profile frame @id. 0 on ENOMEM. */
static uint64_t location_id(struct pwriter *w, uint32_t id)
{
	const struct pyperf_frame *f = pyperf_profile__frame(w->p, id);
	Pyperf__Pprof__Location *l;
	Pyperf__Pprof__Line *line;
	const char *name, *file;
	int64_t ns, fs;
	uint64_t fid, mid;

	if (w->loc_of_frame[id])
		return w->loc_of_frame[id];
	name = pp_label(&w->labels, id);
	file = pp_label_file(&w->labels, id);
	if (!name)
		return 0;
	ns = str_index(w, name);
	fs = str_index(w, file ? file : "");
	if (ns < 0 || fs < 0)
		return 0;
	fid = function_id(w, ns, fs);
	mid = mapping_id(w, f->dso);
	l = pp_arena_alloc(&w->arena, sizeof(*l));
	line = pp_arena_alloc(&w->arena, sizeof(*line));
	if (!fid || !mid || !l || !line || PP_GROW(w->locs, w->cap_locs, w->nr_locs + 1))
		return 0;
	pyperf__pprof__location__init(l);
	pyperf__pprof__line__init(line);
	line->function_id = fid;
	l->id = w->nr_locs + 1;
	l->mapping_id = mid;
	/* perf's map_ip: the address within the object, stable across runs */
	l->address = f->addr ? f->addr : f->ip;
	l->n_line = 1;
	l->line = pp_arena_alloc(&w->arena, sizeof(*l->line));
	if (!l->line)
		return 0;
	l->line[0] = line;
	w->locs[w->nr_locs++] = l;
	w->loc_of_frame[id] = (uint32_t)l->id;
	return l->id;
}

static Pyperf__Pprof__Label *label(struct pwriter *w, int64_t key, int64_t str, int64_t num)
{
	Pyperf__Pprof__Label *l = pp_arena_alloc(&w->arena, sizeof(*l));

	if (!l)
		return NULL;
	pyperf__pprof__label__init(l);
	l->key = key;
	l->str = str;
	l->num = num;
	return l;
}

/* One sample per node with weight below @thread. */
static int thread_samples(struct pwriter *w, uint32_t thread, uint64_t total)
{
	const struct pyperf_node *tn = pyperf_profile__node(w->p, thread);
	const struct pyperf_frame *tf = pyperf_profile__frame(w->p, tn->frame);
	const char *comm = pp_label(&w->labels, tn->frame);
	Pyperf__Pprof__Label *labels[3];
	uint32_t *stack = NULL;
	size_t sp = 0, cap = 0;
	int64_t cs = comm ? str_index(w, comm) : -1;
	int ret = -ENOMEM;

	labels[0] = label(w, w->label_thread, cs, 0);
	labels[1] = label(w, w->label_pid, 0, tf->pid);
	labels[2] = label(w, w->label_tid, 0, tf->tid);
	if (cs < 0 || !labels[0] || !labels[1] || !labels[2] || PP_GROW(stack, cap, 1))
		goto out;
	stack[sp++] = thread;
	while (sp) {
		uint32_t id = stack[--sp];
		const struct pyperf_node *n = pyperf_profile__node(w->p, id);

		if (id != thread && n->self_samples) {
			Pyperf__Pprof__Sample *s = pp_arena_alloc(&w->arena, sizeof(*s));
			size_t depth = 0;

			for (uint32_t up = id; up != thread;
			     up = pyperf_profile__node(w->p, up)->parent) {
				uint64_t loc =
				    location_id(w, pyperf_profile__node(w->p, up)->frame);

				if (!loc || PP_GROW(w->path, w->path_cap, depth + 1))
					goto out;
				w->path[depth++] = loc;
			}
			if (!s || PP_GROW(w->samples, w->cap_samples, w->nr_samples + 1))
				goto out;
			pyperf__pprof__sample__init(s);
			s->n_location_id = depth;
			s->location_id = pp_arena_alloc(&w->arena, depth * sizeof(uint64_t));
			s->n_value = 2;
			s->value = pp_arena_alloc(&w->arena, 2 * sizeof(int64_t));
			s->n_label = 3;
			s->label = pp_arena_alloc(&w->arena, sizeof(labels));
			if (!s->location_id || !s->value || !s->label)
				goto out;
			memcpy(s->location_id, w->path, depth * sizeof(uint64_t));
			s->value[0] = (int64_t)n->self_samples;
			s->value[1] = (int64_t)n->self_period;
			memcpy(s->label, labels, sizeof(labels));
			w->samples[w->nr_samples++] = s;
		}
		for (uint32_t c = n->first_child; c;
		     c = pyperf_profile__node(w->p, c)->next_sibling) {
			if (!pp_keep(pyperf_profile__node(w->p, c)->total_period, total, w->pct))
				continue;
			if (PP_GROW(stack, cap, sp + 1))
				goto out;
			stack[sp++] = c;
		}
	}
	ret = 0;
out:
	free(stack);
	return ret;
}

static Pyperf__Pprof__ValueType *value_type(struct pwriter *w, const char *type, const char *unit)
{
	Pyperf__Pprof__ValueType *v = pp_arena_alloc(&w->arena, sizeof(*v));
	int64_t t = str_index(w, type), u = str_index(w, unit);

	if (!v || t < 0 || u < 0)
		return NULL;
	pyperf__pprof__value_type__init(v);
	v->type = t;
	v->unit = u;
	return v;
}

/* gzip @len bytes of @buf into @out. */
static int write_gzip(FILE *out, const uint8_t *buf, size_t len, int level)
{
	unsigned char chunk[64 * 1024];
	z_stream z = {0};
	int zr;

	/* 15 + 16: a gzip header and trailer, not a zlib one */
	if (deflateInit2(&z, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return -ENOMEM;
	z.next_in = (unsigned char *)buf;
	z.avail_in = 0;
	do {
		/* avail_in is 32-bit: feed large buffers in slices */
		if (!z.avail_in && len) {
			size_t n = MIN(len, (size_t)1 << 30);

			z.avail_in = (uInt)n;
			len -= n;
		}
		z.next_out = chunk;
		z.avail_out = sizeof(chunk);
		zr = deflate(&z, len || z.avail_in ? Z_NO_FLUSH : Z_FINISH);
		if (zr == Z_STREAM_ERROR || fwrite(chunk, 1, sizeof(chunk) - z.avail_out, out) !=
						sizeof(chunk) - z.avail_out) {
			deflateEnd(&z);
			return -EIO;
		}
	} while (zr != Z_STREAM_END);
	deflateEnd(&z);
	return 0;
}

PYPERF_API int pyperf_profile__write_pprof(struct pyperf_profile *p, FILE *out,
					   const struct pyperf_pprof_opts *opts)
{
	struct pwriter w = {0};
	Pyperf__Pprof__Profile prof;
	Pyperf__Pprof__ValueType *types[2] = {NULL, NULL};
	int64_t comments[2];
	uint8_t *buf = NULL;
	size_t len, nc = 0;
	uint32_t ev;
	int level, ret = -ENOMEM;

	if (!OPTS_VALID(opts, pyperf_pprof_opts))
		return pyperf_err(-EINVAL);
	level = OPTS_GET(opts, compression, 0);
	if (level < 0 || level > 9)
		return pyperf_err(-EINVAL);
	pyperf_profile__finish(p);
	w.p = p;
	w.pct = OPTS_GET(opts, percent_limit, 0.0);
	pp_arena_init(&w.arena, 1024 * 1024);
	if (pp_labels_init(&w.labels, p))
		goto out;
	w.loc_of_frame = pp_calloc(pyperf_profile__nr_frames(p) + 1, sizeof(*w.loc_of_frame));
	if (!w.loc_of_frame || str_index(&w, "") != 0)
		goto out;
	w.label_thread = str_index(&w, "thread");
	w.label_pid = str_index(&w, "pid");
	w.label_tid = str_index(&w, "tid");
	pyperf__pprof__profile__init(&prof);
	ev = pp_first_event_node(p);
	types[0] = value_type(&w, "samples", "count");
	if (ev) {
		const struct pyperf_node *en = pyperf_profile__node(p, ev);
		const char *evname = pp_label(&w.labels, en->frame);

		if (!evname)
			goto out;
		/* off-cpu and wall profiles weigh nanoseconds too, but not of CPU */
		types[1] = pp_time_event(evname)   ? value_type(&w, "cpu", "nanoseconds")
			   : pp_event_in_ns(p, ev) ? value_type(&w, evname, "nanoseconds")
						   : value_type(&w, evname, "count");
		for (uint32_t t = en->first_child; t;
		     t = pyperf_profile__node(p, t)->next_sibling) {
			if (!pp_keep(pyperf_profile__node(p, t)->total_period, en->total_period,
				     w.pct))
				continue;
			if (thread_samples(&w, t, en->total_period))
				goto out;
		}
		prof.period =
		    en->total_samples ? (int64_t)(en->total_period / en->total_samples) : 0;
	} else {
		types[1] = value_type(&w, "cpu", "nanoseconds");
	}
	if (!types[0] || !types[1])
		goto out;
	{
		const char *cmd = pyperf_profile__command(p);
		uint64_t t0, t1;

		if (cmd) {
			cmd = pp_utf8_clean(&w.arena, cmd, strlen(cmd));
			if (!cmd || (comments[nc++] = str_index(&w, cmd)) < 0)
				goto out;
		}
		if ((comments[nc++] = str_index(&w, "pyperf " PYPERF_VERSION_STRING)) < 0)
			goto out;
		pyperf_profile__time_range(p, &t0, &t1);
		prof.duration_nanos = (int64_t)(t1 - t0);
	}
	prof.n_sample_type = 2;
	prof.sample_type = types;
	prof.period_type = types[1];
	prof.default_sample_type = types[1]->type;
	prof.n_sample = w.nr_samples;
	prof.sample = w.samples;
	prof.n_mapping = w.nr_maps;
	prof.mapping = w.maps;
	prof.n_location = w.nr_locs;
	prof.location = w.locs;
	prof.n_function = w.nr_funcs;
	prof.function = w.funcs;
	prof.n_string_table = w.nr_strs;
	prof.string_table = w.strs;
	prof.n_comment = nc;
	prof.comment = comments;
	len = pyperf__pprof__profile__get_packed_size(&prof);
	buf = pp_malloc(len ? len : 1);
	if (!buf)
		goto out;
	if (pyperf__pprof__profile__pack(&prof, buf) != len) {
		ret = -EIO;
		goto out;
	}
	ret = write_gzip(out, buf, len, level ? level : 6);
	if (!ret && ferror(out))
		ret = -EIO;
out:
	free(buf);
	free(w.strs);
	free(w.sslots);
	free(w.funcs);
	free(w.fslots);
	free(w.locs);
	free(w.loc_of_frame);
	free(w.maps);
	free(w.map_dsos);
	free(w.samples);
	free(w.path);
	pp_labels_free(&w.labels);
	pp_arena_free(&w.arena);
	return pyperf_err(pp_write_done(p, out, ret));
}
