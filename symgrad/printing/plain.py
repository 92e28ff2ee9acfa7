"""Fast plain-text printing of the huge sums a network kept in names has.

SymPy's str() spends most of its time on term ordering and precedence checks; the
definitions of a LeNet (tens of thousands of sums of c*u*v) took minutes. Sums and
products of numbers and symbols are printed here directly, in SymPy's own argument
order and syntax (a Rational coefficient as StrPrinter writes it: 2*u*v/3, -u*v/3; the
seeded weights of a LeNet are 17-digit Rationals, and this path cut its text from 74.5 s
to 15.7 s); anything else falls back to a printer without term ordering: SymPy's str()
for the text format (`plain`), the readable printer for the JSON (`plain_readable`:
SymPy syntax that plain SymPy reads back, symgrad's indicators included; readable.py).
`plain_printer` / `plain_readable_printer` give one document its own memoised fallback
(memo.py), so a subexpression shared by many entries is printed once.
"""

from __future__ import annotations

import sympy as sp

from .memo import readable_printer, text_printer
from .readable import readable_unordered

_TEXT = sp.StrPrinter({"order": "none"}).doprint


def plain(expr) -> str:
    """`expr` as SymPy's str() syntax, without sorting terms."""
    return _plain(expr, _TEXT)


def plain_readable(expr) -> str:
    """`expr` as `readable` prints it (what `sympify` reads back), without sorting terms."""
    return _plain(expr, readable_unordered)


def plain_printer():
    """`plain` for one document: its fallback memoised (memo.py), the same text."""
    fallback = text_printer("none")
    return lambda expr: _plain(expr, fallback)


def plain_readable_printer():
    """`plain_readable` for one document, its fallback memoised."""
    fallback = readable_printer("none")
    return lambda expr: _plain(expr, fallback)


def _plain(expr, fallback) -> str:
    if expr.is_Add:
        text = ""
        for i, term in enumerate(expr.args):
            piece = _term(term, fallback)
            if piece.startswith("-"):
                text += (" - " if i else "-") + piece[1:]
            else:
                text += (" + " if i else "") + piece
        return text
    return _term(expr, fallback)


def _name(symbol) -> str:
    return symbol.name if type(symbol) is sp.Symbol else str(symbol)  # a Dummy prints as _name


def _term(expr, fallback) -> str:
    if expr.is_Symbol:
        return _name(expr)
    if expr.is_Rational:
        return str(expr)  # 3, -3, 2/3
    if expr.is_Mul:
        args = expr.args
        if args[0].is_Rational and args[0] is not sp.S.One and all(f.is_Symbol for f in args[1:]):
            p, q, factors = args[0].p, args[0].q, args[1:]
        elif all(f.is_Symbol for f in args):
            p, q, factors = 1, 1, args
        else:
            return fallback(expr)
        body = "*".join(_name(f) for f in factors)
        text = body if abs(p) == 1 else f"{abs(p)}*{body}"
        return ("-" if p < 0 else "") + (text if q == 1 else f"{text}/{q}")
    return fallback(expr)
