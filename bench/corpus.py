#!/usr/bin/env python3
"""Issue 11: how complete the stacks of real programs are, per program of
tests/corpus (libraries from Debian packages on /usr/bin/python3, an LTO
build; the standard library on pyenv 3.12 -X perf and 3.13 -X perf_jit).

1. perf record -F 4000 --call-graph dwarf,40960: the share of samples whose
   stack reaches the thread's entry (_start, __libc_start_call_main,
   clone3...) in perf script and in pyperf-report on the same file, and the
   per-sample comparison of tests/unwind-diff (samples where pyperf's stack
   is shorter or different, deliberate differences).
2. pyperf-record with its defaults on the same program: whole stacks, cut
   stacks by cause (they show under [truncated]), "no CFI" ends.

Not timings: one recording per program and mode (the machine is shared;
the shares do not depend on its load beyond lost samples, which are
counted).
"""
import os
import re
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), 'lib'))
from benchlib import PYPERF_RECORD, QUICK, TOP, log, python, sh, table  # noqa: E402

sys.path.insert(0, os.path.join(TOP, 'tests/integration/lib'))
import unwinddiff  # noqa: E402

SECONDS = 1.5 if QUICK else 4
CORPUS = os.path.join(TOP, 'tests/corpus')
SYS = ['/usr/bin/python3']
PROGRAMS = [
    ('docutils', SYS, 'docutils_html.py'),
    ('sympy', SYS, 'sympy_calc.py'),
    ('pygments', SYS, 'pygments_html.py'),
    ('numpy', SYS, 'numpy_loops.py'),
    ('jinja2', SYS, 'jinja2_render.py'),
    ('stdlib', SYS, 'stdlib_mix.py'),
    ('stdlib, 3.12 -X perf', ['3.12', '-X', 'perf'], 'stdlib_mix.py'),
    ('stdlib, 3.13 -X perf_jit', ['3.13', '-X', 'perf_jit'], 'stdlib_mix.py'),
]


def interpreter(spec):
    if spec == SYS:
        return SYS
    py = python(spec[0])
    return [py, *spec[1:]] if py else None


def pct(a, n):
    return f'{100 * a / n:.2f}%' if n else '-'


def perf_side(cmd, d):
    data = os.path.join(d, 'perf.data')
    sh(['perf', 'record', '-q', '-F', '4000', '--call-graph', 'dwarf,40960', '-o', data, '--', *cmd])
    with open(os.devnull, 'w') as null:
        res = unwinddiff.diff(data, show=0, out=null)
    err = sh([os.path.join(os.path.dirname(PYPERF_RECORD), 'pyperf-report'), '-i', data, '--stats', '-q',
              '--collapsed']).stderr
    m = re.search(r'(\d+) lost', err)
    res['lost'] = int(m.group(1)) if m else 0
    os.unlink(data)
    return res


def recorder_side(cmd, d):
    data = os.path.join(d, 'rec.data')
    err = sh([PYPERF_RECORD, '-o', data, '--', *cmd]).stderr
    m = re.search(r'(\d+) samples of \S+, (\d+) lost', err)
    samples, lost = (int(m.group(1)), int(m.group(2))) if m else (0, 0)
    cut = re.search(r'(\d+) of (\d+) stacks .* end early', err)
    unwound = int(cut.group(2)) if cut else samples
    causes = {c: int(n) for n, c in re.findall(r'pyperf-record:   (\d+) ([a-z-]+): ', err)}
    os.unlink(data)
    return {'samples': samples, 'lost': lost, 'unwound': unwound, 'causes': causes,
            'cut': int(cut.group(1)) if cut else 0}


def main():
    rows_perf, rows_rec, notes = [], [], []
    with tempfile.TemporaryDirectory(prefix='pyperf-bench-corpus-') as d:
        for label, spec, prog in PROGRAMS:
            py = interpreter(spec)
            if not py:
                notes.append(f'{label}: interpreter not found, skipped')
                continue
            cmd = [*py, os.path.join(CORPUS, prog), str(SECONDS)]
            log(f'corpus: {label}: perf record')
            r = perf_side(cmd, d)
            n = r['samples']
            v = r['verdicts']
            rows_perf.append([label, f'{n:,}', f'{r["lost"]:,}', pct(r['perf_whole'], n),
                              pct(r['ours_whole'], n), f'{v.get("equal", 0):,}', f'{v.get("longer", 0):,}',
                              ', '.join(f'{k} {c}' for k, c in sorted(r['rules'].items())) or '-',
                              r['bad'],
                              ', '.join(f'{k} {c}' for k, c in sorted(r['cuts'].items())) or '-'])
            log(f'corpus: {label}: pyperf-record')
            q = recorder_side(cmd, d)
            u = q['unwound']
            copy = q['causes'].get('stack-copy', 0)
            rows_rec.append([label, f'{q["samples"]:,}', f'{q["lost"]:,}', pct(u - q['cut'], u),
                             pct(copy, u), pct(u - q['cut'] + copy, u), pct(q['causes'].get('no-cfi', 0), u),
                             ', '.join(f'{k} {c}' for k, c in sorted(q['causes'].items())) or '-'])
    print('## Stacks of real programs (issue 11, bench/corpus.py)\n')
    print(f'Programs of `tests/corpus` ({SECONDS:g} s each; Debian\'s python3-docutils, -sympy, -pygments, '
          '-numpy, -jinja2 on /usr/bin/python3 3.11, an LTO build; the standard library also on pyenv 3.12 '
          '`-X perf` and 3.13 `-X perf_jit`). One recording per program and mode on a shared, loaded '
          '2-core machine: lost samples are counted, shares are of the samples recorded.\n')
    print('**perf record -F 4000 --call-graph dwarf,40960**, the same file read by perf script and by '
          'pyperf-report. *Whole*: the stack reaches the thread\'s entry (_start, __libc_start_call_main, '
          'clone3...). *Equal*/*longer*: samples where pyperf\'s frames are the same as perf script\'s, or '
          'the same and more; *deliberate*: differences tests/unwind-diff lists with their reason; '
          '*shorter or different*: any other (the acceptance wants 0); *pyperf cut*: stacks pyperf-report '
          'shows under [truncated], by cause.\n')
    print(table(['program', 'samples', 'lost', 'whole: perf script', 'whole: pyperf-report', 'equal',
                 'longer', 'deliberate', 'shorter or different', 'pyperf cut'], rows_perf))
    print('**pyperf-record with default options** (dwarf, 40960-byte copies, unwound while recording; '
          'on 3.11 with pyperf\'s trampolines, which add a frame per Python call). *Whole*: not cut; '
          '*cut by copy*: deeper than the copy, marked [truncated]; the acceptance wants whole + cut by '
          'copy >= 99%, and "no CFI" no more frequent than in the unwinding of perf\'s file above.\n')
    print(table(['program', 'samples', 'lost', 'whole', 'cut by copy', 'whole or cut by copy', 'no CFI',
                 'cut, by cause'], rows_rec))
    for n in notes:
        print(f'- {n}')


if __name__ == '__main__':
    main()
