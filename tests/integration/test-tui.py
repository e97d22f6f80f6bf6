#!/usr/bin/env python3
"""pyperf-report's browser, driven in a real terminal (tmux: send-keys,
capture-pane). After each key the screen is checked against the --stdio
report of the same state: the rows shown are its lines (fold marks aside),
clipped to the terminal's width. Then the ways out: q, Ctrl-C, SIGTERM,
SIGHUP, the terminal lost, a terminal too small, no terminal, a pipe."""
import os
import re
import shutil
import subprocess
import time
from lib.common import BIN, Skip, check, main, pyperf_report, run, tmpdir, workload

RECORD = os.path.join(BIN, 'pyperf-record')
REPORT = os.path.join(BIN, 'pyperf-report')
W, H = 150, 40
ENTRY = re.compile(r'^\s+\d+\.\d\d%')


class Term:
    """pyperf-report in a tmux session of its own; the shell around it
    writes the exit status and the terminal's modes afterwards."""

    def __init__(self, d, args, w=W, h=H, name='t', pipe=None):
        self.d, self.name = d, f'pyperf-tui-{os.getpid()}-{name}'
        self.rc, self.err, self.stty = f'{d}/{name}.rc', f'{d}/{name}.err', f'{d}/{name}.stty'
        for f in (self.rc, self.err, self.stty):
            if os.path.exists(f):
                os.unlink(f)
        cmd = ' '.join(subprocess.list2cmdline([x]) for x in [REPORT, *args])
        if pipe:
            # the status of the report, not of cat
            cmd = f'( {cmd}; echo $? > {pipe}.rc ) | cat > {pipe}'
        shell = (f'{cmd} 2>{self.err}; echo $? > {self.rc}.tmp; stty -a > {self.stty}; '
                 f'mv {self.rc}.tmp {self.rc}; sleep 600')
        subprocess.run(['tmux', '-L', self.name, '-f', '/dev/null', 'new-session', '-d', '-s',
                        self.name, '-x', str(w), '-y', str(h), 'bash', '-c', shell], check=True,
                       env={**os.environ, 'TERM': 'screen'})
        self.last = None

    def tmux(self, *args):
        return subprocess.run(['tmux', '-L', self.name, *args], stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, text=True).stdout

    def screen(self):
        return self.tmux('capture-pane', '-p', '-t', self.name).split('\n')[:-1]

    def settle(self, pred=None, timeout=30):
        """The screen once it stops changing (and pred holds)."""
        end = time.time() + timeout
        prev = None
        while time.time() < end:
            s = self.screen()
            if s == prev and (pred is None or pred(s)):
                self.last = s
                return s
            prev = s
            time.sleep(0.25)
        self.last = prev
        return prev

    def key(self, *keys, pred=None):
        before = self.screen()
        for k in keys:
            self.tmux('send-keys', '-t', self.name, *([] if k is None else ['-l', k]
                                                     if len(k) == 1 else [k]))
        return self.settle(lambda s: s != before and (pred is None or pred(s)))

    def pid(self):
        """pyperf-report's pid: the child of the pane's shell."""
        sh = self.tmux('display-message', '-p', '-t', self.name, '#{pane_pid}').strip()
        kids = run(['pgrep', '-P', sh], check_rc=False).stdout.split()
        return int(kids[0]) if kids else None

    def result(self, timeout=20):
        end = time.time() + timeout
        while time.time() < end and not os.path.exists(self.rc):
            time.sleep(0.1)
        if not os.path.exists(self.rc):
            return None, '', ''
        with open(self.rc) as f:
            rc = int(f.read().strip() or -1)
        with open(self.err) as f:
            err = f.read()
        stty = open(self.stty).read() if os.path.exists(self.stty) else ''
        return rc, err, stty

    def close(self):
        self.tmux('kill-server')


def status(s):
    return s[-1] if s else ''


def body(s, h=H):
    """The rows area: below the title and the column headers, above the
    status line; trailing blank lines cut."""
    rows = [line.rstrip() for line in s[2:h - 1]]
    while rows and not rows[-1]:
        rows.pop()
    return rows


def stdio_rows(data, *args, event=0):
    """The lines --stdio prints that the browser lists for an event (the
    first by default): entries and their call graphs, not the '#' header
    nor blank lines."""
    out = pyperf_report('-i', data, '--stdio', *args).stdout
    sections = re.split(r'^# Samples: .*$', out, flags=re.M)[1:]
    if event >= len(sections):
        return []
    return [line for line in sections[event].split('\n')
            if line.strip() and not line.startswith('#')]


def same(screen_rows, want, w=W, what='', h=H):
    """Rows equal to the report's lines clipped to the width, but for the
    fold marks ('+' or '-' where the report has a space)."""
    n = min(len(screen_rows), len(want))
    bad = None
    for i in range(n):
        a, b = screen_rows[i], want[i][:w].rstrip()
        if len(a) != len(b) or any(x != y and not (x in '+-' and y == ' ') for x, y in zip(a, b)):
            bad = i
            break
    if bad is None and len(screen_rows) < min(len(want), len(screen_rows) if len(screen_rows) >= h - 3 else h - 3):
        bad = len(screen_rows)
    ok = check(bad is None and n > 0, f'{what}: the screen shows the --stdio rows ({n} compared)')
    if not ok:
        print(f'    row {bad}:\n      screen: {screen_rows[bad] if bad is not None and bad < len(screen_rows) else None!r}'
              f'\n      stdio:  {want[bad][:w] if bad is not None and bad < len(want) else None!r}')
    return ok


def entries_only(rows):
    return [r for r in rows if ENTRY.match(r)]


def browse(d, data):
    t = Term(d, ['-i', data])
    try:
        s = t.settle(lambda s: 'h: help' in status(s))
        check(s and "of event 'cpu-clock'" in s[0], f'title: the event\'s header ({s[0] if s else None!r})')
        check('Children' in s[1] and 'Self' in s[1] and 'Symbol' in s[1],
              'column headers: Children, Self ... Symbol')
        check('view mixed, weight events' in status(s), f'status line: view and weight ({status(s)!r})')
        full = stdio_rows(data)
        same(body(s), entries_only(full), what='opened (entries folded)')

        s = t.key('E')
        same(body(s), full, what='E (all expanded)')
        s = t.key('C')
        same(body(s), entries_only(full), what='C (all collapsed)')

        # the second entry unfolded: its call graph between it and the third
        s = t.key('Down')
        s = t.key('Enter')
        ents = [i for i, r in enumerate(full) if ENTRY.match(r)]
        want = [full[ents[0]]] + full[ents[1]:ents[2]] + [full[i] for i in ents[2:]]
        same(body(s), want, what='Down, Enter (the second entry unfolded)')
        check(body(s)[1].startswith('-'), 'the unfolded entry is marked -')
        s = t.key('+')
        same(body(s), entries_only(full), what='+ (folded again)')

        # a DSO zoom, then back
        s = t.key('End')
        s = t.key('Home')
        for _ in range(3):
            s = t.key('Down')
        s = t.key('d', pred=lambda s: ', dso ' in status(s))
        dso = re.search(r', dso (\S+)', status(s))
        check(dso, f'd: the status line names the DSO ({status(s)!r})')
        if dso:
            same(body(s), entries_only(stdio_rows(data, '--dsos', dso.group(1))),
                 what=f'd (zoomed into {dso.group(1)}) = --dsos {dso.group(1)}')
        s = t.key('Escape', pred=lambda s: ', dso ' not in status(s))
        same(body(s), entries_only(full), what='Escape (zoomed out)')

        # a symbol regex, the thread of its first entry, a process
        s = t.key('/', pred=lambda s: 'symbol regex' in status(s))
        s = t.key(*'^spinlock', 'Enter', pred=lambda s: 'symbol /^spinlock/' in status(s))
        same(body(s), entries_only(stdio_rows(data, '--symbol-filter', '^spinlock')),
             what="/ ^spinlock = --symbol-filter '^spinlock'")
        s = t.key('t', pred=lambda s: ', thread ' in status(s))
        tid = re.search(r', thread \S+\((\d+)\)', status(s))
        check(tid, f't: the status line names the thread ({status(s)!r})')
        if tid:
            same(body(s), entries_only(stdio_rows(data, '--tid', tid.group(1),
                                                  '--symbol-filter', '^spinlock')),
                 what=f't (thread {tid.group(1)}) = --tid {tid.group(1)}')
        s = t.key('Escape', pred=lambda s: 'symbol /' not in status(s))
        if tid:
            same(body(s), entries_only(stdio_rows(data, '--tid', tid.group(1))),
                 what='Escape drops the symbol filter, the thread zoom stays')
        s = t.key('t', pred=lambda s: ', thread ' not in status(s))
        same(body(s), entries_only(full), what='t again (zoomed out)')
        s = t.key('p', pred=lambda s: ', process ' in status(s))
        pid = re.search(r', process \S+\((\d+)\)', status(s))
        if check(pid, f'p: the status line names the process ({status(s)!r})'):
            same(body(s), entries_only(stdio_rows(data, '--pid', pid.group(1))),
                 what=f'p (process {pid.group(1)}) = --pid {pid.group(1)}')
        s = t.key('p', pred=lambda s: ', process ' not in status(s))

        # --percent-limit, live
        s = t.key('L', pred=lambda s: 'percent limit' in status(s))
        s = t.key('BSpace', *'20', 'Enter', pred=lambda s: 'limit 20%' in status(s))
        lim = stdio_rows(data, '--percent-limit', '20')
        same(body(s), entries_only(lim), what='L 20 = --percent-limit 20')
        s = t.key('E')
        same(body(s), lim, what='L 20, E = --percent-limit 20 (call graphs pruned alike)')
        s = t.key('L', pred=lambda s: 'percent limit' in status(s))
        # empty: no limit, as on the command line
        s = t.key('BSpace', 'BSpace', 'Enter', pred=lambda s: 'limit' not in status(s))
        same(body(s), entries_only(full), what='L, empty = no --percent-limit')

        # views, weights, caller/callee, hierarchy
        s = t.key('v', pred=lambda s: 'view python' in status(s))
        same(body(s), entries_only(stdio_rows(data, '--view', 'python')), what='v = --view python')
        s = t.key('v', pred=lambda s: 'view native' in status(s))
        same(body(s), entries_only(stdio_rows(data, '--view', 'native')), what='v v = --view native')
        s = t.key('v', pred=lambda s: 'view mixed' in status(s))
        s = t.key('w', pred=lambda s: 'weight cpu' in status(s))
        same(body(s), entries_only(stdio_rows(data, '--weight', 'cpu')), what='w = --weight cpu')
        s = t.key('w', pred=lambda s: 'weight off-cpu' in status(s))
        off = stdio_rows(data, '--weight', 'off-cpu')
        same(body(s), entries_only(off), what='w w = --weight off-cpu')
        check('Off-CPU' in s[0] or 'off-cpu' in s[0], f'off-cpu: the title says what is weighed ({s[0]!r})')
        s = t.key('w', pred=lambda s: 'weight wall' in status(s))
        same(body(s), entries_only(stdio_rows(data, '--weight', 'wall')), what='w w w = --weight wall')
        s = t.key('w', pred=lambda s: 'weight events' in status(s))
        s = t.key('c', pred=lambda s: 'callee graphs' in status(s))
        s = t.key('E')
        same(body(s), stdio_rows(data, '-g', 'callee'), what='c, E = -g callee (graphs from the callees)')
        s = t.key('c', pred=lambda s: 'caller graphs' in status(s))
        s = t.key('E')
        same(body(s), full, what='c again, E = the default (caller order)')
        s = t.key('H', pred=lambda s: 'Overhead' in s[1])
        hier = stdio_rows(data, '--hierarchy')
        # level 0: "  " and the share right-aligned in 8 columns; deeper
        # levels are 3 columns further in
        same(body(s), [r for r in hier if re.match(r'^ {2,5}\d+\.\d\d%', r)],
             what='H = --hierarchy (levels folded)')
        s = t.key('E')
        same(body(s), hier, what='H, E = --hierarchy (every level and call graph)')
        s = t.key('H', pred=lambda s: 'Children' in s[1])

        # resize: clipped and laid out for the new size
        t.tmux('resize-window', '-t', t.name, '-x', '100', '-y', '25')
        s = t.settle(lambda s: len(s) == 25 and 'h: help' in status(s))
        same(body(s, 25), entries_only(full), w=100, h=25, what='resized to 100x25')
        check(s and len(s) == 25 and 'h: help' in status(s), 'resized: the status line at the new bottom')
        t.tmux('resize-window', '-t', t.name, '-x', '30', '-y', '6')
        s = t.settle(lambda s: 'terminal too small' in '\n'.join(s))
        check(s and 'terminal too small: need 40x8' in '\n'.join(s),
              'shrunk below 40x8: "terminal too small: need 40x8" until it grows')
        t.tmux('resize-window', '-t', t.name, '-x', str(W), '-y', str(H))
        s = t.settle(lambda s: 'h: help' in status(s))
        same(body(s), entries_only(full), what='grown again: the report is back')

        s = t.key('h', pred=lambda s: any('pyperf-report: keys' in r for r in s))
        check(any('zoom into the entry\'s DSO' in r for r in s), 'h: the help lists the keys')
        s = t.key('x', pred=lambda s: not any('pyperf-report: keys' in r for r in s))
        check(not any('pyperf-report: keys' in r for r in s), 'a key closes the help')
        s = t.key('?', pred=lambda s: any('pyperf-report: keys' in r for r in s))
        s = t.key('x')
        t.key('q')
        rc, err, stty = t.result()
        check(rc == 0, f'q: exit 0 (exit {rc}; {err.strip()[-200:]!r})')
        check(restored(stty), 'q: the terminal is restored (echo, icanon)')
    finally:
        t.close()


def restored(stty):
    return bool(re.search(r'(^|\s)icanon\b', stty) and re.search(r'(^|\s)echo\b', stty))


def ways_out(d, data):
    for name, how, want in (('ctrl-c', 'C-c', 130), ('term', 'TERM', 143), ('hup', 'HUP', 129)):
        t = Term(d, ['-i', data], name=name)
        try:
            t.settle(lambda s: 'h: help' in status(s))
            if how == 'C-c':
                t.tmux('send-keys', '-t', t.name, 'C-c')
            else:
                pid = t.pid()
                check(pid, f'{name}: pyperf-report running')
                if pid:
                    os.kill(pid, getattr(__import__('signal'), 'SIG' + how))
            rc, err, stty = t.result()
            check(rc == want, f'{name}: exit {want} (128 + the signal) (exit {rc})')
            check(restored(stty), f'{name}: the terminal is restored')
        finally:
            t.close()

    # the terminal gone under it: it ends (as after SIGHUP), it does not spin
    t = Term(d, ['-i', data], name='lost')
    t.settle(lambda s: 'h: help' in status(s))
    pid = t.pid()
    t.close()
    end = time.time() + 10
    while pid and time.time() < end and os.path.exists(f'/proc/{pid}'):
        time.sleep(0.1)
    check(pid and not os.path.exists(f'/proc/{pid}'),
          'terminal lost (tmux killed): pyperf-report ends within 10 s')
    rc, _, _ = t.result(timeout=5)
    check(rc in (129, None), f'terminal lost: exit 129 if the shell could say ({rc})')

    # too small to start: an error, before any drawing
    t = Term(d, ['-i', data], w=30, h=6, name='small')
    try:
        rc, err, stty = t.result()
        check(rc == 1 and 'terminal too small: need 40x8 (have 30x6)' in err and '--stdio' in err,
              f'30x6: exit 1, "terminal too small: need 40x8 (have 30x6)" ({rc}, {err.strip()!r})')
        check(restored(stty), 'too small: the terminal untouched')
    finally:
        t.close()

    # on a terminal into a pipe: printed as --stdio prints
    t = Term(d, ['-i', data, '--hierarchy'], name='pipe', pipe=f'{d}/piped.txt')
    try:
        t.result()
        with open(f'{d}/piped.txt') as f:
            piped = f.read()
        with open(f'{d}/piped.txt.rc') as f:
            rc = int(f.read())
        check(rc == 0 and piped == pyperf_report('-i', data, '--stdio', '--hierarchy').stdout,
              f'a terminal, stdout a pipe: the --stdio report (exit {rc})')
    finally:
        t.close()
    p = run([REPORT, '-i', data, '--tui'], check_rc=False, stdin=subprocess.DEVNULL)
    check(p.returncode == 1 and '--tui needs a terminal' in p.stderr and not p.stdout,
          f'--tui without a terminal: exit 1, says so ({p.returncode}, {p.stderr.strip()!r})')
    p = run([REPORT, '-i', data, '--tui', '--format', 'json'], check_rc=False)
    check(p.returncode == 1 and 'not with --stdio, --format' in p.stderr,
          '--tui with --format: a usage error')


def test():
    if not shutil.which('tmux'):
        raise Skip('tmux is not installed (mk/deps.sh test installs it)')
    d = tmpdir()
    data = f'{d}/sleep_spin.data'
    p = run([RECORD, '-q', '--off-cpu', '-g', '-o', data, '--', '/usr/bin/python3',
             workload('sleep_spin.py'), '1.5'], check_rc=False)
    if p.returncode != 0 and 'perf_event_open' in p.stderr:
        raise Skip(f'cannot record here: {p.stderr.strip()[-200:]}')
    if p.returncode != 0:
        raise RuntimeError(f'pyperf-record failed: {p.stderr[-2000:]}')
    try:
        browse(d, data)
        ways_out(d, data)
    finally:
        shutil.rmtree(d, ignore_errors=True)


if __name__ == '__main__':
    main(test)
