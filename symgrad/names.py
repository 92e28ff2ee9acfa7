"""Names symgrad generates must never be merged silently with names a user chose.

SymPy identifies symbols by name: an input symbol "k" (entries k_11, ...) would
*be* the kernel's k_11, and an input called "sigma" would make the conv output
definition sigma_11 := k_11*sigma_11 + ... circular. So every generated base name
(parameters without values, the default target y, the named intermediates sigma,
S, ...) is reserved, and a user symbol that is, or starts with, base + "_" is refused.
"""

from __future__ import annotations

import numpy as np

from .errors import OptionError


def reserved_bases(network, generated_parameters: dict[str, str], target_generated: bool) -> dict[str, str]:
    """{base name: what it names} for everything symgrad will name itself."""
    from .named import layer_names

    reserved = {base: f"the symbols of parameter {name}" for name, base in generated_parameters.items()}
    if target_generated:
        reserved["y"] = "the symbols of the loss target"
    for i, base in enumerate(layer_names(network)):
        reserved.setdefault(base, f"the named outputs of {network.label(i)}")
    return reserved


def _collides(name: str, base: str) -> bool:
    return name == base or name.startswith(base + "_")


def check_user_symbols(array: np.ndarray, reserved: dict[str, str], where: str, option: str) -> None:
    """Refuse any symbol in `array` that a generated name could equal."""
    seen = set()
    for value in np.asarray(array, dtype=object).reshape(-1):
        seen |= getattr(value, "free_symbols", set())
    for symbol in sorted(seen, key=lambda s: s.name):
        for base, meaning in reserved.items():
            if _collides(symbol.name, base):
                raise OptionError(where, option, f"symbol {symbol.name} collides with {meaning} "
                                                 f"({base}_...); choose another name")
