"""BCEWithLogitsLoss: logits z and targets y of the same shape, with torch's weight and pos_weight.

Each entry is w ((1 - y) z + (1 + (p - 1) y) log(1 + e^-z)), summed (divided by the number of entries for
'mean'); w (weight) and p (pos_weight) broadcast to the output, 1 when not given. Its derivative is
w ((1 + (p - 1) y) sigmoid(z) - p y). torch computes log(1 + e^-z) as max(-z, 0) + log(e^-max + e^(-z-max)),
which never overflows; the array twin does the same, the symbolic engine keeps the exact expression.
torch wants the target exactly the input's shape (no broadcast) and does not check that it lies in
[0, 1]; symgrad follows both.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from ..core import tensor
from ..core.decimals import latex
from ..core.errors import OptionError
from . import options as opt
from .base import Loss
from .class_targets import real_number


def _broadcast_option(where: str, option: str, value):
    """None, a number, or nested lists of numbers (checked here; their shape is checked against the output)."""
    if value is None:
        return None
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, (list, tuple)):
        array = tensor.to_array(value, where, option)
        for entry in array.reshape(-1):
            if not entry.is_number:
                raise OptionError(where, option, f"expected numbers (torch's {option} is a tensor), got {entry}")
        return value
    real_number(where, option, value)
    return value


class BCEWithLogitsLoss(Loss):
    type_name = "BCEWithLogitsLoss"
    index_form = {
        "forward": r"L = \frac{1}{n} \sum_{i} w_i \Big( (1 - y_i)\, z_i + \big(1 + (p_i - 1)\, y_i\big) "
                   r"\log\big(1 + e^{-z_i}\big) \Big)",
        "input": r"\frac{\partial L}{\partial z_i} = \frac{w_i}{n} \Big( \big(1 + (p_i - 1)\, y_i\big)\, "
                 r"\sigma(z_i) - p_i\, y_i \Big), \quad \sigma(z) = \frac{1}{1 + e^{-z}}",
    }
    words = {
        "en": {"note:forward": "$n$ is the number of entries for `reduction='mean'` and 1 for `'sum'`; $w_i$ is "
                               "`weight` and $p_i$ is `pos_weight`, each broadcast to the output (1 when not given). "
                               "torch evaluates $\\log(1 + e^{-z})$ as $m + \\log(e^{-m} + e^{-z-m})$ with "
                               "$m = \\max(-z, 0)$, so that no exponential overflows."},
        "zh": {"note:forward": "`reduction='mean'` 时 $n$ 为元素个数，`'sum'` 时 $n = 1$；$w_i$ 为 `weight`，$p_i$ 为 "
                               "`pos_weight`，二者都广播到输出的形状（不给时为 1）。torch 把 $\\log(1 + e^{-z})$ 算作 "
                               "$m + \\log(e^{-m} + e^{-z-m})$，其中 $m = \\max(-z, 0)$，这样指数不会溢出。"},
    }

    def __init__(self, reduction="mean", weight=None, pos_weight=None):
        self.reduction = opt.choice(self.type_name, "reduction", reduction, ("mean", "sum"))
        self.weight = _broadcast_option(self.type_name, "weight", weight)
        self.pos_weight = _broadcast_option(self.type_name, "pos_weight", pos_weight)

    def options(self):
        return {"reduction": self.reduction, "weight": self.weight, "pos_weight": self.pos_weight}

    def array_options(self, out_shape):
        return {"reduction": self.reduction, "ndim": len(out_shape), "weight": _floats(self.weight),
                "pos_weight": _floats(self.pos_weight)}

    def broadcast(self, option: str, out_shape) -> np.ndarray:
        """weight or pos_weight as exact numbers broadcast to the output shape (ones when not given)."""
        value = getattr(self, option)
        if value is None:
            return np.full(out_shape, sp.Integer(1), dtype=object)
        array = np.asarray(tensor.to_array(value, self.where, option) if isinstance(value, (list, tuple)) else
                           tensor.number(value, self.where, option), dtype=object)
        try:
            shape = np.broadcast_shapes(array.shape, tuple(out_shape))
        except ValueError:
            shape = None
        if shape != tuple(out_shape):
            raise OptionError(self.where, option, f"shape {list(array.shape)} does not broadcast to the output "
                                                  f"shape {list(out_shape)}")
        return np.broadcast_to(array, out_shape)

    def check_target(self, out_shape, target):
        target = np.asarray(target, dtype=object)
        if target.shape != tuple(out_shape):
            raise OptionError(self.where, "target", f"Target size ({list(target.shape)}) must be the same as input "
                                                    f"size ({list(out_shape)})")
        self.broadcast("weight", out_shape)
        self.broadcast("pos_weight", out_shape)
        return target

    def _scale(self, out):
        return 1 if self.reduction == "sum" else max(out.size, 1)

    def index_instance(self, key, out_shape):
        """The form with n filled in, and without w or p where they are not given."""
        entries = max(int(np.prod(out_shape)), 1)
        n = 1 if self.reduction == "sum" else entries
        w = "" if self.weight is None else r"w_i\, "
        log_factor = r"\big(1 + (p_i - 1)\, y_i\big)" if self.pos_weight is not None else ""
        given = "".join(r", \quad %s = %s" % (letter, _latex_values(getattr(self, option), self.where, option))
                        for letter, option in (("w", "weight"), ("p", "pos_weight")) if getattr(self, option) is not None)
        if key == "forward":
            scale = "" if n == 1 else r"\frac{1}{%d} " % n
            body = r"(1 - y_i)\, z_i + %s\log\big(1 + e^{-z_i}\big)" % (log_factor + r" " if log_factor else "")
            return r"L = %s\sum_{i=1}^{%d} %s\Big( %s \Big)" % (scale, entries, w, body) + given
        scale = "" if n == 1 else r"\frac{1}{%d}\, " % n
        body = r"%s\, \sigma(z_i) - p_i\, y_i" % log_factor if log_factor else r"\sigma(z_i) - y_i"
        return r"\frac{\partial L}{\partial z_i} = %s%s\Big( %s \Big)" % (scale, w, body) + given

    def forward(self, out, target):
        weight, pos = self.broadcast("weight", out.shape), self.broadcast("pos_weight", out.shape)
        terms = [w * ((1 - y) * z + (1 + (p - 1) * y) * sp.log(1 + sp.exp(-z)))
                 for z, y, w, p in zip(*(np.asarray(a, dtype=object).reshape(-1) for a in (out, target, weight, pos)))]
        return tensor.add_all(terms) / self._scale(out)

    def backward(self, out, target):
        weight, pos = self.broadcast("weight", out.shape), self.broadcast("pos_weight", out.shape)
        grad = np.empty(out.shape, dtype=object)
        for idx in np.ndindex(*out.shape):
            z, y, w, p = out[idx], target[idx], weight[idx], pos[idx]
            grad[idx] = w * ((1 + (p - 1) * y) / (1 + sp.exp(-z)) - p * y) / self._scale(out)
        return grad

    def torch_module(self):
        import torch

        def as_tensor(value):
            return None if value is None else torch.tensor(np.asarray(value, dtype=np.float64))

        return torch.nn.BCEWithLogitsLoss(weight=as_tensor(self.weight), pos_weight=as_tensor(self.pos_weight),
                                          reduction=self.reduction)


def _latex_values(value, where: str, option: str) -> str:
    """weight / pos_weight as given, in LaTeX: a number, a tuple, or a matrix (2-D)."""
    if not isinstance(value, (list, tuple)):
        return latex(tensor.number(value, where, option))
    array = tensor.to_array(value, where, option)
    if array.ndim == 1:
        return r"\left(%s\right)" % ", ".join(latex(v) for v in array)
    if array.ndim == 2:
        return r"\begin{bmatrix}%s\end{bmatrix}" % r" \\ ".join(" & ".join(latex(v) for v in row) for row in array)
    return r"\text{(given, %s)}" % r" \times ".join(map(str, array.shape))


def _floats(value):
    """weight / pos_weight as Python floats (nested lists), for generated code."""
    return None if value is None else np.asarray(value, dtype=np.float64).tolist()


# ---------------------------------------------------------------- index forms as evaluable functions

def _bce_entries(loss, out, target):
    shape = np.shape(out)
    weight, pos = loss.broadcast("weight", shape), loss.broadcast("pos_weight", shape)
    n = 1 if loss.reduction == "sum" else max(int(np.prod(shape)), 1)
    return weight, pos, n


def _bce_forward_rule(loss, out, target):
    weight, pos, n = _bce_entries(loss, out, target)
    return sum((weight[i] * ((1 - target[i]) * out[i] + (1 + (pos[i] - 1) * target[i]) * sp.log(1 + sp.exp(-out[i])))
                for i in np.ndindex(*np.shape(out))), sp.Integer(0)) / n


def _bce_input_rule(loss, out, target):
    weight, pos, n = _bce_entries(loss, out, target)
    grad = np.empty(np.shape(out), dtype=object)
    for i in np.ndindex(*np.shape(out)):
        sigma = 1 / (1 + sp.exp(-out[i]))
        grad[i] = weight[i] / n * ((1 + (pos[i] - 1) * target[i]) * sigma - pos[i] * target[i])
    return grad


BCEWithLogitsLoss.index_rules = {"forward": _bce_forward_rule, "input": _bce_input_rule}


# ---------------------------------------------------------------- array twins (NumPy, batch axes in front)
#
# One problem is the last `ndim` axes; weight and pos_weight (Python lists or None) broadcast to it.

def _bce_with_logits_forward(out, target, *, reduction, ndim, weight, pos_weight):
    """torch's stable form: (1 - y) z + (1 + (p - 1) y) (m + log(e^-m + e^(-z-m))), m = max(-z, 0)."""
    top = np.maximum(-out, 0.0)
    softplus = top + np.log(np.exp(-top) + np.exp(-out - top))
    pos = 1.0 if pos_weight is None else np.asarray(pos_weight, dtype=np.float64)
    each = (1 - target) * out + (1 + (pos - 1) * target) * softplus
    if weight is not None:
        each = each * np.asarray(weight, dtype=np.float64)
    total = each.sum(axis=tuple(range(each.ndim - ndim, each.ndim)))
    return total if reduction == "sum" else total / _bce_count(out, ndim)


def _bce_with_logits_backward(out, target, *, reduction, ndim, weight, pos_weight):
    """(1 + (p - 1) y) sigmoid(z) - p y, times w, divided by the entry count for 'mean'."""
    small = np.exp(-np.abs(out))
    sigma = np.where(out >= 0, 1 / (1 + small), small / (1 + small))
    pos = 1.0 if pos_weight is None else np.asarray(pos_weight, dtype=np.float64)
    grad = (1 + (pos - 1) * target) * sigma - pos * target
    if weight is not None:
        grad = grad * np.asarray(weight, dtype=np.float64)
    grad = np.zeros(np.broadcast_shapes(np.shape(out), np.shape(target))) + grad
    return grad if reduction == "sum" else grad / _bce_count(out, ndim)


def _bce_count(out, ndim):
    """How many entries one problem's output has (1 for a scalar output)."""
    return int(np.prod(np.shape(out)[np.ndim(out) - ndim:]))


BCEWithLogitsLoss.array_twin = {"forward": _bce_with_logits_forward, "backward": _bce_with_logits_backward}
