/* SPDX-License-Identifier: MIT */
/*
 * pyperf-report's browser: the report (pyperf_profile__report_rows(), so
 * the very lines --stdio prints) in a full-screen view that folds entries
 * and hierarchy levels, and changes view, weight, zoom and filters without
 * leaving, as perf report's browser does.
 */
#ifndef PYPERF_REPORT_TUI_REPORT_H
#define PYPERF_REPORT_TUI_REPORT_H

#include <pyperf/output.h>
#include <pyperf/profile.h>

/* The smallest terminal the browser draws in. */
#define TUI_REPORT_MIN_COLS 40
#define TUI_REPORT_MIN_ROWS 8

struct tui_report_args {
	/* the options the command line gave; the browser changes its copies */
	struct pyperf_profile_opts popts;
	struct pyperf_report_opts ropts;
	/* the profile read with popts; the browser may replace it (reading
	 * the files again with other profile options): the caller frees
	 * whatever *prof is when the browser returns */
	struct pyperf_profile **prof;
	/* reads the inputs again into a new profile with @popts, for a
	 * report with @ropts, quietly (the screen is the browser's); NULL on
	 * failure */
	struct pyperf_profile *(*load)(void *ctx, const struct pyperf_profile_opts *popts,
				       const struct pyperf_report_opts *ropts);
	void *load_ctx;
	/* what was read (for the status line): the first input's name */
	const char *input;
};

/*
 * Runs the browser until q, a signal or a lost terminal. Returns the exit
 * status: 0 after q, 128 + N after signal N (SIGHUP for a lost terminal),
 * 1 when the terminal cannot be used (message printed), 2 when the report
 * could not be built (out of memory; message printed).
 */
int tui_report_browse(struct tui_report_args *a);

#endif /* PYPERF_REPORT_TUI_REPORT_H */
