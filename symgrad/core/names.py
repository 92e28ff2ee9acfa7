"""Names symgrad generates must never be merged silently with names a user chose,
and every name must read back as itself when SymPy parses the printed formulas.

SymPy identifies symbols by name: an input symbol "k" (entries k_11, ...) would
*be* the kernel's k_11, and an input called "sigma" would make the conv output
definition sigma_11 := k_11*sigma_11 + ... circular. So every generated base name
(parameters without values, the default target y, the named intermediates sigma,
S, ..., and delta, the base of every upstream gradient delta_S_11) is reserved, and
a user symbol that is, or starts with, base + "_" is refused.

The JSON's strings are SymPy syntax that `sympy.sympify` reads back. Its parser reads
some identifiers as something other than a symbol: E is Euler's number, S the
singleton registry, exp a function, lambda a keyword. `parser_reading` says which,
computed from what `parse_expr` does (never by parsing user text: it evals): its
namespace is `from sympy import *` plus Python's built-in functions, max and min
(as Max, Min); a name there stays itself when it is a SymPy object, a class, a
callable or Q; Python keywords (True, False, None among them) stay keywords. A user
symbol with such a name is refused; a generated name that would be one (the scalar
output S of Sum) gets a trailing underscore (S_), the spelling suggested to users.
"""

from __future__ import annotations

import builtins
import keyword
import types
from functools import lru_cache

import numpy as np

from .errors import OptionError

#: The base of every named upstream gradient: delta_ + the layer's base (delta_sigma_11, delta_S).
DELTA = "delta"


@lru_cache(maxsize=1)
def _parser_names() -> dict[str, str]:
    """{identifier: what SymPy's parse_expr reads it as} for every identifier it does not make a Symbol."""
    import sympy as sp
    from sympy.assumptions.ask import AssumptionKeys

    namespace = {name: (getattr(sp, name), f"sympy.{name}") for name in sp.__all__}
    for name, obj in vars(builtins).items():
        if isinstance(obj, types.BuiltinFunctionType):
            namespace[name] = (obj, f"the Python built-in {name}")
    namespace["max"], namespace["min"] = (sp.Max, "sympy.Max"), (sp.Min, "sympy.Min")
    readings = {name: meaning for name, (obj, meaning) in namespace.items()
                if isinstance(obj, (AssumptionKeys, sp.Basic, type)) or callable(obj)}
    readings.update({name: "a Python keyword" for name in keyword.kwlist})
    return readings


def parser_reading(name: str) -> str | None:
    """What `sympy.sympify(name)` reads instead of Symbol(name) (e.g. "sympy.E"), or None if it is a symbol."""
    return _parser_names().get(name)


def readable(name: str) -> str:
    """A generated name as it is printed: `name`, or name + "_" when SymPy would read `name` as something else."""
    return name + "_" if parser_reading(name) is not None else name


def check_readable(name: str, where: str, option: str) -> None:
    """Refuse a user's symbol name that SymPy's parser reads as something other than that symbol."""
    reading = parser_reading(name)
    if reading is None:
        return
    suggestions = [f"{name}_"] + [name.lower()] * (name.lower() != name and parser_reading(name.lower()) is None)
    raise OptionError(where, option, f"symbol name {name} would read back as {reading}, not a symbol, when "
                                     f"SymPy parses the printed formulas; choose another name, e.g. "
                                     f"{' or '.join(suggestions)}")


def reserved_bases(network, generated_parameters: dict[str, str], target_generated: bool) -> dict[str, str]:
    """{base name: what it names} for everything symgrad will name itself."""
    reserved = {base: f"the symbols of parameter {name}" for name, base in generated_parameters.items()}
    if target_generated:
        reserved["y"] = "the symbols of the loss target"
    for i, base in enumerate(layer_names(network)):
        reserved.setdefault(base, f"the named outputs of {network.label(i)}")
    reserved.setdefault(DELTA, "the named upstream gradients")
    return reserved


def layer_names(network) -> list[str]:
    """The base name of each layer's output: its letter, with the layer index when the letter repeats."""
    seen, names = set(), []
    for i, layer in enumerate(network):
        letter = layer.output_letter
        names.append(letter if letter not in seen else f"{letter}{i}")
        seen.add(letter)
    return names


def _collides(name: str, base: str) -> bool:
    return name == base or name.startswith(base + "_")


def check_user_symbols(array: np.ndarray, reserved: dict[str, str], where: str, option: str) -> None:
    """Refuse any symbol in `array` that a generated name could equal or that would not read back as itself."""
    seen = set()
    for value in np.asarray(array, dtype=object).reshape(-1):
        seen |= getattr(value, "free_symbols", set())
    for symbol in sorted(seen, key=lambda s: s.name):
        check_readable(symbol.name, where, option)
        for base, meaning in reserved.items():
            if _collides(symbol.name, base):
                raise OptionError(where, option, f"symbol {symbol.name} collides with {meaning} "
                                                 f"({base}_...); choose another name")
