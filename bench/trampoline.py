#!/usr/bin/env python3
"""Issue 5: the cost of libpyperf's trampolines on a call-heavy workload,
tests/workloads/fib.py 30 (fib(30): 1.6 million Python calls), next to the
cost of CPython 3.12's (and 3.13's) own perf trampolines. No profiler runs:
this is what a program pays for having its functions named for perf.

  3.8-3.11:  python fib.py 30  vs  PYTHONPATH=build/out/python PYPERF_TRAMPOLINE=1 python fib.py 30
             (the activation pyperf-record uses)
  3.12+:     python fib.py 30  vs  python -X perf fib.py 30

Each pair runs interleaved; figures are medians of per-pair relative
overheads, on fib_s (the workload's own compute time) and on the process's
wall time (start-up, module import and map writing included).
"""
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), 'lib'))
from benchlib import (PYDIR, QUICK, log, measure, med, paired, perf_maps, python, remove_new_maps,  # noqa: E402
                      runs, new_perf_maps, table, verdict, workload)

N = runs(15, 3)
FIB = ['30']


def interpreters():
    out = []
    for v in ('3.8', '3.9', '3.10', '3.11'):
        exe = python(v)
        if exe:
            out.append((f'{v} (pyenv)', exe, 'ours'))
    if os.path.exists('/usr/bin/python3.11'):
        out.append(('3.11 (Debian)', '/usr/bin/python3.11', 'ours'))
    for v in ('3.12', '3.13'):
        exe = python(v)
        if exe:
            out.append((f'{v} (pyenv)', exe, 'cpython'))
    return out


class Res:
    def __init__(self, run, fib_s):
        self.run, self.fib_s = run, fib_s

    @property
    def wall(self):
        return self.run.wall


def one(cmd, env=None):
    before = perf_maps()
    r = measure(cmd, env=env)
    remove_new_maps(before)
    m = re.search(r'fib_s=([0-9.]+)', r.stderr)
    return Res(r, float(m.group(1)))


def variant_cmds(exe, kind):
    fib = workload('fib.py')
    plain = ([exe, fib, *FIB], None)
    if kind == 'ours':
        return plain, ([exe, fib, *FIB], {'PYTHONPATH': PYDIR, 'PYPERF_TRAMPOLINE': '1'})
    return plain, ([exe, '-X', 'perf', fib, *FIB], None)


def map_entries(cmd, env):
    """Runs the instrumented variant once and counts the py:: entries of the
    perf map it wrote: proof that the trampolines were active."""
    before = perf_maps()
    measure(cmd, env=env)
    n = 0
    for p in new_perf_maps(before):
        with open(p, errors='replace') as f:
            n += sum(1 for line in f if ' py::' in line)
    remove_new_maps(before)
    return n


def main():
    log('trampoline.py: trampoline overhead on fib(30) (issue 5)')
    rows, over = [], {}
    for name, exe, kind in interpreters():
        (pc, pe), (tc, te) = variant_cmds(exe, kind)
        entries = map_entries(tc, te)
        res = paired([('plain', lambda: one(pc, pe)), ('perf', lambda: one(tc, te))], N, label=name)
        a, b = res['plain'], res['perf']
        fo = [100.0 * (y.fib_s / x.fib_s - 1) for x, y in zip(a, b)]
        wo = [100.0 * (y.wall / x.wall - 1) for x, y in zip(a, b)]
        over[name] = (kind, med(fo), med(wo))
        how = 'libpyperf (`PYPERF_TRAMPOLINE=1`)' if kind == 'ours' else 'CPython (`-X perf`)'
        rows.append([f'{name} `{exe}`', how, f'{med([x.fib_s for x in a]):.3f} s',
                     f'{med([y.fib_s for y in b]):.3f} s', f'**{med(fo):+.1f}%** ({min(fo):+.1f}…{max(fo):+.1f})',
                     f'{med([x.wall for x in a]):.3f} s', f'{med([y.wall for y in b]):.3f} s',
                     f'{med(wo):+.1f}% ({min(wo):+.1f}…{max(wo):+.1f})', f'{entries}'])
    out = ['## Trampoline overhead on fib(30) (issue 5)']
    out.append(f'`fib.py 30` without a profiler, plain vs with perf trampolines; median (min–max) of {N} '
               'interleaved pairs after a discarded warm-up pair; overheads are medians of per-pair ratios. '
               '*fib_s* is the compute time the workload measures itself; *wall* is the whole process. '
               '*map entries*: `py::` lines in the perf map of one instrumented run (the trampolines were on).')
    out.append(table(['Python', 'trampolines', 'fib_s plain', 'fib_s with', 'overhead (fib_s)',
                      'wall plain', 'wall with', 'overhead (wall)', 'map entries'], rows, 'llrrrrrrr'))
    ref = over.get('3.12 (pyenv)')
    bullets = []
    if ref:
        for name, (kind, fo, wo) in over.items():
            if kind == 'ours':
                bullets.append(f'- {name}: {fo:+.1f}% vs 3.12\'s {ref[1]:+.1f}% (wall {wo:+.1f}% vs {ref[2]:+.1f}%) '
                               f'{verdict(fo <= ref[1])}')
    out.append('Target: our relative overhead no worse than CPython 3.12\'s own (compared on fib_s medians).')
    out.append('\n'.join(bullets) or '- python3.12 missing: no reference.')
    out.append('Notes: a trampoline adds a call and a frame per Python call; fib(30) makes ~1.6 million '
               'calls in ~0.1–0.4 s, so this is a worst case. The activation through `PYTHONPATH` and '
               '`sitecustomize` is the one `pyperf-record` uses for 3.8–3.11, so the wall overhead includes '
               'importing the extension. The map files these runs write are deleted after each run.')
    print('\n\n'.join(out))


if __name__ == '__main__':
    main()
