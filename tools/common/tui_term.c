// SPDX-License-Identifier: MIT
/*
 * The terminal layer of the tools' full-screen views (see tui_term.h).
 * ncurses draws; this file owns the life cycle around it: when the terminal
 * is taken and given back, what signals do meanwhile, a terminal that goes
 * away, and a screen too small to draw in.
 */
#include <errno.h>
#include <locale.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <curses.h>
#include "tui_term.h"

static SCREEN *screen;
static bool have_colors;
static int need_cols, need_rows;
static char error_text[128];
static bool atexit_done;
/* The handlers only record the signal: curses is not async-signal-safe. */
static volatile sig_atomic_t pending_signal;
static const int caught[] = {SIGINT, SIGTERM, SIGHUP};
static struct sigaction saved[3];

static void on_signal(int sig)
{
	if (!pending_signal)
		pending_signal = sig;
}

static void catch_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	/* no SA_RESTART: a wait in poll() ends at once */
	for (size_t i = 0; i < sizeof(caught) / sizeof(caught[0]); i++)
		sigaction(caught[i], &sa, &saved[i]);
}

static void release_signals(void)
{
	for (size_t i = 0; i < sizeof(caught) / sizeof(caught[0]); i++)
		sigaction(caught[i], &saved[i], NULL);
}

static bool size_ok(void)
{
	return COLS >= need_cols && LINES >= need_rows;
}

static void init_colors(void)
{
	/* perf's colours (ui/browser.c): selected black on yellow, the top
	 * and bottom bars white on blue, shares red and green */
	static const short pairs[TUI_NR_COLORS][2] = {
	    [TUI_SELECTED] = {COLOR_BLACK, COLOR_YELLOW},
	    [TUI_TITLE] = {COLOR_WHITE, COLOR_BLUE},
	    [TUI_STATUS] = {COLOR_WHITE, COLOR_BLUE},
	    [TUI_HOT] = {COLOR_RED, -1},
	    [TUI_WARM] = {COLOR_GREEN, -1},
	    [TUI_HELP] = {COLOR_WHITE, COLOR_BLUE},
	    [TUI_ERROR] = {COLOR_WHITE, COLOR_RED},
	};

	have_colors = has_colors() && start_color() == OK;
	if (!have_colors)
		return;
	use_default_colors();
	for (int i = 1; i < TUI_NR_COLORS; i++)
		init_pair((short)i, pairs[i][0], pairs[i][1]);
}

static attr_t attr_of(enum tui_color c)
{
	if (c == TUI_NORMAL)
		return A_NORMAL;
	if (have_colors)
		return COLOR_PAIR(c) | (c == TUI_TITLE || c == TUI_HOT ? A_BOLD : 0);
	switch (c) {
	case TUI_HOT:
		return A_BOLD;
	case TUI_WARM:
		return A_NORMAL;
	default:
		return A_REVERSE;
	}
}

int tui_open(int min_cols, int min_rows)
{
	struct winsize ws;

	error_text[0] = 0;
	if (screen)
		return 0;
	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
		snprintf(error_text, sizeof(error_text),
			 "no terminal: standard input and output must be a terminal");
		return -ENOTTY;
	}
	/* Before curses comes up: it would otherwise draw, then find out. */
	if (!ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) && ws.ws_col && ws.ws_row &&
	    (ws.ws_col < min_cols || ws.ws_row < min_rows)) {
		snprintf(error_text, sizeof(error_text),
			 "terminal too small: need %dx%d (have %dx%d)", min_cols, min_rows,
			 ws.ws_col, ws.ws_row);
		return -ERANGE;
	}
	setlocale(LC_ALL, "");
	need_cols = min_cols;
	need_rows = min_rows;
	pending_signal = 0;
	/* Ours before curses' own: ncurses installs SIGINT/SIGTERM handlers
	 * that end the process only where none is set. */
	catch_signals();
	/* newterm, unlike initscr, returns on an unknown $TERM */
	screen = newterm(NULL, stdout, stdin);
	if (!screen) {
		release_signals();
		snprintf(error_text, sizeof(error_text),
			 "no terminal: ncurses does not know TERM='%s'",
			 getenv("TERM") ? getenv("TERM") : "");
		return -ENOTTY;
	}
	if (!atexit_done) {
		atexit(tui_close);
		atexit_done = true;
	}
	cbreak();
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	set_escdelay(25);
	curs_set(0);
	init_colors();
	if (!size_ok()) {
		snprintf(error_text, sizeof(error_text),
			 "terminal too small: need %dx%d (have %dx%d)", need_cols, need_rows, COLS,
			 LINES);
		tui_close();
		return -ERANGE;
	}
	return 0;
}

void tui_close(void)
{
	if (!screen)
		return;
	curs_set(1);
	endwin();
	delscreen(screen);
	screen = NULL;
	release_signals();
	fflush(stdout);
}

bool tui_active(void)
{
	return screen != NULL;
}

const char *tui_error(void)
{
	return error_text;
}

int tui_signal(void)
{
	return pending_signal;
}

int tui_exit_status(void)
{
	return pending_signal ? 128 + pending_signal : 0;
}

int tui_cols(void)
{
	return COLS;
}

int tui_rows(void)
{
	return LINES;
}

static void draw_too_small(void)
{
	char msg[64];

	/* two lines: the first fits in the narrowest terminal it is shown on */
	erase();
	snprintf(msg, sizeof(msg), "terminal too small: need %dx%d", need_cols, need_rows);
	mvaddnstr(0, 0, msg, COLS);
	snprintf(msg, sizeof(msg), "(have %dx%d)", COLS, LINES);
	mvaddnstr(1, 0, msg, COLS);
	refresh();
}

/*
 * The terminal is gone when stdin hangs up or reads end of file (poll says
 * readable, yet nothing is there): the session leader's terminal closed,
 * which a SIGHUP may or may not have said.
 */
static bool terminal_lost(int wait_ms)
{
	struct pollfd pfd = {.fd = STDIN_FILENO, .events = POLLIN};
	int n = poll(&pfd, 1, wait_ms), avail = 0;

	if (n <= 0)
		return false;
	if (pfd.revents & (POLLHUP | POLLERR | POLLNVAL))
		return true;
	return (pfd.revents & POLLIN) && !ioctl(STDIN_FILENO, FIONREAD, &avail) && !avail;
}

int tui_getkey(int timeout_ms)
{
	int waited = 0;

	for (;;) {
		int ch, slice;

		if (pending_signal)
			return TUI_KEY_SIGNAL;
		/* what ncurses already holds (a resize, a sequence's rest) first */
		timeout(0);
		ch = getch();
		if (ch == KEY_RESIZE) {
			if (size_ok())
				return TUI_KEY_RESIZE;
			draw_too_small();
			continue;
		}
		if (ch != ERR) {
			if (!size_ok())
				continue; /* keys do nothing under the message */
			if (ch == KEY_ENTER || ch == '\r')
				return TUI_KEY_ENTER;
			if (ch == KEY_BACKSPACE || ch == 8)
				return TUI_KEY_BACKSPACE;
			return ch;
		}
		if (timeout_ms >= 0 && waited >= timeout_ms)
			return TUI_KEY_NONE;
		slice = TUI_POLL_MS;
		if (timeout_ms >= 0 && timeout_ms - waited < slice)
			slice = timeout_ms - waited;
		if (terminal_lost(slice)) {
			if (!pending_signal)
				pending_signal = SIGHUP;
			return TUI_KEY_SIGNAL;
		}
		/* a key, a signal or the slice's end: look again (time is
		 * counted in slices: a signal's early wake-up makes it shorter,
		 * never longer) */
		waited += slice;
	}
}

void tui_clear(void)
{
	erase();
}

void tui_text(int y, int x, enum tui_color color, const char *text, bool fill)
{
	attr_t a = attr_of(color);
	int room = COLS - x, n = 0;
	char buf[1024];

	if (y < 0 || y >= LINES || room <= 0)
		return;
	attron(a);
	if (fill)
		mvhline(y, 0, ' ', COLS);
	for (const unsigned char *p = (const unsigned char *)text;
	     *p && n < room && n < (int)sizeof(buf) - 1; p++)
		buf[n++] = *p < 32 || *p == 127 ? ' ' : (char)*p;
	buf[n] = 0;
	mvaddnstr(y, x, buf, room);
	attroff(a);
}

enum tui_color tui_percent_color(double percent)
{
	/* perf's MIN_RED and MIN_GREEN */
	if (percent >= 5.0)
		return TUI_HOT;
	if (percent >= 0.5)
		return TUI_WARM;
	return TUI_NORMAL;
}

void tui_status(const char *left, const char *right)
{
	int y = LINES - 1;

	tui_text(y, 0, TUI_STATUS, left ? left : "", true);
	if (right) {
		int len = (int)strlen(right), x = COLS - len - 1;
		int lx = left ? (int)strlen(left) + 2 : 0;

		if (x >= lx)
			tui_text(y, x, TUI_STATUS, right, false);
	}
}

void tui_refresh(void)
{
	refresh();
}

int tui_help(const char *title, const char *const *lines, size_t nr)
{
	int w = (int)strlen(title) + 4, h = (int)nr + 4, x, y;
	WINDOW *win;
	int key;

	for (size_t i = 0; i < nr; i++)
		if ((int)strlen(lines[i]) + 4 > w)
			w = (int)strlen(lines[i]) + 4;
	if (w > COLS)
		w = COLS;
	if (h > LINES)
		h = LINES;
	x = (COLS - w) / 2;
	y = (LINES - h) / 2;
	win = newwin(h, w, y, x);
	if (win) {
		wbkgd(win, attr_of(TUI_HELP));
		werase(win);
		box(win, 0, 0);
		mvwaddnstr(win, 0, 2, title, w - 4);
		for (int i = 0; i < (int)nr && i + 2 < h - 1; i++)
			mvwaddnstr(win, i + 2, 2, lines[i], w - 4);
		wnoutrefresh(stdscr);
		wnoutrefresh(win);
		doupdate();
	}
	key = tui_getkey(-1);
	if (win) {
		delwin(win);
		touchwin(stdscr);
	}
	return key;
}

int tui_prompt(const char *prompt, char *buf, size_t size)
{
	size_t len = strlen(buf);
	int ret;

	curs_set(1);
	for (;;) {
		int key;

		tui_text(LINES - 1, 0, TUI_STATUS, prompt, true);
		tui_text(LINES - 1, (int)strlen(prompt), TUI_STATUS, buf, false);
		refresh();
		key = tui_getkey(-1);
		if (key == TUI_KEY_SIGNAL) {
			ret = TUI_KEY_SIGNAL;
			break;
		}
		if (key == TUI_KEY_ENTER) {
			ret = 1;
			break;
		}
		if (key == TUI_KEY_ESCAPE || key == TUI_KEY_CTRL_C) {
			ret = 0;
			break;
		}
		if (key == TUI_KEY_BACKSPACE) {
			if (len)
				buf[--len] = 0;
		} else if (key >= 32 && key < 127 && len + 1 < size) {
			buf[len++] = (char)key;
			buf[len] = 0;
		}
	}
	curs_set(0);
	return ret;
}
