// SPDX-License-Identifier: MIT
/*
 * pyperf-report: reports from perf.data files (pyperf-record's or perf
 * record's), as perf report prints them, folded stacks, flame graphs,
 * speedscope, pprof and JSON profiles; and `perf script` text folded as
 * stackcollapse-perf.pl folds it.
 *
 * On a terminal, without an output format, the report opens in a browser
 * (tui_report.c); --stdio prints it.
 *
 * Exit status: 0 ok, 1 bad usage (or, for the browser, no terminal or one
 * too small), 2 unreadable or damaged input (the report of what could be
 * read is still printed); the browser ended by a signal: 128 + its number
 * (129 a lost terminal, SIGHUP; 130 Ctrl-C; 143 SIGTERM).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <pyperf/data.h>
#include <pyperf/diff.h>
#include <pyperf/output.h>
#include <pyperf/profile.h>
#include <pyperf/script.h>
#include <pyperf/symbols.h>
#include <pyperf/time_range.h>
#include <pyperf/unwind.h>
#include "tui_report.h"

#define EXIT_USAGE 1
#define EXIT_INPUT 2

static const char *prog = "pyperf-report";

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: %s [options]\n"
	    "\n"
	    "Input:\n"
	    "  -i, --input FILE        perf.data to read (default ./perf.data); repeat to merge\n"
	    "      --input-format F    perf-data (default), or perf-script: fold `perf script`\n"
	    "                          text (FILE, or - for stdin) as stackcollapse-perf.pl\n"
	    "  -f, --force             read perf.data files, perf maps and jitdumps that\n"
	    "                          other users own (or that are symlinks)\n"
	    "      --symfs DIR         look for binaries under DIR\n"
	    "      --kallsyms FILE     kernel symbols from FILE\n"
	    "      --symbol-cache DIR  keep parsed symbol tables in DIR (default\n"
	    "                          $PYPERF_SYMBOL_CACHE, else ~/.cache/pyperf/symbols)\n"
	    "      --no-symbol-cache   parse every symbol table afresh\n"
	    "      --no-inline         no frames for inlined functions (by default a frame\n"
	    "                          unwound from a stack copy is preceded by the functions\n"
	    "                          inlined there, \"NAME (inlined)\", when debug info is\n"
	    "                          installed: a -dbg package, as perf shows them)\n"
	    "      --max-stack N       keep N frames per call chain (default 127, as perf): the\n"
	    "                          leaf side; in caller order (--children, -G) the\n"
	    "                          outermost N, as perf, and the leaf, which perf drops;\n"
	    "                          python and mixed views count the frames they show\n"
	    "      --no-truncated-root show a cut stack from the outermost frame found, as\n"
	    "                          perf does, not under a [truncated] root frame (cut\n"
	    "                          stacks are still counted: --stats, JSON, header)\n"
	    "\n"
	    "Python:\n"
	    "      --view VIEW         mixed (default): Python frames, interpreter glue folded;\n"
	    "                          python: Python frames only; native: every frame, as perf\n"
	    "      --native-leaf       python view: a [native] leaf for time outside the\n"
	    "                          interpreter (C extensions, libc, the kernel)\n"
	    "      --full-path         Python frames with the file's full path\n"
	    "\n"
	    "Weight (off-CPU needs a recording with sched:sched_switch, e.g. pyperf-record\n"
	    "--off-cpu, or perf record -e sched:sched_switch -g):\n"
	    "      --weight W          events (default): each recorded event on its own;\n"
	    "                          cpu: on-CPU samples only; off-cpu: time threads spent\n"
	    "                          off CPU, under the stack they left with and a leaf\n"
	    "                          [off-cpu: STATE] (S sleeping, D uninterruptible,\n"
	    "                          R preempted); wall: on-CPU time plus off-CPU time.\n"
	    "                          Time weights report seconds; --collapsed counts\n"
	    "                          microseconds\n"
	    "\n"
	    "Filters:\n"
	    "      --pid PID[,PID..]   only these processes\n"
	    "      --tid TID[,TID..]   only these threads\n"
	    "      --comm NAME[,..]    only threads with these names\n"
	    "      --time RANGES       only samples in these time ranges, perf's syntax:\n"
	    "                          START,STOP in seconds of the perf clock (as perf script\n"
	    "                          prints them; either side may be empty), several\n"
	    "                          separated by spaces or as A,B,C,D; or shares of the\n"
	    "                          recording: 10%%/2 (the second tenth), 0%%-10%%,30%%-40%%,\n"
	    "                          50%% (the first half)\n"
	    "      --reltime           --time's seconds count from the first sample\n"
	    "      --percent-limit P   hide entries under P%% of the total, and call-graph\n"
	    "                          branches under P%% (as -g MODE,P)\n"
	    "\n"
	    "Output format:\n"
	    "      --format FORMAT     tree (default: perf report's entries with call graphs),\n"
	    "                          hierarchy, collapsed, svg, speedscope, pprof, json, or\n"
	    "                          script: every sample in time order as perf script\n"
	    "                          prints it (comm pid/tid [cpu] time: period event:,\n"
	    "                          then its stack in the --view; --reltime counts times\n"
	    "                          from the first sample, --ns prints nanoseconds)\n"
	    "  -o, --output FILE       write there instead of stdout (pprof: needed on a tty)\n"
	    "\n"
	    "Comparison (perf diff, difffolded.pl, differential flame graphs):\n"
	    "      --baseline FILE     compare -i's files (the new profile) with FILE (repeat\n"
	    "                          to merge): the text report is perf diff's (baseline\n"
	    "                          share and its change per symbol, largest change\n"
	    "                          first); --collapsed writes 'STACK BASE NEW' lines\n"
	    "                          (flamegraph.pl's differential input), the baseline\n"
	    "                          scaled to the new total; --format svg colours the new\n"
	    "                          flame graph by change (red grew, blue shrank). The\n"
	    "                          python and mixed views match frames by function and\n"
	    "                          file, so runs whose addresses moved compare\n"
	    "      --diff-absolute     counts of samples, not shares of each side's total\n"
	    "\n"
	    "Report (as perf report):\n"
	    "      --tui               browse the report (the default on a terminal without\n"
	    "                          --format or -o): keys as perf report's browser, h lists\n"
	    "                          them; needs a terminal of 40x8 at least. Exit status\n"
	    "                          0 after q, 1 without a terminal or with one too small,\n"
	    "                          128+N after signal N (129 also: the terminal lost)\n"
	    "      --stdio             print the report (the default into a pipe or a file)\n"
	    "      --dsos NAME[,..]    only entries of these DSOs (short names, as shown)\n"
	    "      --symbol-filter RE  only entries whose symbol matches the POSIX extended\n"
	    "                          regular expression RE (percentages stay shares of\n"
	    "                          the whole event)\n"
	    "      --hierarchy         nested report, one level per sort key (--format hierarchy)\n"
	    "  -s, --sort KEYS         comm,pid,tid,dso,sym,sample (default comm,dso,sym)\n"
	    "  -F, --fields FIELDS     overhead,children,sample,period,comm,pid,tid,dso,sym\n"
	    "  -n, --show-nr-samples   add a Samples column\n"
	    "      --children          show Children and Self (default)\n"
	    "      --no-children       show Self only\n"
	    "  -g, --call-graph MODE   graph|fractal|flat|folded|none[,MIN%%][,caller|callee]\n"
	    "  -G, --inverted          caller order (same as -g caller)\n"
	    "\n"
	    "Folded stacks (stackcollapse-perf.pl format), flame graphs:\n"
	    "      --collapsed         one 'comm;outer;...;leaf count' line per stack\n"
	    "                          (--format collapsed)\n"
	    "      --kernel            mark kernel frames with _[k]\n"
	    "      --jit               mark perf-map (JIT) frames with _[j]\n"
	    "      --addrs             show addresses of unknown frames\n"
	    "      --show-pid          prefix stacks with comm-pid\n"
	    "      --show-tid          prefix stacks with comm-pid/tid\n"
	    "      --weight period     count periods instead of samples (also svg,\n"
	    "                          speedscope; perf-script input: the script's period\n"
	    "                          weights by default, --weight samples counts samples)\n"
	    "      --icicle            svg: callers at the top\n"
	    "      --minwidth PX       svg: leave out frames narrower than PX pixels (0.1)\n"
	    "      --width PX          svg: image width (1200)\n"
	    "      --title TEXT        svg: title\n"
	    "      --no-time-order     svg: no timeline (by default a heat map of samples\n"
	    "                          over time per thread name sits above the flame graph:\n"
	    "                          drag over it, or open file.svg?t=START,STOP (seconds\n"
	    "                          from the first sample), to redraw the flame graph for\n"
	    "                          that range); speedscope: one sample per distinct\n"
	    "                          stack (smaller) instead of the samples in time order\n"
	    "\n"
	    "Messages:\n"
	    "  -q, --quiet             no warnings or progress\n"
	    "      --stats             print what was read and resolved to stderr\n"
	    "  -h, --help              this text\n"
	    "      --version           print the version\n",
	    prog);
}

enum {
	OPT_SYMFS = 256,
	OPT_KALLSYMS,
	OPT_SYMBOL_CACHE,
	OPT_NO_SYMBOL_CACHE,
	OPT_MAX_STACK,
	OPT_NO_INLINE,
	OPT_PID,
	OPT_TID,
	OPT_COMM,
	OPT_PERCENT_LIMIT,
	OPT_STDIO,
	OPT_HIERARCHY,
	OPT_CHILDREN,
	OPT_NO_CHILDREN,
	OPT_COLLAPSED,
	OPT_KERNEL,
	OPT_JIT,
	OPT_ADDRS,
	OPT_SHOW_PID,
	OPT_SHOW_TID,
	OPT_WEIGHT,
	OPT_STATS,
	OPT_VIEW,
	OPT_NATIVE_LEAF,
	OPT_NO_TRUNCATED_ROOT,
	OPT_FULL_PATH,
	OPT_VERSION,
	OPT_FORMAT,
	OPT_INPUT_FORMAT,
	OPT_ICICLE,
	OPT_MINWIDTH,
	OPT_WIDTH,
	OPT_TITLE,
	OPT_TIME,
	OPT_RELTIME,
	OPT_NS,
	OPT_BASELINE,
	OPT_DIFF_ABSOLUTE,
	OPT_NO_TIME_ORDER,
	OPT_TUI,
	OPT_DSOS,
	OPT_SYMBOL_FILTER,
};

static const struct option long_opts[] = {
    {"input", required_argument, NULL, 'i'},
    {"force", no_argument, NULL, 'f'},
    {"symfs", required_argument, NULL, OPT_SYMFS},
    {"kallsyms", required_argument, NULL, OPT_KALLSYMS},
    {"symbol-cache", required_argument, NULL, OPT_SYMBOL_CACHE},
    {"no-symbol-cache", no_argument, NULL, OPT_NO_SYMBOL_CACHE},
    {"max-stack", required_argument, NULL, OPT_MAX_STACK},
    {"no-inline", no_argument, NULL, OPT_NO_INLINE},
    {"pid", required_argument, NULL, OPT_PID},
    {"tid", required_argument, NULL, OPT_TID},
    {"comm", required_argument, NULL, OPT_COMM},
    {"time", required_argument, NULL, OPT_TIME},
    {"reltime", no_argument, NULL, OPT_RELTIME},
    {"ns", no_argument, NULL, OPT_NS},
    {"baseline", required_argument, NULL, OPT_BASELINE},
    {"diff-absolute", no_argument, NULL, OPT_DIFF_ABSOLUTE},
    {"no-time-order", no_argument, NULL, OPT_NO_TIME_ORDER},
    {"percent-limit", required_argument, NULL, OPT_PERCENT_LIMIT},
    {"stdio", no_argument, NULL, OPT_STDIO},
    {"tui", no_argument, NULL, OPT_TUI},
    {"dsos", required_argument, NULL, OPT_DSOS},
    {"symbol-filter", required_argument, NULL, OPT_SYMBOL_FILTER},
    {"hierarchy", no_argument, NULL, OPT_HIERARCHY},
    {"sort", required_argument, NULL, 's'},
    {"fields", required_argument, NULL, 'F'},
    {"show-nr-samples", no_argument, NULL, 'n'},
    {"children", no_argument, NULL, OPT_CHILDREN},
    {"no-children", no_argument, NULL, OPT_NO_CHILDREN},
    {"call-graph", required_argument, NULL, 'g'},
    {"inverted", no_argument, NULL, 'G'},
    {"collapsed", no_argument, NULL, OPT_COLLAPSED},
    {"kernel", no_argument, NULL, OPT_KERNEL},
    {"jit", no_argument, NULL, OPT_JIT},
    {"addrs", no_argument, NULL, OPT_ADDRS},
    {"show-pid", no_argument, NULL, OPT_SHOW_PID},
    {"show-tid", no_argument, NULL, OPT_SHOW_TID},
    {"weight", required_argument, NULL, OPT_WEIGHT},
    {"stats", no_argument, NULL, OPT_STATS},
    {"view", required_argument, NULL, OPT_VIEW},
    {"native-leaf", no_argument, NULL, OPT_NATIVE_LEAF},
    {"no-truncated-root", no_argument, NULL, OPT_NO_TRUNCATED_ROOT},
    {"full-path", no_argument, NULL, OPT_FULL_PATH},
    {"format", required_argument, NULL, OPT_FORMAT},
    {"input-format", required_argument, NULL, OPT_INPUT_FORMAT},
    {"icicle", no_argument, NULL, OPT_ICICLE},
    {"minwidth", required_argument, NULL, OPT_MINWIDTH},
    {"width", required_argument, NULL, OPT_WIDTH},
    {"title", required_argument, NULL, OPT_TITLE},
    {"output", required_argument, NULL, 'o'},
    {"quiet", no_argument, NULL, 'q'},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, OPT_VERSION},
    {NULL, 0, NULL, 0},
};

static int bad_usage(const char *fmt, const char *arg)
{
	fprintf(stderr, "%s: ", prog);
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\nTry '%s --help'.\n", prog);
	return EXIT_USAGE;
}

/* "1,2,3" -> ints; returns the count or -1. */
static int parse_ints(const char *s, int32_t **out)
{
	int n = 0;
	const char *p = s;
	int32_t *v = NULL;

	while (*p) {
		char *end;
		long x = strtol(p, &end, 10);
		int32_t *nv;

		if (end == p || (*end && *end != ',') || x < 0 || x > INT32_MAX) {
			free(v);
			return -1;
		}
		nv = realloc(v, (n + 1) * sizeof(*v));
		if (!nv) {
			free(v);
			return -1;
		}
		v = nv;
		v[n++] = (int32_t)x;
		p = *end ? end + 1 : end;
	}
	*out = v;
	return n;
}

static int parse_strs(char *s, const char ***out)
{
	int n = 0;
	const char **v = NULL;

	for (char *tok = strtok(s, ","); tok; tok = strtok(NULL, ",")) {
		const char **nv = realloc(v, (n + 1) * sizeof(*v));

		if (!nv) {
			free(v);
			return -1;
		}
		v = nv;
		v[n++] = tok;
	}
	*out = v;
	return n;
}

/* perf's -g syntax: mode[,min_percent][,order], any subset, in any order. */
static int parse_call_graph(char *s, struct pyperf_report_opts *o)
{
	for (char *tok = strtok(s, ","); tok; tok = strtok(NULL, ",")) {
		char *end;
		double pct;

		if (!strcmp(tok, "graph"))
			o->callchain = PYPERF_CALLCHAIN_GRAPH;
		else if (!strcmp(tok, "fractal"))
			o->callchain = PYPERF_CALLCHAIN_FRACTAL;
		else if (!strcmp(tok, "flat"))
			o->callchain = PYPERF_CALLCHAIN_FLAT;
		else if (!strcmp(tok, "folded"))
			o->callchain = PYPERF_CALLCHAIN_FOLDED;
		else if (!strcmp(tok, "none"))
			o->callchain = PYPERF_CALLCHAIN_NONE;
		else if (!strcmp(tok, "caller"))
			o->order = PYPERF_ORDER_CALLER;
		else if (!strcmp(tok, "callee"))
			o->order = PYPERF_ORDER_CALLEE;
		else if ((pct = strtod(tok, &end)), end != tok && !*end && pct >= 0 && pct <= 100) {
			o->callchain_min_percent = pct;
			o->callchain_min_percent_set = true;
		} else
			return -1;
	}
	return 0;
}

/* A comma-separated list of names: *@copy holds them, *@list points into
 * it (an earlier list replaced). Returns the count or -1. */
static int name_list(const char *arg, char **copy, const char ***list)
{
	free(*copy);
	free(*list);
	*list = NULL;
	*copy = strdup(arg);
	return *copy ? parse_strs(*copy, list) : -1;
}

/* Progress on stderr when reading takes over a second and stderr is a tty. */
struct progress {
	struct timespec start;
	bool enabled, shown;
	const char *name;
	int last_pct;
};

static double elapsed(const struct timespec *t0)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t0->tv_sec) + (double)(now.tv_nsec - t0->tv_nsec) / 1e9;
}

static void on_progress(void *ctx, uint64_t done, uint64_t total)
{
	struct progress *p = ctx;
	int pct;

	if (!p->enabled || !total)
		return;
	if (!p->shown && elapsed(&p->start) < 1.0)
		return;
	pct = (int)(done * 100 / total);
	if (pct == p->last_pct)
		return;
	p->last_pct = pct;
	p->shown = true;
	fprintf(stderr, "\r%s: reading %s: %3d%%", prog, p->name, pct);
	fflush(stderr);
}

static void progress_done(struct progress *p)
{
	if (p->shown)
		fprintf(stderr, "\r%*s\r", 60, "");
	p->shown = false;
}

static void print_stats(struct pyperf_profile *prof)
{
	const struct pyperf_profile_stats *st = pyperf_profile__stats(prof);
	const struct pyperf_unwind_stats *u = pyperf_profile__unwind_stats(prof);
	const struct pyperf_symbols_stats *ss =
	    pyperf_symbols__stats(pyperf_profile__symbols(prof));

	fprintf(stderr,
		"%s: %" PRIu64 " files, %" PRIu64 " samples (%" PRIu64 " filtered out), %" PRIu64
		" lost; %" PRIu64 " processes, %" PRIu64 " threads\n",
		prog, st->files, st->samples, st->samples_filtered, st->lost_samples, st->processes,
		st->threads);
	fprintf(stderr,
		"%s: %zu distinct frames, %zu tree nodes; %" PRIu64
		" unresolved frame hits; %" PRIu64 " chains cut or corrupt\n",
		prog, pyperf_profile__nr_frames(prof), pyperf_profile__nr_nodes(prof),
		st->unresolved_frames, st->truncated_callchains);
	fprintf(stderr,
		"%s: symbols from %" PRIu64 " objects, %" PRIu64 " without; %" PRIu64
		" perf maps refused, %" PRIu64 " bad perf-map lines; %" PRIu64
		" tables from the symbol cache, %" PRIu64 " saved to it\n",
		prog, ss->dsos_loaded, ss->dsos_without_symbols, ss->perf_maps_refused,
		ss->perf_map_bad_lines, ss->tables_mapped, ss->tables_saved);
	if (st->unwound_samples) {
		fprintf(
		    stderr,
		    "%s: %" PRIu64 " stacks unwound (%" PRIu64 " frames, %" PRIu64
		    " through JIT code, %" PRIu64 " through a file's code without CFI); ended by:",
		    prog, st->unwound_samples, u->frames, u->trampoline_frames, u->fallback_frames);
		for (int i = 0; i < PYPERF_UNWIND_NR_STOPS; i++)
			if (u->stops[i])
				fprintf(stderr, " %s %" PRIu64, pyperf_unwind_stop__name(i),
					u->stops[i]);
		fputc('\n', stderr);
	}
	fprintf(stderr, "%s: %" PRIu64 " stacks cut short, shown under [truncated]", prog,
		st->truncated_stacks);
	for (int c = PYPERF_CUT_NONE + 1, first = 1; c < PYPERF_CUT_NR; c++) {
		if (!st->stacks_cut[c])
			continue;
		fprintf(stderr, "%s %s %" PRIu64, first ? ":" : ",", pyperf_stack_cut__name(c),
			st->stacks_cut[c]);
		first = 0;
	}
	fputc('\n', stderr);
	if (st->malformed_records || st->unknown_records || st->out_of_order)
		fprintf(stderr,
			"%s: %" PRIu64 " malformed and %" PRIu64
			" unknown records skipped, %" PRIu64 " out of order\n",
			prog, st->malformed_records, st->unknown_records, st->out_of_order);
}

/*
 * --input-format perf-script: `perf script` text folded as
 * stackcollapse-perf.pl would, without building a profile.
 */
static int fold_perf_script(const char **inputs, int nr_inputs, const char *output,
			    enum pyperf_format format, const struct pyperf_collapsed_opts *copts,
			    bool weight_set)
{
	PYPERF_OPTS(pyperf_perf_script_opts, o, .pid = copts->pid, .tid = copts->tid,
		    .annotate_kernel = copts->annotate_kernel, .annotate_jit = copts->annotate_jit,
		    .addrs = copts->addrs, .count_samples = weight_set && !copts->period);
	const char *name = nr_inputs ? inputs[0] : "-";
	struct pyperf_error err;
	FILE *in, *out = stdout;
	char msg[700];
	int ret, status = 0;

	if (format != PYPERF_FORMAT_COLLAPSED)
		return bad_usage("perf script input is folded into collapsed stacks only, not %s",
				 pyperf_format__name(format));
	if (nr_inputs > 1)
		return bad_usage("perf script input comes from one file, not several (%s...)",
				 inputs[1]);
	in = strcmp(name, "-") ? fopen(name, "r") : stdin;
	if (!in) {
		fprintf(stderr, "%s: cannot read %s: %s\n", prog, name, strerror(errno));
		return EXIT_INPUT;
	}
	if (output && !(out = fopen(output, "w"))) {
		fprintf(stderr, "%s: cannot write %s: %s\n", prog, output, strerror(errno));
		if (in != stdin)
			fclose(in);
		return EXIT_USAGE;
	}
	ret = pyperf_perf_script__collapse(in, strcmp(name, "-") ? name : "<stdin>", out, &o, &err);
	if (ret) {
		pyperf_error__format(&err, msg, sizeof(msg));
		fprintf(stderr, "%s: %s\n", prog, msg);
		if (ret == -EBADMSG)
			fprintf(stderr, "%s: skipped those lines, as stackcollapse-perf.pl does\n",
				prog);
		status = EXIT_INPUT;
	}
	if (in != stdin)
		fclose(in);
	if (out != stdout && fclose(out) && !ret) {
		fprintf(stderr, "%s: cannot write %s: %s\n", prog, output, strerror(errno));
		status = EXIT_INPUT;
	}
	return status;
}

/*
 * Why a report may look flat: a recording without call chains, or Python
 * programs that named no function for perf.
 */
/* Reads @inputs into @prof, saying what went wrong. Return: 0, or -1 when
 * a file could not be read in full. */
static int load(struct pyperf_profile *prof, const char **inputs, int nr_inputs,
		struct progress *prog_state)
{
	int status = 0;

	for (int i = 0; i < nr_inputs; i++) {
		struct pyperf_error err;
		char msg[700];
		int ret;

		clock_gettime(CLOCK_MONOTONIC, &prog_state->start);
		prog_state->name = inputs[i];
		prog_state->last_pct = -1;
		ret = pyperf_profile__add_file(prof, inputs[i], &err);
		progress_done(prog_state);
		if (ret) {
			pyperf_error__format(&err, msg, sizeof(msg));
			fprintf(stderr, "%s: %s\n", prog, msg);
			if (ret == -ENOENT && !strcmp(inputs[i], "perf.data"))
				fprintf(stderr,
					"%s: record a profile first: pyperf-record -- COMMAND "
					"(or pass -i FILE)\n",
					prog);
			else if (ret == -EBADMSG)
				fprintf(stderr,
					"%s: reporting the samples read before the damage\n", prog);
			status = -1;
		}
	}
	return status;
}

/* The longest event name of the inputs: perf script's column width. */
static unsigned event_name_width(const char **inputs, int nr_inputs)
{
	size_t width = 0;

	for (int i = 0; i < nr_inputs; i++) {
		struct pyperf_data *d = pyperf_data__open(inputs[i], NULL, NULL);

		for (size_t a = 0; d && a < pyperf_data__nr_attrs(d); a++) {
			const char *name = pyperf_data__attr(d, a)->name;

			if (name && strlen(name) > width)
				width = strlen(name);
		}
		pyperf_data__close(d); /* (unreadable: said when it is read) */
	}
	return (unsigned)width;
}

/* The span of every input's samples, for --time's shares and --reltime. */
static int sample_time_bounds(const char **inputs, int nr_inputs, uint64_t *first, uint64_t *last)
{
	*first = *last = 0;
	for (int i = 0; i < nr_inputs; i++) {
		struct pyperf_error err;
		struct pyperf_data *d = pyperf_data__open(inputs[i], NULL, &err);
		uint64_t a = 0, b = 0;
		char msg[700];

		if (!d || pyperf_data__sample_time_bounds(d, &a, &b, &err)) {
			pyperf_error__format(&err, msg, sizeof(msg));
			fprintf(stderr, "%s: %s\n", prog, msg);
			pyperf_data__close(d);
			return -1;
		}
		pyperf_data__close(d);
		if (a && (!*first || a < *first))
			*first = a;
		if (b > *last)
			*last = b;
	}
	return 0;
}

static void explain_missing_frames(const struct pyperf_profile_stats *st, enum pyperf_view view)
{
	if (!st->samples)
		return;
	if (st->samples_no_callchain == st->samples)
		fprintf(stderr,
			"%s: note: the recording has no call chains (recorded without -g): each "
			"sample is its own frame alone, so there is no Children column and no call "
			"graph%s; record with pyperf-record -g (or perf record -g)\n",
			prog,
			view == PYPERF_VIEW_NATIVE
			    ? ""
			    : ", and Python frames appear only where a sample "
			      "hit Python code directly");
	else if (view != PYPERF_VIEW_NATIVE && !st->samples_python)
		fprintf(stderr,
			"%s: note: no Python frames in the %" PRIu64
			" samples: no process named its Python functions for perf. Record with "
			"pyperf-record -- python3 ..., or start Python 3.12+ with -X perf "
			"(PYTHONPERFSUPPORT=1) and 3.8-3.11 with -m perf_trampoline (see the "
			"README)\n",
			prog, st->samples);
}

/* perf report keeps the outermost frames of a long chain when it orders
 * call graphs from the callers (the default with Children) */
static bool keeps_outer_frames(enum pyperf_format format, const struct pyperf_report_opts *ro)
{
	return format == PYPERF_FORMAT_TREE &&
	       (ro->order == PYPERF_ORDER_CALLER ||
		(ro->order == PYPERF_ORDER_DEFAULT && !ro->no_children));
}

/* The browser reads the recording again (another view, weight, zoom):
 * quietly, as the screen is its own. */
struct reload_ctx {
	const char **inputs;
	int nr_inputs;
	struct pyperf_symbols *syms;
};

static struct pyperf_profile *reload(void *ctx, const struct pyperf_profile_opts *popts,
				     const struct pyperf_report_opts *ropts)
{
	struct reload_ctx *rc = ctx;
	PYPERF_OPTS(pyperf_profile_opts, po);
	struct pyperf_profile *p;
	pyperf_print_fn_t old = pyperf_set_print(NULL);

	memcpy(&po, popts, sizeof(po));
	po.max_stack_outer = keeps_outer_frames(
	    ropts->hierarchy ? PYPERF_FORMAT_HIERARCHY : PYPERF_FORMAT_TREE, ropts);
	p = pyperf_profile__new(rc->syms, &po);

	for (int i = 0; p && i < rc->nr_inputs; i++) {
		struct pyperf_error err;

		/* what failed was said when the files were first read */
		pyperf_profile__add_file(p, rc->inputs[i], &err);
	}
	pyperf_set_print(old);
	if (p && !pyperf_profile__stats(p)->files) {
		pyperf_profile__free(p);
		p = NULL;
	}
	return p;
}

/* Leaves main through its single clean-up path. */
#define FAIL(code)                                                                                 \
	do {                                                                                       \
		status = (code);                                                                   \
		goto out;                                                                          \
	} while (0)

int main(int argc, char **argv)
{
	PYPERF_OPTS(pyperf_symbols_opts, sopts);
	PYPERF_OPTS(pyperf_profile_opts, popts);
	PYPERF_OPTS(pyperf_report_opts, ropts);
	PYPERF_OPTS(pyperf_collapsed_opts, copts);
	PYPERF_OPTS(pyperf_svg_opts, svgopts);
	PYPERF_OPTS(pyperf_speedscope_opts, ssopts);
	PYPERF_OPTS(pyperf_pprof_opts, ppopts);
	PYPERF_OPTS(pyperf_json_opts, jopts);
	enum pyperf_format format = PYPERF_FORMAT_TREE;
	bool perf_script_input = false, weight_set = false, format_set = false;
	bool tui = false, stdio = false, hierarchy = false;
	const char **dsos = NULL;
	char *dso_arg = NULL;
	enum pyperf_sort_key keys[8];
	enum pyperf_field fields[16];
	const char **inputs = NULL;
	int nr_inputs = 0, c, status = 0;
	bool quiet = false, children_set = false, stats = false;
	const char *output = NULL;
	struct pyperf_symbols *syms = NULL;
	struct pyperf_profile *prof = NULL;
	struct progress prog_state = {0};
	FILE *out = stdout;
	int32_t *pids = NULL, *tids = NULL;
	const char **comms = NULL;
	char *comm_arg = NULL;
	const char *time_arg = NULL;
	bool reltime = false, script_ns = false, no_time_order = false;
	PYPERF_OPTS(pyperf_diff_opts, dopts);
	const char **base_inputs = NULL;
	int nr_base = 0;
	struct pyperf_profile *base = NULL;
	struct pyperf_script *script = NULL;
	struct pyperf_time_range *ranges = NULL;
	uint64_t first_time = 0, last_time = 0;
	int ret;

	while ((c = getopt_long(argc, argv, "i:fs:F:ng:Go:qh", long_opts, NULL)) != -1) {
		switch (c) {
		case 'i': {
			const char **n = realloc(inputs, (nr_inputs + 1) * sizeof(*inputs));

			if (!n)
				FAIL(EXIT_INPUT);
			inputs = n;
			inputs[nr_inputs++] = optarg;
			break;
		}
		case 'f':
			sopts.force = true;
			popts.force = true;
			break;
		case OPT_SYMFS:
			sopts.symfs = optarg;
			break;
		case OPT_SYMBOL_CACHE:
			sopts.table_cache = optarg;
			break;
		case OPT_NO_SYMBOL_CACHE:
			sopts.table_cache = "";
			break;
		case OPT_KALLSYMS:
			sopts.kallsyms = optarg;
			break;
		case OPT_NO_INLINE:
			popts.no_inline = true;
			break;
		case OPT_MAX_STACK: {
			char *end;
			long v = strtol(optarg, &end, 10);

			if (end == optarg || *end || v < 1 || v > 65535)
				FAIL(bad_usage(
				    "--max-stack wants a number from 1 to 65535, not '%s'",
				    optarg));
			popts.max_stack = (unsigned)v;
			break;
		}
		case OPT_TIME:
			time_arg = optarg;
			break;
		case OPT_RELTIME:
			reltime = true;
			break;
		case OPT_NS:
			script_ns = true;
			break;
		case OPT_BASELINE: {
			const char **n = realloc(base_inputs, (nr_base + 1) * sizeof(*base_inputs));

			if (!n)
				FAIL(EXIT_INPUT);
			base_inputs = n;
			base_inputs[nr_base++] = optarg;
			break;
		}
		case OPT_DIFF_ABSOLUTE:
			dopts.absolute = true;
			break;
		case OPT_NO_TIME_ORDER:
			no_time_order = true;
			break;
		case OPT_PID: {
			int n = parse_ints(optarg, &pids);

			if (n <= 0)
				FAIL(bad_usage(
				    "--pid wants a comma-separated list of numbers, not '%s'",
				    optarg));
			popts.pids = pids;
			popts.nr_pids = (size_t)n;
			break;
		}
		case OPT_TID: {
			int n = parse_ints(optarg, &tids);

			if (n <= 0)
				FAIL(bad_usage(
				    "--tid wants a comma-separated list of numbers, not '%s'",
				    optarg));
			popts.tids = tids;
			popts.nr_tids = (size_t)n;
			break;
		}
		case OPT_COMM: {
			int n = name_list(optarg, &comm_arg, &comms);

			if (n <= 0)
				FAIL(bad_usage(
				    "--comm wants a comma-separated list of names, not '%s'",
				    optarg));
			popts.comms = comms;
			popts.nr_comms = (size_t)n;
			break;
		}
		case OPT_PERCENT_LIMIT: {
			char *end;
			double v = strtod(optarg, &end);

			if (end == optarg || *end || v < 0 || v > 100)
				FAIL(bad_usage("--percent-limit wants a percentage, not '%s'",
					       optarg));
			ropts.percent_limit = v;
			/* As in perf, the limit prunes call-graph branches too,
			 * unless a later -g MODE,MIN says otherwise. */
			ropts.callchain_min_percent = v;
			ropts.callchain_min_percent_set = true;
			break;
		}
		case OPT_STDIO:
			stdio = true;
			break;
		case OPT_TUI:
			tui = true;
			break;
		case OPT_DSOS: {
			int n = name_list(optarg, &dso_arg, &dsos);

			if (n <= 0)
				FAIL(bad_usage(
				    "--dsos wants a comma-separated list of names, not '%s'",
				    optarg));
			ropts.dsos = dsos;
			ropts.nr_dsos = (size_t)n;
			break;
		}
		case OPT_SYMBOL_FILTER: {
			regex_t re;
			int err = regcomp(&re, optarg, REG_EXTENDED | REG_NOSUB);

			if (err) {
				char why[128], msg[512];

				regerror(err, &re, why, sizeof(why));
				snprintf(msg, sizeof(msg), "--symbol-filter '%s': %s", optarg, why);
				FAIL(bad_usage("%s (a POSIX extended regular expression)", msg));
			}
			regfree(&re);
			ropts.symbol_regex = optarg;
			break;
		}
		case OPT_HIERARCHY:
			/* the report's layout, in the browser as printed */
			format = PYPERF_FORMAT_HIERARCHY;
			hierarchy = true;
			break;
		case OPT_FORMAT:
			ret = pyperf_format__parse(optarg);
			if (ret < 0)
				FAIL(bad_usage("--format wants tree, hierarchy, collapsed, svg, "
					       "speedscope, pprof or json, not '%s'",
					       optarg));
			format = (enum pyperf_format)ret;
			format_set = true;
			break;
		case OPT_INPUT_FORMAT:
			if (!strcmp(optarg, "perf-script"))
				perf_script_input = true;
			else if (!strcmp(optarg, "perf-data"))
				perf_script_input = false;
			else
				FAIL(bad_usage(
				    "--input-format wants perf-data or perf-script, not '%s'",
				    optarg));
			break;
		case OPT_ICICLE:
			svgopts.icicle = true;
			break;
		case OPT_MINWIDTH: {
			char *end;
			double v = strtod(optarg, &end);

			if (end == optarg || *end || !(v > 0 && v < 1e6))
				FAIL(bad_usage(
				    "--minwidth wants a positive number of pixels, not '%s'",
				    optarg));
			svgopts.min_width = v;
			break;
		}
		case OPT_WIDTH: {
			char *end;
			long v = strtol(optarg, &end, 10);

			if (end == optarg || *end || v < 100 || v > 100000)
				FAIL(bad_usage("--width wants pixels from 100 to 100000, not '%s'",
					       optarg));
			svgopts.width = (unsigned)v;
			break;
		}
		case OPT_TITLE:
			svgopts.title = optarg;
			break;
		case 's': {
			int n = pyperf_sort_key__parse(optarg, keys, 8);

			if (n <= 0)
				FAIL(bad_usage(
				    "unknown sort key in '%s' (keys: comm, pid, tid, dso, "
				    "sym, sample)",
				    optarg));
			ropts.sort = keys;
			ropts.nr_sort = (size_t)n;
			break;
		}
		case 'F': {
			int n = pyperf_field__parse(optarg, fields, 16);

			if (n <= 0)
				FAIL(bad_usage("unknown field in '%s' (fields: overhead, children, "
					       "sample, period, comm, pid, tid, dso, sym)",
					       optarg));
			ropts.fields = fields;
			ropts.nr_fields = (size_t)n;
			break;
		}
		case 'n':
			ropts.show_nr_samples = true;
			break;
		case OPT_CHILDREN:
			ropts.no_children = false;
			children_set = true;
			break;
		case OPT_NO_CHILDREN:
			ropts.no_children = true;
			children_set = true;
			break;
		case 'g': {
			char *copy = strdup(optarg);
			int bad = !copy || parse_call_graph(copy, &ropts);

			free(copy);
			if (bad)
				FAIL(bad_usage(
				    "bad --call-graph '%s' (want graph|fractal|flat|folded|"
				    "none, a minimum percent, caller|callee)",
				    optarg));
			break;
		}
		case 'G':
			ropts.order = PYPERF_ORDER_CALLER;
			break;
		case OPT_COLLAPSED:
			format = PYPERF_FORMAT_COLLAPSED;
			format_set = true;
			break;
		case OPT_KERNEL:
			copts.annotate_kernel = true;
			break;
		case OPT_JIT:
			copts.annotate_jit = true;
			break;
		case OPT_ADDRS:
			copts.addrs = true;
			break;
		case OPT_SHOW_PID:
			copts.pid = true;
			break;
		case OPT_SHOW_TID:
			copts.tid = true;
			break;
		case OPT_WEIGHT:
			if (!strcmp(optarg, "period"))
				copts.period = true;
			else if (!strcmp(optarg, "samples"))
				copts.period = false;
			else if (pyperf_weight__parse(optarg, &popts.weight))
				FAIL(bad_usage(
				    "--weight wants cpu, off-cpu, wall, events, samples or "
				    "period, not '%s'",
				    optarg));
			weight_set = true;
			break;
		case OPT_STATS:
			stats = true;
			break;
		case OPT_VIEW:
			if (pyperf_view__parse(optarg, &popts.view))
				FAIL(bad_usage("--view wants python, mixed or native, not '%s'",
					       optarg));
			break;
		case OPT_NO_TRUNCATED_ROOT:
			popts.no_truncated_root = true;
			break;
		case OPT_NATIVE_LEAF:
			popts.native_leaf = true;
			break;
		case OPT_FULL_PATH:
			popts.full_path = true;
			break;
		case 'o':
			output = optarg;
			break;
		case 'q':
			quiet = true;
			break;
		case 'h':
			usage(stdout);
			FAIL(0);
		case OPT_VERSION:
			printf("pyperf-report %s\n", pyperf_version());
			FAIL(0);
		default:
			fprintf(stderr, "Try '%s --help'.\n", prog);
			FAIL(EXIT_USAGE);
		}
	}
	if (optind < argc)
		FAIL(bad_usage("unexpected argument '%s' (input files go after -i)", argv[optind]));
	(void)children_set;
	/* perf script text folds into one thing: collapsed stacks */
	if (perf_script_input && !format_set && !hierarchy)
		format = PYPERF_FORMAT_COLLAPSED;
	ropts.hierarchy = format == PYPERF_FORMAT_HIERARCHY;
	popts.max_stack_outer = keeps_outer_frames(format, &ropts);
	/* The browser: asked for, or a terminal and nothing else asked for
	 * (perf report's rule); an output format, a file or --stdio print. */
	if (tui && (stdio || format_set || output || nr_base || perf_script_input))
		FAIL(bad_usage("--tui browses the report: not with --stdio, --format, --collapsed, "
			       "-o, --baseline or --input-format%s",
			       ""));
	if (!tui && !stdio && !format_set && !output && !nr_base && !perf_script_input &&
	    isatty(STDOUT_FILENO) && isatty(STDIN_FILENO))
		tui = true;
	if (tui && (!isatty(STDOUT_FILENO) || !isatty(STDIN_FILENO))) {
		fprintf(stderr,
			"%s: --tui needs a terminal (standard input and output); --stdio prints "
			"the report\n",
			prog);
		FAIL(EXIT_USAGE);
	}

	/* One limit and one weight for every format. */
	copts.percent_limit = svgopts.percent_limit = ssopts.percent_limit = ppopts.percent_limit =
	    jopts.percent_limit = ropts.percent_limit;
	svgopts.period = ssopts.period = copts.period;
	/* Time-weighed profiles: widths in time, not in counts of intervals. */
	if (popts.weight == PYPERF_WEIGHT_OFF_CPU || popts.weight == PYPERF_WEIGHT_WALL)
		svgopts.period = ssopts.period = true;
	svgopts.pid = copts.pid;
	svgopts.tid = copts.tid;
	/* Binary data on a terminal helps nobody and may upset it. */
	if (pyperf_format__is_binary(format) && !output && isatty(STDOUT_FILENO))
		FAIL(bad_usage("--format %s writes binary data: use -o FILE or a pipe",
			       pyperf_format__name(format)));
	if (nr_base && format != PYPERF_FORMAT_TREE && format != PYPERF_FORMAT_HIERARCHY &&
	    format != PYPERF_FORMAT_COLLAPSED && format != PYPERF_FORMAT_SVG)
		FAIL(bad_usage(
		    "--baseline compares in the text report, --collapsed or --format svg, "
		    "not --format %s",
		    pyperf_format__name(format)));
	if (format == PYPERF_FORMAT_SCRIPT &&
	    (popts.weight == PYPERF_WEIGHT_OFF_CPU || popts.weight == PYPERF_WEIGHT_WALL))
		FAIL(bad_usage(
		    "--format script lists samples; --weight %s weighs intervals off CPU, "
		    "which it cannot list",
		    popts.weight == PYPERF_WEIGHT_WALL ? "wall" : "off-cpu"));
	if (nr_base && (time_arg || perf_script_input))
		FAIL(bad_usage("--baseline takes perf.data files without --time%s", ""));
	if (dopts.absolute && !nr_base)
		FAIL(bad_usage("--diff-absolute goes with --baseline%s", ""));
	if (perf_script_input && time_arg)
		FAIL(bad_usage("--time needs perf.data input (perf script --time %s ... filters "
			       "the text)",
			       time_arg));
	if (perf_script_input) {
		status = fold_perf_script(inputs, nr_inputs, output, format, &copts, weight_set);
		goto out;
	}
	if (!nr_inputs) {
		inputs = malloc(sizeof(*inputs));
		if (!inputs)
			FAIL(EXIT_INPUT);
		inputs[nr_inputs++] = "perf.data";
	}
	if (quiet)
		pyperf_set_print(NULL);
	if (reltime && !time_arg && format != PYPERF_FORMAT_SCRIPT)
		FAIL(bad_usage("--reltime goes with --time or --format script%s", ""));
	if (script_ns && format != PYPERF_FORMAT_SCRIPT)
		FAIL(bad_usage("--ns goes with --format script%s", ""));
	if (time_arg) {
		struct pyperf_error err;
		size_t nr = 0;

		/* shares and relative times need the recordings' span first */
		if ((strchr(time_arg, '%') || reltime) &&
		    sample_time_bounds(inputs, nr_inputs, &first_time, &last_time))
			FAIL(EXIT_INPUT);
		ranges =
		    pyperf_time_range__parse(time_arg, first_time, last_time, reltime, &nr, &err);
		if (!ranges && errno == EINVAL) {
			fprintf(stderr, "%s: --time '%s': %s (at offset %" PRIu64 ")\n", prog,
				time_arg, err.text, err.offset);
			FAIL(EXIT_USAGE);
		}
		if (!ranges) {
			fprintf(stderr, "%s: out of memory\n", prog);
			FAIL(EXIT_INPUT);
		}
		ropts.time_slices = time_arg;
		popts.time_ranges = ranges;
		popts.nr_time_ranges = nr;
	}

	if (format == PYPERF_FORMAT_SCRIPT) {
		PYPERF_OPTS(pyperf_script_opts, scopts, .reltime = reltime, .ns = script_ns,
			    .event_width = event_name_width(inputs, nr_inputs));

		/* written while the files are read: the output opens first */
		if (output && !(out = fopen(output, "w"))) {
			fprintf(stderr, "%s: cannot write %s: %s\n", prog, output, strerror(errno));
			FAIL(EXIT_USAGE);
		}
		script = pyperf_script__new(out, &scopts);
		if (!script) {
			fprintf(stderr, "%s: out of memory\n", prog);
			FAIL(EXIT_INPUT);
		}
		popts.sample_fn = pyperf_script__sample;
		popts.sample_ctx = script;
	}
	/* the order of samples, for speedscope's Time Order and the SVG's
	 * timeline */
	if (!no_time_order && !nr_base &&
	    (format == PYPERF_FORMAT_SPEEDSCOPE || format == PYPERF_FORMAT_SVG))
		popts.timeline = ssopts.time_order = svgopts.timeline = true;
	syms = pyperf_symbols__new(&sopts);
	popts.progress = on_progress;
	popts.progress_ctx = &prog_state;
	prof = syms ? pyperf_profile__new(syms, &popts) : NULL;
	if (!prof) {
		fprintf(stderr, "%s: out of memory\n", prog);
		FAIL(EXIT_INPUT);
	}
	prog_state.enabled = !quiet && isatty(STDERR_FILENO);
	if (load(prof, inputs, nr_inputs, &prog_state))
		status = EXIT_INPUT;
	if (!pyperf_profile__stats(prof)->files)
		FAIL(EXIT_INPUT);
	if (nr_base) {
		base = pyperf_profile__new(syms, &popts);
		if (!base) {
			fprintf(stderr, "%s: out of memory\n", prog);
			FAIL(EXIT_INPUT);
		}
		if (load(base, base_inputs, nr_base, &prog_state))
			status = EXIT_INPUT;
		if (!pyperf_profile__stats(base)->files)
			FAIL(EXIT_INPUT);
	}
	/* A filter that keeps nothing is a mistake, not an empty profile. */
	if ((popts.nr_pids || popts.nr_tids || popts.nr_comms) &&
	    !pyperf_profile__stats(prof)->samples) {
		fprintf(stderr,
			"%s: --pid/--tid/--comm match none of the %" PRIu64
			" samples; pyperf-report --sort comm,pid,tid -g none lists what the "
			"recording holds\n",
			prog, pyperf_profile__stats(prof)->samples_filtered);
		FAIL(EXIT_USAGE);
	}
	if (ranges && !pyperf_profile__stats(prof)->samples) {
		char span[128] = "";

		if (!first_time && !last_time)
			sample_time_bounds(inputs, nr_inputs, &first_time, &last_time);
		if (first_time || last_time) {
			struct pyperf_time_range all = {first_time, last_time};

			pyperf_time_range__format(&all, 1, span, sizeof(span));
		}
		fprintf(stderr, "%s: --time '%s' keeps none of the %" PRIu64 " samples%s%s%s\n",
			prog, time_arg, pyperf_profile__stats(prof)->samples_time_filtered,
			span[0] ? "; the recording spans " : "", span,
			span[0] && !reltime ? " (perf clock seconds, as perf script prints them; "
					      "--reltime counts from the first sample)"
					    : "");
		FAIL(EXIT_USAGE);
	}

	if (tui) {
		struct reload_ctx rc = {inputs, nr_inputs, syms};
		struct tui_report_args ta = {
		    .popts = popts,
		    .ropts = ropts,
		    .prof = &prof,
		    .load = reload,
		    .load_ctx = &rc,
		    .input = inputs[0],
		};
		int st;

		popts.progress = NULL;
		ta.popts.progress = NULL;
		st = tui_report_browse(&ta);
		if (st)
			status = st;
		ret = 0;
		goto report_done;
	}
	if (output && !script) {
		out = fopen(output, "w");
		if (!out) {
			fprintf(stderr, "%s: cannot write %s: %s\n", prog, output, strerror(errno));
			FAIL(EXIT_USAGE);
		}
	}
	switch (base ? -1 : (int)format) {
	case -1:
		if (format == PYPERF_FORMAT_COLLAPSED)
			ret = pyperf_diff__write_collapsed(base, prof, out, &copts, &dopts);
		else if (format == PYPERF_FORMAT_SVG) {
			svgopts.baseline = base;
			svgopts.diff_absolute = dopts.absolute;
			ret = pyperf_profile__write_svg(prof, out, &svgopts);
		} else
			ret = pyperf_diff__write_report(base, prof, out, &dopts);
		break;
	case PYPERF_FORMAT_COLLAPSED:
		ret = pyperf_profile__write_collapsed(prof, out, &copts);
		break;
	case PYPERF_FORMAT_SVG:
		ret = pyperf_profile__write_svg(prof, out, &svgopts);
		break;
	case PYPERF_FORMAT_SPEEDSCOPE:
		ret = pyperf_profile__write_speedscope(prof, out, &ssopts);
		break;
	case PYPERF_FORMAT_PPROF:
		ret = pyperf_profile__write_pprof(prof, out, &ppopts);
		break;
	case PYPERF_FORMAT_JSON:
		ret = pyperf_profile__write_json(prof, out, &jopts);
		break;
	case PYPERF_FORMAT_SCRIPT:
		ret = pyperf_script__finish(script);
		break;
	default:
		ret = pyperf_profile__write_report(prof, out, &ropts);
		break;
	}
	if (ret == -ENOMEM)
		fprintf(stderr, "%s: out of memory (the report is not complete)\n", prog);
	else if (ret)
		fprintf(stderr, "%s: cannot write %s: %s (the report is not complete)\n", prog,
			output ? output : "to standard output", strerror(-ret));
	if (out != stdout && fclose(out) && !ret) {
		fprintf(stderr, "%s: cannot write %s: %s\n", prog, output, strerror(errno));
		ret = -EIO;
	}
	out = stdout;
report_done:
	if (stats)
		print_stats(prof);
	if (!quiet) {
		const struct pyperf_profile_stats *st = pyperf_profile__stats(prof);

		if (st->lost_samples || st->lost_chunks)
			fprintf(stderr,
				"%s: warning: %" PRIu64
				" samples were lost while recording (%" PRIu64
				" ring buffer overruns); record with a larger -m or a lower -F\n",
				prog, st->lost_samples, st->lost_chunks);
		if (st->switches_undecoded)
			fprintf(stderr,
				"%s: warning: %" PRIu64 " of %" PRIu64
				" context switches could not be "
				"decoded (no usable sched_switch format in the recording); their "
				"state shows as '?'\n",
				prog, st->switches_undecoded, st->switches);
		if (st->malformed_records)
			fprintf(stderr, "%s: warning: %" PRIu64 " malformed records were skipped\n",
				prog, st->malformed_records);
		if (st->unknown_records)
			fprintf(stderr,
				"%s: note: %" PRIu64 " records of unknown types were skipped\n",
				prog, st->unknown_records);
		explain_missing_frames(st, popts.view);
	}
	if (ret && !status)
		status = EXIT_INPUT;
out:
	pyperf_profile__free(prof);
	pyperf_symbols__free(syms);
	free(inputs);
	free(pids);
	free(tids);
	free(comms);
	free(comm_arg);
	free(dsos);
	free(dso_arg);
	free(ranges);
	free(base_inputs);
	pyperf_profile__free(base);
	pyperf_script__free(script);
	if (out && out != stdout)
		fclose(out);
	return status;
}
