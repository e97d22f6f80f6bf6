"""sympy: symbolic integration, simplification, series and factoring.
usage: sympy_calc.py SECONDS"""
import sys
import time

import sympy as sp


def main():
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 3
    x, y = sp.symbols('x y')
    end = time.time() + seconds
    i = 0
    while time.time() < end:
        sp.integrate(sp.sin(x) ** 2 * sp.exp(x) * (x + i), x)
        sp.simplify((x ** 3 - y ** 3) / (x - y) + sp.cos(x) ** 2 + sp.sin(x) ** 2)
        sp.series(sp.exp(sp.sin(x)), x, 0, 6 + i % 3)
        sp.factor(x ** (12 + i % 8) - y ** (12 + i % 8))
        sp.solve(x ** 3 - (i + 2) * x + 1, x)
        if i % 3 == 2:
            sp.core.cache.clear_cache()
        i += 1
    print(f'sympy: {i} rounds')


main()
