#!/usr/bin/env python3
"""Time in the SVG and speedscope outputs, on a workload of two phases
whose order and durations it measures itself (phases.py, on perf's
clock): the SVG's timeline shows samples where the phases ran, and in
headless Chromium ?t=START,STOP redraws the flame graph with only the
phase of that range; the time-ordered speedscope file has the first
phase's samples before the second's, in the durations' ratio, and the
speedscope app imports it and draws the phases in order in its Time Order
view, each as wide as it weighs (read from its screenshot)."""
import json
import os
import re
import shutil
from lib.common import BIN, artifacts, check, chromium, colour_runs, main, pyperf_report, read_png, run, tmpdir, workload

FIRST, SECOND = 0.4, 0.8


def frame_geometry(dom, name):
    """(x, width, hidden) of the frame named @name in a dumped DOM."""
    m = re.search(r'<g class="([a-z ]+)"><title>' + re.escape(name) + r' \((\d+) [^<]*</title><rect x="([0-9.]+)" '
                  r'y="[0-9.]+" width="([0-9.]+)"', dom)
    if not m:
        return None
    return float(m.group(3)), float(m.group(4)), 'hide' in m.group(1).split(), int(m.group(2))


def test():
    d = tmpdir()
    data = f'{d}/phases.data'
    # first, second, first, second: an order the aggregate cannot show
    p = run([os.path.join(BIN, 'pyperf-record'), '-g', '-o', data, '--', '/usr/bin/python3', workload('phases.py'),
             str(FIRST), str(SECOND), '2'])
    marks = [float(x) for x in re.search(r'boundaries=([\d.,]+)', p.stderr).group(1).split(',')]
    s0, s1, s2 = marks[:3]

    # --- the SVG's timeline
    svg = f'{d}/phases.svg'
    pyperf_report('-i', data, '--view', 'python', '--format', 'svg', '-o', svg)
    body = open(svg).read()
    tl = re.search(r'<g id="timeline" data-t0="(\d+)" data-t1="(\d+)" data-buckets="(\d+)"', body)
    check(tl, 'the SVG has a timeline')
    t0, t1, nb = int(tl.group(1)) / 1e9, int(tl.group(2)) / 1e9, int(tl.group(3))
    cells = [int(v) for v in re.findall(r'<rect class="cell" [^>]*data-v="(\d+)"', body)][:nb]
    col = lambda t: min(nb - 1, max(0, int((t - t0) / (t1 - t0) * nb)))
    busy = [cells[i] > 0 for i in range(col(marks[0]) + 1, col(marks[-1]) - 1)]
    # a column is ~25 ms: on a loaded machine the program may get no CPU for
    # that long, so a few empty ones say nothing about the timeline
    check(busy and sum(busy) >= 0.95 * len(busy),
          f'the strip has samples in >= 95% of the columns from the first phase\'s start to the second\'s '
          f'end ({sum(busy)} of {len(busy)})')
    check(abs((t1 - t0) - (marks[-1] - marks[0])) < 0.5,
          f'its span {t1 - t0:.2f} s covers the program\'s {marks[-1] - marks[0]:.2f} s')
    full = frame_geometry(body, 'all')
    url = 'file://' + svg
    fp, sp = 'first_phase (phases.py)', 'second_phase (phases.py)'
    for lo, hi, want, other in ((marks[0], marks[1], fp, sp), (marks[1], marks[2], sp, fp),
                                (marks[2], marks[3], fp, sp)):
        a, b = lo - t0 + 0.03, hi - t0 - 0.03
        dom = chromium(f'{url}?t={a:.3f},{b:.3f}', '--dump-dom', '--virtual-time-budget=5000').stdout
        g_want, g_other = frame_geometry(dom, want), frame_geometry(dom, other)
        rng = re.search(r'data-range="([0-9.]+),([0-9.]+)"', dom)
        check(rng and abs(float(rng.group(1)) - a) < 0.05 and abs(float(rng.group(2)) - b) < 0.05,
              f'?t={a:.2f},{b:.2f}: Chromium selected {rng.groups() if rng else None}')
        check(g_want and not g_want[2] and g_want[1] > 0.9 * full[1],
              f'?t={a:.2f},{b:.2f}: {want} spans {g_want[1] if g_want else None} of {full[1]} px')
        check(g_other is None or g_other[2] or g_other[1] < 0.02 * full[1],
              f'?t={a:.2f},{b:.2f}: {other} is gone ({g_other})')
        shot = os.path.join(artifacts(), f'timeline-{lo - t0:.1f}s-{want.split()[0]}.png')
        if os.path.exists(shot):
            os.unlink(shot)
        chromium(f'{url}?t={a:.3f},{b:.3f}', f'--screenshot={shot}', '--window-size=1200,500',
                 '--virtual-time-budget=5000')
        check(os.path.exists(shot) and os.path.getsize(shot) > 5000, f'screenshot {shot}')
    flat = pyperf_report('-i', data, '--view', 'python', '--format', 'svg', '--no-time-order').stdout
    check('id="timeline"' not in flat, '--no-time-order: no timeline')

    # --- speedscope in time order
    path = f'{d}/phases.speedscope.json'
    pyperf_report('-i', data, '--view', 'python', '--format', 'speedscope', '--weight', 'period', '-o', path)
    doc = json.load(open(path))
    names = [f['name'] for f in doc['shared']['frames']]
    prof = max(doc['profiles'], key=lambda p: sum(p['weights']))
    where = []
    for stack, w in zip(prof['samples'], prof['weights']):
        fs = {names[i] for i in stack}
        where.append(('first' if 'first_phase (phases.py)' in fs else 'second' if 'second_phase (phases.py)' in fs
                      else None, w))
    order = [k for k, _ in where if k]
    blocks = [k for i, k in enumerate(order) if not i or order[i - 1] != k]
    check(blocks == ['first', 'second', 'first', 'second'],
          f'speedscope: the samples run first, second, first, second phase ({blocks}, {len(order)} samples)')
    # each phase spins for a CPU time it is given: what its samples weigh
    wf = sum(w for k, w in where if k == 'first') / 1e9
    ws = sum(w for k, w in where if k == 'second') / 1e9
    check(abs(wf - 2 * FIRST) < 0.1 * 2 * FIRST and abs(ws - 2 * SECOND) < 0.1 * 2 * SECOND,
          f'speedscope: the phases weigh {wf:.2f} s and {ws:.2f} s of CPU (they spun {2 * FIRST:.1f} s and '
          f'{2 * SECOND:.1f} s)')
    agg = json.loads(pyperf_report('-i', data, '--view', 'python', '--format', 'speedscope', '--weight', 'period',
                                   '--no-time-order').stdout)
    check(sum(sum(p['weights']) for p in agg['profiles']) == sum(sum(p['weights']) for p in doc['profiles']) and
          sum(len(p['samples']) for p in agg['profiles']) <= sum(len(p['samples']) for p in doc['profiles']),
          '--no-time-order: the aggregate, the same weights in fewer samples')

    # the speedscope app reads it and shows the time order
    from importlib import import_module
    ss = import_module('test-format-speedscope')
    app = ss.speedscope_app()
    site = os.path.join(d, 'site')
    shutil.copytree(app, site)
    srv = ss.serve(site)
    try:
        shutil.copy(path, os.path.join(site, 'phases.json'))
        dom, errors = ss.load_in_speedscope(srv, 'phases.json', view='time-ordered')
        title = re.search(r'<title>(.*?)</title>', dom)
        check(title and title.group(1) == f'{doc["name"]} - speedscope' and not errors,
              f'speedscope imported it ({title.group(1)[:50] if title else None!r}, {errors[:1]})')
        shot = os.path.join(artifacts(), 'speedscope-time-order.png')
        if os.path.exists(shot):
            os.unlink(shot)
        ss.load_in_speedscope(srv, 'phases.json', view='time-ordered', shot=shot)
        check(os.path.exists(shot), f'screenshot {shot}')
        # What the app drew: a row of its flame chart (it paints on a
        # canvas) holds the phases' frames in two colours, first, second,
        # first, second, each as wide as its samples weigh in the file.
        weights = []
        for k, w in where:
            if k and weights and weights[-1][0] == k:
                weights[-1][1] += w
            elif k:
                weights.append([k, w])
        want = [w / sum(w for _, w in weights) for _, w in weights]
        w, h, rows = read_png(shot, max_rows=500)
        drawn = None
        for y in range(h // 6, len(rows)):
            runs = colour_runs(rows[y])
            if len(runs) == 4 and runs[0][0] == runs[2][0] and runs[1][0] == runs[3][0]:
                drawn = [n / sum(n for _, n in runs) for _, n in runs]
                break
        check(drawn and all(abs(a - b) < 0.02 for a, b in zip(drawn, want)),
              f'the speedscope app draws first, second, first, second phase in Time Order, as wide as they '
              f'weigh (shares {[round(x, 3) for x in drawn or []]}; the file\'s {[round(x, 3) for x in want]})')
    finally:
        srv.shutdown()


if __name__ == '__main__':
    main(test)
