"""Shared helpers for the benchmarks in bench/: paired, interleaved timing
of whole processes with their rusage (wall, CPU, peak RSS from wait4),
medians with spreads, cached recordings and Markdown tables.

Every bench/*.py script prints one Markdown section to stdout and its
progress to stderr; bench/run.sh collects the sections into RESULTS.md.
BENCH_QUICK=1 asks for a fast smoke run (fewer runs, smaller recordings).
"""
import glob
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

TOP = os.environ.get('PYPERF_TOP') or os.path.abspath(os.path.join(os.path.dirname(__file__), '../..'))
BUILD = os.environ.get('PYPERF_BUILD') or os.path.join(TOP, 'build')
BIN = os.path.join(BUILD, 'out/bin')
PYDIR = os.path.join(BUILD, 'out/python')
CACHE = os.path.join(BUILD, 'bench')
WORKLOADS = os.path.join(TOP, 'tests/workloads')
BENCH = os.path.join(TOP, 'bench')
QUICK = os.environ.get('BENCH_QUICK', '') not in ('', '0')

PYPERF_REPORT = os.path.join(BIN, 'pyperf-report')
PYPERF_RECORD = os.path.join(BIN, 'pyperf-record')

os.makedirs(CACHE, exist_ok=True)
# pyperf's saved symbol tables: a folder of the benchmarks' own, not ~/.cache
os.environ['PYPERF_SYMBOL_CACHE'] = os.path.join(CACHE, 'symbol-cache')


def log(*args):
    print(*args, file=sys.stderr, flush=True)


def runs(full, quick=3):
    """How many paired runs: `full` normally, `quick` under BENCH_QUICK."""
    return quick if QUICK else full


# ---- processes --------------------------------------------------------------

class Run:
    """One finished process: wall seconds, user/sys CPU seconds (the process
    and the children it waited for), peak RSS in KiB (largest of the process
    and those children), exit code and its stderr text."""

    def __init__(self, wall, user, sys_, maxrss_kb, rc, stderr):
        self.wall, self.user, self.sys, self.maxrss_kb = wall, user, sys_, maxrss_kb
        self.rc, self.stderr = rc, stderr

    @property
    def cpu(self):
        return self.user + self.sys

    @property
    def maxrss_mb(self):
        return self.maxrss_kb / 1024.0


TIME = '/usr/bin/time'


def measure(cmd, env=None, stdout=None, cwd=None, check=True):
    """Runs cmd to completion and returns a Run. CPU time comes from
    os.wait4() on this very child, so concurrent processes do not blur it.

    Peak RSS comes from GNU time's %M (the child's own ru_maxrss), not from
    wait4: Linux keeps the high-water RSS of the memory image a process had
    before exec(), and a child forked from this Python process inherits its
    RSS (30+ MB once a recording's output has been read), which would put a
    floor under every figure. time(1) is a small C program, so the floor it
    leaves is about 1 MB. stdout: a path to write to, or None for /dev/null."""
    e = dict(os.environ)
    if env:
        e.update(env)
    out = open(stdout or os.devnull, 'wb')
    err = tempfile.TemporaryFile()
    rss = tempfile.NamedTemporaryFile(prefix='bench-rss-', delete=False)
    rss.close()
    try:
        t0 = time.perf_counter()
        p = subprocess.Popen([TIME, '-f', '%M', '-o', rss.name, *cmd], stdout=out, stderr=err,
                             env=e, cwd=cwd)
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
        p.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        text = err.read().decode(errors='replace')
        with open(rss.name) as f:
            lines = f.read().split()
        maxrss = int(lines[-1]) if lines and lines[-1].isdigit() else 0
    finally:
        out.close()
        err.close()
        os.unlink(rss.name)
    r = Run(wall, ru.ru_utime, ru.ru_stime, maxrss, p.returncode, text)
    if check and r.rc != 0:
        raise RuntimeError(f'{" ".join(map(str, cmd))} exited {r.rc}:\n{text[-3000:]}')
    return r


def sh(cmd, **kw):
    """subprocess.run with text output captured; raises on failure."""
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                       errors='replace', **kw)
    if p.returncode != 0:
        raise RuntimeError(f'{" ".join(map(str, cmd))} exited {p.returncode}:\n{p.stderr[-3000:]}')
    return p


def paired(variants, n, warmup=1, label=''):
    """Runs every variant n times, interleaved: round i runs them all, in an
    order rotated by i (A,B / B,A / ...), so slow phases of a shared machine
    hit each variant alike. variants: [(name, fn)] where fn() returns a Run.
    warmup rounds (page cache, first-run effects) are discarded.
    Returns {name: [Run, ...]} in round order, so results pair up by index."""
    names = [v[0] for v in variants]
    out = {k: [] for k in names}
    for i in range(warmup + n):
        order = variants[i % len(variants):] + variants[:i % len(variants)]
        for name, fn in order:
            r = fn()
            if i >= warmup:
                out[name].append(r)
        if i >= warmup:
            log(f'  {label} round {i - warmup + 1}/{n}: ' +
                ', '.join(f'{k} {out[k][-1].wall:.3f}s' for k in names))
    return out


# ---- statistics -------------------------------------------------------------

def med(xs):
    return statistics.median(xs)


def spread(xs, fmt='{:.3f}', unit=''):
    """'median (min–max)' text."""
    return f'{fmt.format(med(xs))}{unit} ({fmt.format(min(xs))}–{fmt.format(max(xs))})'


def ratios(a, b):
    """Per-pair ratios a[i]/b[i]."""
    return [x / y if y else float('inf') for x, y in zip(a, b)]


def ratio_text(a, b, fmt='{:.2f}'):
    """Median of per-pair ratios a/b with their spread, e.g. '6.10x (5.9–6.4)'."""
    r = ratios(a, b)
    return f'{fmt.format(med(r))}x ({fmt.format(min(r))}–{fmt.format(max(r))})'


def pct_text(a, b):
    """Median relative difference a/b - 1 in percent, with spread."""
    r = [100.0 * (x - 1.0) for x in ratios(a, b)]
    return f'{med(r):+.1f}% ({min(r):+.1f}…{max(r):+.1f})'


def walls(rs):
    return [r.wall for r in rs]


def rss_mb(rs):
    return [r.maxrss_mb for r in rs]


def verdict(ok):
    return '**met**' if ok else '**not met**'


# ---- Markdown -----------------------------------------------------------------

def table(header, rows, align=None):
    """A Markdown table; align: string of 'l'/'r' per column (default: first
    column left, others right)."""
    align = align or ('l' + 'r' * (len(header) - 1))
    sep = ['---:' if a == 'r' else ':---' for a in align]
    lines = ['| ' + ' | '.join(map(str, header)) + ' |', '| ' + ' | '.join(sep) + ' |']
    for r in rows:
        lines.append('| ' + ' | '.join(str(c) for c in r) + ' |')
    return '\n'.join(lines) + '\n'


def mib(nbytes):
    return f'{nbytes / 1048576:.1f} MiB'


# ---- tools, interpreters, recordings ------------------------------------------

def python(version):
    """Path of pyenv's pythonX.Y, or None."""
    try:
        root = sh(['pyenv', 'root']).stdout.strip()
    except Exception:
        root = os.path.expanduser('~/.pyenv')
    for exe in sorted(glob.glob(f'{root}/versions/{version}*/bin/python{version}')):
        return exe
    return None


def workload(name):
    return os.path.join(WORKLOADS, name)


def file_hash(*paths):
    h = hashlib.sha256()
    for p in paths:
        with open(p, 'rb') as f:
            h.update(f.read())
    return h.hexdigest()[:16]


def tool_hash():
    """Identifies the built tools, so cached results made with them are redone
    when they change."""
    return file_hash(PYPERF_REPORT, PYPERF_RECORD)


def perf_version():
    return sh(['perf', '--version']).stdout.strip()


def deepstack():
    """Builds bench/deepstack.c (-O2 -fno-omit-frame-pointer) into the cache
    when missing or out of date; returns the binary's path."""
    src = os.path.join(BENCH, 'deepstack.c')
    exe = os.path.join(CACHE, 'deepstack')
    if not os.path.exists(exe) or os.path.getmtime(exe) < os.path.getmtime(src):
        log(f'  building {exe}')
        sh(['cc', '-O2', '-g', '-fno-omit-frame-pointer', '-Wall', '-Wextra', '-o', exe, src,
            '-lpthread'])
    return exe


def new_perf_maps(before):
    """/tmp/perf-*.map files that appeared since `before` (a set of paths)
    and that are ours: owned by us and naming a file of this worktree (other
    engineers on this machine run the same user and workloads from their own
    worktrees, so ownership alone would not tell)."""
    out = []
    for p in sorted(set(glob.glob('/tmp/perf-*.map')) - before):
        try:
            if os.stat(p).st_uid != os.getuid():
                continue
            with open(p, errors='replace') as f:
                if TOP + '/' in f.read():
                    out.append(p)
        except OSError:
            pass
    return out


def perf_maps():
    return set(glob.glob('/tmp/perf-*.map'))


def remove_new_maps(before):
    """Deletes the perf maps our runs wrote since `before` (see new_perf_maps)."""
    for p in new_perf_maps(before):
        try:
            os.unlink(p)
        except OSError:
            pass


def cached_recording(name, key, make):
    """A recording kept in build/bench/NAME.data while KEY (a dict describing
    the command, inputs and tools) is unchanged and the perf maps it needs
    are still in /tmp. make(path) records it and returns a dict of facts
    to keep (e.g. the perf maps written); returns (path, facts)."""
    path = os.path.join(CACHE, name + '.data')
    meta_path = path + '.json'
    key = json.loads(json.dumps(key))
    if os.path.exists(path) and os.path.exists(meta_path):
        with open(meta_path) as f:
            meta = json.load(f)
        if meta.get('key') == key and all(os.path.exists(m) for m in meta.get('maps', [])):
            log(f'  reusing {path}')
            return path, meta
    log(f'  recording {path}')
    for p in (path, meta_path):
        if os.path.exists(p):
            os.unlink(p)
    before = set(glob.glob('/tmp/perf-*.map'))
    facts = make(path) or {}
    facts.setdefault('maps', new_perf_maps(before))
    facts['key'] = key
    with open(meta_path, 'w') as f:
        json.dump(facts, f, indent=1)
    return path, facts


def perf_samples(data):
    """Sample count per perf report (sum of -s comm -F sample rows)."""
    text = sh(['perf', 'report', '-i', data, '--stdio', '--no-children', '-g', 'none',
               '-s', 'pid', '-F', 'sample']).stdout
    total = 0
    for line in text.splitlines():
        s = line.split()
        if s and not line.startswith('#') and s[0].isdigit():
            total += int(s[0])
    return total


def folded_stats(text):
    """(samples, {frames-per-stack: samples}) of folded stacks; the first
    element of each stack (the comm) is not a frame."""
    total, depths = 0, {}
    for line in text.splitlines():
        stack, n = line.rsplit(' ', 1)
        n = int(n)
        total += n
        d = stack.count(';')
        depths[d] = depths.get(d, 0) + n
    return total, depths


def which(name):
    return shutil.which(name)
