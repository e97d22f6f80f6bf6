/* SPDX-License-Identifier: MIT */
/*
 * pywalk: the interpreter-frame walker end to end, through the public API
 * only (as the recorder will use it): samples a live Python process with
 * cpu-clock per thread and CPU, runs the BPF walker on each sample, pairs
 * records with samples in each CPU's ring buffer, names the frames from
 * the process and prints aggregated stacks with lines.
 *
 *   pywalk [options] -p PID
 *   pywalk [options] -- PROGRAM ARGS...     (launched; events follow it)
 *
 *   -F HZ        sampling frequency (default 999)
 *   -d SECONDS   how long (default 2; a launched program: until it exits)
 *   -m N         frames per sample at most (walker max_frames)
 *   --switch     also walk at sched_switch (off-CPU), printed as "switch"
 *   --entries    mark evaluation-loop entry frames with a leading '^'
 *   --dump       print every thread state read from user space, then exit
 *   --samples    print each sample as it is read ("at TIME_NS TID KIND ..."),
 *                not aggregated
 *   --drain-ms N read the ring buffers every N ms (default 50)
 *   --no-attach  sample only, the program not attached (the baseline of
 *                bench/interp_walk.py)
 *
 * Output, one line each:
 *   interp version=3.11 path=... layout=...
 *   stack KIND COUNT STATUS GIL DEPTH FRAMES   (KIND sample|switch; FRAMES
 *        outermost first, "name (file:line)" joined by ';')
 *   stats NAME=VALUE...
 * Exit: 0; 2 with a message when the walker cannot run (77 for the tests'
 * "skip" when BPF or perf_event_open is not allowed).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/perf_event.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <dirent.h>
#include <unistd.h>
#include <pyperf/interp.h>

#define PAGES 1024
#define MIN_SIZE(a, b) ((size_t)(a) < (size_t)(b) ? (size_t)(a) : (size_t)(b))
#define SAMPLE_TYPE (PERF_SAMPLE_IDENTIFIER | PERF_SAMPLE_TID | PERF_SAMPLE_TIME | PERF_SAMPLE_CPU)

struct cpu_buf {
	int fd; /* the mmapped event of this CPU */
	void *base;
	size_t size;
};

static struct cpu_buf *bufs;
static int ncpu;
static uint64_t *out_ids; /* bpf-output event id per CPU */
static uint64_t *switch_ids;
static size_t nr_switch_ids, cap_switch_ids;
static struct pyperf_pystack_pairer *pairer;
static struct pyperf_interp *interp;
static bool entries, per_sample, no_attach;
static uint64_t resolve_gone, samples_total, records_bad;

/* Aggregated stacks: a plain list, searched linearly (tests are small). */
struct agg {
	char *key;
	unsigned long count;
};
static struct agg *aggs;
static size_t nr_aggs, cap_aggs;

static void die(const char *what, const struct pyperf_error *err, int code)
{
	char line[600];

	if (err && err->code)
		fprintf(stderr, "pywalk: %s: %s\n", what,
			pyperf_error__format(err, line, sizeof(line)));
	else
		fprintf(stderr, "pywalk: %s: %s\n", what, strerror(errno));
	exit(code);
}

static void add_agg(const char *key)
{
	for (size_t i = 0; i < nr_aggs; i++)
		if (!strcmp(aggs[i].key, key)) {
			aggs[i].count++;
			return;
		}
	if (nr_aggs == cap_aggs) {
		cap_aggs = cap_aggs ? cap_aggs * 2 : 64;
		aggs = realloc(aggs, cap_aggs * sizeof(*aggs));
		if (!aggs)
			exit(3);
	}
	aggs[nr_aggs].key = strdup(key);
	aggs[nr_aggs++].count = 1;
}

static const char *gil_name(enum pyperf_pystack_gil g)
{
	return g == PYPERF_PYSTACK_GIL_YES ? "gil" : g == PYPERF_PYSTACK_GIL_NO ? "nogil" : "gil?";
}

/* Names the frames now, outermost first, into one aggregated line. */
static void account(const char *kind, const struct pyperf_pystack *s)
{
	static char line[1 << 20];
	size_t n;

	n = (size_t)snprintf(line, sizeof(line), "%s %s %s %u ", kind,
			     pyperf_pystack__status_name(s->status), gil_name(s->gil), s->nr);
	for (uint32_t k = s->nr; k-- > 0 && n < sizeof(line) - 2048;) {
		struct pyperf_pyframe f;
		struct pyperf_pyframe_info info;

		pyperf_pystack__frame(s, k, &f);
		if (pyperf_interp__resolve(interp, &f, &info) == -ESRCH)
			resolve_gone++;
		n += (size_t)snprintf(line + n, sizeof(line) - n, "%s%s%s (%s:%d)",
				      k + 1 == s->nr ? "" : ";",
				      entries && (f.flags & PYPERF_PYFRAME_ENTRY) ? "^" : "",
				      info.name, info.file, info.line);
	}
	if (per_sample)
		printf("at %llu %u %s\n", (unsigned long long)s->time, s->tid, line);
	else
		add_agg(line);
}

/* Samples start with the identifier (PERF_SAMPLE_IDENTIFIER), then tid, time, cpu. */
static void handle(int b, const struct perf_event_header *h)
{
	const uint8_t *p = (const uint8_t *)(h + 1);
	uint64_t id;
	uint32_t tid;

	if (h->type != PERF_RECORD_SAMPLE) {
		pyperf_pystack_pairer__other(pairer, (unsigned)b);
		return;
	}
	memcpy(&id, p, 8);
	memcpy(&tid, p + 12, 4);
	if (id == out_ids[b]) {
		uint32_t size;

		memcpy(&size, p + 32, 4);
		if (pyperf_pystack_pairer__record(pairer, (unsigned)b, p + 36, size))
			records_bad++;
		return;
	}
	{
		const struct pyperf_pystack *s;
		bool sw = false;

		for (size_t i = 0; i < nr_switch_ids; i++)
			sw |= switch_ids[i] == id;
		samples_total++;
		if (pyperf_pystack_pairer__sample(pairer, (unsigned)b, tid, &s) == 1)
			account(sw ? "switch" : "sample", s);
	}
}

static void drain(void)
{
	static uint8_t copy[1 << 16];

	for (int c = 0; c < ncpu; c++) {
		struct perf_event_mmap_page *pg = bufs[c].base;
		uint8_t *data;
		uint64_t head, tail, mask;

		if (!pg)
			continue;
		data = (uint8_t *)pg + pg->data_offset;
		mask = pg->data_size - 1;
		head = __atomic_load_n(&pg->data_head, __ATOMIC_ACQUIRE);
		tail = pg->data_tail;
		while (tail < head) {
			struct perf_event_header h;
			size_t off = tail & mask, first;

			memcpy(&h, data + off, sizeof(h)); /* headers never straddle: 8-aligned */
			if (!h.size)
				break;
			first = MIN_SIZE(h.size, pg->data_size - off);
			memcpy(copy, data + off, first);
			memcpy(copy + first, data, h.size - first);
			handle(c, (const struct perf_event_header *)copy);
			tail += h.size;
		}
		__atomic_store_n(&pg->data_tail, tail, __ATOMIC_RELEASE);
	}
}

static int perf_open(struct perf_event_attr *a, int pid, int cpu)
{
	return (int)syscall(__NR_perf_event_open, a, pid, cpu, -1, PERF_FLAG_FD_CLOEXEC);
}

static uint64_t sched_switch_id(void)
{
	static const char *const paths[] = {
	    "/sys/kernel/tracing/events/sched/sched_switch/id",
	    "/sys/kernel/debug/tracing/events/sched/sched_switch/id"};

	for (size_t i = 0; i < 2; i++) {
		FILE *f = fopen(paths[i], "r");
		unsigned long long id;

		if (f && fscanf(f, "%llu", &id) == 1) {
			fclose(f);
			return id;
		}
		if (f)
			fclose(f);
	}
	return 0;
}

/* One event on @pid (a thread, or a launched child with inherit) and @cpu. */
static void open_on(struct pyperf_interp_walker *w, struct perf_event_attr *a, int pid, int cpu,
		    enum pyperf_interp_event kind)
{
	struct pyperf_error err = {0};
	int fd = perf_open(a, pid, cpu);
	uint64_t id;

	if (fd < 0) {
		if (errno == ESRCH)
			return; /* a thread that ended meanwhile */
		die("perf_event_open", NULL, errno == EACCES || errno == EPERM ? 77 : 2);
	}
	if (!bufs[cpu].base) {
		bufs[cpu].size = (PAGES + 1) * (size_t)sysconf(_SC_PAGESIZE);
		bufs[cpu].base =
		    mmap(NULL, bufs[cpu].size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (bufs[cpu].base == MAP_FAILED)
			die("mmap", NULL, 2);
		bufs[cpu].fd = fd;
		if (pyperf_interp_walker__open_output(w, cpu, fd, SAMPLE_TYPE, false, 0,
						      &out_ids[cpu], &err) < 0)
			die("bpf-output", &err, 2);
	} else if (ioctl(fd, PERF_EVENT_IOC_SET_OUTPUT, bufs[cpu].fd)) {
		die("PERF_EVENT_IOC_SET_OUTPUT", NULL, 2);
	}
	if (kind == PYPERF_INTERP_EVENT_SWITCH) {
		if (ioctl(fd, PERF_EVENT_IOC_ID, &id))
			die("PERF_EVENT_IOC_ID", NULL, 2);
		if (nr_switch_ids == cap_switch_ids) {
			cap_switch_ids = cap_switch_ids ? 2 * cap_switch_ids : 64;
			switch_ids = realloc(switch_ids, cap_switch_ids * sizeof(*switch_ids));
		}
		switch_ids[nr_switch_ids++] = id;
	}
	if (!no_attach && pyperf_interp_walker__attach(w, fd, kind, &err))
		die("attach", &err, 2);
}

static int dump_cb(const struct pyperf_pythread *t, void *ctx)
{
	(void)ctx;
	printf("thread tstate=%#llx thread_id=%#llx native_tid=%d gil=%d depth=%u%s\n",
	       (unsigned long long)t->tstate, (unsigned long long)t->thread_id, t->native_tid,
	       t->holds_gil, t->nr, t->truncated ? " truncated" : "");
	for (unsigned i = 0; i < t->nr; i++) {
		struct pyperf_pyframe_info info;

		pyperf_interp__resolve(interp, &t->frames[i], &info);
		printf("  %s%s (%s:%d) lasti=%d\n",
		       t->frames[i].flags & PYPERF_PYFRAME_ENTRY ? "^" : "", info.name, info.file,
		       info.line, t->frames[i].lasti);
	}
	return 0;
}

static volatile sig_atomic_t stop;
static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"switch", no_argument, NULL, 's'},
	    {"entries", no_argument, NULL, 'e'},
	    {"dump", no_argument, NULL, 'D'},
	    {"samples", no_argument, NULL, 'S'},
	    {"no-attach", no_argument, NULL, 'N'},
	    {"drain-ms", required_argument, NULL, 'r'},
	    {NULL, 0, NULL, 0},
	};
	int opt, pid = 0, freq = 999, max_frames = 0, child = 0, sync_pipe[2] = {-1, -1},
		 drain_ms = 50;
	double seconds = 2;
	bool do_switch = false, dump = false;
	struct pyperf_error err = {0};
	struct pyperf_interp_walker *w;
	struct pyperf_interp_walker_stats ws;
	struct pyperf_pystack_pairer_stats ps;
	struct pyperf_interp_stats is;
	struct timespec t0, now;
	int status = 0;

	while ((opt = getopt_long(argc, argv, "+p:F:d:m:", longopts, NULL)) != -1) {
		switch (opt) {
		case 'p':
			pid = atoi(optarg);
			break;
		case 'F':
			freq = atoi(optarg);
			break;
		case 'd':
			seconds = atof(optarg);
			break;
		case 'm':
			max_frames = atoi(optarg);
			break;
		case 's':
			do_switch = true;
			break;
		case 'e':
			entries = true;
			break;
		case 'D':
			dump = true;
			break;
		case 'S':
			per_sample = true;
			break;
		case 'N':
			no_attach = true;
			break;
		case 'r':
			drain_ms = atoi(optarg);
			break;
		default:
			return 1;
		}
	}
	if (!pid && optind >= argc) {
		fprintf(stderr,
			"usage: pywalk [-F HZ] [-d S] [-m N] [--switch] -p PID | -- PROG...\n");
		return 1;
	}
	if (dump) {
		interp = pyperf_interp__open(pid, NULL, &err);
		if (!interp)
			die("open", &err, 2);
		printf("interp version=%u.%u path=%s layout=%s\n",
		       pyperf_interp__version(interp) >> 8, pyperf_interp__version(interp) & 0xff,
		       pyperf_interp__path(interp), pyperf_interp__layout(interp));
		if (pyperf_interp__for_each_thread(interp, (unsigned)max_frames, dump_cb, NULL) < 0)
			die("threads", NULL, 2);
		pyperf_interp__close(interp);
		return 0;
	}
	if (!pid) {
		/* the child waits until the events are on it, then runs the program */
		if (pipe(sync_pipe))
			die("pipe", NULL, 2);
		child = fork();
		if (child < 0)
			die("fork", NULL, 2);
		if (child == 0) {
			char c;

			close(sync_pipe[1]);
			if (read(sync_pipe[0], &c, 1) != 1)
				_exit(126);
			execvp(argv[optind], argv + optind);
			_exit(127);
		}
		close(sync_pipe[0]);
	}
	ncpu = (int)sysconf(_SC_NPROCESSORS_CONF);
	bufs = calloc((size_t)ncpu, sizeof(*bufs));
	out_ids = calloc((size_t)ncpu, sizeof(*out_ids));
	pairer = pyperf_pystack_pairer__new((unsigned)ncpu);
	if (!bufs || !out_ids || !pairer)
		return 3;
	{
		PYPERF_OPTS(pyperf_interp_walker_open_opts, wo, .max_frames = (unsigned)max_frames);

		w = pyperf_interp_walker__open(&wo, &err);
		if (!w)
			die("walker", &err, errno == EPERM ? 77 : 2);
	}
	if (pid) {
		interp = pyperf_interp__open(pid, NULL, &err);
		if (!interp)
			die("open", &err, 2);
		if (pyperf_interp_walker__add(w, interp, pid))
			die("add", NULL, 2);
	}
	{
		struct perf_event_attr a = {
		    .size = sizeof(a),
		    .type = PERF_TYPE_SOFTWARE,
		    .config = PERF_COUNT_SW_CPU_CLOCK,
		    .sample_freq = (uint64_t)freq,
		    .freq = 1,
		    .sample_type = SAMPLE_TYPE,
		    .sample_id_all = 1,
		    .inherit =
			1, /* threads started later are sampled too, as perf record -p does */
		    .enable_on_exec = child ? 1 : 0,
		    .disabled = child ? 1 : 0,
		};
		struct perf_event_attr sa = a;
		uint64_t swid = do_switch ? sched_switch_id() : 0;

		if (do_switch && !swid) {
			fprintf(stderr, "pywalk: no sched:sched_switch tracepoint (tracefs)\n");
			return 77;
		}
		sa.type = PERF_TYPE_TRACEPOINT;
		sa.config = swid;
		sa.freq = 0;
		sa.sample_period = 1;
		for (int c = 0; c < ncpu; c++) {
			if (child) {
				open_on(w, &a, child, c, PYPERF_INTERP_EVENT_SAMPLE);
				if (do_switch)
					open_on(w, &sa, child, c, PYPERF_INTERP_EVENT_SWITCH);
				continue;
			}
			/* every thread of the process, as perf record -p does */
			char dir[64];
			DIR *d;
			struct dirent *e;

			snprintf(dir, sizeof(dir), "/proc/%d/task", pid);
			d = opendir(dir);
			if (!d)
				die("task list", NULL, 2);
			while ((e = readdir(d))) {
				int tid = atoi(e->d_name);

				if (tid <= 0)
					continue;
				open_on(w, &a, tid, c, PYPERF_INTERP_EVENT_SAMPLE);
				if (do_switch)
					open_on(w, &sa, tid, c, PYPERF_INTERP_EVENT_SWITCH);
			}
			closedir(d);
		}
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	if (child) {
		PYPERF_OPTS(pyperf_interp_open_opts, oo, .wait_ms = 10000);

		if (write(sync_pipe[1], "x", 1) != 1)
			die("start", NULL, 2);
		close(sync_pipe[1]);
		/* samples before the interpreter is found have no records: counted */
		interp = pyperf_interp__open(child, &oo, &err);
		if (!interp)
			die("open", &err, 2);
		if (pyperf_interp_walker__add(w, interp, child))
			die("add", NULL, 2);
		pid = child;
	}
	printf("interp version=%u.%u path=%s layout=%s\n", pyperf_interp__version(interp) >> 8,
	       pyperf_interp__version(interp) & 0xff, pyperf_interp__path(interp),
	       pyperf_interp__layout(interp));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (!stop) {
		double dt;

		poll(NULL, 0, drain_ms);
		drain();
		if (child && waitpid(child, &status, WNOHANG) == child)
			break;
		clock_gettime(CLOCK_MONOTONIC, &now);
		dt = (double)(now.tv_sec - t0.tv_sec) + (double)(now.tv_nsec - t0.tv_nsec) / 1e9;
		if (!child && dt >= seconds)
			break;
	}
	drain();
	for (size_t i = 0; i < nr_aggs; i++) {
		char *key = aggs[i].key, *sp1 = strchr(key, ' ');

		/* "stack KIND COUNT STATUS GIL DEPTH FRAMES" */
		*sp1 = 0;
		printf("stack %s %lu %s\n", key, aggs[i].count, sp1 + 1);
	}
	if (pyperf_interp_walker__stats(w, &ws))
		die("stats", NULL, 2);
	pyperf_pystack_pairer__stats(pairer, &ps);
	pyperf_interp__stats(interp, &is);
	printf("stats walker runs=%llu written=%llu output_errors=%llu no_tstate=%llu faults=%llu "
	       "truncated=%llu tstate_walks=%llu frames=%llu run_time_ns=%llu run_cnt=%llu\n",
	       (unsigned long long)ws.runs, (unsigned long long)ws.written,
	       (unsigned long long)ws.output_errors, (unsigned long long)ws.no_tstate,
	       (unsigned long long)ws.faults, (unsigned long long)ws.truncated,
	       (unsigned long long)ws.tstate_walks, (unsigned long long)ws.frames,
	       (unsigned long long)ws.run_time_ns, (unsigned long long)ws.run_cnt);
	printf("stats pairer samples=%llu records=%llu paired=%llu unpaired_records=%llu "
	       "bad_records=%llu samples_without=%llu records_missing=%llu\n",
	       (unsigned long long)samples_total, (unsigned long long)ps.records,
	       (unsigned long long)ps.paired, (unsigned long long)ps.unpaired_records,
	       (unsigned long long)(ps.bad_records + records_bad),
	       (unsigned long long)ps.samples_without, (unsigned long long)ps.records_missing);
	printf("stats interp codes_read=%llu codes_changed=%llu unknown=%llu read_errors=%llu "
	       "gone=%llu\n",
	       (unsigned long long)is.codes_read, (unsigned long long)is.codes_changed,
	       (unsigned long long)is.unknown, (unsigned long long)is.read_errors,
	       (unsigned long long)resolve_gone);
	pyperf_interp_walker__close(w);
	pyperf_pystack_pairer__free(pairer);
	pyperf_interp__close(interp);
	if (child && !WIFEXITED(status))
		waitpid(child, &status, 0);
	return 0;
}
