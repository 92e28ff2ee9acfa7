"""symgrad: derive gradient formulas of small CNNs symbolically, with torch's semantics.

Every registered op (symgrad.ops.OPS: Conv2d, MaxPool2d, ..., MSELoss) is an attribute of
this package too, looked up in the registry, so a new op module needs no edit here.
"""

from .core.errors import OptionError, SymgradError
from .core.tensor import symbolic
from .core.version import __version__
from .derive import Derivation, derive
from .engine.network import Sequential
from .engine.optimizers import OPTIMIZERS
from .from_torch import from_torch
from .ops import OPS

__all__ = sorted(["Derivation", "OptionError", "Sequential", "SymgradError", "derive", "from_torch", "symbolic",
                  "__version__", *OPS, *OPTIMIZERS])


def __getattr__(name: str):
    """A registered op by its torch name: `symgrad.Conv2d`."""
    if name in OPS:
        return OPS[name]
    if name in OPTIMIZERS:
        return OPTIMIZERS[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted({*globals(), *OPS, *OPTIMIZERS})
