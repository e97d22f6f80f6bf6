#!/usr/bin/env python3
"""A program without a build id, stripped, whose symbols are in a separate
file named by its .gnu_debuglink: the report takes the names from that file
only when its CRC-32 is the one the link names (as gdb and libdwfl do), and
names the same functions perf does; a debug file changed since (another
build's) gives no names rather than wrong ones."""
import os
import re
import shutil
from lib.common import BIN, TOP, check, main, require_perf, run, tmpdir

RECORD = os.path.join(BIN, 'pyperf-record')
REPORT = os.path.join(BIN, 'pyperf-report')
ROWS = ['--no-children', '-g', 'none', '--sort', 'dso,sym', '-F', 'sample,dso,sym']


def names(text):
    """The program's own functions named in a report (libc's and the
    loader's are named from their own files, perf's way or ours)."""
    return {m.group(1) for m in re.finditer(r'^\s+\d+\s+prog\s+\[\.\]\s+(\S+)', text, re.M)}


def test():
    require_perf()
    d = tmpdir()
    try:
        prog = f'{d}/prog'
        run(['gcc', '-g', '-O1', '-fno-omit-frame-pointer', '-fno-inline', '-Wl,--build-id=none',
             '-o', prog, os.path.join(TOP, 'tests/helpers/callpaths.c'), '-lpthread'])
        check('Build ID' not in run(['readelf', '-n', prog]).stdout, 'the program has no build id')
        run(['objcopy', '--only-keep-debug', prog, f'{prog}.debug'])
        run(['strip', '--strip-all', prog])
        run(['objcopy', f'--add-gnu-debuglink={prog}.debug', prog])
        check('work_a' not in run(['nm', '-D', prog], check_rc=False).stdout, 'work_a is not in .dynsym')
        env = dict(os.environ, HOME=f'{d}/home')
        os.makedirs(f'{d}/home')
        data = f'{d}/x.data'
        run([RECORD, '-q', '-N', '-o', data, '--', prog, '0.5'], env=env)

        def ours():
            return names(run([REPORT, '--stdio', '-i', data, *ROWS], env=env).stdout)

        good = ours()
        theirs = names(run(['perf', 'report', '--stdio', '-i', data, *ROWS]).stdout)
        want = {'work_a', 'work_b', 'work_c'}
        check(want <= good, f'named from the debug link: {sorted(want & good)} of {sorted(want)}')
        check(good == theirs, f'the program\'s functions perf names, named alike: {sorted(good)}'
              + ('' if good == theirs else f' (perf: {sorted(theirs)})'))

        with open(f'{prog}.debug', 'ab') as f:
            f.write(b'another build')
        bad = ours()
        check(not (want & bad), f'a debug file whose CRC differs gives no names ({sorted(want & bad)})')

        with open(f'{prog}.debug', 'rb+') as f:
            f.truncate(os.path.getsize(f'{prog}.debug') - len(b'another build'))
        check(want <= ours(), 'the file restored: named again (the saved table is not reused)')
    finally:
        shutil.rmtree(d, ignore_errors=True)


if __name__ == '__main__':
    main(test)
