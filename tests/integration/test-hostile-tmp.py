#!/usr/bin/env python3
"""A second local user attacks root's recordings and reports through /tmp.

The test creates a user (removed at the end). That user plants, for the
next few hundred pids and all along the test (a planter runs in a loop
ahead of the pid counter), FIFOs, symlinks to a root-only file and files of
its own with frames of its choosing at /tmp/perf-PID.map and
/tmp/jit-PID.dump. Meanwhile root records (Python 3.12 -X perf, our
trampolines on 3.11, a C program that forks) and reports, its own files and
perf's. Every command runs under a timeout:

- nothing hangs (a FIFO held the recorder's embedding, the report's jitdump
  loading and the symbol cache for ever);
- nothing foreign is read: neither the root-only file's text nor the
  planted frame names appear in any perf.data or report, and planted maps
  are reported as refused, each once (the warning came twice);
- nothing foreign is written: every planted file that still exists is
  byte for byte as planted, and the root-only file is unchanged.

Then the same user, at kernel.perf_event_paranoid 2 (set for the test and
restored), records as perf record does there (user space only, the event
named cpu-clock:u, said in a note) with the same per-symbol counts as perf
report gives for the file; root's pyperf-report refuses that user's
perf.data as perf does ("not owned by the current user or root"), and
reads it with -f.
"""
import glob
import os
import pwd
import re
import shutil
import signal
import subprocess
import sys
import time
from lib.common import (BIN, Skip, check, helper, main, perf_report, python, require_perf, rows, run,
                        tmpdir)

RECORD = os.path.join(BIN, 'pyperf-record')
REPORT = os.path.join(BIN, 'pyperf-report')
TIMEOUT = 90
CANARY = 'SECRET-CANARY-7f3a'
EVIL = 'EVIL_PLANTED'
ROWS = ['--no-children', '-g', 'none', '--sort', 'comm,dso,sym', '-F', 'sample,comm,dso,sym']
FIB = 'def fib(n): return n if n < 2 else fib(n - 1) + fib(n - 2)\nfib(22)\n'

# Runs as the hostile user: plants for pids ahead of the counter; with
# --loop, keeps doing it until killed.
PLANTER = r'''
import os, sys, time
secret, loop = sys.argv[1], '--loop' in sys.argv
evil = ''.join('%x 1000000 py::EVIL_PLANTED_%d:/evil.py\n' % (a << 28, a) for a in range(0x7ff))
jit = b'DTiJ' + b'\0' * 36 + b'EVIL_PLANTED' * 100
done = set()
while True:
    nxt = int(open('/proc/sys/kernel/ns_last_pid').read())
    for pid in range(nxt + 1, nxt + 300):
        if pid in done:
            continue
        done.add(pid)
        for path in ('/tmp/perf-%d.map' % pid, '/tmp/jit-%d.dump' % pid):
            try:
                kind = pid % 4
                if kind == 0:
                    os.mkfifo(path, 0o666)
                elif kind == 1:
                    os.symlink(secret, path)
                elif kind == 2:
                    with open(path, 'x') as f:
                        f.write(evil if path.endswith('.map') else jit.decode('latin1'))
                    os.chmod(path, 0o666)
            except OSError:
                pass
    if not loop:
        break
    time.sleep(0.005)
'''


def timed(cmd, **kw):
    """run() under the timeout: None when it hung."""
    try:
        return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              errors='replace', timeout=TIMEOUT, **kw)
    except subprocess.TimeoutExpired:
        return None


def planted(user):
    """The planted files now in /tmp: path -> (kind, bytes)."""
    uid = pwd.getpwnam(user).pw_uid
    out = {}
    for p in glob.glob('/tmp/perf-*.map') + glob.glob('/tmp/jit-*.dump'):
        try:
            st = os.lstat(p)
        except OSError:
            continue
        if st.st_uid != uid:
            continue
        if os.path.islink(p):
            out[p] = ('link', os.readlink(p))
        elif os.path.isfile(p):
            with open(p, 'rb') as f:
                out[p] = ('file', f.read())
        else:
            out[p] = ('other', b'')
    return out


def clean(user):
    try:
        uid = pwd.getpwnam(user).pw_uid
    except KeyError:
        return
    for p in glob.glob('/tmp/perf-*.map') + glob.glob('/tmp/jit-*.dump'):
        try:
            if os.lstat(p).st_uid == uid:
                os.unlink(p)
        except OSError:
            pass


def test():
    require_perf()
    if os.geteuid() != 0:
        raise Skip('needs root (creates a user)')
    if not shutil.which('useradd') or not shutil.which('runuser'):
        raise Skip('useradd/runuser missing')
    py312, py311 = python('3.12'), python('3.11')
    user = f'pyperfh{os.getpid() % 100000}'
    d = tmpdir()  # 0700, root's
    os.chmod(d, 0o711)  # the user may reach its own folder inside, never read ours
    secret = f'{d}/secret'
    with open(secret, 'w') as f:
        f.write(f'1000 100000000 {CANARY}\n')
    os.chmod(secret, 0o600)
    # What the user runs, where the user may run it: the checkout may sit
    # in a folder only root can enter (fresh-ci's is 0700)
    ubin = f'{d}/ubin'
    os.mkdir(ubin)
    os.chmod(ubin, 0o755)
    for exe in (RECORD, REPORT, helper('callpaths')):
        shutil.copy2(exe, ubin)
    u_record, u_report, u_callpaths = (os.path.join(ubin, os.path.basename(e))
                                       for e in (RECORD, REPORT, helper('callpaths')))
    paranoid_path = '/proc/sys/kernel/perf_event_paranoid'
    with open(paranoid_path) as f:
        paranoid = f.read().strip()
    planter = None
    run(['useradd', '-M', '-N', '-s', '/usr/sbin/nologin', user])
    try:
        run(['runuser', '-u', user, '--', '/usr/bin/python3', '-c', PLANTER, secret])
        planter = subprocess.Popen(['runuser', '-u', user, '--', '/usr/bin/python3', '-c', PLANTER, secret,
                                    '--loop'], start_new_session=True)
        time.sleep(0.3)
        before = planted(user)
        check(len(before) > 300, f'{len(before)} files planted for the next pids')

        # Root records while the planter keeps ahead of the pid counter.
        outputs = []
        recordings = [
            ('python3.12 -X perf', ['-F', '999', '--', py312, '-c', FIB]),
            ('python3.11, trampolines', ['-F', '999', '--', py311, '-c', FIB]),
            ('a C program with forks', ['-F', '999', '--', helper('callpaths'), '-f', '6', '0.3']),
        ]
        # --off-cpu needs tracefs (issue 13 mounts it where allowed)
        if any(os.path.isdir(f'{t}/events/sched/sched_switch')
               for t in ('/sys/kernel/tracing', '/sys/kernel/debug/tracing')):
            recordings.append(('python3.12, --off-cpu', ['-F', '999', '--off-cpu', '--', py312, '-c', FIB]))
        else:
            print('  note: tracefs is not mounted: no --off-cpu recording')
        for i, (name, args) in enumerate(recordings):
            data = f'{d}/rec{i}.data'
            t0 = time.monotonic()
            p = timed([RECORD, '-o', data, *args])
            took = time.monotonic() - t0
            ok = p is not None and p.returncode == 0 and os.path.exists(data)
            check(ok, f'pyperf-record, {name}: ' + ('hung' if p is None else
                                                   f'exit {p.returncode} in {took:.1f} s'))
            if not ok:
                if p is not None:
                    print(p.stderr[-800:])
                continue
            outputs.append((f'{name}: recorder messages', p.stderr))
            with open(data, 'rb') as f:
                outputs.append((f'{name}: perf.data', f.read().decode('latin1')))
            for fmt in (['--format', 'tree'], ['--collapsed'], ['--view', 'native', '--collapsed']):
                r = timed([REPORT, '-i', data, *fmt])
                check(r is not None and r.returncode == 0,
                      f'pyperf-report {" ".join(fmt)} of it: ' +
                      ('hung' if r is None else f'exit {r.returncode}'))
                if r is not None:
                    outputs.append((f'{name}: report {fmt}', r.stdout + r.stderr))

        # FIFOs in place of the symbol cache's tables.
        cache = f'{d}/cache'
        r1 = timed([REPORT, '--symbol-cache', cache, '-i', f'{d}/rec2.data', '--collapsed'])
        tables = glob.glob(f'{cache}/*.sym')
        for t in tables:
            os.unlink(t)
            os.mkfifo(t, 0o600)
        r2 = timed([REPORT, '--symbol-cache', cache, '-i', f'{d}/rec2.data', '--collapsed'])
        check(r1 is not None and r2 is not None and r2.returncode == 0 and r1.stdout == r2.stdout,
              f'{len(tables)} symbol-cache tables replaced by FIFOs: ' +
              ('hung' if r2 is None else f'exit {r2.returncode}, the same output'))

        # Nothing foreign read...
        leaks = [name for name, text in outputs if CANARY in text or EVIL in text]
        check(not leaks and outputs,
              f'neither the root-only file nor a planted frame shows in {len(outputs)} outputs '
              f'and recordings ({leaks[:4]})')
        # ...or written.
        os.killpg(planter.pid, signal.SIGKILL)
        planter.wait()
        planter = None
        after = planted(user)
        # the pids of the processes recorded: other work on a shared machine
        # (a root Python of another test suite) may take a planted pid too
        # and append to its world-writable map, which says nothing of ours
        ours = set()
        for i in range(len(recordings)):
            if os.path.exists(f'{d}/rec{i}.data'):
                r = timed([REPORT, '-i', f'{d}/rec{i}.data', '--view', 'native', '--collapsed',
                           '--show-pid'])
                for line in (r.stdout.splitlines() if r else []):
                    m = re.match(r'[^;]*-(\d+);', line)
                    if m:
                        ours.add(int(m.group(1)))
        changed = [p for p in before if p in after and after[p] != before[p] and
                   int(re.search(r'-(\d+)\.', p).group(1)) in ours]
        check(not changed and ours,
              f'{len(after)} planted files still as planted, the {len(ours)} recorded processes\' '
              f'included ({changed[:3]} changed: '
              f'{[(before[c][0], after[c][0], len(before[c][1]), len(after[c][1])) for c in changed[:3]]})')
        with open(secret) as f:
            check(f.read() == f'1000 100000000 {CANARY}\n', 'the root-only file is unchanged')
        # (perf record itself opens /tmp/perf-PID.map of the processes it
        # recorded without O_NONBLOCK: a FIFO planted for its command's pid
        # holds it for ever, so the rest runs with /tmp cleaned)
        clean(user)
        # A program of the user's, recorded by root, turned into a FIFO
        # before the recording ends: filling the build-id cache at the end
        # must neither block on it nor link the FIFO into root's cache.
        prog = f'/tmp/pyperf-hostile-prog-{os.getpid()}'
        run(['runuser', '-u', user, '--', 'cp', u_callpaths, prog])
        buildids = f'{d}/buildid-cache'
        swap = subprocess.Popen(['runuser', '-u', user, '--', '/usr/bin/python3', '-c',
                                 f'import os, time; time.sleep(0.6); os.mkfifo("{prog}.new"); '
                                 f'os.rename("{prog}.new", "{prog}")'])
        p = timed([RECORD, '-q', '-F', '999', '-o', f'{d}/prog.data', '--', 'sh', '-c',
                   f'{prog} 0.3; sleep 1'], env=dict(os.environ, PERF_BUILDID_DIR=buildids))
        swap.wait()
        fifos = [os.path.join(r, f) for r, _, fs in os.walk(buildids) for f in fs
                 if not os.path.isfile(os.path.join(r, f)) or os.path.islink(os.path.join(r, f))]
        check(p is not None and p.returncode == 0 and not fifos,
              'a recorded binary replaced by a FIFO before the end: ' +
              ('hung' if p is None else f'exit {p.returncode}, nothing but files in the build-id '
                                        f'cache ({fifos[:2]})'))
        if os.path.lexists(prog):
            os.unlink(prog)

        # perf's recording of generated code in an anonymous mapping (its
        # names come from /tmp/perf-PID.map at report time), then the map
        # and jitdump planted for its dead pid in each way in turn: the
        # report refuses them, names nothing from them, does not hang.
        data = f'{d}/perf.data'
        run(['perf', 'record', '-q', '-e', 'cpu-clock', '-F', '999', '-o', data, '--', 'sh', '-c',
             f'echo $$ > {d}/jitpid; exec {helper("jitcode")} 16 256 0.3 > /dev/null'])
        with open(f'{d}/jitpid') as f:
            jpid = int(f.read())
        for how in ('fifo', 'symlink', 'file'):
            for path in (f'/tmp/perf-{jpid}.map', f'/tmp/jit-{jpid}.dump'):
                if os.path.lexists(path):
                    os.unlink(path)
            run(['runuser', '-u', user, '--', '/usr/bin/python3', '-c', f'''
import os
for path in ('/tmp/perf-{jpid}.map', '/tmp/jit-{jpid}.dump'):
    if {how!r} == 'fifo':
        os.mkfifo(path, 0o666)
    elif {how!r} == 'symlink':
        os.symlink({secret!r}, path)
    else:
        open(path, 'w').write('0 ffffffffffff py::{EVIL}_report:/evil.py\\n')
'''])
            r = timed([REPORT, '-i', data, '--view', 'native', *ROWS])
            ok = r is not None and r.returncode == 0
            warned = [l for l in r.stderr.splitlines() if 'not read' in l] if ok else []
            check(ok and warned and len(set(warned)) == len(warned) and
                  CANARY not in r.stdout + r.stderr and EVIL not in r.stdout + r.stderr,
                  f'pyperf-report with a {how} planted as the recorded process\'s perf map and '
                  f'jitdump: ' + ('hung' if r is None else
                                 f'exit {r.returncode}, {r.stderr.strip()[:150]!r}'))
        clean(user)

        # The user records at perf_event_paranoid 2, as perf record does.
        with open(paranoid_path, 'w') as f:
            f.write('2')
        home = f'{d}/user'
        os.mkdir(home)
        shutil.chown(home, user)
        udata = f'{home}/perf.data'
        p = timed(['runuser', '-u', user, '--', u_record, '-F', '999', '-o', udata, '--',
                   u_callpaths, '0.3'])
        check(p is not None and p.returncode == 0 and 'user space only' in p.stderr and
              'cpu-clock:u' in p.stderr,
              'a user at perf_event_paranoid 2 records user space, said in a note: ' +
              ('hung' if p is None else f'exit {p.returncode}, {p.stderr.strip()[:200]!r}'))
        if p is not None and p.returncode == 0:
            theirs = rows(run(['runuser', '-u', user, '--', 'perf', 'report', '--stdio', '-i', udata,
                               *ROWS]).stdout)
            ours = rows(run(['runuser', '-u', user, '--', u_report, '--view', 'native', '-i', udata,
                             *ROWS]).stdout)
            n = sum(theirs.get('cpu-clock:u', {}).values())
            check(theirs == ours and n > 50,
                  f'its report equals perf report\'s: {n} samples of cpu-clock:u '
                  f'({sorted(theirs)} vs {sorted(ours)})')
            r = run([REPORT, '-i', udata], check_rc=False)
            check(r.returncode == 2 and 'is not owned by the current user or root' in r.stderr,
                  f'root\'s pyperf-report refuses the user\'s perf.data as perf does '
                  f'(exit {r.returncode}, {r.stderr.strip()[:120]!r})')
            r = run([REPORT, '-f', '-i', udata, '--view', 'native', *ROWS], check_rc=False)
            check(r.returncode == 0 and rows(r.stdout) == theirs, 'and reads it with -f')
        p = timed(['runuser', '-u', user, '--', u_record, '-q', '-e', 'cpu-clock:u', '-F', '999', '-o',
                   f'{home}/u.data', '--', u_callpaths, '0.1'])
        check(p is not None and p.returncode == 0, 'the user records with -e cpu-clock:u: ' +
              ('hung' if p is None else f'exit {p.returncode}'))
    finally:
        if planter is not None:
            os.killpg(planter.pid, signal.SIGKILL)
            planter.wait()
        with open(paranoid_path, 'w') as f:
            f.write(paranoid)
        clean(user)
        subprocess.run(['userdel', user], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        shutil.rmtree(d, ignore_errors=True)


if __name__ == '__main__':
    main(test)
