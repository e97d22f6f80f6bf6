// SPDX-License-Identifier: MIT
/*
 * pyperf-report's browser (see tui_report.h). Everything shown comes from
 * the library's report rows: the browser decides only which rows are
 * folded away, which event is on screen, and with which options the rows
 * (and, for the view, the weight and a thread or process zoom, the
 * profile) are built again.
 */
#include <errno.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <curses.h>
#include "tui_report.h"
#include "tui_term.h"

#define MAX_ZOOM 8

enum zoom_kind { ZOOM_THREAD, ZOOM_PROCESS, ZOOM_DSO };

struct zoom {
	enum zoom_kind kind;
	int32_t id;	/* tid or pid */
	char name[256]; /* comm or dso */
};

struct browser {
	struct tui_report_args *a;
	struct pyperf_profile_opts popts; /* the command line's, zooms applied on reload */
	struct pyperf_report_opts ropts;
	struct pyperf_report_rows *rows;
	size_t nr_rows;
	bool *open;  /* row -> unfolded */
	size_t *vis; /* the rows shown, in order */
	size_t nr_vis;
	size_t cursor, top; /* in vis */
	int event, nr_events;
	struct zoom zooms[MAX_ZOOM];
	size_t nr_zooms;
	int32_t zoom_pid, zoom_tid;
	const char *dsos[1];
	char sym_re[256];
	bool has_off_cpu;
	char message[256]; /* shown in the status line until the next key */
};

static const struct pyperf_report_row *row(const struct browser *b, size_t i)
{
	return pyperf_report_rows__row(b->rows, i);
}

static bool listed(const struct pyperf_report_row *r)
{
	return r->kind == PYPERF_ROW_ENTRY || r->kind == PYPERF_ROW_GRAPH ||
	       r->kind == PYPERF_ROW_NOTE;
}

/* An entry folds what follows it at a greater depth: its call graph, or
 * the levels below it in the hierarchy. */
static bool has_children(const struct browser *b, size_t i)
{
	const struct pyperf_report_row *r = row(b, i);

	if (r->kind != PYPERF_ROW_ENTRY)
		return false;
	for (size_t j = i + 1; j < b->nr_rows; j++) {
		const struct pyperf_report_row *n = row(b, j);

		if (n->kind == PYPERF_ROW_BLANK)
			continue;
		return listed(n) && n->event == r->event && n->depth > r->depth;
	}
	return false;
}

static void make_visible(struct browser *b)
{
	int hide = -1; /* rows deeper than this are folded away */

	b->nr_vis = 0;
	for (size_t i = 0; i < b->nr_rows; i++) {
		const struct pyperf_report_row *r = row(b, i);

		if (r->event != b->event || !listed(r))
			continue;
		if (hide >= 0 && (int)r->depth > hide)
			continue;
		hide = -1;
		b->vis[b->nr_vis++] = i;
		if (r->kind == PYPERF_ROW_ENTRY && !b->open[i] && has_children(b, i))
			hide = (int)r->depth;
	}
	if (b->cursor >= b->nr_vis)
		b->cursor = b->nr_vis ? b->nr_vis - 1 : 0;
}

/* The rows again, from the profile as it is and the report options. */
static int build_rows(struct browser *b)
{
	struct pyperf_report_rows *rows = NULL;
	int ret = pyperf_profile__report_rows(*b->a->prof, &b->ropts, &rows);
	bool *open;
	size_t *vis, n;

	if (ret)
		return ret;
	n = pyperf_report_rows__nr(rows);
	open = calloc(n + 1, sizeof(*open));
	vis = calloc(n + 1, sizeof(*vis));
	if (!open || !vis) {
		free(open);
		free(vis);
		pyperf_report_rows__free(rows);
		return -ENOMEM;
	}
	pyperf_report_rows__free(b->rows);
	free(b->open);
	free(b->vis);
	b->rows = rows;
	b->nr_rows = n;
	b->open = open;
	b->vis = vis;
	b->nr_events = 0;
	for (size_t i = 0; i < n; i++)
		if (row(b, i)->event + 1 > b->nr_events)
			b->nr_events = row(b, i)->event + 1;
	if (b->event >= b->nr_events)
		b->event = 0;
	make_visible(b);
	return 0;
}

static const char *view_name(enum pyperf_view v)
{
	return v == PYPERF_VIEW_PYTHON ? "python" : v == PYPERF_VIEW_NATIVE ? "native" : "mixed";
}

static const char *weight_name(enum pyperf_weight w)
{
	switch (w) {
	case PYPERF_WEIGHT_CPU:
		return "cpu";
	case PYPERF_WEIGHT_OFF_CPU:
		return "off-cpu";
	case PYPERF_WEIGHT_WALL:
		return "wall";
	default:
		return "events";
	}
}

static bool caller_order(const struct pyperf_report_opts *o)
{
	return o->order == PYPERF_ORDER_CALLER ||
	       (o->order == PYPERF_ORDER_DEFAULT && !o->no_children);
}

/* A header line worth the title: the file's "no sample lost" is not. */
static bool says_something(const struct pyperf_report_row *r)
{
	return r->kind == PYPERF_ROW_HEADER && !strncmp(r->text, "# ", 2) &&
	       strcmp(r->text, "# Total Lost Samples: 0");
}

/*
 * The top line: the event's header (samples, event count or time, what the
 * entry filters left out), then what the file's header says (lost
 * samples, cut stacks, a time range).
 */
static void make_title(const struct browser *b, char *buf, size_t size)
{
	size_t n = 0;

	buf[0] = 0;
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < b->nr_rows && n < size; i++) {
			const struct pyperf_report_row *r = row(b, i);

			if (r->event != (pass ? -1 : b->event) || !says_something(r))
				continue;
			n += (size_t)snprintf(buf + n, size - n, "%s%s",
					      !n     ? ""
					      : pass ? " | "
						     : ", ",
					      r->text + 2);
			if (!pass && b->nr_events > 1 && !strncmp(r->text, "# Samples:", 10) &&
			    n < size)
				n += (size_t)snprintf(buf + n, size - n, " [event %d of %d: Tab]",
						      b->event + 1, b->nr_events);
		}
}

static void draw(struct browser *b)
{
	int rows = tui_rows() - 3; /* title, column headers, status */
	char title[2048], left[1024], right[64];
	bool columns = false;

	tui_clear();
	make_title(b, title, sizeof(title));
	tui_text(0, 0, TUI_TITLE, title, true);
	for (size_t i = 0; i < b->nr_rows && !columns; i++) {
		const struct pyperf_report_row *r = row(b, i);

		if (r->event == b->event && r->kind == PYPERF_ROW_COLUMNS) {
			tui_text(1, 0, TUI_NORMAL, " ", false);
			tui_text(1, 1, TUI_NORMAL, r->text + 1, false);
			columns = true;
		}
	}
	if (b->cursor < b->top)
		b->top = b->cursor;
	if (rows > 0 && b->cursor >= b->top + (size_t)rows)
		b->top = b->cursor - (size_t)rows + 1;
	for (int y = 0; y < rows && b->top + (size_t)y < b->nr_vis; y++) {
		size_t i = b->vis[b->top + (size_t)y];
		const struct pyperf_report_row *r = row(b, i);
		bool sel = b->top + (size_t)y == b->cursor;
		char line[1024];

		snprintf(line, sizeof(line), "%s", r->text);
		/* the fold mark, on the first of the two spaces that begin the
		 * entry's own text, as perf's browser shows it */
		if (has_children(b, i) && r->indent < strlen(line))
			line[r->indent] = b->open[i] ? '-' : '+';
		tui_text(2 + y, 0,
			 sel			       ? TUI_SELECTED
			 : r->kind == PYPERF_ROW_ENTRY ? tui_percent_color(r->percent)
						       : TUI_NORMAL,
			 line, sel);
	}
	if (!b->nr_vis)
		tui_text(2, 0, TUI_NORMAL, "  (no entry: Escape undoes the last zoom or filter)",
			 false);
	if (b->message[0]) {
		tui_text(tui_rows() - 1, 0, TUI_ERROR, b->message, true);
	} else {
		size_t n = (size_t)snprintf(left, sizeof(left), "view %s, weight %s, %s graphs",
					    view_name(b->popts.view), weight_name(b->popts.weight),
					    caller_order(&b->ropts) ? "caller" : "callee");

		for (size_t z = 0; z < b->nr_zooms && n < sizeof(left); z++) {
			const struct zoom *zm = &b->zooms[z];

			n += (size_t)snprintf(left + n, sizeof(left) - n, ", %s %s",
					      zm->kind == ZOOM_THREAD	 ? "thread"
					      : zm->kind == ZOOM_PROCESS ? "process"
									 : "dso",
					      zm->name);
			if (zm->kind != ZOOM_DSO && n < sizeof(left))
				n += (size_t)snprintf(left + n, sizeof(left) - n, "(%d)", zm->id);
		}
		if (b->sym_re[0] && n < sizeof(left))
			n += (size_t)snprintf(left + n, sizeof(left) - n, ", symbol /%s/",
					      b->sym_re);
		if (b->ropts.percent_limit > 0 && n < sizeof(left))
			snprintf(left + n, sizeof(left) - n, ", limit %g%%",
				 b->ropts.percent_limit);
		snprintf(right, sizeof(right), "%zu/%zu  h: help", b->nr_vis ? b->cursor + 1 : 0,
			 b->nr_vis);
		tui_status(left, right);
	}
	tui_refresh();
}

/*
 * Off-CPU and wall weights need sched_switch records: counted as switches
 * when weighed so, an event of their own otherwise.
 */
static bool has_switches(struct pyperf_profile *p)
{
	const struct pyperf_node *root = pyperf_profile__node(p, 0);

	if (pyperf_profile__stats(p)->switches)
		return true;
	for (uint32_t ev = root ? root->first_child : 0; ev;
	     ev = pyperf_profile__node(p, ev)->next_sibling) {
		const char *name =
		    pyperf_profile__frame(p, pyperf_profile__node(p, ev)->frame)->name;

		if (name && !strcmp(name, "sched:sched_switch"))
			return true;
	}
	return false;
}

/* A thread or process zoom, the view or the weight: the profile again. */
static int reload(struct browser *b)
{
	PYPERF_OPTS(pyperf_profile_opts, po);
	struct pyperf_profile *p;

	memcpy(&po, &b->popts, sizeof(po));
	if (b->zoom_pid) {
		po.pids = &b->zoom_pid;
		po.nr_pids = 1;
	}
	if (b->zoom_tid) {
		po.tids = &b->zoom_tid;
		po.nr_tids = 1;
	}
	tui_status("reading the recording again...", NULL);
	tui_refresh();
	p = b->a->load(b->a->load_ctx, &po, &b->ropts);
	if (!p) {
		snprintf(b->message, sizeof(b->message), "cannot read the recording again");
		return -EIO;
	}
	pyperf_profile__free(*b->a->prof);
	*b->a->prof = p;
	b->has_off_cpu |= has_switches(p);
	return 0;
}

static void apply_filters(struct browser *b)
{
	b->ropts.dsos = NULL;
	b->ropts.nr_dsos = 0;
	for (size_t z = 0; z < b->nr_zooms; z++)
		if (b->zooms[z].kind == ZOOM_DSO) {
			b->dsos[0] = b->zooms[z].name;
			b->ropts.dsos = b->dsos;
			b->ropts.nr_dsos = 1;
		}
	b->ropts.symbol_regex = b->sym_re[0] ? b->sym_re : NULL;
	b->zoom_pid = b->zoom_tid = 0;
	for (size_t z = 0; z < b->nr_zooms; z++) {
		if (b->zooms[z].kind == ZOOM_THREAD)
			b->zoom_tid = b->zooms[z].id;
		if (b->zooms[z].kind == ZOOM_PROCESS)
			b->zoom_pid = b->zooms[z].id;
	}
}

/* The profile (when @profile) and the rows again; the cursor's entry kept
 * where it can be. */
static int rebuild(struct browser *b, bool profile)
{
	int ret;

	apply_filters(b);
	if (profile && reload(b))
		return 0; /* the old profile stays, and says so */
	ret = build_rows(b);
	if (ret == -EINVAL)
		snprintf(b->message, sizeof(b->message), "the report refused these options");
	else if (ret)
		return ret;
	return 0;
}

static int zoom(struct browser *b, enum zoom_kind kind)
{
	const struct pyperf_report_row *r;
	struct zoom *z;

	for (size_t i = 0; i < b->nr_zooms; i++)
		if (b->zooms[i].kind == kind) {
			/* as in perf: the key zooms out of what it zoomed into */
			memmove(&b->zooms[i], &b->zooms[i + 1],
				(b->nr_zooms - i - 1) * sizeof(b->zooms[0]));
			b->nr_zooms--;
			return rebuild(b, kind != ZOOM_DSO);
		}
	if (!b->nr_vis || b->nr_zooms == MAX_ZOOM)
		return 0;
	r = row(b, b->vis[b->cursor]);
	if (!r->comm && !r->dso) {
		snprintf(b->message, sizeof(b->message), "nothing to zoom into on this row");
		return 0;
	}
	z = &b->zooms[b->nr_zooms++];
	z->kind = kind;
	z->id = kind == ZOOM_THREAD ? r->tid : r->pid;
	snprintf(z->name, sizeof(z->name), "%s", kind == ZOOM_DSO ? r->dso : r->comm);
	b->cursor = b->top = 0;
	return rebuild(b, kind != ZOOM_DSO);
}

static void set_all(struct browser *b, bool open)
{
	for (size_t i = 0; i < b->nr_rows; i++)
		b->open[i] = open;
	make_visible(b);
}

static const char *const help_lines[] = {
    "Up/Down, PgUp/PgDn, Home/End  move",
    "+, e, Enter    expand/collapse the entry (call graph, level)",
    "E / C          expand / collapse all",
    "t              zoom into the entry's thread (again: out)",
    "p              zoom into the entry's process (again: out)",
    "d              zoom into the entry's DSO (again: out)",
    "Escape, Bksp   drop the symbol filter, else the last zoom",
    "/              show symbols matching a regular expression",
    "L              hide entries under a percentage (--percent-limit)",
    "v              view: mixed, python, native",
    "w              weight: events, cpu, off-cpu, wall",
    "c              call graphs from the callers / the callees",
    "H              hierarchy / flat entries",
    "Tab            the next event",
    "h, ?           this help",
    "q              quit",
};

static bool prompt_percent(struct browser *b)
{
	char buf[32];
	char *end;
	double v;

	snprintf(buf, sizeof(buf), "%g", b->ropts.percent_limit);
	if (tui_prompt("percent limit (0-100, empty: none): ", buf, sizeof(buf)) != 1)
		return false;
	if (!buf[0]) {
		/* the command line's, call graphs' limit included */
		b->ropts.percent_limit = b->a->ropts.percent_limit;
		b->ropts.callchain_min_percent = b->a->ropts.callchain_min_percent;
		b->ropts.callchain_min_percent_set = b->a->ropts.callchain_min_percent_set;
		return true;
	}
	v = strtod(buf, &end);
	if (end == buf || *end || v < 0 || v > 100) {
		snprintf(b->message, sizeof(b->message), "not a percentage: '%s'", buf);
		return false;
	}
	/* as --percent-limit: the call graphs' branches too */
	b->ropts.percent_limit = v;
	b->ropts.callchain_min_percent = v;
	b->ropts.callchain_min_percent_set = true;
	return true;
}

static bool prompt_symbol(struct browser *b)
{
	char buf[sizeof(b->sym_re)];
	regex_t re;
	int err;

	snprintf(buf, sizeof(buf), "%s", b->sym_re);
	if (tui_prompt("symbol regex (empty: all): ", buf, sizeof(buf)) != 1)
		return false;
	if (buf[0]) {
		err = regcomp(&re, buf, REG_EXTENDED | REG_NOSUB);
		if (err) {
			char why[128];

			regerror(err, &re, why, sizeof(why));
			snprintf(b->message, sizeof(b->message), "bad regex '%.100s': %s", buf,
				 why);
			return false;
		}
		regfree(&re);
	}
	snprintf(b->sym_re, sizeof(b->sym_re), "%s", buf);
	b->cursor = b->top = 0;
	return true;
}

static enum pyperf_weight next_weight(const struct browser *b)
{
	switch (b->popts.weight) {
	case PYPERF_WEIGHT_EVENTS:
		return PYPERF_WEIGHT_CPU;
	case PYPERF_WEIGHT_CPU:
		return b->has_off_cpu ? PYPERF_WEIGHT_OFF_CPU : PYPERF_WEIGHT_EVENTS;
	case PYPERF_WEIGHT_OFF_CPU:
		return PYPERF_WEIGHT_WALL;
	default:
		return PYPERF_WEIGHT_EVENTS;
	}
}

/* One key; returns <0 on a failure that ends the browser, 1 to quit. */
static int on_key(struct browser *b, int key)
{
	int page = tui_rows() - 3 > 1 ? tui_rows() - 3 : 1;

	switch (key) {
	case 'q':
		return 1;
	case KEY_UP:
	case 'k':
		if (b->cursor)
			b->cursor--;
		break;
	case KEY_DOWN:
	case 'j':
		if (b->cursor + 1 < b->nr_vis)
			b->cursor++;
		break;
	case KEY_PPAGE:
		b->cursor = b->cursor > (size_t)page ? b->cursor - (size_t)page : 0;
		break;
	case KEY_NPAGE:
	case ' ':
		b->cursor += (size_t)page;
		if (b->cursor >= b->nr_vis)
			b->cursor = b->nr_vis ? b->nr_vis - 1 : 0;
		break;
	case KEY_HOME:
		b->cursor = 0;
		break;
	case KEY_END:
		b->cursor = b->nr_vis ? b->nr_vis - 1 : 0;
		break;
	case '+':
	case 'e':
	case TUI_KEY_ENTER:
		if (b->nr_vis && has_children(b, b->vis[b->cursor])) {
			b->open[b->vis[b->cursor]] ^= 1;
			make_visible(b);
		}
		break;
	case 'E':
		set_all(b, true);
		break;
	case 'C':
		set_all(b, false);
		b->cursor = 0;
		break;
	case 't':
		return zoom(b, ZOOM_THREAD);
	case 'p':
		return zoom(b, ZOOM_PROCESS);
	case 'd':
		return zoom(b, ZOOM_DSO);
	case TUI_KEY_ESCAPE:
	case TUI_KEY_BACKSPACE:
	case KEY_LEFT:
		/* the symbol filter was the last thing set if there is one */
		if (b->sym_re[0]) {
			b->sym_re[0] = 0;
			return rebuild(b, false);
		}
		if (b->nr_zooms)
			return zoom(b, b->zooms[b->nr_zooms - 1].kind);
		break;
	case '/':
		if (prompt_symbol(b))
			return rebuild(b, false);
		break;
	case 'L':
		if (prompt_percent(b))
			return rebuild(b, false);
		break;
	case 'v':
		b->popts.view = b->popts.view == PYPERF_VIEW_MIXED    ? PYPERF_VIEW_PYTHON
				: b->popts.view == PYPERF_VIEW_PYTHON ? PYPERF_VIEW_NATIVE
								      : PYPERF_VIEW_MIXED;
		return rebuild(b, true);
	case 'w':
		b->popts.weight = next_weight(b);
		if (!b->has_off_cpu && b->popts.weight == PYPERF_WEIGHT_EVENTS)
			snprintf(b->message, sizeof(b->message),
				 "no sched_switch in the recording: no off-cpu or wall weight "
				 "(record with --off-cpu)");
		b->event = 0;
		return rebuild(b, true);
	case 'c':
		b->ropts.order =
		    caller_order(&b->ropts) ? PYPERF_ORDER_CALLEE : PYPERF_ORDER_CALLER;
		return rebuild(b, true);
	case 'H':
		b->ropts.hierarchy = !b->ropts.hierarchy;
		b->cursor = b->top = 0;
		return rebuild(b, true);
	case '\t':
		if (b->nr_events > 1) {
			b->event = (b->event + 1) % b->nr_events;
			b->cursor = b->top = 0;
			make_visible(b);
		}
		break;
	case 'h':
	case '?':
		key = tui_help("pyperf-report: keys", help_lines,
			       sizeof(help_lines) / sizeof(help_lines[0]));
		if (key == TUI_KEY_SIGNAL)
			return 1;
		break;
	default:
		break;
	}
	return 0;
}

int tui_report_browse(struct tui_report_args *a)
{
	struct browser b = {.a = a};
	int ret;

	memcpy(&b.popts, &a->popts, sizeof(b.popts));
	memcpy(&b.ropts, &a->ropts, sizeof(b.ropts));
	b.has_off_cpu = has_switches(*a->prof);
	ret = tui_open(TUI_REPORT_MIN_COLS, TUI_REPORT_MIN_ROWS);
	if (ret) {
		fprintf(stderr, "pyperf-report: %s; use --stdio to print the report\n",
			tui_error());
		return 1;
	}
	ret = build_rows(&b);
	while (!ret) {
		int key;

		draw(&b);
		key = tui_getkey(-1);
		if (key == TUI_KEY_SIGNAL)
			break;
		b.message[0] = 0;
		if (key == TUI_KEY_RESIZE || key == TUI_KEY_NONE)
			continue;
		ret = on_key(&b, key);
	}
	tui_close();
	pyperf_report_rows__free(b.rows);
	free(b.open);
	free(b.vis);
	if (ret < 0) {
		fprintf(stderr, "pyperf-report: %s (the browser cannot go on)\n",
			ret == -ENOMEM ? "out of memory" : strerror(-ret));
		return 2;
	}
	return tui_exit_status();
}
