"""Dropout: torch.nn.Dropout's scaling with a mask the spec fixes, so a derivation is reproducible.

In training mode torch keeps each entry with probability 1 - p and scales the kept ones by
1/(1 - p): out = x * mask / (1 - p), dL/dx = delta * mask / (1 - p); p = 1 gives zeros and a
zero gradient (torch's own shortcut). torch's random mask cannot be reproduced from a spec,
so the mask is given (`mask`, 0/1 entries of the input's shape) or drawn from NumPy:
keep = numpy.random.default_rng(seed).random(input_shape) >= p. Eval mode is the identity.
A mask torch could not draw (a 0 at p = 0, a 1 at p = 1) is refused.
"""

from __future__ import annotations

from numbers import Real

import numpy as np
import sympy as sp

from ..core import tensor
from ..core.decimals import latex
from ..core.errors import OptionError
from ..core.values import shown
from . import options as opt
from .base import Gradients, ParameterlessLayer, missing, one_per_output

#: The largest mask the instance writes out (a matrix of at most two axes of size > 1; else the figure shows it).
SHOWN_MASK = 16


class Dropout(ParameterlessLayer):
    type_name = "Dropout"
    output_letter = "u"
    rule_words = "general_plain"
    index_form = {
        "forward": r"u_{i} = \frac{m_{i}}{1 - p}\, x_{i}",
        "input": r"\frac{\partial L}{\partial x_{i}} = \frac{m_{i}}{1 - p}\, \delta_{i}",
    }
    words = {
        "en": {
            "note:forward": "Dropout in training mode: $m_{i} \\in \\{0, 1\\}$ is the mask (1 keeps entry $i$, "
                            "0 drops it) and the kept entries are scaled by $1/(1 - p)$, as torch does, so the "
                            "expected output equals the input. The mask is the spec's `mask`, or drawn from "
                            "`seed`: $m = [\\,r \\ge p\\,]$ with $r$ = numpy.random.default_rng(seed).random(shape "
                            "of the input). With $p = 1$ every entry is dropped and $u = 0$. In eval mode "
                            "dropout is the identity: $u_{i} = x_{i}$.",
            "note:input": "The mask is a constant: each kept entry passes $\\delta_{i}$ back scaled by "
                          "$1/(1 - p)$, a dropped one passes 0 (with $p = 1$ the whole gradient is 0); in eval "
                          "mode $\\partial L/\\partial x_{i} = \\delta_{i}$.",
            "figure": "The entries the mask drops (highlighted): their output and gradient are 0; the others "
                      "are scaled by $1/(1 - p)$.",
        },
        "zh": {
            "note:forward": "训练模式下的 `Dropout`：$m_{i} \\in \\{0, 1\\}$ 是掩码（1 保留第 $i$ 个元素，0 丢弃它），保留的元素乘以 "
                            "$1/(1 - p)$（与 torch 相同），使输出的期望等于输入。掩码由规格文件的 `mask` 给出，或由 `seed` 生成："
                            "$m = [\\,r \\ge p\\,]$，其中 $r$ = `numpy.random.default_rng(seed).random(shape)`，`shape` "
                            "为输入的形状。$p = 1$ 时所有元素都被丢弃，$u = 0$。评估模式下 `Dropout` 是恒等映射：$u_{i} = x_{i}$。",
            "note:input": "掩码是常数：保留的元素把 $\\delta_{i}$ 乘以 $1/(1 - p)$ 传回，被丢弃的元素传回 0"
                          "（$p = 1$ 时整个梯度为 0）；评估模式下 $\\partial L/\\partial x_{i} = \\delta_{i}$。",
            "figure": "被掩码丢弃的元素（高亮）：它们的输出和梯度为 0；其余元素乘以 $1/(1 - p)$。",
        },
    }
    modes = ("train", "eval")
    buffers = missing("no buffers: the mask is an option, not a state_dict entry")
    terms = one_per_output

    def __init__(self, p=0.5, inplace=False, training=True, mask=None, seed=None):
        """torch's p and inplace (in place changes nothing here: symgrad never overwrites its input);
        training as BatchNorm2d's; the mask given (0/1 entries) or drawn from seed, not both."""
        super().__init__()
        w = self.type_name
        self.p = _probability(w, p)
        self.inplace = opt.boolean(w, "inplace", inplace)
        self.training = opt.boolean(w, "training", training)
        if mask is not None and seed is not None:
            raise OptionError(w, "seed", "give mask or seed, not both")
        self.seed = None if seed is None else opt.integer(w, "seed", seed, 0, bits=64)
        self.mask = None if mask is None else _mask(w, mask, self.exact_p)

    @property
    def exact_p(self) -> sp.Expr:
        return tensor.number(self.p, self.where, "p")

    def options(self):
        return {"p": self.p, "inplace": self.inplace, "training": self.training, "mask": self.mask,
                "seed": self.seed}

    # ---------------------------------------------------------------- the mask

    def mask_for(self, in_shape) -> np.ndarray | None:
        """The 0/1 int64 mask for an input of `in_shape` (None in eval mode); refuses a missing or misshapen one."""
        in_shape = tuple(int(n) for n in in_shape)
        if self.mask is not None:
            given = np.array(self.mask, dtype=np.int64)
            squeezed = given.shape
            while len(squeezed) < len(in_shape) and in_shape[len(in_shape) - len(squeezed) - 1] == 1:
                squeezed = (1,) + squeezed  # a spec pads its input with leading 1s: so may the mask
            if squeezed != in_shape:
                raise OptionError(self.where, "mask", f"expected the input's shape {list(in_shape)}, got "
                                                      f"{list(given.shape)}")
            return given.reshape(in_shape) if self.training else None
        if not self.training:
            return None
        if self.seed is None:
            raise OptionError(self.where, "mask", "training mode needs the mask: give mask (0/1 entries of the "
                                                  "input's shape) or seed (an integer), or training = false")
        keep = np.random.default_rng(self.seed).random(in_shape) >= float(self.p)
        return keep.astype(np.int64)

    @property
    def scale(self) -> sp.Expr:
        """1/(1 - p) of training mode (0 for p = 1, where torch returns zeros); 1 in eval mode."""
        if not self.training:
            return sp.Integer(1)
        return sp.Integer(0) if self.exact_p == 1 else 1 / (1 - self.exact_p)

    # ---------------------------------------------------------------- shape and maths

    def output_shape(self, in_shape):
        self.mask_for(in_shape)
        return tuple(in_shape)

    def shape_formula(self, in_shape):
        return "element-wise: same shape as the input"

    def _masked(self, values):
        mask, scale = self.mask_for(values.shape), self.scale
        if mask is None:
            return np.array(values, dtype=object, copy=True)
        out = np.empty(values.shape, dtype=object)
        for idx in np.ndindex(*values.shape):
            out[idx] = values[idx] * scale if mask[idx] and scale != 0 else sp.Integer(0)
        return out

    def forward(self, x, params):
        return self._masked(x)

    def backward(self, delta, x, out, params):
        """The mask is a constant: delta through the same mask and scale as the forward pass."""
        return Gradients(input=self._masked(np.asarray(delta, dtype=object)))

    def figure(self, in_shape, x):
        """The cells of sample 0, channel 0 the mask drops (None in eval mode, or when it drops none)."""
        mask = self.mask_for(in_shape)
        if mask is None or len(in_shape) != 4:
            return None
        dropped = {(h, w): "" for h, w in np.ndindex(*mask.shape[2:]) if not mask[0, 0, h, w] or self.scale == 0}
        return dropped or None

    def array_options(self, in_shape):
        """p as a float, the mode, and the mask as nested tuples of 0/1 (None in eval mode)."""
        mask = self.mask_for(in_shape)
        return {"p": float(self.p), "training": self.training,
                "mask": None if mask is None else _nested_tuple(mask)}

    # ---------------------------------------------------------------- index forms: instance

    def index_instance(self, key, in_shape):
        """The rule of this layer's mode with 1/(1 - p) written in, and a small mask written out."""
        if not self.training:
            return r"u_{i} = x_{i}" if key == "forward" else r"\frac{\partial L}{\partial x_{i}} = \delta_{i}"
        left, right = (r"u_{i}", r"x_{i}") if key == "forward" else \
            (r"\frac{\partial L}{\partial x_{i}}", r"\delta_{i}")
        if self.scale == 0:
            return r"%s = 0 \quad (p = 1)" % left
        factor = "" if self.scale == 1 else latex(self.scale) + r"\, "
        rows = np.atleast_2d(np.squeeze(self.mask_for(in_shape)))
        if rows.size > SHOWN_MASK or rows.ndim > 2:  # the figure shows the first channel's
            return r"%s = %sm_{i}\, %s" % (left, factor, right)
        matrix = r" \\ ".join(" & ".join(str(int(v)) for v in row) for row in rows)
        return r"%s = %sm_{i}\, %s, \quad m = \begin{bmatrix}%s\end{bmatrix}" % (left, factor, right, matrix)

    # ---------------------------------------------------------------- torch twin

    def torch_module(self):
        """torch's nn.Dropout whose forward uses this layer's mask (torch's RNG cannot draw it): x * mask / (1 - p)
        in training mode (zeros for p = 1, as torch), the identity in eval mode; out of place, as ReLU's twin."""
        import torch

        if not self.training:  # the identity: torch's own module, which from_torch reads back
            return torch.nn.Dropout(self.p).eval()
        layer = self

        class Dropout(torch.nn.Dropout):
            """nn.Dropout with symgrad's mask: the mask (or seed) of the layer it was made from."""

            def __init__(self):
                super().__init__(layer.p)
                self.train(layer.training)
                self.mask, self.seed = layer.mask, layer.seed
                self.symgrad_inplace = layer.inplace

            def forward(self, x):
                if not self.training:
                    return x
                if float(self.p) == 1:
                    return x * torch.zeros((), dtype=x.dtype)
                mask = twin_layer(self).mask_for(tuple(x.shape))
                return x * (torch.from_numpy(mask).to(x.dtype) / (1 - float(self.p)))

        def twin_layer(module):
            return type(layer)(module.p, training=module.training, mask=module.mask, seed=module.seed)

        return Dropout()

    @classmethod
    def from_torch(cls, module) -> "Dropout":
        """nn.Dropout in eval mode (the identity); in training mode only symgrad's own twin, which carries its
        mask: torch draws a new random mask at every forward pass, which no derivation can follow."""
        inplace = getattr(module, "symgrad_inplace", module.inplace)
        if hasattr(module, "symgrad_inplace"):
            return cls(module.p, inplace=inplace, training=module.training, mask=module.mask, seed=module.seed)
        if module.training:
            raise OptionError(cls.type_name, "training", "torch draws a new random mask at every forward pass in "
                                                         "training mode: call model.eval() first (dropout is then "
                                                         "the identity), or give symgrad's Dropout a mask or seed")
        return cls(module.p, inplace=inplace, training=False)


def _probability(where: str, p) -> float:
    """torch's range check (and message) on a real number; a bool, NaN or infinity is no probability here."""
    if isinstance(p, (bool, np.bool_, sp.Basic)) or not isinstance(p, Real):
        raise OptionError(where, "p", f"expected a number, got {shown(p)}")
    tensor.number(p, where, "p")  # finite, held by a float64
    if p < 0 or p > 1:
        raise OptionError(where, "p", f"dropout probability has to be between 0 and 1, but got {shown(p)}")
    return p if isinstance(p, (int, float)) else float(p)


def _mask(where: str, value, p: sp.Expr) -> list:
    """A mask as nested lists of the ints 0 and 1: rectangular, at least 1-D, entries 0 or 1 (no bools)."""
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if not isinstance(value, (list, tuple)):
        raise OptionError(where, "mask", f"expected a nested list of 0 and 1, got {shown(value)}")
    shape = _mask_shape(where, value)
    tensor.check_size(where, "mask", shape)
    flat = list(_flat(value))
    for entry in flat:
        if isinstance(entry, (bool, np.bool_)) or not isinstance(entry, Real) or \
                tensor.number(entry, where, "mask") not in (0, 1):  # a TOML 1e-400 is refused, not read as 0
            raise OptionError(where, "mask", f"entries must be 0 or 1, got {shown(entry)}")
    if p == 0 and 0 in flat:
        raise OptionError(where, "mask", "p = 0 keeps every entry (torch never drops one): the mask has a 0")
    if p == 1 and 1 in flat:
        raise OptionError(where, "mask", "p = 1 drops every entry (torch keeps none): the mask has a 1")
    return np.array([int(v) for v in flat], dtype=np.int64).reshape(shape).tolist()


def _mask_shape(where: str, value, depth: int = 0) -> tuple[int, ...]:
    if not isinstance(value, (list, tuple)):
        return ()
    if not value:
        raise OptionError(where, "mask", "an empty list is no mask")
    if depth >= 8:
        raise OptionError(where, "mask", "nested too deeply")
    shapes = {_mask_shape(where, item, depth + 1) for item in value}
    if len(shapes) != 1:
        raise OptionError(where, "mask", "rows of different lengths (or depths): not a rectangular array")
    return (len(value), *shapes.pop())


def _flat(value):
    if isinstance(value, (list, tuple)):
        for item in value:
            yield from _flat(item)
    else:
        yield value


def _nested_tuple(array: np.ndarray):
    return tuple(_nested_tuple(row) for row in array) if array.ndim else int(array)


# ---------------------------------------------------------------- index forms as evaluable functions

def _dropout_rule(layer, values, in_shape):
    """m_i / (1 - p) * v_i in training mode (0 for p = 1), v_i in eval mode, as the forms write it."""
    out = np.empty(np.shape(values), dtype=object)
    mask = layer.mask_for(in_shape)
    for idx in np.ndindex(*out.shape):
        if mask is None:
            out[idx] = values[idx]
        elif layer.exact_p == 1:
            out[idx] = sp.Integer(0)
        else:
            out[idx] = sp.Integer(int(mask[idx])) / (1 - layer.exact_p) * values[idx]
    return out


def _dropout_forward_by_index_form(layer, x, params, delta=None):
    return _dropout_rule(layer, x, x.shape)


def _dropout_input_by_index_form(layer, x, params, delta):
    return _dropout_rule(layer, delta, x.shape)


Dropout.index_rules = {"forward": _dropout_forward_by_index_form, "input": _dropout_input_by_index_form}


# ---------------------------------------------------------------- array twin (NumPy, batch axes in front)

def _dropout_scaled(values, p, training, mask):
    """values * mask / (1 - p) as torch computes it (the mask divided first); zeros for p = 1; eval: a copy."""
    values = np.asarray(values, dtype=np.float64)
    if not training:
        return values.copy()
    if p == 1:
        return values * 0.0
    return values * (np.asarray(mask, dtype=np.float64) / (1.0 - p))


def _dropout_forward(x, *, p, training, mask):
    """The output; the mask has the problem's shape and broadcasts over the batch axes in front."""
    return _dropout_scaled(x, p, training, mask)


def _dropout_backward(delta, x, out, *, p, training, mask, want_input=True):
    """delta * mask / (1 - p), with the batch axes of delta, x and out broadcast in front."""
    if not want_input:
        return (None,)
    shape = np.broadcast_shapes(np.shape(delta), np.shape(x), np.shape(out))
    return (_dropout_scaled(np.broadcast_to(delta, shape), p, training, mask),)


Dropout.array_twin = {"forward": _dropout_forward, "backward": _dropout_backward}
