"""Workloads whose frames and lines the interpreter-walker test knows.

usage: python walk_workload.py MODE SECONDS [EACH]
  lines    one thread: line LINE_A does twice the work of line LINE_B
  threads  a thread 300 calls deep looping at LINE_DEEP, a thread hashing
           with the GIL released at LINE_HASH, the main thread in join()
  reuse    functions made, run EACH s and freed one after another (their
           code objects reuse addresses); prints "ran NAME START END"
           (time.monotonic) for each at the end
  sleeper  sleeps in short naps at LINE_NAP (off-CPU)
  cthread  starts C-only threads (no interpreter state) one after another
Prints "ready" once the measured part runs. Line numbers are found by the
test from the markers at the ends of the lines.
"""
import hashlib
import sys
import threading
import time
import types

MODE = sys.argv[1]
SECONDS = float(sys.argv[2])
# reuse: how long each made function runs
EACH = float(sys.argv[3]) if len(sys.argv) > 3 else 0.015


def lines(end):
    # each line's time is in sum(), in C: the bytecode around it is a
    # small and equal part, so the lines' shares are the 2:1 of their work
    r = range(400)
    s = 0
    while time.monotonic() < end:
        for _ in range(100):
            s += sum(r); s += sum(r)  # LINE_A
            s += sum(r)  # LINE_B
    return s


def deep(n, end):
    if n:
        return deep(n - 1, end)
    x = 0
    while time.monotonic() < end:
        for i in range(2000): x = (x * 31 + i) % 1000003  # LINE_DEEP
    return x


def hasher(end):
    data = b'x' * (1 << 20)
    while time.monotonic() < end:
        hashlib.sha256(data).digest()  # LINE_HASH


def template(until):
    x = 0
    while time.monotonic() < until:
        x = (x * 31 + 7) % 1000003
    return x


def reuse(end):
    # Each function's code object is a copy of template's with its own
    # name, file and first line, made right after the last one was freed:
    # the allocator hands out the block just freed, so one address holds
    # one code object after another.
    ran = []
    k = 0
    while time.monotonic() < end:
        name = f'made_{k}'
        kw = {'co_qualname': name} if sys.version_info >= (3, 11) else {}
        code = template.__code__.replace(co_name=name, co_filename=f'gen_{k}.py',
                                         co_firstlineno=k % 40 + 1, **kw)
        f = types.FunctionType(code, globals())
        del code
        t0 = time.monotonic()
        f(t0 + EACH)
        ran.append((name, t0, time.monotonic()))
        del f
        k += 1
    for name, t0, t1 in ran:
        print('ran', name, f'{t0:.6f}', f'{t1:.6f}')


def cthread(end):
    # threads that run C only (strlen over 64 MiB) and never get a
    # PyThreadState: their samples have no Python frames to show
    import ctypes
    libc = ctypes.CDLL(None)
    buf = ctypes.create_string_buffer(b'x' * (64 << 20))
    start = ctypes.cast(libc.strlen, ctypes.c_void_p)
    tid = ctypes.c_ulong()
    while time.monotonic() < end:
        libc.pthread_create(ctypes.byref(tid), None, start, buf)
        libc.pthread_join(tid, None)


def napper(end):
    while time.monotonic() < end:
        time.sleep(0.005)  # LINE_NAP


def main():
    end = time.monotonic() + SECONDS
    print('ready', flush=True)
    if MODE == 'lines':
        lines(end)
    elif MODE == 'threads':
        ts = [threading.Thread(target=deep, args=(300, end)),
              threading.Thread(target=hasher, args=(end,))]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
    elif MODE == 'reuse':
        reuse(end)
    elif MODE == 'sleeper':
        napper(end)
    elif MODE == 'cthread':
        cthread(end)


if __name__ == '__main__':
    main()
