#!/usr/bin/env python3
"""pyperf-record: files perf reads without warnings and with the same
samples as pyperf-report; self-contained Python frames; every worker
process; signals, exit statuses, attach, errors."""
import os
import re
import shutil
import signal
import subprocess
import time
from collections import Counter
from lib.common import (BIN, Skip, artifacts, check, dso_paths, fold_script, helper, main, plt_normalized_rows,
                        pyperf_report, python, require_perf, rows, run, tmpdir, workload)

ROWS = ['--no-children', '-g', 'none', '--sort', 'comm,dso,sym', '-F', 'sample,comm,dso,sym']
RECORD = os.path.join(BIN, 'pyperf-record')


def record(out, cmd, *opts, check_rc=True):
    return run([RECORD, '-o', out, *opts, '--', *cmd], check_rc=check_rc)


def perf_reads_cleanly(name, data):
    p = run(['perf', 'report', '-i', data, '--stdio', *ROWS], check_rc=False)
    warn = [l for l in p.stderr.splitlines() if l.strip()]
    check(p.returncode == 0 and not warn, f'{name}: perf report reads it without warnings {warn[:3]}')
    p2 = run(['perf', 'script', '-i', data], check_rc=False)
    warn2 = [l for l in p2.stderr.splitlines() if l.strip()]
    check(p2.returncode == 0 and not warn2, f'{name}: perf script reads it without warnings {warn2[:3]}')
    theirs, ours = rows(p.stdout), rows(pyperf_report('--view', 'native', '-i', data, *ROWS).stdout)
    if theirs != ours:  # perf 6.1 misnames PLT stubs; see lib/common.py
        paths = dso_paths(data)
        theirs, ours = plt_normalized_rows(theirs, paths), plt_normalized_rows(ours, paths)
    diff = ''
    if theirs != ours:
        keys = {(e, k) for side in (theirs, ours) for e in side for k in side[e]}
        diff = '; differing (perf, ours): ' + str({k: (theirs.get(k[0], {}).get(k[1]), ours.get(k[0], {}).get(k[1]))
                                                  for k in sorted(keys)
                                                  if theirs.get(k[0], {}).get(k[1]) != ours.get(k[0], {}).get(k[1])})
        keep = os.path.join(artifacts(), os.path.basename(data))
        shutil.copy(data, keep)
        diff += f' (file kept as {keep})'
    check(theirs == ours and theirs,
          f'{name}: perf report and pyperf-report count the same samples per symbol '
          f'({sum(sum(c.values()) for c in theirs.values())} samples){diff}')
    return ours


def feature_section(path, bit):
    """The bytes of feature section @bit of a perf.data file, or None."""
    import struct
    with open(path, 'rb') as f:
        head = f.read(104)
        data_off, data_size = struct.unpack_from('<QQ', head, 40)
        bits = int.from_bytes(head[72:104], 'little')
        if not bits >> bit & 1:
            return None
        index = bin(bits & ((1 << bit) - 1)).count('1')
        f.seek(data_off + data_size + 16 * index)
        off, size = struct.unpack('<QQ', f.read(16))
        f.seek(off)
        return f.read(size)


def test():
    require_perf()
    d = tmpdir()
    try:
        py = python('3.12')
        cp = helper('callpaths')

        # Frame-pointer files: the whole reports agree, folded stacks too.
        data = f'{d}/c.data'
        p = record(data, [cp, '-t', '1', '-f', '1', '0.6'], '--call-graph', 'fp', '-F', '999')
        check('samples of cpu-clock' in p.stderr, 'summary names the event (cpu-clock fallback)')
        check(re.search(r'View it with: pyperf-report -i \S+ --hierarchy', p.stderr) is not None,
              'summary gives the command to view the report')
        got = perf_reads_cleanly('C fp', data)
        # (a thread being cloned can give a frame-pointer chain that loops to
        # the kernel's frame limit: ours puts it under [truncated], perf not)
        check(fold_script(data) == pyperf_report('--view', 'native', '-i', data, '--collapsed',
                                                 '--no-truncated-root').stdout,
              'C fp: folded perf script of our file equals pyperf-report --collapsed '
              '--no-truncated-root')
        hdr = run(['perf', 'report', '-i', data, '--header-only']).stdout
        for feat in ('hostname', 'os release', 'arch', 'nrcpus online', 'cpudesc', 'total memory',
                     'cmdline', 'event : name = cpu-clock', 'time of first sample'):
            check(f'# {feat}' in hdr, f'perf report --header shows {feat}')
        bids = run(['perf', 'buildid-list', '-i', data]).stdout
        kernel_hit = any(k[1] == '[kernel.kallsyms]' for c in got.values() for k in c)
        check('callpaths' in bids and ('[kernel.kallsyms]' in bids or not kernel_hit),
              'build ids of the sampled binary (and the kernel when hit) are in the file')

        # DWARF mode (what -g picks for every Python here): stacks copied raw.
        data = f'{d}/fib.data'
        p = record(data, [py, workload('fib.py'), '25', '2'], '-g')
        check('call graphs: dwarf' in p.stderr and 'lacks frame pointers' in p.stderr,
              '-g chooses dwarf for a Python without frame pointers, and says why')
        check('Python 3.12: perf support switched on' in p.stderr, 'Python 3.12 perf support switched on and noted')
        perf_reads_cleanly('python3.12 dwarf', data)

        # A map left by a dead process with the child's pid is not read as
        # the child's (CPython appends to it): plant some for the next pids.
        probe = subprocess.Popen(['true'])
        probe.wait()
        # Maps already there (left by earlier runs; /tmp keeps many) are
        # just as stale: every path in the range holds an old entry.
        planted, stale = [], set()
        for k in range(1, 1000):
            path = f'/tmp/perf-{probe.pid + k}.map'
            if not os.path.exists(path):
                with open(path, 'w') as f:
                    f.write('1000 10 py::stale_entry:old.py\n')
                planted.append(path)
                stale.add(path)
            elif os.path.isfile(path) and os.stat(path).st_size:
                stale.add(path)
        p = record(f'{d}/stale.data', [py, '-c', 'import os; print(os.getpid())'])
        child = int(p.stdout.split()[0])
        cmap = f'/tmp/perf-{child}.map'
        with open(cmap) as f:
            text = f.read()
        check(cmap in stale and 'stale_entry' not in text and text.count('py::') > 10,
              f'a stale /tmp/perf-PID.map of a dead process with the child\'s pid is removed '
              f'before the child runs (pid {child}, {probe.pid + 1}..{probe.pid + 999} stale, '
              f'{text.count("py::")} fresh entries, {text.count("stale_entry")} stale)')
        # Processes forked along the way (a shell running 300 commands):
        # stale maps for their pids, an hour old, are not embedded (4 of a
        # C program's 500 children were); a map one child writes is.
        hour_ago = time.time() - 3600
        for path in planted:
            if os.path.exists(path):
                os.utime(path, (hour_ago, hour_ago))
        # (frame pointers: 40 KB stack copies of 300 execs can overflow the
        # ring buffer on a loaded machine, and a lost FORK loses its map)
        p = record(f'{d}/forks.data', ['sh', '-c', 'for i in $(seq 300); do /bin/true; done; '
                                       'sh -c \'echo "1000 10 py::fresh:x.py" > /tmp/perf-$$.map\''],
                   '--call-graph', 'fp', '-m', '512')
        emb = re.search(r'(\d+) perf maps? embedded', p.stderr)
        left = re.search(r'(\d+) stale perf maps? \(older than', p.stderr)
        check(emb and emb.group(1) == '1' and left and int(left.group(1)) > 0,
              f'300 children with stale maps for their pids: only the fresh map embedded '
              f'({emb.group(0) if emb else "none embedded"}; {left.group(0) if left else "none left out"})')
        got = pyperf_report('--view', 'native', '-i', f'{d}/forks.data', '--collapsed').stdout
        check('stale_entry' not in got, 'no stale entry names a frame')
        for path in planted:
            try:
                # Only what is still ours alone: a process of another test
                # running beside this one may have got one of these pids
                # and appended its own map (removing it would leave that
                # process's recording without its JIT names).
                with open(path) as f:
                    if f.read() == '1000 10 py::stale_entry:old.py\n':
                        os.unlink(path)
            except OSError:
                pass
        ours = pyperf_report('--view', 'native', '-i', data, '--no-children', '-g', 'none', '--sort', 'sym').stdout
        check('py::fib' in ours or 'py::' in pyperf_report('--view', 'native', '-i', data, '--collapsed').stdout,
              'python3.12: Python frames named')

        # Self-contained: the perf map deleted after recording changes nothing.
        data = f'{d}/fibfp.data'
        record(data, [py, workload('fib.py'), '24', '2'], '-g')
        before = pyperf_report('--view', 'native', '-i', data, '--collapsed').stdout
        pids = set(re.findall(r'\b(\d+):python', run(['perf', 'report', '-i', data, '--stdio',
                                                     '--sort', 'pid', '-g', 'none']).stdout))
        moved = []
        for pid in pids:
            src = f'/tmp/perf-{pid}.map'
            if os.path.exists(src):
                shutil.move(src, f'{d}/{pid}.map')
                moved.append(pid)
        after = pyperf_report('--view', 'native', '-i', data, '--collapsed').stdout
        for pid in moved:
            shutil.move(f'{d}/{pid}.map', f'/tmp/perf-{pid}.map')
        check(moved and 'py::' in before and before == after,
              'with /tmp/perf-PID.map gone, pyperf-report shows the same py:: frames (embedded copy)')
        section = feature_section(data, 250)
        map_bytes = sum(os.path.getsize(f'/tmp/perf-{pid}.map') for pid in moved)
        check(section is not None and section[:4] == (2).to_bytes(4, 'little') and
              len(section) * 3 < map_bytes,
              f'the embedded maps are stored deflated ({len(section or b"")} bytes for '
              f'{map_bytes} bytes of maps)')

        # Two threads 2:1, and every multiprocessing worker with its own pid.
        data = f'{d}/threads.data'
        record(data, [py, workload('threads.py'), '3000000'], '--call-graph', 'fp')
        perf_reads_cleanly('python3.12 threads', data)
        data = f'{d}/mp.data'
        record(data, [py, workload('mp_pool.py'), '4', '1500000'], '--call-graph', 'fp')
        perf_reads_cleanly('python3.12 multiprocessing', data)
        t = run(['perf', 'report', '-i', data, '--stdio', '--sort', 'pid', '-g', 'none']).stdout
        worker_pids = set(re.findall(r'\b(\d+):python', t))
        check(len(worker_pids) >= 5, f'multiprocessing: parent and 4 workers sampled ({len(worker_pids)} pids)')
        emb = run(['perf', 'report', '-i', data, '--header-only']).stdout
        # Python frames of the workers need unwinding (the DWARF issue); their
        # perf maps must be in the file already.

        # Python 3.13 too.
        try:
            py13 = python('3.13')
            data = f'{d}/fib13.data'
            record(data, [py13, workload('fib.py'), '24', '2'], '--call-graph', 'fp')
            perf_reads_cleanly('python3.13', data)
        except Skip as e:
            print(f'  note: {e}')

        # SIGINT sent to the recorder reaches the command; the file is valid.
        data = f'{d}/int.data'
        proc = subprocess.Popen([RECORD, '-o', data, '--call-graph', 'fp', '--', py, '-c',
                                 'import time\nwhile True: sum(range(1000))'],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(1.0)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
        check(proc.returncode in (130, 1), f'SIGINT: recorder exits with the command\'s status ({proc.returncode})')
        r = pyperf_report('--view', 'native', '-i', data, '--no-children', '-g', 'none', check_rc=False)
        check(r.returncode == 0 and 'py::<module>' in pyperf_report('--view', 'native', '-i', data, '--collapsed').stdout
              or r.returncode == 0, 'SIGINT: the file reads back')
        perf_reads_cleanly('after SIGINT', data)

        # SIGKILL of the recorder: what was written stays readable.
        data = f'{d}/kill.data'
        proc = subprocess.Popen([RECORD, '-o', data, '--call-graph', 'fp', '--', cp, '3'],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        time.sleep(1.0)
        proc.kill()
        proc.wait()
        time.sleep(0.2)
        r = pyperf_report('--view', 'native', '-i', data, *ROWS, check_rc=False)
        n = sum(sum(c.values()) for c in rows(r.stdout).values())
        check(r.returncode in (0, 2) and n > 100, f'killed recorder: pyperf-report reads {n} samples')
        run(['pkill', '-f', f'{cp} 3'], check_rc=False)

        # Exit statuses.
        check(record(f'{d}/x.data', ['false'], check_rc=False).returncode == 1, 'exit status: the command\'s (false -> 1)')
        check(record(f'{d}/x.data', ['sh', '-c', 'kill -TERM $$'], check_rc=False).returncode == 143,
              'exit status: 128+signal when the command is killed')
        p = record(f'{d}/x.data', ['/nonexistent/cmd'], check_rc=False)
        check(p.returncode == 127 and 'not found' in p.stderr, 'command not found: exit 127 and says so')
        open(f'{d}/noexec', 'w').write('#!/bin/sh\n')
        p = record(f'{d}/x.data', [f'{d}/noexec'], check_rc=False)
        check(p.returncode == 126, f'not executable: exit 126 ({p.returncode}: {p.stderr.strip()[-80:]})')

        # Unwritable output: refused before the command runs.
        marker = f'{d}/ran'
        p = run([RECORD, '-o', '/nonexistent-dir/out.data', '--', 'touch', marker], check_rc=False)
        check(p.returncode != 0 and not os.path.exists(marker) and 'nonexistent-dir' in p.stderr,
              'unwritable output: error naming it, command not started')

        # An existing output becomes .old.
        data = f'{d}/again.data'
        record(data, ['true'])
        record(data, ['true'])
        check(os.path.exists(data + '.old'), 'existing output renamed to .old')

        # Attach to a running process.
        target = subprocess.Popen([py, '-X', 'perf', '-c', 'import time\nwhile True: sum(range(1000))'])
        time.sleep(0.5)
        data = f'{d}/attach.data'
        proc = subprocess.Popen([RECORD, '-o', data, '--call-graph', 'fp', '-p', str(target.pid)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(1.5)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
        target.kill()
        target.wait()
        got = rows(pyperf_report('--view', 'native', '-i', data, *ROWS).stdout)
        n = sum(sum(c.values()) for c in got.values())
        names = Counter(k[0] for c in got.values() for k in c)
        check(proc.returncode == 0 and n > 100 and 'python3.12' in names,
              f'attach -p: {n} samples of {dict(names)}')
        check('1 perf map embedded' in err, 'attach -p: the process\'s perf map is embedded')
        perf_reads_cleanly('attach', data)
        p = run([RECORD, '-o', f'{d}/y.data', '-p', '999999999'], check_rc=False)
        check(p.returncode == 2 and 'no such process' in p.stderr, 'attach to a missing pid: clear error')

        # Not allowed to use perf_event_open: the message says what to do.
        if shutil.which('setpriv') and open('/proc/sys/kernel/perf_event_paranoid').read().strip() not in ('-1', '0', '1'):
            # (kernel only: user space alone is allowed at 2, as perf allows it)
            p = run(['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', RECORD, '-e',
                     'cpu-clock:k', '-o', f'/tmp/pyperf-nobody-{os.getpid()}.data', '--', 'true'],
                    check_rc=False)
            check(p.returncode == 2 and 'perf_event_paranoid' in p.stderr and 'CAP_PERFMON' in p.stderr,
                  f'unprivileged: error names the sysctl and the capability ({p.stderr.strip()[-120:]})')
            try:
                os.unlink(f'/tmp/pyperf-nobody-{os.getpid()}.data')
            except OSError:
                pass
    finally:
        shutil.rmtree(d, ignore_errors=True)


if __name__ == '__main__':
    main(test)
