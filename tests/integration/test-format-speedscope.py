#!/usr/bin/env python3
"""speedscope files, loaded by the real speedscope app (npm package,
installed once into build/npm) in headless Chromium, served from
127.0.0.1: the import succeeds (the page takes the profile's name; a
failed import leaves an alert and an empty page) and the sandwich view
lists the expected functions. The file also validates against the
schema shipped with speedscope, has one profile per thread whose weights
add up to the thread's samples, and Python frames carry their file."""
import functools
import http.server
import json
import os
import re
import shutil
import subprocess
import threading
from lib.common import (validate_json, BIN, BUILD, Skip, run, artifacts, check, chromium, helper, main, perf_record,
                        pyperf_report, python, require_perf, tmpdir, workload)

NPM_PREFIX = os.path.join(BUILD, 'npm')
RELEASE = os.path.join(NPM_PREFIX, 'node_modules/speedscope/dist/release')


def speedscope_app():
    if not os.path.exists(os.path.join(RELEASE, 'index.html')):
        if not shutil.which('npm'):
            raise Skip('npm is not installed (mk/deps.sh test installs it)')
        p = subprocess.run(['npm', 'install', '--no-audit', '--no-fund', '--prefix', NPM_PREFIX,
                            'speedscope'], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True, timeout=300)
        if p.returncode or not os.path.exists(os.path.join(RELEASE, 'index.html')):
            raise Skip(f'npm install speedscope failed: {p.stdout[-500:]}')
    return RELEASE


def serve(directory):
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=directory)
    handler = type('Quiet', (http.server.SimpleHTTPRequestHandler,), {'log_message': lambda *a: None})
    handler = functools.partial(handler, directory=directory)
    srv = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


def load_in_speedscope(srv, name, view='sandwich', shot=None):
    url = f'http://127.0.0.1:{srv.server_address[1]}/index.html#profileURL=/{name}&view={view}'
    args = ['--dump-dom', '--virtual-time-budget=15000', '--window-size=1400,2400',
            '--enable-logging=stderr', '--v=0', '--enable-unsafe-swiftshader']
    if shot:
        args = [f'--screenshot={shot}', '--virtual-time-budget=15000', '--window-size=1400,800',
                '--enable-unsafe-swiftshader']
    p = chromium(url, *args)
    errors = [l for l in p.stderr.splitlines() if 'CONSOLE' in l and
              re.search(r'error|fail|uncaught|unrecognized', l, re.I) and 'WebGL' not in l]
    return p.stdout, errors


def check_profile(label, path, data, srv, names):
    doc = json.load(open(path))
    ok, why = validate_json(path, os.path.join(RELEASE, 'file-format-schema.json'))
    check(ok, f'{label}: valid against speedscope\'s file-format-schema.json {why}')
    tid = pyperf_report('-i', data, '--collapsed', '--show-tid').stdout
    per_thread = {}
    for line in tid.splitlines():
        stack, n = line.rsplit(' ', 1)
        m = re.fullmatch(r'(.*)-(\d+)/(\d+)', stack.split(';')[0])
        per_thread[(m.group(2), m.group(3))] = per_thread.get((m.group(2), m.group(3)), 0) + int(n)
    got = {}
    for prof in doc['profiles']:
        m = re.fullmatch(r'.* (\d+)/(\d+)', prof['name'])
        got[(m.group(1), m.group(2))] = sum(prof['weights'])
        assert len(prof['samples']) == len(prof['weights'])
    check(got == per_thread, f'{label}: one profile per thread, weights = samples ({len(got)} threads)')
    shutil.copy(path, os.path.join(srv.directory, os.path.basename(path)))
    dom, errors = load_in_speedscope(srv, os.path.basename(path))
    title = re.search(r'<title>(.*?)</title>', dom)
    check(title and title.group(1) == f'{doc["name"]} - speedscope' and not errors,
          f'{label}: speedscope imported it (page title {title.group(1)[:60] if title else None!r}'
          f'{", console: " + errors[0][:200] if errors else ""})')
    text = re.sub(r'<[^>]+>', '\n', dom)
    shown = {n for n in names if re.search(r'(^|\n)' + re.escape(n) + r'(\n|$)', text)}
    check(shown == set(names), f'{label}: the sandwich view lists {sorted(shown)} (want {sorted(names)})')
    return doc


def test():
    require_perf()
    d = tmpdir()
    app = speedscope_app()
    site = os.path.join(d, 'site')
    shutil.copytree(app, site)
    srv = serve(site)
    srv.directory = site
    try:
        data = perf_record(f'{d}/c.data', [helper('callpaths'), '-t', '1', '0.5'])
        path = f'{d}/c.speedscope.json'
        pyperf_report('-i', data, '--format', 'speedscope', '-o', path)
        check_profile('C, two threads', path, data, srv, ['work_a', 'work_b', 'run'])
        shot = os.path.join(artifacts(), 'speedscope.png')
        load_in_speedscope(srv, os.path.basename(path), view='left-heavy', shot=shot)
        check(os.path.exists(shot), f'screenshot {shot}')
        period = json.loads(pyperf_report('-i', data, '--format', 'speedscope', '--weight', 'period').stdout)
        check(all(p['unit'] == 'nanoseconds' for p in period['profiles']),
              '--weight period: cpu-clock weights in nanoseconds')
        try:
            py = python('3.12')
        except Skip as e:
            print(f'  note: no Python 3.12 frames checked: {e}')
            return
        # pyperf-record unwinds Python 3.12 (no frame pointers) from stack copies
        data = f'{d}/fib.data'
        run([os.path.join(BIN, 'pyperf-record'), '-g', '-o', data, '--', py, workload('fib.py'), '28', '1'])
        path = f'{d}/fib.speedscope.json'
        pyperf_report('-i', data, '--format', 'speedscope', '-o', path)
        doc = check_profile('Python 3.12', path, data, srv, ['fib (fib.py)'])
        files = {f.get('file') for f in doc['shared']['frames'] if f['name'].startswith('fib (')}
        check(len(files) == 1 and files.pop().endswith('/fib.py'), 'Python frames carry their file')
    finally:
        srv.shutdown()
        shutil.rmtree(d, ignore_errors=True)


if __name__ == '__main__':
    main(test)
