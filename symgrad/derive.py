"""The derivation engine: forward expressions, backprop by each op's rule, one SGD step.

Two ways to differentiate, both kept:
- "rules" (default): each op's vector-Jacobian product applied to the upstream
  delta, as backprop does. Fast, and the result is built from named intermediates.
- "diff": `sympy.diff` of the whole loss with respect to every entry. Slow, but an
  independent ground truth for small cases. Note SymPy's d/da Max(a, b) is
  Heaviside(a - b) with Heaviside(0) = 1/2, so on tied max-pool windows the two
  differ; "rules" follows torch there.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import sympy as sp

from . import tensor
from .errors import OptionError
from .named import NamedForm, named_backprop
from .names import check_user_symbols, reserved_bases
from .network import Sequential
from .ops import Layer, Loss
from .ops import options as opt
from .optim import SGD

INPUT = "input"


@dataclass
class Derivation:
    """A finished derivation. Every public field holds SymPy objects (Array or Expr).

    `arrays` keeps the same tensors as NumPy object arrays, for printers and numeric code.
    """

    network: Sequential
    loss_fn: Loss | None
    optimizer: SGD | None
    method: str
    input: object
    target: object
    parameters: dict[str, object]
    forward: list[tuple[str, object]]
    output: object
    loss: sp.Expr
    deltas: list[tuple[str, object]]
    gradients: dict[str, object]
    updated: dict[str, object] = field(default_factory=dict)
    #: The same backward pass over named intermediates (sigma, S, delta); None for method="diff".
    named: NamedForm | None = None
    #: How many identical backward passes were summed into `gradients` (torch without zero_grad).
    backward_passes: int = 1
    arrays: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    @property
    def free_symbols(self) -> set[sp.Symbol]:
        found = set(self.loss.free_symbols)
        for array in self.arrays.values():
            for value in array.reshape(-1):
                found |= value.free_symbols
        return found

    def matrix(self, name: str, n: int = 0, c: int = 0) -> sp.Matrix:
        """The H x W slice (sample n, channel c) of a 4-D tensor as a SymPy Matrix.

        `name` is a key of `arrays`: "input", "output", "grad:0.weight", "updated:0.weight", ...
        """
        array = self.arrays[name]
        if array.ndim == 4:
            array = array[n, c]
        elif array.ndim == 3:
            array = array[c]
        return sp.Matrix(np.atleast_2d(array).tolist())

    def hessian(self, name: str) -> sp.Matrix:
        """d^2 L / d theta_i d theta_j for parameter `name` flattened row-major: see `symgrad.hessian`."""
        from .hessian import hessian

        return hessian(self, name)

    def _repr_markdown_(self) -> str:
        """Jupyter: the step-by-step derivation as Markdown with $$ math (symgrad.printing.steps)."""
        from .printing.steps import markdown_body

        return markdown_body(self)

    def _repr_latex_(self) -> str:
        """Jupyter's math-only LaTeX view: the key equations (symgrad.printing.steps)."""
        from .printing.steps import latex_summary

        return latex_summary(self)

    def lambdify(self, wrt=None):
        """Generated NumPy code for this derivation, batch-capable: see `symgrad.numeric.lambdify`."""
        from .numeric import lambdify

        return lambdify(self, wrt)


def as_input(values) -> np.ndarray:
    """2-D (H x W), 3-D (C x H x W) or 4-D (N x C x H x W) entries -> a 4-D object array."""
    array = values if isinstance(values, np.ndarray) and values.dtype == object else tensor.to_array(values, "input", "values")
    if array.ndim not in (2, 3, 4):
        raise OptionError("input", "values", f"expected a 2-D, 3-D or 4-D tensor, got {array.ndim}-D")
    return array.reshape((1,) * (4 - array.ndim) + array.shape)


def derive(network: Sequential, input, loss: Loss | None = None, target=None, optimizer: SGD | None = None,
           method: str = "rules", backward_passes: int = 1) -> Derivation:
    """Forward expressions, the loss, dL/d(every parameter and the input), and the SGD step.

    `backward_passes=n` sums the gradients of n identical forward/backward passes, as torch
    does when backward() runs n times without zero_grad(); the SGD step uses that sum.
    """
    if method not in ("rules", "diff"):
        raise OptionError("derive", "method", f"must be 'rules' or 'diff', got {method!r}")
    passes = opt.integer("derive", "backward_passes", backward_passes, 1)
    x = as_input(input)
    shapes = network.shapes(x.shape)
    params = network.parameters()
    target_array = _target(loss, target, shapes[-1] if shapes else x.shape)
    _check_user_names(network, x, params, loss, target, target_array)

    if method == "rules":
        activations = _forward(network, x, params)
        loss_value = _loss(loss, activations[-1], target_array)
        deltas, grads = backprop(network, activations, params, loss, target_array)
        named = named_backprop(network, x, params, loss, target_array)
    else:
        named = None
        activations, loss_value, grads = _diff(network, x, params, loss, target_array)
        deltas = []

    if passes > 1:
        grads = {name: tensor.apply(lambda g: passes * g, grad) for name, grad in grads.items()}
        if named is not None:
            named.gradients = {name: tensor.apply(lambda g: passes * g, grad) for name, grad in named.gradients.items()}
    updated = {name: optimizer.step(params[name], grads[name]) for name in params} if optimizer else {}
    labels = [network.label(i) for i in range(len(network))]
    arrays = {INPUT: x, "output": activations[-1]}
    arrays.update({f"param:{k}": v for k, v in params.items()})
    arrays.update({f"grad:{k}": v for k, v in grads.items()})
    arrays.update({f"updated:{k}": v for k, v in updated.items()})
    arrays.update({f"forward:{i}": a for i, a in enumerate(activations[1:])})
    if target_array is not None:
        arrays["target"] = np.asarray(target_array, dtype=object)
    return Derivation(
        network=network, loss_fn=loss, optimizer=optimizer, method=method,
        input=tensor.to_sympy(x),
        target=None if target_array is None else tensor.to_sympy(np.asarray(target_array, dtype=object)),
        parameters={k: tensor.to_sympy(v) for k, v in params.items()},
        forward=[(label, tensor.to_sympy(a)) for label, a in zip(labels, activations[1:])],
        output=tensor.to_sympy(activations[-1]),
        loss=loss_value,
        deltas=[(label, tensor.to_sympy(d)) for label, d in deltas],
        gradients={k: tensor.to_sympy(v) for k, v in grads.items()},
        updated={k: tensor.to_sympy(v) for k, v in updated.items()},
        named=named,
        backward_passes=passes,
        arrays=arrays,
    )



def _check_user_names(network, x, params, loss, target, target_array):
    """Refuse user symbols that would be merged with names symgrad generates (see names.py)."""
    reserved = reserved_bases(network, network.generated_parameters(), loss is not None and target is None)
    check_user_symbols(x, reserved, INPUT, "values")
    if loss is not None and target is not None:
        check_user_symbols(target_array, reserved, loss.where, "target")
    for i, layer in enumerate(network):
        for name in layer.initial:
            check_user_symbols(params[f"{i}.{name}"], reserved, network.label(i), f"init.{name}")


def _target(loss, target, out_shape):
    if loss is None:
        if target is not None:
            raise OptionError("loss", "target", "a target needs a loss")
        if out_shape != ():
            raise OptionError("loss", "type", f"the network output has shape {list(out_shape)}: "
                                              "add a [loss] or end the network with Sum")
        return None
    if target is None:
        return loss.check_target(out_shape, loss.symbolic_target(out_shape))
    array = target if isinstance(target, np.ndarray) and target.dtype == object else \
        np.asarray(tensor.to_array(target, loss.where, "target") if isinstance(target, (list, tuple, np.ndarray))
                   else tensor.entry(target, loss.where, "target"), dtype=object)
    return loss.check_target(out_shape, array)


def _forward(network, x, params):
    activations = [x]
    for i, layer in enumerate(network):
        activations.append(layer.forward(activations[-1], _layer_params(params, i, layer)))
    return activations


def _layer_params(params, i, layer: Layer):
    return {name: params[f"{i}.{name}"] for name in layer.parameter_shapes()}


def _loss(loss, out, target):
    return out[()] if loss is None else loss.forward(out, target)


def backprop(network, activations, params, loss, target, rename=None):
    """Apply each op's derivative rule from the loss back to the input.

    `rename(i, delta)` may replace the upstream gradient of layer i before its rule
    sees it: named.py uses it to give every delta a name.
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
        result = layer.backward(delta, activations[i], activations[i + 1], _layer_params(params, i, layer))
        for name, grad in result.params.items():
            grads[f"{i}.{name}"] = grad
        delta = result.input
    grads[INPUT] = delta
    deltas.reverse()
    ordered = {name: grads[name] for name in [*params, INPUT]}
    return deltas, ordered


def _diff(network, x, params, loss, target):
    """Ground truth: sympy.diff of the whole loss with respect to a placeholder per entry."""
    placeholders = {INPUT: _placeholders(x.shape)}
    placeholders.update({name: _placeholders(p.shape) for name, p in params.items()})
    values = {INPUT: x, **params}
    symbolic_params = {name: placeholders[name] for name in params}
    activations = _forward(network, placeholders[INPUT], symbolic_params)
    loss_expr = _loss(loss, activations[-1], target)
    back = {}
    for name in values:
        back.update(zip(placeholders[name].reshape(-1), values[name].reshape(-1)))
    grads = {name: tensor.apply(lambda p: sp.diff(loss_expr, p).xreplace(back), placeholders[name])
             for name in [*params, INPUT]}
    activations = [tensor.apply(lambda e: e.xreplace(back), a) for a in activations]
    return activations, loss_expr.xreplace(back), grads


def _placeholders(shape):
    return tensor.apply(lambda _: sp.Dummy("p", real=True), np.empty(shape, dtype=object))
