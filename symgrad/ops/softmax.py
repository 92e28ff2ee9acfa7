"""Softmax and LogSoftmax along one dimension, as torch.nn.Softmax / LogSoftmax.

dim=None is torch's deprecated implicit choice (`_get_softmax_dim`, measured on torch 2.13): dim 0
for 0-D, 1-D and 3-D inputs, dim 1 otherwise (torch warns; symgrad follows the choice). A dim outside
[-r, r-1] is refused with torch's message (a 0-D input counts as r = 1). The rules are the
vector-Jacobian products through the output: dx = p (delta - sum delta p) and dx = delta - e^l sum delta.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from ..core import tensor
from ..core.errors import OptionError
from . import options as opt
from .base import Gradients, ParameterlessLayer, missing, one_per_output


def implicit_dim(rank: int) -> int:
    """torch's dim when none is given: 0 for 0-D, 1-D and 3-D inputs, else 1."""
    return 0 if rank in (0, 1, 3) else 1


class _AlongDim(ParameterlessLayer):
    """A normalisation along one dimension: same shape out, no parameters."""

    rule_words = "general_plain"
    figure = missing("a softmax reads a whole line of its input: no window to picture")
    terms = one_per_output

    def __init__(self, dim=None):
        super().__init__()
        self.dim = None if dim is None else opt.integer(self.type_name, "dim", dim, bits=64)

    def options(self):
        return {"dim": self.dim}

    def axis(self, in_shape) -> int:
        """The dimension the layer normalises along, as a non-negative axis (0 for a 0-D input)."""
        rank = len(in_shape)
        if self.dim is None:
            return implicit_dim(rank)
        low, high = -max(rank, 1), max(rank, 1) - 1
        if not low <= self.dim <= high:
            raise OptionError(self.where, "dim", f"Dimension out of range (expected to be in range of "
                                                 f"[{low}, {high}], but got {self.dim})")
        return self.dim % max(rank, 1)

    def output_shape(self, in_shape):
        self.axis(in_shape)
        return tuple(in_shape)

    def shape_formula(self, in_shape):
        how = "torch's implicit dim" if self.dim is None else f"dim={self.dim}"
        return f"along dimension {self.axis(in_shape)} ({how}): same shape as the input"

    def lines(self, array) -> np.ndarray:
        """A view of `array` with the normalised dimension last (a 0-D array as one line of one entry)."""
        array = np.asarray(array, dtype=object)
        return array.reshape(1) if array.ndim == 0 else np.moveaxis(array, self.axis(array.shape), -1)

    def array_options(self, in_shape):
        """The axis counted from the end (batch axes come in front), None for a 0-D problem."""
        return {"axis": None if not in_shape else self.axis(in_shape) - len(in_shape)}

    def index_instance(self, key, in_shape):
        """The form with the other indices written out and the sum's bounds (j = 1..size of dim)."""
        if not in_shape:
            return self.instance_forms("", "", "_{j=1}^{1}")[key]  # a 0-D input: a line of one entry
        axis = self.axis(in_shape)
        others = iter("abcdefgh")
        names = ["i" if k == axis else next(others) for k in range(len(in_shape))]
        at_i = ",".join(names)
        at_j = ",".join("j" if k == axis else n for k, n in enumerate(names))
        return self.instance_forms("_{%s}" % at_i, "_{%s}" % at_j, "_{j=1}^{%d}" % in_shape[axis])[key]

    def torch_module(self):
        import torch

        return getattr(torch.nn, self.type_name)(dim=self.dim)

    @classmethod
    def from_torch(cls, module):
        return cls(dim=module.dim)


class Softmax(_AlongDim):
    type_name = "Softmax"
    output_letter = "p"

    @staticmethod
    def instance_forms(i: str, j: str, sum_: str) -> dict[str, str]:
        return {
            "forward": r"p%s = \frac{e^{x%s}}{\sum%s e^{x%s}}" % (i, i, sum_, j),
            "input": r"\frac{\partial L}{\partial x%s} = p%s \left(\delta%s - \sum%s \delta%s\, p%s\right)"
                     % (i, i, i, sum_, j, j),
        }

    index_form = instance_forms.__func__("_{i}", "_{j}", "_{j}")
    words = {
        "en": {"note:forward": "$i$ and $j$ run along the layer's dim, the other indices stay fixed. Without "
                               "dim torch picks one (and warns): dim 0 for 0-D, 1-D and 3-D inputs, dim 1 "
                               "otherwise."},
        "zh": {"note:forward": "$i$ 和 $j$ 沿该层的 `dim` 取值，其余下标固定。不给 `dim` 时 torch 自行选择（并发出警告）：0 维、1 维和 3 维输入取 "
                               "`dim=0`，其余取 `dim=1`。"},
    }

    def forward(self, x, params):
        out = np.empty(x.shape, dtype=object)
        lines, into = self.lines(x), self.lines(out)
        for idx in np.ndindex(*lines.shape[:-1]):
            exps = [sp.exp(v) for v in lines[idx]]
            total = tensor.add_all(exps)
            into[idx] = tensor.vector(e / total for e in exps)
        return out

    def backward(self, delta, x, out, params):
        dx = np.empty(x.shape, dtype=object)
        ds, ps, into = self.lines(delta), self.lines(out), self.lines(dx)
        for idx in np.ndindex(*ps.shape[:-1]):
            dot = tensor.add_all([d * p for d, p in zip(ds[idx], ps[idx]) if d != 0])
            into[idx] = tensor.vector(p * (d - dot) for d, p in zip(ds[idx], ps[idx]))
        return Gradients(input=dx)


class LogSoftmax(_AlongDim):
    type_name = "LogSoftmax"
    output_letter = "ell"  # prints as \ell

    @staticmethod
    def instance_forms(i: str, j: str, sum_: str) -> dict[str, str]:
        return {
            "forward": r"\ell%s = x%s - \log \sum%s e^{x%s}" % (i, i, sum_, j),
            "input": r"\frac{\partial L}{\partial x%s} = \delta%s - e^{\ell%s} \sum%s \delta%s" % (i, i, i, sum_, j),
        }

    index_form = instance_forms.__func__("_{i}", "_{j}", "_{j}")
    words = {
        "en": {"note:forward": "$i$ and $j$ run along the layer's dim, the other indices stay fixed; "
                               "$e^{\\ell_{i}}$ is the softmax. Without dim torch picks one (and warns): dim 0 for "
                               "0-D, 1-D and 3-D inputs, dim 1 otherwise."},
        "zh": {"note:forward": "$i$ 和 $j$ 沿该层的 `dim` 取值，其余下标固定；$e^{\\ell_{i}}$ 就是 $\\operatorname{softmax}$。不给 "
                               "`dim` 时 torch 自行选择（并发出警告）：0 维、1 维和 3 维输入取 `dim=0`，其余取 `dim=1`。"},
    }

    def forward(self, x, params):
        out = np.empty(x.shape, dtype=object)
        lines, into = self.lines(x), self.lines(out)
        for idx in np.ndindex(*lines.shape[:-1]):
            log_total = sp.log(tensor.add_all([sp.exp(v) for v in lines[idx]]))
            into[idx] = tensor.vector(v - log_total for v in lines[idx])
        return out

    def backward(self, delta, x, out, params):
        dx = np.empty(x.shape, dtype=object)
        ds, ls, into = self.lines(delta), self.lines(out), self.lines(dx)
        for idx in np.ndindex(*ls.shape[:-1]):
            total = tensor.add_all([d for d in ds[idx] if d != 0])
            into[idx] = tensor.vector(d - sp.exp(ell) * total for d, ell in zip(ds[idx], ls[idx]))
        return Gradients(input=dx)


# ---------------------------------------------------------------- index forms as evaluable functions
#
# Entry by entry as the TeX reads: i is the entry's index along dim, j runs over that line.

def _line_of(layer, array, idx):
    """The entries of `array` that share every index of `idx` but the one along dim."""
    if array.ndim == 0:
        return [array[()]]
    axis = layer.axis(array.shape)
    return [array[idx[:axis] + (j,) + idx[axis + 1:]] for j in range(array.shape[axis])]


def _softmax_forward_by_index_form(layer, x, params, delta=None):
    out = np.empty(x.shape, dtype=object)
    for idx in np.ndindex(*x.shape):
        out[idx] = sp.exp(x[idx]) / sum((sp.exp(v) for v in _line_of(layer, x, idx)), sp.Integer(0))
    return out


def _softmax_input_by_index_form(layer, x, params, delta):
    p = _softmax_forward_by_index_form(layer, x, params)
    grad = np.empty(x.shape, dtype=object)
    for idx in np.ndindex(*x.shape):
        dot = sum((d * q for d, q in zip(_line_of(layer, delta, idx), _line_of(layer, p, idx))), sp.Integer(0))
        grad[idx] = p[idx] * (delta[idx] - dot)
    return grad


def _log_softmax_forward_by_index_form(layer, x, params, delta=None):
    out = np.empty(x.shape, dtype=object)
    for idx in np.ndindex(*x.shape):
        out[idx] = x[idx] - sp.log(sum((sp.exp(v) for v in _line_of(layer, x, idx)), sp.Integer(0)))
    return out


def _log_softmax_input_by_index_form(layer, x, params, delta):
    ell = _log_softmax_forward_by_index_form(layer, x, params)
    grad = np.empty(x.shape, dtype=object)
    for idx in np.ndindex(*x.shape):
        grad[idx] = delta[idx] - sp.exp(ell[idx]) * sum(_line_of(layer, delta, idx), sp.Integer(0))
    return grad


Softmax.index_rules = {"forward": _softmax_forward_by_index_form, "input": _softmax_input_by_index_form}
LogSoftmax.index_rules = {"forward": _log_softmax_forward_by_index_form, "input": _log_softmax_input_by_index_form}


# ---------------------------------------------------------------- array twins (NumPy, batch axes in front)
#
# axis counts from the end (the problem's dim minus its rank), so leading batch axes never shift it;
# None: each problem is 0-D, a line of one entry (softmax 1, log-softmax 0, gradient 0).

def _softmax_forward(x, *, axis):
    """e^(x - max) / sum e^(x - max) along axis (the shift only keeps exp finite)."""
    x = np.asarray(x, dtype=np.float64)
    if axis is None:
        return np.ones_like(x)
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _softmax_backward(delta, x, out, *, want_input=True, axis):
    """p (delta - sum delta p) along axis."""
    if not want_input:
        return (None,)
    if axis is None:
        return (np.zeros(np.broadcast_shapes(np.shape(delta), np.shape(out))),)
    return (out * (delta - (delta * out).sum(axis=axis, keepdims=True)),)


def _log_softmax_forward(x, *, axis):
    """x - max - log sum e^(x - max) along axis."""
    x = np.asarray(x, dtype=np.float64)
    if axis is None:
        return np.zeros_like(x)
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def _log_softmax_backward(delta, x, out, *, want_input=True, axis):
    """delta - e^out sum delta along axis."""
    if not want_input:
        return (None,)
    if axis is None:
        return (np.zeros(np.broadcast_shapes(np.shape(delta), np.shape(out))),)
    return (delta - np.exp(out) * delta.sum(axis=axis, keepdims=True),)


Softmax.array_twin = {"forward": _softmax_forward, "backward": _softmax_backward}
LogSoftmax.array_twin = {"forward": _log_softmax_forward, "backward": _log_softmax_backward}
