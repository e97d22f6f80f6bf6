"""The standard library only: json, re, difflib, decimal, textwrap, heapq
and a recursive-descent parser, in the main thread and two others.
usage: stdlib_mix.py SECONDS"""
import decimal
import difflib
import heapq
import json
import re
import sys
import textwrap
import threading
import time


def parse_expr(tokens, i=0):
    value, i = parse_term(tokens, i)
    while i < len(tokens) and tokens[i] in '+-':
        op = tokens[i]
        rhs, i = parse_term(tokens, i + 1)
        value = value + rhs if op == '+' else value - rhs
    return value, i


def parse_term(tokens, i):
    value, i = parse_atom(tokens, i)
    while i < len(tokens) and tokens[i] in '*/':
        op = tokens[i]
        rhs, i = parse_atom(tokens, i + 1)
        value = value * rhs if op == '*' else value / (rhs or 1)
    return value, i


def parse_atom(tokens, i):
    if tokens[i] == '(':
        value, i = parse_expr(tokens, i + 1)
        return value, i + 1
    return int(tokens[i]), i + 1


def expression(depth, n):
    if depth == 0:
        return str(n % 9 + 1)
    return f'({expression(depth - 1, n * 3)}+{expression(depth - 1, n + 1)}*{n % 5 + 1})'


def work(end, out, k):
    rounds = 0
    words = [f'word{i}' for i in range(200)]
    while time.time() < end:
        doc = {'items': [{'id': i, 'name': words[i % 200], 'vals': list(range(i % 30))}
                         for i in range(300)]}
        text = json.dumps(doc, sort_keys=True)
        back = json.loads(text)
        found = len(re.findall(r'"name": "word(\d+)"', text))
        a = textwrap.wrap(' '.join(words[k:]), 40)
        b = textwrap.wrap(' '.join(words[k + 3:]), 40)
        diff = sum(1 for _ in difflib.unified_diff(a, b))
        ctx = decimal.Context(prec=40)
        d = sum((ctx.divide(decimal.Decimal(i), decimal.Decimal(7)) for i in range(1, 300)),
                decimal.Decimal(0))
        h = [(len(x['vals']), x['id']) for x in back['items']]
        heapq.heapify(h)
        top = heapq.nsmallest(10, h)
        tokens = re.findall(r'\d+|[-+*/()]', expression(7, rounds + k))
        v, _ = parse_expr(tokens)
        rounds += 1
    out.append((rounds, found, diff, str(d)[:8], top[0], v))


def main():
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 3
    end = time.time() + seconds
    out = []
    threads = [threading.Thread(target=work, args=(end, out, k)) for k in (1, 2)]
    for t in threads:
        t.start()
    work(end, out, 0)
    for t in threads:
        t.join()
    print(f'stdlib: {sum(o[0] for o in out)} rounds')


main()
