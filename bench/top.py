#!/usr/bin/env python3
"""Issue 17: pyperf-top's cost. The same target and sampling (cpu-clock,
999 Hz, DWARF stacks of 40 KiB) run unprofiled, under perf record, under
pyperf-record and under pyperf-top --stdio (refresh every second, the
recording kept with -o so that the figures compare with the others'),
interleaved.

Target: python3.12 -X perf tests/workloads/fib.py 30 N (single-threaded,
CPU-bound, a fixed amount of work; it prints its own compute time).

Per run: the target's compute time (fib_s), the wall time of the whole
command, the tool's CPU time (CPU of the whole process tree from wait4,
minus the target's from time(1) around it), peak RSS, samples in the file
(pyperf-report --stats). pyperf-top does what pyperf-record does and also
aggregates every sample into nine profiles (three views x since start /
last interval / current interval) and ranks them each second.
"""
import os
import re
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), 'lib'))
from benchlib import (BIN, CACHE, PYPERF_RECORD, PYPERF_REPORT, QUICK, TIME, log, measure, med,  # noqa: E402
                      paired, perf_maps, python, remove_new_maps, runs, sh, spread, table,
                      workload)

PYPERF_TOP = os.path.join(BIN, 'pyperf-top')
N = runs(5, 2)
REPEAT = 3 if QUICK else 10


def samples(data):
    p = sh([PYPERF_REPORT, '-i', data, '--stats', '-g', 'none', '-o', os.devnull])
    m = re.search(r'(\d+) samples \(\d+ filtered out\), (\d+) lost', p.stderr)
    return (int(m.group(1)), int(m.group(2))) if m else (0, 0)


def one(tmp, name, target, tool=None):
    tfile = os.path.join(tmp, 'target.time')
    data = os.path.join(tmp, name + '.data')
    inner = [TIME, '-f', '%U %S', '-o', tfile, *target]
    before = perf_maps()
    r = measure([*tool, '-o', data, '--', *inner] if tool else inner)
    remove_new_maps(before)
    m = re.search(r'fib_s=([0-9.]+)', r.stderr)
    with open(tfile) as f:
        u, s = f.read().split()[-2:]
    r.target_s, r.tool_cpu = float(m.group(1)), max(r.cpu - float(u) - float(s), 0.0)
    r.samples, r.lost = samples(data) if tool else (0, 0)
    if os.path.exists(data):
        os.unlink(data)
    return r


def main():
    log('top.py: pyperf-top vs pyperf-record vs perf record (issue 17)')
    py = python('3.12')
    if not py:
        log('python3.12 missing')
        return 1
    os.makedirs(CACHE, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix='top-', dir=CACHE)
    target = [py, '-X', 'perf', workload('fib.py'), '30', str(REPEAT)]
    common = ['-F', '999', '--call-graph', 'dwarf']
    variants = [
        ('none', lambda: one(tmp, 'none', target)),
        ('perf record', lambda: one(tmp, 'perf', target,
                                    ['perf', 'record', '-q', '-e', 'cpu-clock', '-F', '999',
                                     '--call-graph', 'dwarf,40960'])),
        ('pyperf-record', lambda: one(tmp, 'rec', target,
                                      [PYPERF_RECORD, '-q', '-e', 'cpu-clock', *common])),
        ('pyperf-top --stdio', lambda: one(tmp, 'top', target,
                                           [PYPERF_TOP, '--stdio', '-d', '1', *common])),
    ]
    res = paired(variants, N, label='fib.py 30')
    base = med([r.target_s for r in res['none']])
    rows = []
    for name, _ in variants:
        rs = res[name]
        slow = [100.0 * (r.target_s / n.target_s - 1) for r, n in zip(rs, res['none'])]
        rows.append([name, spread([r.target_s for r in rs], unit=' s'),
                     '' if name == 'none' else f'{med(slow):+.1f}%',
                     '' if name == 'none' else spread([r.tool_cpu for r in rs], unit=' s'),
                     f'{med([r.maxrss_mb for r in rs]):.0f} MB',
                     '' if name == 'none' else f'{med([r.samples for r in rs]):.0f}'
                     f' ({med([r.lost for r in rs]):.0f} lost)'])
    print(f'## pyperf-top (issue 17, bench/top.py)\n\n'
          f'python3.12 -X perf fib.py 30 {REPEAT}, cpu-clock 999 Hz, DWARF stacks; '
          f'{N} interleaved rounds, medians (min-max); unprofiled compute {base:.2f} s.\n')
    print(table(['', 'target compute', 'slowdown', 'tool CPU', 'peak RSS', 'samples'], rows,
                align='lrrrrr'))
    return 0


if __name__ == '__main__':
    sys.exit(main())
