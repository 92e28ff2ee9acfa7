"""Evaluate a derivation at numbers: every quantity as float64 NumPy arrays."""

from __future__ import annotations

import random

import numpy as np
import sympy as sp

from ..errors import SymgradError


def random_values(symbols, seed: int = 0, low: int = -3, high: int = 3) -> dict[sp.Symbol, sp.Integer]:
    """Small random integers for the free symbols: exact in float64, and ties are likely on purpose."""
    rng = random.Random(seed)
    return {s: sp.Integer(rng.randint(low, high)) for s in sorted(symbols, key=lambda s: s.name)}


def _floats(array: np.ndarray, values: dict) -> np.ndarray:
    out = np.empty(array.shape, dtype=np.float64)
    for idx in np.ndindex(*array.shape):
        value = array[idx].xreplace(values) if values else array[idx]
        if value.free_symbols:
            names = ", ".join(sorted(s.name for s in value.free_symbols))
            raise SymgradError(f"cannot evaluate numerically: no value for {names}")
        out[idx] = float(value)
    return out


def evaluate(derivation, values: dict | None = None) -> dict:
    """{"input", "output", "loss", "parameters", "gradients", "updated", "target"} as float64.

    An expanded derivation is evaluated exactly, entry by entry, then rounded; one kept in
    named intermediates (too large to expand) through its named program in float64,
    layer by layer (symgrad.numeric.bulk).
    """
    values = values or {}
    arrays = derivation.arrays
    if not getattr(derivation, "expanded", True):
        return _evaluate_named(derivation, values)
    result = {
        "input": _floats(arrays["input"], values),
        "output": _floats(arrays["output"], values),
        "loss": float(_floats(np.asarray(derivation.loss, dtype=object), values)),
        "parameters": {k[6:]: _floats(v, values) for k, v in arrays.items() if k.startswith("param:")},
        "gradients": {k[5:]: _floats(v, values) for k, v in arrays.items() if k.startswith("grad:")},
        "updated": {k[8:]: _floats(v, values) for k, v in arrays.items() if k.startswith("updated:")},
    }
    if "target" in arrays:
        result["target"] = _floats(arrays["target"], values)
    return result


def _evaluate_named(derivation, values: dict) -> dict:
    from ..numeric.bulk import evaluate_named

    arrays = derivation.arrays
    numbers = evaluate_named(derivation, values)
    result = {
        "input": _floats(arrays["input"], values),
        "output": numbers["output"],
        "loss": numbers["loss"],
        "parameters": {k[6:]: _floats(v, values) for k, v in arrays.items() if k.startswith("param:")},
        "gradients": numbers["gradients"],
        "updated": numbers["updated"],
    }
    if "target" in arrays:
        result["target"] = _floats(arrays["target"], values)
    return result
