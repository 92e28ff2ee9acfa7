"""symgrad: derive gradient formulas of small CNNs symbolically, with torch's semantics.

Every registered op (symgrad.ops.OPS: Conv2d, MaxPool2d, ..., MSELoss) is an attribute of
this package too, looked up in the registry, so a new op module needs no edit here.
"""

from .derive import Derivation, derive
from .errors import OptionError, SymgradError
from .from_torch import from_torch
from .network import Sequential
from .ops import OPS
from .optim import SGD
from .tensor import symbolic

__version__ = "0.1.0"

__all__ = sorted(["Derivation", "OptionError", "SGD", "Sequential", "SymgradError", "derive", "from_torch", "symbolic",
                  "__version__", *OPS])


def __getattr__(name: str):
    """A registered op by its torch name: `symgrad.Conv2d`."""
    if name in OPS:
        return OPS[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted({*globals(), *OPS})
