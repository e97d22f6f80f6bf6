"""Prints the line table of every code object of some sources, with the
line the interpreter itself gives each bytecode offset (its own
PyCode_Addr2Line through ctypes: what a frame's f_lineno is), for
test-pylines to decode and compare. On 3.10+ the ranges of co_lines() are
checked against PyCode_Addr2Line first, so the two ground truths agree.

usage: python lines_truth.py [--stdlib] > truth.txt
"""
import ctypes
import os
import sys
import textwrap

addr2line = ctypes.pythonapi.PyCode_Addr2Line
addr2line.restype = ctypes.c_int
addr2line.argtypes = [ctypes.py_object, ctypes.c_int]

GAP = '\n' * 300
SYNTHETIC = textwrap.dedent('''\
    import os

    def simple(a, b):
        c = a + b
        return c * 2

    def loops(n):
        total = 0
        for i in range(n):
            if i % 3:
                total += i
            else:
                total -= 1
        while total > 10:
            total //= 2
        return total

    def long_function(x):
    ''') + ''.join(f'    x = x + {i} * (x % 7) - len(str(x))\n' for i in range(60)) + \
    textwrap.dedent('''\
        return x

    def backwards(a,
                  b):
        return (a
                +
                b
                ) if a else (
            b)

''') + 'def jumps():\n    y = 1' + GAP + '    y = 2' + '\n' * 70000 + \
    '    return (y +\n' + '\n' * 200 + '        1)\n' + textwrap.dedent('''\

    def handlers(f):
        try:
            with open(f) as fh:
                return fh.read()
        except OSError as e:
            raise ValueError(str(e)) from None
        finally:
            print("done")

    def gen(n):
        for i in range(n):
            yield [j * i for j in range(i)]
        yield from (k for k in range(3))

    class Outer:
        class Inner:
            def method(self):
                return lambda q: q + 1
        @staticmethod
        def static(*args, **kw):
            return {k: v for k, v in kw.items() if v}

    async def coro(x):
        await x
        async with x as y:
            async for z in y:
                pass
    if __name__ == "__main__":
        simple(1, 2)
    ''')


def codes(co):
    yield co
    for c in co.co_consts:
        if hasattr(c, 'co_code'):
            yield from codes(c)


def table(co):
    if sys.version_info < (3, 10):
        return co.co_lnotab
    return co.co_linetable


def dump(co, name):
    n = len(co.co_code)
    lines = [(off, addr2line(co, off)) for off in range(-2, n, 2)]
    if sys.version_info >= (3, 10):
        for start, end, line in co.co_lines():
            for off in range(start, end, 2):
                want = -1 if line is None else line
                got = addr2line(co, off)
                if got != want and not (want == -1 and got == co.co_firstlineno):
                    sys.exit(f'{name}: co_lines() says {want} at {off}, PyCode_Addr2Line {got}')
    print(f'code {co.co_firstlineno} {table(co).hex() or "-"} {n} {name}')
    print(' '.join(f'{o}:{l}' for o, l in lines))


def main():
    print('version %d.%d' % sys.version_info[:2])
    sources = [('synthetic', SYNTHETIC)]
    if '--stdlib' in sys.argv:
        import argparse, dis, inspect, typing, json.decoder, asyncio.base_events
        for mod in (argparse, dis, inspect, typing, json.decoder, asyncio.base_events):
            with open(mod.__file__) as f:
                sources.append((os.path.basename(mod.__file__), f.read()))
    for fname, src in sources:
        for co in codes(compile(src, fname, 'exec')):
            dump(co, f'{fname}:{co.co_name}')


main()
