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


class _Substitution:
    """`expr.xreplace(values)` for many expressions, each distinct subexpression rebuilt once.

    A derivation's output, loss, gradients and updates share most of their subexpressions
    (the pooled values in every gradient entry); xreplace rebuilt each occurrence again.
    The rebuilding is xreplace's own (`func(*args)`, evaluating), so the values are the same.
    """

    def __init__(self, values: dict):
        self.done = dict(values)

    def __call__(self, expr):
        try:
            return self.done[expr]
        except KeyError:
            pass
        except TypeError:  # unhashable: not a SymPy expression
            return expr
        if not isinstance(expr, sp.Basic) or not expr.args:
            return expr
        args = tuple(self(a) for a in expr.args)
        value = expr.func(*args) if any(new is not old for new, old in zip(args, expr.args)) else expr
        self.done[expr] = value
        return value


def _substitution(values: dict):
    """A substitution of `values` (the expressions themselves when there are none)."""
    return _Substitution(values) if values else (lambda expr: expr)


_NUMBERS = _substitution({})  # entries that are numbers already (a training step's)


def _floats(array: np.ndarray, substitute) -> np.ndarray:
    """`array`'s entries, `substitute`d (_substitution), as float64; an error naming any symbol left."""
    out = np.empty(array.shape, dtype=np.float64)
    for idx in np.ndindex(*array.shape):
        value = substitute(array[idx])
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
    given = _substitution(values)
    result = {
        "input": _floats(t.input, given),
        "output": _floats(t.output, given),
        "loss": float(_floats(np.asarray(derivation.loss, dtype=object), given)),
        "parameters": {k: _floats(p.value, given) for k, p in t.parameters.items()},
        "gradients": {k: _floats(g, given) for k, g in t.gradients().items()},
        "updated": {k: _floats(u, given) for k, u in t.updated().items()},
    }
    if t.target is not None:
        result["target"] = _floats(t.target, given)
    return {**result, **_buffers(t, given, given), **_steps(derivation)}


def _steps(derivation) -> dict:
    """`steps = n` > 1: {"steps": [each step's output, loss, gradients, updated (and buffers)]} and the last
    step's updated (and buffers), every entry a number (engine/training.py refuses symbols); {} for one step."""
    steps = getattr(derivation, "steps", [])
    if not steps:
        return {}
    shown = []
    for step in steps:
        numbers = {"output": _floats(step.output, _NUMBERS),
                   "loss": float(_floats(np.asarray(step.loss, dtype=object), _NUMBERS)),
                   "gradients": {k: _floats(g, _NUMBERS) for k, g in step.gradients().items()},
                   "updated": {k: _floats(u, _NUMBERS) for k, u in step.updated().items()}}
        if step.buffers:
            numbers["updated_buffers"] = {k: _floats(b, _NUMBERS) for k, b in step.buffers.items()}
        shown.append(numbers)
    last = {key: shown[-1][key] for key in ("updated", "updated_buffers") if key in shown[-1]}
    return {"steps": shown, **last}  # as the JSON: the parameters and buffers after the loop


def _buffers(t, given, after) -> dict:
    """The buffers as float64, as given and after the forward passes (`given`, `after`: substitutions, after's
    also of the names of the layers' inputs in a derivation kept in names); nothing for a network without buffers."""
    if not t.buffers:
        return {}
    return {"buffers": {k: _floats(b.value, given) for k, b in t.buffers.items()},
            "updated_buffers": {k: _floats(b.updated, after) for k, b in t.buffers.items()}}


def _evaluate_named(derivation, values: dict) -> dict:
    from ..numeric.bulk import evaluate_named

    t = derivation.tensors
    numbers = evaluate_named(derivation, values)
    given = _substitution(values)
    result = {
        "input": _floats(t.input, given),
        "output": numbers["output"],
        "loss": numbers["loss"],
        "parameters": {k: _floats(p.value, given) for k, p in t.parameters.items()},
        "gradients": numbers["gradients"],
        "updated": numbers["updated"],
    }
    if t.target is not None:
        result["target"] = _floats(t.target, given)
    names = {s: sp.Float(numbers["names"][str(s)]) for s in derivation.named.definitions} if t.buffers else {}
    after = _substitution({**values, **names}) if names else given
    return {**result, **_buffers(t, given, after), **_steps(derivation)}
