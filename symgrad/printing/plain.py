"""Fast plain-text printing of the huge sums a network kept in names has.

SymPy's str() spends most of its time on term ordering and precedence checks; the
definitions of a LeNet (tens of thousands of sums of c*u*v) took minutes. Sums and
products of numbers and symbols are printed here directly, in SymPy's own argument
order and syntax; anything else falls back to a printer without term ordering: SymPy's
str() for the text format (`plain`), the readable printer for the JSON (`plain_readable`:
SymPy syntax that plain SymPy reads back, symgrad's indicators included; readable.py).
"""

from __future__ import annotations

import sympy as sp

from .readable import readable_unordered

_TEXT = sp.StrPrinter({"order": "none"}).doprint


def plain(expr) -> str:
    """`expr` as SymPy's str() syntax, without sorting terms."""
    return _plain(expr, _TEXT)


def plain_readable(expr) -> str:
    """`expr` as `readable` prints it (what `sympify` reads back), without sorting terms."""
    return _plain(expr, readable_unordered)


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


def _term(expr, fallback) -> str:
    if expr.is_Symbol or expr.is_Integer:
        return str(expr)
    if expr.is_Mul and all(a.is_Symbol or a.is_Integer for a in expr.args):
        coefficient, *factors = expr.args if expr.args[0].is_Integer else (sp.S.One, *expr.args)
        body = "*".join(str(f) for f in factors)
        if coefficient == 1:
            return body
        if coefficient == -1:
            return "-" + body
        return f"{coefficient}*{body}"
    return fallback(expr)
