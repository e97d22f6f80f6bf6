#!/usr/bin/env python3
"""Stacks of real programs (tests/corpus: libraries from Debian packages on
/usr/bin/python3, an LTO build with .cold/.isra/.lto_priv clones; the
standard library on pyenv 3.12 -X perf), sample by sample against perf.

perf record -F 4000 --call-graph dwarf,40960: for every sample,
pyperf-report's unwinding of the stack copy is at least as long as perf
script's and the same frame by frame, except for the differences
tests/unwind-diff lists as deliberate; as many stacks reach the thread's
entry as perf's do.

pyperf-record with default options (and --check-unwind, which keeps the
copies): the stacks unwound while recording equal the copies unwound
offline, sample by sample; at least 99% of them are whole or cut because
they are deeper than the copy; "no CFI" ends are no more frequent than in
the unwinding of perf's file of the same program."""
import os
import re
import shutil
import subprocess
import sys
from lib.common import BIN, Skip, TOP, check, main, python, require_perf, run, tmpdir

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), 'lib'))
import unwinddiff  # noqa: E402

CORPUS = os.path.join(TOP, 'tests/corpus')
SYSTEM_PYTHON = '/usr/bin/python3'
# (label, interpreter args, program, seconds)
PROGRAMS = [
    ('docutils', [SYSTEM_PYTHON], 'docutils_html.py', 2.5),
    ('sympy', [SYSTEM_PYTHON], 'sympy_calc.py', 2.5),
    ('numpy', [SYSTEM_PYTHON], 'numpy_loops.py', 2.0),
    ('stdlib 3.12 -X perf', ['3.12', '-X', 'perf'], 'stdlib_mix.py', 1.5),
]


def interpreter(spec):
    if spec[0] == SYSTEM_PYTHON:
        return spec
    py = python(spec[0])
    return [py, *spec[1:]]


def require_corpus():
    p = subprocess.run([SYSTEM_PYTHON, '-c', 'import docutils, sympy, numpy, pygments, jinja2'],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if p.returncode:
        raise Skip(f'the corpus needs Debian\'s python3-docutils, -sympy, -numpy, -pygments, -jinja2 '
                   f'(mk/deps.sh test installs them): {p.stderr.strip()[-200:]}')


def perf_file(d, label, cmd):
    data = os.path.join(d, label.split()[0] + '.perf.data')
    run(['perf', 'record', '-q', '-F', '4000', '--call-graph', 'dwarf,40960', '-o', data, '--', *cmd])
    return data


def no_cfi_share(data):
    """Share of pyperf-report's unwinds of @data that stop for lack of CFI."""
    err = run([os.path.join(BIN, 'pyperf-report'), '-i', data, '--stats', '--collapsed', '-q'],
              check_rc=False).stderr
    m = re.search(r'(\d+) stacks unwound .*ended by:(.*)', err)
    if not m:
        return 0.0
    ends = dict((k, int(v)) for k, v in re.findall(r' ([a-z-]+) (\d+)', m.group(2)))
    return ends.get('no-cfi', 0) / max(1, int(m.group(1)))


def test():
    require_perf()
    require_corpus()
    d = tmpdir()
    try:
        perf_nocfi = {}
        for label, spec, prog, secs in PROGRAMS:
            cmd = [*interpreter(spec), os.path.join(CORPUS, prog), str(secs)]
            data = perf_file(d, label, cmd)
            res = unwinddiff.diff(data, show=8)
            n = res['samples']
            check(n > 1000 and not res['unmatched_perf'],
                  f'{label}: {n} samples of perf\'s file matched one to one ({res["unmatched_perf"]} '
                  f'only in perf script)')
            check(res['bad'] == 0,
                  f'{label}: no sample\'s stack shorter than perf script\'s or different from it, but '
                  f'for the listed deliberate differences ({res["verdicts"]}, rules {res["rules"]})')
            check(res['ours_whole'] >= res['perf_whole'],
                  f'{label}: stacks reaching the thread\'s entry: pyperf {100 * res["ours_whole"] / n:.2f}%, '
                  f'perf script {100 * res["perf_whole"] / n:.2f}%')
            perf_nocfi[label] = no_cfi_share(data)
            if res['bad']:
                keep = os.path.join(os.environ.get('PYPERF_BUILD', os.path.join(TOP, 'build')),
                                    'test-artifacts')
                os.makedirs(keep, exist_ok=True)
                shutil.copy(data, os.path.join(keep, os.path.basename(data)))
                print(f'    recording kept in {keep}')
            os.unlink(data)

        for label, spec, prog, secs in (PROGRAMS[0], PROGRAMS[3]):
            data = os.path.join(d, 'online.data')
            p = run([os.path.join(BIN, 'pyperf-record'), '--check-unwind', '-o', data, '--',
                     *interpreter(spec), os.path.join(CORPUS, prog), str(secs)])
            res = unwinddiff.online_offline(data, show=8)
            n = res['samples']
            # (stdlib's 1.5 s gave 787 samples on a loaded machine)
            check(n > 500 and res['differ'] == 0,
                  f'{label}: pyperf-record: the {n} stacks unwound while recording equal the same '
                  f'samples\' copies unwound offline ({res["differ"]} differ)')
            good = res['cuts'].get('-', 0) + res['cuts'].get('stack-copy', 0)
            check(good >= 0.99 * n,
                  f'{label}: pyperf-record: {100 * good / n:.2f}% of stacks whole or cut by the copy\'s '
                  f'size (cuts {res["cuts"]})')
            share = res['cuts'].get('no-cfi', 0) / n
            check(share <= perf_nocfi[label] + 0.001,
                  f'{label}: pyperf-record: "no CFI" ends {100 * share:.3f}%, perf\'s file '
                  f'{100 * perf_nocfi[label]:.3f}% (+0.1% for chance)')
            check('end early' not in p.stderr or 'under [truncated]' in p.stderr,
                  f'{label}: the recorder says where cut stacks go')
    finally:
        shutil.rmtree(d, ignore_errors=True)


if __name__ == '__main__':
    main(test)
