"""The JSON of the contract: output, loss, gradients, updated (torch's shapes)."""

from __future__ import annotations

import json
import math

import numpy as np


def _value(expr):
    """A JSON number when the entry is numeric, else the SymPy expression as a string."""
    if getattr(expr, "is_number", False) and expr.is_comparable:
        number = float(expr)
        if math.isfinite(number):
            return number
        # beyond float range: JSON has no Infinity, so give the exact value as a string
    return str(expr)


def nested(array: np.ndarray):
    array = np.asarray(array, dtype=object)
    if array.shape == ():
        return _value(array[()])
    return [nested(sub) for sub in array]


def to_json(view) -> str:
    document = {}
    if view.title:
        document["title"] = view.title
    document["output"] = nested(view.output)
    document["loss"] = _value(view.loss)
    document["gradients"] = {k: nested(v) for k, v in view.gradients.items()}
    if view.derivation.optimizer is not None:
        document["updated"] = {k: nested(v) for k, v in view.updated.items()}
    document["parameters"] = {k: nested(v) for k, v in view.parameters.items()}
    if view.named is not None:
        document["named"] = {
            "definitions": {str(k): _value(v) for k, v in view.named.definitions.items()},
            "gradients": {k: nested(view.named.gradients[k]) for k in view.gradients},
        }
    return json.dumps(document, ensure_ascii=False) + "\n"
