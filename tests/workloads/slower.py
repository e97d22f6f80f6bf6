"""Two functions doing equal work in their own loops, one of them made
FACTOR times slower: steady() runs UNITS iterations, changing() UNITS *
FACTOR. Run once
with FACTOR 1 and once with 2 and the second run's changing() takes twice
the time of the first's while steady() takes the same: the known answer of
a differential profile.

Ground truth: the iterations of each, and their CPU seconds.
usage: python slower.py [FACTOR=1] [UNITS=3000000]
"""
import sys, time


def steady(units):
    x = 0
    for i in range(units):
        x += i & 7
    return x


def changing(units, factor):
    # the same loop as steady(), FACTOR times as long: its own time
    x = 0
    for i in range(units * factor):
        x += i & 7
    return x


def main():
    factor = int(sys.argv[1]) if len(sys.argv) > 1 else 1
    units = int(sys.argv[2]) if len(sys.argv) > 2 else 3000000
    t0 = time.process_time()
    steady(units)
    t1 = time.process_time()
    changing(units, factor)
    t2 = time.process_time()
    print(f'ground-truth slower: factor={factor} steady_iters={units} changing_iters={units * factor} '
          f'steady_cpu={t1 - t0:.3f} changing_cpu={t2 - t1:.3f}', file=sys.stderr)


if __name__ == '__main__':
    main()
