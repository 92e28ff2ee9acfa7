"""The backward pass itself: each op's derivative rule applied from the loss back to the input.

Shared by the explicit derivation (derive.py) and the one over names (named.py), so
neither imports the other.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

#: The key of the input's gradient among the parameters' (and of the input in a derivation's arrays).
INPUT = "input"


def layer_params(params, i, layer):
    """{parameter name: value} of layer i, from the network-wide {"i.name": value}."""
    return {name: params[f"{i}.{name}"] for name in layer.parameter_shapes()}


def backprop(network, activations, params, loss, target, rename=None, after=None):
    """Apply each op's derivative rule from the loss back to the input.

    `rename(i, delta)` may replace the upstream gradient of layer i before its rule
    sees it: named.py uses it to give every delta a name. `after()` is called after
    each layer (progress).
    """
    out = activations[-1]
    if loss is None:
        delta = np.empty((), dtype=object)
        delta[()] = sp.Integer(1)
    else:
        delta = loss.backward(out, target)
    deltas, grads = [], {}
    for i in reversed(range(len(network))):
        layer = network.layers[i]
        if rename is not None:
            delta = rename(i, delta)
        deltas.append((network.label(i), delta))
        result = layer.backward(delta, activations[i], activations[i + 1], layer_params(params, i, layer))
        for name, grad in result.params.items():
            grads[f"{i}.{name}"] = grad
        delta = result.input
        if after is not None:
            after()
    grads[INPUT] = delta
    deltas.reverse()
    ordered = {name: grads[name] for name in [*params, INPUT]}
    return deltas, ordered
