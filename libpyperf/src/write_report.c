// SPDX-License-Identifier: MIT
/*
 * perf report --stdio, reproduced: flat reports with Overhead (or
 * Children/Self) columns, hierarchical reports (--hierarchy), and the call
 * graphs under entries. Grouping keys compare as perf's sort keys do
 * (comm and dso by name, symbols by address range, unresolved addresses by
 * their dso-relative value), columns are sized and laid out as perf lays
 * them out, and call graphs follow ui/stdio/hist.c: a tree whose nodes hold
 * runs of frames, children by weight, branches under 0.5% of the total
 * hidden.
 */
#include "report_internal.h"

/* ---- parsing ------------------------------------------------------------------ */

static int parse_list(const char *s, const char *const *names, const int *values, size_t n,
		      int *out, size_t max)
{
	size_t count = 0;
	const char *p = s;

	if (!s || !*s)
		return pyperf_err(-EINVAL);
	while (*p) {
		size_t len = strcspn(p, ",");
		size_t i;

		for (i = 0; i < n; i++)
			if (strlen(names[i]) == len && !strncmp(names[i], p, len))
				break;
		if (i == n || count == max)
			return pyperf_err(-EINVAL);
		out[count++] = values[i];
		p += len;
		if (*p == ',') {
			p++;
			if (!*p)
				return pyperf_err(-EINVAL);
		}
	}
	return (int)count;
}

PYPERF_API int pyperf_sort_key__parse(const char *s, enum pyperf_sort_key *keys, size_t max)
{
	static const char *const names[] = {"comm", "pid", "tid", "dso", "sym", "symbol", "sample"};
	static const int values[] = {PYPERF_SORT_COMM,	PYPERF_SORT_PID, PYPERF_SORT_TID,
				     PYPERF_SORT_DSO,	PYPERF_SORT_SYM, PYPERF_SORT_SYM,
				     PYPERF_SORT_SAMPLE};
	int tmp[MAX_KEYS];
	int n = parse_list(s, names, values, ARRAY_SIZE(names), tmp, MIN(max, (size_t)MAX_KEYS));

	for (int i = 0; i < n; i++)
		keys[i] = (enum pyperf_sort_key)tmp[i];
	return n;
}

PYPERF_API int pyperf_field__parse(const char *s, enum pyperf_field *fields, size_t max)
{
	static const char *const names[] = {"overhead", "children", "sample", "period", "comm",
					    "pid",	"tid",	    "dso",    "sym",	"symbol"};
	static const int values[] = {
	    PYPERF_FIELD_OVERHEAD, PYPERF_FIELD_CHILDREN, PYPERF_FIELD_SAMPLE, PYPERF_FIELD_PERIOD,
	    PYPERF_FIELD_COMM,	   PYPERF_FIELD_PID,	  PYPERF_FIELD_TID,    PYPERF_FIELD_DSO,
	    PYPERF_FIELD_SYM,	   PYPERF_FIELD_SYM};
	int tmp[PYPERF_REPORT_MAX_FIELDS];
	int n = parse_list(s, names, values, ARRAY_SIZE(names), tmp,
			   MIN(max, (size_t)PYPERF_REPORT_MAX_FIELDS));

	for (int i = 0; i < n; i++)
		fields[i] = (enum pyperf_field)tmp[i];
	return n;
}

/* ---- driver ------------------------------------------------------------------------------------
 */

/* The entry filters: --dsos, --symbol-filter. */
static bool entry_shown(const struct report *w, const struct entry *e)
{
	if (w->o.nr_dsos) {
		const char *dso = pyperf_report_dso_text(e);
		size_t i;

		for (i = 0; i < w->o.nr_dsos; i++)
			if (!strcmp(w->o.dsos[i], dso))
				break;
		if (i == w->o.nr_dsos)
			return false;
	}
	if (w->has_sym_re) {
		char buf[1024];
		/* the name alone, without the "[.] " of the column */
		size_t len = pyperf_report_sym_text(e, buf, sizeof(buf));

		if (len < 4 || regexec(&w->sym_re, buf + 4, 0, NULL, 0))
			return false;
	}
	return true;
}

/* What the entry filters left out, so that no one takes the rest for the
 * whole. */
static void filter_header(struct report *w, size_t shown)
{
	fprintf(w->out, "# Entries: %zu of %zu shown:", shown, w->nr_entries);
	if (w->o.nr_dsos) {
		fputs(" DSO ", w->out);
		for (size_t i = 0; i < w->o.nr_dsos; i++)
			fprintf(w->out, "%s%s", i ? "," : "", w->o.dsos[i]);
	}
	if (w->has_sym_re)
		fprintf(w->out, "%s symbol matching /%s/", w->o.nr_dsos ? "," : "",
			w->o.symbol_regex);
	fputs(" (percentages are of the whole event)\n#\n", w->out);
}

static int write_event(struct report *w, uint32_t ev_node, const struct pyperf_frame *evf)
{
	struct entry **sorted = NULL;
	size_t n = 0;
	int ret = 0;
	char unit;

	ret = pyperf_report_collect_event(w, ev_node);
	if (ret)
		goto out;
	w->mark_event++;
	pyperf_report_mark_rows(w, PYPERF_ROW_HEADER, 0, 0, NULL, 0);
	if (!w->o.no_header) {
		char num[32];
		const char *s = pyperf_report_unit_samples(w->total_samples, &unit, num);

		fprintf(w->out, "# Samples: %s%c of event '%s'", s, unit, evf->name);
		if (w->o.time_slices)
			fprintf(w->out, " (time slices: %s)", w->o.time_slices);
		fputc('\n', w->out);
		if (pyperf_profile__event_in_ns(w->p, evf->event))
			/* time weights: say so, in seconds */
			fprintf(w->out, "# %s time: %.6f s (percentages are of this time)\n#\n",
				!strcmp(evf->name, "wall") ? "Wall-clock (on-CPU + off-CPU)"
							   : "Off-CPU",
				(double)w->total_period / 1e9);
		else
			fprintf(w->out, "# Event count (approx.): %" PRIu64 "\n#\n",
				w->total_period);
	}
	sorted = pp_calloc(w->nr_entries + 1, sizeof(*sorted));
	if (!sorted) {
		ret = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < w->nr_entries; i++)
		if (entry_shown(w, &w->entries[i]))
			sorted[n++] = &w->entries[i];
	if (n < w->nr_entries && !w->o.no_header)
		filter_header(w, n);
	pyperf_report_compute_widths(w);
	pyperf_report_sort_entries(w, sorted, n);
	if (w->o.hierarchy)
		pyperf_report_print_hierarchy(w, sorted, n);
	else
		pyperf_report_print_flat(w, sorted, n);
	pyperf_report_mark_rows(w, PYPERF_ROW_BLANK, 0, 0, NULL, 0);
	fputs("\n\n", w->out);
	ret = w->err;
out:
	free(sorted);
	pyperf_report_free_entries(w);
	return ret;
}

static enum pyperf_field key_field(enum pyperf_sort_key k)
{
	switch (k) {
	case PYPERF_SORT_COMM:
		return PYPERF_FIELD_COMM;
	case PYPERF_SORT_PID:
		return PYPERF_FIELD_PID;
	case PYPERF_SORT_TID:
		return PYPERF_FIELD_TID;
	case PYPERF_SORT_DSO:
		return PYPERF_FIELD_DSO;
	case PYPERF_SORT_SYM:
	case PYPERF_SORT_SAMPLE:
		return PYPERF_FIELD_SYM;
	}
	return PYPERF_FIELD_SYM;
}

static bool key_for_field(enum pyperf_field f, enum pyperf_sort_key *k)
{
	switch (f) {
	case PYPERF_FIELD_COMM:
		*k = PYPERF_SORT_COMM;
		return true;
	case PYPERF_FIELD_PID:
		*k = PYPERF_SORT_PID;
		return true;
	case PYPERF_FIELD_TID:
		*k = PYPERF_SORT_TID;
		return true;
	case PYPERF_FIELD_DSO:
		*k = PYPERF_SORT_DSO;
		return true;
	case PYPERF_FIELD_SYM:
		*k = PYPERF_SORT_SYM;
		return true;
	default:
		return false;
	}
}

/*
 * More than 1% of the stacks cut short: the header says so, as a reader of
 * the report would otherwise take [truncated] for a rare oddity.
 */
static void cut_header(FILE *out, const struct pyperf_profile_stats *st)
{
	bool first = true;

	if (!st->samples || st->truncated_stacks * 100 <= st->samples)
		return;
	fprintf(out,
		"# Cut stacks: %" PRIu64 " of %" PRIu64
		" samples (%.1f%%) lack their outermost frames and are shown under [truncated] (",
		st->truncated_stacks, st->samples,
		100.0 * (double)st->truncated_stacks / (double)st->samples);
	for (int c = PYPERF_CUT_NONE + 1; c < PYPERF_CUT_NR; c++) {
		if (!st->stacks_cut[c])
			continue;
		fprintf(out, "%s%s %" PRIu64, first ? "" : ", ", pyperf_stack_cut__name(c),
			st->stacks_cut[c]);
		first = false;
	}
	fprintf(out, ")\n#\n");
}

/* Which part of the recording this is (--time): perf's syntax, to reuse. */
static void time_header(FILE *out, const struct pyperf_profile *p)
{
	size_t nr;
	const struct pyperf_time_range *r = pyperf_profile__time_ranges(p, &nr);
	char buf[512];

	if (!nr)
		return;
	fprintf(out, "# Time: %s (%" PRIu64 " samples outside left out)\n#\n",
		pyperf_time_range__format(r, nr, buf, sizeof(buf)),
		pyperf_profile__stats(p)->samples_time_filtered);
}

PYPERF_API int pyperf_profile__write_report(struct pyperf_profile *p, FILE *out,
					    const struct pyperf_report_opts *opts)
{
	return pyperf_err(pyperf_report_write(p, out, opts, NULL));
}

int pyperf_report_write(struct pyperf_profile *p, FILE *out, const struct pyperf_report_opts *opts,
			struct pp_row_marks *marks)
{
	static const enum pyperf_sort_key default_keys[] = {PYPERF_SORT_COMM, PYPERF_SORT_DSO,
							    PYPERF_SORT_SYM};
	struct report w = {0};
	const struct pyperf_node *root;
	bool no_chains;
	int ret = 0;

	if (!out || !OPTS_VALID(opts, pyperf_report_opts))
		return pyperf_err(-EINVAL);
	if (opts)
		memcpy(&w.o, opts, MIN(opts->sz, sizeof(w.o)));
	w.o.sz = sizeof(w.o);
	if (w.o.callchain_min_percent < 0 || w.o.callchain_min_percent > 100)
		return pyperf_err(-EINVAL);
	if (!w.o.callchain_min_percent_set && w.o.callchain_min_percent == 0)
		w.o.callchain_min_percent = 0.5;
	w.p = p;
	w.out = out;
	w.marks = marks;
	w.mark_event = -1;
	if (w.o.nr_dsos && !w.o.dsos)
		return -EINVAL;
	pp_strtab_init(&w.names);
	pp_arena_init(&w.arena, 64 * 1024);

	if (w.o.nr_sort) {
		if (w.o.nr_sort > MAX_KEYS)
			return pyperf_err(-EINVAL);
		memcpy(w.keys, w.o.sort, w.o.nr_sort * sizeof(*w.keys));
		w.nr_keys = w.o.nr_sort;
	} else {
		memcpy(w.keys, default_keys, sizeof(default_keys));
		w.nr_keys = ARRAY_SIZE(default_keys);
	}
	/* A recording without call chains (perf record without -g): perf
	 * shows neither a Children column nor call graphs. */
	no_chains =
	    pyperf_profile__stats(p)->samples &&
	    pyperf_profile__stats(p)->samples_no_callchain == pyperf_profile__stats(p)->samples;
	if (no_chains)
		w.o.callchain = PYPERF_CALLCHAIN_NONE;
	w.children = !w.o.no_children && !w.o.hierarchy && !no_chains;
	if (w.o.nr_fields) {
		/* Explicit columns: sort keys not listed still group, as in perf. */
		size_t nk = 0;
		enum pyperf_sort_key fk[MAX_KEYS];

		if (w.o.nr_fields > ARRAY_SIZE(w.fields))
			return pyperf_err(-EINVAL);
		memcpy(w.fields, w.o.fields, w.o.nr_fields * sizeof(*w.fields));
		w.nr_fields = w.o.nr_fields;
		w.children = false;
		for (size_t i = 0; i < w.nr_fields; i++) {
			if (w.fields[i] == PYPERF_FIELD_CHILDREN && no_chains) {
				bool overhead = false;

				for (size_t k = 0; k < w.nr_fields; k++)
					overhead |= w.fields[k] == PYPERF_FIELD_OVERHEAD;
				if (!overhead) {
					w.fields[i] = PYPERF_FIELD_OVERHEAD;
				} else {
					memmove(w.fields + i, w.fields + i + 1,
						(--w.nr_fields - i) * sizeof(*w.fields));
					i--;
					continue;
				}
			}
			if (w.fields[i] == PYPERF_FIELD_CHILDREN)
				w.children = true;
			if (key_for_field(w.fields[i], &fk[nk]) && nk < MAX_KEYS)
				nk++;
		}
		if (nk && !w.o.nr_sort) {
			memcpy(w.keys, fk, nk * sizeof(*fk));
			w.nr_keys = nk;
		}
	} else {
		if (w.children)
			w.fields[w.nr_fields++] = PYPERF_FIELD_CHILDREN;
		w.fields[w.nr_fields++] = PYPERF_FIELD_OVERHEAD;
		if (w.o.show_nr_samples)
			w.fields[w.nr_fields++] = PYPERF_FIELD_SAMPLE;
		for (size_t i = 0; i < w.nr_keys; i++)
			if (w.keys[i] != PYPERF_SORT_SAMPLE)
				w.fields[w.nr_fields++] = key_field(w.keys[i]);
	}
	switch (w.o.order) {
	case PYPERF_ORDER_CALLER:
		w.caller = true;
		break;
	case PYPERF_ORDER_CALLEE:
		w.caller = false;
		break;
	default:
		/* perf: caller order when children are shown, and in
		 * hierarchy mode (which inherits it); callee otherwise. */
		w.caller = !w.o.no_children;
		break;
	}
	w.by_weight = !w.o.nr_fields;
	for (size_t i = 0; i < w.o.nr_fields; i++)
		if (w.fields[i] == PYPERF_FIELD_OVERHEAD || w.fields[i] == PYPERF_FIELD_CHILDREN)
			w.by_weight = true;
	w.skip_first_chain_entry = !w.o.nr_fields && w.keys[0] == PYPERF_SORT_SYM;

	/* last of the checks: nothing to release on the way out before */
	if (w.o.symbol_regex) {
		if (regcomp(&w.sym_re, w.o.symbol_regex, REG_EXTENDED | REG_NOSUB))
			return -EINVAL;
		w.has_sym_re = true;
	}
	pyperf_profile__finish(p);
	if (pyperf_report_build_canon(&w))
		ret = -ENOMEM;
	w.nodes = pyperf_profile__node(p, 0);
	root = pyperf_profile__node(p, 0);
	if (!w.o.no_header) {
		fprintf(out, "#\n# Total Lost Samples: %" PRIu64 "\n#\n", pyperf_profile__lost(p));
		cut_header(out, pyperf_profile__stats(p));
		time_header(out, p);
	}
	for (uint32_t ev = root->first_child; ev && !ret; ev = N(&w, ev)->next_sibling)
		ret = write_event(&w, ev, F(&w, ev));
	if (!ret)
		ret = w.err;
	if (!ret && ferror(out))
		ret = -EIO;
	pyperf_report_entries_release(&w);
	pyperf_report_graph_release(&w);
	pp_strtab_free(&w.names);
	pp_arena_free(&w.arena);
	if (w.has_sym_re)
		regfree(&w.sym_re);
	return pp_write_done(p, out, ret);
}
