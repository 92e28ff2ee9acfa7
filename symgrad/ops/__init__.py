"""The registry of ops, found by discovery: every module of this package (but `_*.py` drafts) is imported, and
every Layer or Loss class it defines with a type_name is registered under torch's class name.

Adding an op is adding its module here (docs/ops.md): nothing else in symgrad lists ops. The registered
classes are also this package's attributes (`from symgrad.ops import Conv2d`).
"""

from __future__ import annotations

import importlib
import pkgutil

from .base import UNDECLARED, Gradients, Layer, Loss

#: The order the ops were listed in before discovery (messages such as from_torch's "supported: ..." keep
#: it); ops not in it follow, by type_name.
EARLIER_ORDER = ("Conv2d", "MaxPool2d", "AvgPool2d", "ReLU", "Sigmoid", "Tanh", "Flatten", "Linear", "Sum",
                 "MSELoss", "L1Loss", "CrossEntropyLoss")


def _discover() -> list[type]:
    """Every op class defined in a public module of this package, in a deterministic order."""
    found = []
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        found += [cls for cls in vars(module).values()
                  if isinstance(cls, type) and issubclass(cls, (Layer, Loss)) and cls.__module__ == module.__name__
                  and not cls.__name__.startswith("_") and cls.type_name is not UNDECLARED]

    def rank(cls):
        known = cls.type_name in EARLIER_ORDER
        return (not known, EARLIER_ORDER.index(cls.type_name) if known else 0, cls.type_name)

    return sorted(found, key=rank)


_FOUND = _discover()
LAYERS: dict[str, type[Layer]] = {cls.type_name: cls for cls in _FOUND if issubclass(cls, Layer)}
LOSSES: dict[str, type[Loss]] = {cls.type_name: cls for cls in _FOUND if issubclass(cls, Loss)}
OPS: dict[str, type] = {**LAYERS, **LOSSES}
globals().update(OPS)

__all__ = ["Gradients", "Layer", "Loss", "LAYERS", "LOSSES", "OPS", *OPS]
