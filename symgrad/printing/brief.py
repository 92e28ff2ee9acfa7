"""Text that reads at any size: what `derive` prints by default for a network kept in names.

LeNet's text was 92.6 MB (every definition, every forward value, every gradient written
out). A person reads shapes and a few entries, as torch prints a large tensor: a tensor
of more than THRESHOLD entries shows EDGE items at each end of each axis with `...`
between, its numbers rounded to 4 decimals (torch's precision); an entry printed longer
than LONG characters shows its first terms and how many there are; each named tensor's
definitions show the first DEFINITIONS. `derive --full` prints everything.
Only formatting: the values are the engine's.
"""

from __future__ import annotations

import math
import re

import sympy as sp

from ..core import decimals

#: torch's print options (torch.set_printoptions): more entries than this and a tensor is summarised...
THRESHOLD = 1000
#: ... to this many items at each end of each axis.
EDGE = 3
#: An entry whose text is longer than this is shortened to its first terms.
LONG = 80
#: Definitions shown for each named tensor (its entries' names share a stem: sigma_1_1_1, sigma_1_1_2, ...).
DEFINITIONS = 3

GAP = "..."
_STEM = re.compile(r"(.*?)(?:_\d+)+\Z")


def summarised(array) -> bool:
    return array.size > THRESHOLD


def edges(n: int, summarise: bool) -> list:
    """The indices shown along an axis of length n; None where the `...` goes."""
    if not summarise or n <= 2 * EDGE:
        return list(range(n))
    return [*range(EDGE), None, *range(n - EDGE, n)]


def approx(value: float) -> str:
    """One number as torch prints a summarised tensor's: 4 decimals, or 4 digits and an exponent far from 1."""
    if not math.isfinite(value):
        return "nan" if math.isnan(value) else "inf" if value > 0 else "-inf"
    if value == int(value) and abs(value) < 1e8:
        return str(int(value))
    if 1e-4 <= abs(value) < 1e8:
        return f"{value:.4f}"
    return f"{value:.4e}"


def shortened(expr, show, limit: int = LONG) -> str:
    """`show(expr)`, or for a longer one its first terms and how many there are (only those terms printed).

    A sum's terms are written with decimal coefficients where they terminate (0.0725*x_11, not
    7247246954181263*x_11/100000000000000000; fractions under exact_fractions()), as torch shows numbers.
    """
    if not isinstance(expr, sp.Add):
        text = show(expr)
        return text if len(text) <= limit else f"{text[:limit]} ... ({len(text)} characters)"
    terms = expr.args
    text = ""
    for i, term in enumerate(terms):
        if i and len(text) > limit // 2:
            return f"{text} + ... ({len(terms)} terms)"
        piece = _term(term, show)
        if piece.startswith("-"):
            text += (" - " if i else "-") + piece[1:]
        else:
            text += (" + " if i else "") + piece
    return text


def _term(term, show) -> str:
    """One term of a sum: a terminating Rational coefficient of symbols as its decimal, else as `show` prints it."""
    if term.is_Rational and not term.is_Integer:
        return decimals.decimal(term) or show(term)
    head = term.args[0] if term.is_Mul else None
    if head is not None and head.is_Rational and not head.is_Integer and all(f.is_Symbol for f in term.args[1:]):
        shown = decimals.decimal(head)
        if shown is not None:
            return f"{shown}*" + "*".join(str(f) for f in term.args[1:])
    return show(term)


def stem(name) -> str:
    """sigma_5_3_22 -> sigma, delta_a_1_2 -> delta_a: the named tensor an entry's name belongs to."""
    match = _STEM.match(str(name))
    return match.group(1) if match else str(name)


def first_definitions(definitions: dict):
    """(name, definition) of the first DEFINITIONS of each named tensor, and (stem, how many left) after each."""
    shown, current, count = [], None, 0
    for name, definition in definitions.items():
        group = stem(name)
        if group != current:
            if count > DEFINITIONS:
                shown.append((None, (current, count - DEFINITIONS)))
            current, count = group, 0
        count += 1
        if count <= DEFINITIONS:
            shown.append((name, definition))
    if count > DEFINITIONS:
        shown.append((None, (current, count - DEFINITIONS)))
    return shown
