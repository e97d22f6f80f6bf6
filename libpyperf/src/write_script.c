// SPDX-License-Identifier: MIT
/*
 * Per-sample output in perf script's layout (perf 6.1's widths), written
 * while the profile reads, from what it hands each sample: the thread, the
 * frames in the view and the address each stands for.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <pyperf/script.h>

#include "internal.h"

struct pyperf_script {
	FILE *out;
	struct pyperf_script_opts o;
	uint64_t first_time; /* --reltime's zero */
	int err;
};

PYPERF_API struct pyperf_script *pyperf_script__new(FILE *out,
						    const struct pyperf_script_opts *opts)
{
	struct pyperf_script *s;

	if (!out || !OPTS_VALID(opts, pyperf_script_opts))
		return pyperf_err_ptr(-EINVAL);
	s = calloc(1, sizeof(*s));
	if (!s)
		return pyperf_err_ptr(-ENOMEM);
	s->out = out;
	if (opts)
		memcpy(&s->o, opts, MIN(opts->sz, sizeof(s->o)));
	s->o.sz = sizeof(s->o);
	return s;
}

/* Frames a view made stand for no symbol of an object: shown by name. */
static bool view_made(const struct pyperf_frame *f)
{
	enum pyperf_dso_kind k = f->dso ? pyperf_dso__kind(f->dso) : PYPERF_DSO_UNKNOWN;

	return f->kind == PYPERF_FRAME_TRUNCATED ||
	       (f->sym && (k == PYPERF_DSO_PYTHON || k == PYPERF_DSO_ANON));
}

static void write_frame(FILE *out, const struct pyperf_frame *f, uint64_t ip, uint64_t addr)
{
	const char *dso = f->dso ? pyperf_dso__name(f->dso) : "[unknown]";

	if (view_made(f)) {
		size_t n = strlen(f->name);

		/* "fib (fib.py)" reads as symbol and object already; the others
		 * ("[native]") get theirs, for readers of perf script text */
		if (n && f->name[n - 1] == ')')
			fprintf(out, "\t%16" PRIx64 " %s\n", ip, f->name);
		else
			fprintf(out, "\t%16" PRIx64 " %s (%s)\n", ip, f->name, dso);
		return;
	}
	/* perf 6.1 prints the address in its object's space where a map
	 * covers it (later perfs print the address itself) */
	fprintf(out, "\t%16" PRIx64 " ",
		f->dso && pyperf_dso__kind(f->dso) != PYPERF_DSO_UNKNOWN ? addr : ip);
	if (f->sym)
		fprintf(out, "%s+0x%" PRIx64, f->sym->name,
			addr >= f->sym->start ? addr - f->sym->start : 0);
	else
		fputs("[unknown]", out);
	fprintf(out, " (%s)\n", dso);
}

PYPERF_API void pyperf_script__sample(void *script, const struct pyperf_sample_info *info)
{
	struct pyperf_script *s = script;
	const struct pyperf_sample *sm = info->sample;
	FILE *out = s->out;
	uint64_t t = (sm->present & PYPERF_SAMPLE_TIME) ? sm->time : 0;

	if (s->o.reltime) {
		if (!s->first_time)
			s->first_time = t;
		t -= s->first_time;
	}
	fprintf(out, "%s %5d/%-5d ", info->comm, info->pid, info->tid);
	if (sm->present & PYPERF_SAMPLE_CPU)
		fprintf(out, "[%03u] ", sm->cpu);
	if (sm->present & PYPERF_SAMPLE_TIME) {
		char buf[40];

		if (s->o.ns)
			snprintf(buf, sizeof(buf), "%" PRIu64 ".%09" PRIu64, t / 1000000000,
				 t % 1000000000);
		else
			snprintf(buf, sizeof(buf), "%" PRIu64 ".%06" PRIu64, t / 1000000000,
				 t % 1000000000 / 1000);
		fprintf(out, "%12s: ", buf);
	}
	fprintf(out, "%10" PRIu64 " %*s: \n", sm->period, (int)MIN(s->o.event_width, 256),
		info->event ? info->event : "[unknown]");
	for (size_t i = 0; i < info->nr; i++)
		write_frame(out, pyperf_profile__frame(info->profile, info->frames[i]),
			    info->ips[i], info->addrs[i]);
	fputc('\n', out);
	if (ferror(out) && !s->err)
		s->err = -EIO;
}

PYPERF_API int pyperf_script__finish(struct pyperf_script *s)
{
	if (fflush(s->out) && !s->err)
		s->err = -EIO;
	if (ferror(s->out) && !s->err)
		s->err = -EIO;
	return pyperf_err(s->err);
}

PYPERF_API void pyperf_script__free(struct pyperf_script *s)
{
	free(s);
}
