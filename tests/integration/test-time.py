#!/usr/bin/env python3
"""--time: the samples pyperf-report keeps for a range are the ones perf
report --time keeps, range for range (absolute times, several ranges, open
sides, % slices and spans), on a perf record file and on a pyperf-record
one; --reltime; the header says which part was kept; bad ranges are
refused with a message; the two-phase workload's phases fall in the ranges
its clock says."""
import os
import re
from lib.common import (BIN, check, compare_rows, compare_text, main, perf_record, pyperf_report, require_perf,
                        run, tmpdir, workload)


def sample_times(data):
    """Every sample's time in ns, from perf script --ns (its text: no float)."""
    out = []
    for line in run(['perf', 'script', '-i', data, '-F', 'time', '--ns']).stdout.split('\n'):
        m = re.match(r'\s*(\d+)\.(\d{9}):', line)
        if m:
            out.append(int(m.group(1)) * 10**9 + int(m.group(2)))
    return out


def sec(ns):
    return f'{ns // 10**9}.{ns % 10**9:09d}'


def compare_ranges(name, data):
    t = sorted(sample_times(data))
    n = len(t)
    check(n > 500, f'{name}: {n} samples')
    a, b, c, d = t[n // 8], t[n // 3], t[n // 2], t[(4 * n) // 5]
    ranges = ['10%/2', '10%/1,10%/3', '0%-10%,30%-40%', '50%', '25%-75%', '33.3%/3',
              f'{sec(a)},{sec(b)}', f'{sec(a)},{sec(b)} {sec(c)},{sec(d)}', f',{sec(b)}',
              f'{sec(c)},', f'{sec(a)[:-3]},{sec(b)[:-6]}']
    for r in ranges:
        compare_rows(f'{name} --time {r!r}', data, ('--time', r))
    # ours only: pairs in one comma-separated list, times from the first sample
    compare_rows(f'{name} --time A,B,C,D', data, ('--time', f'{sec(a)},{sec(b)} {sec(c)},{sec(d)}'),
                 ours_args=('--time', f'{sec(a)},{sec(b)},{sec(c)},{sec(d)}'))
    compare_rows(f'{name} --reltime', data, ('--time', f'{sec(a)},{sec(b)}'),
                 ours_args=('--reltime', '--time', f'{sec(a - t[0])},{sec(b - t[0])}'))
    # the header: perf's "(time slices: ...)", and ours the absolute times
    compare_text(f'{name} --time 10%/2', data, '--time', '10%/2', '--no-children')
    head = pyperf_report('-i', data, '--time', '10%/2', '-g', 'none').stdout
    check(re.search(r"^# Samples: .* of event '.*' \(time slices: 10%/2\)$", head, re.M) and
          re.search(r'^# Time: \d+\.\d{6},\d+\.\d{6} \(\d+ samples outside left out\)$', head, re.M),
          f'{name}: the header names the range kept')
    svg = pyperf_report('-i', data, '--time', '10%/2', '--format', 'svg').stdout
    js = pyperf_report('-i', data, '--time', '10%/2', '--format', 'json').stdout
    check(re.search(r'id="subtitle"[^>]*>time \d+\.\d{6},\d+\.\d{6} ', svg) and '"time_ranges":[[' in js,
          f'{name}: so do the SVG\'s subtitle and the JSON')


def test():
    require_perf()
    d = tmpdir()
    data = perf_record(f'{d}/perf.data', ['python3', workload('phases.py'), '0.6', '1.2'])
    compare_ranges('perf record', data)

    # pyperf-record writes the span perf uses for % (HEADER_SAMPLE_TIME)
    ours = f'{d}/ours.data'
    r = run([os.path.join(BIN, 'pyperf-record'), '-g', '-o', ours, '--', 'python3', workload('phases.py'),
             '0.6', '1.2'])
    compare_ranges('pyperf-record', ours)

    # the phases fall where the program's own clock (perf's) puts them
    m = re.search(r'first_start=([\d.]+) first_end=([\d.]+) second_end=([\d.]+)', r.stderr)
    s0, s1, s2 = (float(x) for x in m.groups())
    for lo, hi, want, other in ((s0, s1, 'first_phase', 'second_phase'), (s1, s2, 'second_phase', 'first_phase')):
        folded = pyperf_report('-i', ours, '--view', 'python', '--collapsed', '--time',
                               f'{lo + 0.02:.6f},{hi - 0.02:.6f}').stdout
        counts = {}
        for line in folded.splitlines():
            stack, k = line.rsplit(' ', 1)
            for f in (want, other):
                if f + ' ' in stack:
                    counts[f] = counts.get(f, 0) + int(k)
        total = sum(int(x.rsplit(' ', 1)[1]) for x in folded.splitlines())
        check(total > 100 and counts.get(want, 0) >= 0.95 * total and not counts.get(other),
              f'--time {lo:.3f},{hi:.3f}: {counts.get(want, 0)} of {total} samples in {want}, '
              f'{counts.get(other, 0)} in {other}')

    # refused, with a message and exit status 1
    t = sorted(sample_times(ours))
    for arg, msg in (('5,2', 'STOP before START'), ('1.5', 'expected START,STOP'),
                     ('10%/1,20%-30%', 'expected N%/SLICE'), ('0.1234567891,', 'more than 9 decimals'),
                     ('2,3 1,2', 'increasing order'), ('120%', 'between 0% and 100%'),
                     ('1,2', 'keeps none of the')):
        p = pyperf_report('-i', ours, '--time', arg, check_rc=False)
        check(p.returncode == 1 and msg in p.stderr and '--time' in p.stderr,
              f'--time {arg!r} refused: {p.stderr.strip()[:160]!r}')
    p = pyperf_report('-i', ours, '--time', '1,2', check_rc=False)
    check(sec(t[0])[:-3] in p.stderr, 'the message on an empty range names the recording\'s span')


if __name__ == '__main__':
    main(test)
