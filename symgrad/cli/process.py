"""The `symgrad` command as a process: what only a whole process may do, around commands.main.

- NumPy's OpenBLAS starts a thread per core when it loads, about 60 ms of CPU on two cores
  (docs/performance.md), for BLAS work the commands hardly do: one thread, unless the
  user's environment says otherwise. This module must therefore import nothing that
  imports NumPy before it has set the variable (symgrad/__init__.py imports lazily).
- After the output is flushed, the process ends at once (os._exit): freeing every
  expression the command built cost the interpreter 0.1-0.3 s at exit, for nothing.
  `serve` (which runs servers and worker processes) ends the ordinary way.
- The derivation lives until that exit, so `derive` pauses the garbage collector while
  deriving and then freezes the derivation out of its scans (commands.ONE_SHOT): each full
  collection while printing walked LeNet's millions of expression nodes again (its text
  printing: 2.2 -> 0.4 s CPU, its JSON 8.1 -> 4.1 s).
"""

from __future__ import annotations

import os
import sys

BLAS_THREADS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def run() -> None:
    """The console script's entry point: commands.main in this process, then a quick exit."""
    for variable in BLAS_THREADS:
        os.environ.setdefault(variable, "1")
    from . import commands

    commands.ONE_SHOT = True
    code = commands.main()
    if sys.argv[1:2] == ["serve"]:
        sys.exit(code)
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BrokenPipeError:  # the reader has gone (commands.main already stopped quietly)
        pass
    os._exit(code)
