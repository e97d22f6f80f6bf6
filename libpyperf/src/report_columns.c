// SPDX-License-Identifier: MIT
/*
 * The report's columns: widths, headers and the text of each entry's
 * fields, laid out as perf report --stdio lays them out.
 */
#include "report_internal.h"

/* ---- text of columns ---------------------------------------------------------------- */

size_t pyperf_report_sym_text(const struct entry *e, char *buf, size_t size)
{
	const struct pyperf_frame *f = e->frame;
	char level = e->level;

	if (f->sym)
		return (size_t)snprintf(buf, size, "[%c] %s", level, f->sym->name);
	/* perf's "%-#.*llx": zero has no 0x prefix */
	return (size_t)snprintf(buf, size, "[%c] %#.*" PRIx64, level, ADDR_WIDTH, f->addr);
}

const char *pyperf_report_dso_text(const struct entry *e)
{
	return e->frame->dso ? pyperf_dso__short_name(e->frame->dso) : "[unknown]";
}

void pyperf_report_compute_widths(struct report *w)
{
	char buf[1024];

	w->w_comm = strlen("Command");
	w->w_dso = strlen("Shared Object");
	w->w_sym = strlen("Symbol");
	w->w_thread = strlen("    Pid:Command");
	for (size_t i = 0; i < w->nr_entries; i++) {
		const struct entry *e = &w->entries[i];
		size_t cl = strlen(e->thread->name);

		w->w_comm = MAX(w->w_comm, cl);
		w->w_thread = MAX(w->w_thread, cl + 8);
		w->w_dso = MAX(w->w_dso, strlen(pyperf_report_dso_text(e)));
		if (!e->frame->sym)
			w->w_dso = MAX(w->w_dso, (size_t)ADDR_WIDTH);
		w->w_sym = MAX(w->w_sym, pyperf_report_sym_text(e, buf, sizeof(buf)));
	}
}

const char *pyperf_report_field_header(const struct report *w, enum pyperf_field f)
{
	switch (f) {
	case PYPERF_FIELD_OVERHEAD:
		return w->children ? "Self" : "Overhead";
	case PYPERF_FIELD_CHILDREN:
		return "Children";
	case PYPERF_FIELD_SAMPLE:
		return "Samples";
	case PYPERF_FIELD_PERIOD:
		return "Period";
	case PYPERF_FIELD_COMM:
		return "Command";
	case PYPERF_FIELD_PID:
		return "    Pid:Command";
	case PYPERF_FIELD_TID:
		return "    Tid:Command";
	case PYPERF_FIELD_DSO:
		return "Shared Object";
	case PYPERF_FIELD_SYM:
		return "Symbol";
	}
	return "";
}

size_t pyperf_report_field_width(const struct report *w, enum pyperf_field f)
{
	switch (f) {
	case PYPERF_FIELD_OVERHEAD:
	case PYPERF_FIELD_CHILDREN:
		return 8;
	case PYPERF_FIELD_SAMPLE:
	case PYPERF_FIELD_PERIOD:
		return 12;
	case PYPERF_FIELD_COMM:
		return w->w_comm;
	case PYPERF_FIELD_PID:
	case PYPERF_FIELD_TID:
		return w->w_thread;
	case PYPERF_FIELD_DSO:
		return w->w_dso;
	case PYPERF_FIELD_SYM:
		return w->w_sym;
	}
	return 0;
}

/* One column of an entry, padded to its width (the last one is not). */
void pyperf_report_field_text(struct report *w, const struct entry *e, enum pyperf_field f,
			      bool last, char *buf, size_t size)
{
	char tmp[1024];
	size_t width = pyperf_report_field_width(w, f);

	switch (f) {
	case PYPERF_FIELD_OVERHEAD:
		snprintf(tmp, sizeof(tmp), "%.2f%%", pct(e->period, w->total_period));
		snprintf(buf, size, "%*s", (int)width, tmp);
		return;
	case PYPERF_FIELD_CHILDREN:
		snprintf(tmp, sizeof(tmp), "%.2f%%", pct(e->acc_period, w->total_period));
		snprintf(buf, size, "%*s", (int)width, tmp);
		return;
	case PYPERF_FIELD_SAMPLE:
		/* perf counts the entry's own samples here, also with children */
		snprintf(buf, size, "%*" PRIu64, (int)width, e->samples);
		return;
	case PYPERF_FIELD_PERIOD:
		snprintf(buf, size, "%*" PRIu64, (int)width, e->period);
		return;
	case PYPERF_FIELD_COMM:
		snprintf(tmp, sizeof(tmp), "%s", e->thread->name);
		break;
	case PYPERF_FIELD_PID:
	case PYPERF_FIELD_TID:
		snprintf(tmp, sizeof(tmp), "%7d:%s", e->thread->tid, e->thread->name);
		break;
	case PYPERF_FIELD_DSO:
		snprintf(tmp, sizeof(tmp), "%s", pyperf_report_dso_text(e));
		break;
	case PYPERF_FIELD_SYM:
		pyperf_report_sym_text(e, tmp, sizeof(tmp));
		break;
	}
	/* perf pads every column but the symbol, even the last one */
	if (last && f == PYPERF_FIELD_SYM)
		snprintf(buf, size, "%s", tmp);
	else
		snprintf(buf, size, "%-*s", (int)width, tmp);
}

const char *pyperf_report_unit_samples(uint64_t v, char *unit, char buf[32])
{
	*unit = ' ';
	if (v > 1000) {
		v /= 1000;
		*unit = 'K';
	}
	if (v > 1000) {
		v /= 1000;
		*unit = 'M';
	}
	if (v > 1000) {
		v /= 1000;
		*unit = 'G';
	}
	snprintf(buf, 32, "%" PRIu64, v);
	return buf;
}
