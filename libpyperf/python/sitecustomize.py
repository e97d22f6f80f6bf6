# pyperf: switches on perf trampolines when PYPERF_TRAMPOLINE=1, then runs
# the sitecustomize this one hides on sys.path, if any. pyperf-record puts
# this folder first on PYTHONPATH for the programs it launches. Kept
# importable by any Python version: it must never break a program.
import os
import sys


def _pyperf_activate():
    if os.environ.get('PYPERF_TRAMPOLINE', '') in ('', '0'):
        return
    if sys.version_info < (3, 8) or getattr(sys, 'implementation', None) is None \
            or sys.implementation.name != 'cpython':
        return
    # 3.12+: CPython's own support, switched on by PYTHONPERFSUPPORT (which
    # pyperf-record sets), -X perf or -X perf_jit. Switching its backend
    # while one is active crashes 3.13.0 (-X perf_jit): leave it alone.
    if sys.version_info >= (3, 12):
        return
    try:
        import perf_trampoline
        perf_trampoline.activate()
    except Exception as e:
        sys.stderr.write('pyperf: perf trampolines not active: %s\n' % (e,))


def _pyperf_chain():
    try:
        import importlib.machinery
        import importlib.util
    except ImportError:
        return
    here = os.path.dirname(os.path.abspath(__file__))
    path = [p for p in sys.path if os.path.abspath(p or os.curdir) != here]
    spec = importlib.machinery.PathFinder.find_spec('sitecustomize', path)
    if spec is None or spec.loader is None:
        return
    module = importlib.util.module_from_spec(spec)
    sys.modules['sitecustomize'] = module
    spec.loader.exec_module(module)


_pyperf_activate()
_pyperf_chain()
