"""The JSON of the contract: output, loss, gradients, updated (torch's shapes).

An entry without symbols is a JSON number; any other entry is a string in SymPy's
syntax that plain SymPy reads back (`sympy.sympify(s)`, no symgrad import, no extra
locals), printed by the readable printer (readable.py; `plain_readable` for a network
kept in names, whose sums are too many for SymPy's term ordering). Outside `--exact` a
coefficient that is a float64 made exact (a seeded weight) is written as that float64
(floats.py): a LeNet's strings at about half the size, equal to symgrad's up to float64
rounding of those coefficients. `named.gradients` leaves out a gradient that `gradients`
already holds as it is (a network kept in names): each is written once.
"""

from __future__ import annotations

import json
import math

import numpy as np
import sympy as sp

from ..core import decimals
from ..core.progress import each
from .memo import readable_printer
from .plain import plain_readable_printer
from .readable import readable

#: Digits an exact number is evaluated to before it is rounded to a float (cancellation included).
DIGITS = 30


def number(expr) -> float | None:
    """`expr` as a float when it has no symbols and fits a float (an exact zero is 0.0), else None."""
    if not getattr(expr, "is_number", False):
        return None
    try:
        if expr.is_Rational:
            value = float(expr)  # exactly rounded
        else:
            evaluated = expr.evalf(DIGITS)
            if not evaluated.is_Number:  # zoo, or not real
                return None
            # SymPy's convention (is_comparable): a result with no precision is zero to the digits asked for,
            # as in an exact zero SymPy cannot simplify, -1 + E/(E + exp(2)) + exp(2)/(E + exp(2))
            value = 0.0 if evaluated.is_Float and evaluated._prec <= 1 else float(evaluated)
    except (OverflowError, TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def _value(expr, show=readable):
    """A JSON number when the entry is numeric and in float range, else the SymPy expression as a string.

    Beyond float range (JSON has no Infinity) the exact value stays a string, which reads back too.
    Under `derive --exact` (decimals.exact_fractions) a number float64 does not hold exactly (a seeded
    17-digit weight, 1/3, log(2)) is its exact string too ("2663500629324983/200000000000000000").
    """
    value = number(expr)
    if value is not None and not (decimals.exact() and not _held(value, expr)):
        return 0.0 if value == 0 else value  # no -0.0
    return show(expr)


def _held(value: float, expr) -> bool:
    """Whether the float is the entry itself (a Rational with a power-of-two denominator, in range)."""
    return bool(expr.is_Rational) and sp.Rational(value) == expr


def nested(array: np.ndarray, show=readable):
    array = np.asarray(array, dtype=object)
    if array.shape == ():
        return _value(array[()], show)
    return [nested(sub, show) for sub in array]


def counts(array: np.ndarray, show=readable):
    """A count's entries (torch's int64, num_batches_tracked) as JSON integers; a symbolic one as its string."""
    array = np.asarray(array, dtype=object)
    if array.shape == ():
        entry = array[()]
        return int(entry) if getattr(entry, "is_Integer", False) else show(entry)
    return [counts(sub, show) for sub in array]


def _step(step, view, show) -> dict:
    """One step of steps = n: its loss, gradients (those of --wrt) and the parameters after it."""
    gradients = step.gradients()
    shown = {"loss": _value(step.loss, show), "gradients": {k: nested(gradients[k], show) for k in view.gradients},
             "updated": {k: nested(step.parameters[k].updated, show) for k in view.updated}}
    return shown


def _same(a, b) -> bool:
    """Whether two tensors hold the same entries (the same objects, as a network kept in names has them)."""
    a, b = np.asarray(a, dtype=object).reshape(-1), np.asarray(b, dtype=object).reshape(-1)
    return a.shape == b.shape and all(x is y or x == y for x, y in zip(a, b))


def to_json(view) -> str:
    # one memoised printer per document (memo.py): each distinct subexpression printed once; a network kept
    # in names has tens of thousands of sums, printed by plain.py's fast path; float64 coefficients unless --exact
    floats = not decimals.exact()
    show = readable_printer(floats=floats) if view.derivation.expanded else plain_readable_printer(floats)
    document = {}
    if view.title:
        document["title"] = view.title
    document["output"] = nested(view.output, show)
    document["loss"] = _value(view.loss, show)
    document["gradients"] = {k: nested(v, show) for k, v in each(view.gradients.items(), "print gradients")}
    steps = view.derivation.steps  # steps = n > 1: `updated` and `buffers` after the last step, as torch's
    last = steps[-1] if steps else None  # state after the loop; "steps" has each step's (docs/cli.md)
    if view.derivation.optimizer is not None:
        document["updated"] = {k: nested(last.parameters[k].updated if last else v, show)
                               for k, v in view.updated.items()}
    document["parameters"] = {k: nested(v, show) for k, v in view.parameters.items()}
    buffers = view.derivation.tensors.buffers
    if buffers:  # as torch's state_dict after the forward passes; a count (num_batches_tracked) an integer
        document["buffers"] = {k: counts(last.buffers[k] if last else b.updated, show) if b.count
                               else nested(last.buffers[k] if last else b.updated, show) for k, b in buffers.items()}
    if steps:
        document["steps"] = [_step(step, view, show) for step in steps]
    if not view.derivation.expanded:
        document["expanded"] = False  # kept in names; `named` only when symbols are left (docs/cli.md)
    if view.named is not None:
        document["named"] = {
            "definitions": {str(k): _value(v, show) for k, v in view.named.definitions.items()},
            # only where the form in names differs: a gradient already in names is `gradients[k]` (docs/cli.md)
            "gradients": {k: nested(view.named.gradients[k], show) for k in view.gradients
                          if not _same(view.named.gradients[k], view.gradients[k])},
        }
    return json.dumps(document, ensure_ascii=False) + "\n"
