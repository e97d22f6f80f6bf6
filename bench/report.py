#!/usr/bin/env python3
"""Issue 2: pyperf-report against perf report and perf script on big
frame-pointer recordings made by `perf record -g`.

Recordings (cached in build/bench/):
  deep   bench/deepstack.c (-O2 -fno-omit-frame-pointer), 2 threads with
         10-30 frame deep stacks, perf record -e cpu-clock -g -c 20000
         (a sample every 20 us of CPU), >= 500,000 samples
  mixed  python3.12 -X perf tests/workloads/mixed.py, perf record -e cpu-clock -g
         (perf's default 4000 Hz)

Pairs, interleaved, whole-process wall time and peak RSS (wait4), output to
/dev/null:
  pyperf-report --hierarchy --sort comm,dso,sym  vs  perf report --stdio --hierarchy --sort comm,dso,sym
  pyperf-report --collapsed                      vs  perf script
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), 'lib'))
from benchlib import (PYPERF_REPORT, QUICK, cached_recording, deepstack, file_hash, folded_stats,  # noqa: E402
                      log, measure, med, mib, paired, perf_samples, perf_version, python, ratio_text,
                      rss_mb, runs, sh, spread, table, verdict, walls, workload)

N = runs(7, 2)
DEEP_SECONDS = 1.5 if QUICK else 6.0
MIXED_ROUNDS = 10 if QUICK else 60
MIN_DEEP_SAMPLES = 500_000


def record_deep():
    exe = deepstack()
    cmd = ['perf', 'record', '-q', '-e', 'cpu-clock', '-g', '-c', '20000']
    key = {'cmd': cmd, 'seconds': DEEP_SECONDS, 'src': file_hash(exe), 'perf': perf_version()}

    def make(path):
        measure([*cmd, '-o', path, '--', exe, str(DEEP_SECONDS), '2'])
    return cached_recording('report-deep' + ('-quick' if QUICK else ''), key, make)


def record_mixed():
    py = python('3.12')
    if not py:
        return None, None
    cmd = ['perf', 'record', '-q', '-e', 'cpu-clock', '-g']
    key = {'cmd': cmd, 'rounds': MIXED_ROUNDS, 'py': py, 'src': file_hash(workload('mixed.py')),
           'perf': perf_version()}

    def make(path):
        measure([*cmd, '-o', path, '--', py, '-X', 'perf', workload('mixed.py'), str(MIXED_ROUNDS)])
    return cached_recording('report-mixed' + ('-quick' if QUICK else ''), key, make)


def sanity(name, data):
    """Totals from the three programs on the same file, and the stack depths."""
    perf_n = perf_samples(data)
    folded = sh([PYPERF_REPORT, '-i', data, '--view', 'native', '--collapsed']).stdout
    ours_n, depths = folded_stats(folded)
    script = sh(['perf', 'script', '-i', data, '-F', 'comm,tid,time']).stdout
    script_n = sum(1 for line in script.splitlines() if line.strip())
    ds = sorted(depths)
    mean = sum(d * n for d, n in depths.items()) / max(ours_n, 1)
    # Depth range holding the middle 98% of the samples.
    acc, lo, hi = 0, None, None
    for d in ds:
        acc += depths[d]
        if lo is None and acc >= 0.01 * ours_n:
            lo = d
        if hi is None and acc >= 0.99 * ours_n:
            hi = d
    return {'perf report': perf_n, 'perf script': script_n, 'pyperf-report': ours_n,
            'equal': perf_n == script_n == ours_n, 'depth': (mean, lo, hi), 'stacks': len(folded.splitlines())}


def bench(name, data):
    size = os.path.getsize(data)
    s = sanity(name, data)
    log(f'  {name}: {s}')
    pr = PYPERF_REPORT
    # Saved symbol tables (benchlib's folder) are filled by the discarded
    # warm-up round; the uncached variant shows a first run.
    hier = paired([
        ('pyperf-report', lambda: measure([pr, '-i', data, '--hierarchy', '--sort', 'comm,dso,sym'])),
        ('no symbol cache', lambda: measure([pr, '-i', data, '--hierarchy', '--sort', 'comm,dso,sym',
                                             '--no-symbol-cache'])),
        ('perf report', lambda: measure(['perf', 'report', '-i', data, '--stdio', '--hierarchy',
                                         '--sort', 'comm,dso,sym'])),
    ], N, label=f'{name} hierarchy')
    coll = paired([
        ('pyperf-report', lambda: measure([pr, '-i', data, '--collapsed'])),
        ('perf script', lambda: measure(['perf', 'script', '-i', data])),
    ], N, label=f'{name} collapsed')
    return size, s, hier, coll


def main():
    log('report.py: pyperf-report vs perf report / perf script (issue 2)')
    deep, _ = record_deep()
    mixed, _ = record_mixed()
    results = [('C deepstack, fp', deep)] + ([('python3.12 -X perf mixed.py, fp', mixed)] if mixed else [])
    out = ['## pyperf-report vs perf report / perf script (issue 2)\n']
    rec = []
    timing = []
    checks = []
    for name, data in results:
        size, s, hier, coll = bench(name, data)
        mean, lo, hi = s['depth']
        rec.append([name, f"{s['pyperf-report']:,}", f"{s['perf report']:,}", f"{s['perf script']:,}",
                    'yes' if s['equal'] else '**no**', f'{mean:.1f} ({lo}–{hi})', f"{s['stacks']:,}",
                    mib(size)])
        a, b = hier['pyperf-report'], hier['perf report']
        c, d = coll['pyperf-report'], coll['perf script']
        speed_h = med([y / x for x, y in zip(walls(a), walls(b))])
        speed_c = med([y / x for x, y in zip(walls(c), walls(d))])
        mem_h = med(rss_mb(a)) <= med(rss_mb(b))
        timing.append([name, '`pyperf-report --hierarchy`', spread(walls(a), unit=' s'), spread(rss_mb(a), '{:.0f}', ' MB'), '', ''])
        timing.append(['', '`perf report --stdio --hierarchy`', spread(walls(b), unit=' s'), spread(rss_mb(b), '{:.0f}', ' MB'),
                       ratio_text(walls(b), walls(a), '{:.1f}'), ratio_text(rss_mb(a), rss_mb(b))])
        k = hier['no symbol cache']
        timing.append(['', '*`pyperf-report --hierarchy --no-symbol-cache`*', spread(walls(k), unit=' s'),
                       spread(rss_mb(k), '{:.0f}', ' MB'), ratio_text(walls(b), walls(k), '{:.1f}'), ''])
        timing.append(['', '`pyperf-report --collapsed`', spread(walls(c), unit=' s'), spread(rss_mb(c), '{:.0f}', ' MB'), '', ''])
        timing.append(['', '`perf script`', spread(walls(d), unit=' s'), spread(rss_mb(d), '{:.0f}', ' MB'),
                       ratio_text(walls(d), walls(c), '{:.1f}'), ratio_text(rss_mb(c), rss_mb(d))])
        checks.append((name, speed_h, speed_c, mem_h, med(rss_mb(a)), med(rss_mb(b)), med(rss_mb(c)),
                       med(rss_mb(d)), s))
    out.append('Recordings (`perf record -e cpu-clock -g`; sample totals from three readers of the same file; '
               'stack depth = frames per sample in `pyperf-report --view native --collapsed`, '
               'mean and 1st–99th percentile):\n')
    out.append(table(['recording', 'samples (pyperf-report)', 'perf report', 'perf script', 'equal',
                      'frames/sample', 'distinct stacks', 'file'], rec))
    out.append(f'\nWall time and peak RSS, whole process, output to /dev/null; median (min–max) of {N} '
               'interleaved pairs after a discarded warm-up round. *Speed-up* is the median of per-pair '
               'ratios perf/pyperf; *memory ratio* is pyperf/perf (below 1 = less).\n')
    out.append(table(['recording', 'command', 'wall', 'peak RSS', 'speed-up', 'memory ratio'], timing))
    out.append('Targets:')
    bullets = []
    for name, sh_, sc, memok, ma, mb, mc, md, s in checks:
        big = '' if 'deepstack' not in name else (
            f"; recording has {s['perf report']:,} samples "
            f"({'≥' if s['perf report'] >= MIN_DEEP_SAMPLES else '**<**'} 500,000)")
        bullets.append(f'- {name}: ≥10x faster than perf script: {sc:.1f}x {verdict(sc >= 10)}; '
                   f'≥5x faster than perf report: {sh_:.1f}x {verdict(sh_ >= 5)}; '
                   f'peak memory ≤ perf report\'s: {ma:.0f} vs {mb:.0f} MB {verdict(memok)} '
                   f'(collapsed vs perf script: {mc:.0f} vs {md:.0f} MB); '
                   f"same sample totals: {verdict(s['equal'])}{big}.")
    out.append('\n'.join(bullets))
    out.append('\nNotes: the deepstack program (bench/deepstack.c) runs 64 fixed paths through 8 mutually '
               'recursive functions at depths 8–27 in 2 threads; `-c 20000` samples every 20 µs of CPU time. '
               'pyperf-report runs with its default view (`mixed`), which for the C program equals `native`. '
               'perf needs the `/tmp/perf-PID.map` of the Python recording, kept while it is cached. '
               'pyperf-report keeps the symbol tables it parses (kallsyms, ELF files) in a cache folder '
               '(here one of the benchmark\'s own, filled by the discarded warm-up round) and maps them on '
               'later runs while nothing they came from changed; perf report likewise reads its '
               '~/.debug cache. The row in italics (not a target) is a first run, with '
               '`--no-symbol-cache`: parsing `/proc/kallsyms` (100k+ symbols) and libpython\'s table is a '
               'fixed start-up cost, large next to a small recording.\n')
    print('\n\n'.join(x.strip('\n') for x in out))


if __name__ == '__main__':
    main()
