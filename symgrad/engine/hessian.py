"""Second derivatives: the Hessian of the loss with respect to one parameter (or the input).

H[i, j] = d/dtheta_j (dL/dtheta_i), where theta is the parameter flattened row-major
and dL/dtheta_i is the explicit gradient entry that backprop already built. So the
Hessian is `sympy.diff` of a closed-form gradient, never of the whole loss twice.

Torch's double backward treats max pooling's routing and ReLU's indicator as
constants; here FirstArgmax and 1[x > 0] have derivative 0 too. The forward values
themselves contain Max(...), which SymPy differentiates through Heaviside (1/2 at a
tie), so at tied max-pool windows or ReLU inputs of exactly 0 the result may differ
from torch: evaluate at tie-free points.

A parameter that holds numbers (or repeated or compound entries) is differentiated
with fresh placeholders: the derivation is redone with the parameter set to one
placeholder per entry, differentiated, and the values substituted afterwards.
It is always the Hessian of the loss, whatever `backward_passes` summed into the gradients.
"""

from __future__ import annotations

import copy

import numpy as np
import sympy as sp

from . import derivation as engine
from .backprop import INPUT
from ..core.errors import OptionError


def hessian(derivation, name: str) -> sp.Matrix:
    """The n x n Matrix of d^2 L / d theta_i d theta_j for parameter `name` ("0.weight", or "input")."""
    t = derivation.tensors
    if name != INPUT and name not in t.parameters:
        known = ", ".join(t.gradients())
        raise OptionError("hessian", "name", f"no gradient named {name!r} (known: {known})")
    values = (t.input if name == INPUT else t.parameters[name].value).reshape(-1)
    if _distinct_symbols(values):
        gradient = t.gradient(name).reshape(-1) / derivation.backward_passes  # the loss's, not the sum's
        return _second(gradient, list(values))
    placeholders = [sp.Dummy("theta", real=True) for _ in values]
    again = _rederive(derivation, name, np.array(placeholders, dtype=object))
    matrix = _second(again.tensors.gradient(name).reshape(-1), placeholders)
    return matrix.xreplace(dict(zip(placeholders, values)))


def _distinct_symbols(values) -> bool:
    return all(isinstance(v, sp.Symbol) for v in values) and len(set(values)) == len(values)


def _second(gradient, wrt) -> sp.Matrix:
    return sp.Matrix(len(gradient), len(wrt), lambda i, j: sp.diff(gradient[i], wrt[j]))


def _rederive(derivation, name, placeholders):
    """The same derivation with `name` replaced by placeholders (the original is not touched)."""
    network = copy.deepcopy(derivation.network)
    x = derivation.tensors.input
    if name == INPUT:
        x = placeholders.reshape(x.shape)
    else:
        index, attr = name.split(".")
        layer = network.layers[int(index)]
        layer.initial[attr] = placeholders.reshape(layer.parameter_shapes()[attr])
    target = derivation.tensors.target if derivation.loss_fn is not None else None
    return engine.derive(network, x, derivation.loss_fn, target, None, method=derivation.method)
