"""Benchmarks of symgrad against the naive SymPy approach, torch autograd and hand-written NumPy.

Run `python benchmarks/run.py [--quick] [--out docs/performance.md]`; the table it
writes is docs/performance.md. The modules here are also imported by
tests/package/test_benchmarks.py, which checks that the compared implementations agree.
"""
