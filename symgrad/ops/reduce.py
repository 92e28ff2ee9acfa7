"""Sum: the whole tensor summed to a scalar, like `x.sum()` in the conv-gradient article."""

from __future__ import annotations

import numpy as np

from ..core import tensor
from .base import Gradients, ParameterlessLayer, missing, one_per_output


class Sum(ParameterlessLayer):
    type_name = "Sum"
    output_letter = "S"
    rule_words = "general_plain"
    words = {"en": {}, "zh": {}}
    figure = missing("a sum has no window to picture")
    from_torch = missing("torch has no Sum module (symgrad's twin is x.sum())")
    terms = one_per_output

    def options(self):
        return {}

    def index_instance(self, key, in_shape):
        return ""  # no numbers to fill in
    index_form = {
        "forward": r"S = \sum_{n,c,i,j} \sigma_{n,c,i,j}",
        "input": r"\frac{\partial L}{\partial \sigma_{n,c,i,j}} = \delta",
    }

    def output_shape(self, in_shape):
        return ()

    def shape_formula(self, in_shape):
        return "sum of all entries = a scalar"

    def array_options(self, in_shape):
        """The input's rank: how many trailing axes one problem sums."""
        return {"ndim": len(in_shape)}

    def forward(self, x, params):
        out = np.empty((), dtype=object)
        out[()] = tensor.add_all(x.reshape(-1))
        return out

    def backward(self, delta, x, out, params):
        dx = np.empty(x.shape, dtype=object)
        dx.fill(delta[()])
        return Gradients(input=dx)

    def torch_module(self):
        import torch

        class TorchSum(torch.nn.Module):
            def forward(self, x):
                return x.sum()

        return TorchSum()


# ---------------------------------------------------------------- index forms as evaluable functions

def _sum_forward_by_index_form(layer, x, params, delta=None):
    return np.array(sum(x.reshape(-1), 0), dtype=object)


def _sum_input(layer, x, params, delta):
    return np.full(x.shape, delta[()], dtype=object)


Sum.index_rules = {"forward": _sum_forward_by_index_form, "input": _sum_input}


# ---------------------------------------------------------------- array twins (NumPy, batch axes in front)

def _sum_forward(x, *, ndim):
    """The sum of each problem's entries (the last ndim axes): one number per batch entry."""
    return x.sum(axis=tuple(range(x.ndim - ndim, x.ndim)))


def _sum_backward(delta, x, out, *, want_input=True, ndim):
    """Each problem's delta copied to every entry of its input."""
    if not want_input:
        return (None,)
    delta = np.asarray(delta, dtype=np.float64)  # the seed of a network without a loss may be a plain 1
    problem = x.shape[x.ndim - ndim:]
    batch = np.broadcast_shapes(delta.shape, x.shape[:x.ndim - ndim])
    return (np.broadcast_to(delta.reshape((*delta.shape, *(1,) * ndim)), (*batch, *problem)).copy(),)


Sum.array_twin = {"forward": _sum_forward, "backward": _sum_backward}
