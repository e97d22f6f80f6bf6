#!/usr/bin/env python3
"""pyperf-top, live, in a real terminal (tmux) and with --stdio: a workload
whose hot function switches halfway shows the switch on screen (first alpha
on the top row, later beta); keys switch the view and the threads; a target
that exits ends the view with a summary; -p on a running Python; -o keeps a
recording whose sample count perf report agrees with; and the ways out (q,
Ctrl-C, SIGTERM, SIGHUP, a terminal too small, no terminal, a pipe) leave
the terminal restored with the documented status."""
import os
import re
import shutil
import signal
import subprocess
import time
from lib.common import BIN, Skip, check, main, python, require_perf, run, tmpdir, workload
from lib.tmux_term import Term, restored

TOP = os.path.join(BIN, 'pyperf-top')
ROW = re.compile(r'^\s*([-\d.]+)\s+([-\d.]+)\s+([-\d.]+)\s+([-\d.]+)\s+(\S.*)$')


def rows_of(lines):
    """The function rows under the column titles: (own_last, total_last,
    own_all, total_all, name) with '-' as None."""
    out, on = [], False
    for line in lines:
        if line.lstrip().startswith('Own%'):
            on = True
            continue
        if not on:
            continue
        m = ROW.match(line)
        if not m:
            if out:
                break
            continue
        vals = [None if v == '-' else float(v) for v in m.groups()[:4]]
        out.append((*vals, m.group(5).strip()))
    return out


def workload_pids(py, arg):
    """Pids of `py hot_switch.py ARG` (not of the shells and tools whose
    command lines name it)."""
    out = []
    for pid in os.listdir('/proc'):
        if not pid.isdigit():
            continue
        try:
            with open(f'/proc/{pid}/cmdline', 'rb') as f:
                argv = f.read().split(b'\0')
            with open(f'/proc/{pid}/stat') as f:
                state = f.read().rsplit(')', 1)[1].split()[0]
        except OSError:
            continue
        if argv[0].decode() == py and len(argv) > 2 and argv[1].endswith(b'hot_switch.py') \
                and argv[2] == arg.encode() and state != 'Z':
            out.append(int(pid))
    return out


def top_name(lines):
    r = rows_of(lines)
    return r[0][4] if r else None


def switch_in_tmux(d, py):
    """The hot function switches halfway: the screen's top row says so."""
    t = Term(d, [TOP, '-d', '0.5', '--', py, workload('hot_switch.py'), '8'], name='switch')
    seen = []
    try:
        end = time.time() + 90
        while time.time() < end and not os.path.exists(t.rc):
            s = t.screen()
            name = top_name(s)
            if name and (not seen or seen[-1] != name):
                seen.append(name)
            if 'summary since the start' in '\n'.join(s):
                break
            time.sleep(0.2)
        rc, err, stty = t.result(timeout=30)
        final = t.screen()
    finally:
        t.close()
    print(f'  top rows seen in order: {seen}')
    a = 'alpha (hot_switch.py)'
    b = 'beta (hot_switch.py)'
    check(a in seen and b in seen and seen.index(a) < len(seen) - 1 - seen[::-1].index(b),
          'the top row named alpha first, then beta (the switch shows on screen)')
    check(seen and seen[-1] == b, f'the last live top row is beta ({seen[-1:]})')
    text = '\n'.join(final)
    check('the command exited; summary since the start' in text,
          'the target exited: the view ended with a summary on the terminal')
    summary = rows_of(final[[i for i, line in enumerate(final)
                              if 'summary since the start' in line][0]:]) if \
        'summary since the start' in text else []
    names = [r[4] for r in summary[:3]]
    check(a in names and b in names, f'the summary ranks alpha and beta first ({names})')
    both = {r[4]: r for r in summary}
    if a in both and b in both:
        # 4 s each: neither has much more than the other since the start
        ra, rb = both[a][2], both[b][2]
        check(abs(ra - rb) < 25, f'since the start alpha {ra}% and beta {rb}% are close')
    check(rc == 0, f'exit status 0 when the target exits (got {rc}; {err.strip()[-300:]})')
    check(restored(stty), 'terminal restored (icanon echo)')


def keys_in_tmux(d, py):
    """v switches the view, t the threads, s the ranking; q quits and ends
    the command; the status line and header follow."""
    t = Term(d, [TOP, '-d', '0.5', '--', py, workload('hot_switch.py'), '60'], name='keys')
    try:
        s, ok = t.wait(lambda s: top_name(s) is not None, timeout=60)
        check(ok and 'view mixed' in s[0], 'opens in the mixed view')
        pids = workload_pids(py, '60')
        check(len(pids) == 1, f'the launched command runs ({pids})')
        t.keys('v')
        s, ok = t.wait(lambda s: 'view python' in s[0] and top_name(s) is not None)
        names = [r[4] for r in rows_of(s)]
        check(ok and names and not any('[kernel]' in n or '[lib' in n for n in names),
              f'v: the python view, Python frames only ({names[:4]})')
        t.keys('v')
        s, ok = t.wait(lambda s: 'view native' in s[0] and top_name(s) is not None)
        names = [r[4] for r in rows_of(s)]
        check(ok and any('_PyEval_EvalFrameDefault' in n for n in names),
              f'v again: the native view, interpreter frames shown ({names[:3]})')
        t.keys('v')
        s, ok = t.wait(lambda s: 'view mixed' in s[0])
        check(ok, 'v a third time: back to mixed')
        t.keys('t')
        s, ok = t.wait(lambda s: 'per thread' in s[0] and top_name(s) is not None)
        check(ok and re.search(r'\[python3\S* \d+\]$', rows_of(s)[0][4]) is not None,
              f't: one row per thread and function ({top_name(s)})')
        t.keys('s')
        s, ok = t.wait(lambda s: 'ranked by total' in s[0])
        r = rows_of(s)
        check(ok and r and all(r[i][1] >= r[i + 1][1] for i in range(len(r) - 1)),
              's: ranked by total share')
        t.keys('h')
        s, ok = t.wait(lambda s: any('rank by own share' in line for line in s))
        check(ok, 'h: the keys are explained')
        t.keys('x')
        t.keys('q')
        rc, err, stty = t.result(timeout=30)
        check(rc == 0, f'q: exit status 0 (got {rc})')
        check(restored(stty), 'q: terminal restored')
        check('the command was ended' in '\n'.join(t.screen()),
              'q with the command running: it is ended, and the summary says so')
        check(pids and not set(pids) & set(workload_pids(py, '60')),
              'q: the launched command is gone')
    finally:
        t.close()


def exits_in_tmux(d, py):
    cmd = [TOP, '-d', '0.5', '--', py, workload('hot_switch.py'), '60']
    # Ctrl-C: in raw mode a key; it means what SIGINT means
    t = Term(d, cmd, name='ctrlc')
    try:
        t.wait(lambda s: top_name(s) is not None, timeout=60)
        t.keys('C-c')
        rc, err, stty = t.result()
        check(rc == 130, f'Ctrl-C: exit status 130 (got {rc})')
        check(restored(stty), 'Ctrl-C: terminal restored')
        check('summary since the start' in '\n'.join(t.screen()), 'Ctrl-C: summary printed')
    finally:
        t.close()
    for sig, want in ((signal.SIGTERM, 143), (signal.SIGHUP, 129)):
        t = Term(d, cmd, name=f'sig{int(sig)}')
        try:
            t.wait(lambda s: top_name(s) is not None, timeout=60)
            pid = t.pid()
            os.kill(pid, sig)
            rc, err, stty = t.result()
            check(rc == want, f'{sig.name}: exit status {want} (got {rc}; {err.strip()[-200:]})')
            check(restored(stty), f'{sig.name}: terminal restored')
        finally:
            t.close()
    # the terminal lost: tmux killed under it
    t = Term(d, cmd, name='lost')
    t.wait(lambda s: top_name(s) is not None, timeout=60)
    pid = t.pid()
    t.close()
    end = time.time() + 20
    while time.time() < end and os.path.exists(f'/proc/{pid}'):
        time.sleep(0.1)
    check(not os.path.exists(f'/proc/{pid}'), 'the terminal gone (tmux killed): pyperf-top ends')
    # too small: refused before anything starts
    t = Term(d, cmd[:-1] + ['61'], w=30, h=6, name='small')
    try:
        rc, err, stty = t.result()
        check(rc == 1 and 'terminal too small' in err,
              f'a 30x6 terminal: exit 1, "{err.strip()}"')
        check(restored(stty), 'too small: terminal left as it was')
        check(not workload_pids(py, '61'), 'too small: the command was never started')
    finally:
        t.close()
    # a pipe: --stdio by itself
    out = f'{d}/pipe.out'
    t = Term(d, [TOP, '-d', '0.5', '-n', '2', '--', py, workload('hot_switch.py'), '60'],
             name='pipe', pipe=out)
    try:
        end = time.time() + 60
        while time.time() < end and not os.path.exists(out + '.rc'):
            time.sleep(0.2)
        text = open(out).read() if os.path.exists(out) else ''
        rc = open(out + '.rc').read().strip() if os.path.exists(out + '.rc') else None
        check(rc == '0' and text.count('pyperf-top: cpu-clock') >= 3 and '\x1b' not in text,
              f'stdout a pipe: the refreshes as text, no escape codes (rc {rc})')
    finally:
        t.close()


def stdio(d, py):
    # no terminal but --tui asked: an error
    p = run([TOP, '--tui', '--', 'true'], check_rc=False, stdin=subprocess.DEVNULL)
    check(p.returncode == 1 and 'needs a terminal' in p.stderr,
          f'--tui without a terminal: exit 1, "{p.stderr.strip()}"')
    p = run([TOP, '--stdio'], check_rc=False)
    check(p.returncode == 1 and 'nothing to watch' in p.stderr, 'no target: usage error')
    p = run([TOP, '--stdio', '--', '/nonexistent/prog'], check_rc=False)
    check(p.returncode == 127, f'a command not found: 127 (got {p.returncode})')
    p = run([TOP, '--stdio', '-p', '999999999'], check_rc=False)
    check(p.returncode == 2 and 'no such process: 999999999' in p.stderr,
          f'-p of no process: exit 2, "{p.stderr.strip()}"')

    # -o: the recording kept; its samples are those the summary counted,
    # and perf report counts as many
    data = f'{d}/top.data'
    p = run([TOP, '--stdio', '-d', '1', '-o', data, '--', py, workload('hot_switch.py'), '3'],
            check_rc=False)
    check(p.returncode == 0, f'--stdio launch: exit 0 ({p.stderr.strip()[-300:]})')
    summary = p.stdout[p.stdout.find('summary since the start'):]
    m = re.search(r'(\d+) since start', summary)
    check(m and os.path.exists(data), f'-o: recording kept in {data}')
    if m and os.path.exists(data):
        perf = run(['perf', 'report', '-i', data, '--stdio', '--no-children', '-g', 'none',
                    '--sort', 'comm', '-F', 'sample,comm', '-q'], check_rc=False)
        n = sum(int(line.split()[0]) for line in perf.stdout.splitlines() if line.strip())
        check(n == int(m.group(1)),
              f'-o: perf report counts the samples the summary counted ({n} vs {m.group(1)})')
        ours = run([os.path.join(BIN, 'pyperf-report'), '-i', data, '--stdio', '--view',
                    'mixed', '--no-children', '-g', 'none', '--sort', 'sym', '-F',
                    'sample,sym', '-q'], check_rc=False).stdout
        counts = {}
        for line in ours.splitlines():
            f = line.split(None, 1)
            if len(f) == 2 and f[0].isdigit():
                counts[re.sub(r'^\[.\] ', '', f[1].strip())] = int(f[0])
        total = sum(counts.values())
        top = rows_of(summary.splitlines())
        if top and total:
            name, own = top[0][4], top[0][2]
            want = 100.0 * counts.get(name, 0) / total
            check(abs(own - want) < 0.051,
                  f'the summary\'s top own share equals pyperf-report\'s on the file '
                  f'({name}: {own} vs {want:.2f})')
    # no -o: nothing left behind
    tmp = f'{d}/tmp'
    os.makedirs(tmp)
    p = run([TOP, '--stdio', '-d', '1', '--', py, workload('hot_switch.py'), '2'],
            check_rc=False, env={**os.environ, 'TMPDIR': tmp})
    check(p.returncode == 0 and os.listdir(tmp) == [],
          f'no -o: the temporary recording is removed ({os.listdir(tmp)})')
    # Ctrl-C (SIGINT) with --stdio: summary, 130
    proc = subprocess.Popen([TOP, '--stdio', '-d', '0.5', '--', py, workload('hot_switch.py'),
                             '60'], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(3)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    check(proc.returncode == 130 and 'summary since the start' in out,
          f'--stdio, SIGINT: summary and exit 130 (got {proc.returncode})')


def attach(d):
    """-p on a Python that is already running (3.12 -X perf names its
    functions itself)."""
    try:
        py = python('3.12')
    except Skip:
        print('  (no python3.12: -p checked with a pyenv 3.12 only)')
        raise
    proc = subprocess.Popen([py, '-X', 'perf', workload('hot_switch.py'), '60'],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(1)
        p = run([TOP, '--stdio', '-d', '1', '-n', '3', '-p', str(proc.pid)], check_rc=False)
        blocks = p.stdout.split('\n\n')
        tops = [top_name(b.splitlines()) for b in blocks[:3]]
        check(p.returncode == 0, f'-p: exit 0 after -n 3 ({p.stderr.strip()[-300:]})')
        check(tops and tops[-1] == 'alpha (hot_switch.py)',
              f'-p on a running python3.12 -X perf: alpha on top ({tops})')
        check(proc.poll() is None, '-p: the process keeps running after pyperf-top ends')
    finally:
        proc.kill()
        proc.wait()


def real_program(d):
    """A real program from Debian's packages on /usr/bin/python3 (3.11,
    trampolines through PYTHONPATH): its Python functions on top."""
    if not os.path.exists('/usr/bin/python3'):
        raise Skip('/usr/bin/python3 missing')
    src = f'{d}/big.py'
    with open(src, 'w') as f:
        for i in range(3000):
            f.write(f'def f{i}(x, y=[1, 2, 3]):\n    return {{"k": x * {i}, "s": "str{i}"}}\n')
    code = ('import sys, pygments, pygments.lexers, pygments.formatters\n'
            'src = open(sys.argv[1]).read()\n'
            'for _ in range(6):\n'
            '    pygments.highlight(src, pygments.lexers.PythonLexer(), '
            'pygments.formatters.HtmlFormatter())\n')
    p = run([TOP, '--stdio', '-d', '1', '--', '/usr/bin/python3', '-c', code, src],
            check_rc=False)
    summary = p.stdout[p.stdout.find('summary since the start'):]
    m = re.search(r'with Python frames ([\d.]+)%', summary)
    names = [r[4] for r in rows_of(summary.splitlines())[:15]]
    print(f'  pygments under pyperf-top: {names[:6]}')
    check(p.returncode == 0 and m and float(m.group(1)) > 80,
          f'pygments on /usr/bin/python3: most samples have Python frames ({m and m.group(1)}%)')
    check(any('pygments' in n or 'lexer' in n.lower() or '.py)' in n for n in names),
          'pygments: its Python functions rank among the hottest')


def test():
    require_perf()
    if not shutil.which('tmux'):
        raise Skip('tmux is not installed (mk/deps.sh test installs it)')
    d = tmpdir()
    py = python('3.11')
    print('the switch, in tmux')
    switch_in_tmux(d, py)
    print('keys')
    keys_in_tmux(d, py)
    print('ways out')
    exits_in_tmux(d, py)
    print('--stdio, -o, errors')
    stdio(d, py)
    print('-p')
    attach(d)
    print('a real program')
    real_program(d)
    shutil.rmtree(d, ignore_errors=True)


if __name__ == '__main__':
    main(test)
