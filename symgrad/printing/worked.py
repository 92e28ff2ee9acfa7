"""Worked lines: an entry's formula with the engine's numbers written in, as on a board.

    sigma_11 = k_11 x_11 + k_12 x_12 + ... = 3 * 1 + 2 * 2 + ... = 36

Nothing is computed here: the numbers behind the names come from the finished
derivation (`remember`), the result is the engine's value, and the middle is the
engine's formula printed with each name shown as its number.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from .texnames import SMALL, tex, width


class Arithmetic:
    """The numbers of a derivation's names, and the worked lines written with them."""

    def __init__(self):
        self.values: dict[sp.Symbol, sp.Expr] = {}
        self.shown: dict[sp.Symbol, sp.Dummy] = {}

    def remember(self, names, values) -> None:
        """Note the value of each name that has a number (small tensors only: only they get worked lines)."""
        if np.size(names) > SMALL:
            return
        values = np.array(values.tolist() if hasattr(values, "tolist") else values, dtype=object).reshape(
            np.shape(names))
        for name, value in zip(np.asarray(names).reshape(-1), values.reshape(-1)):
            if getattr(value, "is_number", False):
                self.values.setdefault(name, value)

    def number(self, name: sp.Symbol) -> sp.Dummy:
        """The value of `name` as a symbol that prints as the number.

        A Dummy per name: equal numbers must not merge into one term (1*0 + 2*0 is not 3*0).
        """
        if name not in self.shown:
            shown = tex(self.values[name])
            self.shown[name] = sp.Dummy(f"({shown})" if shown.startswith("-") else shown)
        return self.shown[name]

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
            known = {s: self.number(s) for s in sorted(expr.free_symbols, key=sp.default_sort_key)}
            parts = [_written(term, known) for term in expr.as_ordered_terms()]
            numbers = parts[0] + "".join(f" - {p[1:]}" if p.startswith("-") else f" + {p}" for p in parts[1:])
            shown = [tex(left), tex(expr), numbers, tex(result)]
            line = " = ".join(part for k, part in enumerate(shown) if k == 0 or part != shown[k - 1])
            if width(line) > widest:
                return []
            lines.append(line)
        return lines


def _written(term, known) -> str:
    """One term with its names replaced by their numbers, factors kept in the order the formula prints them."""
    coefficient, rest = term.as_coeff_Mul()
    factors = [] if rest == 1 else list(rest.as_ordered_factors())
    shown = [sp.latex(f.xreplace(known)) for f in factors]
    if coefficient not in (1, -1) or not shown:
        shown.insert(0, tex(abs(coefficient)) if shown else tex(coefficient))
    text = r" \cdot ".join(shown)
    return "-" + text if coefficient < 0 and shown and not text.startswith("-") else text
