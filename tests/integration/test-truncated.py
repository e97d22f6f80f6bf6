#!/usr/bin/env python3
"""A cut stack is data. pyperf-record marks every stack it could not unwind
to the end (here: deeper than the stack copy) in the file; perf still reads
the file cleanly, with the same per-symbol counts; pyperf-report shows the
cut stacks under one [truncated] root in every output format and counts
them by cause in --stats, the JSON and the text header, with the numbers
the recorder printed. Files recorded by perf are marked too: DWARF stacks
deeper than their copy, frame-pointer chains that end outside every
mapping, chains cut at --max-stack. The recorder's advice never asks to
raise a copy already at the kernel's limit."""
import json
import os
import re
import shutil
from lib.common import (BIN, check, compare_rows, main, perf_record, pprof_top, pyperf_report, python,
                        require_perf, run, tmpdir, workload)

HOTSPOT = ('/usr/lib/x86_64-linux-gnu/libexec/hotspot-perfparser', '/usr/libexec/hotspot-perfparser')


def record(data, *cmd, opts=()):
    p = run([os.path.join(BIN, 'pyperf-record'), '-o', data, *opts, '--', *cmd])
    return p.stderr


def recorder_cuts(stderr):
    """{cause: n} and the total from pyperf-record's summary."""
    m = re.search(r'pyperf-record: (\d+) of (\d+) stacks .* end early', stderr)
    causes = {c: int(n) for n, c in re.findall(r'pyperf-record:   (\d+) ([a-z-]+): ', stderr)}
    return (int(m.group(1)) if m else 0), causes


def stats_cuts(data, *args):
    err = pyperf_report('-i', data, '--stats', '--collapsed', *args).stderr
    m = re.search(r'(\d+) stacks cut short, shown under \[truncated\](?:: (.*))?', err)
    causes = {}
    for part in (m.group(2) or '').split(', ') if m else []:
        if part:
            c, n = part.rsplit(' ', 1)
            causes[c] = int(n)
    return (int(m.group(1)) if m else None), causes


def collapsed_cut(text):
    """Samples whose folded stack starts (after the comm) at [truncated];
    and whether [truncated] shows anywhere else."""
    under, elsewhere = 0, 0
    for line in text.splitlines():
        stack, n = line.rsplit(' ', 1)
        frames = stack.split(';')
        if len(frames) > 1 and frames[1] == '[truncated]':
            under += int(n)
        elsewhere += sum(1 for f in frames[2:] if f == '[truncated]')
    return under, elsewhere


def every_format(label, d, data, total, causes):
    """Each output shows the cut stacks under [truncated], as many as counted."""
    folded = pyperf_report('-i', data, '--collapsed').stdout
    under, elsewhere = collapsed_cut(folded)
    check(under == total and not elsewhere,
          f'{label}: collapsed: {under} samples under a [truncated] root right after the comm '
          f'(want {total}), none elsewhere ({elsewhere})')
    py = pyperf_report('-i', data, '--collapsed', '--view', 'python').stdout
    check(collapsed_cut(py)[0] == total, f'{label}: python view too: {collapsed_cut(py)[0]} under [truncated]')

    tree = pyperf_report('-i', data).stdout
    m = re.search(r'^# Cut stacks: (\d+) of (\d+) samples \(([0-9.]+)%\) .*\((.*)\)$', tree, re.M)
    said = dict((c, int(n)) for c, n in (p.rsplit(' ', 1) for p in m.group(4).split(', '))) if m else {}
    check(m and int(m.group(1)) == total and said == causes,
          f'{label}: text report header counts {m.group(1) if m else None} cut stacks by cause {said}')
    check(re.search(r'--\d+\.\d+%--\[truncated\]|^\s+\|?\s*\[truncated\]$|\[\.\] \[truncated\]', tree, re.M),
          f'{label}: the call graphs of the text report show [truncated]')
    hier = pyperf_report('-i', data, '--hierarchy').stdout
    check('[truncated]' in hier, f'{label}: --hierarchy shows [truncated]')

    doc = json.loads(pyperf_report('-i', data, '--format', 'json').stdout)
    md = doc['metadata']
    trunc = [i for i, f in enumerate(doc['frames']) if f['kind'] == 'truncated']
    nodes = doc['nodes']
    in_tree = sum(nodes['total_samples'][i] for i in range(len(nodes['frame']))
                  if nodes['frame'][i] in trunc) if 'total_samples' in nodes else None
    nonzero = {k: v for k, v in md['truncated_by_cause'].items() if v}
    check(md['truncated_stacks'] == total and nonzero == causes and len(trunc) == 1 and in_tree == total,
          f'{label}: json: truncated_stacks {md["truncated_stacks"]}, by cause {nonzero}, one '
          f'frame of kind truncated, {in_tree} samples under it')

    svg = pyperf_report('-i', data, '--format', 'svg').stdout
    in_svg = sum(int(n) for n in re.findall(r'<title>\[truncated\] \((\d+) samples', svg))
    check(in_svg == total, f'{label}: svg: [truncated] boxes hold {in_svg} samples')

    sc = json.loads(pyperf_report('-i', data, '--format', 'speedscope').stdout)
    names = [f['name'] for f in sc['shared']['frames']]
    t_ids = {i for i, n in enumerate(names) if n == '[truncated]'}
    at_root = 0
    for prof in sc['profiles']:
        for stack, w in zip(prof['samples'], prof['weights']):
            if stack and stack[0] in t_ids:
                at_root += w
    check(t_ids and at_root == total, f'{label}: speedscope: {at_root} samples start at [truncated]')

    path = os.path.join(d, 'cut.pb.gz')
    pyperf_report('-i', data, '--format', 'pprof', '-o', path)
    entries = pprof_top(path)[0]
    cum = entries.get('[truncated]', (0, 0))[1]
    check(cum == total, f'{label}: pprof: [truncated] has {cum:g} cumulative samples')

    plain = pyperf_report('-i', data, '--collapsed', '--no-truncated-root').stdout
    n, c = stats_cuts(data, '--no-truncated-root')
    check('[truncated]' not in plain and n == total and c == causes,
          f'{label}: --no-truncated-root shows no [truncated] and still counts {n} by cause {c}')


def test():
    require_perf()
    d = tmpdir()
    try:
        py = python('3.12')
        # pyperf-record, stacks deeper than a small copy: stack-copy cuts.
        data = f'{d}/deep.data'
        err = record(data, py, '-X', 'perf', workload('deep.py'), '120', '1.0',
                     opts=('--call-graph', 'dwarf,8192'))
        total, causes = recorder_cuts(err)
        n, c = stats_cuts(data)
        check(total > 200 and causes.get('stack-copy', 0) > 200,
              f'pyperf-record: {total} cut stacks ({causes}) in a 120-deep recursion with 8 KiB copies')
        check(n == total and c == causes, f'--stats counts {n} cut ({c}), as the recorder printed')
        check('raise it with --call-graph dwarf,BYTES' in err,
              'the recorder suggests a bigger copy while the copy is below the limit')
        every_format('pyperf-record', d, data, total, causes)

        # perf reads the marked file cleanly and counts the same symbols.
        p = run(['perf', 'report', '--stdio', '-i', data], check_rc=False)
        noise = [ln for ln in p.stderr.splitlines() if ln.strip() and 'lost' not in ln.lower()
                 and 'Check IO/CPU overload' not in ln and not ln.startswith('Warning:')]
        check(p.returncode == 0 and not noise, f'perf report reads the marked file without complaint {noise[:3]}')
        compare_rows('perf report on the marked file', data)
        script = run(['perf', 'script', '-i', data, '-F', 'ip,sym'], check_rc=False)
        check(script.returncode == 0 and 'invalid callchain' not in script.stderr,
              'perf script reads every marked chain')
        # ... and so does hotspot's parser, when there (test-hotspot needs it)
        parser = next((p for p in HOTSPOT if os.access(p, os.X_OK)), None)
        if parser:
            hs = run([parser, '--input', data, '--print-stats'], check_rc=False)
            m = re.search(r'^samples: (\d+)$', hs.stdout + hs.stderr, re.M)
            n_perf = len([ln for ln in run(['perf', 'script', '-i', data, '-F', 'tid,time', '-G']).stdout
                          .split('\n') if ln.strip()])
            check(hs.returncode == 0 and m and int(m.group(1)) == n_perf,
                  f'hotspot-perfparser reads the {n_perf} samples of the marked file '
                  f'({m.group(1) if m else "?"})')

        # A copy at the kernel's limit: no advice to raise it.
        data = f'{d}/deeper.data'
        err = record(data, py, '-X', 'perf', workload('deep.py'), '500', '0.5',
                     opts=('--call-graph', 'dwarf,65528'))
        total, causes = recorder_cuts(err)
        check(causes.get('stack-copy', 0) > 0 and 'raise it' not in err and "kernel's limit" in err,
              f'at 65528 bytes: {causes.get("stack-copy", 0)} stacks deeper than the copy, and the '
              'recorder says the copy is at the limit instead of asking to raise it')
        # (pyperf-report keeps 127 frames by default, as perf: past that its
        # own limit is the cut it shows, max-stack; room for all of them)
        check(stats_cuts(data, '--max-stack', '4096') == (total, causes),
              'and --stats agrees with it (with --max-stack above the depth)')
        n, c = stats_cuts(data)
        check(n == total and c.get('max-stack', 0) > 0,
              f'with the default --max-stack 127, deeper stacks are cut there: {c}')

        # Files from perf record: DWARF copies too small ...
        data = perf_record(f'{d}/perf-dwarf.data', [py, '-X', 'perf', workload('deep.py'), '120', '0.5'],
                           args=('-F', '999', '--call-graph', 'dwarf,8192'))
        n, c = stats_cuts(data)
        check(n and c.get('stack-copy', 0) > 100,
              f'perf record --call-graph dwarf,8192: {n} stacks cut ({c}), under [truncated]')
        every_format('perf record dwarf', d, data, n, c)
        # ... frame-pointer chains through code without frame pointers ...
        data = perf_record(f'{d}/perf-fp.data', [py, workload('fib.py'), '22', '3'])
        n, c = stats_cuts(data)
        check(n and c.get('bad-frame', 0) > 0 and c.get('bad-frame', 0) + c.get('max-stack', 0) == n,
              f'perf record -g of a Python without frame pointers: {c.get("bad-frame")} chains end '
              f'outside every mapping, cut as bad-frame ({c}; max-stack: chains at the kernel\'s 127)')
        # Chains longer than --max-stack: exactly the samples perf script
        # shows with more frames (pyperf-record's whole chains, 120 deep).
        data = f'{d}/deep.data'
        text = run(['perf', 'script', '-i', data, '-F', 'ip', '--max-stack', '1024']).stdout
        longer = sum(1 for s in text.split('\n\n') if len([ln for ln in s.split('\n') if ln.strip()]) > 60)
        n, c = stats_cuts(data, '--max-stack', '60', '--view', 'native')
        check(longer > 100 and c.get('max-stack') == longer,
              f'--max-stack 60: {c.get("max-stack")} chains cut at max-stack, the {longer} samples '
              f'perf script shows with more than 60 frames')
    finally:
        shutil.rmtree(d, ignore_errors=True)


if __name__ == '__main__':
    main(test)
