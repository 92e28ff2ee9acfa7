"""Engine numbers as LaTeX: exact decimals where they terminate (2.52, 0.25), else fractions.

Only formatting: every value comes from a Derivation (or the shape table) as a SymPy
number, and is printed exactly; nothing here rounds or computes a result.
"""

from __future__ import annotations

import numpy as np
import sympy as sp


def number(value) -> str:
    """An exact number as the articles print it: 48, -0.4, 2.52; 1/3 stays \\frac{1}{3}."""
    value = sp.sympify(value)
    if value.is_Integer:
        return str(int(value))
    if value.is_Rational:
        decimal = _terminating(value)
        if decimal is not None:
            return decimal
        sign = "-" if value < 0 else ""
        return r"%s\frac{%d}{%d}" % (sign, abs(value.p), value.q)
    return sp.latex(value)


def _terminating(value: sp.Rational) -> str | None:
    """The exact decimal of p/q when q has no prime factor but 2 and 5, else None."""
    q = value.q
    twos = fives = 0
    while q % 2 == 0:
        q //= 2
        twos += 1
    while q % 5 == 0:
        q //= 5
        fives += 1
    if q != 1:
        return None
    places = max(twos, fives)
    scaled = abs(value.p) * 10**places // value.q
    digits = str(scaled).rjust(places + 1, "0")
    sign = "-" if value < 0 else ""
    return f"{sign}{digits[:-places]}.{digits[-places:]}"


def squeeze(array) -> np.ndarray:
    """Drop leading axes of size 1 (sample, channel), as the articles do; keep H x W."""
    array = np.asarray(array, dtype=object)
    while array.ndim > 2 and array.shape[0] == 1:
        array = array[0]
    return array


def matrix(array) -> str:
    """A tensor as a bmatrix; a scalar as a number; channels as one bmatrix each."""
    array = squeeze(array)
    if array.size == 1:
        return number(array.reshape(-1)[0])
    if array.ndim == 1:
        array = array.reshape(1, -1)
    if array.ndim > 2:
        return r",\quad ".join(matrix(array[c]) for c in range(array.shape[0]))
    rows = [" & ".join(number(v) for v in row) for row in array]
    return r"\begin{bmatrix}" + r" \\ ".join(rows) + r"\end{bmatrix}"


def shape(dims) -> str:
    """A torch shape as code text: [1, 6, 28, 28]."""
    return "[" + ", ".join(str(int(n)) for n in dims) + "]"
