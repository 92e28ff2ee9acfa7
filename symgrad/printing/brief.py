"""Text that reads at any size: what `derive` prints by default for a network kept in names.

LeNet's text was 92.6 MB (every definition, every forward value, every gradient written
out). A person reads shapes and a few entries, as torch prints a large tensor: a tensor
of more than THRESHOLD entries shows EDGE items at each end of each axis with `...`
between, its numbers rounded to 4 decimals (torch's precision); an entry printed longer
than LONG characters shows its first terms and how many there are (a term that holds a
sum, x_11*(...), with that sum shortened too); each named tensor's definitions show the
first DEFINITIONS. `derive --full` prints everything.
A derivation written out in its inputs is printed in brief too when its full text would
certainly pass FULL_TEXT characters (`too_long`): fully symbolic at 10x10, its closed forms
were 0.8 to 1.2 MB of text. Only formatting: the values are the engine's.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np
import sympy as sp

from ..core import decimals
from .measure import Occurrences
from .ordering import ordered_terms
from .strpaths import coefficient_parts

#: torch's print options (torch.set_printoptions): more entries than this and a tensor is summarised...
THRESHOLD = 1000
#: ... to this many items at each end of each axis.
EDGE = 3
#: An entry whose text is longer than this is shortened to its first terms.
LONG = 80
#: Definitions shown for each named tensor (its entries' names share a stem: sigma_1_1_1, sigma_1_1_2, ...).
DEFINITIONS = 3

#: An expanded derivation whose full text is certainly longer than this (characters) is printed in brief.
FULL_TEXT = 200_000

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


@dataclass(frozen=True)
class Brief:
    """How a text in brief shortens an entry: `exact` for a derivation written out in its inputs (shortened)."""

    exact: bool = False

    def __call__(self, expr, show) -> str:
        return shortened(expr, show, exact=self.exact)


def shortened(expr, show, limit: int = LONG, exact: bool = False) -> str:
    """`show(expr)`, or for a longer one its first terms and how many there are (only those terms printed).

    A network kept in names: a sum's terms in SymPy's argument order (a sum of thousands is not
    sorted), with decimal coefficients where they terminate (0.0725*x_11, not
    7247246954181263*x_11/100000000000000000; fractions under exact_fractions()), as torch shows
    numbers. `exact` (a derivation written out in its inputs): the terms in str()'s order, each as
    `show` writes it (k_11*x_11/4), so that the brief text begins as the full one does.
    """
    if not isinstance(expr, sp.Add):
        text = _product(expr, show, limit, exact)
        return text if len(text) <= limit else f"{text[:limit]} ... ({len(text)} characters)"
    terms = ordered_terms(expr) if exact else expr.args
    text = ""
    for i, term in enumerate(terms):
        if i and len(text) > limit // 2:
            return f"{text} + ... ({len(terms)} terms)"
        piece = _product(term, show, limit, exact) if exact else _term(term, show, limit)
        if piece.startswith("-"):
            text += (" - " if i else "-") + piece[1:]
        else:
            text += (" + " if i else "") + piece
    return text


def _term(term, show, limit: int) -> str:
    """One term of a sum: a terminating Rational coefficient of symbols as its decimal, else as _product."""
    if term.is_Rational and not term.is_Integer:
        return decimals.decimal(term) or show(term)
    head = term.args[0] if term.is_Mul else None
    if head is not None and head.is_Rational and not head.is_Integer and all(f.is_Symbol for f in term.args[1:]):
        shown = decimals.decimal(head)
        if shown is not None:
            return f"{shown}*" + "*".join(str(f) for f in term.args[1:])
    return _product(term, show, limit, False)


def _product(term, show, limit: int, exact: bool) -> str:
    """`show(term)`; a longer product or power with each sum in it shortened, x_11*(...) or (...)**2/16, and a
    long call by its name, Max(...); the other factors as `show` writes them; anything else whole."""
    text = show(term)
    if len(text) <= limit or not isinstance(term, sp.Basic) or term.is_Rational:
        return text
    pieces, coefficient = [], ("", "", "")
    for factor in (term.args if term.is_Mul else [term]):
        if factor.is_Rational:  # as str() writes a coefficient: -3*(...)/4
            coefficient = coefficient_parts(factor.p, factor.q)
        elif factor.is_Add:
            pieces.append(f"({shortened(factor, show, limit, exact)})")
        elif factor.is_Pow and factor.base.is_Add and factor.exp.is_Integer and factor.exp > 0:
            pieces.append(f"({shortened(factor.base, show, limit, exact)})**{factor.exp}")
        elif factor.is_Symbol or factor.is_Pow and factor.base.is_Symbol and factor.exp.is_Integer and factor.exp > 0:
            pieces.append(show(factor))
        else:
            shown, name = show(factor), type(factor).__name__
            if not shown.startswith(name + "("):
                return text  # printed in a form of its own (1[x > 0]): whole
            pieces.append(shown if len(shown) <= limit else f"{name}(...)")  # Max(...): its arguments above, in names
    sign, before, after = coefficient
    return sign + before + "*".join(pieces) + after


def too_long(view) -> bool:
    """Whether `view`'s full text is certainly longer than FULL_TEXT characters: its entries' symbol names
    alone (str() writes each name whole; measure.py, each distinct subexpression counted once)."""
    count = Occurrences(lambda symbol: len(symbol.name))
    arrays = [view.input, *view.parameters.values(), *(value for _, value in view.forward), view.loss,
              *view.gradients.values(), *view.updated.values()]
    if view.named is not None:
        arrays += [list(view.named.definitions.values()), *view.named.gradients.values()]
    total = 0
    for array in arrays:
        for value in np.asarray(array, dtype=object).reshape(-1):
            total += count(value)
            if total > FULL_TEXT:
                return True
    return False


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
