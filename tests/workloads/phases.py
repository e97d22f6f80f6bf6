"""Two phases one after the other on the main thread: first_phase() busy for
FIRST seconds of CPU, then second_phase() for SECOND seconds, with a
different call path each (first_phase -> spin_a, second_phase -> spin_b).

CYCLES times over (first, second, first, second...).

Ground truth: the order and each phase's CPU time, and the phases' starts
and ends on CLOCK_MONOTONIC (perf's clock), in seconds (boundaries=...).
usage: python phases.py [FIRST=0.6] [SECOND=1.2] [CYCLES=1]
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
    cycles = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    marks = [time.clock_gettime(time.CLOCK_MONOTONIC)]
    for _ in range(cycles):
        first_phase(first)
        marks.append(time.clock_gettime(time.CLOCK_MONOTONIC))
        second_phase(second)
        marks.append(time.clock_gettime(time.CLOCK_MONOTONIC))
    print(f'ground-truth phases: first={first:.3f} second={second:.3f} first_start={marks[0]:.6f} '
          f'first_end={marks[1]:.6f} second_end={marks[2]:.6f} '
          f'boundaries={",".join(f"{m:.6f}" for m in marks)}', file=sys.stderr)


if __name__ == '__main__':
    main()
