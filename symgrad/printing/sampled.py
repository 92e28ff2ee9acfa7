"""A large network's numbers in brief: the loss and every gradient at the values `symgrad check` uses.

A network too large to expand (LeNet, the tutorial Net) is derived in named
intermediates over a symbolic input, so its page has formulas but no numbers. This
section gives the numbers a reader expects of a worked example: the loss and, for each
gradient, its shape, first entries, norm, min and max (torch's 4 decimals), evaluated at
the spec's numbers and, for its symbols, the values `symgrad check` draws. Only
formatting: the values come evaluated (verify.evaluate, float64) from the caller.
"""

from __future__ import annotations

import numpy as np

from .blocks import Heading, Math, Para, Table
from .summary import approx, brief
from .texnames import parameter_symbol
from .words import words


def blocks(d, numbers, lang: str, drawn: str = "") -> list:
    """The section's blocks: heading, where the values come from, the loss, one table row per gradient."""
    w = words(lang)
    out = [Heading(w["sampled"]), Para(w["sampled_intro"] + (" " + w["sampled_drawn"].format(values=drawn)
                                                                if drawn else ""))]
    if not _finite(numbers):  # e.g. every weight a symbol drawn as +-3: logits beyond float64's exp
        return out + [Para(w["sampled_overflow"])]
    if "loss" in numbers:
        out.append(Math(r"L \approx %s" % approx(float(numbers["loss"]))))
    header = (w["sampled_quantity"], w["sampled_shape"], w["sampled_first"], w["sampled_norm"], w["sampled_min"], w["sampled_max"])
    rows = []
    for name, gradient in numbers.get("gradients", {}).items():
        symbol = parameter_symbol(name, d.network)
        b = brief(gradient)
        rows.append((r"$\frac{\partial L}{\partial %s}$ (`%s`)" % (symbol, name), str(tuple(gradient.shape)),
                     f"${b['first']}$", f"${b['norm']}$", f"${b['min']}$", f"${b['max']}$"))
    if rows:
        out.append(Table(header, tuple(rows)))
    return out


def _finite(numbers) -> bool:
    """Whether the loss and every gradient came out finite in float64 (no overflow to inf or nan)."""
    arrays = [np.asarray(numbers.get("loss", 0.0), dtype=float)]
    arrays += [np.asarray(g, dtype=float) for g in numbers.get("gradients", {}).values()]
    return all(np.isfinite(a).all() for a in arrays)
