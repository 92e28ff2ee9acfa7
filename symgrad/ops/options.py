"""Option parsing shared by the layers, with torch's rules and torch-like messages."""

from __future__ import annotations

from numbers import Integral

from ..errors import OptionError


def _is_int(value) -> bool:
    return isinstance(value, Integral) and not isinstance(value, bool)


def integer(where: str, option: str, value, minimum: int | None = None) -> int:
    if not _is_int(value):
        raise OptionError(where, option, f"expected an integer, got {value!r}")
    if minimum is not None and value < minimum:
        raise OptionError(where, option, f"must be >= {minimum}, got {value}")
    return int(value)


def pair(where: str, option: str, value, minimum: int) -> tuple[int, int]:
    """An int or a pair of ints, as torch's `_pair` accepts them."""
    if isinstance(value, (list, tuple)):
        if len(value) == 1:
            value = (value[0], value[0])
        if len(value) != 2:
            raise OptionError(where, option, f"expected an int or a pair [h, w], got {list(value)!r}")
        return (integer(where, option, value[0], minimum), integer(where, option, value[1], minimum))
    number = integer(where, option, value, minimum)
    return (number, number)


def boolean(where: str, option: str, value) -> bool:
    if not isinstance(value, bool):
        raise OptionError(where, option, f"expected true or false, got {value!r}")
    return value


def choice(where: str, option: str, value, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise OptionError(where, option, f"must be one of {', '.join(map(repr, allowed))}, got {value!r}")
    return value


def _fits_float(value) -> bool:
    """Finite, and within float range (math.isfinite raises OverflowError for a huge int)."""
    import math

    try:
        return math.isfinite(value)
    except OverflowError:
        return False


def positive_number(where: str, option: str, value, allow_zero: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not _fits_float(value):
        shown = repr(value) if len(repr(value)) <= 40 else repr(value)[:37] + "..."
        raise OptionError(where, option, f"expected a finite number, got {shown}")
    if value < 0 or (value == 0 and not allow_zero):
        raise OptionError(where, option, f"must be {'>= 0' if allow_zero else '> 0'}, got {value}")
    return value
