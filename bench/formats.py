#!/usr/bin/env python3
"""Benchmark: the cost of each output format of pyperf-report.

Records once (cached in build/bench/) a frame-pointer recording of about
500,000 samples: `perf record -e cpu-clock -c 50000 -g` over
bench/formats_workload.c (two threads, call chains 10-30 deep, some
thousands of distinct stacks). Then times `pyperf-report --format F` for
every format, runs interleaved, and compares each median with that of
--collapsed. Target (issue 6): each format at most 20% slower than
--collapsed.

stdout: one Markdown section for bench/RESULTS.md; progress on stderr.
usage: bench/formats.py [RUNS=11]
"""
import hashlib
import os
import shutil
import statistics
import subprocess
import sys
import time

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), '..'))
BUILD = os.environ.get('PYPERF_BUILD') or os.path.join(TOP, 'build')
BIN = os.environ.get('PYPERF_BIN') or os.path.join(BUILD, 'out/bin')
WORK = os.path.join(BUILD, 'bench')
SRC = os.path.join(TOP, 'bench/formats_workload.c')
TARGET = 500_000
FORMATS = ['collapsed', 'tree', 'hierarchy', 'svg', 'svg --no-time-order', 'speedscope', 'speedscope --no-time-order',
           'pprof', 'json']


def log(msg):
    print(f'formats.py: {msg}', file=sys.stderr, flush=True)


def recording():
    """The cached recording, made if missing or if the workload changed."""
    os.makedirs(WORK, exist_ok=True)
    tag = hashlib.sha256(open(SRC, 'rb').read()).hexdigest()[:12]
    data = os.path.join(WORK, f'formats-{tag}.data')
    if os.path.exists(data):
        return data
    exe = os.path.join(WORK, 'formats_workload')
    subprocess.run(['gcc', '-O1', '-g', '-fno-omit-frame-pointer', '-fno-inline',
                    '-fno-optimize-sibling-calls', '-pthread', '-o', exe, SRC], check=True)
    # cpu-clock every 50 us of CPU: 500,000 samples take 25 CPU-seconds
    seconds = TARGET * 50e-6 + 0.5
    log(f'recording {TARGET} samples ({seconds:.0f} CPU-seconds over 2 threads)...')
    subprocess.run(['perf', 'record', '-q', '-e', 'cpu-clock', '-c', '50000', '-g', '-o', data + '.tmp',
                    '--', exe, '2', str(seconds)], check=True, stdout=subprocess.DEVNULL)
    os.rename(data + '.tmp', data)
    return data


def run_once(data, fmt, out):
    """(wall, CPU) seconds of one whole command."""
    cmd = [os.path.join(BIN, 'pyperf-report'), '-q', '-i', data, '--format', *fmt.split(), '-o', out]
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    if status:
        sys.exit(f'formats.py: {" ".join(cmd)} failed ({status})')
    return wall, ru.ru_utime + ru.ru_stime


def main():
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 11
    if not os.path.exists(os.path.join(BIN, 'pyperf-report')):
        sys.exit(f'formats.py: {BIN}/pyperf-report missing: run make')
    if not shutil.which('perf'):
        sys.exit('formats.py: perf is not installed')
    data = recording()
    out_dir = os.path.join(WORK, 'formats-out')
    os.makedirs(out_dir, exist_ok=True)
    folded = subprocess.run([os.path.join(BIN, 'pyperf-report'), '-q', '-i', data, '--collapsed'],
                            capture_output=True, text=True, check=True).stdout
    total = sum(int(l.rsplit(' ', 1)[1]) for l in folded.splitlines())
    stacks = len(folded.splitlines())
    times = {f: [] for f in FORMATS}
    base = {f: [] for f in FORMATS}  # --collapsed run next to each run of f
    outs = {f: os.path.join(out_dir, f'out.{f.replace(" ", "")}') for f in FORMATS}
    run_once(data, 'collapsed', outs['collapsed'])  # warm the page cache
    for i in range(runs):
        log(f'run {i + 1}/{runs}')
        # rotate the order so no format always runs first; each format runs
        # right next to a --collapsed run (before or after it, alternately),
        # so the slow phases of this shared machine hit both alike
        order = FORMATS[i % len(FORMATS):] + FORMATS[:i % len(FORMATS)]
        for f in order:
            if (i + order.index(f)) % 2:
                times[f].append(run_once(data, f, outs[f]))
                base[f].append(run_once(data, 'collapsed', outs['collapsed']))
            else:
                base[f].append(run_once(data, 'collapsed', outs['collapsed']))
                times[f].append(run_once(data, f, outs[f]))
    print('## Output formats (bench/formats.py)\n')
    print(f'`pyperf-report -i REC --format F -o FILE` on a frame-pointer recording of {total:,} samples '
          f'(`perf record -e cpu-clock -c 50000 -g`, 2 threads, stacks 10-30 deep, {stacks:,} distinct '
          f'stacks; {os.path.getsize(data) / 1e6:.0f} MB). {runs} rounds, each running every format once '
          f'in a rotating order, each run right next to a run of `--collapsed`; the whole command, '
          f'reading included. *vs collapsed* is the median over the rounds of the format\'s wall time '
          f'over that of the `--collapsed` run beside it (a pairing that cancels most of the slow '
          f'phases of this shared machine); CPU is user + system time. '
          f'Target: each format at most 20% over `--collapsed`.\n')
    print('| format | wall median (s) | wall min (s) | CPU median (s) | vs collapsed | CPU vs collapsed '
          '| output size | within 20% |')
    print('|---|---:|---:|---:|---:|---:|---:|:---:|')
    met = True
    for f in FORMATS:
        walls = [t[0] for t in times[f]]
        cpus = [t[1] for t in times[f]]
        ratio = statistics.median([a[0] / b[0] for a, b in zip(times[f], base[f])])
        cratio = statistics.median([a[1] / b[1] for a, b in zip(times[f], base[f])])
        ok = ratio <= 1.20
        met &= ok
        size = os.path.getsize(outs[f])
        print(f'| {f} | {statistics.median(walls):.3f} | {min(walls):.3f} | {statistics.median(cpus):.3f} '
              f'| {100 * (ratio - 1):+.1f}% | {100 * (cratio - 1):+.1f}% | {size / 1e3:,.0f} kB '
              f'| {"yes" if ok else "**no**"} |')
    print()
    print(f'Target {"met" if met else "NOT met"}: every format within 20% of --collapsed'
          f'{"." if met else " (see the rows marked no)."} The machine has 2 cores shared with other '
          f'work, so single runs vary by a few percent.\n')


if __name__ == '__main__':
    main()
