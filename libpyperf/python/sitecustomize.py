# pyperf: switches on Python's perf support when PYPERF_TRAMPOLINE=1 (our
# trampolines on 3.8-3.11, CPython's own on 3.12+), then runs the
# sitecustomize this one hides on sys.path, if any. pyperf-record puts this
# folder first on PYTHONPATH for the programs it launches. Kept importable
# by any Python version: it must never break a program.
#
# Nothing of this bootstrap shows in a profile: only frames that start
# after the switch get a perf name, and every frame of this file started
# before it (the chained module is imported at module level, not from a
# function). Its byte code is built with pyperf, so no compile either.
import os
import sys


def _pyperf_activate():
    if os.environ.get('PYPERF_TRAMPOLINE', '') in ('', '0'):
        return
    if sys.version_info < (3, 8) or getattr(sys, 'implementation', None) is None \
            or sys.implementation.name != 'cpython':
        return
    try:
        import perf_trampoline
        # (3.12+: a no-op when -X perf, -X perf_jit or PYTHONPERFSUPPORT
        # switched a backend on already; changing it crashes 3.13.0)
        perf_trampoline.activate()
    except Exception as e:
        sys.stderr.write('pyperf: perf trampolines not active: %s\n' % (e,))


_pyperf_activate()

_pyperf_here = os.path.dirname(os.path.abspath(__file__))
_pyperf_path = sys.path[:]
_pyperf_self = sys.modules.get(__name__)
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _pyperf_here]
sys.modules.pop(__name__, None)
try:
    import sitecustomize  # noqa: F401  (the one this file hides)
except ImportError as _pyperf_e:
    if getattr(_pyperf_e, 'name', None) != 'sitecustomize':
        # what site.py says of a failing sitecustomize, and it goes on
        sys.stderr.write('Error in sitecustomize; set PYTHONVERBOSE for traceback:\n'
                         '%s: %s\n' % (type(_pyperf_e).__name__, _pyperf_e))
except Exception as _pyperf_e:
    sys.stderr.write('Error in sitecustomize; set PYTHONVERBOSE for traceback:\n'
                     '%s: %s\n' % (type(_pyperf_e).__name__, _pyperf_e))
finally:
    sys.path[:] = _pyperf_path
    # the import system expects this module in sys.modules once it ran;
    # the chained one, when there is one, stands for both
    if __name__ not in sys.modules and _pyperf_self is not None:
        sys.modules[__name__] = _pyperf_self
    del _pyperf_path, _pyperf_here, _pyperf_self
