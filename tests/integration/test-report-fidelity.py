#!/usr/bin/env python3
"""Where pyperf-report and perf report read the same file, they say the
same: -g fractal (percentages and limits of the parent), --percent-limit
(which prunes call-graph branches too), files recorded without -g
(Overhead only, no call graphs, and one line saying why), --max-stack
(perf's 127 by default, the outermost frames in caller order), and lost
samples (counted once, not once per record kind), and functions inlined at
DWARF-unwound frames where debug info is installed."""
import os
import re
import shutil
from lib.common import (BIN, Skip, check, compare_text, helper, main, perf_record, perf_report, pyperf_report,
                        python, require_perf, run, strip_perf_chrome, tmpdir, workload)


def compared(results, what):
    """At least one comparison ran and none failed (PLT stubs can make a
    text incomparable with perf 6.1: compare_text says None then)."""
    ran = [r for r in results if r is not None]
    check(ran and all(ran), f'{what}: {len(ran)} of {len(results)} texts compared, all identical')


def test_fractal_and_limits(d, cp):
    # a 1.5% branch (path_s), between the 0.5% call-graph limit and 5%
    data = perf_record(f'{d}/c.data', [cp, '-s', '-d', '40', '0.6'])
    res = [compare_text('C fp', data, *a) for a in (
        ('-g', 'fractal'), ('--no-children', '-g', 'fractal'), ('--no-children', '-g', 'fractal,0'),
        ('-g', 'fractal,2,callee'))]
    compared(res, 'fractal, C')
    res = [compare_text('C fp', data, *a) for a in (
        ('--percent-limit', '5'), ('--no-children', '--percent-limit', '2'),
        ('--percent-limit', '5', '-g', 'graph,1'), ('-g', 'graph,1', '--percent-limit', '8'),
        ('--no-children', '-g', 'graph,0'))]
    compared(res, 'percent limits, C')
    py = python('3.12')
    data = perf_record(f'{d}/threads.data', [py, '-X', 'perf', workload('threads.py'), '3000000'])
    # (--no-children: with Children, equal entries of this recording may
    # tie in an order that is not the fractal's matter)
    res = [compare_text('python3.12 threads', data, *a) for a in (
        ('--no-children', '-g', 'fractal'), ('--no-children', '-g', 'fractal,0.1'),
        ('--no-children', '--percent-limit', '3'))]
    # PLT samples may make these incomparable; when comparable, equal
    check(all(r is not False for r in res), 'fractal and percent limit, python3.12: no text differs')


def test_no_callchains(d, cp):
    data = perf_record(f'{d}/nog.data', [cp, '0.4'], args=('-F', '999'))
    res = [compare_text('no -g', data, *a) for a in ((), ('--no-children',), ('-n',), ('--hierarchy',))]
    compared(res, 'perf record without -g')
    p = pyperf_report('-i', data, '--view', 'native')
    check('no call chains (recorded without -g)' in p.stderr and 'Children' not in p.stdout,
          'no -g: Overhead only, and a note saying why')
    # pyperf-record --call-graph none writes the same kind of file
    ours = f'{d}/pyperf-nog.data'
    run([f'{BIN}/pyperf-record', '-q', '-o', ours, '--call-graph', 'none', '--', cp, '0.3'])
    compared([compare_text('pyperf-record --call-graph none', ours)], 'pyperf-record without call graphs')
    # the python view of a Python run without -g: one line says why it is flat
    data = perf_record(f'{d}/py-nog.data', ['/usr/bin/python3', '-c', 'sum(range(3 * 10**6))'],
                       args=('-F', '999'))
    p = pyperf_report('-i', data, '--view', 'python')
    check('no call chains' in p.stderr and 'Python frames appear only where' in p.stderr,
          'no -g, python view: the note says Python frames need call chains')
    # with call chains but no perf map: the note names the ways to get one
    data = perf_record(f'{d}/py-g.data', ['/usr/bin/python3', '-c', 'sum(range(3 * 10**6))'])
    p = pyperf_report('-i', data, '--view', 'python')
    check('no Python frames in the' in p.stderr and '-X perf' in p.stderr and
          'perf_trampoline' in p.stderr, 'python view without Python frames: one line saying how to get them')
    check(p.stderr.count('\n') == 1, f'python view without Python frames: one line ({p.stderr!r})')
    p = pyperf_report('-i', data, '--view', 'native')
    check('Python frames' not in p.stderr, 'native view: no note about Python frames')


def rows_g_none(data, *args):
    """Entries (-g none) of both tools, as text: the Children column and
    which entries exist follow the frames kept."""
    return compare_text('max-stack', data, *args, '-g', 'none')


def test_max_stack(d, cp):
    # pyperf-record's chains are unwound while recording, past the
    # kernel's 127 frames: deep recursion (300 calls) in callpaths
    data = f'{d}/deep.data'
    run([f'{BIN}/pyperf-record', '-q', '-o', data, '-F', '499', '--call-graph', 'dwarf', '--',
         cp, '-d', '300', '0.5'])
    longest = max(len(b.strip().split('\n')) - 1 for b in
                  run(['perf', 'script', '-i', data, '--max-stack', '1024']).stdout.split('\n\n') if b.strip())
    check(longest > 200, f'the recording has chains longer than 127 frames ({longest})')
    res = [rows_g_none(data, *a) for a in (
        (), ('--children',), ('--no-children',), ('--max-stack', '30'), ('--no-children', '--max-stack', '30'),
        ('-g', 'callee', '--max-stack', '50'), ('--max-stack', '1000'))]
    compared(res, '--max-stack: entries and Children as perf (default 127)')
    # leaf-side cuts: whole text equal
    compared([compare_text('max-stack', data, '--no-children', '--max-stack', '40')],
             '--max-stack, callee order: call graphs as perf')
    h = pyperf_report('--help').stdout
    check('(default\n' in h and '127' in h.split('--max-stack')[1][:160], '--help says 127')


LOST = re.compile(r'^# Total Lost Samples: (\d+)$', re.M)


def test_lost(d, cp):
    data = perf_record(f'{d}/lost.data', [cp, '-t', '1', '0.5'],
                       args=('-e', 'cpu-clock', '-F', '20000', '-m', '2', '--call-graph', 'dwarf,2048'))
    theirs = LOST.search(perf_report('-i', data, '-g', 'none')).group(1)
    p = pyperf_report('-i', data, '--view', 'native', '-g', 'none')
    ours = LOST.search(p.stdout).group(1)
    check(theirs == ours and int(ours) > 0, f'perf record file: Total Lost Samples {ours}, perf {theirs}')
    check(f'warning: {theirs} samples were lost' in p.stderr,
          f'perf record file: the warning counts {theirs}, once ({p.stderr.strip()[:160]})')
    for mode in ('--raw-stacks', None):
        data = f'{d}/plost.data'
        rec = run([f'{BIN}/pyperf-record', '-o', data, '-m', '1', '-F', '20000', '--call-graph', 'dwarf,2048',
                   *([mode] if mode else []), '--', cp, '-t', '1', '0.5'])
        said = re.search(r'samples of \S+, (\d+) lost', rec.stderr)
        theirs = LOST.search(perf_report('-i', data, '-g', 'none')).group(1)
        p = pyperf_report('-i', data, '--view', 'native', '-g', 'none')
        ours = LOST.search(p.stdout).group(1)
        what = f'pyperf-record {mode or "(online)"}'
        check(said and int(said.group(1)) > 0, f'{what}: samples were lost ({said and said.group(1)})')
        check(theirs == ours == said.group(1),
              f'{what}: perf says {theirs} lost, pyperf-report {ours}, the recorder {said.group(1)}')


ENTRY = re.compile(r'^\s+\d+\.\d+%\s')


def blocks(text):
    """{entry line: its call graph lines} of a perf-style report."""
    out, key = {}, None
    for line in strip_perf_chrome(text).split('\n'):
        if ENTRY.match(line):
            key = line
            out[key] = []
        elif key is not None:
            out[key].append(line)
    return out


# Names perf gives through binutils' addr2line where pyperf keeps the DWARF
# name (README): GCC clones (.isra.0, .constprop.0, .part.0) and glibc's
# aliases; and perf's own unwinder's 0xffffffffffffffff end frames.
NOT_COMPARED = re.compile(r'\.(isra|constprop|part)\.|__GI_|libc\.so|ffffffffffffffff')


def test_inlined(d):
    """perf shows functions inlined at DWARF-unwound frames when debug info
    is there (python3.11-dbg): so does pyperf-report, entry for entry."""
    exe = os.path.realpath('/usr/bin/python3.11')
    bid = re.search(r'Build ID: ([0-9a-f]+)', run(['readelf', '-n', exe]).stdout).group(1)
    if not os.path.exists(f'/usr/lib/debug/.build-id/{bid[:2]}/{bid[2:]}.debug'):
        raise Skip('no debug info for /usr/bin/python3.11 (mk/deps.sh test installs python3.11-dbg)')
    code = ('import gc\nclass N:\n    def __init__(s): s.r = s\n'
            'for _ in range(30):\n    l = [N() for i in range(20000)]\n    del l\n    gc.collect()\n')
    data = perf_record(f'{d}/inl.data', [exe, '-c', code], args=('-F', '999', '--call-graph', 'dwarf'))
    for args in (('--no-children',), ('--no-children', '-g', 'caller'), ('--no-children', '-g', 'folded'),
                 ('--children', '-g', 'none')):
        theirs = blocks(perf_report('-i', data, *args))
        ours = blocks(pyperf_report('--view', 'native', '-i', data, *args).stdout)
        keep = [k for k in theirs if re.search(r'%\s+python3\.11\s+python3\.11\s+\[', k) and
                not NOT_COMPARED.search(k + '\n'.join(theirs[k]))]
        same = [k for k in keep if k in ours and ours[k] == theirs[k]]
        if args[0] == '--children':
            # perf's unwinder ends some stacks in 0xffffffffffffffff where
            # ours reaches their callers, and the two unwinders differ on
            # a stack now and then (the unwinder's matter, not inlining's):
            # Children may differ (up to 3.5% on a startup function seen),
            # and perf's Self of a function whose code sits under its
            # DWARF name now and then went to another entry (0.62% where
            # its own --no-children report, equal to ours, said 8.41%):
            # the entries themselves, inlined ones included, are the same
            def two(line):
                m = re.match(r'^\s+([\d.]+)%\s+([\d.]+)%(.*)$', line)
                return (float(m.group(1)), float(m.group(2))), m.group(3)
            pct = dict((two(k)[1], two(k)[0]) for k in ours)
            for k in keep:
                rest = two(k)[1]
                if k not in same and rest in pct:
                    same.append(k)
        inl = sum('(inlined)' in k + '\n'.join(theirs[k]) for k in keep)
        # Under load a stack or two comes out of perf's unwinder shorter
        # than of ours (not inlining's matter): 90% of the entries, and
        # every entry in --children mode
        need = len(keep) if args[0] == '--children' else -(-9 * len(keep) // 10)
        check(len(keep) >= 5 and len(same) >= need and inl > 0,
              f'inlined frames, {" ".join(args)}: {len(same)} of {len(keep)} python3.11 entries as '
              f'perf shows them ({inl} with inlined functions)'
              + ('' if len(same) == len(keep) else '; first differing: perf %r, ours %r' % (
                  [k for k in keep if k not in same][0],
                  [o for o in ours if o.split('%')[-1] == [k for k in keep if k not in same][0].split('%')[-1]][:1])))
    inlined = re.compile(r'(^|;)gc_collect_main[; ]', re.M)  # (the out-of-line one is .lto_priv.0)
    folded = pyperf_report('--view', 'native', '-i', data, '--collapsed').stdout
    check(inlined.search(folded), 'collapsed stacks name gc_collect_main (inlined in gc_collect)')
    p = pyperf_report('--view', 'native', '-i', data, '--collapsed', '--no-inline')
    check(p.returncode == 0 and not inlined.search(p.stdout), '--no-inline: no inlined frames')


def test():
    require_perf()
    d = tmpdir()
    try:
        cp = helper('callpaths')
        test_fractal_and_limits(d, cp)
        test_no_callchains(d, cp)
        test_max_stack(d, cp)
        test_lost(d, cp)
        try:
            test_inlined(d)
        except Skip as e:
            check(False, f'inlined frames not tested: {e}')
    finally:
        shutil.rmtree(d, ignore_errors=True)


if __name__ == '__main__':
    main(test)
