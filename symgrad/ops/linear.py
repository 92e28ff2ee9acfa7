"""Linear: y = x W^T + b over the last dim, as torch.nn.Linear (weight shape (out, in)).

Any leading dims are a batch, as in torch: a (N, in) input gives (N, out), and a
4-D input whose last dim is in_features is accepted too.
"""

from __future__ import annotations

import numpy as np

from ..core import tensor
from ..core.errors import OptionError
from . import options as opt
from .base import Gradients, Layer, missing, one_weight_row_per_output, uniform_fan_in


class Linear(Layer):
    type_name = "Linear"
    output_letter = "z"
    symbol_bases = {"weight": "w", "bias": "b"}
    parameter_letters = {"weight": "W", "bias": "b"}
    rule_words = "general_plain"
    words = {"en": {}, "zh": {}}
    figure = missing("a dense layer has no window to picture")
    buffers = missing("no buffers")
    modes = missing("same in train and eval")
    terms = one_weight_row_per_output
    channels = missing("in_features and out_features are not channels (MAX_CHANNELS is Conv2d's)")
    index_form = {
        "forward": r"z_{n,o} = b_{o} + \sum_{i} W_{o,i}\, x_{n,i}",
        "weight": r"\frac{\partial L}{\partial W_{o,i}} = \sum_{n} \delta_{n,o}\, x_{n,i}",
        "bias": r"\frac{\partial L}{\partial b_{o}} = \sum_{n} \delta_{n,o}",
        "input": r"\frac{\partial L}{\partial x_{n,i}} = \sum_{o} \delta_{n,o}\, W_{o,i}",
    }

    def __init__(self, in_features, out_features, bias=True):
        super().__init__()
        w = self.type_name
        self.in_features = opt.integer(w, "in_features", in_features, 1, bits=64)
        self.out_features = opt.integer(w, "out_features", out_features, 1, bits=64)
        self.bias = opt.boolean(w, "bias", bias)

    @classmethod
    def from_torch(cls, module):
        return cls(module.in_features, module.out_features, bias=module.bias is not None)

    def options(self):
        return {"in_features": self.in_features, "out_features": self.out_features, "bias": self.bias}

    def initial_values(self, rng):
        return uniform_fan_in(rng, self.parameter_shapes())

    def index_instance(self, key, in_shape):
        return ""  # the index form has no numbers to fill in

    def parameter_shapes(self):
        shapes = {"weight": (self.out_features, self.in_features)}
        if self.bias:
            shapes["bias"] = (self.out_features,)
        return shapes

    def output_shape(self, in_shape):
        if not in_shape or in_shape[-1] != self.in_features:
            hint = " (add Flatten before Linear?)" if len(in_shape) > 2 else ""
            raise OptionError(self.where, "in_features",
                              f"expected an input whose last dim is {self.in_features}, got shape {list(in_shape)}{hint}")
        return (*in_shape[:-1], self.out_features)

    def shape_formula(self, in_shape):
        return f"out_features = {self.out_features}"

    def array_options(self, in_shape):
        """The input's rank: its leading dims are rows (torch's N), and a batched weight lines up before them."""
        return {"ndim": len(in_shape)}

    def forward(self, x, params):
        weight = params["weight"]
        out = np.empty(self.output_shape(x.shape), dtype=object)
        for idx in np.ndindex(*out.shape):
            *batch, o = idx
            terms = [tensor.times(weight[o, i], x[(*batch, i)]) for i in range(self.in_features)]
            if self.bias:
                terms.append(params["bias"][o])
            out[idx] = tensor.add_all(terms)
        return out

    def backward(self, delta, x, out, params):
        weight = params["weight"]
        dx = tensor.term_lists(x.shape)
        dw = tensor.term_lists(weight.shape)
        db = tensor.term_lists((self.out_features,))
        for idx in np.ndindex(*out.shape):
            d = delta[idx]
            if d == 0:
                continue
            *batch, o = idx
            db[o].append(d)
            for i in range(self.in_features):
                dx[(*batch, i)].append(tensor.times(d, weight[o, i]))
                dw[o, i].append(tensor.times(d, x[(*batch, i)]))
        grads = {"weight": tensor.collect(dw)}
        if self.bias:
            grads["bias"] = tensor.collect(db)
        return Gradients(input=tensor.collect(dx), params=grads)

    def torch_module(self):
        import torch

        return torch.nn.Linear(self.in_features, self.out_features, bias=self.bias)


# ---------------------------------------------------------------- index forms as evaluable functions

def _rows(x, width):
    """Leading dims as one batch axis n, as the index forms write them."""
    return np.asarray(x, dtype=object).reshape(-1, width)


def _linear_forward_by_index_form(layer, x, params, delta=None):
    xs, weight = _rows(x, layer.in_features), params["weight"]
    out = np.empty((xs.shape[0], layer.out_features), dtype=object)
    for n, o in np.ndindex(*out.shape):
        bias = params["bias"][o] if layer.bias else 0
        out[n, o] = bias + sum(weight[o, i] * xs[n, i] for i in range(layer.in_features))
    return out.reshape(*np.shape(x)[:-1], layer.out_features)


def _linear_weight(layer, x, params, delta):
    xs, ds = _rows(x, layer.in_features), _rows(delta, layer.out_features)
    grad = np.empty((layer.out_features, layer.in_features), dtype=object)
    for o, i in np.ndindex(*grad.shape):
        grad[o, i] = sum(ds[n, o] * xs[n, i] for n in range(xs.shape[0]))
    return grad


def _linear_bias(layer, x, params, delta):
    ds = _rows(delta, layer.out_features)
    return np.array([sum(ds[n, o] for n in range(ds.shape[0])) for o in range(layer.out_features)], dtype=object)


def _linear_input(layer, x, params, delta):
    ds = _rows(delta, layer.out_features)
    grad = np.empty((ds.shape[0], layer.in_features), dtype=object)
    for n, i in np.ndindex(*grad.shape):
        grad[n, i] = sum(ds[n, o] * params["weight"][o, i] for o in range(layer.out_features))
    return grad.reshape(np.shape(x))


Linear.index_rules = {"forward": _linear_forward_by_index_form, "weight": _linear_weight, "bias": _linear_bias,
                      "input": _linear_input}


# ---------------------------------------------------------------- array twins (NumPy, batch axes in front)
#
# One problem's input has `ndim` axes: rows (torch's leading dims, maybe none) and in_features.
# The weight and bias have batch axes of their own in front, which must line up with the
# input's batch axes, not with its rows: hence the singleton axes _linear_aligned inserts.

def _linear_forward(x, weight, bias=None, *, ndim):
    """z = x W^T + b over the last axis of every row."""
    z = _linear_rows_times(x, np.swapaxes(weight, -1, -2), ndim)
    return z if bias is None else z + _linear_aligned(bias, 1, ndim - 1)


def _linear_backward(delta, x, out, weight, bias=None, *, want_input=True, ndim):
    """dx = delta W; dW = delta^T x and db = delta summed over the rows of each problem (not over the batch)."""
    dx = _linear_rows_times(delta, weight, ndim) if want_input else None
    rows = delta.reshape((*delta.shape[:delta.ndim - ndim], -1, delta.shape[-1]))  # (*batch, N, out)
    inputs = x.reshape((*x.shape[:x.ndim - ndim], -1, x.shape[-1]))  # (*batch, N, in)
    if rows.shape[-2] == 1:  # one row per problem (N = 1, as after Flatten): an outer product, 2x faster than @
        dw = rows[..., 0, :, None] * inputs[..., 0, None, :]
    else:
        dw = np.swapaxes(rows, -1, -2) @ inputs
    return (dx, dw) if bias is None else (dx, dw, rows.sum(axis=-2))


def _linear_rows_times(rows, matrix, ndim):
    """Every row (last axis) of `rows` times its problem's matrix (the last two axes of `matrix`)."""
    if matrix.ndim == 2:  # one matrix for every problem: a single matrix product over all rows
        return (rows.reshape(-1, rows.shape[-1]) @ matrix).reshape((*rows.shape[:-1], matrix.shape[-1]))
    if ndim == 1:  # one row per problem
        return (rows[..., None, :] @ matrix)[..., 0, :]
    return rows @ _linear_aligned(matrix, 2, ndim - 2)


def _linear_aligned(param, core, skipped):
    """`param` with `skipped` singleton axes between its batch axes and its last `core` axes."""
    shape = param.shape
    return param.reshape((*shape[:len(shape) - core], *(1,) * skipped, *shape[len(shape) - core:]))


Linear.array_twin = {"forward": _linear_forward, "backward": _linear_backward}
