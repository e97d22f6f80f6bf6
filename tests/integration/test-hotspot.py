#!/usr/bin/env python3
"""The files pyperf-record writes by default are read whole by the three
readers people use: perf (report, script), hotspot's perfparser (Debian's
hotspot 1.3.0, which skips compressed records) and pyperf-report. Each
counts every sample, and hotspot names the functions (Python ones too)."""
import os
import re
import shutil
from lib.common import BIN, Skip, check, helper, main, python, require_perf, run, tmpdir, workload

PARSERS = ('/usr/lib/x86_64-linux-gnu/libexec/hotspot-perfparser', '/usr/libexec/hotspot-perfparser')


def perfparser():
    for p in PARSERS:
        if os.access(p, os.X_OK):
            return p
    found = shutil.which('hotspot-perfparser')
    if found:
        return found
    raise Skip('hotspot-perfparser is not installed (mk/deps.sh test installs Debian\'s hotspot)')


def readers_agree(parser, d, name, data, want):
    """Samples seen by perf script, hotspot and pyperf-report; names
    @want found in hotspot's output."""
    script = run(['perf', 'script', '-i', data, '-F', 'tid,time', '-G']).stdout
    n_perf = len([ln for ln in script.split('\n') if ln.strip()])
    hs = run([parser, '--input', data, '--print-stats'], check_rc=False)
    m = re.search(r'^samples: (\d+)$', hs.stdout + hs.stderr, re.M)
    n_hot = int(m.group(1)) if m else -1
    skipped = sorted(set(re.findall(r'unhandled event type (\d+)', hs.stdout + hs.stderr)))
    st = run([f'{BIN}/pyperf-report', '-i', data, '--stats', '--collapsed'])
    m = re.search(r'(\d+) samples \(', st.stderr)
    n_ours = int(m.group(1)) if m else -1
    check(n_perf > 0 and n_perf == n_hot == n_ours,
          f'{name}: perf script {n_perf} samples, hotspot-perfparser {n_hot}, pyperf-report {n_ours}')
    # (13, LOST_SAMPLES, which perf record writes too, carries only a count)
    skipped = [t for t in skipped if t != '13']
    check(hs.returncode == 0 and not skipped,
          f'{name}: hotspot-perfparser skips no record type (unhandled: {skipped})')
    out = f'{d}/out.b2qt'
    run([parser, '--input', data, '--output', out], check_rc=False)
    blob = open(out, 'rb').read() if os.path.exists(out) else b''
    missing = [w for w in want if w.encode() not in blob]
    check(not missing, f'{name}: hotspot names {want} (missing: {missing})')


def test():
    require_perf()
    parser = perfparser()
    d = tmpdir()
    try:
        rec = f'{BIN}/pyperf-record'
        # C with frame pointers: -g picks fp
        data = f'{d}/c.data'
        run([rec, '-q', '-o', data, '--', helper('callpaths'), '0.3'])
        readers_agree(parser, d, 'pyperf-record default, C', data, ['work_a', 'work_b'])
        # Python without frame pointers: -g picks dwarf, unwound while recording
        py = python('3.12')
        data = f'{d}/py.data'
        run([rec, '-q', '-o', data, '--', py, workload('fib.py'), '22'])
        readers_agree(parser, d, 'pyperf-record default, python3.12', data, ['py::fib'])
        data = f'{d}/off.data'
        run([rec, '-q', '-o', data, '--off-cpu', '--', py, workload('sleep_spin.py'), '0.3'])
        readers_agree(parser, d, 'pyperf-record --off-cpu, python3.12', data, ['py::sleeper'])
        # -z is what hotspot 1.3 cannot read; the help says so
        h = run([rec, '--help']).stdout
        check('hotspot 1.3' in h and 'the default' in h.split('--no-compress')[1][:40],
              'pyperf-record --help: compression is off by default and says why')
    finally:
        shutil.rmtree(d, ignore_errors=True)


if __name__ == '__main__':
    main(test)
