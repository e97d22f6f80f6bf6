"""The profiling example: two threads find divisors, one of a number twice
as large, so it runs about twice as long. A profile should show the split."""
import sys
from concurrent.futures import ThreadPoolExecutor


def find_divisors(n):
    return [i for i in range(1, n + 1) if n % i == 0]


def slow_function(n):
    return find_divisors(2 * n)


def fast_function(n):
    return find_divisors(n)


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 3_000_000
    with ThreadPoolExecutor(max_workers=2) as pool:
        pool.submit(slow_function, n)
        pool.submit(fast_function, n)


if __name__ == "__main__":
    main()
