"""Element-wise activations: ReLU, Sigmoid, Tanh, each with torch's derivative.

The derivative rules are written through the output where that is how backprop
is taught (sigma' = s(1 - s), tanh' = 1 - t^2), so in the named backward pass
they read in terms of the layer's named output a_ij.

ReLU'(0) is 0 in torch. SymPy's d/dx Max(x, 0) is Heaviside(x) with
Heaviside(0) = 1/2, so the rule uses its own indicator `Positive` (1[x > 0]),
which is 0 at exactly 0 and evaluates as soon as x is a number.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from ..core import tensor
from . import options as opt
from .base import Gradients, ParameterlessLayer, missing, one_per_output


class Positive(sp.Function):
    """Positive(x) = 1[x > 0]: torch's ReLU derivative, 0 at exactly 0 (not Heaviside's 1/2)."""

    is_integer = True
    is_nonnegative = True

    @classmethod
    def eval(cls, x):
        if x.is_Symbol:  # a lone symbol's assumptions are cheap to ask
            sign = x.is_positive
            return None if sign is None else sp.Integer(int(sign))
        if not x.is_comparable:
            return None  # sums would go through SymPy's slow assumptions system: leave it named
        return sp.Integer(1) if x > 0 else sp.Integer(0)

    def fdiff(self, argindex=1):
        return sp.Integer(0)  # piecewise constant: zero wherever it is differentiable

    def _eval_rewrite_as_Piecewise(self, x, **kwargs):
        return sp.Piecewise((1, x > 0), (0, True))

    def _latex(self, printer):
        return r"\mathbb{I}\left[%s > 0\right]" % printer._print(self.args[0])

    def _sympystr(self, printer):
        return f"1[{printer._print(self.args[0])} > 0]"


class _Elementwise(ParameterlessLayer):
    """An activation: same shape out as in, no parameters, dL/dx = delta * f'(x)."""

    output_letter = "a"
    rule_words = "general_plain"
    words = {"en": {}, "zh": {}}
    figure = missing("an element-wise map has no window to picture")
    terms = one_per_output

    def options(self):
        return {}

    def output_shape(self, in_shape):
        return tuple(in_shape)

    def shape_formula(self, in_shape):
        return "element-wise: same shape as the input"

    def function(self, x: sp.Expr) -> sp.Expr:
        raise NotImplementedError

    def local(self, x: sp.Expr, y: sp.Expr) -> sp.Expr:
        """f'(x), given the input entry x and the output entry y = f(x)."""
        raise NotImplementedError

    def forward(self, x, params):
        return tensor.apply(self.function, x)

    def backward(self, delta, x, out, params):
        dx = np.empty(x.shape, dtype=object)
        for idx in np.ndindex(*x.shape):
            d = delta[idx]
            dx[idx] = sp.Integer(0) if d == 0 else d * self.local(x[idx], out[idx])
        return Gradients(input=dx)

    def torch_module(self):
        import torch

        return getattr(torch.nn, self.type_name)()

    def index_instance(self, key, in_shape):
        return ""  # no numbers to fill in

    @classmethod
    def from_torch(cls, module):
        return cls()


class ReLU(_Elementwise):
    type_name = "ReLU"
    index_form = {
        "forward": r"a_{i} = \max(x_{i}, 0)",
        "input": r"\frac{\partial L}{\partial x_{i}} = \delta_{i}\, \mathbb{I}\left[x_{i} > 0\right]",
    }

    def __init__(self, inplace=False):
        super().__init__()
        # in-place or not, the values and gradients are the same; kept so torch specs load
        self.inplace = opt.boolean(self.type_name, "inplace", inplace)

    @classmethod
    def from_torch(cls, module):
        return cls(inplace=module.inplace)

    def function(self, x):
        return sp.Max(x, 0, evaluate=x.is_comparable)  # as in pooling: no symbolic assumption queries

    def local(self, x, y):
        return Positive(x)


class Sigmoid(_Elementwise):
    type_name = "Sigmoid"
    index_form = {
        "forward": r"a_{i} = \frac{1}{1 + e^{-x_{i}}}",
        "input": r"\frac{\partial L}{\partial x_{i}} = \delta_{i}\, a_{i} (1 - a_{i})",
    }

    def function(self, x):
        if x.is_Symbol:  # a name: SymPy would return this very tree, after slow assumption queries
            return sp.Pow(sp.Add(1, sp.exp(-x, evaluate=False), evaluate=False), -1, evaluate=False)
        return 1 / (1 + sp.exp(-x))

    def local(self, x, y):
        return y * (1 - y)


class Tanh(_Elementwise):
    type_name = "Tanh"
    index_form = {
        "forward": r"a_{i} = \tanh x_{i}",
        "input": r"\frac{\partial L}{\partial x_{i}} = \delta_{i}\, (1 - a_{i}^{2})",
    }

    def function(self, x):
        return sp.tanh(x)

    def local(self, x, y):
        return 1 - y**2


# ---------------------------------------------------------------- index forms as evaluable functions

def _elementwise_rules(function, local):
    """The forward and input index forms of an activation, evaluated entry by entry as written."""
    def forward(layer, x, params, delta=None):
        return tensor.apply(function, x)

    def input(layer, x, params, delta):
        out = np.empty(x.shape, dtype=object)
        for idx in np.ndindex(*x.shape):
            out[idx] = delta[idx] * local(x[idx], function(x[idx]))
        return out

    return {"forward": forward, "input": input}


ReLU.index_rules = _elementwise_rules(lambda x: sp.Max(x, 0), lambda x, a: sp.Integer(1) if x > 0 else sp.Integer(0))
Sigmoid.index_rules = _elementwise_rules(lambda x: 1 / (1 + sp.exp(-x)), lambda x, a: a * (1 - a))
Tanh.index_rules = _elementwise_rules(sp.tanh, lambda x, a: 1 - a**2)


# ---------------------------------------------------------------- array twins (NumPy, batch axes in front)

def _relu_forward(x):
    """max(x, 0) on a whole array."""
    return np.maximum(x, 0.0)


def _relu_backward(delta, x, out, *, want_input=True):
    """delta where x > 0, else 0: torch's ReLU'(0) = 0 (and an infinite delta stays out of nan)."""
    dx = np.where(x > 0, delta, 0.0) if want_input else None
    return (dx,)


def _sigmoid_forward(x):
    """1 / (1 + e^-x), as torch computes it."""
    with np.errstate(over="ignore"):  # e^-x overflows to inf for x < -709: 1 / inf = 0 is the right limit
        return 1.0 / (1.0 + np.exp(-x))


def _sigmoid_backward(delta, x, out, *, want_input=True):
    """delta a (1 - a), through the output as the symbolic rule (and torch) have it."""
    dx = delta * out * (1.0 - out) if want_input else None
    return (dx,)


def _tanh_forward(x):
    """tanh on a whole array."""
    return np.tanh(x)


def _tanh_backward(delta, x, out, *, want_input=True):
    """delta (1 - a^2), through the output as the symbolic rule (and torch) have it."""
    dx = delta * (1.0 - out * out) if want_input else None
    return (dx,)


# Each class its own dict: the three share a base class, and codegen names the functions it copies.
ReLU.array_twin = {"forward": _relu_forward, "backward": _relu_backward}
Sigmoid.array_twin = {"forward": _sigmoid_forward, "backward": _sigmoid_backward}
Tanh.array_twin = {"forward": _tanh_forward, "backward": _tanh_backward}
