"""The JSON of the contract: output, loss, gradients, updated (torch's shapes)."""

from __future__ import annotations

import json
import math

import numpy as np

from .plain import plain


def _value(expr, show=str):
    """A JSON number when the entry is numeric, else the SymPy expression as a string."""
    if getattr(expr, "is_number", False) and expr.is_comparable:
        number = float(expr)
        if math.isfinite(number):
            return number
        # beyond float range: JSON has no Infinity, so give the exact value as a string
    return show(expr)


def nested(array: np.ndarray, show=str):
    array = np.asarray(array, dtype=object)
    if array.shape == ():
        return _value(array[()], show)
    return [nested(sub, show) for sub in array]


def to_json(view) -> str:
    show = str if view.derivation.expanded else plain  # tens of thousands of sums: print them fast
    document = {}
    if view.title:
        document["title"] = view.title
    document["output"] = nested(view.output, show)
    document["loss"] = _value(view.loss, show)
    document["gradients"] = {k: nested(v, show) for k, v in view.gradients.items()}
    if view.derivation.optimizer is not None:
        document["updated"] = {k: nested(v, show) for k, v in view.updated.items()}
    document["parameters"] = {k: nested(v, show) for k, v in view.parameters.items()}
    if not view.derivation.expanded:
        document["expanded"] = False  # kept in names; `named` only when symbols are left (docs/cli.md)
    if view.named is not None:
        document["named"] = {
            "definitions": {str(k): _value(v, show) for k, v in view.named.definitions.items()},
            "gradients": {k: nested(view.named.gradients[k], show) for k in view.gradients},
        }
    return json.dumps(document, ensure_ascii=False) + "\n"
