"""Fast plain-text printing of the huge sums a network kept in names has.

SymPy's str() spends most of its time on term ordering and precedence checks; the
definitions of a LeNet (tens of thousands of sums of c*u*v) took minutes. Sums and
products of numbers and symbols are printed here directly, in SymPy's own argument
order and syntax (a Rational coefficient as StrPrinter writes it: 2*u*v/3, -u*v/3; the
seeded weights of a LeNet are 17-digit Rationals, and this path cut its text from 74.5 s
to 15.7 s; the JSON outside --exact writes such a float64 made exact as that float64, floats.py);
anything else falls back to a printer without term ordering: SymPy's str()
for the text format (`plain`), the readable printer for the JSON (`plain_readable`:
SymPy syntax that plain SymPy reads back, symgrad's indicators included; readable.py).
`plain_printer` / `plain_readable_printer` give one document its own memoised fallback
(memo.py), so a subexpression shared by many entries is printed once.
"""

from __future__ import annotations

import sympy as sp

from .floats import coefficient
from .memo import readable_printer, text_printer
from .readable import readable_unordered
from .strpaths import coefficient_parts

_TEXT = sp.StrPrinter({"order": "none"}).doprint


def plain(expr) -> str:
    """`expr` as SymPy's str() syntax, without sorting terms."""
    return _plain(expr, _TEXT)


def plain_readable(expr) -> str:
    """`expr` as `readable` prints it (what `sympify` reads back), without sorting terms."""
    return _plain(expr, readable_unordered)


def plain_printer():
    """`plain` for one document: its fallback memoised (memo.py) and each entry printed once (the same
    entry object can stand in several fields: an output entry in a named definition's place)."""
    return _Entries(text_printer("none"))


def plain_readable_printer(floats: bool = False):
    """`plain_readable` for one document, memoised as plain_printer; `floats`: a float64 made exact as
    that float64 (floats.py), the JSON outside --exact."""
    return _Entries(readable_printer("none", floats), floats)


class _Entries:
    """One document's entries: each distinct one printed once, through `_plain` and `fallback`."""

    def __init__(self, fallback, floats: bool = False):
        self.fallback, self.floats, self.seen = fallback, floats, {}

    def __call__(self, expr) -> str:
        # by identity: hashing a sum of thousands of terms costs more than printing it (the same entry is one object)
        seen = self.seen.get(id(expr))
        if seen is not None and seen[0] is expr:
            return seen[1]
        text = _plain(expr, self.fallback, self.floats)
        self.seen[id(expr)] = (expr, text)  # the entry kept alive with its text, so its id stays its own
        return text


def _plain(expr, fallback, floats: bool = False) -> str:
    if expr.is_Add:
        pieces = []
        for i, term in enumerate(expr.args):
            piece = _pair(term, floats) if type(term) is _Mul and len(term._args) == 2 else None
            if piece is None:
                piece = _term(term, fallback, floats)
            if piece[0] == "-":
                pieces.append((" - " if i else "-") + piece[1:])
            else:
                pieces.append((" + " if i else "") + piece)
        return "".join(pieces)
    return _term(expr, fallback, floats)


_Symbol, _Mul, _Rational, _One = sp.Symbol, sp.Mul, sp.Rational, sp.S.One


def _pair(term, floats: bool) -> str | None:
    """_term of c*u or u*v (a number or symbol times a symbol: the bulk of a network's sums), or None.

    The coefficient's text is worked out once per number object (_coefficient_parts), not per term.
    """
    head, tail = term._args
    if type(tail) is not _Symbol:
        return None
    if type(head) is _Symbol:
        return f"{head.name}*{tail.name}"
    if not isinstance(head, _Rational) or head is _One:
        return None
    sign, prefix, suffix = _coefficient_parts(head, floats)
    return f"{sign}{prefix}{tail.name}{suffix}"


def _coefficient_parts(head, floats: bool) -> tuple[str, str, str]:
    """(sign, text before the symbol, text after it) of a Rational coefficient, as _term writes c*u:
    -0.18656576987781426*x_12 (a float64 made exact, floats.py), 2*u/3, -u/3, 3*u."""
    key = (id(head), floats)
    found = _PARTS.get(key)
    if found is not None and found[0] is head:
        return found[1]
    p, q = head.p, head.q
    shown = coefficient(p, q) if floats and q != 1 else None
    if shown is not None:
        parts = ("-" if shown[0] == "-" else "", shown.lstrip("-") + "*", "")
    else:
        parts = coefficient_parts(p, q)
    if len(_PARTS) >= _PARTS_SIZE:
        _PARTS.clear()  # a long-lived process (serve) does not keep every coefficient it printed
    _PARTS[key] = (head, parts)  # the number kept alive with its parts, so its id stays its own
    return parts


_PARTS: dict = {}
_PARTS_SIZE = 1 << 18


def _term(expr, fallback, floats: bool = False) -> str:
    kind = type(expr)
    if kind is _Symbol:
        return expr.name
    if expr.is_Rational:
        if expr.q == 1:
            return str(expr.p)
        shown = coefficient(expr.p, expr.q) if floats else None
        return shown if shown is not None else f"{expr.p}/{expr.q}"  # 3, -3, 2/3 as str() writes them
    if kind is _Mul:
        args = expr.args
        head = args[0]
        if head.is_Rational:
            if head is sp.S.One:  # an unevaluated 1*x: StrPrinter shows the 1
                return fallback(expr)
            p, q, factors = head.p, head.q, args[1:]
        else:
            p, q, factors = 1, 1, args
        names = []
        for f in factors:
            if type(f) is _Symbol:
                names.append(f.name)
            elif f.is_Symbol:  # a Dummy prints as _name
                names.append(str(f))
            else:
                return fallback(expr)
        body = "*".join(names)
        shown = coefficient(p, q) if floats and q != 1 else None
        if shown is not None:  # -0.18656576987781426*x_12, as floats.FloatCoefficients writes it
            return f"{shown}*{body}"
        sign, before, after = coefficient_parts(p, q)
        return f"{sign}{before}{body}{after}"
    if expr.is_Symbol:
        return str(expr)
    return fallback(expr)
