"""Worked lines `left = symbols = numbers = result` for the short questions that have no derivation page.

The batch-norm, transposed-convolution, dropout, cross-entropy and Adam questions are worked
out by hand-sized formulas, not by the step printer. Each line is written once, in names
(`\\hat{x}_{1} = \\frac{x_{1} - \\mu}{...}`); its numbers part is that text with every name
replaced by its value (negative numbers in parentheses where an operator precedes them),
the same substitution tests/printing/test_worked_lines.py reads back, and its result is
the exact value computed from the givens (the final ones are the engine's). `values` keeps
every name's number, so a test can check each line and chain.
"""

from __future__ import annotations

import re

import sympy as sp

from ..core.decimals import number
from .document import Math


class Lines:
    """The names' values (givens first, each line's result added under its left side) and the lines."""

    def __init__(self, values: dict | None = None):
        self.values: dict[str, sp.Expr] = {k: sp.nsimplify(v) for k, v in (values or {}).items()}
        self.rows: list[str] = []

    def name(self, name: str, value) -> sp.Expr:
        """A value the lines use by name without a line of its own (a given, or one stated in prose)."""
        self.values[name] = sp.nsimplify(value)
        return self.values[name]

    def line(self, left: str, symbols: str, value) -> sp.Expr:
        """`left = symbols = numbers = value`; `left` then names `value` for the lines after it."""
        value = sp.nsimplify(value)
        numbers = substitute(symbols, self.values)
        self.rows.append(f"{left} &= {symbols} = {numbers} = {number(value)}")
        self.values[left] = value
        return value

    def block(self) -> Math:
        """The lines written since the last block, as one aligned display; the names stay known."""
        rows, self.rows = self.rows, []
        return Math("\\begin{aligned}" + " \\\\ ".join(rows) + "\\end{aligned}")


_OPERATOR = re.compile(r"(?:[-+]|\\cdot)\s*$")


def substitute(symbols: str, values: dict) -> str:
    """`symbols` with each name (longest first, not inside a longer command) written as its number."""
    names = sorted((n for n in values if n in symbols), key=len, reverse=True)
    if not names:
        return symbols
    pattern = re.compile(r"(?<![A-Za-z\\])(?:%s)" % "|".join(re.escape(n) for n in names))
    out, start = [], 0
    for m in pattern.finditer(symbols):
        value = values[m.group(0)]
        text = number(value)
        before, after = "".join(out) + symbols[start:m.start()], symbols[m.end():m.end() + 1]
        if (value < 0 and _OPERATOR.search(before)) or (after == "^" and (value < 0 or not value.is_integer)):
            text = f"\\left({text}\\right)"
        out.append(symbols[start:m.start()] + text)
        start = m.end()
    return "".join(out) + symbols[start:]


def vector(values) -> str:
    """A row of numbers as a one-row bmatrix (the answer key's form, which tests read back)."""
    return "\\begin{bmatrix}" + " & ".join(number(v) for v in values) + "\\end{bmatrix}"
