"""What a number is: one place decides it, for every place a number goes.

Input values, init weights and biases (from a spec, a .npz file or Python), loss targets
and every optimizer float come here (through `tensor.number`, `tensor.entry` and
`ops.options.positive_number`). symgrad computes exactly, but it promises the numbers
torch computes in float64, so a number is accepted only when a float64 holds it:

- finite and real: no NaN, no infinity (also SymPy's nan, zoo, oo), nothing complex
  (a Python complex, SymPy's I);
- within float64's range, about +-1.8e308, also for integers (10**400 is refused; an
  integer beyond int64 but within the range is a float64 to torch, and is kept exactly);
- not a nonzero value that float64 rounds to 0: `1e-400` in TOML (and in Python) reads
  as 0.0 without a word, so the TOML reader keeps the literal's text (`toml_float`) and
  it is refused here, as are SymPy numbers such as Rational(1, 10**400).

Subnormal numbers (5e-324) are held by float64 and accepted. Floats become the exact
rational of their shortest decimal (0.01 -> 1/100).
"""

from __future__ import annotations

import math
import numbers
import re
import sys
from decimal import Decimal
from fractions import Fraction

import numpy as np
import sympy as sp

from .errors import OptionError

FLOAT64_MAX = sys.float_info.max
SAFE_BITS = 1000  # p/q with both below 2**1000 is within float64 (nonzero: above 2**-1000)
RANGE = "float64's range (about +-1.8e308), in which torch computes"


class Literal(float):
    """A TOML float literal a float64 cannot hold (beyond the range, or nonzero but read as 0.0).

    Only `toml_float` makes one; it carries the spec's text so that the refusal shows what the
    spec says, and every place a number goes refuses it.
    """

    text: str

    def __new__(cls, value: float, text: str):
        literal = super().__new__(cls, value)
        literal.text = text
        return literal

    def __repr__(self) -> str:
        return self.text

    __str__ = __repr__


def toml_float(text: str) -> float:
    """tomllib's `parse_float` hook: float(text), or a `Literal` when float64 cannot hold what the text says."""
    value = float(text)
    if value == 0 and _nonzero_mantissa(text):
        return Literal(value, text)
    if math.isinf(value) and "inf" not in text.lower():
        return Literal(value, text)
    return value


def _nonzero_mantissa(text: str) -> bool:
    return any(ch in "123456789" for ch in re.split("[eE]", text, maxsplit=1)[0])


def shown(value) -> str:
    """A short form of `value` for messages (a huge integer is described, never converted to digits)."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        value = int(value)
        if value.bit_length() > 128:
            digits = int(value.bit_length() * math.log10(2)) + 1
            return f"{'a negative' if value < 0 else 'an'} integer of about {digits} digits"
        return str(value)
    if isinstance(value, sp.Integer) and abs(value.p).bit_length() > 128:
        return shown(int(value.p))
    try:
        text = repr(value)
    except ValueError:  # e.g. a SymPy number whose digits exceed Python's int-to-str limit
        return f"a {type(value).__name__}"
    text = " ".join(text.split())  # one line, whatever the repr (a torch tensor's spans several)
    return text if len(text) <= 40 else text[:37] + "..."


def exact(value, where: str, option: str, names: bool = True) -> sp.Expr:
    """`value` as an exact SymPy number, or an OptionError naming `where` and `option`.

    Takes Python and NumPy numbers, Fraction, Decimal, TOML literals and SymPy numbers
    (expressions without symbols: 3, 1/3, sqrt(2), pi). `names`: whether the message for
    something that is not a number says that a symbol name would do.
    """
    if type(value) in _PLAIN_FLOATS and math.isfinite(value):  # the bulk: seeded weights (not a TOML Literal)
        return _coprime(*_shortest_ratio(float(value)))
    if isinstance(value, Literal):
        raise OptionError(where, option, _literal_message(value))
    if isinstance(value, (bool, np.bool_)):
        raise OptionError(where, option, f"expected a number, got the boolean {value}")
    if isinstance(value, sp.Basic):
        return _sympy_number(value, where, option, names)
    if isinstance(value, (int, np.integer)):
        value = int(value)
        if value.bit_length() > SAFE_BITS:
            _check_rational(Fraction(value), value, where, option)
        return sp.Integer(value)
    if isinstance(value, (float, np.floating)):
        if not np.isfinite(value):
            raise OptionError(where, option, f"values must be finite, got {value}")
        as_float = float(value)  # a long double beyond float64 becomes inf or 0.0 here
        if math.isinf(as_float) or (as_float == 0 and value != 0):
            _check_float(as_float, value != 0, value, where, option)
        return _coprime(*_shortest_ratio(as_float))
    if isinstance(value, (complex, np.complexfloating)):
        raise OptionError(where, option, f"values must be real numbers, got the complex number {value}")
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise OptionError(where, option, f"values must be finite, got {value}")
        value = Fraction(value)
    if isinstance(value, numbers.Rational):
        fraction = Fraction(value.numerator, value.denominator)
        _check_rational(fraction, value, where, option)
        return sp.Rational(fraction.numerator, fraction.denominator)
    if isinstance(value, numbers.Number):
        raise OptionError(where, option, f"expected a real number, got {shown(value)}")
    wanted = "a number or a symbol name" if names else "a number"
    raise OptionError(where, option, f"expected {wanted}, got {type(value).__name__}")


def _literal_message(literal: Literal) -> str:
    if math.isinf(literal):
        return f"{literal.text} is beyond {RANGE}"
    return f"{literal.text} is too small for float64: it would become 0 (the smallest is about 4.9e-324)"


def _check_rational(fraction: Fraction, value, where: str, option: str) -> None:
    try:
        as_float = float(fraction)
    except OverflowError:
        as_float = math.inf
    _check_float(as_float, fraction != 0, value, where, option)


def _check_float(as_float: float, nonzero: bool, value, where: str, option: str) -> None:
    if math.isinf(as_float):
        raise OptionError(where, option, f"{shown(value)} is beyond {RANGE}")
    if as_float == 0 and nonzero:
        raise OptionError(where, option, f"{shown(value)} is too small for float64: it would become 0 "
                                         "(the smallest is about 4.9e-324)")


def _sympy_number(value: sp.Basic, where: str, option: str, names: bool) -> sp.Expr:
    """A SymPy number (no symbols), checked as the others: finite, real, held by a float64."""
    if isinstance(value, sp.Rational):  # Integer too
        if value.p.bit_length() > SAFE_BITS or value.q.bit_length() > SAFE_BITS:
            _check_rational(Fraction(int(value.p), int(value.q)), value, where, option)
        return value
    if not isinstance(value, sp.Expr) or not value.is_number:
        wanted = "a number or a symbol name" if names else "a number"
        raise OptionError(where, option, f"expected {wanted}, got the SymPy {type(value).__name__} {shown(value)}")
    if value.has(sp.nan, sp.zoo, sp.oo, -sp.oo):
        raise OptionError(where, option, f"values must be finite, got {shown(value)}")
    real = value.is_extended_real
    if real is None:  # undecided by the assumptions: look at the value
        real = sp.im(sp.N(value, 30)) == 0
    if not real:
        raise OptionError(where, option, f"values must be real numbers, got {shown(value)}")
    as_float = float(sp.re(sp.N(value, 30)) if value.is_extended_real is None else value)
    _check_float(as_float, value.is_zero is False, value, where, option)
    return value


def _shortest_ratio(value: float) -> tuple[int, int]:
    """The fraction in lowest terms of a finite float's shortest decimal (repr), as Fraction(repr(value)) reads it
    at a third of its cost."""
    digits, _, exponent = repr(value).partition("e")
    whole, _, decimals = digits.partition(".")
    numerator, places = int(whole + decimals), len(decimals) - int(exponent or 0)
    if places <= 0:
        return numerator * 10 ** -places, 1
    denominator = 10 ** places
    common = math.gcd(numerator, denominator)
    return numerator // common, denominator // common


def _coprime(numerator: int, denominator: int) -> sp.Rational:
    """The SymPy number of a fraction already in lowest terms, without Rational()'s
    argument parsing, gcd and cache (a third of its cost; LeNet reads 61,706 weights)."""
    if _FROM_COPRIME is None:  # SymPy before 1.13
        return sp.Rational(numerator, denominator)
    return _FROM_COPRIME(numerator, denominator)


_FROM_COPRIME = getattr(sp.Rational, "from_coprime_ints", None)
_PLAIN_FLOATS = (float, np.float64)
