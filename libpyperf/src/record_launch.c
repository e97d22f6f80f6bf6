// SPDX-License-Identifier: MIT
/*
 * Starting to record: a command launched under the events, or running
 * processes attached to.
 */
#include "record_internal.h"

PYPERF_API int pyperf_recorder__launch(struct pyperf_recorder *r, char *const argv[],
				       struct pyperf_error *err)
{
	int go[2], ex[2], ret, e = 0;
	pid_t pid;
	char path[PATH_MAX];
	ssize_t n;

	if (!argv || !argv[0] || r->started)
		return pyperf_err(-EINVAL);
	ret = binary_resolve(argv[0], path, sizeof(path));
	if (ret) {
		pyperf_error_set(err, ret, PYPERF_NO_OFFSET, argv[0],
				 ret == -ENOENT ? "command not found" : "cannot execute: %s",
				 strerror(-ret));
		return pyperf_err(ret == -ENOENT ? -ENOENT : -ENOEXEC);
	}
	pyperf_recorder_decide_python_and_callgraph(r, argv, false);
	if (pipe2(go, O_CLOEXEC) || pipe2(ex, O_CLOEXEC))
		return pyperf_err(pyperf_error_set(err, -errno, PYPERF_NO_OFFSET, NULL, "pipe: %s",
						   strerror(errno)));
	pid = fork();
	if (pid < 0) {
		e = errno;
		close(go[0]);
		close(go[1]);
		close(ex[0]);
		close(ex[1]);
		return pyperf_err(
		    pyperf_error_set(err, -e, PYPERF_NO_OFFSET, NULL, "fork: %s", strerror(e)));
	}
	if (pid == 0) {
		char c;

		close(go[1]);
		close(ex[0]);
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		pyperf_recorder_python_environment(r);
		pyperf_recorder_remove_stale_maps();
		/* Wait until the events are armed; EOF means the recorder gave up. */
		if (read(go[0], &c, 1) != 1)
			_exit(127);
		execvp(argv[0], argv);
		e = errno;
		if (write(ex[1], &e, sizeof(e)) < 0)
			_exit(127);
		_exit(127);
	}
	close(go[0]);
	close(ex[1]);
	r->child = pid;
	r->launched = true;
	if (!r->o.no_python && pyperf_recorder_have_python_support(r, r->stats.python_version))
		pyperf_recorder_watch_python(r, pid, r->stats.python_version);
	r->go_fd = go[1];
	r->exec_err_fd = ex[0];

	r->cpus = perf_cpu_map__new_online_cpus();
	r->threads = perf_thread_map__new_array(1, &pid);
	if (!r->cpus || !r->threads) {
		ret = pyperf_error_set(err, -ENOMEM, PYPERF_NO_OFFSET, NULL, "out of memory");
		goto kill_child;
	}
	ret = pyperf_recorder_open_events(r, true, err);
	if (ret)
		goto kill_child;
	if ((ret = pyperf_recorder_write_attrs(r, err)))
		goto kill_child;
	/* perf names the workload before its exec, so the thread exists */
	if ((ret = pyperf_recorder_synth_kernel_mmap(r)) ||
	    (ret = pyperf_recorder_synth_comm(r, (uint32_t)pid, (uint32_t)pid, "pyperf-exec"))) {
		pyperf_error_set(err, ret, PYPERF_NO_OFFSET, r->output, "cannot write: %s",
				 strerror(-ret));
		goto kill_child;
	}
	clock_gettime(CLOCK_MONOTONIC, &r->t0);
	r->t0_real = pyperf_recorder_realtime_now();
	r->started = true;
	if (write(r->go_fd, "x", 1) != 1) {
		ret = pyperf_error_set(err, -errno, PYPERF_NO_OFFSET, NULL,
				       "cannot start the command");
		goto kill_child;
	}
	close(r->go_fd);
	r->go_fd = -1;
	n = read(r->exec_err_fd, &e, sizeof(e));
	close(r->exec_err_fd);
	r->exec_err_fd = -1;
	if (n == sizeof(e)) {
		waitpid(pid, &r->child_status, 0);
		pyperf_error_set(err, -e, PYPERF_NO_OFFSET, argv[0], "cannot execute: %s",
				 strerror(e));
		/* not found vs found but not runnable, as a shell tells them apart */
		return pyperf_err(e == ENOENT ? -ENOENT : -ENOEXEC);
	}
	/* started: the recording takes the output's name now, so that a
	 * recorder killed from here on leaves what it wrote there, as perf's
	 * does (a failed rename is tried again at finish) */
	pyperf_recorder_commit_output(r, NULL);
	return 0;
kill_child:
	if (r->go_fd >= 0)
		close(r->go_fd); /* the child sees EOF and exits */
	r->go_fd = -1;
	waitpid(pid, &r->child_status, 0);
	r->child = -1;
	/* -ENOENT and -ENOEXEC say the command was not found or not run
	 * (exit 127, 126); a failure to record is something else. */
	if (ret == -ENOENT || ret == -ENOEXEC)
		ret = -EIO;
	return pyperf_err(ret);
}

PYPERF_API int pyperf_recorder__attach(struct pyperf_recorder *r, const pid_t *pids, size_t nr,
				       struct pyperf_error *err)
{
	pid_t *tids = NULL;
	size_t nt = 0, cap = 0;
	int ret;

	if (!nr || r->started)
		return pyperf_err(-EINVAL);
	r->attach_pids = pp_calloc(nr, sizeof(*pids));
	r->attach_started = pp_calloc(nr, sizeof(*r->attach_started));
	if (!r->attach_pids || !r->attach_started)
		return pyperf_err(-ENOMEM);
	memcpy(r->attach_pids, pids, nr * sizeof(*pids));
	r->nr_attach = nr;
	for (size_t i = 0; i < nr; i++) {
		pyperf_recorder_attach_python_note(r, pids[i]);
		pyperf_process_started(pids[i], &r->attach_started[i]);
	}
	if (r->o.callgraph == PYPERF_CALLGRAPH_AUTO || r->o.callgraph == PYPERF_CALLGRAPH_FP) {
		char exe[64], path[PATH_MAX];
		ssize_t n;

		snprintf(exe, sizeof(exe), "/proc/%d/exe", pids[0]);
		n = readlink(exe, path, sizeof(path) - 1);
		if (n > 0) {
			char *argv[] = {path, NULL};

			path[n] = 0;
			pyperf_recorder_decide_python_and_callgraph(r, argv, true);
		}
		if (r->o.callgraph == PYPERF_CALLGRAPH_AUTO)
			r->o.callgraph = PYPERF_CALLGRAPH_DWARF;
	}
	for (size_t i = 0; i < nr; i++) {
		char path[64];
		DIR *dir;
		struct dirent *de;

		snprintf(path, sizeof(path), "/proc/%d/task", pids[i]);
		dir = opendir(path);
		if (!dir) {
			free(tids);
			return pyperf_err(pyperf_error_set(err, -ESRCH, PYPERF_NO_OFFSET, NULL,
							   "no such process: %d", pids[i]));
		}
		while ((de = readdir(dir))) {
			pid_t t = (pid_t)atoi(de->d_name);

			if (t <= 0)
				continue;
			if (PP_GROW(tids, cap, nt + 1)) {
				closedir(dir);
				free(tids);
				return pyperf_err(-ENOMEM);
			}
			tids[nt++] = t;
		}
		closedir(dir);
	}
	r->cpus = perf_cpu_map__new_online_cpus();
	r->threads = perf_thread_map__new_array((int)nt, tids);
	free(tids);
	if (!r->cpus || !r->threads)
		return pyperf_err(-ENOMEM);
	ret = pyperf_recorder_open_events(r, false, err);
	if (ret)
		return pyperf_err(ret);
	if ((ret = pyperf_recorder_write_attrs(r, err)))
		return pyperf_err(ret);
	ret = pyperf_recorder_synth_kernel_mmap(r);
	for (size_t i = 0; i < nr && !ret; i++)
		ret = pyperf_recorder_synth_process(r, pids[i]);
	if (ret && ret != -ENOENT)
		return pyperf_err(pyperf_error_set(err, ret, PYPERF_NO_OFFSET, r->output,
						   "cannot write: %s", strerror(-ret)));
	r->attached = true;
	r->started = true;
	clock_gettime(CLOCK_MONOTONIC, &r->t0);
	r->t0_real = pyperf_recorder_realtime_now();
	perf_evlist__enable(r->evlist);
	pyperf_recorder_commit_output(r, NULL); /* as after a launch */
	return 0;
}
