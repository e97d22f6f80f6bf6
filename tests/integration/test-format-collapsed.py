#!/usr/bin/env python3
"""Collapsed stacks, both ways.

From perf.data: `--format collapsed` is `--collapsed`, its lines are what
flamegraph.pl parses, and with --weight period it equals what
stackcollapse-perf.pl makes of `perf script` (which weighs by period).

From perf script text (`--input-format perf-script`): byte-identical to
the script's folding (lib/fold_perf_script.py, checked against the Perl
script by hand) on recorded text, for each of the script's options, and on
generated text full of the odd lines the script's regular expressions
treat in surprising ways. Bad lines: named by file and line, exit 2, the
rest still folded.
"""
import os
import random
import re
import shutil
import subprocess
from lib.common import (BIN, check, fold_script, helper, main, perf_record, pyperf_report,
                        require_perf, run, tmpdir)
from lib.fold_perf_script import fold, format_folded

FLAGS = {'pid': '--show-pid', 'tid': '--show-tid', 'kernel': '--kernel', 'jit': '--jit',
         'addrs': '--addrs'}


def fold_text(text, *flags, samples=False):
    lines = text.split('\n')
    if lines and lines[-1] == '':
        lines.pop()
    return format_folded(fold(lines, samples=samples, **{f: True for f in flags}))


def ours_script(path, *flags, stdin=None):
    cmd = [os.path.join(BIN, 'pyperf-report'), '--input-format', 'perf-script', '-i', path,
           *[FLAGS.get(f, f) for f in flags]]
    p = subprocess.run(cmd, input=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    p.err = p.stderr.decode('utf-8', 'replace')
    return p


def generated(seed):
    """perf script text with the shapes that test the script's regexes."""
    rnd = random.Random(seed)
    comms = ['a', 'ab', 'python3', 'V8 WorkerThread', 'java', 'javac x', 'kworker/u8:2-ev', ':-1',
             'x 12 y', 'sp  ace', 'tab\tc', 'Web Content 3', 'perf-exec']
    funcs = ['main', 'foo+0x1a', 'foo+0x1A', 'std::vector<int>::push_back(int const&)+0x10',
             '(anonymous namespace)::f(int)', 'net/http.(*Client).Do', 'Lorg/mozilla/Foo;.call(Lbar;)V',
             '[unknown]', 'py::fib:/tmp/fib.py', 'a->b->c', 'x->', '->y', '"quoted"', "it's", 'semi;colon',
             '(skip)', 'f (x)', '+0x10', 'g_[i]', 'h_[j]', 'a->->b', 'caf\u00e9']
    mods = ['/usr/lib/libc.so.6', '[kernel.kallsyms]', '[unknown]', '/tmp/perf-123.map', '/tmp/perf-x.map',
            'inlined', '/lib/modules/vmlinux', '/path with space/lib.so', '[nf_conntrack]', 'a(b)c', '']
    events = ['cpu-clock:ppp:', 'cycles:', 'sched:sched_switch:', 'cpu-clock:']
    out = []
    for _ in range(300):
        ids = rnd.choice([str(rnd.randint(0, 99999)), f'{rnd.randint(1, 999)}/{rnd.randint(0, 999)}',
                          '0/0', '12/', '5//6'])
        out.append(f'{rnd.choice(comms)} {ids}{rnd.choice(["", " [001]"])} '
                   f'{rnd.randint(1, 9999)}.{rnd.randint(0, 999999):06d}:'
                   f'{rnd.choice(["", "     1001001", " 0", " 250000", " 7"])} '
                   f'{rnd.choice(events[:2] * 4 + events)}{rnd.choice(["", " ", "  prev_comm=x"])}')
        for _ in range(rnd.randint(0, 6)):
            pc = rnd.choice([f'{rnd.randint(0, 2**48):x}', 'ffffffff8103ce3b', '0', 'zz'])
            out.append(rnd.choice(['\t', '    ', '\t    ', '']) +
                       f'{pc} {rnd.choice(funcs)} ({rnd.choice(mods)})' + rnd.choice(['', '', ' (inlined)', ')']))
        if rnd.random() < 0.03:
            out.append(rnd.choice(['   ', '# comment', '\r']))
        if rnd.random() < 0.95:
            out.append('')
    return '\n'.join(out) + '\n'


def test():
    require_perf()
    d = tmpdir()
    try:
        data = perf_record(f'{d}/c.data', [helper('callpaths'), '-t', '1', '0.5'])
        plain = pyperf_report('-i', data, '--collapsed').stdout
        check(pyperf_report('-i', data, '--format', 'collapsed').stdout == plain,
              '--format collapsed is --collapsed')
        bad = [l for l in plain.splitlines() if not re.fullmatch(r'[^;\n]+(;[^;\n]+)* [0-9]+', l)]
        check(plain and not bad, f'{len(plain.splitlines())} lines of "frame;frame;... count" '
              f'(flamegraph.pl input){"; bad: " + repr(bad[:3]) if bad else ""}')
        keys = [l.rsplit(' ', 1)[0] for l in plain.splitlines()]
        check(keys == sorted(keys, key=lambda s: s.encode()) and len(set(keys)) == len(keys),
              'one line per distinct stack, in bytewise order')
        # A frame-pointer chain that loops (a thread being cloned) reaches
        # the kernel's 127 frames: we put it under [truncated], perf does not.
        period = pyperf_report('-i', data, '--collapsed', '--weight', 'period',
                               '--no-truncated-root').stdout
        theirs = fold_script(data, samples=False)
        check(period == theirs, '--weight period equals stackcollapse-perf.pl (period-weighted) '
              f'on perf script ({len(theirs.splitlines())} stacks)')
        # The limit cuts call-tree nodes (per thread) whose total period is
        # under 15% of the event's; a stack's line stays if its node does.
        per_tid = pyperf_report('-i', data, '--collapsed', '--weight', 'period', '--show-tid').stdout
        lines = [l.rsplit(' ', 1) for l in per_tid.splitlines()]
        total = sum(int(w) for _, w in lines)
        want = {f'{k} {w}' for k, w in lines
                if 100 * sum(int(w2) for k2, w2 in lines if k2 == k or k2.startswith(k + ';')) >= 15 * total}
        limited = pyperf_report('-i', data, '--collapsed', '--weight', 'period', '--show-tid',
                                '--percent-limit', '15').stdout
        check(set(limited.splitlines()) == want and want,
              f'--percent-limit 15 keeps the {len(want)} of {len(lines)} stacks whose node holds 15%')

        # perf script text, recorded.
        text = run(['perf', 'script', '-i', data]).stdout
        full = run(['perf', 'script', '-i', data, '-F', 'comm,pid,tid,time,event,ip,sym,dso']).stdout
        with open(f'{d}/script.txt', 'w') as f:
            f.write(text)
        with open(f'{d}/full.txt', 'w') as f:
            f.write(full)
        for src, name in ((text, 'script.txt'), (full, 'full.txt')):
            for flags in ((), ('kernel',), ('jit',), ('addrs',), ('pid',), ('tid',), ('kernel', 'addrs', 'tid')):
                ours = ours_script(f'{d}/{name}', *flags)
                want = fold_text(src, *flags)
                check(ours.returncode == 0 and ours.stdout.decode() == want and want,
                      f'perf script ({name}) {"+".join(flags) or "plain"}: identical to the script\'s '
                      f'folding ({len(want.splitlines())} stacks)')
        ours = ours_script('-', stdin=text.encode())
        check(ours.stdout.decode() == fold_text(text), 'reads standard input (-i -)')
        ours = ours_script(f'{d}/script.txt', '--weight', 'samples')
        plain_nt = pyperf_report('-i', data, '--collapsed', '--no-truncated-root').stdout
        check(ours.stdout.decode() == fold_text(text, samples=True) == plain_nt,
              '--weight samples counts samples, equal to --collapsed on the perf.data')

        # Generated text: the regexes' corner cases, byte for byte.
        for seed in range(4):
            g = generated(seed)
            path = f'{d}/gen{seed}.txt'
            with open(path, 'w', encoding='utf-8') as f:
                f.write(g)
            for flags in ((), ('kernel', 'jit'), ('addrs', 'pid'), ('tid',)):
                ours = ours_script(path, *flags)
                want = fold_text(g, *flags).encode()
                ok = check(ours.stdout == want,
                           f'generated text {seed} {"+".join(flags) or "plain"}: identical '
                           f'({len(want.splitlines())} stacks)')
                if not ok:
                    a, b = set(want.splitlines()), set(ours.stdout.splitlines())
                    print('    only oracle:', sorted(a - b)[:3], '\n    only ours:', sorted(b - a)[:3])

        # NUL bytes are bytes like any other to the script: an event name
        # holding one was copied short, read past its copy and folded
        # wrongly ("zz;main 10" for the script's 20).
        g = ('zz 1 1.0: 10 cpu\0clock: \n\t1 main (/x)\n\nzz 1 1.0: 10 cpu\0clock: \n\t1 main (/x)\n\n' +
             generated(9).replace('cycles:', 'cpu\0clock:').replace('main', 'ma\0in'))
        ours = ours_script('-', stdin=g.encode())
        want = fold_text(g).encode()
        check(ours.stdout == want and b'\0' in want,
              f'NUL bytes in event and function names: identical ({len(want.splitlines())} stacks)')

        # Damaged text: named by file and line, the rest kept, exit 2.
        lines = text.split('\n')
        lines.insert(3, 'this is not perf script output')
        with open(f'{d}/bad.txt', 'w') as f:
            f.write('\n'.join(lines))
        ours = ours_script(f'{d}/bad.txt')
        err = ours.err
        check(ours.returncode == 2 and f'{d}/bad.txt: line 4:' in err,
              f'a bad line: exit {ours.returncode}, message names file and line ({err.strip()[:120]})')
        check(ours.stdout.decode() == fold_text('\n'.join(lines)), 'the rest is still folded')
        with open(f'{d}/binary.txt', 'wb') as f:
            f.write(bytes(random.Random(7).randrange(256) for _ in range(20000)))
        ours = ours_script(f'{d}/binary.txt')
        check(ours.returncode == 2 and 'line' in ours.err, 'binary garbage: exit 2, no crash')
        ours = ours_script(f'{d}/missing.txt')
        check(ours.returncode == 2 and 'missing.txt' in ours.err, 'a missing file: exit 2')
    finally:
        shutil.rmtree(d, ignore_errors=True)


if __name__ == '__main__':
    main(test)
