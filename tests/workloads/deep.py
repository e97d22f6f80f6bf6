"""(g) Deep recursion: DEPTH nested Python calls, then a busy loop at the
bottom for SECONDS. Ground truth: ~all samples in spin(), under DEPTH + 2
Python frames (main, <module>); with perf trampolines (3.12+ -X perf,
pyperf's on 3.8-3.11) every Python call also nests C frames, so deep
stacks outgrow any stack copy.

usage: python deep.py [DEPTH=400] [SECONDS=1.0]
"""
import sys
import time


def spin(end):
    n = 0
    while time.perf_counter() < end:
        n += 1
    return n


def down(depth, end):
    return spin(end) if depth == 0 else down(depth - 1, end)


def main():
    depth = int(sys.argv[1]) if len(sys.argv) > 1 else 400
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 1.0
    sys.setrecursionlimit(depth + 100)
    t0 = time.perf_counter()
    n = down(depth, t0 + seconds)
    print(f"ground-truth deep: depth={depth} python_frames={depth + 3} spins={n} "
          f"s={time.perf_counter() - t0:.3f}", file=sys.stderr)


if __name__ == "__main__":
    main()
