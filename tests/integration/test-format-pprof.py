#!/usr/bin/env python3
"""pprof files, read by `go tool pprof`: -top's flat and cumulative
samples per function equal pyperf-report's own (self samples per symbol
from its flat report, and the folded stacks for cumulative counts), the
totals equal the event's, the period and sample types are there, and -raw
shows the thread labels and the Python frames' source files."""
import os
import re
import shutil
import subprocess
from collections import Counter
from lib.common import (BIN, BUILD, Skip, check, go_pprof, helper, main, perf_record, pprof_top as top,
                        pyperf_report, python, require_perf, rows, run, tmpdir, workload)


def compare(label, data, py_file=None):
    path = os.path.join(os.path.dirname(data), 'profile.pb.gz')
    pyperf_report('-i', data, '--format', 'pprof', '-o', path)
    entries, total, out = top(path, 'samples')
    folded = pyperf_report('-i', data, '--collapsed').stdout
    samples = sum(int(l.rsplit(' ', 1)[1]) for l in folded.splitlines())
    check(total == samples, f'{label}: total {total} samples = pyperf-report\'s {samples}')
    # Flat: self samples per symbol, as pyperf-report's flat report has them.
    flat = Counter()
    for (sym,), n in rows(pyperf_report('-i', data, '--no-children', '-g', 'none', '--sort', 'sym',
                                        '-F', 'sample,sym').stdout).popitem()[1].items():
        flat[re.sub(r'^\[.\] ', '', sym)] += n
    theirs = {k: int(v[0]) for k, v in entries.items() if v[0]}
    ours = {k: v for k, v in flat.items() if v and not k.startswith('0x')}
    theirs = {k: v for k, v in theirs.items() if not k.startswith('0x') and not k.startswith('[')}
    diff = {k: (ours.get(k), theirs.get(k)) for k in set(ours) | set(theirs) if ours.get(k) != theirs.get(k)}
    check(not diff and ours, f'{label}: flat samples of {len(ours)} functions equal '
          f'pyperf-report\'s{"; differing (ours, pprof): " + str(dict(list(diff.items())[:5])) if diff else ""}')
    # Cumulative: samples whose stack holds the function.
    cum = Counter()
    for line in folded.splitlines():
        stack, n = line.rsplit(' ', 1)
        for f in set(stack.split(';')[1:]):
            cum[f] += int(n)
    top5 = sorted(entries.items(), key=lambda kv: -kv[1][1])[:5]
    bad = [(k, v[1], cum.get(k)) for k, v in top5 if not k.startswith('[') and int(v[1]) != cum.get(k)]
    check(top5 and not bad, f'{label}: cumulative samples of the top entries equal the folded stacks\''
          f' ({", ".join(k for k, _ in top5)}){" bad: " + str(bad) if bad else ""}')
    ns, ns_total, _ = top(path, 'cpu')
    period = sum(int(l.rsplit(' ', 1)[1]) for l in
                 pyperf_report('-i', data, '--collapsed', '--weight', 'period').stdout.splitlines())
    check(ns_total and abs(ns_total - period) <= period * 0.001,
          f'{label}: cpu/nanoseconds total {ns_total:.0f} = the summed period {period}')
    raw = go_pprof('-raw', path)
    check('PeriodType: cpu nanoseconds' in raw and re.search(r'Period: \d+', raw) and
          'samples/count cpu/nanoseconds' in raw, f'{label}: sample types and period')
    check(re.search(r'thread:\[[^\]]+\]', raw) and re.search(r'pid:\[\d+\] tid:\[\d+\]', raw),
          f'{label}: thread, pid and tid labels')
    if py_file:
        # -raw lists "id: address M=mapping function file:line s=start" per location
        check(re.search(r' fib \(fib\.py\) \S*' + re.escape(py_file) + r':0', raw),
              f'{label}: Python functions carry their file')
    return out


def test():
    require_perf()
    d = tmpdir()
    try:
        data = perf_record(f'{d}/c.data', [helper('callpaths'), '-t', '1', '0.5'])
        out = compare('C, two threads', data)
        print('\n'.join('    ' + l for l in out.splitlines()[:14]))
        try:
            py = python('3.12')
        except Skip as e:
            print(f'  note: no Python frames checked: {e}')
            return
        os.makedirs(f'{d}/py')
        data = f'{d}/py/fib.data'
        run([os.path.join(BIN, 'pyperf-record'), '-g', '-o', data, '--', py, workload('fib.py'), '28', '1'])
        compare('Python 3.12 (mixed view)', data, py_file=workload('fib.py'))
        # Binary output refuses a terminal: exercised by the tool's tty check,
        # here only the message for an explicit bad combination.
        p = run([os.path.join(BIN, 'pyperf-report'), '-i', data, '--format', 'pprof', '--input-format',
                 'perf-script'], check_rc=False)
        check(p.returncode == 1, 'perf script input cannot make pprof (usage error)')
    finally:
        shutil.rmtree(d, ignore_errors=True)


if __name__ == '__main__':
    main(test)
