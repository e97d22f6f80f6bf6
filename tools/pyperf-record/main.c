// SPDX-License-Identifier: MIT
/*
 * pyperf-record: sample a command (or running processes) into a perf.data
 * file that pyperf-report and perf report read.
 *
 * Exit status: the command's own (128+N when it died of signal N); 127 if
 * it cannot be found, 126 if it cannot be executed; 1 for bad usage; 2 when
 * recording itself fails.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <pyperf/record.h>
#include "target.h"

#define EXIT_USAGE 1
#define EXIT_RECORD 2

static const char *prog = "pyperf-record";
static struct pyperf_recorder *recorder;
static volatile sig_atomic_t interrupts;

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: %s [options] -- COMMAND [ARGS...]\n"
	    "       %s [options] -p PID[,PID...]\n"
	    "\n"
	    "  -o, --output FILE       where to write (default perf.data; an old one becomes "
	    ".old)\n"
	    "  -e, --event EVENT       cpu-clock, task-clock, cycles, instructions or rNNN\n"
	    "                          (default: cycles, or cpu-clock without a hardware PMU),\n"
	    "                          with perf's modifiers: cpu-clock:u user space only,\n"
	    "                          :k kernel only, :p... precise\n"
	    "  -F, --freq HZ           samples per second (default 4000)\n"
	    "  -c, --count PERIOD      sample every PERIOD events instead\n"
	    "  -g                      call graphs, mode chosen automatically (the default;\n"
	    "                          --call-graph auto)\n"
	    "      --call-graph MODE   fp | dwarf[,STACK_BYTES] | auto (default) | none\n"
	    "                          (dwarf copies 40960 bytes of stack by default)\n"
	    "      --raw-stacks        dwarf: keep the stack copies in the file (as perf does)\n"
	    "                          instead of unwinding them while recording\n"
	    "      --check-unwind      dwarf: unwind while recording and keep the copies too,\n"
	    "                          to compare with an offline unwind (tests/unwind-diff\n"
	    "                          --online); perf then shows user frames twice\n"
	    "  -m, --mmap-pages N      ring buffer pages per CPU, a power of two\n"
	    "                          (default 128; 2048 with dwarf call graphs, 4096 with "
	    "--off-cpu too)\n"
	    "  -z, --compression-level[=N]  zstd-compress the records (perf record -z): files\n"
	    "                          4-30x smaller; hotspot 1.3 (Debian 12) cannot read them\n"
	    "      --no-compress       do not compress (the default)\n"
	    "  -p, --pid PID[,PID..]   sample running processes until Ctrl-C or their exit\n"
	    "      --no-inherit        do not follow new threads and child processes\n"
	    "      --no-python         do not name Python functions: neither 3.12+'s perf\n"
	    "                          support nor libpyperf's trampolines for 3.8-3.11\n"
	    "      --off-cpu[=BYTES]   also record context switches (sched:sched_switch with\n"
	    "                          call graphs) for off-CPU and wall-clock profiles:\n"
	    "                          pyperf-report --weight off-cpu|wall. dwarf mode copies\n"
	    "                          BYTES of stack per switch (default 16384, ~30 Python\n"
	    "                          calls; switches can be far more frequent than samples)\n"
	    "      --clean-maps        remove the /tmp/perf-PID.map files of launched processes\n"
	    "                          once they are copied into the output\n"
	    "  -N, --no-buildid-cache  do not keep the recorded binaries in perf's build-id\n"
	    "                          cache ($PERF_BUILDID_DIR, else ~/.debug), which keeps\n"
	    "                          their symbols after a rebuild (as perf record -N)\n"
	    "  -q, --quiet             no notes or summary\n"
	    "  -h, --help              this text\n"
	    "      --version           print the version\n"
	    "\n"
	    "View the result with: pyperf-report --hierarchy\n",
	    prog, prog);
}

enum {
	OPT_CALL_GRAPH = 256,
	OPT_NO_INHERIT,
	OPT_NO_PYTHON,
	OPT_CLEAN_MAPS,
	OPT_RAW_STACKS,
	OPT_CHECK_UNWIND,
	OPT_OFF_CPU,
	OPT_NO_COMPRESS,
	OPT_VERSION,
};

static const struct option long_opts[] = {
    {"output", required_argument, NULL, 'o'},
    {"event", required_argument, NULL, 'e'},
    {"freq", required_argument, NULL, 'F'},
    {"count", required_argument, NULL, 'c'},
    {"call-graph", required_argument, NULL, OPT_CALL_GRAPH},
    {"mmap-pages", required_argument, NULL, 'm'},
    {"pid", required_argument, NULL, 'p'},
    {"no-inherit", no_argument, NULL, OPT_NO_INHERIT},
    {"no-python", no_argument, NULL, OPT_NO_PYTHON},
    {"clean-maps", no_argument, NULL, OPT_CLEAN_MAPS},
    {"raw-stacks", no_argument, NULL, OPT_RAW_STACKS},
    {"check-unwind", no_argument, NULL, OPT_CHECK_UNWIND},
    {"off-cpu", optional_argument, NULL, OPT_OFF_CPU},
    {"compression-level", optional_argument, NULL, 'z'},
    {"no-compress", no_argument, NULL, OPT_NO_COMPRESS},
    {"no-buildid-cache", no_argument, NULL, 'N'},
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

static bool parse_u64(const char *s, uint64_t *v, uint64_t min, uint64_t max)
{
	char *end;
	unsigned long long x;

	errno = 0;
	x = strtoull(s, &end, 0);
	if (errno || end == s || *end || x < min || x > max || *s == '-')
		return false;
	*v = x;
	return true;
}

/*
 * Ctrl-C in a terminal reaches the whole foreground group, the command
 * included, so it is not sent again; a signal sent to the recorder alone
 * (kill) is passed on, as a terminal would. A second interrupt stops
 * recording at once.
 */
static void on_signal(int sig, siginfo_t *si, void *ctx)
{
	(void)ctx;
	if (!recorder)
		return;
	interrupts++;
	if (pyperf_recorder__child_pid(recorder) < 0 || interrupts > 1) {
		pyperf_recorder__stop(recorder);
		return;
	}
	if (si->si_code == SI_USER || si->si_code == SI_QUEUE || sig == SIGTERM)
		pyperf_recorder__signal_child(recorder, sig);
	/* if the command is still there in a second, say why nothing ended */
	alarm(1);
}

/* A second after the first interrupt, the command still runs: it ignores
 * or handles the signal. */
static void on_alarm(int sig)
{
	static const char msg[] =
	    "pyperf-record: the command goes on (it ignores or handles the interrupt); still "
	    "recording. Ctrl-C again stops recording and ends the command (SIGTERM)\n";

	(void)sig;
	if (recorder && interrupts == 1 && pyperf_recorder__child_pid(recorder) > 0 &&
	    pyperf_recorder__child_status(recorder) == -1 &&
	    write(STDERR_FILENO, msg, sizeof(msg) - 1))
		return;
}

static void on_child(int sig)
{
	(void)sig; /* only interrupts the wait for ring buffer data */
}

static void install_handlers(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_signal;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_child;
	sigaction(SIGCHLD, &sa, NULL);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sigaction(SIGALRM, &sa, NULL);
}

static const char *mode_name(enum pyperf_callgraph cg)
{
	switch (cg) {
	case PYPERF_CALLGRAPH_FP:
		return "fp";
	case PYPERF_CALLGRAPH_DWARF:
		return "dwarf";
	case PYPERF_CALLGRAPH_AUTO:
		return "auto";
	default:
		return "none";
	}
}

/* Cut stacks by cause, each with what can be done about it. */
static void print_cuts(const struct pyperf_record_stats *s)
{
	fprintf(stderr,
		"%s: %" PRIu64 " of %" PRIu64 " stacks (%.1f%%) end early; they are marked in the "
		"file and reports show them under [truncated]:\n",
		prog, s->stacks_cut_total, s->unwound,
		s->unwound ? 100.0 * (double)s->stacks_cut_total / (double)s->unwound : 0.0);
	for (int c = PYPERF_CUT_NONE + 1; c < PYPERF_CUT_NR; c++) {
		uint64_t n = s->stacks_cut[c];

		if (!n)
			continue;
		fprintf(stderr, "%s:   %" PRIu64 " %s: ", prog, n, pyperf_stack_cut__name(c));
		switch (c) {
		case PYPERF_CUT_STACK_COPY:
			if (s->stack_bytes < PYPERF_RECORD_MAX_STACK_BYTES)
				fprintf(stderr,
					"deeper than the %u-byte stack copy; raise it with "
					"--call-graph dwarf,BYTES (up to %u)\n",
					s->stack_bytes, PYPERF_RECORD_MAX_STACK_BYTES);
			else
				fprintf(stderr,
					"deeper than the stack copy, which is at the kernel's "
					"limit (%u bytes)\n",
					s->stack_bytes);
			break;
		case PYPERF_CUT_NO_CFI:
			fprintf(stderr, "reached code without unwind information\n");
			break;
		case PYPERF_CUT_NO_MAP:
			fprintf(stderr, "reached an address outside every mapping\n");
			break;
		case PYPERF_CUT_BAD_FRAME:
			fprintf(stderr, "reached registers or stack memory that make no sense\n");
			break;
		case PYPERF_CUT_MAX_STACK:
			fprintf(stderr, "more frames than a sample holds\n");
			break;
		case PYPERF_CUT_SHED:
			fprintf(stderr, "context switches written with their user address only "
					"(above)\n");
			break;
		default:
			fprintf(stderr, "\n");
			break;
		}
	}
}

static void summary(const struct pyperf_record_opts *o, const struct pyperf_record_stats *s)
{
	double mb = (double)s->bytes_written / (1024.0 * 1024.0);
	const char *output = o->output ? o->output : "perf.data"; /* the library's default */

	if (s->write_failed) {
		/* what the file holds is not known: say what was recorded only */
		fprintf(stderr,
			"[ %s: %" PRIu64 " samples of %s recorded, %" PRIu64 " lost ]\n"
			"%s: %s was not completely written (see the error above): it holds only "
			"part of this recording, and may not be readable\n",
			prog, s->samples, s->event_name ? s->event_name : "?", s->lost_samples,
			prog, output);
		return;
	}
	fprintf(stderr,
		"[ %s: %" PRIu64 " samples of %s, %" PRIu64 " lost; %" PRIu64 " processes, %" PRIu64
		" threads; call graphs: %s",
		prog, s->samples, s->event_name ? s->event_name : "?", s->lost_samples,
		s->processes, s->threads, mode_name(s->callgraph));
	if (s->callgraph == PYPERF_CALLGRAPH_DWARF)
		fprintf(stderr, " (%u-byte stack copies)", s->stack_bytes);
	if (o->off_cpu)
		fprintf(stderr, "; %" PRIu64 " of them context switches", s->switches);
	fprintf(stderr, " ]\n[ %s: %.2f MB written to %s", prog, mb, output);
	if (s->compression)
		fprintf(stderr, " (zstd %d)", s->compression);
	if (s->samples)
		fprintf(stderr, " (%.0f bytes/sample)",
			(double)s->bytes_written / (double)s->samples);
	if (s->maps_embedded)
		fprintf(stderr, ", %" PRIu64 " perf map%s embedded", s->maps_embedded,
			s->maps_embedded == 1 ? "" : "s");
	if (s->maps_stale)
		fprintf(stderr, ", %" PRIu64 " stale perf map%s (older than %s process) left out",
			s->maps_stale, s->maps_stale == 1 ? "" : "s",
			s->maps_stale == 1 ? "its" : "their");
	fprintf(stderr, "; recorder CPU %.2f s over %.2f s ]\n", s->recorder_cpu_seconds,
		s->wall_seconds);
	if (s->switch_stacks_shed)
		fprintf(stderr,
			"%s: %" PRIu64 " of %" PRIu64
			" context switches came faster than their stacks could be unwound and "
			"keep only their kernel frames and user address (their times are kept); "
			"--off-cpu=BYTES with fewer bytes or --call-graph fp costs less\n",
			prog, s->switch_stacks_shed, s->switches);
	if (s->stacks_cut_total)
		print_cuts(s);
	if (s->lost_samples)
		fprintf(stderr,
			"%s: warning: %" PRIu64 " samples lost in %" PRIu64 " chunks; raise -m "
			"or lower -F\n",
			prog, s->lost_samples, s->lost_chunks);
	if (o->output)
		fprintf(stderr, "View it with: pyperf-report -i %s --hierarchy\n", output);
	else
		fprintf(stderr, "View it with: pyperf-report --hierarchy\n");
}

/* Cuts ":MODS" off @ev and sets what they ask; -1 for one unknown. */
static int parse_modifiers(char *ev, struct pyperf_record_opts *o)
{
	char *colon = strchr(ev, ':');

	if (!colon)
		return 0;
	*colon = 0;
	for (const char *m = colon + 1; *m; m++) {
		switch (*m) {
		case 'u':
			o->exclude_kernel = true;
			break;
		case 'k':
			o->exclude_user = true;
			break;
		case 'p':
			o->precise_ip++;
			break;
		default:
			*colon = ':';
			return -1;
		}
	}
	/* both asked: neither excluded, as perf reads "uk" */
	if (o->exclude_kernel && o->exclude_user)
		o->exclude_kernel = o->exclude_user = false;
	return 0;
}

int main(int argc, char **argv)
{
	PYPERF_OPTS(pyperf_record_opts, o);
	char python_dir[PATH_MAX];
	struct pyperf_error err;
	char msg[700];
	pid_t *pids = NULL;
	size_t nr_pids = 0;
	bool quiet = false;
	size_t notes_shown;
	int c, ret, status;

	/* Stacks are the point: call graphs by default, mode chosen per program. */
	o.callgraph = PYPERF_CALLGRAPH_AUTO;
	while ((c = getopt_long(argc, argv, "+o:e:F:c:gm:p:z::qNh", long_opts, NULL)) != -1) {
		uint64_t v;

		switch (c) {
		case 'o':
			o.output = optarg;
			break;
		case 'e':
			/* perf's modifiers after the name: cpu-clock:u, cycles:ppp */
			if (parse_modifiers(optarg, &o))
				return bad_usage("unknown modifier in '%s' (u: user space, k: "
						 "kernel, p: precise, as perf's)",
						 optarg);
			if (!strcmp(optarg, "cpu-clock"))
				o.event = PYPERF_EVENT_CPU_CLOCK;
			else if (!strcmp(optarg, "task-clock"))
				o.event = PYPERF_EVENT_TASK_CLOCK;
			else if (!strcmp(optarg, "cycles"))
				o.event = PYPERF_EVENT_CYCLES;
			else if (!strcmp(optarg, "instructions"))
				o.event = PYPERF_EVENT_INSTRUCTIONS;
			else if (optarg[0] == 'r' && parse_u64(optarg + 1, &v, 0, UINT64_MAX) &&
				 (o.raw_config = strtoull(optarg + 1, NULL, 16), true))
				o.event = PYPERF_EVENT_RAW;
			else
				return bad_usage(
				    "unknown event '%s' (cpu-clock, task-clock, cycles, "
				    "instructions, rNNN)",
				    optarg);
			break;
		case 'F':
			if (!parse_u64(optarg, &v, 1, 1000000))
				return bad_usage("-F wants a frequency in Hz, not '%s'", optarg);
			o.freq = (unsigned)v;
			break;
		case 'c':
			if (!parse_u64(optarg, &v, 1, UINT64_MAX))
				return bad_usage("-c wants a positive period, not '%s'", optarg);
			o.period = v;
			break;
		case 'g':
			o.callgraph = PYPERF_CALLGRAPH_AUTO;
			break;
		case OPT_CALL_GRAPH: {
			char *comma = strchr(optarg, ',');
			size_t n = comma ? (size_t)(comma - optarg) : strlen(optarg);

			if (!strncmp(optarg, "fp", n) && n == 2)
				o.callgraph = PYPERF_CALLGRAPH_FP;
			else if (!strncmp(optarg, "dwarf", n) && n == 5)
				o.callgraph = PYPERF_CALLGRAPH_DWARF;
			else if (!strncmp(optarg, "auto", n) && n == 4)
				o.callgraph = PYPERF_CALLGRAPH_AUTO;
			else if (!strncmp(optarg, "none", n) && n == 4)
				o.callgraph = PYPERF_CALLGRAPH_NONE;
			else
				return bad_usage(
				    "--call-graph wants fp, dwarf[,BYTES], auto or none, not "
				    "'%s'",
				    optarg);
			if (comma && o.callgraph != PYPERF_CALLGRAPH_DWARF)
				return bad_usage("--call-graph %s: only dwarf takes a stack size "
						 "(dwarf,BYTES)",
						 optarg);
			if (comma) {
				if (!parse_u64(comma + 1, &v, 8, PYPERF_RECORD_MAX_STACK_BYTES))
					return bad_usage(
					    "--call-graph %s: the stack copy must be 8 to "
					    "65528 bytes (dwarf,BYTES)",
					    optarg);
				o.stack_bytes = (unsigned)v;
			}
			break;
		}
		case 'm':
			if (!parse_u64(optarg, &v, 1, 1 << 20) || (v & (v - 1)))
				return bad_usage("-m wants a power of two, not '%s'", optarg);
			o.mmap_pages = (unsigned)v;
			break;
		case 'p': {
			int e = tools_parse_pids(optarg, &pids, &nr_pids);

			if (e == -ENOMEM)
				return EXIT_RECORD;
			if (e)
				return bad_usage(
				    "-p wants process ids separated by commas, not '%s'", optarg);
			break;
		}
		case OPT_NO_INHERIT:
			o.no_inherit = true;
			break;
		case OPT_NO_PYTHON:
			o.no_python = true;
			break;
		case OPT_CLEAN_MAPS:
			o.clean_maps = true;
			break;
		case OPT_RAW_STACKS:
			o.raw_stacks = true;
			break;
		case OPT_CHECK_UNWIND:
			o.check_unwind = true;
			break;
		case OPT_OFF_CPU:
			o.off_cpu = true;
			if (optarg) {
				if (!parse_u64(optarg, &v, 8, PYPERF_RECORD_MAX_STACK_BYTES))
					return bad_usage(
					    "--off-cpu=BYTES wants 8..65528 stack bytes, "
					    "not '%s'",
					    optarg);
				o.off_cpu_stack_bytes = (unsigned)v;
			}
			break;
		case 'z':
			if (!optarg)
				o.compression = 1;
			else if (parse_u64(optarg, &v, 1, 22))
				o.compression = (int)v;
			else
				return bad_usage("-z wants a zstd level from 1 to 22, not '%s'",
						 optarg);
			break;
		case OPT_NO_COMPRESS:
			o.compression = -1;
			break;
		case 'q':
			quiet = true;
			break;
		case 'N':
			o.no_buildid_cache = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case OPT_VERSION:
			printf("pyperf-record %s\n", pyperf_version());
			return 0;
		default:
			fprintf(stderr, "Try '%s --help'.\n", prog);
			return EXIT_USAGE;
		}
	}
	if (nr_pids && optind < argc)
		return bad_usage("give a command or -p, not both (got '%s')", argv[optind]);
	if (!nr_pids && optind >= argc)
		return bad_usage("nothing to record%s: pyperf-record -- COMMAND [ARGS], or -p PID",
				 "");
	if (o.check_unwind && (o.raw_stacks || o.callgraph == PYPERF_CALLGRAPH_FP ||
			       o.callgraph == PYPERF_CALLGRAPH_NONE))
		return bad_usage("--check-unwind unwinds dwarf stacks while recording: not with "
				 "--raw-stacks or frame-pointer call graphs%s",
				 "");
	if (o.check_unwind)
		o.callgraph = PYPERF_CALLGRAPH_DWARF;
	if (quiet)
		pyperf_set_print(NULL);

	if (!o.no_python)
		o.python_dir = tools_find_python_dir(python_dir, sizeof(python_dir));
	recorder = pyperf_recorder__new(&o, &err);
	if (!recorder) {
		fprintf(stderr, "%s: %s\n", prog, pyperf_error__format(&err, msg, sizeof(msg)));
		return EXIT_RECORD;
	}
	install_handlers();
	if (nr_pids)
		ret = pyperf_recorder__attach(recorder, pids, nr_pids, &err);
	else
		ret = pyperf_recorder__launch(recorder, argv + optind, &err);
	if (!quiet && *pyperf_recorder__notes(recorder))
		fprintf(stderr, "%s", pyperf_recorder__notes(recorder));
	notes_shown = strlen(pyperf_recorder__notes(recorder));
	if (ret) {
		fprintf(stderr, "%s: %s\n", prog, pyperf_error__format(&err, msg, sizeof(msg)));
		pyperf_recorder__free(recorder);
		if (!nr_pids && ret == -ENOENT)
			return 127;
		if (!nr_pids && ret == -ENOEXEC)
			return 126;
		return EXIT_RECORD;
	}
	if (nr_pids && !quiet)
		fprintf(stderr, "%s: recording; Ctrl-C to stop\n", prog);
	ret = pyperf_recorder__run(recorder, &err);
	if (ret)
		fprintf(stderr, "%s: %s\n", prog, pyperf_error__format(&err, msg, sizeof(msg)));
	/* Stopped early with the command still running: end it. */
	if (pyperf_recorder__child_pid(recorder) > 0 &&
	    pyperf_recorder__child_status(recorder) == -1) {
		pyperf_recorder__signal_child(recorder, SIGTERM);
		waitpid(pyperf_recorder__child_pid(recorder), NULL, 0);
	}
	if (pyperf_recorder__finish(recorder, &err)) {
		char fmsg[sizeof(msg)];

		/* the same failure (a full disk) said once */
		pyperf_error__format(&err, fmsg, sizeof(fmsg));
		if (!ret || strcmp(fmsg, msg))
			fprintf(stderr, "%s: %s\n", prog, fmsg);
		ret = -1;
	}
	/* what finishing found (build-id cache, Python without frames) */
	if (!quiet && pyperf_recorder__notes(recorder)[notes_shown])
		fprintf(stderr, "%s", pyperf_recorder__notes(recorder) + notes_shown);
	if (!quiet)
		summary(&o, pyperf_recorder__stats(recorder));
	status = pyperf_recorder__child_status(recorder);
	pyperf_recorder__free(recorder);
	free(pids);
	if (ret)
		return EXIT_RECORD;
	if (status == -1)
		return 0;
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return 0;
}
