#!/usr/bin/env python3
"""Overhead of off-CPU recording on a switch-heavy program.

Workload: bench/workloads/pingpong.py, two Python threads handing a token
back and forth through queues (~50,000 context switches a second), on
python3.12. Each configuration runs the same workload; runs are interleaved
(plain, A, B, ..., plain, A, B, ...) so that machine noise hits all alike,
and the workload's own time for its ping-pong loop is compared (median of
the runs, and its ratio to the plain run's median).

Prints one Markdown section to stdout; progress goes to stderr.
BENCH_QUICK=1: fewer runs and round trips (a smoke test, not figures)."""
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), '..'))
BIN = os.environ.get('PYPERF_BIN') or os.path.join(TOP, 'build/out/bin')
QUICK = os.environ.get('BENCH_QUICK') == '1'
RUNS = 2 if QUICK else 5
TRIPS = '8000' if QUICK else '40000'
WORK = '200'


def python312():
    try:
        root = subprocess.run(['pyenv', 'root'], capture_output=True, text=True).stdout.strip()
    except OSError:
        root = os.path.expanduser('~/.pyenv')
    import glob
    for exe in sorted(glob.glob(f'{root}/versions/3.12*/bin/python3.12')):
        return exe
    return shutil.which('python3.12')


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def stats_of(data):
    """(samples, switches, lost) of a perf.data, read by pyperf-report."""
    p = subprocess.run([f'{BIN}/pyperf-report', '-i', data, '--stats', '-q', '--hierarchy',
                        '-g', 'none', '--sort', 'comm'], capture_output=True, text=True)
    samples = {}
    for m in re.finditer(r"# Samples: (\S+)\s+of event '([^']+)'", p.stdout):
        samples[m.group(2)] = m.group(1)
    lost = re.search(r'(\d+) lost;', p.stderr)
    return samples, int(lost.group(1)) if lost else 0


def main():
    py = python312()
    if not py:
        print('## Off-CPU recording overhead\n\nSkipped: python3.12 is not installed.\n')
        return
    work = os.path.join(TOP, 'bench/workloads/pingpong.py')
    d = tempfile.mkdtemp(prefix='pyperf-bench-offcpu-')
    rec = f'{BIN}/pyperf-record'
    configs = [
        ('plain python3.12', None, [py, work, TRIPS, WORK]),
        ('pyperf-record -g (dwarf, CPU only)', 'ours-cpu',
         [rec, '-q', '-g', '-o', '{out}', '--', py, work, TRIPS, WORK]),
        ('pyperf-record -g --off-cpu', 'ours-offcpu',
         [rec, '-q', '-g', '--off-cpu', '-o', '{out}', '--', py, work, TRIPS, WORK]),
        ('perf record -e cpu-clock -e sched:sched_switch --call-graph dwarf', 'perf-dwarf',
         # no -F: it would sample the tracepoint by frequency too; perf's
         # default is 4000 Hz for cpu-clock and every switch for it
         ['perf', 'record', '-q', '-e', 'cpu-clock', '-e', 'sched:sched_switch',
          '--call-graph', 'dwarf', '-o', '{out}', '--', py, '-X', 'perf', work, TRIPS, WORK]),
        ('perf record -e sched:sched_switch -g (fp)', 'perf-fp',
         ['perf', 'record', '-q', '-e', 'sched:sched_switch', '-g', '-o', '{out}', '--', py,
          '-X', 'perf', work, TRIPS, WORK]),
    ]
    times = {c[0]: [] for c in configs}
    extra = {}
    # context switches of the plain workload, for the rate
    p = subprocess.run(['perf', 'stat', '-x,', '-e', 'context-switches', '--', py, work, TRIPS,
                        WORK], capture_output=True, text=True)
    m = re.search(r'^(\d+),', p.stderr, re.M)
    t = re.search(r' s=([0-9.]+)', p.stderr)
    rate = int(m.group(1)) / float(t.group(1)) if m and t else 0
    for i in range(RUNS):
        for name, tag, cmd in configs:
            out = f'{d}/{tag}.data' if tag else None
            argv = [a.replace('{out}', out) if out else a for a in cmd]
            t0 = time.monotonic()
            p = subprocess.run(argv, capture_output=True, text=True)
            wall = time.monotonic() - t0
            m = re.search(r'pingpong: round_trips=\d+ s=([0-9.]+)', p.stderr)
            if p.returncode or not m:
                log(f'{name}: failed ({p.returncode}): {p.stderr[-500:]}')
                continue
            times[name].append(float(m.group(1)))
            if tag:
                samples, lost = stats_of(out)
                size = os.path.getsize(out)
                extra.setdefault(name, []).append((samples, lost, size, wall))
            log(f'run {i + 1}/{RUNS}: {name}: {m.group(1)} s')
    shutil.rmtree(d, ignore_errors=True)

    base = statistics.median(times['plain python3.12'])
    print('## Off-CPU recording overhead (switch-heavy workload)\n')
    print(f'Workload: `bench/workloads/pingpong.py {TRIPS} {WORK}` on python3.12, two threads '
          f'handing a token through queues: ~{rate / 1000:.0f}k context switches/s unprofiled. '
          f'Time = the workload\'s own ping-pong loop; median of {RUNS} interleaved runs '
          f'(min-max in brackets). pyperf-record samples cpu-clock at its default 4000 Hz; '
          f'perf runs use `-X perf`.\n')
    print('| recording | loop time (s) | slowdown | switches recorded | lost | file MB |')
    print('|---|---|---|---|---|---|')
    for name, tag, _ in configs:
        ts = times[name]
        if not ts:
            print(f'| {name} | failed | | | | |')
            continue
        med = statistics.median(ts)
        sw = lost = mb = ''
        if name in extra:
            last = extra[name][-1]
            sw = last[0].get('sched:sched_switch', '-')
            lost = str(max(e[1] for e in extra[name]))
            mb = f'{statistics.median(e[2] for e in extra[name]) / 1e6:.1f}'
        print(f'| {name} | {med:.3f} [{min(ts):.3f}-{max(ts):.3f}] | {med / base:.2f}x | '
              f'{sw} | {lost} | {mb} |')
    print()
    ours = times.get('pyperf-record -g --off-cpu')
    theirs = times.get('perf record -e cpu-clock -e sched:sched_switch --call-graph dwarf')
    if ours and theirs:
        print(f'pyperf-record --off-cpu vs perf\'s equivalent DWARF recording: '
              f'{statistics.median(ours) / statistics.median(theirs):.2f}x the loop time '
              f'(< 1 is faster).\n')


if __name__ == '__main__':
    main()
