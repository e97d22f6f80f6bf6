#!/usr/bin/env python3
"""Output that cannot be written, and starts that fail, are said and never
taken for success.

- pyperf-report, every format, to /dev/full (standard output and -o) and
  to a file on a tiny tmpfs (an SVG cut by a full disk): exit 2 and a
  message naming what could not be written (all of them exited 0 before);
  the perf script folder likewise.
- pyperf-record with a command that does not exist, a pid that does not
  exist, or an output nobody can create (-o /proc/version): the older
  perf.data stays byte for byte where it was, nothing new is left in the
  folder, and the command never runs (an output that cannot be created
  is found before it starts).
- pyperf-record onto a full disk: exit 2, and the summary says the file is
  incomplete instead of claiming bytes and embedded maps it did not write.
- The ASan/LSan build of pyperf-record exits with its command's status
  (libperf's evsels leaked their ids and maps, so it always exited 1).
"""
import os
import shutil
import subprocess
from lib.common import BIN, BUILD, Skip, check, helper, main, run, tmpdir

RECORD = os.path.join(BIN, 'pyperf-record')
REPORT = os.path.join(BIN, 'pyperf-report')
FORMATS = ['tree', 'hierarchy', 'collapsed', 'json', 'speedscope', 'svg', 'pprof']


def tiny_tmpfs(path, size):
    os.makedirs(path, exist_ok=True)
    p = run(['mount', '-t', 'tmpfs', '-o', f'size={size},mode=0755', 'tmpfs', path], check_rc=False)
    if p.returncode != 0:
        raise Skip(f'cannot mount a tmpfs ({p.stderr.strip()}): needs root')


def test():
    d = tmpdir()
    full = os.path.join(d, 'full')
    mounted = False
    try:
        data = f'{d}/perf.data'
        rec = run([RECORD, '-q', '-F', '999', '-o', data, '--', helper('callpaths'), '0.3'],
                  check_rc=False)
        if rec.returncode != 0 or not os.path.exists(data):
            raise Skip(f'pyperf-record cannot sample here: {rec.stderr.strip()[-200:]}')

        # Every writer, to a device that is always full.
        for fmt in FORMATS:
            with open('/dev/full', 'wb') as out:
                p = subprocess.run([REPORT, '-q', '-i', data, '--format', fmt], stdout=out,
                                   stderr=subprocess.PIPE, text=True)
            check(p.returncode == 2 and 'cannot write to standard output' in p.stderr,
                  f'--format {fmt} > /dev/full: exit {p.returncode}, {p.stderr.strip()[:90]!r}')
            p = run([REPORT, '-q', '-i', data, '--format', fmt, '-o', '/dev/full'], check_rc=False)
            check(p.returncode == 2 and 'cannot write /dev/full' in p.stderr,
                  f'--format {fmt} -o /dev/full: exit {p.returncode}')
        script = run(['perf', 'script', '-i', data], check_rc=False).stdout if shutil.which('perf') else ''
        if script:
            with open(f'{d}/script.txt', 'w') as f:
                f.write(script)
            with open('/dev/full', 'wb') as out:
                p = subprocess.run([REPORT, '--input-format', 'perf-script', '-i', f'{d}/script.txt'],
                                   stdout=out, stderr=subprocess.PIPE, text=True)
            check(p.returncode == 2 and 'cannot write the folded stacks' in p.stderr,
                  f'perf script folding > /dev/full: exit {p.returncode}')

        # A full disk in the middle of an SVG.
        tiny_tmpfs(full, '4k')
        mounted = True
        p = run([REPORT, '-q', '-i', data, '--format', 'svg', '-o', f'{full}/flame.svg'], check_rc=False)
        size = os.path.getsize(f'{full}/flame.svg') if os.path.exists(f'{full}/flame.svg') else 0
        check(p.returncode == 2 and f'cannot write {full}/flame.svg' in p.stderr,
              f'SVG cut by a full disk after {size} bytes: exit {p.returncode}, '
              f'{p.stderr.strip()[:100]!r}')
        with open(f'{full}/flame2.svg', 'wb') as out:
            p = subprocess.run([REPORT, '-q', '-i', data, '--format', 'svg'], stdout=out,
                               stderr=subprocess.PIPE, text=True)
        check(p.returncode == 2, f'SVG to standard output on the full disk: exit {p.returncode}')
        run(['umount', full])
        mounted = False

        # Starts that fail leave the older file alone and write nothing.
        work = f'{d}/work'
        os.makedirs(work)
        with open(f'{work}/perf.data', 'wb') as f:
            f.write(b'an older recording')
        before = sorted(os.listdir(work))
        for what, args in (('a missing command', ['--', '/nonexistent/command']),
                           ('a missing pid', ['-p', '999999999'])):
            p = run([RECORD, '-q', *args], check_rc=False, cwd=work)
            with open(f'{work}/perf.data', 'rb') as f:
                kept = f.read() == b'an older recording'
            check(p.returncode != 0 and kept and sorted(os.listdir(work)) == before,
                  f'{what}: exit {p.returncode}, the older perf.data kept, nothing written '
                  f'({sorted(os.listdir(work))})')
        marker = f'{work}/ran'
        p = run([RECORD, '-q', '-o', '/proc/version', '--', 'sh', '-c', f'touch {marker}'],
                check_rc=False, cwd=work)
        check(p.returncode == 2 and '/proc' in p.stderr and not os.path.exists(marker),
              f'-o /proc/version: exit {p.returncode} before the command ran '
              f'({p.stderr.strip()[:100]!r})')
        p = run([RECORD, '-q', '-o', work, '--', 'true'], check_rc=False)
        check(p.returncode == 2 and 'not a regular file' in p.stderr, f'-o FOLDER: exit {p.returncode}')
        # A finished recording takes the name; the older one is FILE.old.
        p = run([RECORD, '-q', '-F', '99', '--', 'true'], check_rc=False, cwd=work)
        with open(f'{work}/perf.data.old', 'rb') as f:
            old = f.read()
        check(p.returncode == 0 and old == b'an older recording' and
              sorted(os.listdir(work)) == ['perf.data', 'perf.data.old'],
              f'a finished recording is perf.data, the older one perf.data.old '
              f'({sorted(os.listdir(work))})')

        # The sanitizer build's exit status is the command's.
        san = os.path.join(BUILD, 'san/bin/pyperf-record')
        if os.path.exists(san):
            env = dict(os.environ, ASAN_OPTIONS='detect_leaks=1')
            tracefs = any(os.path.isdir(f'{t}/events/sched/sched_switch')
                          for t in ('/sys/kernel/tracing', '/sys/kernel/debug/tracing'))
            for args in ([], ['--call-graph', 'fp']) + ((['--off-cpu'],) if tracefs else ()):
                p = run([san, '-q', '-F', '99', *args, '-o', f'{d}/san.data', '--', 'sh', '-c', 'exit 3'],
                        check_rc=False, env=env)
                check(p.returncode == 3 and 'Sanitizer' not in p.stderr,
                      f'ASan build, {" ".join(args) or "default"}: exits 3 as its command does '
                      f'(exit {p.returncode})')

        # A full disk while recording.
        tiny_tmpfs(full, '8k')
        mounted = True
        p = run([RECORD, '-F', '999', '-o', f'{full}/perf.data', '--', helper('callpaths'), '0.5'],
                check_rc=False)
        check(p.returncode == 2 and 'No space left on device' in p.stderr,
              f'recording onto a full disk: exit {p.returncode}')
        check('not completely written' in p.stderr and 'MB written' not in p.stderr and
              'View it with' not in p.stderr,
              'the summary says the file is incomplete and claims nothing it did not write')
    finally:
        if mounted:
            subprocess.run(['umount', full])
        shutil.rmtree(d, ignore_errors=True)


if __name__ == '__main__':
    main(test)
