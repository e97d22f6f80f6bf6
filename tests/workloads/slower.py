"""Two functions doing equal work in their own loops, one of them made
FACTOR times slower: steady() runs UNITS iterations, changing() UNITS *
FACTOR. Run once
with FACTOR 1 and once with 2 and the second run's changing() takes twice
the time of the first's while steady() takes the same: the known answer of
a differential profile. The functions take turns (ROUNDS times each)
rather than run one after the other. ONLY adds a function that one of the two runs
has: "retired" (the same loop, UNITS iterations) for the baseline run,
"introduced" (UNITS / 4) for the new one.

Ground truth: the iterations of each, and their CPU seconds.
usage: python slower.py [FACTOR=1] [UNITS=3000000] [ONLY=retired|introduced]
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


def retired(units):
    # only in the baseline run
    x = 0
    for i in range(units):
        x += i & 7
    return x


def introduced(units):
    # only in the new run
    x = 0
    for i in range(units):
        x += i & 7
    return x


ROUNDS = 40


def main():
    factor = int(sys.argv[1]) if len(sys.argv) > 1 else 1
    units = int(sys.argv[2]) if len(sys.argv) > 2 else 3000000
    only = sys.argv[3] if len(sys.argv) > 3 else ''
    if only not in ('', 'retired', 'introduced'):
        sys.exit(f'slower.py: ONLY is retired or introduced, not {only!r}')
    # The functions take turns, ROUNDS times: a stretch in which a loaded
    # machine gives the program less CPU (or a hypervisor steals some,
    # which the program's clock does not count and perf's cpu-clock does)
    # falls on all of them alike.
    work = [(steady, units), (changing, units, factor)]
    if only:
        work.append((retired, units) if only == 'retired' else (introduced, units // 4))
    cpu = [0.0] * len(work)
    for r in range(ROUNDS):
        for k, (fn, n, *more) in enumerate(work):
            # the last round takes the remainder
            part = n // ROUNDS + (n % ROUNDS if r == ROUNDS - 1 else 0)
            t = time.process_time()
            fn(part, *more)
            cpu[k] += time.process_time() - t
    extra = f' {only}_iters={work[2][1]} {only}_cpu={cpu[2]:.3f}' if only else ''
    print(f'ground-truth slower: factor={factor} steady_iters={units} changing_iters={units * factor} '
          f'steady_cpu={cpu[0]:.3f} changing_cpu={cpu[1]:.3f}{extra}', file=sys.stderr)


if __name__ == '__main__':
    main()
