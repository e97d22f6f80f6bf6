"""alpha() is the hot function for the first half, then beta() for the
second: pure-Python loops (no system call in the loop), so that a live
view's top row names one, then the other.

Ground truth: the wall-clock seconds each ran.
usage: python hot_switch.py [SECONDS=6]  (half each)
"""
import sys, time


def alpha(until):
    n = 0
    while True:
        for i in range(20000):
            n += i * i
        if time.monotonic() >= until:
            return n


def beta(until):
    n = 0
    while True:
        for i in range(20000):
            n -= i ^ 3
        if time.monotonic() >= until:
            return n


def main():
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 6.0
    t0 = time.monotonic()
    alpha(t0 + seconds / 2)
    t1 = time.monotonic()
    beta(t1 + seconds / 2)
    t2 = time.monotonic()
    print(f'ground-truth hot_switch: alpha={t1 - t0:.3f} beta={t2 - t1:.3f}', file=sys.stderr)


if __name__ == '__main__':
    main()
