// SPDX-License-Identifier: MIT
/*
 * The Python environment of recorded programs: perf support switched on
 * (3.12+) or libpyperf's trampolines loaded (3.8-3.11), and what the
 * recorder says about processes it attaches to.
 */
#include "record_internal.h"

/* ---- launching ------------------------------------------------------------------------ */

/* The program a command runs: skips "env" and its options and assignments. */
static const char *real_command(char *const argv[])
{
	size_t i = 0;
	const char *base = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];

	if (strcmp(base, "env"))
		return argv[0];
	for (i = 1; argv[i]; i++) {
		if (argv[i][0] == '-' || strchr(argv[i], '='))
			continue;
		return argv[i];
	}
	return argv[0];
}

/* Is the trampoline extension for CPython @v (e.g. 311) in python_dir? */
static bool have_trampolines(struct pyperf_recorder *r, int v)
{
	char pattern[PATH_MAX + 64];
	glob_t g;
	bool found;

	if (!r->o.python_dir)
		return false;
	snprintf(pattern, sizeof(pattern), "%s/perf_trampoline/_trampoline.cpython-%d%d-*.so",
		 r->o.python_dir, v / 100, v % 100);
	found = !glob(pattern, 0, NULL, &g);
	if (found)
		globfree(&g);
	return found;
}

/*
 * In the launched child, before exec: a perf map or jitdump named after
 * its pid was left by a dead process that had the same pid (CPython and
 * JITs append to an existing map), and its entries would be read as the
 * child's: removed when it is a regular file of ours. Anything else there
 * was planted (no live process has this pid but the child): a FIFO would
 * hold CPython's open of its map for ever (it opens without O_NONBLOCK),
 * another user's file would take the child's entries. It is removed where
 * the sticky /tmp lets us (root), and the file created empty and ours at
 * once, so nobody can plant it again before the program opens it; where
 * it cannot be removed, Python's perf support stays off for the child.
 */
void pyperf_recorder_remove_stale_maps(void)
{
	const char *fmt[] = {"/tmp/perf-%d.map", "/tmp/jit-%d.dump"};

	for (size_t i = 0; i < sizeof(fmt) / sizeof(fmt[0]); i++) {
		char path[64];
		struct stat st;
		int fd;

		snprintf(path, sizeof(path), fmt[i], (int)getpid());
		if (lstat(path, &st))
			continue;
		if (S_ISREG(st.st_mode) && st.st_uid == geteuid() && st.st_nlink == 1) {
			unlink(path);
			continue;
		}
		if (unlink(path)) {
			pr_warn(
			    "%s was planted (uid %u, not a file of ours) and cannot be removed: "
			    "Python's perf support is off for this command\n",
			    path, (unsigned)st.st_uid);
			unsetenv("PYTHONPERFSUPPORT");
			unsetenv("PYPERF_TRAMPOLINE");
			continue;
		}
		pr_warn("%s was planted (uid %u, %s): removed\n", path, (unsigned)st.st_uid,
			S_ISFIFO(st.st_mode)  ? "a FIFO"
			: S_ISLNK(st.st_mode) ? "a symlink"
			: S_ISREG(st.st_mode) ? "another user's file"
					      : "not a regular file");
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd >= 0) {
			close(fd);
		} else {
			/* planted again at once: leave it to nobody */
			unsetenv("PYTHONPERFSUPPORT");
			unsetenv("PYPERF_TRAMPOLINE");
		}
	}
}

/* In the launched child: switch on Python's perf support, ours for 3.8-3.11. */
void pyperf_recorder_python_environment(struct pyperf_recorder *r)
{
	const char *old = getenv("PYTHONPATH");
	char path[2 * PATH_MAX];

	if (r->o.no_python)
		return;
	/* 3.12+ without our folder: CPython's support from startup. With it,
	 * our sitecustomize switches it on once site's own frames run, so
	 * that none of them (nor the bootstrap's) carries a perf name. */
	if (!r->o.python_dir) {
		setenv("PYTHONPERFSUPPORT", "1", 1);
		return;
	}
	if (old && *old)
		snprintf(path, sizeof(path), "%s:%s", r->o.python_dir, old);
	else
		snprintf(path, sizeof(path), "%s", r->o.python_dir);
	setenv("PYTHONPATH", path, 1);
	setenv("PYPERF_TRAMPOLINE", "1", 1);
}

/* Whether a launched Python @v gets its functions named. */
bool pyperf_recorder_have_python_support(struct pyperf_recorder *r, int v)
{
	return v >= 312 || (v >= 308 && have_trampolines(r, v));
}

/* A Python process whose frames should be named: checked at the end. */
void pyperf_recorder_watch_python(struct pyperf_recorder *r, pid_t pid, int version)
{
	if (version < 308 || r->nr_py >= sizeof(r->py) / sizeof(r->py[0]))
		return;
	r->py[r->nr_py].pid = pid;
	r->py[r->nr_py].version = version;
	r->py[r->nr_py].named = r->py[r->nr_py].seen = false;
	r->nr_py++;
}

/*
 * A running Python can be named from outside only if it already writes a
 * perf map (-X perf, PYTHONPERFSUPPORT=1, perf_trampoline): say which,
 * and how to get the frames otherwise.
 */
void pyperf_recorder_attach_python_note(struct pyperf_recorder *r, pid_t pid)
{
	char exe[64], path[PATH_MAX], map[64];
	struct stat st;
	bool live;
	ssize_t n;
	int v;

	snprintf(exe, sizeof(exe), "/proc/%d/exe", pid);
	n = readlink(exe, path, sizeof(path) - 1);
	if (n <= 0)
		return;
	path[n] = 0;
	v = pyperf_python_version(path);
	if (!v)
		return;
	if (!r->stats.python_version)
		r->stats.python_version = v;
	snprintf(map, sizeof(map), "/tmp/perf-%d.map", pid);
	/* a map of a dead process with the same pid names nothing here */
	live = !stat(map, &st) && S_ISREG(st.st_mode) && !pyperf_left_by_dead_process(&st, pid);
	if (v < 308)
		pyperf_recorder_note(
		    r, "pid %d: Python %d.%d: Python frames need CPython 3.8 or newer", pid,
		    v / 100, v % 100);
	else if (live)
		pyperf_recorder_note(
		    r, "pid %d: Python %d.%d writes %s: its Python functions will be named", pid,
		    v / 100, v % 100, map);
	else if (v >= 312)
		pyperf_recorder_note(
		    r,
		    "pid %d: Python %d.%d without perf support (no %s): nothing can switch it on "
		    "from outside, so its Python functions will show as interpreter frames; start "
		    "it "
		    "with python3 -X perf (or PYTHONPERFSUPPORT=1), or under pyperf-record -- "
		    "COMMAND",
		    pid, v / 100, v % 100, map);
	else
		pyperf_recorder_note(
		    r,
		    "pid %d: Python %d.%d without perf trampolines (no %s): nothing can switch "
		    "them "
		    "on from outside, so its Python functions will show as interpreter frames; "
		    "start "
		    "it with python3 -m perf_trampoline SCRIPT (PYTHONPATH=%s), or under "
		    "pyperf-record -- COMMAND",
		    pid, v / 100, v % 100, map,
		    r->o.python_dir ? r->o.python_dir : "pyperf's python folder");
	pyperf_recorder_watch_python(r, pid, v);
}

void pyperf_recorder_decide_python_and_callgraph(struct pyperf_recorder *r, char *const argv[],
						 bool attach)
{
	char path[PATH_MAX], code[PATH_MAX];
	const char *cmd = real_command(argv);
	int v;

	if (binary_resolve(cmd, path, sizeof(path)))
		return;
	v = pyperf_python_version(path);
	if (!attach)
		r->stats.python_version = v;
	if (v && !r->o.no_python && !attach) {
		if (v >= 312 && r->o.python_dir)
			pyperf_recorder_note(
			    r,
			    "Python %d.%d: perf support switched on through PYTHONPATH "
			    "(sys.activate_stack_trampoline, PYPERF_TRAMPOLINE=1)",
			    v / 100, v % 100);
		else if (v >= 312)
			pyperf_recorder_note(
			    r, "Python %d.%d: perf support switched on (PYTHONPERFSUPPORT=1)",
			    v / 100, v % 100);
		else if (v < 308)
			pyperf_recorder_note(
			    r, "Python %d.%d: Python frames need CPython 3.8 or newer", v / 100,
			    v % 100);
		else if (have_trampolines(r, v))
			pyperf_recorder_note(
			    r,
			    "Python %d.%d: perf trampolines switched on through PYTHONPATH "
			    "(libpyperf, PYPERF_TRAMPOLINE=1)",
			    v / 100, v % 100);
		else
			pyperf_recorder_note(
			    r,
			    "Python %d.%d: perf trampolines were not built for this version "
			    "(build pyperf with its headers installed); Python frames will be "
			    "missing",
			    v / 100, v % 100);
	}
	/* An interpreter without frame pointers: fp stacks end inside it,
	 * before any Python frame. */
	if (r->o.callgraph == PYPERF_CALLGRAPH_FP && v) {
		int is_lib = binary_code_object(path, code, sizeof(code));

		if (!pyperf_binary_has_frame_pointers(code))
			pyperf_recorder_note(
			    r,
			    "warning: --call-graph fp, but %s%s lacks frame pointers: stacks will "
			    "stop inside it, without the Python frames above; --call-graph dwarf "
			    "(or -g) unwinds it",
			    is_lib ? "the interpreter library " : "", code);
	}
	if (r->o.callgraph == PYPERF_CALLGRAPH_AUTO) {
		int is_lib = binary_code_object(path, code, sizeof(code));
		int fp = pyperf_binary_has_frame_pointers(code);

		r->o.callgraph = fp == 1 ? PYPERF_CALLGRAPH_FP : PYPERF_CALLGRAPH_DWARF;
		pyperf_recorder_note(r, "call graphs: %s (%s%s %s frame pointers)",
				     fp == 1 ? "fp" : "dwarf",
				     is_lib ? "the interpreter library " : "", code,
				     fp == 1   ? "keeps"
				     : fp == 0 ? "lacks"
					       : "could not be checked for");
	}
}
