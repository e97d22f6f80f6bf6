"""Python functions as native frames in perf, on CPython 3.8 and newer.

On CPython 3.8 to 3.11 every Python function is called through its own
small piece of machine code (a trampoline), named "py::qualname:filename"
in /tmp/perf-PID.map, so perf and pyperf-report show Python frames between
the interpreter's C frames. On 3.12 and newer this module switches on
CPython's own equivalent (sys.activate_stack_trampoline("perf")).

    import perf_trampoline
    perf_trampoline.activate()

or, without changing the program: python -m perf_trampoline script.py ARGS,
or PYTHONPATH=<this folder's parent> PYPERF_TRAMPOLINE=1 python ...
(pyperf-record does that for the programs it launches).
"""
import os
import sys

__all__ = ['activate', 'deactivate', 'is_active', 'stats']

if sys.implementation.name != 'cpython':
    raise ImportError('perf_trampoline works with CPython only, not %s' % sys.implementation.name)

if sys.version_info >= (3, 12):
    def activate(reemit_on_fork=True):
        """Switch on CPython's perf trampolines ("perf" backend), unless a
        backend is already active (-X perf, -X perf_jit, PYTHONPERFSUPPORT):
        changing backends while active crashes CPython 3.13.0."""
        if not sys.is_stack_trampoline_active():
            sys.activate_stack_trampoline('perf')

    def deactivate():
        sys.deactivate_stack_trampoline()

    def is_active():
        return sys.is_stack_trampoline_active()

    def stats():
        return {'active': is_active(), 'implementation': 'cpython'}

elif sys.version_info >= (3, 8):
    try:
        from . import _trampoline
    except ImportError as e:
        raise ImportError('perf_trampoline was not built for Python %d.%d (%s); rebuild pyperf '
                          'with this interpreter installed' % (sys.version_info[0],
                                                              sys.version_info[1], e)) from None

    _fork_handler = False

    def activate(reemit_on_fork=True):
        """Call every Python function through its own perf trampoline.

        reemit_on_fork: a forked child's map starts with the parent's
        entries, so the code it inherited stays named.
        """
        global _fork_handler
        _trampoline.activate(reemit_on_fork=reemit_on_fork)
        if not _fork_handler:
            os.register_at_fork(after_in_child=_after_fork)
            _fork_handler = True

    def _after_fork():
        try:
            _trampoline._after_fork()
        except OSError as e:
            sys.stderr.write('perf_trampoline: %s\n' % e)

    def deactivate():
        """Stop using trampolines; functions already running finish normally."""
        _trampoline.deactivate()

    def is_active():
        return _trampoline.is_active()

    def stats():
        """Counters: code objects named, trampolines made and reused, map errors."""
        d = _trampoline.stats()
        d['implementation'] = 'pyperf'
        return d

else:
    raise ImportError('perf_trampoline needs CPython 3.8 or newer')
