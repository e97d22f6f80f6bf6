"""Two phases one after the other on the main thread: first_phase() busy for
FIRST seconds of CPU, then second_phase() for SECOND seconds, with a
different call path each (first_phase -> spin_a, second_phase -> spin_b).

Ground truth: the order (first, then second) and each phase's CPU time and
its start and end on CLOCK_MONOTONIC (perf's clock), in seconds.
usage: python phases.py [FIRST=0.6] [SECOND=1.2]
"""
import sys, time


def spin_a(seconds):
    end = time.process_time() + seconds
    n = 0
    while time.process_time() < end:
        n += 1
    return n


def spin_b(seconds):
    end = time.process_time() + seconds
    n = 0
    while time.process_time() < end:
        n += 2
    return n


def first_phase(seconds):
    return spin_a(seconds)


def second_phase(seconds):
    return spin_b(seconds)


def main():
    first = float(sys.argv[1]) if len(sys.argv) > 1 else 0.6
    second = float(sys.argv[2]) if len(sys.argv) > 2 else 1.2
    t0 = time.clock_gettime(time.CLOCK_MONOTONIC)
    first_phase(first)
    t1 = time.clock_gettime(time.CLOCK_MONOTONIC)
    second_phase(second)
    t2 = time.clock_gettime(time.CLOCK_MONOTONIC)
    print(f'ground-truth phases: first={first:.3f} second={second:.3f} '
          f'first_start={t0:.6f} first_end={t1:.6f} second_end={t2:.6f}', file=sys.stderr)


if __name__ == '__main__':
    main()
