// SPDX-License-Identifier: MIT
/*
 * speedscope's file format (https://www.speedscope.app/file-format-schema.json):
 * frames shared by every profile, and one "sampled" profile per thread
 * whose samples are stacks of frame indices, outermost first. In time
 * order, the samples are the profile's timeline (runs of one stack, merged
 * while the stack stays the same), so Time Order shows the phases; else
 * each distinct stack is one sample weighing what it weighed in total, in
 * the order its stack was first seen.
 * jansson writes the document; the sample stacks and weights, long runs of
 * integers, are streamed into it (pp_out, writer.h).
 */
#include <inttypes.h>
#include <stdlib.h>
#include <jansson.h>
#include "writer.h"

struct sframe_slot {
	uint64_t hash;
	const char *name, *file;
	uint32_t idx; /* +1 */
};

struct swriter {
	struct pyperf_profile *p;
	struct pp_labels labels;
	json_t *frames;
	uint32_t *frame_index; /* profile frame id -> speedscope index + 1 */
	struct sframe_slot *slots;
	size_t slots_cap;
	uint32_t *leaves; /* nodes with weight, of one thread */
	size_t leaves_cap;
	uint32_t *path;
	size_t path_cap;
	/* Per thread profile: [depth, frame..., weight] per sample, all
	 * threads one after another, until the frames are written. */
	int64_t *ints;
	size_t nr_ints, ints_cap;
	struct sprofile {
		json_t *meta; /* type, name, unit, startValue, endValue */
		size_t first, nr_samples;
		/* time order: written from the timeline, not from ints */
		uint32_t thread;
		uint64_t total;
	} * profs;
	size_t nr_profs, profs_cap;
	bool period;
	bool time_order;
	double pct;
	uint8_t *cut_of; /* time order, percent limit: per leaf 0 unknown, 1 kept, 2 cut */
};

static bool sframe_slot_hash(const void *slot, const void *ctx, uint64_t *hash)
{
	const struct sframe_slot *s = slot;

	(void)ctx;
	*hash = s->hash;
	return s->idx != 0;
}

static int slots_grow(struct swriter *w)
{
	return pp_table_grow((void **)&w->slots, &w->slots_cap, 1024, sizeof(*w->slots),
			     sframe_slot_hash, NULL);
}

/* The speedscope frame of profile frame @id: one per distinct name and file. */
static int64_t frame_of(struct swriter *w, uint32_t id)
{
	const char *name, *file;
	uint64_t h;
	size_t j;
	json_t *o;

	if (w->frame_index[id])
		return w->frame_index[id] - 1;
	name = pp_label(&w->labels, id);
	file = pp_label_file(&w->labels, id);
	if (!name)
		return -1;
	h = hash_bytes(name, strlen(name), HASH_SEED);
	if (file)
		h = hash_bytes(file, strlen(file), h ^ 1);
	if ((json_array_size(w->frames) + 1) * 2 > w->slots_cap && slots_grow(w))
		return -1;
	for (j = pp_probe_start(h, w->slots_cap); w->slots[j].idx;
	     j = pp_probe_next(j, w->slots_cap)) {
		struct sframe_slot *s = &w->slots[j];

		if (s->hash == h && !strcmp(s->name, name) &&
		    (s->file == file || (s->file && file && !strcmp(s->file, file)))) {
			w->frame_index[id] = s->idx;
			return s->idx - 1;
		}
	}
	o = json_object();
	if (!o || json_object_set_new(o, "name", json_string(name)) ||
	    (file && json_object_set_new(o, "file", json_string(file))) ||
	    json_array_append_new(w->frames, o)) {
		json_decref(o);
		return -1;
	}
	w->slots[j] = (struct sframe_slot){h, name, file, (uint32_t)json_array_size(w->frames)};
	w->frame_index[id] = w->slots[j].idx;
	return w->slots[j].idx - 1;
}

static int cmp_first_seen(const void *a, const void *b, void *ctx)
{
	const struct pyperf_profile *order_p = ctx;
	const struct pyperf_node *x = pyperf_profile__node(order_p, *(const uint32_t *)a);
	const struct pyperf_node *y = pyperf_profile__node(order_p, *(const uint32_t *)b);

	return x->first_sample < y->first_sample ? -1 : x->first_sample > y->first_sample;
}

/* The nodes under @thread that carry weight and survive the cut. */
static int collect(struct swriter *w, uint32_t thread, uint64_t total, size_t *n)
{
	uint32_t *stack = NULL;
	size_t sp = 0, cap = 0;
	int ret = 0;

	*n = 0;
	if (PP_GROW(stack, cap, 1))
		return -ENOMEM;
	stack[sp++] = thread;
	while (sp) {
		uint32_t id = stack[--sp];
		const struct pyperf_node *nd = pyperf_profile__node(w->p, id);

		if (id != thread && (w->period ? nd->self_period : nd->self_samples)) {
			if (PP_GROW(w->leaves, w->leaves_cap, *n + 1)) {
				ret = -ENOMEM;
				break;
			}
			w->leaves[(*n)++] = id;
		}
		for (uint32_t c = nd->first_child; c;
		     c = pyperf_profile__node(w->p, c)->next_sibling) {
			if (!pp_keep(pyperf_profile__node(w->p, c)->total_period, total, w->pct))
				continue;
			if (PP_GROW(stack, cap, sp + 1)) {
				ret = -ENOMEM;
				goto out;
			}
			stack[sp++] = c;
		}
	}
out:
	free(stack);
	return ret;
}

static int push_int(struct swriter *w, int64_t v)
{
	if (PP_GROW(w->ints, w->ints_cap, w->nr_ints + 1))
		return -ENOMEM;
	w->ints[w->nr_ints++] = v;
	return 0;
}

/* Leaf @leaf's stack under @thread into w->ints: depth, frames outermost
 * first, then @weight. */
static int push_stack(struct swriter *w, uint32_t thread, uint32_t leaf, uint64_t weight)
{
	size_t depth = 0;

	for (uint32_t up = leaf; up != thread; up = pyperf_profile__node(w->p, up)->parent) {
		if (PP_GROW(w->path, w->path_cap, depth + 1))
			return -ENOMEM;
		w->path[depth++] = pyperf_profile__node(w->p, up)->frame;
	}
	if (push_int(w, (int64_t)depth))
		return -ENOMEM;
	while (depth--) {
		int64_t fi = frame_of(w, w->path[depth]);

		if (fi < 0 || push_int(w, fi))
			return -ENOMEM;
	}
	return push_int(w, (int64_t)weight);
}

/*
 * The next sample of @thread in time order from run *@i on: its leaf and
 * weight, consecutive runs in one stack merged, runs in a stack the
 * percent limit cuts skipped (as the aggregate leaves them out). The
 * samples are walked again to write them, so nothing is buffered: one
 * per run can be hundreds of megabytes.
 */
static bool next_sample(struct swriter *w, uint32_t thread, uint64_t total, size_t *i,
			uint32_t *leaf, uint64_t *weight)
{
	size_t nr = 0;
	const struct pyperf_sample_run *runs = pyperf_profile__timeline(w->p, &nr);

	*leaf = 0;
	*weight = 0;
	for (; *i < nr; (*i)++) {
		const struct pyperf_sample_run *r = &runs[*i];
		uint64_t wt = w->period ? r->period : r->samples;

		if (r->thread != thread || !wt)
			continue;
		if (w->cut_of && !w->cut_of[r->node]) {
			bool kept = true;

			for (uint32_t up = r->node; up != thread && kept;
			     up = pyperf_profile__node(w->p, up)->parent)
				kept = pp_keep(pyperf_profile__node(w->p, up)->total_period, total,
					       w->pct);
			w->cut_of[r->node] = kept ? 1 : 2;
		}
		if (w->cut_of && w->cut_of[r->node] == 2)
			continue;
		if (*leaf && r->node != *leaf)
			return true;
		*leaf = r->node;
		*weight += wt;
	}
	return *leaf != 0;
}

/* Counts @thread's time-ordered samples and gives their frames indices. */
static int time_ordered(struct swriter *w, uint32_t thread, uint64_t total, size_t *n,
			uint64_t *sum)
{
	uint32_t leaf;
	uint64_t weight;

	*n = 0;
	for (size_t i = 0; next_sample(w, thread, total, &i, &leaf, &weight);) {
		for (uint32_t up = leaf; up != thread; up = pyperf_profile__node(w->p, up)->parent)
			if (frame_of(w, pyperf_profile__node(w->p, up)->frame) < 0)
				return -ENOMEM;
		*sum += weight;
		(*n)++;
	}
	return 0;
}

/* The profile of one thread: its samples into w->ints, the rest in meta. */
static int thread_profile(struct swriter *w, uint32_t thread, uint64_t total, const char *unit)
{
	const struct pyperf_frame *tf =
	    pyperf_profile__frame(w->p, pyperf_profile__node(w->p, thread)->frame);
	const char *comm = pp_label(&w->labels, pyperf_profile__node(w->p, thread)->frame);
	struct sprofile *sp;
	uint64_t sum = 0;
	char name[512];
	size_t n;

	if (!comm || PP_GROW(w->profs, w->profs_cap, w->nr_profs + 1))
		return -ENOMEM;
	if (w->time_order) {
		if (time_ordered(w, thread, total, &n, &sum))
			return -ENOMEM;
		w->profs[w->nr_profs] = (struct sprofile){NULL, 0, n, thread, total};
		sp = &w->profs[w->nr_profs];
		goto meta;
	}
	if (collect(w, thread, total, &n))
		return -ENOMEM;
	sp = &w->profs[w->nr_profs];
	*sp = (struct sprofile){NULL, w->nr_ints, n};
	if (n)
		qsort_r(w->leaves, n, sizeof(*w->leaves), cmp_first_seen, w->p);
	for (size_t i = 0; i < n; i++) {
		const struct pyperf_node *leaf = pyperf_profile__node(w->p, w->leaves[i]);
		uint64_t weight = w->period ? leaf->self_period : leaf->self_samples;

		if (push_stack(w, thread, w->leaves[i], weight))
			return -ENOMEM;
		sum += weight;
	}
meta:
	snprintf(name, sizeof(name), "%s %d/%d", comm, tf->pid, tf->tid);
	sp->meta = json_object();
	w->nr_profs++;
	if (!sp->meta || json_object_set_new(sp->meta, "type", json_string("sampled")) ||
	    json_object_set_new(sp->meta, "name", json_string(name)) ||
	    json_object_set_new(sp->meta, "unit", json_string(unit)) ||
	    json_object_set_new(sp->meta, "startValue", json_integer(0)) ||
	    json_object_set_new(sp->meta, "endValue", json_integer((json_int_t)sum)))
		return -ENOMEM;
	return 0;
}

/* A time-ordered profile's samples, then its weights, from the timeline. */
static int write_time_ordered(struct swriter *w, struct pp_out *j, const struct sprofile *sp)
{
	uint32_t leaf;
	uint64_t weight;
	size_t k = 0;

	pp_out_lit(j, ",\"samples\":[");
	for (size_t i = 0; next_sample(w, sp->thread, sp->total, &i, &leaf, &weight);) {
		size_t depth = 0;

		for (uint32_t up = leaf; up != sp->thread;
		     up = pyperf_profile__node(w->p, up)->parent) {
			if (PP_GROW(w->path, w->path_cap, depth + 1))
				return -ENOMEM;
			w->path[depth++] = pyperf_profile__node(w->p, up)->frame;
		}
		if (k++)
			pp_out_lit(j, ",");
		pp_out_lit(j, "[");
		for (size_t d = depth; d--;) {
			pp_out_int(j, frame_of(w, w->path[d])); /* known: no allocation */
			if (d)
				pp_out_lit(j, ",");
		}
		pp_out_lit(j, "]");
	}
	pp_out_lit(j, "],\"weights\":[");
	k = 0;
	for (size_t i = 0; next_sample(w, sp->thread, sp->total, &i, &leaf, &weight);) {
		if (k++)
			pp_out_lit(j, ",");
		pp_out_int(j, (int64_t)weight);
	}
	pp_out_lit(j, "]}");
	return 0;
}

/* One profile object: jansson's members, then samples and weights. */
static int write_profile(struct swriter *w, struct pp_out *j, const struct sprofile *sp)
{
	const int64_t *v = w->ints + sp->first;
	int ret;

	pp_out_lit(j, "{");
	ret = pp_out_json(j, sp->meta, JSON_COMPACT | JSON_EMBED);
	if (!ret && w->time_order)
		return write_time_ordered(w, j, sp);
	pp_out_lit(j, ",\"samples\":[");
	for (size_t i = 0; i < sp->nr_samples; i++) {
		int64_t depth = *v++;

		if (i)
			pp_out_lit(j, ",");
		pp_out_lit(j, "[");
		for (int64_t d = 0; d < depth; d++) {
			if (d)
				pp_out_lit(j, ",");
			pp_out_int(j, *v++);
		}
		pp_out_lit(j, "]");
		v++; /* the weight */
	}
	pp_out_lit(j, "],\"weights\":[");
	v = w->ints + sp->first;
	for (size_t i = 0; i < sp->nr_samples; i++) {
		v += 1 + *v;
		if (i)
			pp_out_lit(j, ",");
		pp_out_int(j, *v++);
	}
	pp_out_lit(j, "]}");
	return ret;
}

PYPERF_API int pyperf_profile__write_speedscope(struct pyperf_profile *p, FILE *out,
						const struct pyperf_speedscope_opts *opts)
{
	struct swriter w = {0};
	struct pp_out *j = NULL;
	json_t *head = NULL, *tail = NULL, *shared = NULL;
	const char *name = OPTS_GET(opts, name, NULL), *unit = "none";
	uint32_t ev;
	uint64_t total = 0;
	int ret = -ENOMEM;

	if (!OPTS_VALID(opts, pyperf_speedscope_opts))
		return pyperf_err(-EINVAL);
	pyperf_profile__finish(p);
	w.p = p;
	w.period = OPTS_GET(opts, period, false);
	w.pct = OPTS_GET(opts, percent_limit, 0.0);
	w.time_order = OPTS_GET(opts, time_order, false);
	if (w.time_order && w.pct > 0 &&
	    !(w.cut_of = pp_calloc(pyperf_profile__nr_nodes(p) + 1, sizeof(*w.cut_of))))
		return pyperf_err(-ENOMEM);
	if (w.time_order && !pyperf_profile__timeline(p, &(size_t){0}) &&
	    pyperf_profile__stats(p)->samples)
		return pyperf_err(-EINVAL);
	if (pp_labels_init(&w.labels, p))
		return pyperf_err(-ENOMEM);
	w.frame_index = pp_calloc(pyperf_profile__nr_frames(p) + 1, sizeof(*w.frame_index));
	w.frames = json_array();
	head = json_object();
	tail = json_object();
	shared = json_object();
	j = pp_malloc(sizeof(*j));
	if (!w.frame_index || !w.frames || !head || !tail || !shared || !j)
		goto out;
	ev = pp_first_event_node(p);
	if (ev) {
		const char *evname = pp_label(&w.labels, pyperf_profile__node(p, ev)->frame);

		if (!evname)
			goto out;
		if (w.period)
			unit = pp_event_in_ns(p, ev) ? "nanoseconds" : "none";
		total = pyperf_profile__node(p, ev)->total_period;
		for (uint32_t t = pyperf_profile__node(p, ev)->first_child; t;
		     t = pyperf_profile__node(p, t)->next_sibling) {
			if (!pp_keep(pyperf_profile__node(p, t)->total_period, total, w.pct))
				continue;
			if (thread_profile(&w, t, total, unit))
				goto out;
		}
	}
	if (!name)
		name = pyperf_profile__command(p);
	if (name)
		name = pp_utf8_clean(&w.labels.arena, name, strlen(name));
	/* Members in the order speedscope's own exporter writes them. */
	if (json_object_set_new(
		head, "$schema",
		json_string("https://www.speedscope.app/file-format-schema.json")) ||
	    json_object_set(shared, "frames", w.frames) ||
	    json_object_set(head, "shared", shared) ||
	    json_object_set_new(tail, "name", json_string(name ? name : "pyperf profile")) ||
	    json_object_set_new(tail, "activeProfileIndex", json_integer(0)) ||
	    json_object_set_new(tail, "exporter", json_string("pyperf " PYPERF_VERSION_STRING)))
		goto out;
	pp_out_init(j, out);
	pp_out_lit(j, "{");
	ret = pp_out_json(j, head, JSON_COMPACT | JSON_EMBED);
	pp_out_lit(j, ",\"profiles\":[");
	for (size_t i = 0; i < w.nr_profs && !ret; i++) {
		if (i)
			pp_out_lit(j, ",");
		ret = write_profile(&w, j, &w.profs[i]);
	}
	pp_out_lit(j, "],");
	if (!ret)
		ret = pp_out_json(j, tail, JSON_COMPACT | JSON_EMBED);
	pp_out_lit(j, "}\n");
	if (!ret)
		ret = pp_out_finish(j);
out:
	json_decref(head);
	json_decref(tail);
	json_decref(shared);
	json_decref(w.frames);
	for (size_t i = 0; i < w.nr_profs; i++)
		json_decref(w.profs[i].meta);
	free(w.profs);
	free(w.ints);
	free(j);
	free(w.frame_index);
	free(w.cut_of);
	free(w.slots);
	free(w.leaves);
	free(w.path);
	pp_labels_free(&w.labels);
	return pyperf_err(pp_write_done(p, out, ret));
}
