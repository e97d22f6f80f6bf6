#!/usr/bin/env python3
"""--baseline: differential profiles. perf diff is the oracle for the
native view's text (per-symbol Baseline and Delta Abs, their order); the
known-answer workload (slower.py: changing() made twice as slow, steady()
the same) run twice shows changing() grown by the known amount and
steady() unchanged in the text, collapsed (difffolded.pl's format) and SVG
outputs, in the python view, whose frames are matched by function and
file across two processes whose code lies at other addresses; the SVG
works in headless Chromium."""
import os
import re
from lib.common import (BIN, artifacts, check, chromium, main, perf_record, pyperf_report, require_perf, run, tmpdir,
                        workload)

UNITS = '6000000'
ROW = re.compile(r'^  ( *[0-9.]+%| {8})  ( *[-+][0-9.]+%| {9})  (.*?) +(\[[.k]\] .*)$')


def rows(text):
    out = {}
    for line in text.split('\n'):
        m = ROW.match(line)
        if m:
            out[(m.group(3).strip(), m.group(4))] = (m.group(1).strip(), m.group(2).strip())
    return out


def perf_oracle(d):
    a = perf_record(f'{d}/a.data', ['/usr/bin/python3', workload('slower.py'), '1', UNITS])
    b = perf_record(f'{d}/b.data', ['/usr/bin/python3', workload('slower.py'), '2', UNITS])
    theirs = run(['perf', 'diff', a, b]).stdout
    ours = pyperf_report('--baseline', a, '-i', b, '--view', 'native').stdout
    t, o = rows(theirs), rows(ours)
    plt = {k for k in set(t) | set(o) if '@plt' in k[1]}
    same = {k: v for k, v in t.items() if k not in plt} == {k: v for k, v in o.items() if k not in plt}
    check(same and len(t) > 10, f'perf diff: {len(o)} entries, Baseline and Delta Abs of every symbol equal perf '
                                f'diff\'s ({len(t)}; {len(plt)} PLT stub entries perf 6.1 names otherwise)')
    if not same:
        print('    only perf:', sorted(set(t.items()) - set(o.items()))[:4])
        print('    only ours:', sorted(set(o.items()) - set(t.items()))[:4])
    if not plt:
        check(theirs.rstrip('\n') == ours.rstrip('\n'), f'text identical to perf diff ({len(ours.splitlines())} lines)')
    # two events in each file: a section per event, as perf diff prints them
    ev = ('-e', 'cpu-clock,page-faults', '-g')
    a2 = perf_record(f'{d}/a2.data', ['/usr/bin/python3', '-c', 'x = [0] * 3000000'], args=ev)
    b2 = perf_record(f'{d}/b2.data', ['/usr/bin/python3', '-c', 'x = [0] * 6000000'], args=ev)
    t2, o2 = run(['perf', 'diff', a2, b2]).stdout, pyperf_report('--baseline', a2, '-i', b2).stdout
    if '@plt' not in t2 + o2:
        check(t2.rstrip('\n') == o2.rstrip('\n') and o2.count('# Event ') == 2,
              f'two events: text identical to perf diff ({len(o2.splitlines())} lines)')
    else:
        secs = lambda text: {sec.split("'")[0]: {k: v for k, v in rows(sec).items() if '@plt' not in k[1]}
                             for sec in text.split("# Event '")[1:]}
        check(secs(t2) == secs(o2) and len(secs(o2)) == 2,
              f'two events: per event, every symbol\'s figures equal perf diff\'s (PLT stubs aside)')
    deltas = [abs(float(v[1].rstrip('%'))) for v in (o[k] for k in [
        (m.group(3).strip(), m.group(4)) for m in map(ROW.match, ours.split('\n')) if m]) if v[1]]
    check(deltas == sorted(deltas, reverse=True), 'sorted by the largest change')


def test():
    require_perf()
    d = tmpdir()
    perf_oracle(d)

    # the known answer, python view, pyperf-record (frames from perf maps
    # whose addresses differ from run to run)
    rec = os.path.join(BIN, 'pyperf-record')
    a, b = f'{d}/pa.data', f'{d}/pb.data'
    truth = {}
    for path, factor in ((a, '1'), (b, '2')):
        p = run([rec, '-g', '-o', path, '--', '/usr/bin/python3', workload('slower.py'), factor, UNITS])
        truth[factor] = dict(re.findall(r'(\w+_cpu)=([\d.]+)', p.stderr))
    print(f'  note: CPU seconds by the programs\' own clocks: {truth}')
    text = pyperf_report('--baseline', a, '-i', b, '--view', 'python', '--diff-absolute').stdout
    counts = {}
    for line in text.split('\n'):
        m = re.match(r'^ +(\d+) +(\d+) +([-+]\d+)  .*\[\.\] (\w+) \(slower\.py\)$', line)
        if m:
            counts[m.group(4)] = (int(m.group(1)), int(m.group(2)))
    ch, st = counts.get('changing', (0, 0)), counts.get('steady', (0, 0))

    # On a shared, loaded machine the same loop takes more or less CPU from
    # run to run: the known answer is what each program measured of its own
    # CPU time (twice the iterations for changing(), the same for steady()),
    # which the samples must follow.
    def follows(name, got):
        want = float(truth['2'][name + '_cpu']) / float(truth['1'][name + '_cpu'])
        ratio = got[1] / max(got[0], 1)
        return got[0] > 100 and abs(ratio / want - 1) < 0.15, f'{got[0]} -> {got[1]} samples (x{ratio:.2f}; ' \
            f'its CPU time x{want:.2f})'
    ok, what = follows('changing', ch)
    check(ok, f'text: changing() {what}')
    ok, what = follows('steady', st)
    check(ok, f'text: steady() {what}')
    shares = rows(pyperf_report('--baseline', a, '-i', b, '--view', 'python').stdout)
    cs = [v for k, v in shares.items() if k[1] == '[.] changing (slower.py)']
    ss = [v for k, v in shares.items() if k[1] == '[.] steady (slower.py)']
    # shares of each total: changing 1/2 -> 2/3, steady 1/2 -> 1/3 (of the
    # two; the rest of the program takes a little)
    # the change of share the programs' own CPU clocks give (about +-16.7
    # points when the machine runs both at one speed)
    c1, s1 = float(truth['1']['changing_cpu']), float(truth['1']['steady_cpu'])
    c2, s2 = float(truth['2']['changing_cpu']), float(truth['2']['steady_cpu'])
    want_c = 100 * (c2 / (c2 + s2) - c1 / (c1 + s1))
    check(cs and abs(float(cs[0][1].rstrip('%')) - want_c) < 4,
          f'text shares: changing() {cs}, its clock says {want_c:+.2f} points')
    check(ss and abs(float(ss[0][1].rstrip('%')) + want_c) < 4,
          f'text shares: steady() {ss}, its clock says {-want_c:+.2f} points')

    # collapsed: both counts per stack
    folded = pyperf_report('--baseline', a, '-i', b, '--view', 'python', '--collapsed', '--diff-absolute').stdout
    per = {}
    for line in folded.splitlines():
        stack, x, y = line.rsplit(' ', 2)
        leaf = stack.split(';')[-1]
        per.setdefault(leaf, [0, 0])
        per[leaf][0] += int(x)
        per[leaf][1] += int(y)
    c, s = per.get('changing (slower.py)', [0, 0]), per.get('steady (slower.py)', [0, 0])
    check(c == list(ch) and s == list(st), f'collapsed: changing {c}, steady {s}: the text\'s counts')
    norm = pyperf_report('--baseline', a, '-i', b, '--view', 'python', '--collapsed').stdout
    tot = [sum(int(ln.rsplit(' ', 2)[i]) for ln in norm.splitlines()) for i in (1, 2)]
    check(abs(tot[0] - tot[1]) <= len(norm.splitlines()), f'collapsed: the baseline scaled to the new total {tot}')
    check(all(re.match(r'^\S.* \d+ \d+$', ln) for ln in folded.splitlines()), 'every line is "STACK BASE NEW"')

    # the differential SVG: widths from the new profile, colour from the change
    svg = f'{d}/diff.svg'
    pyperf_report('--baseline', a, '-i', b, '--view', 'python', '--format', 'svg', '--diff-absolute', '-o', svg)
    body = open(svg).read()
    frames = {m.group(2): (float(m.group(1)), m.group(3)) for m in re.finditer(
        r'<g class="[a-z]+(?: new)?" data-d="([-0-9.]+)"><title>([^<]*?) \(\d+ [^<]*</title><rect [^>]*fill="([^"]+)"',
        body)}
    fc, fs = frames.get('changing (slower.py)'), frames.get('steady (slower.py)')
    check(fc and fc[1].startswith('rgb(255,') and abs(fc[0] - (ch[1] - ch[0])) < 0.5,
          f'svg: changing() red, its self change {fc} = {ch[1] - ch[0]}')
    check(fs and abs(fs[0] - (st[1] - st[0])) < 0.5, f'svg: steady()\'s change {fs} = {st[1] - st[0]}')
    reds = sorted(((v[0], k) for k, v in frames.items()), reverse=True)
    check(reds and reds[0][1] == 'changing (slower.py)', f'svg: the largest growth is changing() ({reds[:2]})')
    m = re.search(r'<title>changing \(slower\.py\) \([^<]*baseline (\d+), [^<]*</title>', body)
    check(m and int(m.group(1)) == ch[0], 'svg: hover text with both figures')
    url = 'file://' + svg
    p = chromium(url + '?d=0.5', '--dump-dom', '--virtual-time-budget=5000')
    marked = re.findall(r'<g class="[a-z]+(?: new)? match" data-d="([-0-9.]+)"><title>([^<]*?) \(\d+ ', p.stdout)
    top = max(abs(v[0]) for v in frames.values())
    want = sorted(k for k, v in frames.items() if abs(v[0]) >= 0.5 * top)
    check('data-ready="1"' in p.stdout and sorted(k for _, k in marked) == want and 'changing (slower.py)' in want,
          f'Chromium: ?d=0.5 highlights the frames that changed most: {want}')
    shot = os.path.join(artifacts(), 'diff-flamegraph.png')
    if os.path.exists(shot):
        os.unlink(shot)
    chromium(url, f'--screenshot={shot}', '--window-size=1200,600', '--virtual-time-budget=5000')
    check(os.path.exists(shot) and os.path.getsize(shot) > 5000, f'screenshot {shot}')

    # refusals
    p = pyperf_report('--baseline', a, '-i', b, '--format', 'json', check_rc=False)
    check(p.returncode == 1 and '--baseline' in p.stderr, f'--format json with --baseline refused: {p.stderr.strip()}')


if __name__ == '__main__':
    main(test)
