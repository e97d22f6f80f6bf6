// SPDX-License-Identifier: MIT
/* Helpers shared by the svg, speedscope, pprof and json writers. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <jansson.h>
#include "writer.h"
#include "symbols_internal.h"

bool pp_utf8_valid(const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;

	for (size_t i = 0; i < n;) {
		unsigned c = s[i], need;
		uint32_t cp;

		if (c == 0)
			return false;
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			need = 1, cp = c & 0x1f;
		else if (c >= 0xe0 && c <= 0xef)
			need = 2, cp = c & 0x0f;
		else if (c >= 0xf0 && c <= 0xf4)
			need = 3, cp = c & 0x07;
		else
			return false;
		if (i + need >= n) /* truncated sequence */
			return false;
		for (unsigned k = 1; k <= need; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		/* overlong forms, surrogates and code points past U+10FFFF */
		if ((need == 2 && cp < 0x800) || (need == 3 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += need + 1;
	}
	return true;
}

const char *pp_utf8_clean(struct pp_arena *a, const char *s, size_t n)
{
	char *out;

	if (pp_utf8_valid(s, n) && !s[n])
		return s;
	out = pp_arena_alloc(a, n + 1);
	if (!out)
		return NULL;
	/* Byte by byte: a valid sequence is copied whole, any other byte
	 * becomes '?'. */
	for (size_t i = 0; i < n;) {
		unsigned char c = (unsigned char)s[i];
		size_t len = c < 0x80 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;

		if (c && i + len <= n && pp_utf8_valid(s + i, len)) {
			memcpy(out + i, s + i, len);
			i += len;
		} else {
			out[i++] = '?';
		}
	}
	out[n] = 0;
	return out;
}

int pp_labels_init(struct pp_labels *l, struct pyperf_profile *p)
{
	size_t n = pyperf_profile__nr_frames(p) + 1;

	memset(l, 0, sizeof(*l));
	l->p = p;
	pp_arena_init(&l->arena, 256 * 1024);
	l->name = pp_calloc(n, sizeof(*l->name));
	l->file = pp_calloc(n, sizeof(*l->file));
	l->done = pp_calloc(n, sizeof(*l->done));
	if (!l->name || !l->file || !l->done) {
		pp_labels_free(l);
		return -ENOMEM;
	}
	return 0;
}

void pp_labels_free(struct pp_labels *l)
{
	free(l->name);
	free(l->file);
	free(l->done);
	pp_arena_free(&l->arena);
	memset(l, 0, sizeof(*l));
}

static int make_label(struct pp_labels *l, uint32_t id)
{
	const struct pyperf_frame *f = pyperf_profile__frame(l->p, id);
	const char *name = f->name, *file = NULL;
	char buf[512];

	if ((f->kind == PYPERF_FRAME_NATIVE || f->kind == PYPERF_FRAME_KERNEL ||
	     f->kind == PYPERF_FRAME_JIT || f->kind == PYPERF_FRAME_PYTHON) &&
	    !f->sym) {
		const char *dso = f->dso ? pyperf_dso__short_name(f->dso) : NULL;

		snprintf(buf, sizeof(buf), "[%s]",
			 dso && f->dso->kind != PYPERF_DSO_UNKNOWN ? dso : "unknown");
		name = buf;
	}
	if (f->kind == PYPERF_FRAME_PYTHON && f->dso) {
		if (f->dso->kind == PYPERF_DSO_PYTHON) {
			/* a frame of the python/mixed views: its dso is the file */
			file = pyperf_dso__name(f->dso);
		} else if (f->sym && !strncmp(f->sym->name, "py::", 4)) {
			/* "py::qualname:/path/file.py" as CPython writes it */
			const char *colon = strchr(f->sym->name + 4, ':');

			if (colon && colon[1])
				file = colon + 1;
		}
	}
	l->name[id] = pp_utf8_clean(&l->arena, name ? name : "?", strlen(name ? name : "?"));
	if (l->name[id] == buf)
		l->name[id] = pp_arena_strdup(&l->arena, buf);
	if (!l->name[id])
		return -ENOMEM;
	if (file) {
		l->file[id] = pp_utf8_clean(&l->arena, file, strlen(file));
		if (!l->file[id])
			return -ENOMEM;
	}
	l->done[id] = true;
	return 0;
}

const char *pp_label(struct pp_labels *l, uint32_t id)
{
	if (!l->done[id] && make_label(l, id))
		return NULL;
	return l->name[id];
}

const char *pp_label_file(struct pp_labels *l, uint32_t id)
{
	if (!l->done[id] && make_label(l, id))
		return NULL;
	return l->file[id];
}

const char *pp_kind_name(enum pyperf_frame_kind k)
{
	switch (k) {
	case PYPERF_FRAME_EVENT:
		return "event";
	case PYPERF_FRAME_THREAD:
		return "thread";
	case PYPERF_FRAME_NATIVE:
		return "native";
	case PYPERF_FRAME_KERNEL:
		return "kernel";
	case PYPERF_FRAME_PYTHON:
		return "python";
	case PYPERF_FRAME_JIT:
		return "jit";
	case PYPERF_FRAME_TRUNCATED:
		return "truncated";
	}
	return "native";
}

uint32_t pp_first_event_node(const struct pyperf_profile *p)
{
	uint32_t best = UINT32_MAX, node = 0;

	for (uint32_t c = pyperf_profile__node(p, 0)->first_child; c;
	     c = pyperf_profile__node(p, c)->next_sibling) {
		const struct pyperf_frame *f =
		    pyperf_profile__frame(p, pyperf_profile__node(p, c)->frame);

		if (f->event < best) {
			best = f->event;
			node = c;
		}
	}
	return node;
}

bool pp_event_in_ns(const struct pyperf_profile *p, uint32_t ev)
{
	const struct pyperf_frame *f = pyperf_profile__frame(p, pyperf_profile__node(p, ev)->frame);

	return pyperf_profile__event_in_ns(p, f->event) || pp_time_event(f->name);
}

bool pp_time_event(const char *name)
{
	static const char *const clocks[] = {"cpu-clock", "task-clock"};

	for (size_t i = 0; i < ARRAY_SIZE(clocks); i++) {
		size_t n = strlen(clocks[i]);

		/* perf may append modifiers: "cpu-clock:ppp" */
		if (!strncmp(name, clocks[i], n) && (!name[n] || name[n] == ':'))
			return true;
	}
	return false;
}

static const char *const format_names[] = {
    [PYPERF_FORMAT_TREE] = "tree",
    [PYPERF_FORMAT_HIERARCHY] = "hierarchy",
    [PYPERF_FORMAT_COLLAPSED] = "collapsed",
    [PYPERF_FORMAT_SVG] = "svg",
    [PYPERF_FORMAT_SPEEDSCOPE] = "speedscope",
    [PYPERF_FORMAT_PPROF] = "pprof",
    [PYPERF_FORMAT_JSON] = "json",
    [PYPERF_FORMAT_SCRIPT] = "script",
};

PYPERF_API int pyperf_format__parse(const char *name)
{
	for (size_t i = 0; name && i < ARRAY_SIZE(format_names); i++)
		if (!strcmp(name, format_names[i]))
			return (int)i;
	return pyperf_err(-EINVAL);
}

PYPERF_API const char *pyperf_format__name(enum pyperf_format f)
{
	return (unsigned)f < ARRAY_SIZE(format_names) ? format_names[f] : NULL;
}

PYPERF_API bool pyperf_format__is_binary(enum pyperf_format f)
{
	return f == PYPERF_FORMAT_PPROF;
}

void pp_out_init(struct pp_out *j, FILE *out)
{
	j->out = out;
	j->len = 0;
	j->failed = false;
	j->err = 0;
}

static void out_write(struct pp_out *j, const void *p, size_t n)
{
	if (j->failed)
		return;
	errno = 0;
	if (fwrite(p, 1, n, j->out) != n) {
		j->failed = true;
		j->err = errno ? errno : EIO; /* ENOSPC says more than EIO */
	}
}

static void out_flush(struct pp_out *j)
{
	if (j->len)
		out_write(j, j->buf, j->len);
	j->len = 0;
}

void pp_out_raw(struct pp_out *j, const char *s, size_t n)
{
	if (n > sizeof(j->buf) - j->len) {
		out_flush(j);
		if (n > sizeof(j->buf)) {
			out_write(j, s, n);
			return;
		}
	}
	memcpy(j->buf + j->len, s, n);
	j->len += n;
}

void pp_out_int(struct pp_out *j, int64_t v)
{
	char tmp[24], *e = tmp + sizeof(tmp), *d = e;
	uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;

	if (sizeof(j->buf) - j->len < sizeof(tmp))
		out_flush(j);
	do {
		*--d = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		*--d = '-';
	memcpy(j->buf + j->len, d, (size_t)(e - d));
	j->len += (size_t)(e - d);
}

void pp_out_fixed(struct pp_out *j, double v, int decimals)
{
	static const double scale[] = {1, 10, 100, 1000, 10000};
	int64_t units;
	uint64_t ip, fp;
	char frac[8];

	if (!(v == v) || v > 9e15 || v < -9e15) { /* NaN or huge: leave it to printf */
		char buf[64];
		int n = snprintf(buf, sizeof(buf), "%.*f", decimals, v);

		pp_out_raw(j, buf, n > 0 ? (size_t)n : 0);
		return;
	}
	if (decimals < 0)
		decimals = 0;
	if (decimals > 4)
		decimals = 4;
	units = (int64_t)(fabs(v) * scale[decimals] + 0.5 + 1e-9);
	if (v < 0 && units)
		pp_out_lit(j, "-");
	ip = (uint64_t)units / (uint64_t)scale[decimals];
	fp = (uint64_t)units % (uint64_t)scale[decimals];
	pp_out_int(j, (int64_t)ip);
	if (!decimals)
		return;
	frac[0] = '.';
	for (int d = decimals; d > 0; d--, fp /= 10)
		frac[d] = (char)('0' + fp % 10);
	pp_out_raw(j, frac, (size_t)decimals + 1);
}

static int out_dump_cb(const char *buffer, size_t size, void *data)
{
	pp_out_raw(data, buffer, size);
	return 0;
}

int pp_out_json(struct pp_out *j, json_t *v, size_t flags)
{
	return json_dump_callback(v, out_dump_cb, j, flags) ? -ENOMEM : 0;
}

void pp_out_trim_newline(struct pp_out *j)
{
	if (j->len && j->buf[j->len - 1] == '\n')
		j->len--;
}

int pp_out_finish(struct pp_out *j)
{
	out_flush(j);
	if (j->failed)
		return -j->err;
	return ferror(j->out) ? -EIO : 0;
}

int pp_write_done(const struct pyperf_profile *p, FILE *out, int ret)
{
	if (ret)
		return ret;
	/* what is still buffered must reach the file for its errors to show
	 * (ENOSPC of a full disk, say) */
	errno = 0;
	if (fflush(out))
		return errno ? -errno : -EIO;
	if (ferror(out))
		return -EIO;
	return pp_profile_check(p);
}
