"""Worked lines: an entry's formula with the engine's numbers written in, as on a board.

    sigma_11 = k_11 x_11 + k_12 x_12 + ... = 3 * 1 + 2 * 2 + ... = 36

Nothing is computed here: the numbers behind the names come from the finished
derivation (`remember`), the result is the engine's value, and the middle is the
engine's formula printed with each name shown as its number.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from ..core.decimals import Printer
from .texnames import SMALL, symbol_names, tex, width


class Arithmetic:
    """The numbers of a derivation's names, and the worked lines written with them."""

    def __init__(self):
        self.values: dict[sp.Symbol, sp.Expr] = {}

    def remember(self, names, values) -> None:
        """Note the value of each name that has a number (small tensors only: only they get worked lines)."""
        if np.size(names) > SMALL:
            return
        values = np.array(values.tolist() if hasattr(values, "tolist") else values, dtype=object).reshape(
            np.shape(names))
        for name, value in zip(np.asarray(names).reshape(-1), values.reshape(-1)):
            if getattr(value, "is_number", False):
                self.values.setdefault(name, value)

    def lines(self, lefts, exprs, results, most: int, widest: int) -> list[str]:
        """`left = formula = numbers = result` per entry; [] when there are more than `most` entries,
        a line would be wider than `widest`, or a name has no number."""
        lefts, exprs, results = (np.asarray(a, dtype=object).reshape(-1) for a in (lefts, exprs, results))
        if not 0 < len(exprs) <= most or not all(getattr(r, "is_number", False) for r in results):
            return []
        lines = []
        for left, expr, result in zip(lefts, exprs, results):
            if not expr.free_symbols or expr.free_symbols - set(self.values):
                return []
            shown = [tex(left), tex(expr), written(expr, self.values), tex(result)]
            line = " = ".join(part for k, part in enumerate(shown) if k == 0 or part != shown[k - 1])
            if width(line) > widest:
                return []
            lines.append(line)
        return lines


def written(expr, values) -> str:
    """`expr` as tex prints it, with each name shown as its number in `values`: the same terms, factors
    and arguments in the same order (the formula is printed, never substituted: SymPy would re-sort
    max(9, 8, 10, 7) and merge 1*0 + 2*0), products marked with a dot (3 \\cdot 1)."""
    return _Written(values, symbol_names(expr)).doprint(expr)


class _Written(Printer):
    """The printer of `written`: a name prints as its number; a negative one in parentheses where a term,
    a factor or a power's base (1 + (-3), 2 \\cdot (-1), (-3)^2), bare elsewhere (\\frac{-4}{4}, max(-3, 2))."""

    def __init__(self, values, names):
        super().__init__({"mul_symbol": "dot", "symbol_names": names})
        self.values = values

    def _print_Symbol(self, expr, style="plain"):
        return tex(self.values[expr]) if expr in self.values else super()._print_Symbol(expr, style)

    def _wrapped(self, expr) -> bool:
        return expr in self.values and (self.values[expr] < 0 or r"\frac" in tex(self.values[expr]))

    def _needs_add_brackets(self, expr) -> bool:
        return super()._needs_add_brackets(expr) or (expr in self.values and self.values[expr] < 0)

    def _needs_mul_brackets(self, expr, first=False, last=False) -> bool:
        return super()._needs_mul_brackets(expr, first, last) or (expr in self.values and self.values[expr] < 0)

    def _print_Mul(self, expr):
        coefficient, rest = expr.as_coeff_Mul()
        if coefficient == -1 and rest in self.values and self.values[rest] < 0:  # - (-3), not - -3
            return r"- \left(%s\right)" % self._print(rest)
        return super()._print_Mul(expr)

    def _print_Pow(self, expr):
        if self._wrapped(expr.base) and expr.exp.is_Integer and expr.exp > 0:  # (-3)^2 and (1/3)^2, not -3^2
            return r"\left(%s\right)^{%s}" % (self._print(expr.base), self._print(expr.exp))
        return super()._print_Pow(expr)
