"""How long an entry prints at least, from its tree alone: decide "too long" before printing it.

A page measures an entry (texnames.width) to choose between a matrix, the first entry
and "too long to print". Building the LaTeX of 36 closed forms only to measure and drop
it took 19.3 of 20.9 s at 6x6. Every occurrence of a symbol prints at least one visible
character, so the occurrences (counted over the tree with repetition, but computed once
per distinct subexpression) are a lower bound on the width: above the limit, the LaTeX
need not be built. A Piecewise, a matrix or a Sum may break its LaTeX into rows (\\\\), so an
expression holding one has no bound (-inf, never "too long" from here).
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from .common import squeeze

_NO_BOUND = float("-inf")


class Occurrences:
    """Symbol occurrences per expression, memoised over the distinct subexpressions seen so far.

    `weigh` counts each occurrence as more than one character: `len(symbol.name)` bounds what
    str() prints (it writes every name whole), which the text format uses (brief.too_long).
    """

    def __init__(self, weigh=None):
        self._seen: dict = {}
        self._weigh = weigh

    def __call__(self, expr) -> float:
        if not isinstance(expr, sp.Basic):
            return 0
        try:
            return self._seen[expr]
        except KeyError:
            pass
        if isinstance(expr, sp.Symbol):
            count = 1 if self._weigh is None else self._weigh(expr)
        elif isinstance(expr, (sp.Piecewise, sp.Sum, sp.Product)) or getattr(expr, "is_Matrix", False):
            count = _NO_BOUND
        else:
            count = sum((self(a) for a in expr.args), 0)
        self._seen[expr] = count
        return count

    def widest(self, array) -> float:
        """A lower bound on the width of `array` printed as one matrix (texnames.matrix; 0 for no entries).

        A matrix row shows its entries side by side, two characters apart (texnames.width counts an &
        as two), and a tensor of more axes stacks the matrices of its last two: the widest row bounds
        it. Bounding by the widest entry alone built a 2x2 of 72-occurrence entries to measure it.
        """
        array = squeeze(np.asarray(array, dtype=object))
        if array.size <= 1:
            return max((self(v) for v in array.reshape(-1)), default=0)
        rows = array.reshape(-1, array.shape[-1])
        return max(sum(self(v) for v in row) + 2 * (len(row) - 1) for row in rows)
