#!/usr/bin/env python3
"""Saved symbol tables (--symbol-cache): the same report cold, warm and
without the cache; damaged cache files ignored and replaced, also by the
ASan/UBSan build; a changed file or an unsafe folder never served.

A frame-pointer recording of the C helper (its own symbols, libc's and the
kernel's) and one of python3.12 -X perf (libpython's large table, perf
maps) are reported with a fresh cache folder: the first run saves tables,
the second maps them and must print the same bytes as a run with
--no-symbol-cache, in every view and in the flat per-symbol report that
other tests compare with perf."""
import os
import random
import re
import stat
import struct
from lib.common import (BIN, BUILD, check, helper, main, perf_record, python, require_perf, run,
                        tmpdir, workload)

REPORT = os.path.join(BIN, 'pyperf-report')
SAN_REPORT = os.path.join(BUILD, 'san/bin/pyperf-report')
ROWS = ['--no-children', '-g', 'none', '--sort', 'comm,dso,sym', '-F', 'sample,comm,dso,sym']


def report(data, cache, *args, exe=REPORT):
    opts = ['--no-symbol-cache'] if cache is None else ['--symbol-cache', cache]
    p = run([exe, '-i', data, '--stats', *opts, *args], check_rc=False)
    m = re.search(r'(\d+) tables from the symbol cache, (\d+) saved to it', p.stderr)
    return p, (int(m.group(1)), int(m.group(2))) if m else (None, None)


def outputs(data, cache, exe=REPORT):
    """Every view's folded stacks and the flat report, and the cache counts."""
    out, counts = [], []
    for args in (['--collapsed', '--view', 'native'], ['--collapsed', '--view', 'mixed'],
                 ['--collapsed', '--view', 'python'], ROWS):
        p, c = report(data, cache, *args, exe=exe)
        out.append((p.returncode, p.stdout))
        counts.append(c)
    return out, counts


def sym_files(cache):
    return sorted(os.path.join(cache, f) for f in os.listdir(cache) if f.endswith('.sym'))


def damage(f, how):
    b = bytearray(open(f, 'rb').read())
    how %= 5
    if how == 0:
        b = b[:len(b) // 2]  # cut
    elif how == 1:
        b[0] ^= 0xff  # magic
    elif how == 2:
        b[-1] = 0x41  # names lose their final NUL
    elif how == 3:
        b[40:48] = (len(b) * 4).to_bytes(8, 'little')  # file_size field
    else:
        for k in range(64, len(b), 97):  # key and tables scribbled
            b[k] ^= 0x5a
    open(f, 'wb').write(b)


def test():
    require_perf()
    d = tmpdir()
    c_data = perf_record(f'{d}/c.data', [helper('callpaths'), '-t', '2', '-f', '1', '0.4'])
    py_data = perf_record(f'{d}/py.data', [python('3.12'), '-X', 'perf', workload('fib.py'), '24', '2'])
    for label, data in (('C fp', c_data), ('python3.12', py_data)):
        cache = f'{d}/cache-{label.split()[0]}'
        plain, plain_counts = outputs(data, None)
        check(all(rc == 0 and text for rc, text in plain) and
              all(c == (0, 0) for c in plain_counts),
              f'{label}: --no-symbol-cache reads every table afresh, saves none')
        cold, cold_counts = outputs(data, cache)
        warm, warm_counts = outputs(data, cache)
        n = cold_counts[0][1]
        check(n >= 2 and cold_counts[0][0] == 0,
              f'{label}: the first run saves the tables it read {cold_counts[0]}')
        check(all(c == (n, 0) for c in warm_counts),
              f'{label}: later runs map them and save nothing {warm_counts}')
        check(cold == plain and warm == plain,
              f'{label}: cold, warm and uncached runs print the same bytes (4 outputs)')
        files = sym_files(cache)
        modes = {stat.S_IMODE(os.stat(f).st_mode) for f in files}
        check(stat.S_IMODE(os.stat(cache).st_mode) == 0o700 and modes == {0o600},
              f'{label}: folder 0700, {len(files)} files 0600 ({sorted(map(oct, modes))})')
        kall = [f for f in files if b'kallsyms 1\n' in open(f, 'rb').read(200)]
        kernel_hit = '[kernel.kallsyms]' in plain[3][1]
        check(len(kall) == (1 if kernel_hit else 0),
              f'{label}: the kernel table is saved when kernel frames are resolved '
              f'({len(kall)}, kernel frames: {kernel_hit})')

        # Damage every saved file in a different way: each is ignored (same
        # output, table read afresh and saved again), never a crash.
        for exe, name in ((REPORT, 'normal'), (SAN_REPORT, 'ASan/UBSan')):
            if not os.path.exists(exe):
                continue
            files = sym_files(cache)
            for rnd, f in enumerate(files):
                damage(f, rnd)
            got, counts = outputs(data, cache, exe=exe)
            check(got == plain and counts[0] == (0, len(files)),
                  f'{label}: {len(files)} damaged cache files ignored and replaced, {name} build '
                  f'{counts[0]}')
        _, counts = outputs(data, cache)
        check(all(c[1] == 0 for c in counts), f'{label}: replaced files are mapped again {counts}')
        # Tables damaged past the key pass every check but the data: names
        # may be wrong, reading must still be safe.
        if os.path.exists(SAN_REPORT):
            for f in sym_files(cache):
                b = bytearray(open(f, 'rb').read())
                key_len, aux_len = struct.unpack_from('<II', b, 12)
                start = 48 + -(-key_len // 8) * 8 + -(-aux_len // 8) * 8
                rng = random.Random(f)
                for k in range(start, len(b) - 1):  # the names' final NUL stays
                    if rng.random() < 0.3:
                        b[k] = rng.randrange(256)
                open(f, 'wb').write(b)
            got, counts = outputs(data, cache, exe=SAN_REPORT)
            check(all(rc == 0 for rc, _ in got) and counts[0] == (n, 0),
                  f'{label}: scribbled tables behind a good key are read safely by the '
                  f'ASan/UBSan build (exit {[rc for rc, _ in got]})')

    # A changed file is a different key: touching the helper re-reads it.
    cache = f'{d}/cache-C'
    h = helper('callpaths')
    st = os.stat(h)
    os.utime(h, ns=(st.st_atime_ns, st.st_mtime_ns + 1000))
    try:
        _, c = report(c_data, cache, '--collapsed')
        check(c[1] == 1, f'a binary changed since its table was saved is read again ({c})')
    finally:
        os.utime(h, ns=(st.st_atime_ns, st.st_mtime_ns))

    # The running kernel's table (/proc/kallsyms) is keyed by the boot, the
    # modules and kptr_restrict; where /proc/modules does not exist (a
    # kernel without modules, as here) the key was left half-built and the
    # 6.5 MB table parsed and saved again on every run.
    cache = f'{d}/cache-kernel'
    report(c_data, cache, '--kallsyms', '/proc/kallsyms', '--collapsed')
    _, c = report(c_data, cache, '--kallsyms', '/proc/kallsyms', '--collapsed')
    check(c[0] and c[0] > 0 and c[1] == 0,
          f'the kernel table is mapped on the next run, not saved again '
          f'(/proc/modules {"present" if os.path.exists("/proc/modules") else "absent"}: {c})')

    # A folder others can write (or a symlink) is not used at all.
    open_dir = f'{d}/cache-open'
    os.makedirs(open_dir)
    os.chmod(open_dir, 0o777)
    p, c = report(c_data, open_dir, '--collapsed', '--view', 'native')
    check(p.returncode == 0 and c == (0, 0) and not sym_files(open_dir),
          f'a world-writable cache folder is not used ({c})')
    link = f'{d}/cache-link'
    os.symlink(f'{d}/cache-C', link)
    p, c = report(c_data, link, '--collapsed', '--view', 'native')
    check(p.returncode == 0 and c == (0, 0), f'a cache folder behind a symlink is not used ({c})')
    # No folders made in another user's (sudo -E keeps the user's $HOME).
    other = f'{d}/other-home'
    os.makedirs(other)
    os.chown(other, 65534, 65534)
    p, c = report(c_data, f'{other}/.cache/pyperf/symbols', '--collapsed', '--view', 'native')
    check(p.returncode == 0 and c == (0, 0) and not os.path.exists(f'{other}/.cache'),
          f'no cache folder is made inside another user\'s folder ({c})')
    # A planted file of another owner in our folder is not read.
    # (every file: the folder also holds the table of the touched helper's
    # old key, which this report does not ask for)
    for f in sym_files(f'{d}/cache-C'):
        os.chown(f, 65534, 65534)
    _, c = report(c_data, f'{d}/cache-C', '--collapsed', '--view', 'native')
    check(c[0] == 0 and c[1] >= 1, f'cache files owned by another user are not read ({c})')
    run(['rm', '-rf', d])


if __name__ == '__main__':
    main(test)
