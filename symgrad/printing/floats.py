"""Float coefficients in JSON strings: a float64 made exact is written as that float64 again.

A seeded or file weight is a float64, which symgrad holds as the exact rational of its
shortest decimal (values.py: 0.054784674928581745 -> 10956934985716349/200000000000000000),
and so is what multiplies it exactly (the 1/4 of an average pool, another weight). In a
LeNet's JSON strings these 36-character fractions were half of 72 MB. Outside `--exact`,
the JSON strings write such a coefficient as the float64 nearest to it, in repr()'s
digits (at most 17 significant: they read back to the same float64), which is what
torch computes with; `sympy.sympify` reads it as a Float of those digits.

Which rationals: p/q with q above 2**30 and no prime factor of q but 2 and 5 (a decimal
of many places, a power of two included), nonzero in float64 (never rounded to 0.0 or
beyond the range). Integers, 1/4, 0.01, 1/3 and 2/3*w stay exact: the small examples'
strings are unchanged, and a non-decimal fraction is not a float64's value.
"""

from __future__ import annotations

import math
import sys
from functools import lru_cache

from sympy import Number
from sympy.printing.precedence import PRECEDENCE

#: Denominators up to this stay exact fractions (0.123456789 = 123456789/10**9 included).
LARGEST_EXACT = 2**30


@lru_cache(maxsize=1 << 16)
def coefficient(p: int, q: int) -> str | None:
    """repr() of the float64 nearest to p/q when p/q is a float64 made exact (module docstring), else None."""
    if q <= LARGEST_EXACT:
        return None
    rest = q >> ((q & -q).bit_length() - 1)  # q without its factors 2
    while rest % 5 == 0:
        rest //= 5
    if rest != 1:
        return None
    try:
        value = p / q  # correctly rounded for Python integers
    except OverflowError:
        return None
    if value == 0 or not math.isfinite(value) or abs(value) < sys.float_info.min:  # nor subnormal
        return None
    return repr(value)


def rational(expr) -> str | None:
    """`coefficient` of a SymPy Rational (None for an Integer or any other number)."""
    q = expr.q
    return None if q == 1 else coefficient(expr.p, q)


class FloatCoefficients:
    """StrPrinter mixin: a Rational that is a float64 made exact printed as that float64 (repr digits), alone
    or as a product's coefficient: "-0.18656576987781426*x_12", not "-9328288493890713*x_12/50000000000000000"."""

    def _print_Rational(self, expr):
        text = rational(expr)
        return text if text is not None else super()._print_Rational(expr)

    def _print_Mul(self, expr):
        args = expr.args
        head = args[0]
        text = rational(head) if head.is_Rational else None
        if text is None or any(isinstance(a, Number) for a in args[1:]):  # an unevaluated Mul: SymPy's own form
            return super()._print_Mul(expr)
        rest = self.parenthesize(expr.as_coeff_Mul()[1], PRECEDENCE["Mul"], strict=True)
        return f"{text}/{rest[2:]}" if rest.startswith("1/") else f"{text}*{rest}"  # 1/(1 + exp(-a)) -> c/(...)
