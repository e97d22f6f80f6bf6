#!/usr/bin/env python3
"""Off-CPU and wall-clock profiles (pyperf-record --off-cpu, pyperf-report
--weight cpu|off-cpu|wall).

Ground truths: sleep_spin.py SECONDS runs a sleeper thread (time.sleep) and
a spinning thread for SECONDS each; a thread blocked on a Lock held by
another for a time the workload measures itself; a program that never
blocks; a program that never runs. Files written by perf record -e
sched:sched_switch are read too, and their switch counts equal perf's."""
import os
import re
import shutil
from collections import defaultdict
from lib.common import (BIN, Skip, check, main, perf_report, pyperf_report, python,
                        require_perf, run, tmpdir, workload)

RECORD = os.path.join(BIN, 'pyperf-record')
SECONDS = 1.0

LOCK_WORKLOAD = r'''
import sys, threading, time
HOLD = float(sys.argv[1])
lock = threading.Lock()
held = threading.Event()
def holder():
    with lock:
        held.set()
        time.sleep(HOLD)
def waiter():
    held.wait()
    t0 = time.perf_counter()
    lock.acquire()
    waited = time.perf_counter() - t0
    lock.release()
    print(f"waited={waited:.6f}", file=sys.stderr)
a = threading.Thread(target=holder); b = threading.Thread(target=waiter)
a.start(); b.start(); a.join(); b.join()
'''

BUSY_WORKLOAD = r'''
import time
def busy(seconds):
    end = time.perf_counter() + seconds
    n = 0
    while time.perf_counter() < end:
        n += 1
    return n
busy(1.0)
'''

IDLE_WORKLOAD = r'''
import time
def idle():
    time.sleep(1.0)
idle()
'''


def folded(data, *args):
    """{stack: count} of pyperf-report --collapsed."""
    out = pyperf_report('-i', data, '--collapsed', *args).stdout
    res = {}
    for line in out.splitlines():
        stack, _, n = line.rpartition(' ')
        res[stack] = res.get(stack, 0) + int(n)
    return res


def total(stacks, *needles):
    return sum(n for s, n in stacks.items() if all(x in s for x in needles))


def record(out, py, script, *args, extra=()):
    return run([RECORD, '-q', '--off-cpu', '-o', out, *extra, '--', py, script, *args])


def test_sleep_spin(d, label, py, pyargs=()):
    data = f'{d}/sleep_spin-{label.replace(" ", "-")}.data'
    p = record(data, py, *pyargs, workload('sleep_spin.py'), str(SECONDS), extra=('-g',))
    truth = re.search(r'wall_s=([0-9.]+)', p.stderr)
    wall = folded(data, '--weight', 'wall', '--view', 'python')
    sleeper = total(wall, 'sleeper (sleep_spin.py)') / 1e6
    spinner = total(wall, 'spinlock (sleep_spin.py)') / 1e6
    check(abs(sleeper - SECONDS) <= 0.05 * SECONDS,
          f'{label}: --weight wall: sleeper {sleeper:.3f} s (truth {SECONDS} s +-5%)')
    check(abs(spinner - SECONDS) <= 0.05 * SECONDS,
          f'{label}: --weight wall: spinlock {spinner:.3f} s (truth {SECONDS} s +-5%; '
          f'workload wall {truth.group(1) if truth else "?"} s)')

    cpu = folded(data, '--weight', 'cpu', '--view', 'python')
    all_cpu = sum(cpu.values())
    share = total(cpu, 'sleeper (sleep_spin.py)') / max(all_cpu, 1)
    check(all_cpu > 100 and share < 0.02,
          f'{label}: --weight cpu: sleeper has {100 * share:.2f}% of {all_cpu} samples (< 2%)')

    off = folded(data, '--weight', 'off-cpu', '--view', 'python')
    under_sleep = total(off, 'sleeper (sleep_spin.py);time.sleep (built-in);[off-cpu: S]') / 1e6
    check(abs(under_sleep - SECONDS) <= 0.05 * SECONDS,
          f'{label}: --weight off-cpu, python view: {under_sleep:.3f} s under '
          f'sleeper;time.sleep;[off-cpu: S]')

    # The hierarchy says what it weighs, in seconds; its total is the folded one's.
    rep = pyperf_report('-i', data, '--weight', 'off-cpu', '--hierarchy', '-g', 'none').stdout
    m = re.search(r'# Off-CPU time: ([0-9.]+) s', rep)
    check(m and abs(float(m.group(1)) - sum(off.values()) / 1e6) < 0.001 * max(1, len(off)),
          f'{label}: the hierarchy report states the off-CPU total in seconds '
          f'({m.group(1) if m else "missing"} s)')
    return data


def test_lock(d, py):
    script = f'{d}/lock.py'
    with open(script, 'w') as f:
        f.write(LOCK_WORKLOAD)
    data = f'{d}/lock.data'
    p = record(data, py, script, '0.6', extra=('-g',))
    waited = float(re.search(r'waited=([0-9.]+)', p.stderr).group(1))
    off = folded(data, '--weight', 'off-cpu', '--view', 'python')
    got = total(off, 'waiter (lock.py);lock.acquire (built-in)') / 1e6
    check(abs(got - waited) <= 0.05 * waited,
          f'a thread blocked on a held Lock: {got:.3f} s under waiter;lock.acquire '
          f'(it measured {waited:.3f} s, +-5%)')


def test_never_blocks_never_runs(d, py):
    script = f'{d}/busy.py'
    with open(script, 'w') as f:
        f.write(BUSY_WORKLOAD)
    data = f'{d}/busy.data'
    record(data, py, script, extra=('-g',))
    off = folded(data, '--weight', 'off-cpu', '--view', 'python')
    blocked = total(off, 'busy (busy.py)', '[off-cpu: S]') + \
        total(off, 'busy (busy.py)', '[off-cpu: D]')
    preempted = total(off, 'busy (busy.py)', '[off-cpu: R')
    check(blocked / 1e6 < 0.01,
          f'a program that never blocks: {blocked / 1e3:.1f} ms blocked in busy() '
          f'(~0; {preempted / 1e3:.1f} ms preempted by other work on this machine)')

    script = f'{d}/idle.py'
    with open(script, 'w') as f:
        f.write(IDLE_WORKLOAD)
    data = f'{d}/idle.data'
    record(data, py, script, extra=('-g',))
    cpu = folded(data, '--weight', 'cpu', '--view', 'python')
    in_idle = total(cpu, 'idle (idle.py)')
    off = folded(data, '--weight', 'off-cpu', '--view', 'python')
    slept = total(off, 'idle (idle.py);time.sleep (built-in)') / 1e6
    check(in_idle <= 2 and abs(slept - 1.0) <= 0.05,
          f'a program that never runs: {in_idle} CPU samples in idle(), '
          f'{slept:.3f} s off CPU under idle;time.sleep (truth 1.0 s)')


def test_perf_files(d, py):
    """perf record -e sched:sched_switch files: fp (-g) and dwarf."""
    for mode, args in (('fp', ['-g']), ('dwarf', ['--call-graph', 'dwarf'])):
        data = f'{d}/perf-{mode}.data'
        p = run(['perf', 'record', '-q', '-e', 'sched:sched_switch', '-e', 'cpu-clock', *args,
                 '-o', data, '--', py, '-X', 'perf', workload('sleep_spin.py'),
                 str(SECONDS)], check_rc=False)
        if p.returncode != 0:
            check(False, f'perf record {mode} failed: {p.stderr[-300:]}')
            continue
        off = folded(data, '--weight', 'off-cpu', '--show-tid', '--view', 'native')
        # Per thread, the off-CPU time spent in clock_nanosleep (the libc
        # frame is there in both modes): the sleeper's time.sleep. A
        # thread's whole off-CPU time also holds its waits for the GIL and
        # for a CPU, which a loaded machine makes long (1.112 s seen).
        by_tid_sleep = defaultdict(int)
        for s, n in off.items():
            if 'clock_nanosleep' in s:
                by_tid_sleep[s.split(';', 1)[0]] += n
        best = [by_tid_sleep[t] / 1e6 for t in sorted(by_tid_sleep)]
        check(best and any(abs(x - SECONDS) <= 0.05 * SECONDS for x in best),
              f'perf record -e sched:sched_switch {" ".join(args)}: off-CPU seconds in '
              f'clock_nanosleep per thread {["%.3f" % x for x in best]} include the sleeper\'s '
              f'{SECONDS} s +-5%')
        if mode == 'dwarf':
            pyoff = folded(data, '--weight', 'off-cpu', '--view', 'python')
            s = total(pyoff, 'sleeper (sleep_spin.py);time.sleep (built-in)') / 1e6
            check(abs(s - SECONDS) <= 0.05 * SECONDS,
                  f'perf record --call-graph dwarf: {s:.3f} s under sleeper;time.sleep')
        # --weight events is perf's view: switch counts equal perf report's
        ours = pyperf_report('-i', data, '--hierarchy', '-g', 'none').stdout
        theirs = perf_report('-i', data, '--stdio', '-g', 'none')
        pat = r"# Samples: (\S+)\s+of event 'sched:sched_switch'\n# Event count \(approx.\): (\d+)"
        a, b = re.search(pat, ours), re.search(pat, theirs)
        check(a and b and a.group(2) == b.group(2),
              f'perf record {mode}: sched_switch count {a.group(2) if a else "?"} equals '
              f'perf report\'s {b.group(2) if b else "?"}')


def test_perf_reads_ours(data):
    """perf script decodes our sched_switch samples with the format we
    stored, one line each."""
    p = run(['perf', 'script', '-i', data], check_rc=False)
    n = p.stdout.count('prev_state=')
    ours = pyperf_report('-i', data, '--hierarchy', '-g', 'none').stdout
    m = re.search(r"of event 'sched:sched_switch'\n# Event count \(approx.\): (\d+)", ours)
    check(p.returncode == 0 and n > 0 and m and int(m.group(1)) == n and
          'tracing data' not in p.stderr,
          f'perf script decodes our {n} sched_switch records from the stored format '
          f'(pyperf-report counts {m.group(1) if m else "?"})')


UNMOUNT = ('for m in /sys/kernel/tracing /sys/kernel/debug/tracing /sys/kernel/debug; do '
           'umount -l "$m" 2> /dev/null; done; ')


def test_tracefs(d):
    """Where nothing mounted tracefs, --off-cpu mounts it as perf does
    (in a private mount namespace here); where mounting is not allowed,
    one actionable line and exit 2, never 127."""
    if os.geteuid() != 0 or not shutil.which('unshare'):
        print('  note: not root: tracefs is not unmounted for the test')
        return
    rec = f'{BIN}/pyperf-record -o {d}/t.data --off-cpu -- sleep 0.2'
    p = run(['unshare', '-m', '--propagation', 'private', 'sh', '-c', UNMOUNT + rec], check_rc=False)
    check(p.returncode == 0 and 'mounted it at /sys/kernel/tracing' in p.stderr,
          f'tracefs unmounted: --off-cpu mounts it and records (exit {p.returncode}) '
          f'{p.stderr.strip().splitlines()[:1]}')
    n = re.search(r'(\d+) of them context switches', p.stderr)
    check(n and int(n.group(1)) > 0, f'... and context switches were recorded ({n and n.group(1)})')
    p = run(['unshare', '-m', '--propagation', 'private', 'sh', '-c',
             UNMOUNT + 'exec setpriv --bounding-set -sys_admin ' + rec.replace(' -o', ' -q -o')],
            check_rc=False)
    lines = p.stderr.strip().splitlines()
    check(p.returncode == 2 and len(lines) == 1 and "mount -t tracefs nodev /sys/kernel/tracing" in lines[0],
          f'mounting not allowed: exit {p.returncode} (not 127), one actionable line: {lines}')


def test():
    require_perf()
    py312 = python('3.12')
    d = tmpdir()
    try:
        test_tracefs(d)
        data = test_sleep_spin(d, 'python3.12', py312)
        test_perf_reads_ours(data)
        try:
            test_sleep_spin(d, 'python3.11 + trampolines', python('3.11'))
        except Skip as e:
            print(f'  note: {e}')
        test_lock(d, py312)
        test_never_blocks_never_runs(d, py312)
        test_perf_files(d, py312)
    finally:
        shutil.rmtree(d, ignore_errors=True)


if __name__ == '__main__':
    main(test)
