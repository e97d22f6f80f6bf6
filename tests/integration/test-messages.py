#!/usr/bin/env python3
"""What the tools say is what happened: each message a user once found
misleading, checked for its text (or its absence), with its exit status."""
import os
import re
import shutil
import signal
import subprocess
import time
from lib.common import BIN, check, helper, main, pyperf_report, python, require_perf, run, tmpdir

RECORD = os.path.join(BIN, 'pyperf-record')
SPIN = 'import time\nt = time.time()\nwhile time.time() - t < {s}: sum(range(1000))\n'


def recorder_summary(d):
    """No -o: the summary names perf.data, not (null)."""
    p = run([RECORD, '--', 'true'], cwd=d)
    check('written to perf.data' in p.stderr and '(null)' not in p.stderr and
          'View it with: pyperf-report --hierarchy' in p.stderr,
          f'no -o: "written to perf.data", no "(null)" ({p.stderr.strip().splitlines()[-2:]})')


def attach(d, py, extra=()):
    """pyperf-record -p on a running Python for about a second."""
    child = subprocess.Popen([py, *extra, '-c', SPIN.format(s=4)])
    try:
        time.sleep(0.5)
        rec = subprocess.Popen([RECORD, '-o', f'{d}/att.data', '-p', str(child.pid)],
                               stderr=subprocess.PIPE, text=True)
        time.sleep(1.0)
        rec.send_signal(signal.SIGINT)
        _, err = rec.communicate(timeout=60)
        return child.pid, rec.returncode, err
    finally:
        child.kill()
        child.wait()


def attach_messages(d):
    pid, rc, err = attach(d, '/usr/bin/python3')
    check(rc == 0 and 'enabled' not in err and
          f'pid {pid}: Python 3.11 without perf trampolines (no /tmp/perf-{pid}.map)' in err and
          '-m perf_trampoline' in err,
          f'-p on Python 3.11 without trampolines: says nothing can switch them on, and how '
          f'({err.strip().splitlines()[:1]})')
    check(f'warning: pid {pid} (Python 3.11) named no Python function for perf' in err,
          '-p on Python 3.11 without trampolines: a warning at the end')
    py312 = python('3.12')
    pid, rc, err = attach(d, py312)
    check(rc == 0 and f'pid {pid}: Python 3.12 without perf support' in err and '-X perf' in err,
          '-p on Python 3.12 without -X perf: says so and names -X perf')
    pid, rc, err = attach(d, py312, ('-X', 'perf'))
    check(rc == 0 and f'pid {pid}: Python 3.12 writes /tmp/perf-{pid}.map' in err and
          'named no Python function' not in err,
          '-p on Python 3.12 -X perf: its frames will be named, no warning at the end')
    view = pyperf_report('-i', f'{d}/att.data', '--view', 'python', '--collapsed').stdout
    check('<module> (<string>)' in view, '... and the python view has its frames')


def fp_warning(d):
    p = run([RECORD, '-o', f'{d}/fp.data', '--call-graph', 'fp', '--', '/usr/bin/python3', '-c', 'pass'])
    check('warning: --call-graph fp, but /usr/bin/python3.11 lacks frame pointers' in p.stderr and
          'without the Python frames above' in p.stderr,
          '--call-graph fp on an interpreter without frame pointers: a warning')
    p = run([RECORD, '-o', f'{d}/fp.data', '--call-graph', 'fp', '--', helper('callpaths'), '0.05'])
    check('warning: --call-graph fp' not in p.stderr, '--call-graph fp on a C program: no such warning')


def native_leaf(d):
    code = ('import zlib\n'
            'def pure():\n    s = 0\n    for i in range(4 * 10**6): s += i\n'
            'def native():\n    b = bytes(range(256)) * 20000\n'
            '    for _ in range(15): zlib.compress(b, 9)\n'
            'pure(); native()\n')
    run([RECORD, '-q', '-o', f'{d}/nl.data', '--', '/usr/bin/python3', '-c', code])
    folded = pyperf_report('-i', f'{d}/nl.data', '--view', 'python', '--native-leaf', '--collapsed').stdout
    share = {}
    for fn in ('pure', 'native'):
        own = sum(int(ln.rsplit(' ', 1)[1]) for ln in folded.splitlines() if f'{fn} (<string>)' in ln)
        nat = sum(int(ln.rsplit(' ', 1)[1]) for ln in folded.splitlines()
                  if f'{fn} (<string>)' in ln and ln.rsplit(' ', 1)[0].endswith('[native]'))
        share[fn] = nat / own if own else -1
    check(0 <= share['pure'] < 0.05, f'--native-leaf: a pure-Python loop is {share["pure"]:.1%} [native] '
          '(the interpreter is not native time)')
    check(share['native'] > 0.5, f'--native-leaf: zlib.compress is {share["native"]:.1%} [native]')


def filters_matching_nothing(d):
    data = f'{d}/nl.data'
    for opt, val in (('--pid', '1'), ('--tid', '1'), ('--comm', 'no-such-command')):
        p = pyperf_report('-i', data, opt, val, check_rc=False)
        check(p.returncode == 1 and not p.stdout and 'match none of the' in p.stderr,
              f'{opt} {val} matching nothing: exit {p.returncode}, a warning, no empty report')


def bootstrap_frames(d):
    """Nothing of pyperf's sitecustomize in Python profiles, with or
    without another sitecustomize to chain (Debian's python3 has one)."""
    other = f'{d}/site'
    os.makedirs(other, exist_ok=True)
    with open(f'{other}/sitecustomize.py', 'w') as f:
        f.write('import json, email.parser  # some work at startup\n')
    code = 'sum(range(10**6))'
    for py in ('/usr/bin/python3', python('3.8'), python('3.12')):
        for env in ({}, {'PYTHONPATH': other}):
            e = dict(os.environ, **env)
            run([RECORD, '-q', '-o', f'{d}/boot.data', '-F', '4000', '--', py, '-c', code], env=e)
            folded = pyperf_report('-i', f'{d}/boot.data', '--view', 'python', '--collapsed').stdout
            ours = [ln for ln in folded.splitlines() if '_pyperf' in ln or
                    re.search(r'(^|;)<module> \(sitecustomize\.py\);.*<module> \(sitecustomize\.py\)', ln)]
            total = sum(int(ln.rsplit(' ', 1)[1]) for ln in folded.splitlines())
            check(not ours and total > 0,
                  f'{os.path.basename(py)}{" + a sitecustomize to chain" if env else ""}: no frame of '
                  f'pyperf\'s bootstrap in {total} samples {ours[:1]}')
            if env:
                check(any('<module> (sitecustomize.py)' in ln for ln in folded.splitlines()) or total < 200,
                      f'{os.path.basename(py)}: the chained sitecustomize still runs (its frames show)')


def builtin_once(d):
    """A blocked SimpleQueue.get on 3.8 (wrapper and _impl are two C
    functions there): one built-in frame."""
    code = ('import queue, threading, time\nq = queue.SimpleQueue()\n'
            'def waiter():\n    try:\n        q.get(timeout=0.5)\n    except Exception:\n        pass\n'
            't = threading.Thread(target=waiter); t.start(); t.join()\n')
    run([RECORD, '-q', '-o', f'{d}/q.data', '--off-cpu', '--', python('3.8'), '-c', code])
    folded = pyperf_report('-i', f'{d}/q.data', '--view', 'python', '--weight', 'off-cpu', '--collapsed').stdout
    lines = [ln for ln in folded.splitlines() if 'SimpleQueue.get (built-in)' in ln]
    check(lines and not any('SimpleQueue.get (built-in);SimpleQueue.get (built-in)' in ln for ln in lines),
          f'3.8: SimpleQueue.get appears once per stack ({lines[:1]})')


def odd_exits(d):
    out = f'{d}/x.data'
    pmu = run(['perf', 'stat', '-e', 'cycles', '--', 'true'], check_rc=False)
    if pmu.returncode != 0 or '<not supported>' in pmu.stderr:
        p = run([RECORD, '-o', out, '-e', 'cycles', '--', 'true'], check_rc=False)
        check(p.returncode == 2 and 'use -e cpu-clock' in p.stderr,
              f'-e cycles without a PMU: exit {p.returncode} (not 127), says use -e cpu-clock')
    else:
        print('  note: this machine counts cycles; -e cycles records')
    p = run([RECORD, '-o', out, '-F', '200000', '--', 'true'], check_rc=False)
    check(p.stderr.count('frequency lowered') == 1, f'-F 200000: the note prints once ({p.stderr.count("frequency lowered")})')
    p = run([RECORD, '-o', out, '-p', '999999'], check_rc=False)
    check(p.returncode == 2 and '<memory>' not in p.stderr and 'no such process' in p.stderr,
          f'-p 999999: {p.stderr.strip()!r}')
    p = run([RECORD, '-o', out, '--call-graph', 'dwarf,70000', '--', 'true'], check_rc=False)
    check(p.returncode == 1 and '--call-graph dwarf,70000: the stack copy must be 8 to 65528 bytes' in p.stderr
          and 'after dwarf,' not in p.stderr, f'dwarf,70000: {p.stderr.splitlines()[:1]}')
    p = run([RECORD, '-o', out, '--call-graph', 'fp,100', '--', 'true'], check_rc=False)
    check(p.returncode == 1 and 'only dwarf takes a stack size' in p.stderr, f'fp,100: {p.stderr.splitlines()[:1]}')
    p = run([RECORD, '-o', out, '--call-graph', 'none', '--', 'true'])
    check('call graphs: none' in p.stderr, '--call-graph none records without call graphs')


def ignored_interrupt(d):
    """A command that ignores SIGINT: a line says recording goes on, and
    the second interrupt ends both."""
    code = 'import signal, time\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\ntime.sleep(20)\n'
    rec = subprocess.Popen([RECORD, '-q', '-o', f'{d}/ign.data', '--', '/usr/bin/python3', '-c', code],
                           stderr=subprocess.PIPE, text=True)
    time.sleep(1.0)
    rec.send_signal(signal.SIGINT)
    time.sleep(2.0)
    still = rec.poll() is None
    rec.send_signal(signal.SIGINT)
    _, err = rec.communicate(timeout=60)
    check(still and 'the command goes on (it ignores or handles the interrupt)' in err and
          err.count('the command goes on') == 1,
          f'SIGINT ignored: recording goes on, one line says so and how to stop ({err.strip()[:100]})')
    check(os.path.exists(f'{d}/ign.data'), '... and the second interrupt writes the recording')


def test():
    require_perf()
    d = tmpdir()
    try:
        recorder_summary(d)
        attach_messages(d)
        fp_warning(d)
        native_leaf(d)
        filters_matching_nothing(d)
        bootstrap_frames(d)
        builtin_once(d)
        odd_exits(d)
        ignored_interrupt(d)
    finally:
        shutil.rmtree(d, ignore_errors=True)


if __name__ == '__main__':
    main(test)
