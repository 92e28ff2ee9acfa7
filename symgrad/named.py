"""The backward pass over *names*: gradients as a teacher writes them.

Instead of substituting everything into one exploding expression, each layer
output gets a name (sigma_ij for a convolution, S_ij for pooling, as the articles
write them) and each upstream gradient a delta (delta^S = dL/dS). Each op's own
derivative rule is applied to these names, so dL/dK_ab comes out as
sum_ij delta^sigma_ij x_{i+a, j+b}, with the definitions of every name kept in
order. `expand` substitutes them back (what "rules" gives directly).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy as sp

from . import tensor


@dataclass
class NamedForm:
    """Named activations and deltas, their definitions (in dependency order), and the gradients in names."""

    activations: list[tuple[str, np.ndarray]]
    deltas: list[tuple[str, np.ndarray]]
    definitions: dict[sp.Symbol, sp.Expr]
    loss: sp.Expr
    gradients: dict[str, np.ndarray]

    def expand(self, expr: sp.Expr) -> sp.Expr:
        """`expr` with every name replaced by its definition, recursively."""
        return expr.xreplace(self.values)

    @property
    def values(self) -> dict[sp.Symbol, sp.Expr]:
        """Each name's value in terms of the inputs and parameters only (numbers when they are given)."""
        if not hasattr(self, "_values"):
            full = {}
            for name, definition in self.definitions.items():
                full[name] = definition.xreplace(full)
            self._values = full
        return self._values


def layer_names(network) -> list[str]:
    """The base name of each layer's output: its letter, with the layer index when the letter repeats."""
    seen, names = set(), []
    for i, layer in enumerate(network):
        letter = layer.output_letter
        names.append(letter if letter not in seen else f"{letter}{i}")
        seen.add(letter)
    return names


def _name_array(base: str, shape) -> np.ndarray:
    if shape == ():
        array = np.empty((), dtype=object)
        array[()] = sp.Symbol(base, real=True)
        return array
    return tensor.image_symbols(base, shape)


def named_backprop(network, x, params, loss, target) -> NamedForm:
    """Forward and backward over names; each op's rule sees names, not expansions."""
    from .derive import _layer_params, backprop

    names = layer_names(network)
    acts = [x]
    definitions: dict[sp.Symbol, sp.Expr] = {}
    for i, layer in enumerate(network):
        out = layer.forward(acts[-1], _layer_params(params, i, layer))
        named = _name_array(names[i], out.shape)
        definitions.update(zip(named.reshape(-1), out.reshape(-1)))
        acts.append(named)
    loss_expr = acts[-1][()] if loss is None else loss.forward(acts[-1], target)

    named_deltas = []

    def rename(i, upstream):
        delta = _name_array(f"delta^{names[i]}", upstream.shape)
        definitions.update(zip(delta.reshape(-1), upstream.reshape(-1)))
        named_deltas.append((names[i], delta))
        return delta

    _, grads = backprop(network, acts, params, loss, target, rename)
    named_deltas.reverse()
    return NamedForm(activations=list(zip(names, acts[1:])), deltas=named_deltas, definitions=definitions,
                     loss=loss_expr, gradients=grads)
