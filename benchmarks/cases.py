"""One derivation in a fresh process: `python -m benchmarks.cases symgrad|naive N K max|avg [options]`.

Prints one JSON line: the CPU and wall seconds of the derivation alone (imports
excluded), the peak resident memory of the process (ru_maxrss), how many gradient
entries were computed and whether they were written out in the inputs (expanded).
run.py starts each case in its own process so that SymPy's caches start empty, a
case can be cut off at a time limit (`--cpu-limit`, in CPU seconds: the machines
are shared, and CPU time is what the work costs), and its peak memory is its own.
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import sys
import time


def symgrad_case(n: int, k: int, pool: str, channels: int = 1, bias: bool = False, target=1, expand="auto"):
    """symgrad.derive on Conv2d(1, channels, k) -> pool 2 -> MSELoss, input and kernel fully symbolic.

    expand="auto" is derive's default (explicit fields only when small, else kept in the
    named form); expand=True also writes every gradient out in the inputs, as the naive way does.
    """
    import symgrad as sg

    Pool = sg.MaxPool2d if pool == "max" else sg.AvgPool2d
    net = sg.Sequential(sg.Conv2d(1, channels, k, bias=bias), Pool(2))
    return sg.derive(net, sg.symbolic("x", (1, 1, n, n)), sg.MSELoss(), target=target, expand=expand)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("method", choices=["symgrad", "naive"])
    parser.add_argument("n", type=int)
    parser.add_argument("k", type=int)
    parser.add_argument("pool", choices=["max", "avg"])
    parser.add_argument("--channels", type=int, default=1)
    parser.add_argument("--bias", action="store_true")
    parser.add_argument("--explicit", action="store_true", help="symgrad: derive(..., expand=True)")
    parser.add_argument("--cpu-limit", type=int, help="end the process (SIGXCPU) after this many CPU seconds")
    args = parser.parse_args(argv)
    import sympy  # noqa: F401  (imports are not part of the measured time)

    if args.cpu_limit:  # the limit counts from here: the imports are not part of the derivation
        allowed = math.ceil(time.process_time()) + args.cpu_limit
        resource.setrlimit(resource.RLIMIT_CPU, (allowed, allowed + 5))

    if args.method == "symgrad":
        import symgrad  # noqa: F401
        start, cpu = time.perf_counter(), time.process_time()
        d = symgrad_case(args.n, args.k, args.pool, args.channels, args.bias, expand=True if args.explicit else "auto")
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
        entries = sum(a.size for a in d.tensors.gradients().values())
        expanded = d.expanded
    else:
        from benchmarks.naive import kernel_gradient
        start, cpu = time.perf_counter(), time.process_time()
        gradient = kernel_gradient(args.n, args.k, args.pool)
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
        entries, expanded = len(gradient), True
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux
    print(json.dumps({"seconds": seconds, "cpu": cpu, "peak_mb": peak_mb, "entries": entries, "expanded": expanded}))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
