"""Repeated timing: the median (and min) of several runs of a call, for noisy shared machines."""

from __future__ import annotations

import statistics
import time


def repeat(call, runs: int = 7, budget: float = 20.0, min_runs: int = 3, warmup: int = 2) -> dict:
    """Run `call` up to `runs` times (at least `min_runs`, fewer if past `budget` seconds); median and min.

    The first `warmup` calls are not timed (torch builds its kernels and vmap plans on first use).
    """
    for _ in range(warmup):
        call()
    times = []
    start = time.perf_counter()
    while len(times) < runs and (len(times) < min_runs or time.perf_counter() - start < budget):
        t = time.perf_counter()
        call()
        times.append(time.perf_counter() - t)
    return {"median": statistics.median(times), "min": min(times), "runs": len(times)}


def seconds(value: float) -> str:
    """A duration for a table: 3 significant digits, in s, ms or us."""
    if value >= 1:
        return f"{value:.3g} s"
    if value >= 1e-3:
        return f"{value * 1e3:.3g} ms"
    return f"{value * 1e6:.3g} us"
