"""Imported once by the workers' forkserver (worker.py): one small derivation through every job's
path, so that SymPy's caches and the printers' are filled before any worker is forked from it.
A forked worker inherits them, and a seed-sized spec then derives in tens of milliseconds instead
of a few hundred (docs/serve.md, "Measured")."""

from .. import examples
from . import jobs


def warm() -> None:
    try:
        jobs.derive(examples.text("conv_max_pool"), include=("html", "explore"))
    except Exception:  # noqa: BLE001 - warming is an optimisation; a worker derives cold without it
        pass


warm()
