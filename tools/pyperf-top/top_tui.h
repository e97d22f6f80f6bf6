/* SPDX-License-Identifier: MIT */
/* pyperf-top's full-screen view, on tools/common/tui_term. */
#ifndef PYPERF_TOP_TUI_H
#define PYPERF_TOP_TUI_H

#include <signal.h>
#include "top_live.h"

struct top_tui_args {
	struct top_live *live;
	volatile sig_atomic_t *done; /* set when the recording ended (the target exited) */
	struct top_show *show;	     /* changed by the keys; the summary uses it */
	double delay;		     /* seconds between refreshes */
	long iterations;	     /* refreshes before it ends; 0: no limit */
	const char *notes;	     /* the recorder's notes, shown until the first refresh */
};

/* Takes the terminal: 0, or -ENOTTY/-ERANGE with top_tui_error() saying why. */
int top_tui_open(void);
const char *top_tui_error(void);
void top_tui_close(void);

/*
 * Refreshes until q, a signal (*@sig set to it), the end of the recording
 * or the last iteration. Return: 0 or a negative errno.
 */
int top_tui_run(const struct top_tui_args *a, struct top_snapshot *snap, int *sig);

#endif
