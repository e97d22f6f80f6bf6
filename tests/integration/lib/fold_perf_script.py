#!/usr/bin/env python3
"""Fold `perf script` text into stacks, as stackcollapse-perf.pl does.

An independent implementation used as a test oracle (the Perl script is not
packaged for Debian). It follows the script's rules: the first event seen
is the only one folded; each record's comm (spaces -> '_', optionally with
-pid or -pid/tid) is followed by its frames from the outermost to the leaf;
symbol offsets (+0x..) are stripped; an "[unknown]" symbol becomes the
module's base name in brackets; names lose argument lists, ';' and quotes;
--kernel appends _[k] to frames of "[...]" or vmlinux modules and --jit
appends _[j] to resolved frames of /tmp/perf-PID.map modules.

usage: fold_perf_script.py [--pid] [--tid] [--kernel] [--jit] [--addrs] < script.txt
"""
import re
import sys
from collections import defaultdict

HEADER = re.compile(r'^(\S.+?)\s+(\d+)/*(\d+)*\s+')
FRAME = re.compile(r'^\s*(\w+)\s*(.+) \((\S*)\)')
EVENT = re.compile(r'\s(\S+):\s*$')


def tidy(func):
    func = func.replace(';', ':')
    if not re.search(r'\.\(.*\)\.', func):
        func = re.sub(r'\((?!anonymous namespace\)).*', '', func)
    return func.replace('"', '').replace("'", '')


def fold(lines, pid=False, tid=False, kernel=False, jit=False, addrs=False):
    stacks = defaultdict(int)
    stack, pname, event_filter, skip = [], None, None, False

    def flush():
        if pname is not None and not skip:
            stacks[';'.join([pname] + stack)] += 1

    for line in lines:
        line = line.rstrip('\n')
        if line.startswith('#'):
            continue
        if not line.strip():
            flush()
            stack, pname, skip = [], None, False
            continue
        m = HEADER.match(line)
        if m and pname is None and not line[0].isspace():
            comm, a, b = m.group(1), m.group(2), m.group(3)
            p, t = (a, b) if b else ('?', a)
            pname = f'{comm}-{p}/{t}' if tid else f'{comm}-{p}' if pid else comm
            pname = pname.replace(' ', '_')
            ev = EVENT.search(line)
            ev = ev.group(1) if ev else None
            if event_filter is None:
                event_filter = ev
            skip = ev != event_filter
            continue
        m = FRAME.match(line)
        if not m:
            continue
        pc, rawfunc, mod = m.groups()
        rawfunc = re.sub(r'\+0x[\da-f]+$', '', rawfunc)
        if rawfunc.startswith('('):
            continue
        frames = []
        for func in rawfunc.split('->'):
            unknown = False
            if func == '[unknown]':
                base = re.sub(r'.*/', '', mod) if mod != '[unknown]' else 'unknown'
                func = f'[{base} <{pc}>]' if addrs else f'[{base}]'
                unknown = True
            func = tidy(func)
            if kernel and re.search(r'(^\[|vmlinux$)', mod) and 'unknown' not in mod:
                func += '_[k]'
            if jit and re.search(r'/tmp/perf-\d+\.map', mod) and not unknown:
                func += '_[j]'
            if frames:
                func += '_[i]'
            frames.append(func)
        stack[0:0] = frames
    flush()
    return stacks


def main():
    flags = {a.lstrip('-') for a in sys.argv[1:]}
    stacks = fold(sys.stdin, **{k: True for k in flags})
    for k in sorted(stacks, key=lambda s: s.encode()):
        print(f'{k} {stacks[k]}')


if __name__ == '__main__':
    main()
