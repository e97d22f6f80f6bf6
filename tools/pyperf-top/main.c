// SPDX-License-Identifier: MIT
/*
 * pyperf-top: a live view of the hottest functions of a running program,
 * on the library's recorder (its sink hands over each sample as it is
 * written) and profiles (top_live.c). The recorder runs on a thread of its
 * own; this one draws, reads keys and ends the recording.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <pyperf/record.h>
#include "target.h"
#include "top_live.h"
#include "top_tui.h"

#define EXIT_USAGE 1
#define EXIT_RECORD 2
#define EXIT_TERMINAL 1

static const char *prog = "pyperf-top";

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: %s [options] -- COMMAND [ARGS...]\n"
	    "       %s [options] -p PID[,PID...]\n"
	    "\n"
	    "A live view of the hottest functions of a program: own and total shares\n"
	    "over the last interval and since the start, refreshed every interval.\n"
	    "\n"
	    "  -p, --pid PID[,PID..]   sample running processes (and their threads)\n"
	    "  -d, --delay SECS        refresh interval (default 1; 0.1 to 3600)\n"
	    "  -F, --freq HZ           samples per second (default 999)\n"
	    "      --view VIEW         mixed (default), python or native (key v switches)\n"
	    "      --per-thread        one line per thread and function (key t switches)\n"
	    "      --sort own|total    rank by own share (default) or total (key s)\n"
	    "  -o, --output FILE       also write the recording there, for pyperf-report or\n"
	    "                          perf report (default: a temporary file, removed at exit)\n"
	    "      --stdio             print each refresh to standard output instead of the\n"
	    "                          full-screen view (the default when it is not a terminal)\n"
	    "      --tui               the full-screen view (an error without a terminal)\n"
	    "  -n, --iterations N      stop after N refreshes\n"
	    "      --command-output FILE  where a launched command's output goes (default:\n"
	    "                          /dev/null in the full-screen view; with --stdio its\n"
	    "                          standard output goes to standard error)\n"
	    "      --call-graph MODE   dwarf (unwound while recording) | auto (default) | fp\n"
	    "      --no-python         do not name Python functions (3.12+'s perf support,\n"
	    "                          libpyperf's trampolines for 3.8-3.11)\n"
	    "  -h, --help              this text\n"
	    "      --version           print the version\n"
	    "\n"
	    "Keys: q quit, v view (mixed/python/native), t threads merged/per thread,\n"
	    "s own/total, a last interval/since start, h or ? help.\n"
	    "\n"
	    "When the program exits, or on q or Ctrl-C, the view ends and a summary since\n"
	    "the start is printed. Exit status: 0; 1 bad usage, no terminal for --tui or\n"
	    "one too small; 2 recording failed; 127/126 the command was not found/not\n"
	    "executable; 128+N after signal N (130 Ctrl-C with --stdio, 129 the terminal\n"
	    "hung up, 143 SIGTERM).\n",
	    prog, prog);
}

enum {
	OPT_VIEW = 256,
	OPT_PER_THREAD,
	OPT_SORT,
	OPT_STDIO,
	OPT_TUI,
	OPT_COMMAND_OUTPUT,
	OPT_CALL_GRAPH,
	OPT_NO_PYTHON,
	OPT_VERSION,
};

static const struct option long_opts[] = {
    {"pid", required_argument, NULL, 'p'},
    {"delay", required_argument, NULL, 'd'},
    {"freq", required_argument, NULL, 'F'},
    {"view", required_argument, NULL, OPT_VIEW},
    {"per-thread", no_argument, NULL, OPT_PER_THREAD},
    {"sort", required_argument, NULL, OPT_SORT},
    {"output", required_argument, NULL, 'o'},
    {"stdio", no_argument, NULL, OPT_STDIO},
    {"tui", no_argument, NULL, OPT_TUI},
    {"iterations", required_argument, NULL, 'n'},
    {"command-output", required_argument, NULL, OPT_COMMAND_OUTPUT},
    {"call-graph", required_argument, NULL, OPT_CALL_GRAPH},
    {"no-python", no_argument, NULL, OPT_NO_PYTHON},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, OPT_VERSION},
    {0},
};

static int bad_usage(const char *fmt, const char *arg)
{
	fprintf(stderr, "%s: ", prog);
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\nTry '%s --help'.\n", prog);
	return EXIT_USAGE;
}

/* ---- the recorder's thread ------------------------------------------------------------ */

struct rec_thread {
	struct pyperf_recorder *r;
	struct pyperf_error err;
	int ret;
	volatile sig_atomic_t done;
};

static void *run_recorder(void *arg)
{
	struct rec_thread *t = arg;

	t->ret = pyperf_recorder__run(t->r, &t->err);
	t->done = 1;
	return NULL;
}

/* ---- --stdio -------------------------------------------------------------------------- */

static volatile sig_atomic_t stdio_signal;

static void on_signal(int sig)
{
	stdio_signal = sig;
}

static void print_line(void *ctx, const char *line, int kind)
{
	(void)kind;
	fprintf(ctx, "%s\n", line);
}

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Every @delay seconds one refresh on stdout, a blank line between. */
static int stdio_loop(struct top_live *l, struct rec_thread *rt, const struct top_show *show,
		      double delay, long iterations, struct top_snapshot *snap)
{
	double next = now_s() + delay;
	long n = 0;

	while (!rt->done && !stdio_signal) {
		struct timespec nap = {0, 50 * 1000 * 1000};
		int ret;

		nanosleep(&nap, NULL);
		if (now_s() < next || rt->done || stdio_signal)
			continue;
		next += delay;
		ret = top_live_snapshot(l, show, true, snap);
		if (ret)
			return ret;
		top_format(snap, show, 0, 40, print_line, stdout);
		printf("\n");
		if (fflush(stdout) == EOF)
			return -errno;
		if (iterations && ++n >= iterations)
			break;
	}
	return 0;
}

/* ---- the end -------------------------------------------------------------------------- */

static void print_summary(struct top_live *l, const struct top_show *shown, const char *why,
			  struct top_snapshot *snap)
{
	struct top_show s = *shown;

	s.since_start = true;
	if (top_live_snapshot(l, &s, false, snap))
		return;
	printf("%s: %s; summary since the start:\n", prog, why);
	top_format(snap, &s, 0, 30, print_line, stdout);
	fflush(stdout);
}

/* The temporary recording's folder, removed at exit. */
static char temp_dir[PATH_MAX], temp_file[PATH_MAX + 16];

static void remove_temp(void)
{
	if (*temp_file)
		unlink(temp_file);
	if (*temp_file) {
		char old[sizeof(temp_file) + 8];

		snprintf(old, sizeof(old), "%s.old", temp_file);
		unlink(old);
	}
	if (*temp_dir)
		rmdir(temp_dir);
	*temp_dir = *temp_file = 0;
}

static void set_error(struct pyperf_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_error(struct pyperf_error *err, int code, const char *fmt, ...)
{
	va_list ap;

	memset(err, 0, sizeof(*err));
	err->code = code;
	err->offset = UINT64_MAX;
	va_start(ap, fmt);
	vsnprintf(err->text, sizeof(err->text), fmt, ap);
	va_end(ap);
}

/*
 * A launched command must not draw on the full-screen view, nor read the
 * keys: its standard streams go to @path (or /dev/null) while it starts;
 * with --stdio only its stdout moves, to stderr, so that ours stays the
 * refreshes. The saved descriptors come back right after the launch.
 */
static int redirect_command(bool tui, const char *path, int saved[3])
{
	int fd = -1;

	saved[0] = saved[1] = saved[2] = -1;
	if (tui || path) {
		fd =
		    open(path ? path : "/dev/null", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd < 0)
			return -errno;
	}
	for (int i = 0; i < 3; i++) {
		int src = -1;

		if (tui && i == 0)
			src = open("/dev/null", O_RDONLY | O_CLOEXEC);
		else if (i > 0 && fd >= 0)
			src = fd;
		else if (i == 1)
			src = STDERR_FILENO;
		if (src < 0)
			continue;
		saved[i] = fcntl(i, F_DUPFD_CLOEXEC, 10);
		dup2(src, i);
		if (i == 0)
			close(src);
	}
	if (fd >= 0)
		close(fd);
	return 0;
}

static void restore_fds(int saved[3])
{
	for (int i = 0; i < 3; i++) {
		if (saved[i] >= 0) {
			dup2(saved[i], i);
			close(saved[i]);
		}
	}
}

int main(int argc, char **argv)
{
	PYPERF_OPTS(pyperf_record_opts, o, .freq = 999, .callgraph = PYPERF_CALLGRAPH_AUTO);
	struct top_show show = {.view = PYPERF_VIEW_MIXED};
	const char *output = NULL, *command_output = NULL, *why = NULL;
	bool want_stdio = false, want_tui = false, tui;
	double delay = 1.0;
	long iterations = 0;
	pid_t *pids = NULL;
	size_t nr_pids = 0;
	char python_dir[PATH_MAX], msg[1024];
	struct pyperf_error err = {0};
	struct rec_thread rt = {0};
	struct top_snapshot *snap = NULL;
	struct top_live *live = NULL;
	struct pyperf_recorder *r = NULL;
	pthread_t thread;
	sigset_t block, old;
	int c, ret, status = 0, saved[3], sig = 0;
	size_t notes_shown = 0;

	while ((c = getopt_long(argc, argv, "+p:d:F:o:n:h", long_opts, NULL)) != -1) {
		char *end;

		switch (c) {
		case 'p':
			ret = tools_parse_pids(optarg, &pids, &nr_pids);
			if (ret == -ENOMEM)
				return EXIT_RECORD;
			if (ret)
				return bad_usage(
				    "-p wants process ids separated by commas, not '%s'", optarg);
			break;
		case 'd':
			delay = strtod(optarg, &end);
			if (*end || !(delay >= 0.1 && delay <= 3600))
				return bad_usage(
				    "-d: '%s' is not a number of seconds from 0.1 to 3600", optarg);
			break;
		case 'F': {
			unsigned long v = strtoul(optarg, &end, 10);

			if (*end || !v || v > 100000)
				return bad_usage("-F: '%s' is not a frequency (1 to 100000 Hz)",
						 optarg);
			o.freq = (unsigned)v;
			break;
		}
		case OPT_VIEW:
			if (!strcmp(optarg, "mixed"))
				show.view = PYPERF_VIEW_MIXED;
			else if (!strcmp(optarg, "python"))
				show.view = PYPERF_VIEW_PYTHON;
			else if (!strcmp(optarg, "native"))
				show.view = PYPERF_VIEW_NATIVE;
			else
				return bad_usage("--view: '%s' is not mixed, python or native",
						 optarg);
			break;
		case OPT_PER_THREAD:
			show.per_thread = true;
			break;
		case OPT_SORT:
			if (strcmp(optarg, "own") && strcmp(optarg, "total"))
				return bad_usage("--sort: '%s' is not own or total", optarg);
			show.by_total = !strcmp(optarg, "total");
			break;
		case 'o':
			output = optarg;
			break;
		case OPT_STDIO:
			want_stdio = true;
			break;
		case OPT_TUI:
			want_tui = true;
			break;
		case 'n':
			iterations = strtol(optarg, &end, 10);
			if (*end || iterations <= 0)
				return bad_usage("-n: '%s' is not a positive number", optarg);
			break;
		case OPT_COMMAND_OUTPUT:
			command_output = optarg;
			break;
		case OPT_CALL_GRAPH:
			if (!strcmp(optarg, "dwarf"))
				o.callgraph = PYPERF_CALLGRAPH_DWARF;
			else if (!strcmp(optarg, "fp"))
				o.callgraph = PYPERF_CALLGRAPH_FP;
			else if (!strcmp(optarg, "auto"))
				o.callgraph = PYPERF_CALLGRAPH_AUTO;
			else
				return bad_usage("--call-graph: '%s' is not dwarf, fp or auto",
						 optarg);
			break;
		case OPT_NO_PYTHON:
			o.no_python = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case OPT_VERSION:
			printf("pyperf-top %s\n", pyperf_version());
			return 0;
		default:
			fprintf(stderr, "Try '%s --help'.\n", prog);
			return EXIT_USAGE;
		}
	}
	if (nr_pids && optind < argc)
		return bad_usage("give a command or -p, not both (got '%s')", argv[optind]);
	if (!nr_pids && optind >= argc)
		return bad_usage("nothing to watch%s: pyperf-top -- COMMAND [ARGS], or -p PID", "");
	if (want_stdio && want_tui)
		return bad_usage("%s", "--stdio or --tui, not both");
	tui = want_tui || (!want_stdio && isatty(STDOUT_FILENO) && isatty(STDIN_FILENO));
	if (tui && (!isatty(STDOUT_FILENO) || !isatty(STDIN_FILENO))) {
		fprintf(stderr,
			"%s: --tui needs a terminal (standard input and output); --stdio prints "
			"the view instead\n",
			prog);
		return EXIT_TERMINAL;
	}

	/* Without -o the recording goes to a private folder, gone at exit. */
	if (!output) {
		const char *tmp = getenv("TMPDIR");

		snprintf(temp_dir, sizeof(temp_dir), "%s/pyperf-top-XXXXXX",
			 tmp && *tmp ? tmp : "/tmp");
		if (!mkdtemp(temp_dir)) {
			fprintf(stderr, "%s: cannot make a temporary folder %s: %s (use -o FILE)\n",
				prog, temp_dir, strerror(errno));
			*temp_dir = 0;
			return EXIT_RECORD;
		}
		snprintf(temp_file, sizeof(temp_file), "%s/top.data", temp_dir);
		atexit(remove_temp);
		output = temp_file;
		o.no_buildid_cache = true;
	}
	o.output = output;
	if (!o.no_python)
		o.python_dir = tools_find_python_dir(python_dir, sizeof(python_dir));
	snap = calloc(1, sizeof(*snap));
	live = top_live_new();
	if (!snap || !live) {
		fprintf(stderr, "%s: out of memory\n", prog);
		return EXIT_RECORD;
	}
	r = pyperf_recorder__new(&o, &err);
	if (!r) {
		fprintf(stderr, "%s: %s\n", prog, pyperf_error__format(&err, msg, sizeof(msg)));
		return EXIT_RECORD;
	}
	pyperf_recorder__set_sink(r, top_live_sink, live);
	top_live_set_recorder(live, r);

	/* The terminal first: one too small fails before anything starts. */
	if (tui && (ret = top_tui_open())) {
		fprintf(stderr, "%s: %s\n", prog, top_tui_error());
		pyperf_recorder__free(r);
		return EXIT_TERMINAL;
	}
	if (!tui) {
		struct sigaction sa = {.sa_handler = on_signal};

		sigemptyset(&sa.sa_mask);
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
		sigaction(SIGHUP, &sa, NULL);
		signal(SIGPIPE, SIG_IGN);
	}
	if (nr_pids) {
		ret = pyperf_recorder__attach(r, pids, nr_pids, &err);
	} else if ((ret = redirect_command(tui, command_output, saved)) < 0) {
		set_error(&err, ret, "--command-output %s: %s", command_output, strerror(-ret));
	} else {
		ret = pyperf_recorder__launch(r, argv + optind, &err);
		restore_fds(saved);
	}
	if (ret) {
		if (tui)
			top_tui_close();
		fprintf(stderr, "%s: %s\n", prog, pyperf_error__format(&err, msg, sizeof(msg)));
		pyperf_recorder__free(r);
		if (!nr_pids && ret == -ENOENT)
			return 127;
		if (!nr_pids && ret == -ENOEXEC)
			return 126;
		return EXIT_RECORD;
	}
	if (!tui && *pyperf_recorder__notes(r))
		fprintf(stderr, "%s", pyperf_recorder__notes(r));
	notes_shown = tui ? 0 : strlen(pyperf_recorder__notes(r));

	/* Signals are this thread's: the recorder's only drains. */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	sigaddset(&block, SIGWINCH);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	rt.r = r;
	ret = pthread_create(&thread, NULL, run_recorder, &rt);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (ret) {
		if (tui)
			top_tui_close();
		fprintf(stderr, "%s: cannot start the recorder's thread: %s\n", prog,
			strerror(ret));
		pyperf_recorder__signal_child(r, SIGTERM);
		pyperf_recorder__finish(r, NULL);
		pyperf_recorder__free(r);
		return EXIT_RECORD;
	}

	if (tui) {
		struct top_tui_args ta = {live,	 &rt.done,   &show,
					  delay, iterations, pyperf_recorder__notes(r)};

		ret = top_tui_run(&ta, snap, &sig);
		top_tui_close();
	} else {
		ret = stdio_loop(live, &rt, &show, delay, iterations, snap);
		sig = stdio_signal;
	}
	pyperf_recorder__stop(r);
	pthread_join(thread, NULL);
	if (rt.ret)
		fprintf(stderr, "%s: %s\n", prog, pyperf_error__format(&rt.err, msg, sizeof(msg)));
	else if (ret < 0)
		fprintf(stderr, "%s: cannot show the view: %s\n", prog, strerror(-ret));
	/* Stopped with the command still running: end it. */
	if (pyperf_recorder__child_pid(r) > 0 && pyperf_recorder__child_status(r) == -1) {
		pyperf_recorder__signal_child(r, SIGTERM);
		waitpid(pyperf_recorder__child_pid(r), &status, 0);
		why = "stopped; the command was ended (SIGTERM)";
	} else if (rt.done && !sig && !rt.ret) {
		status = pyperf_recorder__child_status(r);
		why = nr_pids ? "the processes exited" : "the command exited";
	} else {
		why = sig ? "interrupted" : "stopped";
	}
	if (pyperf_recorder__finish(r, &err)) {
		fprintf(stderr, "%s: %s\n", prog, pyperf_error__format(&err, msg, sizeof(msg)));
		rt.ret = rt.ret ? rt.ret : -EIO;
	}
	/* the terminal is gone after a hang-up: nothing to print to */
	if (sig != SIGHUP)
		print_summary(live, &show, why, snap);
	/* what the full-screen view hid, and what finishing found */
	if (sig != SIGHUP && pyperf_recorder__notes(r)[notes_shown])
		fprintf(stderr, "%s", pyperf_recorder__notes(r) + notes_shown);
	if (sig != SIGHUP && output != temp_file && !rt.ret)
		fprintf(stderr, "%s: the recording is in %s (pyperf-report -i %s)\n", prog, output,
			output);
	if (sig != SIGHUP && WIFEXITED(status) && WEXITSTATUS(status) && why &&
	    strstr(why, "command exited"))
		fprintf(stderr, "%s: the command exited with status %d\n", prog,
			WEXITSTATUS(status));
	pyperf_recorder__free(r);
	top_live_free(live);
	free(snap);
	free(pids);
	if (sig)
		return 128 + sig;
	if (rt.ret || ret < 0)
		return EXIT_RECORD;
	return 0;
}
