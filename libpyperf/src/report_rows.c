// SPDX-License-Identifier: MIT
/*
 * The report as rows, for a browser: the report is written as --stdio
 * writes it, into memory, while its parts mark where rows of each kind
 * begin (pyperf_report_mark_rows()); the text is then cut at its newlines
 * and each line takes the mark it falls under. A browser thus shows what
 * --stdio prints, from the one implementation of entries, columns and
 * call graphs.
 */
#include "report_internal.h"

struct pp_row_mark {
	size_t offset;
	struct pyperf_report_row row; /* text unset */
};

struct pp_row_marks {
	struct pp_row_mark *v;
	size_t nr, cap;
	FILE *out;
	int err;
};

struct pyperf_report_rows {
	char *text;
	struct pyperf_report_row *rows;
	size_t nr;
};

void pyperf_report_mark_rows(struct report *w, int kind, unsigned depth, unsigned indent,
			     const struct entry *e, double percent)
{
	struct pp_row_marks *m = w->marks;
	struct pp_row_mark *mk;
	long off;

	if (!m || m->err)
		return;
	off = ftell(m->out);
	if (off < 0 || PP_GROW(m->v, m->cap, m->nr + 1)) {
		m->err = -ENOMEM;
		return;
	}
	mk = &m->v[m->nr++];
	*mk = (struct pp_row_mark){.offset = (size_t)off};
	mk->row.kind = (enum pyperf_report_row_kind)kind;
	mk->row.depth = depth;
	mk->row.indent = indent;
	mk->row.event = w->mark_event;
	mk->row.percent = percent;
	if (e) {
		mk->row.comm = e->thread->name;
		mk->row.pid = e->thread->pid;
		mk->row.tid = e->thread->tid;
		mk->row.dso = pyperf_report_dso_text(e);
	}
}

PYPERF_API int pyperf_profile__report_rows(struct pyperf_profile *p,
					   const struct pyperf_report_opts *opts,
					   struct pyperf_report_rows **out)
{
	struct pp_row_marks m = {0};
	struct pyperf_report_rows *r = NULL;
	char *text = NULL;
	size_t len = 0, nr = 0, mi = 0;
	int ret;

	if (!out)
		return pyperf_err(-EINVAL);
	*out = NULL;
	m.out = open_memstream(&text, &len);
	if (!m.out)
		return pyperf_err(-ENOMEM);
	ret = pyperf_report_write(p, m.out, opts, &m);
	if (fclose(m.out) && !ret)
		ret = -ENOMEM;
	if (!ret)
		ret = m.err;
	if (!ret) {
		for (size_t i = 0; i < len; i++)
			nr += text[i] == '\n';
		nr += len && text[len - 1] != '\n';
		r = pp_calloc(1, sizeof(*r));
		if (!r || !(r->rows = pp_calloc(nr + 1, sizeof(*r->rows))))
			ret = -ENOMEM;
	}
	if (ret) {
		if (r)
			free(r->rows);
		free(r);
		free(text);
		free(m.v);
		return pyperf_err(ret);
	}
	r->text = text;
	for (size_t start = 0; start < len;) {
		size_t end = start;
		struct pyperf_report_row *row = &r->rows[r->nr++];

		while (end < len && text[end] != '\n')
			end++;
		text[end] = 0; /* the newline, or open_memstream's terminator */
		while (mi + 1 < m.nr && m.v[mi + 1].offset <= start)
			mi++;
		if (m.nr && m.v[mi].offset <= start)
			*row = m.v[mi].row;
		else
			*row = (struct pyperf_report_row){.kind = PYPERF_ROW_HEADER, .event = -1};
		row->text = text + start;
		if (end == start)
			row->kind = PYPERF_ROW_BLANK;
		start = end + 1;
	}
	free(m.v);
	*out = r;
	return 0;
}

PYPERF_API size_t pyperf_report_rows__nr(const struct pyperf_report_rows *r)
{
	return r ? r->nr : 0;
}

PYPERF_API const struct pyperf_report_row *
pyperf_report_rows__row(const struct pyperf_report_rows *r, size_t i)
{
	if (!r || i >= r->nr) {
		errno = EINVAL;
		return NULL;
	}
	return &r->rows[i];
}

PYPERF_API void pyperf_report_rows__free(struct pyperf_report_rows *r)
{
	if (!r)
		return;
	free(r->text);
	free(r->rows);
	free(r);
}
