"""The one number formatter: decimals where they terminate, exact fractions otherwise.

It lives in core because documents and the ops' formula instances (LeakyReLU's 0.2, Dropout's
1.25) both print numbers, and ops rank below printing.

The articles print 2.52, -0.4 and 0.01; a SymPy Rational prints as 63/25. Derivation
pages, worked lines, matrices, handouts and answer keys all print numbers here, so one
value reads the same everywhere:

- a pure number prints as its exact decimal when its denominator has no prime factor
  but 2 and 5 (63/25 -> 2.52, 1/100 -> 0.01), else as a fraction (\\frac{1}{3});
- inside an expression a coefficient does the same (2.52 x_{11}, - 0.4 \\delta), except
  a division by a whole number, which stays a division (\\frac{x_{11}}{4}: an average
  reads as one; \\frac{2 x}{3} as SymPy writes it);
- `exact_fractions()` turns decimals off for a block of code (`derive --exact`).

Only formatting: values come exact from the engine and are never rounded here.
"""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar

import sympy as sp
from sympy.printing.latex import LatexPrinter
from sympy.printing.precedence import PRECEDENCE

_EXACT: ContextVar[bool] = ContextVar("exact_fractions", default=False)

#: Extra space between bmatrix rows that hold a \frac, so that stacked fractions do not touch (amsmath and KaTeX).
FRACTION_ROW_SPACE = r" \\[6pt] "


@contextmanager
def exact_fractions(on: bool = True):
    """Within the block every number prints as an exact fraction (63/25 as \\frac{63}{25}), as SymPy does."""
    token = _EXACT.set(on)
    try:
        yield
    finally:
        _EXACT.reset(token)


def exact() -> bool:
    """Whether numbers print as exact fractions right now (inside `exact_fractions()`)."""
    return _EXACT.get()


def decimal(value) -> str | None:
    """The exact decimal of a rational whose denominator has no prime factor but 2 and 5 (2.52, -0.4; 48 for
    an integer); None for any other number (1/3), and for every non-integer inside `exact_fractions()`."""
    value = sp.sympify(value)
    if not value.is_Rational or (exact() and value.q != 1):
        return None
    q, twos, fives = value.q, 0, 0
    while q % 2 == 0:
        q, twos = q // 2, twos + 1
    while q % 5 == 0:
        q, fives = q // 5, fives + 1
    if q != 1:
        return None
    sign = "-" if value < 0 else ""
    places = max(twos, fives)
    if places == 0:
        return f"{sign}{abs(value.p)}"
    digits = str(abs(value.p) * 10**places // value.q).rjust(places + 1, "0")
    return f"{sign}{digits[:-places]}.{digits[-places:]}"


def number(value) -> str:
    """An exact number as the articles print it: 48, -0.4, 2.52; 1/3 as \\frac{1}{3} (-2/3 as - \\frac{2}{3}, as
    SymPy writes it); anything else as `latex` prints it."""
    value = sp.sympify(value)
    shown = decimal(value)
    return shown if shown is not None else latex(value)


class Printer(LatexPrinter):
    """SymPy's LaTeX printer with this module's numbers (keeps every setting, e.g. symbol_names)."""

    def _print_Rational(self, expr):
        shown = decimal(expr) if expr.q != 1 else None
        return shown if shown is not None else super()._print_Rational(expr)

    def _print_Mul(self, expr):
        coefficient, rest = expr.as_coeff_Mul()
        shown = decimal(abs(coefficient)) if coefficient.is_Rational and coefficient.q != 1 else None
        if shown is None or abs(coefficient.p) == 1 or rest == 1:  # x/4 stays a division
            return super()._print_Mul(expr)
        sign = "- " if coefficient < 0 else ""
        rest = self.parenthesize(rest, PRECEDENCE["Mul"], strict=True)
        return sign + shown + self._settings["mul_symbol_latex"] + rest


def latex(expr, **settings) -> str:
    """sympy.latex with this module's numbers."""
    return Printer(settings).doprint(sp.sympify(expr) if not isinstance(expr, sp.Basic) else expr)


def bmatrix(rows) -> str:
    """Rows of printed entries as a bmatrix; rows spaced apart when an entry holds a fraction."""
    rows = [list(row) for row in rows]
    joiner = FRACTION_ROW_SPACE if any(r"\frac" in entry for row in rows for entry in row) else r" \\ "
    return r"\begin{bmatrix}" + joiner.join(" & ".join(row) for row in rows) + r"\end{bmatrix}"
