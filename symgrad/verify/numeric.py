"""Evaluate a derivation at numbers: every quantity as float64 NumPy arrays."""

from __future__ import annotations

import random

import numpy as np
import sympy as sp

from ..core.errors import SymgradError


def random_values(symbols, seed: int = 0, low: int = -3, high: int = 3, positive=frozenset()
                  ) -> dict[sp.Symbol, sp.Integer]:
    """Small random integers for the free symbols: exact in float64, and ties are likely on purpose.
    Symbols in `positive` (the entries of buffers: a running variance under a square root) get 1..high."""
    rng = random.Random(seed)
    return {s: sp.Integer(rng.randint(1 if s in positive else low, high)) for s in sorted(symbols, key=lambda s: s.name)}


def buffer_symbols(derivation) -> set[sp.Symbol]:
    """The symbols in the buffers the spec gives (running statistics): `check` draws them positive."""
    return {s for b in derivation.tensors.buffers.values() for v in b.value.reshape(-1) for s in v.free_symbols}


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
    """{"input", "output", "loss", "parameters", "gradients", "updated", "target"} as float64, and for a
    network with buffers "buffers" (as given) and "updated_buffers" (after the forward passes); with
    steps = n > 1, "steps" (each step's): then "updated" and "updated_buffers" are those after the last
    step, as the JSON's, and the other fields the first step's.

    An expanded derivation is evaluated exactly, entry by entry, then rounded; one kept in
    named intermediates (too large to expand) through its named program in float64,
    layer by layer (symgrad.numeric.bulk).
    """
    values = values or {}
    t = derivation.tensors
    if not getattr(derivation, "expanded", True):
        return _evaluate_named(derivation, values)
    result = {
        "input": _floats(t.input, values),
        "output": _floats(t.output, values),
        "loss": float(_floats(np.asarray(derivation.loss, dtype=object), values)),
        "parameters": {k: _floats(p.value, values) for k, p in t.parameters.items()},
        "gradients": {k: _floats(g, values) for k, g in t.gradients().items()},
        "updated": {k: _floats(u, values) for k, u in t.updated().items()},
    }
    if t.target is not None:
        result["target"] = _floats(t.target, values)
    return {**result, **_buffers(t, values, values), **_steps(derivation)}


def _steps(derivation) -> dict:
    """`steps = n` > 1: {"steps": [each step's output, loss, gradients, updated (and buffers)]} and the last
    step's updated (and buffers), every entry a number (engine/training.py refuses symbols); {} for one step."""
    steps = getattr(derivation, "steps", [])
    if not steps:
        return {}
    shown = []
    for step in steps:
        numbers = {"output": _floats(step.output, {}), "loss": float(_floats(np.asarray(step.loss, dtype=object), {})),
                   "gradients": {k: _floats(g, {}) for k, g in step.gradients().items()},
                   "updated": {k: _floats(u, {}) for k, u in step.updated().items()}}
        if step.buffers:
            numbers["updated_buffers"] = {k: _floats(b, {}) for k, b in step.buffers.items()}
        shown.append(numbers)
    last = {key: shown[-1][key] for key in ("updated", "updated_buffers") if key in shown[-1]}
    return {"steps": shown, **last}  # as the JSON: the parameters and buffers after the loop


def _buffers(t, values: dict, moved: dict) -> dict:
    """The buffers as float64, as given and after the forward passes (`moved`: values for their entries,
    which name the layers' inputs in a derivation kept in names); nothing for a network without buffers."""
    if not t.buffers:
        return {}
    return {"buffers": {k: _floats(b.value, values) for k, b in t.buffers.items()},
            "updated_buffers": {k: _floats(b.updated, moved) for k, b in t.buffers.items()}}


def _evaluate_named(derivation, values: dict) -> dict:
    from ..numeric.bulk import evaluate_named

    t = derivation.tensors
    numbers = evaluate_named(derivation, values)
    result = {
        "input": _floats(t.input, values),
        "output": numbers["output"],
        "loss": numbers["loss"],
        "parameters": {k: _floats(p.value, values) for k, p in t.parameters.items()},
        "gradients": numbers["gradients"],
        "updated": numbers["updated"],
    }
    if t.target is not None:
        result["target"] = _floats(t.target, values)
    names = {s: sp.Float(numbers["names"][str(s)]) for s in derivation.named.definitions} if t.buffers else {}
    return {**result, **_buffers(t, values, {**values, **names}), **_steps(derivation)}
