"""Printers that print each distinct subexpression once: one per document.

A derivation's entries share most of their subexpressions (a 10x10 max-pool gradient:
270,825 tree nodes, 2,156 distinct; the same Max printed 1,200 times), and SymPy's
StrPrinter prints, and sorts the terms of, every occurrence again. `memoised(Printer)`
is the same printer with `_print` cached on the subexpression, so a document costs time
in proportion to its distinct subexpressions, with byte-identical output.

Why caching is sound: a StrPrinter's text for a subexpression does not depend on where it
stands (parentheses are the parent's, `parenthesize`), only on the printer's settings
(fixed per printer) and `_print`'s keyword arguments (in the key). The one exception is a
Float at the top level (full_prec="auto" keeps its trailing zeros there), not cached.
The key holds the type too: 1, 1.0, True and Integer(1) compare equal in Python and print
differently; SymPy's own equality tells Floats of different precision apart.
"""

from __future__ import annotations

from sympy import Float, Symbol
from sympy.printing.str import StrPrinter

from ..core.decimals import Printer as DecimalLatexPrinter, exact

from .floats import FloatCoefficients
from .ordering import ordered_terms
from .readable import ReadablePrinter
from .strpaths import FastSums


class _Memo:
    """Mixin: `_print` looked up before it is computed."""

    def __init__(self, settings=None):
        super().__init__(settings)
        self._memo: dict = {}

    def _print(self, expr, **kwargs) -> str:
        if self._print_level == 0 and isinstance(expr, Float):
            return super()._print(expr, **kwargs)
        try:
            key = (type(expr), expr, tuple(sorted(kwargs.items()))) if kwargs else (type(expr), expr)
            return self._memo[key]
        except KeyError:
            text = self._memo[key] = super()._print(expr, **kwargs)
            return text
        except TypeError:  # unhashable (a list): printed as it is
            return super()._print(expr, **kwargs)

    def _as_ordered_terms(self, expr, order=None):
        """SymPy's term order, without evalf for each Rational coefficient (ordering.py)."""
        if (order or self.order) is None and expr.is_Add:
            return ordered_terms(expr)
        return super()._as_ordered_terms(expr, order=order)


class MemoStrPrinter(_Memo, FastSums, StrPrinter):
    """SymPy's str(), memoised: `MemoStrPrinter().doprint(e) == str(e)`."""


class MemoReadablePrinter(_Memo, FastSums, ReadablePrinter):
    """readable.py's printer (what plain SymPy reads back), memoised."""


class MemoFloatReadablePrinter(_Memo, FastSums, FloatCoefficients, ReadablePrinter):
    """The same with a float64 made exact printed as that float64 (floats.py): JSON outside --exact."""


class _LazyNames(dict):
    """A printer's `symbol_names` that names every symbol on first sight (`spell(name)`), once per document:
    tex() computed the names of each expression's free symbols again for every expression."""

    def __init__(self, spell):
        super().__init__()
        self.spell = spell

    def get(self, symbol, default=None):
        try:
            return self[symbol]
        except KeyError:
            if not isinstance(symbol, Symbol):
                return default
            text = self[symbol] = self.spell(symbol.name)
            return text


class MemoLatexPrinter(_Memo, DecimalLatexPrinter):
    """decimals.py's LaTeX printer (2.52, \\frac{1}{3}), memoised, with symbols named by `spell`.

    Its numbers depend on `exact_fractions()`, which a document may switch: the memo is kept per setting.
    """

    def __init__(self, spell):
        super().__init__({"symbol_names": _LazyNames(spell)})
        self._memos = {False: self._memo, True: {}}

    def doprint(self, expr) -> str:
        self._memo = self._memos[exact()]
        return super().doprint(expr)


def text_printer(order: str | None = None):
    """A fresh memoised str() for one document (`order="none"`: terms unsorted, as plain.py)."""
    return MemoStrPrinter({"order": order} if order else None).doprint


def readable_printer(order: str | None = None, floats: bool = False):
    """A fresh memoised readable printer for one document (`floats`: float64 coefficients, floats.py)."""
    kind = MemoFloatReadablePrinter if floats else MemoReadablePrinter
    return kind({"order": order} if order else None).doprint
