#!/usr/bin/env python3
"""The SVG flame graph, opened by headless Chromium: it parses as XML, its
script runs, the DOM holds the frames of the profile with their counts, a
search (driven by the ?s= URL parameter) highlights the matching frames
and reports their share, ?f= zooms; screenshots go to build/test-artifacts/.
Narrow frames are left out (--minwidth), and the file stays small."""
import os
import re
import shutil
import xml.etree.ElementTree as ET
from lib.common import (artifacts, check, chromium, helper, main, perf_record, pyperf_report,
                        require_perf, tmpdir)

NS = '{http://www.w3.org/2000/svg}'


def frames(svg_text):
    """{name: samples} of the drawn frames, from their titles."""
    out = {}
    root = ET.fromstring(svg_text)
    for g in root.iter(f'{NS}g'):
        t = g.find(f'{NS}title')
        if t is None:
            continue
        m = re.fullmatch(r'(.*) \((\d+) samples, [0-9.]+%\)', t.text)
        if m:
            out[m.group(1)] = out.get(m.group(1), 0) + int(m.group(2))
    return out


def test():
    require_perf()
    d = tmpdir()
    try:
        data = perf_record(f'{d}/c.data', [helper('callpaths'), '-t', '1', '0.5'])
        svg = f'{d}/flame.svg'
        pyperf_report('-i', data, '--format', 'svg', '-o', svg)
        text = open(svg, encoding='utf-8').read()
        fr = frames(text)
        folded = pyperf_report('-i', data, '--collapsed').stdout
        total = sum(int(l.rsplit(' ', 1)[1]) for l in folded.splitlines())
        check(fr.get('all') == total, f'well-formed XML; root "all" holds the {total} samples')
        for name in ('callpaths', 'main', 'run', 'work_a', 'work_b', 'path_b'):
            want = sum(int(l.rsplit(' ', 1)[1]) for l in folded.splitlines()
                       if name in l.rsplit(' ', 1)[0].split(';'))
            got = fr.get(name, 0)
            check(got == want, f'frame {name}: {got} samples, as in the folded stacks ({want})')

        url = 'file://' + svg
        p = chromium(url + '?s=^work_', '--dump-dom', '--virtual-time-budget=5000')
        dom = p.stdout
        check('data-ready="1"' in dom, 'Chromium ran the script (data-ready)')
        nmatch = len(re.findall(r'<g class="[a-z]+ match">', dom))
        m = re.search(r'data-matches="(\d+)"', dom)
        check(m and int(m.group(1)) == nmatch >= 3, f'search ^work_ highlights {nmatch} frames')
        m = re.search(r'Matched: ([0-9.]+)%', dom)
        share = 100.0 * sum(v for k, v in fr.items() if k.startswith('work_')) / total
        check(m and abs(float(m.group(1)) - share) < 0.11,
              f'and shows their share ({m.group(1) if m else None}% vs {share:.1f}%)')
        check('rgb(230,0,230)' in dom, 'matches are recoloured')

        p = chromium(url + '?f=path_b', '--dump-dom', '--virtual-time-budget=5000')
        hidden = len(re.findall(r'<g class="[a-z]+ hide">', p.stdout))
        check('data-zoom="path_b"' in p.stdout and hidden > 0,
              f'?f=path_b zooms ({hidden} frames outside hidden)')
        m = re.search(r'<title>path_b [^<]*</title><rect x="([0-9.]+)" y="[0-9.]+" width="([0-9.]+)" height="15"',
                      p.stdout)
        check(m and abs(float(m.group(1)) - 10) < 0.01 and abs(float(m.group(2)) - 1180) < 0.01,
              'the zoomed frame spans the width')

        shot = os.path.join(artifacts(), 'flamegraph.png')
        for f in (shot,):
            if os.path.exists(f):
                os.unlink(f)
        chromium(url + '?s=recurse', f'--screenshot={shot}', '--window-size=1200,700',
                 '--virtual-time-budget=5000')
        check(os.path.exists(shot) and os.path.getsize(shot) > 5000, f'screenshot {shot}')
        icicle = f'{d}/icicle.svg'
        pyperf_report('-i', data, '--format', 'svg', '--icicle', '-o', icicle)
        ishot = os.path.join(artifacts(), 'icicle.png')
        chromium('file://' + icicle, f'--screenshot={ishot}', '--window-size=1200,700',
                 '--virtual-time-budget=5000')
        check(frames(open(icicle).read()) == fr and 'data-icicle="1"' in open(icicle).read(),
              'icicle: the same frames, top down')

        # --minwidth: frames under it are not drawn; their time stays in the parent.
        widths = sorted(float(w) for w in re.findall(r'<rect x="[0-9.]+" y="[0-9.]+" width="([0-9.]+)" height="15"',
                                                     text))
        mw = (widths[0] + widths[-1]) / 2
        narrow = pyperf_report('-i', data, '--format', 'svg', '--minwidth', f'{mw:.2f}').stdout
        kept = [float(w) for w in re.findall(r'<rect x="[0-9.]+" y="[0-9.]+" width="([0-9.]+)" height="15"', narrow)]
        check(0 < len(kept) < len(widths) and min(kept) >= mw - 0.01 and frames(narrow).get('all') == total,
              f'--minwidth {mw:.1f} draws {len(kept)} of {len(widths)} frames, the total unchanged')
        # Classed (and coloured) by kind.
        check('<g class="t"><title>callpaths (' in text and '<g class="n"><title>main (' in text,
              'frames are classed (and coloured) by kind')
    finally:
        shutil.rmtree(d, ignore_errors=True)


if __name__ == '__main__':
    main(test)
