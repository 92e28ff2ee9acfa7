"""Pointwise losses, MSELoss and L1Loss: mean (or sum) over a target broadcast to the output, as torch."""

from __future__ import annotations

import numpy as np
import sympy as sp

from ..core import tensor
from ..core.errors import OptionError
from . import options as opt
from .base import Loss


class PointwiseLoss(Loss):
    """What the element-wise losses share (MSELoss, L1Loss, SmoothL1Loss, HuberLoss): the reduction option and
    the broadcast target. Not registered: it names no torch loss (no type_name)."""

    def __init__(self, reduction="mean"):
        self.reduction = opt.choice(self.type_name, "reduction", reduction, ("mean", "sum"))

    def options(self):
        return {"reduction": self.reduction}

    def array_options(self, out_shape):
        """The reduction, and the output's rank: how many trailing axes one problem reduces."""
        return {"reduction": self.reduction, "ndim": len(out_shape)}

    def check_target(self, out_shape, target):
        target = np.asarray(target, dtype=object)
        try:
            broadcast = np.broadcast_shapes(out_shape, target.shape)
        except ValueError:
            broadcast = None
        if broadcast != tuple(out_shape):
            raise OptionError(self.where, "target",
                              f"shape {list(target.shape)} does not broadcast to the output shape {list(out_shape)}")
        return np.broadcast_to(target, out_shape)

    def _scale(self, out):
        return 1 if self.reduction == "sum" else max(out.size, 1)

    def index_instance(self, key: str, out_shape) -> str:
        """The index form with this loss's n (and the number of entries) filled in; over one entry,
        that entry alone (L = (S_11 - y)^2, not a one-term sum)."""
        entries = max(int(np.prod(out_shape)), 1)
        n = 1 if self.reduction == "sum" else entries
        general = self.index_form[key]
        if entries == 1:
            one = "S_{%s}" % ("1" * min(len(out_shape), 2) or "1")  # the page's name of the one entry: S_11
            general = general.replace(r"\sum_{i} ", "").replace("S_i", one).replace("y_i", "y")
        scale = {r"\frac{1}{n} ": _factor(sp.Rational(1, n)), r"\frac{2}{n} ": _factor(sp.Rational(2, n)),
                 r"\sum_{i}": r"\sum_{i=1}^{%d}" % entries}
        for old, new in scale.items():
            general = general.replace(old, new)
        return general

    def torch_module(self):
        import torch

        return getattr(torch.nn, self.type_name)(reduction=self.reduction)


class MSELoss(PointwiseLoss):
    type_name = "MSELoss"
    words = {
        "en": {"note:forward": "$n$ is the number of entries for `reduction='mean'` and 1 for `'sum'`."},
        "zh": {"note:forward": "`reduction='mean'` 时 $n$ 为元素个数，`'sum'` 时 $n = 1$。"},
    }
    index_form = {
        "forward": r"L = \frac{1}{n} \sum_{i} (S_i - y_i)^2",
        "input": r"\frac{\partial L}{\partial S_i} = \frac{2}{n} (S_i - y_i)",
    }

    def forward(self, out, target):
        residuals = np.asarray(out - target, dtype=object).reshape(-1)
        return tensor.add_all([r**2 for r in residuals]) / self._scale(out)

    def backward(self, out, target):
        return np.asarray(2 * (out - target) / self._scale(out), dtype=object)


class L1Loss(PointwiseLoss):
    """|S - y|; its derivative is sign(S - y) with sign(0) = 0, as torch (and SymPy) have it."""

    type_name = "L1Loss"
    words = {
        "en": {"note:forward": "$n$ is the number of entries for `reduction='mean'` and 1 for `'sum'`."},
        "zh": {"note:forward": "`reduction='mean'` 时 $n$ 为元素个数，`'sum'` 时 $n = 1$。"},
    }
    index_form = {
        "forward": r"L = \frac{1}{n} \sum_{i} \left| S_i - y_i \right|",
        "input": r"\frac{\partial L}{\partial S_i} = \frac{1}{n} \operatorname{sign}(S_i - y_i)",
    }

    def forward(self, out, target):
        residuals = np.asarray(out - target, dtype=object).reshape(-1)
        return tensor.add_all([sp.Abs(r) for r in residuals]) / self._scale(out)

    def backward(self, out, target):
        scale = self._scale(out)
        return tensor.apply(lambda r: sp.sign(r) / scale, out - target)


def _factor(c: sp.Rational) -> str:
    """A constant factor as written before a bracket: 1 -> nothing, 2 -> 2, 2/4 -> 1/2."""
    if c == 1:
        return ""
    return str(c) if c.q == 1 else r"\frac{%d}{%d} " % (c.p, c.q)


# ---------------------------------------------------------------- index forms as evaluable functions

def _n(loss, out) -> int:
    return 1 if loss.reduction == "sum" else max(np.asarray(out).size, 1)


def _pairs(out, target):
    return zip(np.asarray(out, dtype=object).reshape(-1), np.asarray(target, dtype=object).reshape(-1))


MSELoss.index_rules = {
    "forward": lambda loss, out, target: sum(((s - y) ** 2 for s, y in _pairs(out, target)), 0) / _n(loss, out),
    "input": lambda loss, out, target: np.asarray(2 * (out - target) / _n(loss, out), dtype=object),
}
L1Loss.index_rules = {
    "forward": lambda loss, out, target: sum((sp.Abs(s - y) for s, y in _pairs(out, target)), 0) / _n(loss, out),
    "input": lambda loss, out, target: tensor.apply(lambda r: sp.sign(r), np.asarray(out - target, dtype=object))
    / _n(loss, out),
}


# ---------------------------------------------------------------- array twins (NumPy, batch axes in front)
#
# One problem's output is the last `ndim` axes of `out`; the checked target already has that
# shape (after its own batch axes, if any). 'mean' divides by the number of entries of one problem.

def _mse_loss_forward(out, target, *, reduction, ndim):
    """(S - y)^2 summed over each problem, divided by its entry count for 'mean'."""
    residual = out - target
    total = (residual * residual).sum(axis=tuple(range(residual.ndim - ndim, residual.ndim)))
    return total if reduction == "sum" else total / _pointwise_count(out, ndim)


def _mse_loss_backward(out, target, *, reduction, ndim):
    """2 (S - y), divided by the entry count for 'mean'."""
    scale = 2.0 if reduction == "sum" else 2.0 / _pointwise_count(out, ndim)
    return scale * (out - target)


def _l1_loss_forward(out, target, *, reduction, ndim):
    """|S - y| summed over each problem, divided by its entry count for 'mean'."""
    residual = np.abs(out - target)
    total = residual.sum(axis=tuple(range(residual.ndim - ndim, residual.ndim)))
    return total if reduction == "sum" else total / _pointwise_count(out, ndim)


def _l1_loss_backward(out, target, *, reduction, ndim):
    """sign(S - y) with sign(0) = 0 (torch's and SymPy's), divided by the entry count for 'mean'."""
    scale = 1.0 if reduction == "sum" else 1.0 / _pointwise_count(out, ndim)
    return scale * np.sign(out - target)


def _pointwise_count(out, ndim):
    """How many entries one problem's output has (1 for a scalar output)."""
    return int(np.prod(np.shape(out)[np.ndim(out) - ndim:]))


MSELoss.array_twin = {"forward": _mse_loss_forward, "backward": _mse_loss_backward}
L1Loss.array_twin = {"forward": _l1_loss_forward, "backward": _l1_loss_backward}
