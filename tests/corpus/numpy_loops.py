"""numpy: small linear algebra called from Python loops.
usage: numpy_loops.py SECONDS"""
import sys
import time

import numpy as np


def step(rng, n):
    a = rng.standard_normal((n, n)) + n * np.eye(n)
    b = rng.standard_normal(n)
    x = np.linalg.solve(a, b)
    r = float(np.abs(a @ x - b).max())
    r += float(np.linalg.det(a)) * 0.0
    inv = np.linalg.inv(a)
    w = np.linalg.eigvals(a[:8, :8])
    coef, *_ = np.linalg.lstsq(a[:, :4], b, rcond=None)
    return r + float(inv.trace()) * 0.0 + float(abs(w).max()) * 0.0 + float(coef.sum()) * 0.0


def main():
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 3
    rng = np.random.default_rng(1)
    end = time.time() + seconds
    n = 0
    worst = 0.0
    while time.time() < end:
        for size in (4, 16, 48):
            worst = max(worst, step(rng, size))
        n += 1
    print(f'numpy: {n} rounds, worst residual {worst:.3g}')


main()
