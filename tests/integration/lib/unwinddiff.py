"""Per-sample comparison of pyperf's stacks with perf script's.

For every sample of a recording (made for DWARF unwinding by perf record
--call-graph dwarf, or any other), the frames pyperf-report counts
(tests/tools/stackdump) against the frames `perf script` prints, matched by
thread and time. Each sample is one of:

  equal      the same frames
  longer     pyperf's stack goes on where perf's ends (perf stopped early)
  deliberate they differ in a way listed in DELIBERATE below, each with why
  shorter    pyperf's stack ends where perf's goes on
  different  they part at some frame

`shorter` and `different` samples are printed with their time, pid/tid and
the frame where the two part; they make the exit status 1.

  tests/unwind-diff [--max-stack N] [--show N] [--json FILE] perf.data
  tests/unwind-diff --online FILE     (FILE from pyperf-record --check-unwind)

With --online, no perf: the stacks pyperf-record unwound while recording
against the same samples' stack copies unwound again offline.
"""
import argparse
import json
import os
import re
import subprocess
import sys
from collections import Counter, defaultdict

TOP = os.environ.get('PYPERF_TOP') or os.path.abspath(os.path.join(os.path.dirname(__file__), '../../..'))
BUILD = os.environ.get('PYPERF_BUILD') or os.path.join(TOP, 'build')

# Where a thread starts: a stack that ends in one of these is whole.
ENTRIES = {'_start', '__libc_start_call_main', '__libc_start_main', 'clone', 'clone3',
           '__clone', '__clone3', '_dl_start_user'}

# Differences that are not pyperf's unwinder falling short, each with why.
DELIBERATE = {
    'plt': "PLT stubs. perf 6.1 names the PLT header (PLT0, the lazy binder's entry) "
           "'_init', stretching the zero-sized _init of the file up to the first stub, where "
           "pyperf says '.plt'; it leaves .plt.got stubs unnamed ([unknown]), and names the "
           "slots of IRELATIVE relocations (ifuncs, e.g. libc's memset) after the wrong "
           "symbol or none ('@plt'). pyperf names each stub after the symbol its GOT slot "
           "is relocated with. Two frames in the PLT of the same object compare equal.",
    'jit': "perf cannot unwind through code that has no CFI: CPython's perf trampolines "
           "(py:: entries of /tmp/perf-PID.map, 3.12+) and other JIT code. Its stack ends "
           "there or goes on with garbage read from the stack, while pyperf steps over "
           "the trampoline with its known frame layout. Frames after the first JIT frame "
           "are not compared.",
    'garbage-tail': "perf script's stack goes on past pyperf's with addresses outside every "
                    "mapping only: perf reads memory outside the stack copy from the mapped "
                    "files, or follows frame pointers where there is no CFI, and prints what "
                    "it finds there. pyperf stops where the stack copy or the CFI ends and "
                    "marks the stack cut (stack-copy, no-cfi).",
    'perf-astray': "the two part, and from there pyperf's stack reaches the thread's entry "
                   "while perf script's ends elsewhere: perf went astray, typically by "
                   "libdw's frame-pointer fallback in code without CFI (e.g. a library's "
                   ".fini called at exit), which in code built without frame pointers "
                   "reads a stale frame. pyperf steps over such code only by a return "
                   "address it can check (in code with CFI, after a call instruction).",
    'unknown-name': "an address outside every symbol: perf prints it as [unknown] in "
                    "its object, and so does pyperf, but their printed addresses differ "
                    "in base (perf's callchain address, pyperf's object-relative one); "
                    "such frames compare by object alone.",
}


def _plt(name):
    return name in ('_init', '.plt', '[unknown]') or name.endswith('@plt')


def _is_jit(dso):
    return dso.startswith('/tmp/perf-') or '/jitted-' in dso or dso in ('//anon', '[JIT]')


def parse_perf_script(text):
    """(tid, time ns) -> list of stacks [(name, dso), ...], leaf first."""
    out = defaultdict(list)
    cur = None
    for line in text.split('\n'):
        if not line.strip():
            cur = None
            continue
        if line[0] not in ' \t' or cur is None:
            m = re.match(r'\s*(\d+)/(\d+)\s+(\d+)\.(\d+):', line)
            if m:
                cur = []
                out[(int(m.group(2)), int(m.group(3)) * 10**9 + int(m.group(4).ljust(9, '0')))].append(
                    {'pid': int(m.group(1)), 'frames': cur})
                continue
        m = re.match(r'\s*(\S+) (.*) \((.*)\)$', line)
        if m and cur is not None:
            cur.append((m.group(2), m.group(3)))
    return out


def parse_stackdump(text):
    out = defaultdict(list)
    cur = None
    for line in text.split('\n'):
        if not line.strip():
            cur = None
            continue
        if line[0] != '\t':
            pt, t, cut = line.split()
            pid, tid = pt.split('/')
            cur = []
            out[(int(tid), int(t))].append({'pid': int(pid), 'frames': cur, 'cut': cut})
            continue
        m = re.match(r'\t(\S+) (.*) \((.*)\)$', line)
        cur.append((m.group(2), m.group(3)))
    return out


def same(a, b):
    """Whether two frames are the same, and by which deliberate rule."""
    if a == b:
        return True, None
    (na, da), (nb, db) = a, b
    if os.path.basename(da) != os.path.basename(db):
        return False, None
    if na == '[unknown]' and nb == '[unknown]':
        return True, 'unknown-name'
    if _plt(na) and _plt(nb) and (na != '[unknown]' or nb.endswith('@plt')):
        return True, 'plt'
    return False, None


def compare(perf, ours):
    """One sample: (verdict, index where they part, rule)."""
    rule = None
    for i in range(min(len(perf), len(ours))):
        ok, why = same(perf[i], ours[i])
        if not ok:
            if any(_is_jit(d) for _, d in perf[:i + 1]):
                return 'deliberate', i, 'jit'
            if whole(ours) and not whole(perf):
                return 'deliberate', i, 'perf-astray'
            return 'different', i, None
        if why:
            rule = why
    if len(ours) < len(perf):
        if any(_is_jit(d) for _, d in perf[:len(ours)]):
            return 'deliberate', len(ours), 'jit'
        if all(f == ('[unknown]', '[unknown]') for f in perf[len(ours):]):
            return 'deliberate', len(ours), 'garbage-tail'
        return 'shorter', len(ours), None
    if len(ours) > len(perf):
        return 'longer', len(perf), rule
    return ('deliberate' if rule else 'equal'), None, rule


def whole(frames):
    return bool(frames) and frames[-1][0] in ENTRIES


def stackdump_path():
    return os.environ.get('PYPERF_STACKDUMP') or os.path.join(BUILD, 'out/tests/tools/stackdump')


def diff(data, max_stack=1024, show=20, out=sys.stdout, stackdump=None):
    """Compares; prints a summary and the first @show bad samples; returns a dict."""
    p = subprocess.run(['perf', 'script', '-i', data, '-F', 'pid,tid,time,ip,sym,dso', '--no-inline',
                        '--ns', '--max-stack', str(max_stack)],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, errors='replace')
    if p.returncode:
        raise RuntimeError(f'perf script failed: {p.stderr[-2000:]}')
    theirs = parse_perf_script(p.stdout)
    q = subprocess.run([stackdump or stackdump_path(), '--max-stack', str(max_stack), data],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, errors='replace')
    if q.returncode:
        raise RuntimeError(f'stackdump failed: {q.stderr[-2000:]}')
    mine = parse_stackdump(q.stdout)

    verdicts = Counter()
    rules = Counter()
    cuts = Counter()
    bad = []
    res = {'samples': 0, 'unmatched_perf': 0, 'unmatched_ours': 0, 'perf_whole': 0, 'ours_whole': 0,
           'ours_marked': 0}
    for key, plist in theirs.items():
        olist = mine.get(key, [])
        for i, ps in enumerate(plist):
            if i >= len(olist):
                res['unmatched_perf'] += 1
                continue
            os_ = olist[i]
            res['samples'] += 1
            frames = os_['frames']
            if os_['cut'] != '-':
                cuts[os_['cut']] += 1
                res['ours_marked'] += 1
                if frames and frames[-1][0] == '[truncated]':
                    frames = frames[:-1]
            res['perf_whole'] += whole(ps['frames'])
            res['ours_whole'] += whole(frames)
            v, at, rule = compare(ps['frames'], frames)
            verdicts[v] += 1
            if rule:
                rules[rule] += 1
            if v in ('shorter', 'different'):
                bad.append((key, ps, frames, v, at, os_['cut']))
    for key, olist in mine.items():
        res['unmatched_ours'] += max(0, len(olist) - len(theirs.get(key, [])))
    res.update(verdicts=dict(verdicts), rules=dict(rules), cuts=dict(cuts), bad=len(bad))
    n = res['samples'] or 1
    print(f'{data}: {res["samples"]} samples compared ({res["unmatched_perf"]} only in perf script, '
          f'{res["unmatched_ours"]} only in pyperf)', file=out)
    print(f'  whole stacks (ending in {"/".join(sorted(ENTRIES))}): perf script '
          f'{res["perf_whole"]} ({100 * res["perf_whole"] / n:.2f}%), pyperf {res["ours_whole"]} '
          f'({100 * res["ours_whole"] / n:.2f}%); pyperf marked {res["ours_marked"]} cut '
          f'{dict(cuts) if cuts else ""}', file=out)
    print('  ' + ', '.join(f'{k} {verdicts[k]}' for k in
                          ('equal', 'longer', 'deliberate', 'shorter', 'different')), file=out)
    for r, c in sorted(rules.items()):
        print(f'  deliberate difference "{r}" in {c} samples: {DELIBERATE[r]}', file=out)
    for (tid, t), ps, frames, v, at, cut in bad[:show]:
        pf = ps['frames']
        print(f'  {v}: time {t // 10**9}.{t % 10**9:09d} pid/tid {ps["pid"]}/{tid}, '
              f'pyperf cut {cut}: they part at frame {at}: perf '
              f'{pf[at] if at < len(pf) else "(end)"} vs pyperf {frames[at] if at < len(frames) else "(end)"}'
              f'; perf has {len(pf)} frames, pyperf {len(frames)}', file=out)
        for j in range(max(0, at - 2), min(max(len(pf), len(frames)), at + 3)):
            a = f'{pf[j][0]} ({os.path.basename(pf[j][1])})' if j < len(pf) else ''
            b = f'{frames[j][0]} ({os.path.basename(frames[j][1])})' if j < len(frames) else ''
            print(f'      #{j:<3} {a:<60} | {b}', file=out)
    if len(bad) > show:
        print(f'  ... {len(bad) - show} more', file=out)
    return res


def online_offline(data, max_stack=1024, show=20, out=sys.stdout, stackdump=None):
    """A pyperf-record --check-unwind file: the chains the recorder unwound
    while recording against its stack copies unwound again offline, sample
    by sample (frames and cut cause). Returns a dict of counts."""
    def dump(*args):
        q = subprocess.run([stackdump or stackdump_path(), '--max-stack', str(max_stack), *args, data],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, errors='replace')
        if q.returncode:
            raise RuntimeError(f'stackdump failed: {q.stderr[-2000:]}')
        return parse_stackdump(q.stdout)
    online, offline = dump('--no-unwind'), dump()
    res = {'samples': 0, 'differ': 0, 'cuts': Counter(), 'whole': 0}
    shown = 0
    for key, olist in online.items():
        for i, on in enumerate(olist):
            off = offline.get(key, [])[i] if i < len(offline.get(key, [])) else None
            res['samples'] += 1
            res['cuts'][on['cut']] += 1
            res['whole'] += on['cut'] == '-'
            if off is None or off['frames'] != on['frames'] or off['cut'] != on['cut']:
                res['differ'] += 1
                if shown < show:
                    shown += 1
                    tid, t = key
                    print(f'  online != offline: time {t // 10**9}.{t % 10**9:09d} tid {tid}: online '
                          f'{len(on["frames"])} frames (cut {on["cut"]}), offline '
                          f'{len(off["frames"]) if off else "-"} (cut {off["cut"] if off else "-"})', file=out)
    res['cuts'] = dict(res['cuts'])
    print(f'{data}: {res["samples"]} samples, online and offline unwinding differ in {res["differ"]}; '
          f'cut: {res["cuts"]}', file=out)
    return res


def main(argv=None):
    ap = argparse.ArgumentParser(description='Compare pyperf\'s stacks with perf script\'s, sample by sample.')
    ap.add_argument('data')
    ap.add_argument('--max-stack', type=int, default=1024)
    ap.add_argument('--show', type=int, default=20, help='bad samples printed')
    ap.add_argument('--json', help='write the counts there')
    ap.add_argument('--stackdump', help='the stackdump program (default: the build\'s)')
    ap.add_argument('--online', action='store_true',
                    help='a pyperf-record --check-unwind file: compare the stacks unwound while '
                         'recording with its copies unwound offline (no perf involved)')
    a = ap.parse_args(argv)
    try:
        if a.online:
            res = online_offline(a.data, a.max_stack, a.show, stackdump=a.stackdump)
        else:
            res = diff(a.data, a.max_stack, a.show, stackdump=a.stackdump)
    except (RuntimeError, OSError) as e:
        print(f'unwind-diff: {e}', file=sys.stderr)
        return 2
    if a.json:
        with open(a.json, 'w') as f:
            json.dump(res, f, indent=1)
    return 1 if res.get('bad') or res.get('differ') else 0


if __name__ == '__main__':
    sys.exit(main())
