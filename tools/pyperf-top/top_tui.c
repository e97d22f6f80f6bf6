// SPDX-License-Identifier: MIT
/*
 * pyperf-top's full-screen view: the lines top_format() makes, drawn with
 * tui_term (which owns the terminal, its signals and resizes), and the keys
 * that change what they show.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "top_tui.h"
#include "tui_term.h"

/* the header, the column titles, a few functions and the status line */
#define MIN_COLS 60
#define MIN_ROWS 12

static const char *const help_lines[] = {
    "q        quit (a summary since the start is printed)",
    "v        view: mixed, python, native",
    "t        threads merged / one line per thread and function",
    "s        rank by own share / by total share",
    "a        rank by the last interval / since the start",
    "h, ?     this help",
    "",
    "Own: samples in the function itself; Total: samples with it on the stack",
    "(once per sample, recursion included), as perf report's Self and Children.",
    "Shares are of the period's samples; '-' means none in that period.",
    "cpu: the thread's CPU time over the interval (clock events); idle: the rest.",
    "in take_gil: its samples spent taking the GIL on CPU (native symbols needed).",
};

int top_tui_open(void)
{
	return tui_open(MIN_COLS, MIN_ROWS);
}

const char *top_tui_error(void)
{
	return tui_error();
}

void top_tui_close(void)
{
	tui_close();
}

struct draw {
	int y, max_y;
};

static void draw_line(void *ctx, const char *line, int kind)
{
	struct draw *d = ctx;
	enum tui_color c = TUI_NORMAL;

	if (d->y >= d->max_y)
		return;
	if (kind == TOP_LINE_HEADER && d->y == 0)
		c = TUI_TITLE;
	else if (kind == TOP_LINE_COLUMNS)
		c = TUI_SELECTED;
	else if (kind == TOP_LINE_ROW)
		c = tui_percent_color(strtod(line, NULL));
	tui_text(d->y, 0, c, line, d->y == 0);
	d->y++;
}

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void draw(const struct top_tui_args *a, const struct top_snapshot *s, bool have)
{
	struct draw d = {0, tui_rows() - 1};
	char right[64];

	tui_clear();
	if (have) {
		/* the header takes what it needs; the rest is functions */
		size_t head = 4 + s->nr_threads + (s->nr_threads_all > s->nr_threads);
		size_t rows = (size_t)d.max_y > head + 1 ? (size_t)d.max_y - head - 1 : 1;

		top_format(s, a->show, tui_cols(), rows, draw_line, &d);
	} else {
		tui_text(0, 0, TUI_TITLE, "pyperf-top: recording; the first refresh comes soon",
			 true);
		if (a->notes) {
			char line[512];
			const char *p = a->notes;

			for (d.y = 2; *p && d.y < d.max_y; d.y++) {
				size_t n = strcspn(p, "\n");

				snprintf(line, sizeof(line), "%.*s", (int)n, p);
				tui_text(d.y, 0, TUI_NORMAL, line, false);
				p += n + (p[n] == '\n');
			}
		}
	}
	snprintf(right, sizeof(right), "view %s", top_view_name(a->show->view));
	tui_status("q quit  v view  t threads  s own/total  a interval/start  h help", right);
	tui_refresh();
}

int top_tui_run(const struct top_tui_args *a, struct top_snapshot *snap, int *sig)
{
	double next = now_s() + a->delay;
	long n = 0;
	bool have = false;
	int ret;

	*sig = 0;
	draw(a, snap, false);
	while (!*a->done) {
		double left = next - now_s();
		int key = tui_getkey(left > 0 ? (int)(left * 1000) + 1 : 0);
		bool changed = true;

		switch (key) {
		case 'q':
		case 'Q':
			return 0;
		case TUI_KEY_SIGNAL:
			*sig = tui_signal();
			return 0;
		case TUI_KEY_CTRL_C:
			/* raw mode reads Ctrl-C as a key: it means what SIGINT means */
			*sig = 2;
			return 0;
		case 'v':
			a->show->view = a->show->view == PYPERF_VIEW_MIXED    ? PYPERF_VIEW_PYTHON
					: a->show->view == PYPERF_VIEW_PYTHON ? PYPERF_VIEW_NATIVE
									      : PYPERF_VIEW_MIXED;
			break;
		case 't':
			a->show->per_thread = !a->show->per_thread;
			break;
		case 's':
			a->show->by_total = !a->show->by_total;
			break;
		case 'a':
			a->show->since_start = !a->show->since_start;
			break;
		case 'h':
		case '?':
			key = tui_help("pyperf-top keys", help_lines,
				       sizeof(help_lines) / sizeof(help_lines[0]));
			if (key == TUI_KEY_SIGNAL) {
				*sig = tui_signal();
				return 0;
			}
			break;
		case TUI_KEY_RESIZE:
			break;
		default:
			changed = false;
			break;
		}
		if (now_s() >= next) {
			next += a->delay;
			if (next < now_s())
				next = now_s() + a->delay;
			if ((ret = top_live_snapshot(a->live, a->show, true, snap)))
				return ret;
			have = true;
			draw(a, snap, true);
			if (a->iterations && ++n >= a->iterations)
				return 0;
		} else if (changed && have) {
			/* the same interval, shown another way */
			if ((ret = top_live_snapshot(a->live, a->show, false, snap)))
				return ret;
			draw(a, snap, true);
		} else if (changed) {
			draw(a, snap, false);
		}
	}
	return 0;
}
