#!/usr/bin/env python3
"""Fold `perf script` text into stacks, as stackcollapse-perf.pl does.

An independent implementation used as a test oracle (the Perl script is not
packaged for Debian). It models the script as of FlameGraph's 2023 version
with its default options, line by line:

- The same three regular expressions, with Perl's semantics (ASCII \\s \\d
  \\w, backtracking, $3 undefined when "(\\d+)*" matches nothing): the
  header /^(\\S.+?)\\s+(\\d+)\\/*(\\d+)*\\s+/ (a comm of at least two
  characters; a tid of "0" or none makes the pid "?"), the event
  /:\\s*(\\d+)*\\s+(\\S+):\\s*$/ and the frame /^\\s*(\\w+)\\s*(.+) \\((.*)\\)/
  (the module is the text of the last " (...)"; inlined frames, which perf
  prints as "addr func (inlined)", have the module "inlined").
- Only the first event met is folded; a header of another event is
  skipped without ending the current stack.
- Each sample weighs the period printed in its header (the script does
  so since 2021), or 1 when none is printed (perf script -F without
  period); samples=True counts 1 per sample, as the script did before.
- comm (spaces -> '_'), with -pid or -pid/tid, then the frames from the
  outermost to the leaf; "+0x..." offsets are stripped; frames whose
  function starts with '(' are skipped; "a->b" lists are split ("->" is
  how some perf versions print inline chains), elements after the first
  getting "_[i]"; "[unknown]" becomes the module's base name in brackets
  ("[unknown]" for an unknown module), with " <pc>" under --addrs.
- tidy_generic: ';' -> ':', everything from the first '(' that does not
  open "(anonymous namespace)" is cut unless the name looks like a Go
  method (".(" ... ")."), quotes are deleted; tidy_java strips the 'L' of
  "Ljava/..." names in processes whose name starts with "java".
- Annotations, one at most per frame: _[i] for inlined list elements, else
  --kernel's _[k] for modules starting with '[' or ending in "vmlinux"
  (not containing "unknown"), else --jit's _[j] for modules containing
  /tmp/perf-N.map (unresolved frames too).
- A stack is remembered at an empty line only (a last stack without one is
  dropped); lines the script does not recognise are skipped (it warns).
- Output sorted bytewise ("cmp" on byte strings).

usage: fold_perf_script.py [--pid] [--tid] [--kernel] [--jit] [--addrs] [--samples] < script.txt
"""
import re
import sys
from collections import defaultdict

HEADER = re.compile(r'^(\S.+?)\s+(\d+)/*(\d+)*\s+', re.A)
EVENT = re.compile(r':\s*(\d+)*\s+(\S+):\s*$', re.A)
FRAME = re.compile(r'^\s*(\w+)\s*(.+) \((.*)\)', re.A)
GO_METHOD = re.compile(r'\.\(.*\)\.')
ARGS = re.compile(r'\((?!anonymous namespace\)).*')


def truthy(v):
    """Perl's truth of a scalar: undef, '' and '0' are false."""
    return v is not None and v != '' and v != '0'


def perl_split_arrow(s):
    parts = s.split('->') if s else []
    while parts and parts[-1] == '':
        parts.pop()
    return parts


def fold(lines, pid=False, tid=False, kernel=False, jit=False, addrs=False, samples=False):
    """lines: an iterable of lines, with or without their final newline.
    Returns {stack: weight}."""
    collapsed = defaultdict(int)
    stack, pname, period = [], None, 1
    event_filter = ''
    for line in lines:
        if line.startswith('#'):
            continue
        if line.endswith('\n'):
            line = line[:-1]
        if line == '':
            if not truthy(pname):
                continue
            stack.insert(0, pname)
            collapsed[';'.join(stack)] += period
            stack, pname = [], None
            continue
        m = HEADER.match(line)
        if m:
            comm, p, t = m.group(1), m.group(2), m.group(3)
            if not truthy(t):
                t, p = p, '?'
            per = ''
            ev = EVENT.search(line)
            if ev:
                per = ev.group(1)
                if event_filter == '':
                    event_filter = ev.group(2)
                elif ev.group(2) != event_filter:
                    continue
            if not truthy(per):
                per = '1'
            period = 1 if samples else int(per)
            pname = f'{comm}-{p}/{t}' if tid else f'{comm}-{p}' if pid else comm
            pname = pname.replace(' ', '_')
            continue
        m = FRAME.match(line)
        if not m:
            continue  # the script warns "Unrecognized line" and goes on
        if not truthy(pname):
            continue
        pc, rawfunc, mod = m.groups()
        rawfunc = re.sub(r'\+0x[\da-f]+$', '', rawfunc, count=1)
        if rawfunc.startswith('('):
            continue
        inline = []
        for func in perl_split_arrow(rawfunc):
            if func == '[unknown]':
                base = re.sub(r'.*/', '', mod, count=1) if mod != '[unknown]' else 'unknown'
                func = f'[{base} <{pc}>]' if addrs else f'[{base}]'
            func = func.replace(';', ':')
            if not GO_METHOD.search(func):
                func = ARGS.sub('', func, count=1)
            func = func.replace('"', '').replace("'", '')
            if pname.startswith('java') and '/' in func:
                func = re.sub(r'^L', '', func, count=1)
            if inline:
                if '_[i]' not in func:
                    func += '_[i]'
            elif kernel and re.search(r'(^\[|vmlinux$)', mod) and 'unknown' not in mod:
                func += '_[k]'
            elif jit and re.search(r'/tmp/perf-\d+\.map', mod, re.A):
                if '_[j]' not in func:
                    func += '_[j]'
            inline.append(func)
        stack[0:0] = inline
    return collapsed


def format_folded(stacks):
    """Lines as the script prints them, sorted bytewise."""
    keys = sorted(stacks, key=lambda s: s.encode('utf-8', 'surrogateescape'))
    return ''.join(f'{k} {stacks[k]}\n' for k in keys)


def main():
    flags = {a.lstrip('-') for a in sys.argv[1:]}
    # Bytes in, bytes out: latin-1 maps each byte to one character.
    text = sys.stdin.buffer.read().decode('latin-1')
    lines = text.split('\n')
    if lines and lines[-1] == '':
        lines.pop()
    stacks = fold(lines, **{k: True for k in flags})
    keys = sorted(stacks, key=lambda s: s.encode('latin-1'))
    sys.stdout.buffer.write(''.join(f'{k} {stacks[k]}\n' for k in keys).encode('latin-1'))


if __name__ == '__main__':
    main()
