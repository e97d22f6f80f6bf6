#!/usr/bin/env python3
"""Benchmark: how fast pyperf-report's browser opens on a large recording.

The recording is bench/formats.py's (cached in build/bench/): about
500,000 frame-pointer samples over two threads. Each run starts the browser
in a tmux terminal with 'q' already typed, so that it reads the file,
builds the report's rows, draws the first screen and quits; bash's `time`
around it gives wall and CPU seconds. Interleaved with the same file
printed (--stdio to /dev/null) and folded (--collapsed: reading the file
and little else); perf report's own browser is opened and quit the same
way once (it takes a hundred times as long). Target (issue 17): the browser opens in well under
a second.

stdout: one Markdown section for bench/RESULTS.md; progress on stderr.
usage: bench/tui.py [RUNS=7]
"""
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from formats import BIN, recording  # noqa: E402


def log(msg):
    print(f'tui.py: {msg}', file=sys.stderr, flush=True)


def in_terminal(cmd, timeout=300):
    """(wall, CPU) seconds of cmd run in a 160x45 tmux terminal, 'q' typed."""
    d = tempfile.mkdtemp(prefix='pyperf-bench-tui-')
    name = f'pyperf-bench-tui-{os.getpid()}'
    out = os.path.join(d, 'time')
    quoted = ' '.join(subprocess.list2cmdline([c]) for c in cmd)
    # the command's own stderr away: the group's is time's report
    shell = (f"TIMEFORMAT='%R %U %S'; {{ time {quoted} 2> /dev/null ; }} "
             f"2> {out}.tmp; mv {out}.tmp {out}; sleep 600")
    try:
        subprocess.run(['tmux', '-L', name, '-f', '/dev/null', 'new-session', '-d', '-s', name,
                        '-x', '160', '-y', '45', 'bash', '-c', shell], check=True)
        subprocess.run(['tmux', '-L', name, 'send-keys', '-t', name, 'q'], check=True)
        end = time.time() + timeout
        while not os.path.exists(out) and time.time() < end:
            time.sleep(0.05)
        if not os.path.exists(out):
            sys.exit(f'tui.py: {quoted} did not quit within {timeout} s')
        wall, user, sys_ = (float(x) for x in open(out).read().split())
        return wall, user + sys_
    finally:
        subprocess.run(['tmux', '-L', name, 'kill-server'], stderr=subprocess.DEVNULL)
        shutil.rmtree(d, ignore_errors=True)


def printed(data, *how):
    cmd = [os.path.join(BIN, 'pyperf-report'), '-q', '-i', data, *how, '-o', '/dev/null']
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)
    _, status, ru = os.wait4(p.pid, 0)
    if status:
        sys.exit(f'tui.py: {" ".join(cmd)} failed ({status})')
    return time.perf_counter() - t0, ru.ru_utime + ru.ru_stime


def main():
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 7
    for tool in ('tmux', 'perf'):
        if not shutil.which(tool):
            sys.exit(f'tui.py: {tool} is needed')
    data = recording()
    samples = subprocess.run([os.path.join(BIN, 'pyperf-report'), '-q', '-i', data, '--stdio',
                              '-g', 'none', '--percent-limit', '100'], capture_output=True,
                             text=True, check=True).stdout
    line = next((l for l in samples.splitlines() if l.startswith('# Samples:')), '')
    variants = {
        'pyperf-report (browser)': lambda: in_terminal([os.path.join(BIN, 'pyperf-report'),
                                                         '-q', '-i', data]),
        'pyperf-report --stdio': lambda: printed(data, '--stdio'),
        'pyperf-report --collapsed (reading alone)': lambda: printed(data, '--collapsed'),
    }
    res = {k: [] for k in variants}
    names = list(variants)
    log(f'warm-up, then {runs} rounds')
    for k in names:
        variants[k]()
    for r in range(runs):
        order = names[r % len(names):] + names[:r % len(names)]
        for k in order:
            res[k].append(variants[k]())
        log(f'round {r + 1}: ' + ', '.join(f'{k} {res[k][-1][0]:.2f}s' for k in names))
    # perf's browser takes a hundred times as long here: once
    log('perf report, once')
    perf = in_terminal(['perf', 'report', '-i', data], timeout=900)
    load = open('/proc/loadavg').read().split()[:3]
    print('## Opening the browser (issue 17, bench/tui.py)\n')
    print(f'`bench/tui.py {runs}`: the browser started in a 160x45 tmux terminal with `q` '
          f'already typed (it reads the file, builds the report, draws the first screen and '
          f'quits), on bench/formats.py\'s recording ({line[2:].strip()}, '
          f'{os.path.getsize(data) / 1e6:.0f} MB); {runs} interleaved rounds after a warm-up, '
          f'medians (min-max). Load average at the end: {" ".join(load)} (2 cores shared with '
          f'other work).\n')
    print('| command | wall (s) | CPU (s) |')
    print('|---|---:|---:|')
    for k in names:
        w = [x[0] for x in res[k]]
        c = [x[1] for x in res[k]]
        print(f'| {k} | {statistics.median(w):.3f} ({min(w):.3f}-{max(w):.3f}) | '
              f'{statistics.median(c):.3f} ({min(c):.3f}-{max(c):.3f}) |')
    print(f'| perf report (browser), one run | {perf[0]:.3f} | {perf[1]:.3f} |')
    b = statistics.median(x[0] for x in res['pyperf-report (browser)'])
    print(f'\nTarget (opens in well under a second): {"**met**" if b < 0.8 else "**not met**"} '
          f'(median {b:.3f} s wall, exit included).')


if __name__ == '__main__':
    main()
