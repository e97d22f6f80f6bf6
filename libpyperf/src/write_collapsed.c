// SPDX-License-Identifier: MIT
/*
 * Folded stacks, as `perf script | stackcollapse-perf.pl` produces them:
 * "comm;outermost;...;leaf count", one line per distinct string, sorted
 * bytewise. Frame names get the script's treatment: unresolved frames are
 * "[dso base name]" (or "[unknown]"), argument lists of C++-style names are
 * cut, ';' becomes ':' and quotes go; spaces in comm become '_'.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <pyperf/output.h>
#include "foldtab.h"
#include "internal.h"
#include "writer.h"
#include "symbols_internal.h"

struct folder {
	struct pyperf_profile *p;
	const struct pyperf_collapsed_opts *o;
	const char **names;	 /* folded name per frame id, lazily */
	const char **java_names; /* the same under a comm starting with "java" */
	struct pp_arena arena;
	struct pp_foldtab lines;
	char *buf; /* the line being built */
	size_t buf_cap;
	uint32_t *path;
	size_t path_cap;
};

/* stackcollapse-perf.pl's tidy_generic on one name. */
static char *tidy(struct pp_arena *a, const char *in)
{
	size_t n = strlen(in);
	char *out = pp_arena_alloc(a, n + 1), *w = out;
	const char *cut = NULL;

	if (!out)
		return NULL;
	/* Keep "(...)" in names like "x.(*T).m" (Go); else drop from the first
	 * '(' that does not open "(anonymous namespace)". */
	{
		const char *dot = strstr(in, ".(");
		bool go_like = dot && strstr(dot + 2, ").");

		if (!go_like) {
			for (const char *q = strchr(in, '('); q; q = strchr(q + 1, '(')) {
				if (strncmp(q + 1, "anonymous namespace)", 20)) {
					cut = q;
					break;
				}
			}
		}
	}
	for (const char *r = in; *r && r != cut; r++) {
		if (*r == '"' || *r == '\'')
			continue;
		*w++ = *r == ';' ? ':' : *r;
	}
	*w = 0;
	return out;
}

/* The script's test for JIT code: the module matches /tmp/perf-\d+\.map. */
static bool perf_map_name(const char *m)
{
	for (const char *p = strstr(m, "/tmp/perf-"); p; p = strstr(p + 1, "/tmp/perf-")) {
		const char *d = p + 10;

		while (*d >= '0' && *d <= '9')
			d++;
		if (d > p + 10 && !strncmp(d, ".map", 4))
			return true;
	}
	return false;
}

static const char *frame_name(struct folder *f, uint32_t id, bool java)
{
	const struct pyperf_frame *fr;
	const char *dso_name, *base;
	char buf[512];
	bool kernelish, unknown;
	char *t;

	if (java ? f->java_names[id] : f->names[id])
		return java ? f->java_names[id] : f->names[id];
	fr = pyperf_profile__frame(f->p, id);
	dso_name = fr->dso ? pyperf_dso__name(fr->dso) : "[unknown]";
	unknown = !fr->sym;
	if (unknown) {
		if (strcmp(dso_name, "[unknown]")) {
			base = strrchr(dso_name, '/');
			base = base ? base + 1 : dso_name;
		} else {
			base = "unknown";
		}
		if (f->o->addrs)
			snprintf(buf, sizeof(buf), "[%s <%" PRIx64 ">]", base,
				 fr->dso && fr->dso->kind != PYPERF_DSO_UNKNOWN ? fr->addr
										: fr->ip);
		else
			snprintf(buf, sizeof(buf), "[%s]", base);
		t = tidy(&f->arena, buf);
	} else if (fr->dso && fr->dso->kind == PYPERF_DSO_PYTHON) {
		/* "func (file.py)" of the Python views: the parentheses are ours */
		t = pp_arena_strdup(&f->arena, fr->sym->name);
		for (char *c = t; c && *c; c++)
			if (*c == ';')
				*c = ':';
	} else if (pyperf_symbol__is_inlined(fr->sym)) {
		/* perf script prints "addr NAME (inlined)": the script reads
		 * "inlined" as the module, NAME as the function */
		size_t len = strlen(fr->sym->name) - strlen(" (inlined)");

		memcpy(buf, fr->sym->name, MIN(len, sizeof(buf) - 1));
		buf[MIN(len, sizeof(buf) - 1)] = 0;
		t = tidy(&f->arena, buf);
		dso_name = "inlined";
	} else {
		t = tidy(&f->arena, fr->sym->name);
	}
	if (!t)
		return NULL;
	/* tidy_java: the script strips the 'L' of "Lorg/x/Y:.m" under java* comms */
	if (java && t[0] == 'L' && strchr(t, '/'))
		t++;
	/* The script's annotations look at the dso name it was given. */
	kernelish = (dso_name[0] == '[' || (strlen(dso_name) >= 7 &&
					    !strcmp(dso_name + strlen(dso_name) - 7, "vmlinux"))) &&
		    !strstr(dso_name, "unknown") && fr->kind != PYPERF_FRAME_TRUNCATED;
	if (f->o->annotate_kernel && kernelish) {
		char *k = pp_arena_alloc(&f->arena, strlen(t) + 5);

		if (!k)
			return NULL;
		sprintf(k, "%s_[k]", t);
		t = k;
	} else if (f->o->annotate_jit && perf_map_name(dso_name) && !strstr(t, "_[j]")) {
		/* Unresolved JIT addresses too ("[perf-1234.map]_[j]"), as the
		 * script annotates by module name alone. */
		char *j = pp_arena_alloc(&f->arena, strlen(t) + 5);

		if (!j)
			return NULL;
		sprintf(j, "%s_[j]", t);
		t = j;
	}
	(void)unknown;
	if (java)
		f->java_names[id] = t;
	else
		f->names[id] = t;
	return t;
}

static int append(struct folder *f, size_t *len, const char *s, size_t n)
{
	if (PP_GROW(f->buf, f->buf_cap, *len + n + 1))
		return -ENOMEM;
	memcpy(f->buf + *len, s, n);
	*len += n;
	return 0;
}

/* The first stack element: comm (spaces as '_'), with pid/tid if asked. */
static int thread_prefix(struct folder *f, const struct pyperf_frame *th, size_t *len)
{
	char buf[64];
	size_t start = *len;

	if (append(f, len, th->name, strlen(th->name)))
		return -ENOMEM;
	for (size_t i = start; i < *len; i++)
		if (f->buf[i] == ' ')
			f->buf[i] = '_';
	if (f->o->tid)
		snprintf(buf, sizeof(buf), "-%d/%d", th->pid, th->tid);
	else if (f->o->pid)
		snprintf(buf, sizeof(buf), "-%d", th->pid);
	else
		buf[0] = 0;
	return append(f, len, buf, strlen(buf));
}

PYPERF_API int pyperf_profile__write_collapsed(struct pyperf_profile *p, FILE *out,
					       const struct pyperf_collapsed_opts *opts)
{
	PYPERF_OPTS(pyperf_collapsed_opts, defaults);
	struct pyperf_collapsed_opts o;
	struct folder f = {0};
	const struct pyperf_node *ev;
	int ret = -ENOMEM;

	if (!OPTS_VALID(opts, pyperf_collapsed_opts))
		return pyperf_err(-EINVAL);
	o = defaults;
	if (opts)
		memcpy(&o, opts, MIN(opts->sz, sizeof(o)));
	pp_profile_totals(p); /* lines are sorted as they are written */
	f.p = p;
	f.o = &o;
	pp_arena_init(&f.arena, 256 * 1024);
	pp_foldtab_init(&f.lines);
	f.names = pp_calloc(pyperf_profile__nr_frames(p) + 1, sizeof(*f.names));
	f.java_names = pp_calloc(pyperf_profile__nr_frames(p) + 1, sizeof(*f.java_names));
	if (!f.names || !f.java_names)
		goto out;
	/* Like the script, fold only the first event of the recording. */
	ev = pyperf_profile__node(p, 0);
	if (!ev->first_child) {
		ret = 0;
		goto out;
	}
	{
		uint32_t first_event = UINT32_MAX, ev_node = 0;
		bool in_ns;

		for (uint32_t c = ev->first_child; c;
		     c = pyperf_profile__node(p, c)->next_sibling) {
			const struct pyperf_frame *fr =
			    pyperf_profile__frame(p, pyperf_profile__node(p, c)->frame);

			if (fr->event < first_event) {
				first_event = fr->event;
				ev_node = c;
			}
		}
		in_ns = pyperf_profile__event_in_ns(
		    p, pyperf_profile__frame(p, pyperf_profile__node(p, ev_node)->frame)->event);
		/* Walk every node below the event; emit those with samples. */
		for (size_t id = ev_node + 1; id < pyperf_profile__nr_nodes(p); id++) {
			const struct pyperf_node *n = pyperf_profile__node(p, (uint32_t)id);
			/* time weights (off-cpu, wall) are written in microseconds,
			 * as off-CPU flame graph tools do */
			uint64_t w = in_ns	? (n->self_period + 500) / 1000
				     : o.period ? n->self_period
						: n->self_samples;
			size_t depth = 0, len = 0;
			uint32_t up;
			bool java;

			if (!w || !pp_keep(n->total_period,
					   pyperf_profile__node(p, ev_node)->total_period,
					   o.percent_limit))
				continue;
			/* Path from the leaf up to the thread node. */
			for (up = (uint32_t)id; up; up = pyperf_profile__node(p, up)->parent) {
				const struct pyperf_frame *fr =
				    pyperf_profile__frame(p, pyperf_profile__node(p, up)->frame);

				if (fr->kind == PYPERF_FRAME_THREAD ||
				    fr->kind == PYPERF_FRAME_EVENT)
					break;
				if (PP_GROW(f.path, f.path_cap, depth + 1))
					goto out;
				f.path[depth++] = pyperf_profile__node(p, up)->frame;
			}
			if (!up ||
			    pyperf_profile__frame(p, pyperf_profile__node(p, up)->frame)->kind !=
				PYPERF_FRAME_THREAD)
				continue;
			/* Only nodes under the chosen event. */
			if (pyperf_profile__node(p, up)->parent != ev_node)
				continue;
			if (thread_prefix(
				&f, pyperf_profile__frame(p, pyperf_profile__node(p, up)->frame),
				&len))
				goto out;
			java = len >= 4 && !memcmp(f.buf, "java", 4);
			while (depth--) {
				const char *nm = frame_name(&f, f.path[depth], java);

				if (!nm || append(&f, &len, ";", 1) ||
				    append(&f, &len, nm, strlen(nm)))
					goto out;
			}
			if (pp_foldtab_add(&f.lines, f.buf, len, w))
				goto out;
		}
	}
	ret = pp_foldtab_write(&f.lines, out);
out:
	free(f.names);
	free(f.java_names);
	pp_foldtab_free(&f.lines);
	free(f.buf);
	free(f.path);
	pp_arena_free(&f.arena);
	return pyperf_err(pp_write_done(p, out, ret));
}
