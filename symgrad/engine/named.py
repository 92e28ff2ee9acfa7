"""The backward pass over *names*: gradients as a teacher writes them.

Instead of substituting everything into one exploding expression, each layer
output gets a name (sigma_ij for a convolution, S_ij for pooling, as the articles
write them) and each upstream gradient a delta (delta_S = dL/dS, printed in LaTeX as
\\delta^{S}). Each op's own derivative rule is applied to these names, so dL/dK_ab
comes out as sum_ij delta_sigma_ij x_{i+a, j+b}, with the definitions of every name kept in
order. This is the derivation symgrad always does; `expand` substitutes the
names back, which gives the explicit element formulas (the ops' rules applied to
whole expressions: same objects, see `_rebuild`). For deep networks the
expansion explodes, so `expanded_size` estimates it before anyone builds it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import sympy as sp

from ..core import algebra, tensor
from .backprop import backprop, layer_params
from ..core.names import DELTA, layer_names
from ..core.progress import SILENT


@dataclass
class NamedForm:
    """Named activations and deltas, their definitions (in dependency order), and the gradients in names."""

    activations: list[tuple[str, np.ndarray]]
    deltas: list[tuple[str, np.ndarray]]
    definitions: dict[sp.Symbol, sp.Expr]
    loss: sp.Expr
    gradients: dict[str, np.ndarray]
    #: Set by `derive` when it does not expand: what `values` shows instead (see `values`).
    shown_values: dict[sp.Symbol, sp.Expr] | None = field(default=None, repr=False)

    def expand(self, expr: sp.Expr) -> sp.Expr:
        """`expr` with every name replaced by its definition, recursively (exact; large for deep networks)."""
        return self._substitution()(sp.sympify(expr))

    @property
    def values(self) -> dict[sp.Symbol, sp.Expr]:
        """Each name's value in terms of the inputs and parameters only (numbers when they are given).

        For a derivation `derive` did not expand (too large), the exact values are not built:
        each name maps to its float64 value (a sympy Float) when every input is a number, else
        to the name itself. `expand` still gives exact values, one expression at a time.
        """
        if self.shown_values is not None:
            return self.shown_values
        return self.exact_values()

    def exact_values(self) -> dict[sp.Symbol, sp.Expr]:
        """Every name's exact value, built once, in dependency order."""
        substitute = self._substitution()
        if len(substitute.values) < len(self.definitions):
            for name, definition in self.definitions.items():
                if name not in substitute.values:
                    substitute.values[name] = substitute(definition)
        return substitute.values

    def _substitution(self) -> "_Substitution":
        if not hasattr(self, "_substitute"):
            self._substitute = _Substitution(self.definitions)
        return self._substitute

    def expanded_size(self, samples: int = 3) -> int:
        """Estimated number of nodes of every field written out without names (forward, deltas, gradients).

        Exact sizes would need the expansion itself; the entries of one named tensor
        have the same structure, so a few samples per tensor, with each name inside
        them counted at its tensor's estimate, are enough to tell small from hopeless.
        """
        weight: dict[sp.Symbol, int] = {}
        total = 0
        for _, array in [*self.activations, *reversed(self.deltas)]:
            names = array.reshape(-1)
            estimate = _sampled_size(names, lambda s: self.definitions[s], weight, samples)
            weight.update(dict.fromkeys(names, estimate))
            total += estimate * names.size
        for array in self.gradients.values():
            total += _sampled_size(array.reshape(-1), lambda e: e, weight, samples) * array.size
        return total + _tree_size(sp.sympify(self.loss), weight)


class _Substitution:
    """Names -> values, rebuilding each node as the ops build it; memoised over shared subexpressions."""

    def __init__(self, definitions):
        self.definitions = definitions
        self.values: dict[sp.Symbol, sp.Expr] = {}
        self.memo: dict[sp.Basic, sp.Basic] = {}

    def __call__(self, expr):
        value = self.values.get(expr)
        if value is not None:
            return value
        if expr in self.definitions:  # a name not resolved yet (expand() before exact_values())
            value = self.values[expr] = self(self.definitions[expr])
            return value
        if not expr.args:
            return expr
        done = self.memo.get(expr)
        if done is None:
            args = [self(arg) for arg in expr.args]
            done = expr if all(a is b for a, b in zip(args, expr.args)) else _rebuild(expr, args)
            self.memo[expr] = done
        return done


def _rebuild(expr, args):
    """`expr` with new arguments, built as the ops build it: symbolic Max/Min stay unevaluated
    (SymPy's pairwise assumption queries are what made pooling slow), numbers evaluate."""
    if expr.is_Add:
        return algebra.add(args)
    if isinstance(expr, (sp.Max, sp.Min)):
        return expr.func(*args, evaluate=all(a.is_number for a in args))
    return expr.func(*args)


def _sampled_size(entries, definition, weight, samples) -> int:
    """Mean expanded tree size of a few entries (first, middle, last ...) of one tensor."""
    if entries.size == 0:
        return 0
    picks = sorted({round(i * (entries.size - 1) / max(samples - 1, 1)) for i in range(samples)})
    sizes = [_tree_size(sp.sympify(definition(entries[i])), weight) for i in picks]
    return max(1, sum(sizes) // len(sizes))


def _tree_size(expr, weight) -> int:
    """Nodes of `expr`'s tree, a name counting as the size of its expansion (`weight`)."""
    total, stack = 0, [expr]
    while stack:
        node = stack.pop()
        size = weight.get(node) if node.is_Symbol else None
        if size is not None:
            total += size
            continue
        total += 1
        stack.extend(node.args)
    return total


def _name_array(base: str, shape) -> np.ndarray:
    if shape == ():
        array = np.empty((), dtype=object)
        array[()] = sp.Symbol(tensor.index_name(base, ()), real=True)  # S_, not S (SymPy's S)
        return array
    return tensor.image_symbols(base, shape)


def named_backprop(network, x, params, loss, target, progress=SILENT) -> NamedForm:
    """Forward and backward over names; each op's rule sees names, not expansions.

    `progress.step` is called once per forward layer and once per backward layer.
    """
    names = layer_names(network)
    acts = [x]
    definitions: dict[sp.Symbol, sp.Expr] = {}
    for i, layer in enumerate(network):
        progress.describe(f"forward {network.label(i)}")
        out = layer.forward(acts[-1], layer_params(params, i, layer))
        named = _name_array(names[i], out.shape)
        definitions.update(zip(named.reshape(-1), out.reshape(-1)))
        acts.append(named)
        progress.step()
    loss_expr = acts[-1][()] if loss is None else loss.forward(acts[-1], target)

    named_deltas = []

    def rename(i, upstream):
        delta = _name_array(f"{DELTA}_{names[i]}", upstream.shape)
        definitions.update(zip(delta.reshape(-1), upstream.reshape(-1)))
        named_deltas.append((names[i], delta))
        progress.describe(f"backward {network.label(i)}")
        return delta

    _, grads = backprop(network, acts, params, loss, target, rename, after=progress.step)
    named_deltas.reverse()
    return NamedForm(activations=list(zip(names, acts[1:])), deltas=named_deltas, definitions=definitions,
                     loss=loss_expr, gradients=grads)
