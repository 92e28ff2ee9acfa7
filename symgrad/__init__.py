"""symgrad: derive gradient formulas of small CNNs symbolically, with torch's semantics.

Every registered op (symgrad.ops.OPS: Conv2d, MaxPool2d, ..., MSELoss) is an attribute of
this package too, looked up in the registry, so a new op module needs no edit here.

The public names are imported on first use, not with the package: the `symgrad` command
(symgrad/cli/process.py) sets NumPy's BLAS threads before NumPy loads, and importing
symgrad.cli imports this package first.
"""

import sys
import types
from importlib import import_module

from .core.errors import OptionError, SymgradError
from .core.version import __version__

#: Each public name -> the module that defines it.
_PUBLIC = {
    "symbolic": ".core.tensor",
    "Derivation": ".derive",
    "derive": ".derive",
    "Sequential": ".engine.network",
    "OPTIMIZERS": ".engine.optimizers",
    "from_torch": ".from_torch",
    "OPS": ".ops",
}


def _public(name: str):
    return getattr(import_module(_PUBLIC[name], __name__), name)


class _Package(types.ModuleType):
    """`derive` and `from_torch` are functions named like the modules that define them. The import
    system sets a package's attribute to a submodule when it first imports it, so these two are
    properties: they stay the functions whichever module was imported first."""

    derive = property(lambda self: _public("derive"), lambda self, module: None)
    from_torch = property(lambda self: _public("from_torch"), lambda self, module: None)


sys.modules[__name__].__class__ = _Package


def __getattr__(name: str):
    """A public name (`symgrad.Sequential`), or a registered op or optimizer by its torch name: `symgrad.Conv2d`."""
    if name in _PUBLIC:
        value = globals()[name] = _public(name)
        return value
    if name == "__all__":
        return sorted(["OptionError", "SymgradError", "__version__", *_PUBLIC, *_public("OPS"), *_public("OPTIMIZERS")])
    for registry in (_public("OPS"), _public("OPTIMIZERS")):
        if name in registry:
            return registry[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted({*globals(), *_PUBLIC, *_public("OPS"), *_public("OPTIMIZERS")})
