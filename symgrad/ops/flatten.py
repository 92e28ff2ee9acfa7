"""Flatten: merge dims start_dim..end_dim into one, in row-major order, as torch.nn.Flatten.

It moves entries without changing them, so its derivative rule is the inverse
reshape of the upstream delta.
"""

from __future__ import annotations

import numpy as np

from ..core.errors import OptionError
from . import options as opt
from .base import Gradients, ParameterlessLayer, missing, one_per_output


class Flatten(ParameterlessLayer):
    type_name = "Flatten"
    output_letter = "f"
    rule_words = "general_plain"
    words = {"en": {}, "zh": {}}
    figure = missing("a reshape has no window to picture")
    terms = one_per_output
    index_form = {
        "forward": r"f_{n,\, (c-1) H W + (h-1) W + w} = X_{n,c,h,w}",
        "input": r"\frac{\partial L}{\partial X_{n,c,h,w}} = \delta_{n,\, (c-1) H W + (h-1) W + w}",
    }

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim = opt.integer(self.type_name, "start_dim", start_dim, bits=64)
        self.end_dim = opt.integer(self.type_name, "end_dim", end_dim, bits=64)

    @classmethod
    def from_torch(cls, module):
        return cls(module.start_dim, module.end_dim)

    def options(self):
        return {"start_dim": self.start_dim, "end_dim": self.end_dim}

    def index_instance(self, key, in_shape):
        return ""  # the index form already reads off the shape

    def _dims(self, in_shape) -> tuple[int, int]:
        """(start, end) as non-negative axes, refused as torch refuses them."""
        rank = max(len(in_shape), 1)  # torch treats a 0-d tensor as having one dim here
        dims = []
        for option, dim in (("start_dim", self.start_dim), ("end_dim", self.end_dim)):
            if not -rank <= dim < rank:
                raise OptionError(self.where, option, f"dimension out of range (expected to be in range of "
                                                      f"[{-rank}, {rank - 1}], but got {dim}) for an input of shape "
                                                      f"{list(in_shape)}")
            dims.append(dim % rank)
        if dims[0] > dims[1]:
            raise OptionError(self.where, "start_dim", "start_dim cannot come after end_dim "
                                                       f"(input of shape {list(in_shape)})")
        return dims[0], dims[1]

    def output_shape(self, in_shape):
        in_shape = tuple(in_shape)
        start, end = self._dims(in_shape)
        if not in_shape:
            return (1,)
        return (*in_shape[:start], int(np.prod(in_shape[start:end + 1])), *in_shape[end + 1:])

    def shape_formula(self, in_shape):
        start, end = self._dims(tuple(in_shape))
        merged = tuple(in_shape)[start:end + 1] or (1,)
        product = "*".join(str(n) for n in merged)
        return f"{product} = {int(np.prod(merged))}" if len(merged) > 1 else f"{product} (nothing to merge)"

    def array_options(self, in_shape):
        """The merged dims as non-negative axes of one problem, and its rank (to tell the batch axes apart)."""
        start, end = self._dims(tuple(in_shape))
        return {"start_dim": start, "end_dim": end, "ndim": len(in_shape)}

    def forward(self, x, params):
        return x.reshape(self.output_shape(x.shape)).copy()

    def backward(self, delta, x, out, params):
        return Gradients(input=np.asarray(delta, dtype=object).reshape(x.shape).copy())

    def torch_module(self):
        import torch

        return torch.nn.Flatten(self.start_dim, self.end_dim)


# ---------------------------------------------------------------- index forms as evaluable functions

def _flat_position(index, shape) -> int:
    """The row-major position of a 1-based index among the merged dims: (c-1)HW + (h-1)W + w."""
    position = 0
    for i, n in zip(index, shape):
        position = position * n + (i - 1)
    return position + 1


def _flatten_forward_by_index_form(layer, x, params, delta=None):
    start, end = layer._dims(x.shape)
    out = np.empty(layer.output_shape(x.shape), dtype=object)
    for idx in np.ndindex(*x.shape):
        merged = _flat_position([i + 1 for i in idx[start:end + 1]], x.shape[start:end + 1])
        out[(*idx[:start], merged - 1, *idx[end + 1:])] = x[idx]
    return out


def _flatten_input(layer, x, params, delta):
    start, end = layer._dims(x.shape)
    grad = np.empty(x.shape, dtype=object)
    for idx in np.ndindex(*x.shape):
        merged = _flat_position([i + 1 for i in idx[start:end + 1]], x.shape[start:end + 1])
        grad[idx] = delta[(*idx[:start], merged - 1, *idx[end + 1:])]
    return grad


Flatten.index_rules = {"forward": _flatten_forward_by_index_form, "input": _flatten_input}


# ---------------------------------------------------------------- array twins (NumPy, batch axes in front)

def _flatten_forward(x, *, start_dim, end_dim, ndim):
    """Axes start_dim..end_dim of each problem (ndim axes at the end of x) merged into one."""
    if ndim == 0:
        return x[..., None]  # torch flattens a 0-d tensor to shape (1,)
    start, end = x.ndim - ndim + start_dim, x.ndim - ndim + end_dim
    return x.reshape((*x.shape[:start], int(np.prod(x.shape[start:end + 1])), *x.shape[end + 1:]))


def _flatten_backward(delta, x, out, *, want_input=True, start_dim, end_dim, ndim):
    """The inverse reshape: delta's batch axes, then one problem's input shape."""
    if not want_input:
        return (None,)
    out_ndim = ndim - (end_dim - start_dim) if ndim else 1
    batch = delta.shape[:delta.ndim - out_ndim]
    return (delta.reshape((*batch, *x.shape[x.ndim - ndim:])),)


Flatten.array_twin = {"forward": _flatten_forward, "backward": _flatten_backward}
