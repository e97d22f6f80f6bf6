#!/usr/bin/env python3
"""--format script: every sample, in time order, with perf script's layout;
on files from perf record (C with frame pointers: threads and forked
children; Python; system-wide with CPUs) times, pids/tids, CPUs, periods,
events and native frames (address, symbol+offset, object) equal perf
script's sample for sample, up to the PLT stub names of perf 6.1 (see
lib/common.py). --time, --reltime, --ns, the python view, and the text
folds (our perf-script reader) to the same stacks as --collapsed."""
import os
import re
from lib.common import (BIN, check, dso_paths, helper, in_plt, main, perf_record, pyperf_report, require_perf, run,
                        tmpdir, workload)

HEAD = re.compile(r'^(\S.*?) +(\d+)/(\d+) +(?:\[(\d+)\] +)?(\d+\.\d+): +(\d+) +(\S+): $')
FRAME = re.compile(r'^\t *([0-9a-f]+) (.*) \((.*)\)$')


def samples(text):
    """[(header fields, [(ip, sym, dso)])] of perf script text."""
    out = []
    for block in text.split('\n\n'):
        lines = [ln for ln in block.split('\n') if ln]
        if not lines:
            continue
        m = HEAD.match(lines[0])
        if not m:
            out.append((('unparsed', lines[0]), []))
            continue
        frames = []
        for ln in lines[1:]:
            f = FRAME.match(ln)
            frames.append(f.groups() if f else ('?', ln, '?'))
        # the line itself too: its layout (widths, padding) is compared
        out.append((m.groups() + (lines[0],), frames))
    return out


def same_frame(a, b, paths):
    if a == b:
        return True
    # perf 6.1 misnames PLT stubs and the PLT's header ("_init" for our
    # ".plt", see lib/common.py): the same address inside a PLT will do
    names = (a[1], b[1])
    return (a[0] == b[0] and a[2] == b[2] and
            any('@plt' in n or n.startswith('.plt+') or n == '[unknown]' for n in names)
            and in_plt(paths, os.path.basename(a[2]), int(a[0], 16)))


def compare(name, data, cpu=False, comm=None):
    fields = 'comm,pid,tid,' + ('cpu,' if cpu else '') + 'time,period,event,ip,sym,dso,symoff'
    only = ('--comm', comm) if comm else ()
    theirs = samples(run(['perf', 'script', '--no-inline', '-i', data, '-F', fields, *only]).stdout)
    ours = samples(pyperf_report('-i', data, '--view', 'native', '--format', 'script', '--no-truncated-root',
                                 *only).stdout)
    check(len(theirs) == len(ours) and theirs, f'{name}: {len(ours)} samples, perf script {len(theirs)}')
    paths = dso_paths(data)
    heads = frames = frameless = plt = 0
    first_bad = None
    for i, ((th, tf), (oh, of)) in enumerate(zip(theirs, ours)):
        if th != oh:
            heads += 1
            first_bad = first_bad or (i, th, oh)
            continue
        if tf == of:
            continue
        if not tf and len(of) == 1:
            # perf 6.1 prints no frame for a sample whose chain it fails to
            # resolve (a fork child's first); perf report still counts it
            frameless += 1
        elif len(tf) == len(of) and all(same_frame(a, b, paths) for a, b in zip(tf, of)):
            plt += 1
        else:
            frames += 1
            first_bad = first_bad or (i, tf[:6], of[:6])
    check(not heads, f'{name}: time, comm, pid/tid, cpu, period and event of every sample equal, laid out alike '
                     f'({heads} differ)')
    check(not frames, f'{name}: every sample\'s frames equal ({frames} differ; {plt} in PLT stubs perf 6.1 '
                      f'misnames, {frameless} perf printed without frames)')
    if first_bad:
        print(f'    first difference at sample {first_bad[0]}:\n    perf: {first_bad[1]}\n    ours: {first_bad[2]}')
    return ours


def test():
    require_perf()
    d = tmpdir()
    cp = helper('callpaths')
    data = perf_record(f'{d}/c.data', [cp, '-t', '1', '-f', '1', '1.0'])
    compare('C fp, threads and forks', data)
    py = perf_record(f'{d}/py.data', ['python3', workload('phases.py'), '0.3', '0.3'])
    ours = compare('python3 (no frame pointers)', py)
    times = [float(h[4]) for h, _ in ours]
    check(times == sorted(times), 'samples in time order')
    # (only the program's samples: the machine runs others' compilers,
    # whose C++ names perf demangles)
    sysw = perf_record(f'{d}/sys.data', [cp, '-t', '1', '0.5'], args=('-a', '-g', '-F', '499'))
    compare('system-wide, CPUs', sysw, cpu=True, comm='callpaths')

    p = pyperf_report('-i', data, '--format', 'script', '--weight', 'off-cpu', check_rc=False)
    check(p.returncode == 1 and 'intervals' in p.stderr, f'--weight off-cpu refused: {p.stderr.strip()[:90]}')

    # two events: perf pads their names to the longest
    two = perf_record(f'{d}/two.data', [cp, '-t', '1', '0.3'], args=('-e', 'cpu-clock,page-faults', '-g'))
    compare('two events', two)

    # --time keeps the samples perf script --time keeps
    t = run(['perf', 'script', '-i', data, '-F', 'time', '--time', '20%/2']).stdout.split()
    o = samples(pyperf_report('-i', data, '--format', 'script', '--time', '20%/2').stdout)
    check(len(o) == len(t) and [h[4] for h, _ in o] == [x.rstrip(':') for x in t],
          f'--time 20%/2: the {len(o)} samples perf script --time keeps ({len(t)})')
    # --reltime and --ns, as perf script's
    for flags in (('--reltime',), ('--ns',), ('--reltime', '--ns')):
        theirs = run(['perf', 'script', '-i', data, '-F', 'time', *flags]).stdout.split()
        o = samples(pyperf_report('-i', data, '--format', 'script', *flags).stdout)
        check([h[4] for h, _ in o] == [x.rstrip(':') for x in theirs],
              f'{" ".join(flags)}: times equal perf script {" ".join(flags)}\'s')

    # the python view: Python frames by name; the text folds to --collapsed
    ourdata = f'{d}/ours.data'
    run([os.path.join(BIN, 'pyperf-record'), '-g', '-o', ourdata, '--', 'python3', workload('phases.py'), '0.3', '0.3'])
    for view in ('python', 'mixed', 'native'):
        text = pyperf_report('-i', ourdata, '--view', view, '--format', 'script').stdout
        s = samples(text)
        check(all(h[0] != 'unparsed' for h, _ in s), f'{view} view: every entry parses ({len(s)} samples)')
        if view == 'python':
            names = {(f[1], f[2]) for _, fr in s for f in fr}
            check(('first_phase', 'phases.py') in names and ('spin_b', 'phases.py') in names,
                  'python view: frames are Python functions with their file')
        path = f'{d}/{view}.script'
        with open(path, 'w') as f:
            f.write(text)
        folded = pyperf_report('--input-format', 'perf-script', '-i', path, '--weight', 'samples').stdout
        direct = pyperf_report('-i', ourdata, '--view', view, '--collapsed').stdout
        if view == 'native':
            check(sorted(folded.splitlines()) == sorted(direct.splitlines()),
                  f'{view} view: the text folds to the same stacks as --collapsed')
        else:
            n_f = sum(int(x.rsplit(' ', 1)[1]) for x in folded.splitlines())
            n_d = sum(int(x.rsplit(' ', 1)[1]) for x in direct.splitlines())
            check(n_f == n_d == len(s), f'{view} view: folding the text counts every sample ({n_f}, {n_d})')


if __name__ == '__main__':
    main(test)
