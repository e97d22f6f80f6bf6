// SPDX-License-Identifier: MIT
/*
 * The JSON profile: metadata, a frame table and the call tree as flat
 * columns: nodes["parent"][i], nodes["frame"][i]... Flat because call trees
 * of Python programs are deep: a nested document 1000 frames deep trips the
 * recursion limits of common JSON parsers (Python's json module among
 * them). Columns rather than one object per node because they make the
 * file half as big and four times cheaper to build: a jansson object is a
 * hash table. jansson writes the document; the columns, hundreds of
 * thousands of integers, are streamed into it (pp_out, writer.h). The
 * schema is libpyperf/profile.schema.json; keep both in step.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <jansson.h>
#include "writer.h"
#include "symbols_internal.h"

#define JSON_FORMAT_VERSION 1

struct jwriter {
	struct pyperf_profile *p;
	struct pp_labels labels;
	json_t *frames;
	int32_t *frame_index; /* profile frame id -> index in "frames", -1: not yet */
	uint32_t *stack;      /* DFS stack of profile node ids */
	int64_t *out_index;   /* profile node id -> index in "nodes" */
	uint32_t *order;      /* profile node ids in output order */
	size_t stack_cap, nr_order;
	double pct;
};

static const char *const column_names[6] = {"frame",	     "parent",	    "self_samples",
					    "total_samples", "self_period", "total_period"};

/* json_object_set_new() that fails on NULL values (allocation failures). */
static int set(json_t *o, const char *key, json_t *v)
{
	return v ? json_object_set_new(o, key, v) : -1;
}

static json_t *u64(uint64_t v)
{
	/* json_int_t is long long: counts stay far below 2^63 */
	return json_integer((json_int_t)v);
}

static int64_t frame_entry(struct jwriter *w, uint32_t id)
{
	const struct pyperf_frame *f = pyperf_profile__frame(w->p, id);
	const char *name, *file;
	json_t *o;

	if (w->frame_index[id] >= 0)
		return w->frame_index[id];
	name = pp_label(&w->labels, id);
	file = pp_label_file(&w->labels, id);
	o = json_object();
	if (!name || !o || set(o, "name", json_string(name)) ||
	    set(o, "kind", json_string(pp_kind_name(f->kind))))
		goto fail;
	if (f->kind == PYPERF_FRAME_THREAD) {
		if (set(o, "pid", json_integer(f->pid)) || set(o, "tid", json_integer(f->tid)))
			goto fail;
	} else if (f->kind != PYPERF_FRAME_EVENT) {
		const char *dso = f->dso ? pp_utf8_clean(&w->labels.arena, pyperf_dso__name(f->dso),
							 strlen(pyperf_dso__name(f->dso)))
					 : NULL;

		if (f->dso && !dso)
			goto fail;
		if (dso && f->dso->kind != PYPERF_DSO_UNKNOWN && set(o, "dso", json_string(dso)))
			goto fail;
		if (file && set(o, "file", json_string(file)))
			goto fail;
		/* Unresolved frames keep their address: it is all there is. */
		if (!f->sym && set(o, "address", u64(f->ip)))
			goto fail;
	}
	if (json_array_append_new(w->frames, o))
		return -1;
	w->frame_index[id] = (int32_t)(json_array_size(w->frames) - 1);
	return w->frame_index[id];
fail:
	json_decref(o);
	return -1;
}

/* Appends node @id and, depth first, everything kept below it. */
static int walk(struct jwriter *w, uint32_t top, uint64_t total)
{
	size_t sp = 0;

	if (PP_GROW(w->stack, w->stack_cap, 1))
		return -ENOMEM;
	w->stack[sp++] = top;
	while (sp) {
		uint32_t id = w->stack[--sp];
		const struct pyperf_node *n = pyperf_profile__node(w->p, id);
		size_t nkids = 0;

		/* frames are numbered in the order the walk meets them */
		if (frame_entry(w, n->frame) < 0)
			return -ENOMEM;
		w->out_index[id] = (int64_t)w->nr_order;
		w->order[w->nr_order++] = id;
		/* Children go on the stack in reverse so they come out heaviest
		 * first, the order pyperf_profile__finish() gave them. */
		for (uint32_t c = n->first_child; c;
		     c = pyperf_profile__node(w->p, c)->next_sibling)
			if (pp_keep(pyperf_profile__node(w->p, c)->total_period, total, w->pct))
				nkids++;
		if (PP_GROW(w->stack, w->stack_cap, sp + nkids + 1))
			return -ENOMEM;
		sp += nkids;
		for (uint32_t c = n->first_child, k = 0; c;
		     c = pyperf_profile__node(w->p, c)->next_sibling)
			if (pp_keep(pyperf_profile__node(w->p, c)->total_period, total, w->pct))
				w->stack[sp - 1 - k++] = c;
	}
	return 0;
}

/* {"stack-copy": N, "no-cfi": N, ...}: every cause, zeros included */
static json_t *cut_counts(const struct pyperf_profile_stats *st)
{
	json_t *o = json_object();

	for (int c = PYPERF_CUT_NONE + 1; o && c < PYPERF_CUT_NR; c++) {
		if (set(o, pyperf_stack_cut__name(c), u64(st->stacks_cut[c]))) {
			json_decref(o);
			return NULL;
		}
	}
	return o;
}

/* --time: [[start_ns, end_ns], ...] kept (0: open), empty when all was */
static json_t *time_ranges(const struct pyperf_profile *p)
{
	size_t nr;
	const struct pyperf_time_range *r = pyperf_profile__time_ranges(p, &nr);
	json_t *a = json_array();

	for (size_t i = 0; a && i < nr; i++) {
		json_t *pair = json_pack("[II]", (json_int_t)r[i].start, (json_int_t)r[i].end);

		if (!pair || json_array_append_new(a, pair)) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

static json_t *metadata(struct jwriter *w)
{
	const struct pyperf_profile_stats *st = pyperf_profile__stats(w->p);
	const char *cmd = pyperf_profile__command(w->p);
	json_t *m = json_object(), *evs = json_array();
	uint64_t t0, t1;

	if (!m || !evs)
		goto fail;
	pyperf_profile__time_range(w->p, &t0, &t1);
	if (set(m, "producer", json_string("libpyperf " PYPERF_VERSION_STRING)) ||
	    set(m, "command",
		cmd ? json_string(pp_utf8_clean(&w->labels.arena, cmd, strlen(cmd)))
		    : json_null()) ||
	    set(m, "view", json_string(pyperf_view__name(pyperf_profile__view(w->p)))) ||
	    set(m, "files", u64(st->files)) || set(m, "samples", u64(st->samples)) ||
	    set(m, "samples_filtered", u64(st->samples_filtered)) ||
	    set(m, "lost_samples", u64(st->lost_samples)) ||
	    set(m, "truncated_stacks", u64(st->truncated_stacks)) ||
	    set(m, "truncated_by_cause", cut_counts(st)) ||
	    set(m, "truncated_callchains", u64(st->truncated_callchains)) ||
	    set(m, "unresolved_frames", u64(st->unresolved_frames)) ||
	    set(m, "time_start_ns", u64(t0)) || set(m, "time_end_ns", u64(t1)) ||
	    set(m, "time_ranges", time_ranges(w->p)) ||
	    set(m, "samples_time_filtered", u64(st->samples_time_filtered)) ||
	    set(m, "percent_limit", json_real(w->pct)))
		goto fail;
	for (size_t i = 0; i < pyperf_profile__nr_events(w->p); i++) {
		json_t *e = json_object();
		uint64_t samples, period;
		const char *name = NULL;
		bool ns = false;

		pyperf_profile__event_total(w->p, (uint32_t)i, &samples, &period);
		for (uint32_t c = pyperf_profile__node(w->p, 0)->first_child; c;
		     c = pyperf_profile__node(w->p, c)->next_sibling) {
			const struct pyperf_frame *f =
			    pyperf_profile__frame(w->p, pyperf_profile__node(w->p, c)->frame);

			if (f->event == i) {
				name = pp_label(&w->labels, pyperf_profile__node(w->p, c)->frame);
				ns = pp_event_in_ns(w->p, c);
			}
		}
		if (!e || !name || set(e, "name", json_string(name)) ||
		    set(e, "samples", u64(samples)) || set(e, "period", u64(period)) ||
		    set(e, "time", json_boolean(ns)) || json_array_append_new(evs, e)) {
			json_decref(e);
			goto fail;
		}
	}
	if (set(m, "events", evs))
		goto fail_m;
	return m;
fail:
	json_decref(evs);
fail_m:
	json_decref(m);
	return NULL;
}

/* Column @k of node @id, as written. */
static int64_t column(const struct jwriter *w, int k, uint32_t id, bool top)
{
	const struct pyperf_node *n = pyperf_profile__node(w->p, id);

	switch (k) {
	case 0:
		return w->frame_index[n->frame];
	case 1:
		return top ? -1 : w->out_index[n->parent];
	case 2:
		return (int64_t)n->self_samples;
	case 3:
		return (int64_t)n->total_samples;
	case 4:
		return (int64_t)n->self_period;
	default:
		return (int64_t)n->total_period;
	}
}

/* The document: jansson's members, then the node columns streamed. */
static int write_doc(struct jwriter *w, json_t *doc, FILE *out, bool pretty)
{
	struct pp_out *j = pp_malloc(sizeof(*j));
	int ret;

	if (!j)
		return -ENOMEM;
	pp_out_init(j, out);
	pp_out_lit(j, "{");
	ret = pp_out_json(j, doc, (pretty ? JSON_INDENT(1) : JSON_COMPACT) | JSON_EMBED);
	pp_out_trim_newline(j);
	pp_out_lit(j, ",");
	if (pretty)
		pp_out_lit(j, "\n ");
	pp_out_lit(j, "\"nodes\":{");
	for (int k = 0; k < 6 && !ret; k++) {
		if (k)
			pp_out_lit(j, ",");
		if (pretty)
			pp_out_lit(j, "\n  ");
		pp_out_lit(j, "\"");
		pp_out_raw(j, column_names[k], strlen(column_names[k]));
		pp_out_lit(j, "\":[");
		for (size_t i = 0; i < w->nr_order; i++) {
			uint32_t id = w->order[i];

			if (i)
				pp_out_lit(j, ",");
			/* events, the children of the profile's root, start the trees */
			pp_out_int(j,
				   column(w, k, id, pyperf_profile__node(w->p, id)->parent == 0));
		}
		pp_out_lit(j, "]");
	}
	if (pretty)
		pp_out_lit(j, "\n }\n}\n");
	else
		pp_out_lit(j, "}}\n");
	if (!ret)
		ret = pp_out_finish(j);
	free(j);
	return ret;
}

PYPERF_API int pyperf_profile__write_json(struct pyperf_profile *p, FILE *out,
					  const struct pyperf_json_opts *opts)
{
	struct jwriter w = {0};
	json_t *doc = NULL, *meta;
	size_t nframes = pyperf_profile__nr_frames(p), nnodes;
	int ret = -ENOMEM;

	if (!OPTS_VALID(opts, pyperf_json_opts))
		return pyperf_err(-EINVAL);
	pyperf_profile__finish(p);
	nnodes = pyperf_profile__nr_nodes(p);
	w.p = p;
	w.pct = OPTS_GET(opts, percent_limit, 0.0);
	if (pp_labels_init(&w.labels, p))
		return pyperf_err(-ENOMEM);
	w.frame_index = pp_malloc((nframes + 1) * sizeof(*w.frame_index));
	w.out_index = pp_malloc((nnodes + 1) * sizeof(*w.out_index));
	w.order = pp_malloc((nnodes + 1) * sizeof(*w.order));
	w.frames = json_array();
	doc = json_object();
	if (!w.frame_index || !w.out_index || !w.order || !w.frames || !doc)
		goto out;
	memset(w.frame_index, 0xff, (nframes + 1) * sizeof(*w.frame_index));
	memset(w.out_index, 0xff, (nnodes + 1) * sizeof(*w.out_index));
	meta = metadata(&w);
	if (set(doc, "format", json_string("pyperf-profile")) ||
	    set(doc, "version", json_integer(JSON_FORMAT_VERSION)) || set(doc, "metadata", meta))
		goto out;
	/* Each event is a root of its own. */
	for (uint32_t c = pyperf_profile__node(p, 0)->first_child; c;
	     c = pyperf_profile__node(p, c)->next_sibling) {
		ret = walk(&w, c, pyperf_profile__node(p, c)->total_period);
		if (ret)
			goto out;
	}
	ret = -ENOMEM;
	if (json_object_set(doc, "frames", w.frames))
		goto out;
	ret = write_doc(&w, doc, out, OPTS_GET(opts, pretty, false));
out:
	json_decref(doc);
	json_decref(w.frames);
	free(w.frame_index);
	free(w.out_index);
	free(w.order);
	free(w.stack);
	pp_labels_free(&w.labels);
	return pyperf_err(pp_write_done(p, out, ret));
}
