#!/usr/bin/env python3
"""Issue 4: pyperf-report against perf report --stdio --no-children on the
same DWARF recording (>= 50,000 samples), and the depth of the Python stacks
each recovers.

Recording (cached in build/bench/): perf record -e cpu-clock -F 4999
--call-graph dwarf,16384 of two python3.12 -X perf processes side by side,
tests/workloads/fib.py 25 (recursion ~27 Python frames deep) and mixed.py
(json, regex, sorting, dicts). 16 KiB stack copies hold fib(25)'s whole C
stack on 3.12 (measured: 8 KiB truncates 94% of its samples), so both tools
get every byte they need.

Timing: whole-process wall time and peak RSS, interleaved pairs, output to
/dev/null: pyperf-report --stdio --no-children vs perf report --stdio --no-children.
Stack quality: Python frames per sample, from pyperf-report --view python
--collapsed and from perf script on the same file (frames named py::...),
and the share of samples whose Python stack reaches <module>.
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), 'lib'))
from benchlib import (PYPERF_REPORT, QUICK, cached_recording, file_hash, log, measure, med,  # noqa: E402
                      mib, paired, perf_samples, perf_version, python, ratio_text, rss_mb, runs, sh,
                      spread, table, verdict, walls, workload)

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '../tests/integration/lib'))
from fold_perf_script import fold  # noqa: E402

N = runs(5, 2)
FIB_REPEAT = 60 if QUICK else 450
MIXED_ROUNDS = 8 if QUICK else 55
MIN_SAMPLES = 50_000
STACK = 16384


def record():
    py = python('3.12')
    if not py:
        raise SystemExit('python3.12 is needed (pyenv)')
    rec = ['perf', 'record', '-q', '-e', 'cpu-clock', '-F', '4999', '--call-graph', f'dwarf,{STACK}']
    script = (f'{py} -X perf {workload("fib.py")} 25 {FIB_REPEAT} & '
              f'{py} -X perf {workload("mixed.py")} {MIXED_ROUNDS}; wait')
    key = {'cmd': rec, 'script': script, 'src': file_hash(workload('fib.py'), workload('mixed.py')),
           'perf': perf_version()}

    def make(path):
        measure([*rec, '-o', path, '--', 'sh', '-c', script])
    return cached_recording('report-dwarf' + ('-quick' if QUICK else ''), key, make)[0]


def py_depths_ours(data):
    """(samples, Python frames, samples reaching <module>) per pyperf-report."""
    text = sh([PYPERF_REPORT, '-i', data, '--view', 'python', '--collapsed']).stdout
    n = frames = full = 0
    for line in text.splitlines():
        stack, c = line.rsplit(' ', 1)
        c = int(c)
        fs = [f for f in stack.split(';')[1:] if f != '[native]']
        n += c
        frames += c * len(fs)
        if fs and fs[0].startswith('<module> '):
            full += c
    return n, frames, full


def py_depths_perf(data):
    """The same figures from perf script's call chains (perf's own unwinding)."""
    text = sh(['perf', 'script', '-i', data]).stdout
    stacks = fold(text.split("\n"), samples=True)  # a sample counts once, whatever its period
    n = frames = full = 0
    for stack, c in stacks.items():
        fs = [f for f in stack.split(';')[1:] if f.startswith('py::')]
        n += c
        frames += c * len(fs)
        if fs and fs[0].startswith('py::<module>:'):
            full += c
    return n, frames, full


def main():
    log('report_dwarf.py: pyperf-report vs perf report on a DWARF recording (issue 4)')
    data = record()
    size = os.path.getsize(data)
    total = perf_samples(data)
    log(f'  {data}: {total} samples, {size} bytes')
    ours = py_depths_ours(data)
    theirs = py_depths_perf(data)
    log(f'  python frames: ours {ours}, perf {theirs}')
    # pyenv's libpython3.12 carries DWARF: both tools show the functions
    # inlined at each unwound frame by default; --no-inline leaves them out
    res = paired([
        ('pyperf-report', lambda: measure([PYPERF_REPORT, '-i', data, '--stdio', '--no-children'])),
        ('perf report', lambda: measure(['perf', 'report', '-i', data, '--stdio', '--no-children'])),
        ('pyperf-report --no-inline',
         lambda: measure([PYPERF_REPORT, '-i', data, '--stdio', '--no-children', '--no-inline'])),
        ('perf report --no-inline',
         lambda: measure(['perf', 'report', '-i', data, '--stdio', '--no-children', '--no-inline'])),
    ], N, label='dwarf report')
    a, b = res['pyperf-report'], res['perf report']
    an, bn = res['pyperf-report --no-inline'], res['perf report --no-inline']
    speed = med([y.wall / x.wall for x, y in zip(a, b)])
    mem_ok = med(rss_mb(a)) <= med(rss_mb(b))
    mean_ours = ours[1] / max(ours[0], 1)
    mean_perf = theirs[1] / max(theirs[0], 1)
    out = ['## pyperf-report vs perf report on a DWARF recording (issue 4)']
    out.append(f'Recording: `perf record -e cpu-clock -F 4999 --call-graph dwarf,{STACK}` of python3.12 '
               f'`-X perf` fib.py 25 ×{FIB_REPEAT} and mixed.py {MIXED_ROUNDS} rounds running side by side: '
               f'**{total:,} samples** (perf report), {mib(size)}.')
    out.append(f'Wall time and peak RSS of the whole process, output to /dev/null, median (min–max) of {N} '
               'interleaved pairs after a discarded warm-up round; speed-up and memory ratio are medians of '
               'per-pair ratios.')
    out.append(table(['command', 'wall', 'peak RSS', 'speed-up', 'memory ratio'], [
        ['`pyperf-report --stdio --no-children`', spread(walls(a), unit=' s'),
         spread(rss_mb(a), '{:.0f}', ' MB'), '', ''],
        ['`perf report --stdio --no-children`', spread(walls(b), unit=' s'),
         spread(rss_mb(b), '{:.0f}', ' MB'), ratio_text(walls(b), walls(a), '{:.1f}'),
         ratio_text(rss_mb(a), rss_mb(b))],
        ['`pyperf-report --stdio --no-children --no-inline`', spread(walls(an), unit=' s'),
         spread(rss_mb(an), '{:.0f}', ' MB'), '', ''],
        ['`perf report --stdio --no-children --no-inline`', spread(walls(bn), unit=' s'),
         spread(rss_mb(bn), '{:.0f}', ' MB'), ratio_text(walls(bn), walls(an), '{:.1f}'),
         ratio_text(rss_mb(an), rss_mb(bn))],
    ]))
    out.append('With inlined frames (the default of both, the DWARF of pyenv\'s libpython3.12 giving them) '
               'and without (`--no-inline`); speed-up and memory ratio of each perf row are against the '
               'pyperf row above it.')
    out.append('Stack quality on the same file (Python frames counted per sample; a stack is *complete* '
               'when its outermost Python frame is `<module>`):')
    out.append(table(['unwound by', 'samples', 'mean Python frames/sample', 'complete Python stacks'], [
        ['pyperf-report (`--view python --collapsed`)', f'{ours[0]:,}', f'{mean_ours:.2f}',
         f'{100.0 * ours[2] / max(ours[0], 1):.1f}%'],
        ['perf (`perf script`, `py::` frames)', f'{theirs[0]:,}', f'{mean_perf:.2f}',
         f'{100.0 * theirs[2] / max(theirs[0], 1):.1f}%'],
    ]))
    out.append('Targets:\n\n'
               f'- ≥50,000 samples in the recording: {total:,} {verdict(total >= MIN_SAMPLES)}\n'
               f'- ≥5x faster than perf report: {speed:.1f}x {verdict(speed >= 5)}\n'
               f'- no more memory: {med(rss_mb(a)):.0f} vs {med(rss_mb(b)):.0f} MB {verdict(mem_ok)}\n'
               f'- deeper correct stacks: {mean_ours:.2f} vs {mean_perf:.2f} Python frames/sample, '
               f'{100.0 * ours[2] / max(ours[0], 1):.1f}% vs {100.0 * theirs[2] / max(theirs[0], 1):.1f}% complete '
               f'{verdict(mean_ours > mean_perf and ours[2] > theirs[2] and ours[0] == theirs[0])}')
    out.append('Notes: perf unwinds the stack copies with its own DWARF unwinder and stops at the first '
               '`py::` trampoline, which has no CFI; pyperf-report unwinds the same copies with libdw plus '
               'the trampolines\' known frame layout. Both read the same `/tmp/perf-PID.map` files (kept '
               'while the recording is cached).')
    print('\n\n'.join(out))


if __name__ == '__main__':
    main()
