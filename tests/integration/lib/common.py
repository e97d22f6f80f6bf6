"""Shared helpers for integration tests: recording with perf, running the
tools, parsing perf's reports, skipping when the machine cannot do it."""
import glob
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib
from collections import Counter

TOP = os.environ.get('PYPERF_TOP') or os.path.abspath(os.path.join(os.path.dirname(__file__), '../../..'))
BUILD = os.environ.get('PYPERF_BUILD') or os.path.join(TOP, 'build')
BIN = os.environ.get('PYPERF_BIN') or os.path.join(BUILD, 'out/bin')
HELPERS = os.path.join(BUILD, 'out/tests/helpers')
WORKLOADS = os.environ.get('PYPERF_WORKLOADS') or os.path.join(TOP, 'tests/workloads')
SKIP = 77

sys.path.insert(0, os.path.dirname(__file__))
from fold_perf_script import fold  # noqa: E402


class Skip(Exception):
    pass


failures = []


def check(cond, what):
    """Records a failure without stopping the test."""
    if cond:
        print(f'  ok: {what}')
    else:
        print(f'  FAIL: {what}')
        failures.append(what)
    return cond


def run(cmd, check_rc=True, **kw):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                       errors='replace', **kw)
    if check_rc and p.returncode != 0:
        raise RuntimeError(f'{" ".join(cmd)} exited {p.returncode}:\n{p.stderr[-3000:]}')
    return p


def tmpdir():
    d = tempfile.mkdtemp(prefix='pyperf-test-')
    return d


def require_perf():
    if not shutil.which('perf'):
        raise Skip('perf is not installed')
    d = tmpdir()
    p = run(['perf', 'record', '-q', '-e', 'cpu-clock', '-o', f'{d}/probe.data', '--', 'true'],
            check_rc=False)
    shutil.rmtree(d, ignore_errors=True)
    if p.returncode != 0:
        raise Skip('perf record cannot sample here (perf_event_paranoid? '
                   f'{p.stderr.strip().splitlines()[-1] if p.stderr.strip() else ""})')


def python(version):
    """Path to pythonX.Y from pyenv or the system, or Skip."""
    roots = []
    try:
        roots.append(run(['pyenv', 'root']).stdout.strip())
    except Exception:
        pass
    roots.append(os.path.expanduser('~/.pyenv'))
    for root in roots:
        for exe in sorted(glob.glob(f'{root}/versions/{version}*/bin/python{version}')):
            return exe
    exe = shutil.which(f'python{version}')
    if exe:
        return exe
    raise Skip(f'python{version} is not installed')


def helper(name):
    path = os.path.join(HELPERS, name)
    if not os.path.exists(path):
        raise RuntimeError(f'{path} missing: run make test-bins')
    return path


def workload(name):
    # the repository's own: a test depends on nothing outside it
    p = os.path.join(WORKLOADS, name)
    if os.path.exists(p):
        return p
    raise RuntimeError(f'workload {name} not found in {WORKLOADS}')


def perf_record(out, cmd, args=('-g', '-F', '999'), env=None):
    e = dict(os.environ)
    if env:
        e.update(env)
    run(['perf', 'record', '-q', '-o', out, *args, '--', *cmd], env=e)
    return out


def pyperf_report(*args, check_rc=True):
    return run([os.path.join(BIN, 'pyperf-report'), *args], check_rc=check_rc)


def perf_report(*args):
    return run(['perf', 'report', '--stdio', *args]).stdout


def strip_perf_chrome(text):
    """perf's report without its header hint and trailing tip lines. perf
    mallocs the symbol of its fractal "[...]" line without clearing it
    (ui/stdio/hist.c, init_rem_hits), so its "inlined" bit is whatever the
    heap held: "[...] (inlined)" now and then; the line is "[...]"."""
    text = text.replace('--[...] (inlined)\n', '--[...]\n')
    lines = text.split('\n')
    if lines and lines[0].startswith('# To display the perf.data header'):
        lines = lines[2:]
    while lines and (lines[-1] == '' or lines[-1] == '#' or lines[-1].startswith('# (Tip')):
        lines.pop()
    return '\n'.join(lines)


def strip_ours(text):
    """Our text report as perf would print it: without the header's count
    of cut stacks (perf does not count them), the absolute times of
    --time's ranges (perf prints only the text given) and the trailing
    newlines."""
    lines = text.split('\n')
    while lines and lines[-1] == '':
        lines.pop()
    for head in ('# Cut stacks: ', '# Time: '):
        for i, line in enumerate(lines):
            if line.startswith(head) and i + 1 < len(lines) and lines[i + 1] == '#':
                del lines[i:i + 2]
                break
    return '\n'.join(lines)


ROWS = ['--no-children', '-g', 'none', '--sort', 'comm,dso,sym', '-F', 'sample,comm,dso,sym']


def compare_rows(name, data, args=(), ours_args=None):
    """perf report's per-(comm, dso, sym) sample counts of @data equal
    pyperf-report's, up to perf 6.1's PLT stub names (see below). @args go
    to both (@ours_args, when given, to pyperf-report instead)."""
    theirs = rows(perf_report('-i', data, *ROWS, *args))
    ours = rows(pyperf_report('--view', 'native', '-i', data, *ROWS,
                              *(args if ours_args is None else ours_args)).stdout)
    if theirs != ours:
        paths = dso_paths(data)
        theirs, ours = plt_normalized_rows(theirs, paths), plt_normalized_rows(ours, paths)
        print(f'  note: {name}: rows differ in PLT stub names only if equal below')
    check(set(theirs) == set(ours), f'{name}: same events ({sorted(theirs)} vs {sorted(ours)})')
    for ev in theirs:
        t, o = theirs[ev], ours.get(ev, {})
        diff = {k: (t.get(k, 0), o.get(k, 0)) for k in set(t) | set(o) if t.get(k, 0) != o.get(k, 0)}
        check(not diff and sum(t.values()) > 0,
              f'{name} [{ev}]: {len(t)} rows, {sum(t.values())} samples equal'
              + (f'; differing (perf, ours): {dict(list(diff.items())[:8])}' if diff else ''))


def compare_text(name, data, *args, view='native'):
    """perf report --stdio ARGS and pyperf-report ARGS on @data, line for
    line. Returns True or False, or None when a sample in a PLT stub makes
    the text incomparable with perf 6.1 (see PLT stubs below)."""
    theirs = strip_perf_chrome(perf_report('-i', data, *args))
    # cut stacks as perf shows them (no [truncated] root; see strip_ours)
    ours = strip_ours(pyperf_report('--view', view, '-i', data, '--no-truncated-root', *args).stdout)
    plt_lines = [x for x in set(ours.split('\n')) - set(theirs.split('\n')) if '@plt' in x]
    if theirs != ours and plt_lines:
        # perf 6.1 misnames PLT stubs (see below); the rows and folded
        # stacks are checked up to that; the text cannot be.
        print(f'  note: {name}: {" ".join(args)}: a sample in a PLT stub ({plt_lines[0].strip()}); '
              'text not comparable with perf 6.1')
        return None
    ok = check(theirs == ours, f'{name}: text of report {" ".join(args) or "(default)"} identical '
               f'({len(theirs.splitlines())} lines)')
    if not ok:
        t, o = theirs.split('\n'), ours.split('\n')
        for i, (x, y) in enumerate(zip(t, o)):
            if x != y:
                print(f'    first difference at line {i + 1}:\n    perf: {x!r}\n    ours: {y!r}')
                break
        else:
            print(f'    lengths differ: perf {len(t)} lines, ours {len(o)}')
    return ok


def without_truncated_root(folded):
    """Collapsed output with the [truncated] root frame taken out of cut
    stacks (the frame right after the comm, or comm-pid/tid): what
    --no-truncated-root prints, up to merging equal stacks."""
    c = Counter()
    for line in folded.splitlines():
        stack, n = line.rsplit(' ', 1)
        parts = stack.split(';')
        if len(parts) > 2 and parts[1] == '[truncated]':
            del parts[1]
        c[';'.join(parts)] += int(n)
    return c


def rows(text):
    """Rows of `-F sample,comm,dso,sym` output, per event section:
    {event: Counter((comm, dso, sym) -> samples)}. Columns are sliced by
    the widths of the dotted header line, so names with spaces survive."""
    out = {}
    event = None
    widths = None
    for line in text.split('\n'):
        m = re.match(r"# Samples: \S+\s+of event '(.*)'", line)
        if m:
            event = m.group(1)
            out.setdefault(event, Counter())
            widths = None
            continue
        if line.startswith('# .'):
            widths = [len(x) for x in line[2:].split('  ')]
            continue
        if not line.strip() or line.startswith('#') or widths is None or line.startswith(' ' * 12 + '|'):
            continue
        pos, cols = 2, []
        for i, w in enumerate(widths):
            cols.append(line[pos:pos + w] if i < len(widths) - 1 else line[pos:])
            pos += w + 2
        count = int(cols[0])
        key = tuple(c.strip() for c in cols[1:])
        out[event][key] += count
    return out


def fold_script(data, *flags, fields=None, samples=True):
    """`perf script | stackcollapse-perf.pl`, modelled. samples=True counts
    1 per sample (pyperf-report --collapsed's default weight); False weighs
    the printed period, as the script itself does since 2021."""
    cmd = ['perf', 'script', '-i', data]
    if fields:
        cmd += ['-F', fields]
    text = run(cmd).stdout
    lines = text.split('\n')
    if lines and lines[-1] == '':
        lines.pop()
    stacks = fold(lines, samples=samples, **{f: True for f in flags})
    return ''.join(f'{k} {stacks[k]}\n' for k in sorted(stacks, key=lambda s: s.encode()))


def main(test):
    """Runs test(); exits 0, 1 (failures) or 77 (skipped)."""
    try:
        test()
    except Skip as e:
        print(f'skipped: {e}')
        sys.exit(SKIP)
    if failures:
        print(f'{len(failures)} check(s) failed:')
        for f in failures:
            print(f'  - {f}')
        sys.exit(1)
    sys.exit(0)


# ---- PLT stubs ---------------------------------------------------------------
# perf 6.1 names PLT stubs wrongly (it assigns names to .plt slots in
# relocation order and never covers .plt.sec, so calls through IBT PLTs stay
# unresolved); pyperf follows the corrected logic of later perf versions. A
# difference is accepted only where both sides are provably the same PLT
# stub: our "name@plt" against perf's "@plt" names or unresolved addresses
# that lie inside .plt, .plt.sec or .plt.got of that file. The PLT's own
# header (PLT0, the lazy binder's entry) is ".plt" for us; perf 6.1 sizes
# the zero-sized _init just before it to reach the first stub and names
# it "_init": both stand for the same bytes (and _init's own code runs
# once, at load).

def dso_paths(data):
    """short name -> path for the files mapped in a recording."""
    out = {}
    text = run(['perf', 'script', '--show-mmap-events', '-F', 'comm', '-i', data]).stdout
    for line in text.split('\n'):
        m = re.search(r'PERF_RECORD_MMAP2? .*\]: \S+ (/\S+)$', line)
        if m:
            out.setdefault(os.path.basename(m.group(1)), m.group(1))
    return out


_plt_cache = {}


def plt_ranges(path):
    if path not in _plt_cache:
        ranges = []
        p = run(['readelf', '-SW', path], check_rc=False)
        for line in p.stdout.split('\n'):
            m = re.search(r'\]\s+(\.plt(?:\.sec|\.got)?)\s+\S+\s+[0-9a-f]+\s+([0-9a-f]+)\s+([0-9a-f]+)', line)
            if m:
                ranges.append((int(m.group(2), 16), int(m.group(2), 16) + int(m.group(3), 16)))
        _plt_cache[path] = ranges
    return _plt_cache[path]


def in_plt(paths, dso, addr):
    path = paths.get(dso)
    return bool(path) and any(a <= addr < b for a, b in plt_ranges(path))


def plt_normalized_rows(table, paths):
    out = {}
    for ev, counter in table.items():
        c = Counter()
        for (comm, dso, sym), n in counter.items():
            m = re.match(r'\[.\] (0x[0-9a-f]+|0+)$', sym)
            if sym.endswith('@plt') or sym in ('[.] .plt', '[.] _init') or \
                    (m and in_plt(paths, dso, int(m.group(1), 16))):
                sym = '<plt>'
            c[(comm, dso, sym)] += n
        out[ev] = c
    return out


def plt_normalized_folded(text, paths):
    """For folded stacks made with --addrs on both sides."""
    def norm(frame):
        if frame.endswith('@plt') or frame in ('.plt', '_init'):
            return '<plt>'
        m = re.match(r'\[(\S+) <([0-9a-f]+)>\]$', frame)
        if m and in_plt(paths, m.group(1), int(m.group(2), 16)):
            return '<plt>'
        return frame
    c = Counter()
    for line in text.splitlines():
        stack, n = line.rsplit(' ', 1)
        c[';'.join(norm(f) for f in stack.split(';'))] += int(n)
    return c


# ---- browsers and other consumers -------------------------------------------

def go_pprof(*args):
    go = shutil.which('go')
    if not go:
        raise Skip('go is not installed (mk/deps.sh test installs golang-go)')
    env = dict(os.environ, GOCACHE=os.path.join(BUILD, 'go-cache'), GOFLAGS='-mod=mod',
               GOTOOLCHAIN='local', HOME=os.environ.get('HOME', BUILD))
    p = subprocess.run([go, 'tool', 'pprof', '-symbolize=none', *args], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, env=env, timeout=120)
    if p.returncode:
        raise RuntimeError(f'go tool pprof {" ".join(args)}: {p.stderr[-1000:]}')
    return p.stdout


def pprof_top(path, index='samples'):
    """{function: (flat, cum)} and the total from -top."""
    out = go_pprof('-top', '-nodecount=100000', '-nodefraction=0', '-edgefraction=0',
                   f'-sample_index={index}', path)
    m = re.search(r'of ([0-9.]+)(\w*) total', out)
    scale = {'': 1, 'ns': 1, 'us': 1e3, 'ms': 1e6, 's': 1e9, 'mins': 6e10, 'hrs': 3.6e12}
    entries = {}
    for line in out.splitlines():
        m2 = re.match(r'\s*([0-9.]+)(\w*)\s+[0-9.]+%\s+[0-9.]+%\s+([0-9.]+)(\w*)\s+[0-9.]+%\s+(.*)$', line)
        if m2:
            entries[m2.group(5)] = (float(m2.group(1)), float(m2.group(3)))
    return entries, float(m.group(1)) * scale.get(m.group(2), 1) if m else None, out


def chromium_path():
    for name in ('chromium', 'chromium-browser', 'google-chrome'):
        path = shutil.which(name)
        if path:
            return path
    raise Skip('chromium is not installed (mk/deps.sh test installs it)')


def chromium(url, *args, timeout=90):
    """Headless Chromium on @url; returns the CompletedProcess (stdout: the
    DOM with --dump-dom). Its profile lives in a temporary folder."""
    profile = tempfile.mkdtemp(prefix='pyperf-chromium-')
    try:
        return subprocess.run([chromium_path(), '--headless', '--no-sandbox', '--disable-gpu',
                               '--no-first-run', '--disable-extensions', '--mute-audio',
                               f'--user-data-dir={profile}', *args, url],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              errors='replace', timeout=timeout)
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def artifacts():
    """build/test-artifacts/, for screenshots worth keeping."""
    d = os.path.join(BUILD, 'test-artifacts')
    os.makedirs(d, exist_ok=True)
    return d


def read_png(path, max_rows=None):
    """(width, height, rows): an 8-bit RGB or RGBA PNG (as Chromium's
    screenshots are) decoded, each row a list of (r, g, b); the first
    @max_rows rows only when given (decoding is slow in Python)."""
    data = open(path, 'rb').read()
    if data[:8] != b'\x89PNG\r\n\x1a\n':
        raise ValueError(f'{path}: not a PNG file')
    pos, idat, hdr = 8, [], None
    while pos < len(data):
        n, kind = struct.unpack('>I4s', data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b'IHDR':
            hdr = struct.unpack('>IIBBBBB', body)
        elif kind == b'IDAT':
            idat.append(body)
        pos += 12 + n
    w, h, depth, ctype, _, _, interlace = hdr
    if depth != 8 or ctype not in (2, 6) or interlace:
        raise ValueError(f'{path}: PNG of depth {depth}, colour type {ctype}: only 8-bit RGB(A) is read')
    bpp = 3 if ctype == 2 else 4
    raw, stride, prev, rows, at = zlib.decompress(b''.join(idat)), w * bpp, bytearray(w * bpp), [], 0
    for _ in range(h if max_rows is None else min(h, max_rows)):
        f, line = raw[at], bytearray(raw[at + 1:at + 1 + stride])
        at += 1 + stride
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append([tuple(line[i:i + 3]) for i in range(0, stride, bpp)])
        prev = line
    return w, h, rows


def colour_runs(row, min_len=4):
    """The row's runs of its two commonest colours (white-ish background,
    gaps and label text left out): [(colour, length in pixels)]."""
    pale = lambda p: min(p) > 240
    count = {}
    for p in row:
        if not pale(p):
            count[p] = count.get(p, 0) + 1
    top = sorted(count, key=count.get, reverse=True)[:2]
    if len(top) < 2 or count[top[1]] < 0.1 * len(row):
        return []
    runs, cur = [], None
    for p in row:
        k = p if p in top else cur  # label text and edges belong to the run they are in
        if pale(p):
            k = None
        if runs and runs[-1][0] == k:
            runs[-1][1] += 1
        else:
            runs.append([k, 1])
        cur = k if k is not None else cur
    runs = [r for r in runs if r[0] is not None and r[1] >= min_len]
    merged = []
    for k, n in runs:
        if merged and merged[-1][0] == k:
            merged[-1][1] += n
        else:
            merged.append([k, n])
    return [tuple(r) for r in merged]


def validate_json(path, schema_path):
    """(ok, why): the JSON file at @path against the JSON Schema at
    @schema_path, with python3-jsonschema (Debian's python when the
    running one lacks the module)."""
    try:
        import jsonschema
    except ImportError:
        p = subprocess.run(['/usr/bin/python3', '-c',
                            'import json, sys, jsonschema; '
                            'jsonschema.validate(json.load(open(sys.argv[1])), json.load(open(sys.argv[2])))',
                            path, schema_path], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if 'No module named' in p.stdout:
            raise Skip('python3-jsonschema is not installed (mk/deps.sh test installs it)')
        return p.returncode == 0, p.stdout[-300:]
    import json
    try:
        jsonschema.validate(json.load(open(path)), json.load(open(schema_path)))
        return True, ''
    except jsonschema.ValidationError as e:
        return False, str(e)[:300]
