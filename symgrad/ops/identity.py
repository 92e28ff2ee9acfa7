"""Identity: the output is the input, and the gradient passes through unchanged, as torch.nn.Identity.

torch's Identity(*args, **kwargs) accepts any arguments and ignores them (a placeholder that keeps a
model's constructor calls unchanged); symgrad's takes none, so a spec option given to it is refused as
an unknown option, as for every layer.
"""

from __future__ import annotations

import numpy as np

from .base import Gradients, ParameterlessLayer, missing, one_per_output


class Identity(ParameterlessLayer):
    type_name = "Identity"
    output_letter = "h"
    rule_words = "general_plain"
    index_form = {
        "forward": r"h_{i} = x_{i}",
        "input": r"\frac{\partial L}{\partial x_{i}} = \delta_{i}",
    }
    words = {
        "en": {"note:forward": "torch's Identity accepts any arguments and ignores them; in a spec it takes no "
                               "options."},
        "zh": {"note:forward": "torch 的 `Identity` 接受任意参数并忽略它们；在规格文件中它不接受任何选项。"},
    }
    figure = missing("the identity moves no entry: nothing to picture")
    terms = one_per_output

    def options(self):
        return {}

    def output_shape(self, in_shape):
        return tuple(in_shape)

    def shape_formula(self, in_shape):
        return "the identity: same shape as the input"

    def forward(self, x, params):
        return np.array(x, dtype=object, copy=True)

    def backward(self, delta, x, out, params):
        return Gradients(input=np.array(delta, dtype=object, copy=True))

    def index_instance(self, key, in_shape):
        return ""  # no numbers to fill in

    def torch_module(self):
        import torch

        return torch.nn.Identity()

    @classmethod
    def from_torch(cls, module):
        return cls()


# ---------------------------------------------------------------- index forms as evaluable functions

def _identity_forward_by_index_form(layer, x, params, delta=None):
    out = np.empty(np.shape(x), dtype=object)
    for idx in np.ndindex(*out.shape):
        out[idx] = x[idx]
    return out


def _identity_input_by_index_form(layer, x, params, delta):
    return _identity_forward_by_index_form(layer, delta, params)


Identity.index_rules = {"forward": _identity_forward_by_index_form, "input": _identity_input_by_index_form}


# ---------------------------------------------------------------- array twin (NumPy, batch axes in front)

def _identity_forward(x):
    """A float64 copy of x."""
    return np.array(x, dtype=np.float64, copy=True)


def _identity_backward(delta, x, out, *, want_input=True):
    """delta, with the batch axes of delta, x and out broadcast in front."""
    if not want_input:
        return (None,)
    shape = np.broadcast_shapes(np.shape(delta), np.shape(x), np.shape(out))
    return (np.array(np.broadcast_to(delta, shape), dtype=np.float64),)


Identity.array_twin = {"forward": _identity_forward, "backward": _identity_backward}
