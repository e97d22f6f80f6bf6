#!/usr/bin/env python3
"""Full Python stacks on interpreters without frame pointers (DWARF mode).

Ground truth: fib(25) nests only in main() in <module>, so every sample
whose innermost Python frame is fib must show <module>, main, then fib
frames only. Two threads doing 2:1 work must split 2:1 in the python view.
A C extension frame must sit under the Python frame that called it."""
import os
import re
import time
import shutil
from lib.common import (BIN, Skip, check, main, pyperf_report, python, require_perf, run, tmpdir,
                        workload)

RECORD = os.path.join(BIN, 'pyperf-record')


def python_stacks(data):
    """(frames outermost first, count) of the python view's folded stacks."""
    out = []
    for line in pyperf_report('-i', data, '--view', 'python', '--collapsed').stdout.splitlines():
        stack, n = line.rsplit(' ', 1)
        out.append((stack.split(';')[1:], int(n)))
    return out


def complete_share(data):
    """Share of fib samples whose Python stack is <module>, main, fib..."""
    total = complete = 0
    for frames, n in python_stacks(data):
        if not frames or frames[-1] != 'fib (fib.py)':
            continue
        total += n
        if frames[:2] == ['<module> (fib.py)', 'main (fib.py)'] and \
                all(f == 'fib (fib.py)' for f in frames[2:]) and len(frames) <= 27:
            complete += n
    return complete, total


def max_python_frames_perf(data):
    """Most py:: frames perf's own unwinding finds in one sample."""
    text = run(['perf', 'script', '-i', data]).stdout
    best = 0
    for block in text.split('\n\n'):
        best = max(best, block.count(' py::'))
    return best


def test():
    require_perf()
    d = tmpdir()
    try:
        variants = [('3.12', ['-X', 'perf']), ('3.13', ['-X', 'perf']), ('3.13', ['-X', 'perf_jit'])]
        for ver, flags in variants:
            try:
                py = python(ver)
            except Skip as e:
                print(f'  note: {e}')
                continue
            name = f'python{ver} {" ".join(flags)}'
            # pyperf-record with its defaults: -g chooses dwarf, unwinds live.
            ours = f'{d}/ours-{ver}{flags[1]}.data'
            p = run([RECORD, '-o', ours, '--', py, *flags, workload('fib.py'), '25', '6'])
            c, t = complete_share(ours)
            check(t > 50 and c >= 0.95 * t,
                  f'{name}, pyperf-record defaults: {c}/{t} fib samples with every Python frame '
                  f'from <module> down ({100 * c / max(t, 1):.1f}%)')
            # perf record --call-graph dwarf,65528, unwound by pyperf-report.
            theirs = f'{d}/perf-{ver}{flags[1]}.data'
            run(['perf', 'record', '-q', '--call-graph', 'dwarf,65528', '-F', '999', '-o', theirs,
                 '--', py, *flags, workload('fib.py'), '25', '6'])
            c, t = complete_share(theirs)
            check(t > 20 and c >= 0.95 * t,
                  f'{name}, perf record dwarf,65528: pyperf-report finds every Python frame in {c}/{t} '
                  f'fib samples ({100 * c / max(t, 1):.1f}%)')
            if flags[1] == 'perf_jit':
                # /tmp keeps perf maps of dead processes; one with this
                # pid, older than the jitdump, must not hide it.
                pids = set(re.findall(r'^\s*\S+\s+(\d+)/\d+', run(['perf', 'script', '-i', theirs, '-F',
                                                                  'comm,pid,tid']).stdout, re.M))
                planted = [f'/tmp/perf-{pid}.map' for pid in pids
                           if not os.path.exists(f'/tmp/perf-{pid}.map')]
                # (a map already there is one: perf_jit writes none)
                stale = len(pids) - len(planted)
                for path in planted:
                    with open(path, 'w') as f:
                        f.write('1000 10 py::stale_entry:old.py\n')
                    os.utime(path, (time.time() - 3600, time.time() - 3600))
                try:
                    c2, t2 = complete_share(theirs)
                finally:
                    for path in planted:
                        os.unlink(path)
                check(pids and (c2, t2) == (c, t),
                      f'{name}: an older perf map of a dead process with the same pid does not hide '
                      f'the jitdump ({c2}/{t2}; {len(planted)} planted, {stale} already there)')
            if ver == '3.12':
                m = max_python_frames_perf(theirs)
                check(m <= 1, f'{name}: perf itself shows at most one Python frame per sample ({m})')
                # Our dwarf file: small once compressed (-z; not the default,
                # which hotspot 1.3 reads), and perf shows the full stacks.
                fp, z = f'{d}/fp.data', f'{d}/z.data'
                run([RECORD, '-o', fp, '--call-graph', 'fp', '--', py, *flags, workload('fib.py'), '25', '6'])
                run([RECORD, '-o', z, '-z', '--', py, *flags, workload('fib.py'), '25', '6'])
                ratio = os.path.getsize(z) / os.path.getsize(fp)
                check(ratio <= 2.0, f'{name}: dwarf file with -z is {ratio:.2f}x the frame-pointer file (<= 2x)')
                m = max_python_frames_perf(ours)
                check(m >= 20, f'{name}: perf report on pyperf-record\'s dwarf file shows deep Python '
                               f'stacks ({m} py:: frames in one sample)')

        # 2:1 threads, python view, against the workload's own measure.
        py = python('3.12')
        data = f'{d}/threads.data'
        p = run([RECORD, '-o', data, '--', py, workload('threads.py'), '4000000'])
        m = re.search(r'ratio=([\d.]+)', p.stderr)
        truth = float(m.group(1)) if m else 2.0
        slow = fast = 0
        for frames, n in python_stacks(data):
            if 'slow_function (threads.py)' in frames:
                slow += n
            elif 'fast_function (threads.py)' in frames:
                fast += n
        got = slow / max(fast, 1)
        check(fast > 50 and abs(got - truth) <= 0.15,
              f'threads 2:1: python view gives {got:.2f}, the workload measured {truth:.2f} (±0.15)')

        # A C extension's frame under the Python frame that called it.
        script = f'{d}/zl.py'
        with open(script, 'w') as f:
            f.write('import zlib, os\n'
                    'data = os.urandom(1 << 16) * 4\n'
                    'def squash():\n'
                    '    for _ in range(400):\n'
                    '        zlib.compress(data, 6)\n'
                    'squash()\n')
        data = f'{d}/zlib.data'
        run([RECORD, '-o', data, '--', py, script])
        under = 0
        total = 0
        for line in pyperf_report('-i', data, '--view', 'mixed', '--collapsed').stdout.splitlines():
            stack, n = line.rsplit(' ', 1)
            frames = stack.split(';')
            if 'squash (zl.py)' not in frames:
                continue
            total += int(n)
            i = frames.index('squash (zl.py)')
            nxt = frames[i + 1] if i + 1 < len(frames) else ''
            if re.match(r'(zlib_|deflate|compress|longest_match|fill_window)', nxt):
                under += int(n)
        check(total > 20 and under >= 0.8 * total,
              f'mixed view: {under}/{total} samples show zlib\'s C code right under squash()')
    finally:
        shutil.rmtree(d, ignore_errors=True)


if __name__ == '__main__':
    main(test)
