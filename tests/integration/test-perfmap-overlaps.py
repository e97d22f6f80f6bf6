#!/usr/bin/env python3
"""Overlapping perf-map entries are named as perf names them, quickly.

A perf map is text any process writes (and a perf.data can embed); its
entries may overlap in any way. perf keeps them in a red-black tree in line
order and names an address by the first entry covering it on the search
path, so which of several covering entries wins depends on the tree's
shape; pyperf rebuilds the same tree. tests/helpers/jitcode runs 64 small
generated functions in an anonymous executable mapping; after perf
records it, the test writes hostile perf maps for it, and the per-symbol
sample counts of pyperf-report must equal perf report's for each:

- plain entries, one per function;
- one entry covering the whole region, before or after the others, or in
  the middle of them shuffled;
- every entry written again under another name (same start and size), and
  some wider ones overlapping the next functions;
- the covering entry and 100,000 one-byte entries with gaps between them
  (a case like it took pyperf-report 8.3 s where perf takes 0.29 s: each
  lookup in a gap walked back over the tiny entries; tests/unit/test-symtab
  bounds the steps). Times are printed, not asserted.
"""
import os
import random
import shutil
import time
from lib.common import check, helper, main, perf_report, pyperf_report, require_perf, rows, run, tmpdir

ROWS = ['--no-children', '-g', 'none', '--sort', 'comm,dso,sym', '-F', 'sample,comm,dso,sym']
FUNCS, SPACING = 64, 2048


def fmt(es):
    return ''.join(f'{s:x} {n:x} {name}\n' for s, n, name in es)


def test():
    require_perf()
    d = tmpdir()
    mapfile = None
    try:
        data = f'{d}/perf.data'
        run(['perf', 'record', '-q', '-e', 'cpu-clock', '-F', '4999', '-o', data, '--', 'sh', '-c',
             f'echo $$ > {d}/pid; exec {helper("jitcode")} {FUNCS} {SPACING} 1.5 > {d}/region'])
        with open(f'{d}/pid') as f:
            mapfile = f'/tmp/perf-{int(f.read())}.map'
        with open(f'{d}/region') as f:
            lo = int(f.read().split()[0], 16)
        hi = lo + FUNCS * SPACING
        rnd = random.Random(12)
        plain = [(lo + k * SPACING, 10, f'jit_f{k}') for k in range(FUNCS)]
        cover = (lo, hi - lo, 'cover')
        again = [(s, n, f'again_{i}') for i, (s, n, _) in enumerate(plain)]
        wider = [(s, 3 * SPACING, f'wider_{i}') for i, (s, _, _) in enumerate(plain) if rnd.random() < 0.4]
        tiny = [(lo + 2 * i, 1, f'tiny_{i}') for i in range(100000)]  # and gaps between
        shuffled = plain + wider
        rnd.shuffle(shuffled)
        variants = [
            ('plain entries', plain),
            ('a covering entry first', [cover] + plain),
            ('a covering entry last', plain + [cover]),
            ('shuffled, a covering entry in the middle',
             shuffled[:len(shuffled) // 2] + [cover] + shuffled[len(shuffled) // 2:]),
            ('every entry again, some wider', plain + again + wider),
            ('a covering entry and 100000 one-byte ones', [cover] + tiny + plain),
            ('100000 one-byte entries, then a covering one', tiny + plain + [cover]),
        ]
        for name, es in variants:
            with open(mapfile, 'w') as f:
                f.write(fmt(es))
            t0 = time.monotonic()
            # the generated code's rows (PLT stubs elsewhere are named
            # differently by perf 6.1, see lib/common.py)
            theirs = {k: v for k, v in rows(perf_report('-i', data, *ROWS)).get('cpu-clock', {}).items()
                      if k[1].startswith('[JIT]')}
            t1 = time.monotonic()
            ours = {k: v for k, v in rows(pyperf_report('--no-symbol-cache', '--view', 'native', '-i',
                                                        data, *ROWS).stdout).get('cpu-clock', {}).items()
                    if k[1].startswith('[JIT]')}
            t2 = time.monotonic()
            diff = {k: (theirs.get(k, 0), ours.get(k, 0)) for k in set(theirs) | set(ours)
                    if theirs.get(k, 0) != ours.get(k, 0)}
            jit = theirs
            check(not diff and sum(jit.values()) > 100,
                  f'{name} ({len(es)} entries): {sum(jit.values())} samples in the generated code '
                  f'under {len(jit)} names, equal to perf report (perf {t1 - t0:.2f} s, '
                  f'pyperf-report {t2 - t1:.2f} s)'
                  + (f'; differing (perf, ours): {dict(list(diff.items())[:6])}' if diff else ''))
    finally:
        if mapfile and os.path.exists(mapfile):
            os.unlink(mapfile)
        shutil.rmtree(d, ignore_errors=True)


if __name__ == '__main__':
    main(test)
