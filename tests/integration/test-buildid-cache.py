#!/usr/bin/env python3
"""pyperf-record fills perf's build-id cache as perf record does (same
layout, which perf report reads), so a rebuilt program keeps its symbols
in both report tools; without the cached copy pyperf-report says why its
frames are addresses. -N and another user's $HOME leave the cache alone."""
import os
import pwd
import re
import shutil
import subprocess
from lib.common import BIN, TOP, check, main, require_perf, run, tmpdir

RECORD = os.path.join(BIN, 'pyperf-record')
REPORT = os.path.join(BIN, 'pyperf-report')
ROWS = ['--no-children', '-g', 'none', '--sort', 'comm,dso,sym', '-F', 'sample,comm,dso,sym']


def build(out, *flags):
    run(['gcc', '-fno-omit-frame-pointer', '-fno-inline', *flags, '-o', out,
         os.path.join(TOP, 'tests/helpers/callpaths.c'), '-lpthread'])
    return out


def build_id(path):
    m = re.search(r'Build ID: ([0-9a-f]+)', run(['readelf', '-n', path]).stdout)
    return m.group(1)


def env(home):
    return dict(os.environ, HOME=home, PERF_BUILDID_DIR='')


def entries(cache, prog):
    """What the cache holds for @prog: the index link and the files."""
    bid = build_id(prog)
    link = os.path.join(cache, '.build-id', bid[:2], bid[2:])
    target = os.readlink(link) if os.path.islink(link) else None
    folder = os.path.join(cache, prog.lstrip('/'), bid)
    files = sorted(f for f in os.listdir(folder) if f != 'probes') if os.path.isdir(folder) else []
    return bid, target, files


def symbols(text):
    return {ln.split()[-1] for ln in text.splitlines() if '%' in ln or re.match(r'\s+\d+\s', ln)}


def test():
    require_perf()
    d = tmpdir()
    try:
        prog = build(f'{d}/prog', '-O1')
        ours_home, perf_home = f'{d}/home-ours', f'{d}/home-perf'
        os.makedirs(ours_home)
        os.makedirs(perf_home)
        ours, theirs = f'{d}/ours.data', f'{d}/perf.data'
        run([RECORD, '-q', '-o', ours, '--', prog, '0.3'], env=env(ours_home))
        run(['perf', 'record', '-q', '-g', '-o', theirs, '--', prog, '0.3'], env=env(perf_home))
        a, b = entries(f'{ours_home}/.debug', prog), entries(f'{perf_home}/.debug', prog)
        check(a[1] is not None and a == b,
              f'the cache entry of the program is perf\'s: link {a[1]}, files {a[2]} (perf: {b[1]}, {b[2]})')
        elf = os.path.join(ours_home, '.debug', prog.lstrip('/'), a[0], 'elf')
        check(os.path.exists(elf) and open(elf, 'rb').read() == open(prog, 'rb').read(),
              'the cached elf is the recorded binary')
        kbids = re.findall(r'^([0-9a-f]+) \[kernel\.kallsyms\]', run(['perf', 'buildid-list', '-i', ours]).stdout, re.M)
        if kbids and os.geteuid() == 0:
            check(os.path.exists(f'{ours_home}/.debug/[kernel.kallsyms]/{kbids[0]}/kallsyms'),
                  'the kernel\'s symbols are cached under [kernel.kallsyms]/BUILD_ID/kallsyms, as perf keeps them')

        # the program is rebuilt: another build id at the recorded path
        build(prog, '-O2', '-DREBUILT')
        check(build_id(prog) != a[0], 'the rebuilt program has another build id')
        for name, home in (('pyperf-report', ours_home),):
            p = run([REPORT, '-i', ours, '--no-symbol-cache', *ROWS], env=env(home))
            q = run(['perf', 'report', '--stdio', '-i', ours, *ROWS], env=env(home))
            check({'work_a', 'work_b'} <= symbols(p.stdout) and {'work_a', 'work_b'} <= symbols(q.stdout),
                  f'rebuilt: {name} and perf report both name work_a, work_b from the cache')
            check('build id' not in p.stderr, 'rebuilt, cached: no mismatch warning')
        # perf record's own recording, read from perf's cache
        p = run([REPORT, '-i', theirs, '--no-symbol-cache', *ROWS], env=env(perf_home))
        check({'work_a', 'work_b'} <= symbols(p.stdout), 'rebuilt: a perf record file keeps its names too')

        # no cached copy: addresses, and one line saying why
        empty = f'{d}/home-empty'
        os.makedirs(empty)
        p = run([REPORT, '-i', ours, '--no-symbol-cache', *ROWS], env=env(empty))
        warn = [ln for ln in p.stderr.splitlines() if 'build id' in ln]
        check('work_a' not in symbols(p.stdout) and len(warn) == 1 and prog in warn[0] and
              'rebuilt since?' in warn[0] and a[0] in warn[0],
              f'not cached: addresses, and one warning naming the file and both build ids ({warn[:1]})')

        # -N writes nothing; another user's $HOME is left alone
        n_home = f'{d}/home-n'
        os.makedirs(n_home)
        run([RECORD, '-q', '-N', '-o', f'{d}/n.data', '--', prog, '0.1'], env=env(n_home))
        check(not os.path.exists(f'{n_home}/.debug'), '-N: no build-id cache written')
        if os.geteuid() == 0:
            other = f'{d}/home-other'
            os.makedirs(other)
            nobody = pwd.getpwnam('nobody')
            os.chown(other, nobody.pw_uid, nobody.pw_gid)
            p = run([RECORD, '-o', f'{d}/o.data', '--', prog, '0.1'], env=env(other))
            check(not os.path.exists(f'{other}/.debug') and 'is not ours' in p.stderr,
                  f'root with another user\'s $HOME: nothing written there, and a note '
                  f'({[ln for ln in p.stderr.splitlines() if "build-id" in ln][:1]})')
    finally:
        shutil.rmtree(d, ignore_errors=True)


if __name__ == '__main__':
    main(test)
