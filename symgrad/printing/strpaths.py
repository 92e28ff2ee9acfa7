"""StrPrinter's sums and products, for the shapes backprop builds, without its general checks.

Printing a 10x10 average-pooling derivation's closed forms, about a third of the time went
to `precedence` (sympy/printing/precedence.py): for every term of every sum, and for every
product, `precedence_Mul` asks `could_extract_minus_sign`, which negates the product (a new
Mul) and asks a fresh Rational for its sign (the assumptions system, per Rational object).
Here, for the shapes that dominate (c*x*y with a Rational c and symbols in name order, and
those times one sum, c*x*(...)), the text is written directly, exactly as StrPrinter
writes it; a sum's Mul terms skip `precedence`, which for a product is never below a sum's.
Anything else goes to StrPrinter unchanged. tests/printing/test_strpaths.py holds the
output equal to `sympy.sstr` (and the readable and float printers') by hypothesis.
"""

from __future__ import annotations

import sympy as sp
from sympy.printing.precedence import PRECEDENCE, precedence

from .floats import LARGEST_EXACT

_Symbol, _Mul, _Add, _Rational, _One = sp.Symbol, sp.Mul, sp.Add, sp.Rational, sp.S.One
_ADD = PRECEDENCE["Add"]


class FastSums:
    """StrPrinter mixin: `_print_Add` and `_print_Mul` with short paths (module docstring)."""

    def _print_Add(self, expr, order=None):
        # StrPrinter._print_Add, with precedence(term) skipped for a product: it is Mul's or Add's
        # (precedence_Mul), never below the sum's own, so a product is never parenthesized here.
        terms = self._as_ordered_terms(expr, order=order)
        prec = precedence(expr)
        skip = prec <= _ADD
        pieces = []
        for term in terms:
            text = self._print(term)
            if text.startswith("-") and not term.is_Add:
                sign, text = "-", text[1:]
            else:
                sign = "+"
            if term.is_Add or not (skip and type(term) is _Mul) and precedence(term) < prec:
                pieces += [sign, f"({text})"]
            else:
                pieces += [sign, text]
        sign = pieces.pop(0)
        return ("" if sign == "+" else sign) + " ".join(pieces)

    def _print_Mul(self, expr):
        text = _product(self, expr)
        return text if text is not None else super()._print_Mul(expr)


def _product(printer, expr) -> str | None:
    """StrPrinter's text of c*x*y*... or c*x*...*(sum) (c a Rational, or none; symbols in name order), else None.

    StrPrinter moves a negative c's sign to the front, writes |p| before the factors (none for 1)
    and /q after them; a sum is parenthesized (its precedence is below a product's). A q above
    floats.LARGEST_EXACT is left to the printer: the JSON's float printer writes it as a float.
    """
    if type(expr) is not _Mul or not expr.is_commutative:
        return None
    args = expr._args
    head = args[0]
    if isinstance(head, _Rational):
        if head is _One or head.q > LARGEST_EXACT:
            return None  # an unevaluated 1*x shows its 1; a float64 made exact is the float printer's
        factors, p, q = args[1:], head.p, head.q
    else:
        factors, p, q = args, 1, 1
    if not factors:
        return None
    last = factors[-1]
    tail = None
    if type(last) is _Add:
        tail, factors = last, factors[:-1]
    names, previous = [], None
    for factor in factors:
        if type(factor) is not _Symbol:
            return None
        name = factor.name
        if previous is not None and name <= previous:
            return None  # args in another order than names (assumptions differ): StrPrinter sorts
        names.append(name)
        previous = name
    if tail is not None:
        names.append(f"({printer._print(tail)})")
    sign, before, after = coefficient_parts(p, q)
    return f"{sign}{before}{'*'.join(names)}{after}"


def coefficient_parts(p: int, q: int) -> tuple[str, str, str]:
    """(sign, text before the factors, text after them) of a coefficient p/q as StrPrinter writes a product:
    -u/3, 2*u/3, 3*u (|p| first unless 1, /q last)."""
    return ("-" if p < 0 else "", "" if p in (1, -1) else f"{abs(p)}*", "" if q == 1 else f"/{q}")
