"""python -m perf_trampoline [-m MODULE | SCRIPT] [ARGS...]

Runs a script or module with perf trampolines active, as "python SCRIPT"
or "python -m MODULE" would, so that perf shows its Python functions.
"""
import runpy
import sys

import perf_trampoline


def main():
    args = sys.argv[1:]
    if not args or args[0] in ('-h', '--help'):
        sys.stderr.write(__doc__)
        return 0 if args else 2
    perf_trampoline.activate()
    if args[0] == '-m':
        if len(args) < 2:
            sys.stderr.write('perf_trampoline: -m needs a module name\n')
            return 2
        sys.argv = args[1:]
        runpy.run_module(args[1], run_name='__main__', alter_sys=True)
    else:
        sys.argv = args
        sys.path[0] = __import__('os').path.dirname(__import__('os').path.abspath(args[0]))
        runpy.run_path(args[0], run_name='__main__')
    return 0


if __name__ == '__main__':
    sys.exit(main())
