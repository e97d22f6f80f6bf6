#!/usr/bin/env python3
"""The JSON profile: valid against libpyperf/profile.schema.json, a tree
whose parents come first and whose totals add up, and the same numbers as
the text reports: per-(comm, dso, sym) self samples equal the flat
report's rows, per-comm shares equal the hierarchy report's first level,
and the event totals equal its header. Python frames carry their file;
--percent-limit and --pid filters shape the tree as they do the reports."""
import json
import os
import re
import shutil
from collections import Counter
from lib.common import (validate_json, BIN, TOP, Skip, check, helper, main, perf_record, pyperf_report, python,
                        require_perf, rows, run, tmpdir, workload)

SCHEMA = os.path.join(TOP, 'libpyperf/profile.schema.json')


def rows_of(doc):
    """The columns of "nodes" as one dict per node."""
    cols = doc['nodes']
    n = len(cols['frame'])
    if any(len(c) != n for c in cols.values()):
        raise AssertionError('columns of different lengths')
    return [{k: cols[k][i] for k in cols} for i in range(n)]


def structure(doc):
    """Parents first, totals = self + children's (at least, under a percent
    limit, which leaves children out), ids in range."""
    cut = doc['metadata']['percent_limit'] > 0
    nodes, frames = rows_of(doc), doc['frames']
    sums = [[n['self_samples'], n['self_period']] for n in nodes]
    for i, n in enumerate(nodes):
        if n['parent'] >= i or n['frame'] >= len(frames):
            return f'node {i}: parent {n["parent"]}, frame {n["frame"]}'
    for i in range(len(nodes) - 1, -1, -1):
        p = nodes[i]['parent']
        if p >= 0:
            sums[p][0] += nodes[i]['total_samples']
            sums[p][1] += nodes[i]['total_period']
    for i, n in enumerate(nodes):
        mine = [n['total_samples'], n['total_period']]
        if mine != sums[i] and not (cut and mine[0] >= sums[i][0] and mine[1] >= sums[i][1]):
            return f'node {i}: totals {n["total_samples"]}/{n["total_period"]} vs {sums[i]}'
    return None


def perf_unit(n):
    """A sample count as perf's report header prints it (1001 -> 1K)."""
    unit = ''
    for u in 'KMG':
        if n > 1000:
            n, unit = n // 1000, u
    return f'{n}{unit}'


def check_doc(label, data, *args):
    path = os.path.join(os.path.dirname(data), 'profile.json')
    pyperf_report('-i', data, '--format', 'json', '-o', path, *args)
    ok, why = validate_json(path, SCHEMA)
    check(ok, f'{label}: valid against profile.schema.json {why}')
    doc = json.load(open(path))
    bad = structure(doc)
    check(not bad, f'{label}: parents first, totals = self + children ({len(doc["nodes"]["frame"])} nodes){bad or ""}')
    return doc


def test():
    require_perf()
    d = tmpdir()
    try:
        data = perf_record(f'{d}/c.data', [helper('callpaths'), '-t', '1', '-f', '1', '0.5'])
        doc = check_doc('C fp', data)
        nodes, frames = rows_of(doc), doc['frames']
        ev = [n for n in nodes if n['parent'] == -1]
        # perf's header prints counts over 1000 with a unit ("1K"), as ours does
        m = re.search(r"# Samples: (\d+)([KMG]?)\s+of event '([^']+)'\n# Event count \(approx.\): (\d+)",
                      pyperf_report('-i', data, '--hierarchy').stdout)
        check(m and len(ev) == 1 and frames[ev[0]['frame']]['name'] == m.group(3) and
              perf_unit(ev[0]['total_samples']) == m.group(1) + m.group(2) and
              ev[0]['total_samples'] == doc['metadata']['samples'] and
              ev[0]['total_period'] == int(m.group(4)),
              f'event totals equal the hierarchy report\'s header '
              f'({m.group(1) + m.group(2) if m else "?"} samples, {m.group(4) if m else "?"})')
        # self samples per (comm, dso, sym), against the flat report's rows
        ours = Counter()
        for n in nodes:
            f = frames[n['frame']]
            if n['self_samples'] and f['kind'] not in ('event', 'thread'):
                comm = n
                while frames[comm['frame']]['kind'] != 'thread':
                    comm = nodes[comm['parent']]
                dso = os.path.basename(f.get('dso', '[unknown]'))
                ours[(frames[comm['frame']]['name'], dso, f['name'])] += n['self_samples']
        theirs = Counter()
        for (comm, dso, sym), k in rows(pyperf_report('-i', data, '--no-children', '-g', 'none', '--sort',
                                                      'comm,dso,sym', '-F', 'sample,comm,dso,sym').stdout
                                        ).popitem()[1].items():
            theirs[(comm, dso, re.sub(r'^\[.\] ', '', sym))] += k
        diff = {k: (theirs.get(k), ours.get(k)) for k in set(theirs) | set(ours) if theirs.get(k) != ours.get(k)}
        check(not diff and ours, f'self samples of {len(ours)} (comm, dso, sym) equal the report\'s rows'
              f'{"; differing (report, json): " + str(dict(list(diff.items())[:4])) if diff else ""}')
        # per-comm shares, against the hierarchy's first level
        hier = dict((c, float(p)) for p, c in re.findall(r'^\s+([0-9.]+)%\s+(\S+)$',
                                                         pyperf_report('-i', data, '--hierarchy', '--sort',
                                                                       'comm').stdout, re.M))
        per_comm = Counter()
        for n in nodes:
            if frames[n['frame']]['kind'] == 'thread':
                per_comm[frames[n['frame']]['name']] += n['total_period']
        mine = {c: round(100.0 * v / ev[0]['total_period'], 2) for c, v in per_comm.items()}
        check(mine == hier, f'per-comm shares equal the hierarchy report\'s ({hier})')
        kinds = {f['kind'] for f in frames}
        check({'event', 'thread', 'native'} <= kinds, f'frame kinds {sorted(kinds)}')

        limited = check_doc('C fp, --percent-limit 20', data, '--percent-limit', '20')
        lim = rows_of(limited)
        tot = lim[0]['total_period']
        check(all(n['total_period'] * 5 >= tot for n in lim) and
              len(lim) < len(nodes), f'--percent-limit 20 keeps {len(lim)} '
              f'of {len(nodes)} nodes, none under 20%')
        pid = next(f['pid'] for f in frames if f['kind'] == 'thread')
        one = check_doc('C fp, --pid', data, '--pid', str(pid))
        check({f['pid'] for f in one['frames'] if f['kind'] == 'thread'} == {pid} and
              one['metadata']['samples_filtered'] > 0, f'--pid {pid} keeps that process only')

        try:
            py = python('3.12')
        except Skip as e:
            print(f'  note: no Python frames checked: {e}')
            return
        os.makedirs(f'{d}/py')
        data = f'{d}/py/fib.data'
        run([os.path.join(BIN, 'pyperf-record'), '-g', '-o', data, '--', py, workload('fib.py'), '27', '1'])
        doc = check_doc('Python 3.12', data)
        fib = [f for f in doc['frames'] if f['name'] == 'fib (fib.py)']
        check(fib and fib[0]['kind'] == 'python' and fib[0].get('file') == workload('fib.py'),
              'Python frames: kind python, with their file')
        check(doc['metadata']['view'] == 'mixed' and doc['metadata']['command'] and
              'fib.py' in doc['metadata']['command'], 'metadata: view and command')
        native = check_doc('Python 3.12, native view', data, '--view', 'native')
        check(native['metadata']['view'] == 'native' and
              any(f['name'].startswith('py::fib:') for f in native['frames']),
              '--view native: perf-map names')
    finally:
        shutil.rmtree(d, ignore_errors=True)


if __name__ == '__main__':
    main(test)
