/* SPDX-License-Identifier: MIT */
/*
 * tui_term: the terminal under the tools' full-screen views (pyperf-report's
 * browser, pyperf-top), on ncurses.
 *
 * One terminal per process: tui_open() takes it over (curses mode, no echo,
 * keypad keys, colours where the terminal has them), tui_close() gives it
 * back as it was. The terminal is also given back at exit (atexit) and by
 * whoever reads the key after SIGINT, SIGTERM or SIGHUP: those signals only
 * set a flag (a handler may not call ncurses), and tui_getkey() returns
 * TUI_KEY_SIGNAL within TUI_POLL_MS of one; tui_signal() says which, and
 * tui_exit_status() turns it into the shell's 128 + signal number. SIGWINCH
 * is ncurses' own: it makes tui_getkey() return TUI_KEY_RESIZE once the new
 * size is known.
 *
 * A view states the smallest size it can draw in (tui_open()'s min_cols and
 * min_rows). A terminal smaller than that at the start is an error
 * (-ERANGE, message from tui_error()); one that shrinks later shows
 * "terminal too small: need WxH" until it grows again, and tui_getkey()
 * then returns TUI_KEY_RESIZE so that the view redraws.
 *
 * Not thread safe: call from one thread only (curses has one screen).
 */
#ifndef PYPERF_TOOLS_TUI_TERM_H
#define PYPERF_TOOLS_TUI_TERM_H

#include <stdbool.h>
#include <stddef.h>

/* tui_getkey() waits at most this long before looking at the signal flags */
#define TUI_POLL_MS 100

/* Keys besides ncurses' (KEY_UP, KEY_NPAGE... and plain characters). */
enum {
	TUI_KEY_NONE = -1,	 /* the timeout passed without a key */
	TUI_KEY_RESIZE = -2,	 /* the terminal changed size: redraw */
	TUI_KEY_SIGNAL = -3,	 /* SIGINT, SIGTERM or SIGHUP: leave (tui_signal()) */
	TUI_KEY_ESCAPE = 27,	 /* Escape alone (not the start of a sequence) */
	TUI_KEY_CTRL_C = 3,	 /* in raw mode Ctrl-C is a key, not SIGINT */
	TUI_KEY_ENTER = '\n',	 /* also KEY_ENTER and '\r' */
	TUI_KEY_BACKSPACE = 127, /* also KEY_BACKSPACE and ^H */
};

/* Colour pairs; on a terminal without colours they become attributes. */
enum tui_color {
	TUI_NORMAL = 0,
	TUI_SELECTED, /* the cursor's row */
	TUI_TITLE,    /* the top line */
	TUI_STATUS,   /* the bottom line */
	TUI_HOT,      /* a share of 5% or more (perf's red) */
	TUI_WARM,     /* a share of 0.5% or more (perf's green) */
	TUI_HELP,     /* the help overlay's box */
	TUI_ERROR,    /* a message that something failed */
	TUI_NR_COLORS,
};

/*
 * Takes over the terminal of stdin/stdout. Returns 0, or -ENOTTY (stdin or
 * stdout is not a terminal, or $TERM names none ncurses knows), or -ERANGE
 * (smaller than min_cols x min_rows); tui_error() then says why in a line to
 * print. The terminal is left as it was on failure.
 */
int tui_open(int min_cols, int min_rows);

/* Gives the terminal back as it was. Idempotent; called at exit too. */
void tui_close(void);

/* True between a successful tui_open() and tui_close(). */
bool tui_active(void);

/* The reason of tui_open()'s last failure, e.g. "terminal too small: need
 * 60x12 (have 40x10)". Static storage, valid until the next tui_open(). */
const char *tui_error(void);

/*
 * Waits up to timeout_ms (< 0: until something happens) for a key. Returns
 * the key (a character, or an ncurses KEY_* code), TUI_KEY_NONE on timeout,
 * TUI_KEY_RESIZE after a resize (never while the terminal is too small:
 * the message stays until it grows), TUI_KEY_SIGNAL after a signal. The
 * terminal lost (stdin at end of file or failing, as after a hang-up) reads
 * as SIGHUP.
 */
int tui_getkey(int timeout_ms);

/* The signal that made tui_getkey() return TUI_KEY_SIGNAL, or 0. */
int tui_signal(void);

/* 128 + the signal number, the status a shell reports for it; 0 if none. */
int tui_exit_status(void);

/* The screen's size. */
int tui_cols(void);
int tui_rows(void);

/* Clears the screen (call first when drawing a frame). */
void tui_clear(void);

/*
 * Writes @text at row @y from column @x in @color, clipped to the screen's
 * width; with @fill the rest of the row is painted in @color too (a bar).
 * Tabs and control characters are shown as spaces.
 */
void tui_text(int y, int x, enum tui_color color, const char *text, bool fill);

/* The colour perf gives a percentage: hot, warm, or normal. */
enum tui_color tui_percent_color(double percent);

/* The bottom line: @left at its start, @right flush right (either NULL). */
void tui_status(const char *left, const char *right);

/* Shows what was drawn since tui_clear(). */
void tui_refresh(void);

/*
 * The help overlay: a box over the current screen with @title and the
 * @nr lines of @lines (clipped if the screen is small), until a key. Returns
 * that key (TUI_KEY_SIGNAL if a signal came first; TUI_KEY_RESIZE if the
 * terminal changed size, so that the caller redraws).
 */
int tui_help(const char *title, const char *const *lines, size_t nr);

/*
 * Reads a line at the bottom row after @prompt (Enter accepts, Escape
 * cancels, Backspace edits) into @buf, which holds its initial text.
 * Returns 1 accepted, 0 cancelled, TUI_KEY_SIGNAL on a signal.
 */
int tui_prompt(const char *prompt, char *buf, size_t size);

#endif /* PYPERF_TOOLS_TUI_TERM_H */
