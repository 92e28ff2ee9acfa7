"""Option parsing shared by the layers, with torch's rules and torch-like messages."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
import sympy as sp

from ..core import values
from ..core.errors import OptionError
from ..core.values import shown


#: torch passes integer options to C++ as int64_t: a Python int outside this range cannot reach the kernel
#: ("Overflow when unpacking long long"), so symgrad refuses it too.
INT64 = (-2**63, 2**63 - 1)
#: torch's pooling kernels read kernel_size, stride, padding and dilation as a C int (32 bits): 2**31 - 1
#: runs, 2**31 is "value cannot be converted to type int without overflow".
INT32 = (-2**31, 2**31 - 1)


def _is_int(value) -> bool:
    return isinstance(value, Integral) and not isinstance(value, bool)


def integer(where: str, option: str, value, minimum: int | None = None, bits: int | None = None) -> int:
    """An integer option: an int (not a bool) >= `minimum`; for a torch option, `bits` is the C++ type torch
    reads it as (64: int64_t, 32: the C int of the pooling kernels), and a value beyond it is refused."""
    if not _is_int(value):
        raise OptionError(where, option, f"expected an integer, got {shown(value)}")
    if minimum is not None and value < minimum:
        raise OptionError(where, option, f"must be >= {minimum}, got {shown(value)}")
    if bits is None:
        return int(value)
    low, high = INT64 if bits == 64 else INT32
    if not low <= value <= high:
        kind = "a 64-bit integer" if bits == 64 else "a 32-bit C int"
        bound = f"at most {high}" if minimum is not None else f"within {low}..{high}"
        raise OptionError(where, option, f"must be {bound} (torch reads it as {kind}), got {shown(value)}")
    return int(value)


def pair(where: str, option: str, value, minimum: int, bits: int | None = None) -> tuple[int, int]:
    """An int or a pair of ints, as torch's `_pair` accepts them."""
    if isinstance(value, (list, tuple)):
        if len(value) == 1:
            value = (value[0], value[0])
        if len(value) != 2:
            raise OptionError(where, option, f"expected an int or a pair [h, w], got {shown(list(value))}")
        return (integer(where, option, value[0], minimum, bits), integer(where, option, value[1], minimum, bits))
    number = integer(where, option, value, minimum, bits)
    return (number, number)


def boolean(where: str, option: str, value) -> bool:
    if not isinstance(value, bool):
        raise OptionError(where, option, f"expected true or false, got {shown(value)}")
    return value


def choice(where: str, option: str, value, allowed: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in allowed:
        raise OptionError(where, option, f"must be one of {', '.join(map(repr, allowed))}, got {shown(value)}")
    return value


def positive_number(where: str, option: str, value, allow_zero: bool = False) -> float:
    """A float option (SGD's lr, momentum, ...): a real Python or NumPy number that a float64 holds, as
    `symgrad.core.values` decides for every number, and >= 0 (> 0 unless allow_zero)."""
    if isinstance(value, sp.Basic):
        raise OptionError(where, option, f"expected a Python int or float (as torch takes it), got the SymPy "
                                         f"{type(value).__name__} {shown(value)}")
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, Real):
        wanted = "a real number" if isinstance(value, complex) else "a finite number"
        raise OptionError(where, option, f"expected {wanted}, got {shown(value)}")
    values.exact(value, where, option, names=False)  # finite, within float64, not 1e-400 read as 0
    if value < 0 or (value == 0 and not allow_zero):
        raise OptionError(where, option, f"must be {'>= 0' if allow_zero else '> 0'}, got {shown(value)}")
    return value if isinstance(value, (int, float)) else float(value)
