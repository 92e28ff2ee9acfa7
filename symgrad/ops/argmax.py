"""Torch's max-pooling routing as a SymPy function: 1 at the first maximum, else 0.

SymPy differentiates Max through Heaviside, with Heaviside(0) = 1/2: four tied
values would each receive half the gradient. Torch gives the whole gradient to
the FIRST maximum in row-major order (`val > maxval || isnan(val)`). This
indicator states that rule explicitly and evaluates as soon as the window is
numeric, so substituting numbers always reproduces torch, ties included.
"""

from __future__ import annotations

import sympy as sp


class FirstArgmax(sp.Function):
    """FirstArgmax(k, v_0, ..., v_{n-1}) = 1[v_k is the first maximum of v]."""

    is_integer = True
    is_nonnegative = True

    @classmethod
    def eval(cls, position, *values):
        if not position.is_Integer or not values:
            return None
        k = int(position)
        if not 0 <= k < len(values):
            raise ValueError("FirstArgmax position outside the window")
        mine = values[k]
        if not mine.is_comparable:
            return None  # symbolic comparisons go through SymPy's (slow) assumptions: leave it named
        for j, other in enumerate(values):
            # an earlier value that ties or beats us wins; a later one must beat us strictly
            if j != k and other.is_comparable and ((other >= mine) if j < k else (other > mine)):
                return sp.Integer(0)
        if all(v.is_comparable for v in values):
            return sp.Integer(1)
        return None

    def fdiff(self, argindex=1):
        return sp.Integer(0)  # piecewise constant: zero wherever it is differentiable

    def _eval_rewrite_as_Piecewise(self, position, *values, **kwargs):
        k = int(position)
        mine = values[k]
        conditions = [mine > v for v in values[:k]] + [mine >= v for v in values[k + 1:]]
        return sp.Piecewise((1, sp.And(*conditions)), (0, True))

    def _latex(self, printer):
        k = int(self.args[0])
        window = ", ".join(printer._print(v) for v in self.args[1:])
        return r"\mathbb{I}\left[%d = \operatorname{argmax}\left(%s\right)\right]" % (k + 1, window)

    def _sympystr(self, printer):
        window = ", ".join(printer._print(v) for v in self.args[1:])
        return f"FirstArgmax({int(self.args[0]) + 1}; {window})"
