"""SmoothL1Loss (beta) and HuberLoss (delta): piecewise in d = S - y, with torch's branches at the tie.

SmoothL1: d^2 / (2 beta) where |d| < beta, else |d| - beta/2; beta = 0 is L1Loss (torch calls l1_loss, so the
gradient at d = 0 is sign(0) = 0). Huber: d^2 / 2 where |d| < delta, else delta (|d| - delta/2); Huber is
delta times SmoothL1 with beta = delta. At |d| = beta exactly torch takes the outer branch in the forward
(`z < beta`) and in the backward (`x >= beta`); both branches agree there (value beta/2, gradient sign(d)),
and symgrad takes the outer branch too. Targets broadcast to the output, as for MSELoss.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from ..core import tensor
from ..core.decimals import latex
from ..core.errors import OptionError
from ..core.values import shown
from . import options as opt
from .loss import PointwiseLoss
from .class_targets import real_number


class _Piecewise(PointwiseLoss):
    """What SmoothL1Loss and HuberLoss share beyond PointwiseLoss: the threshold and the two branches."""

    #: The option holding the threshold, and whether 0 is allowed (SmoothL1's beta = 0 is L1).
    threshold = "beta"
    zero_allowed = True

    def __init__(self, reduction="mean", threshold=1.0):
        self.reduction = opt.choice(self.type_name, "reduction", reduction, ("mean", "sum"))
        value = real_number(self.type_name, self.threshold, threshold)
        if value < 0 or (value == 0 and not self.zero_allowed):
            raise OptionError(self.type_name, self.threshold, self.refusal + f", got {shown(threshold)}")
        setattr(self, self.threshold, threshold)

    def options(self):
        return {"reduction": self.reduction, self.threshold: getattr(self, self.threshold)}

    def array_options(self, out_shape):
        return {"reduction": self.reduction, "ndim": len(out_shape), self.threshold: float(getattr(self, self.threshold))}

    def exact_threshold(self) -> sp.Expr:
        return real_number(self.where, self.threshold, getattr(self, self.threshold))

    def forward(self, out, target):
        residuals = np.asarray(out - target, dtype=object).reshape(-1)
        return tensor.add_all([self.each(r) for r in residuals]) / self._scale(out)

    def backward(self, out, target):
        scale = self._scale(out)
        return tensor.apply(lambda r: self.slope(r) / scale, out - target)

    def index_instance(self, key, out_shape):
        """The form with n, the number of entries and the threshold's numbers written in."""
        entries = max(int(np.prod(out_shape)), 1)
        n = 1 if self.reduction == "sum" else entries
        scale = "" if n == 1 else r"\frac{1}{%d} " % n
        d, t = "S_i - y_i", self.exact_threshold()
        if key == "forward":
            inner, outer = self.forward_branches(t)
            head = r"L = %s\sum_{i=1}^{%d} " % (scale, entries)
        else:
            inner, outer = self.slope_branches(t)
            head = r"\frac{\partial L}{\partial S_i} = %s" % scale
        if t == 0:  # SmoothL1Loss with beta = 0 is L1Loss
            return head + outer
        return head + r"\begin{cases} %s & |%s| < %s \\ %s & \text{otherwise} \end{cases}" % (
            inner, d, latex(t), outer)

    def torch_module(self):
        import torch

        return getattr(torch.nn, self.type_name)(reduction=self.reduction,
                                                 **{self.threshold: float(getattr(self, self.threshold))})


class SmoothL1Loss(_Piecewise):
    type_name = "SmoothL1Loss"
    threshold, zero_allowed, letter = "beta", True, r"\beta"
    refusal = "smooth_l1_loss does not support negative values for beta"
    index_form = {
        "forward": r"L = \frac{1}{n} \sum_{i} \begin{cases} \frac{(S_i - y_i)^2}{2\beta} & |S_i - y_i| < \beta \\ "
                   r"|S_i - y_i| - \frac{\beta}{2} & \text{otherwise} \end{cases}",
        "input": r"\frac{\partial L}{\partial S_i} = \frac{1}{n} \begin{cases} \frac{S_i - y_i}{\beta} & "
                 r"|S_i - y_i| < \beta \\ \operatorname{sign}(S_i - y_i) & \text{otherwise} \end{cases}",
    }
    words = {
        "en": {"note:forward": "$n$ is the number of entries for `reduction='mean'` and 1 for `'sum'`. At "
                               "$|S_i - y_i| = \\beta$ torch takes the second branch; both give $\\beta/2$ there, and "
                               "the gradient $\\operatorname{sign}(S_i - y_i)$. With $\\beta = 0$ the loss is "
                               "`L1Loss` (gradient $\\operatorname{sign}(0) = 0$)."},
        "zh": {"note:forward": "`reduction='mean'` 时 $n$ 为元素个数，`'sum'` 时 $n = 1$。当 $|S_i - y_i| = \\beta$ "
                               "时 torch 取第二个分支；两个分支在这里都等于 $\\beta/2$，梯度都是 "
                               "$\\operatorname{sign}(S_i - y_i)$。$\\beta = 0$ 时即 `L1Loss`（梯度 "
                               "$\\operatorname{sign}(0) = 0$）。"},
    }

    def __init__(self, reduction="mean", beta=1.0):
        super().__init__(reduction, beta)

    @staticmethod
    def forward_branches(beta):
        if beta == 0:
            return "", r"\left| S_i - y_i \right|"
        return (_times(1 / (2 * beta), "(S_i - y_i)^2"), r"|S_i - y_i| - %s" % latex(beta / 2))

    @staticmethod
    def slope_branches(beta):
        if beta == 0:
            return "", r"\operatorname{sign}(S_i - y_i)"
        return "S_i - y_i" if beta == 1 else _times(1 / beta, "(S_i - y_i)"), r"\operatorname{sign}(S_i - y_i)"

    def each(self, r):
        beta = self.exact_threshold()
        if beta == 0:
            return sp.Abs(r)
        return sp.Piecewise((r**2 / (2 * beta), sp.Abs(r) < beta), (sp.Abs(r) - beta / 2, True))

    def slope(self, r):
        beta = self.exact_threshold()
        if beta == 0:
            return sp.sign(r)
        return sp.Piecewise((r / beta, sp.Abs(r) < beta), (sp.sign(r), True))


class HuberLoss(_Piecewise):
    type_name = "HuberLoss"
    threshold, zero_allowed, letter = "delta", False, r"\delta"
    refusal = "huber_loss does not support non-positive values for delta"
    index_form = {
        "forward": r"L = \frac{1}{n} \sum_{i} \begin{cases} \frac{1}{2} (S_i - y_i)^2 & |S_i - y_i| < \delta \\ "
                   r"\delta \big(|S_i - y_i| - \frac{\delta}{2}\big) & \text{otherwise} \end{cases}",
        "input": r"\frac{\partial L}{\partial S_i} = \frac{1}{n} \begin{cases} S_i - y_i & |S_i - y_i| < \delta \\ "
                 r"\delta \operatorname{sign}(S_i - y_i) & \text{otherwise} \end{cases}",
    }
    words = {
        "en": {"note:forward": "$n$ is the number of entries for `reduction='mean'` and 1 for `'sum'`. At "
                               "$|S_i - y_i| = \\delta$ torch takes the second branch; both give $\\delta^2/2$ there, "
                               "and the gradient $\\delta \\operatorname{sign}(S_i - y_i)$. `HuberLoss` is $\\delta$ "
                               "times `SmoothL1Loss` with $\\beta = \\delta$."},
        "zh": {"note:forward": "`reduction='mean'` 时 $n$ 为元素个数，`'sum'` 时 $n = 1$。当 $|S_i - y_i| = \\delta$ "
                               "时 torch 取第二个分支；两个分支在这里都等于 $\\delta^2/2$，梯度都是 "
                               "$\\delta \\operatorname{sign}(S_i - y_i)$。`HuberLoss` 等于 $\\delta$ 乘以 "
                               "$\\beta = \\delta$ 的 `SmoothL1Loss`。"},
    }

    def __init__(self, reduction="mean", delta=1.0):
        super().__init__(reduction, delta)

    @staticmethod
    def forward_branches(delta):
        return (r"\frac{1}{2} (S_i - y_i)^2", r"%s - %s" % (_times(delta, "|S_i - y_i|"), latex(delta**2 / 2)))

    @staticmethod
    def slope_branches(delta):
        return "S_i - y_i", _times(delta, r"\operatorname{sign}(S_i - y_i)")

    def each(self, r):
        delta = self.exact_threshold()
        return sp.Piecewise((r**2 / 2, sp.Abs(r) < delta), (delta * (sp.Abs(r) - delta / 2), True))

    def slope(self, r):
        delta = self.exact_threshold()
        return sp.Piecewise((r, sp.Abs(r) < delta), (delta * sp.sign(r), True))


def _times(number, text: str) -> str:
    """number * text in LaTeX, the factor left out when it is 1."""
    return text if number == 1 else r"%s %s" % (latex(number), text)


# ---------------------------------------------------------------- index forms as evaluable functions

def _piecewise_n(loss, out) -> int:
    return 1 if loss.reduction == "sum" else max(np.asarray(out).size, 1)


def _smooth_l1_forward_rule(loss, out, target):
    beta = sp.Rational(str(loss.beta))
    total = sp.Integer(0)
    for s, y in zip(np.asarray(out, dtype=object).reshape(-1), np.asarray(target, dtype=object).reshape(-1)):
        total += sp.Piecewise(((s - y)**2 / (2 * beta), sp.Abs(s - y) < beta), (sp.Abs(s - y) - beta / 2, True)) \
            if beta != 0 else sp.Abs(s - y)
    return total / _piecewise_n(loss, out)


def _smooth_l1_input_rule(loss, out, target):
    beta = sp.Rational(str(loss.beta))
    n = _piecewise_n(loss, out)
    return tensor.apply(lambda r: (sp.Piecewise((r / beta, sp.Abs(r) < beta), (sp.sign(r), True)) if beta != 0
                                   else sp.sign(r)) / n, np.asarray(out - target, dtype=object))


def _huber_forward_rule(loss, out, target):
    delta = sp.Rational(str(loss.delta))
    total = sp.Integer(0)
    for s, y in zip(np.asarray(out, dtype=object).reshape(-1), np.asarray(target, dtype=object).reshape(-1)):
        total += sp.Piecewise(((s - y)**2 / 2, sp.Abs(s - y) < delta), (delta * (sp.Abs(s - y) - delta / 2), True))
    return total / _piecewise_n(loss, out)


def _huber_input_rule(loss, out, target):
    delta = sp.Rational(str(loss.delta))
    n = _piecewise_n(loss, out)
    return tensor.apply(lambda r: sp.Piecewise((r, sp.Abs(r) < delta), (delta * sp.sign(r), True)) / n,
                        np.asarray(out - target, dtype=object))


SmoothL1Loss.index_rules = {"forward": _smooth_l1_forward_rule, "input": _smooth_l1_input_rule}
HuberLoss.index_rules = {"forward": _huber_forward_rule, "input": _huber_input_rule}


# ---------------------------------------------------------------- array twins (NumPy, batch axes in front)

def _smooth_l1_loss_forward(out, target, *, reduction, ndim, beta):
    """d^2 / (2 beta) where |d| < beta, else |d| - beta/2 (|d| for beta = 0), summed over each problem."""
    d = np.abs(out - target)
    each = d if beta == 0 else np.where(d < beta, 0.5 * d * d / (beta or 1.0), d - 0.5 * beta)
    total = each.sum(axis=tuple(range(each.ndim - ndim, each.ndim)))
    return total if reduction == "sum" else total / _piecewise_count(out, ndim)


def _smooth_l1_loss_backward(out, target, *, reduction, ndim, beta):
    """d / beta where |d| < beta, else sign(d) (torch's outer branch at the tie; sign(0) = 0 for beta = 0)."""
    d = out - target
    grad = np.sign(d) if beta == 0 else np.where(np.abs(d) < beta, d / (beta or 1.0), np.sign(d))
    return grad if reduction == "sum" else grad / _piecewise_count(out, ndim)


def _huber_loss_forward(out, target, *, reduction, ndim, delta):
    """d^2 / 2 where |d| < delta, else delta (|d| - delta/2), summed over each problem."""
    d = np.abs(out - target)
    each = np.where(d < delta, 0.5 * d * d, delta * (d - 0.5 * delta))
    total = each.sum(axis=tuple(range(each.ndim - ndim, each.ndim)))
    return total if reduction == "sum" else total / _piecewise_count(out, ndim)


def _huber_loss_backward(out, target, *, reduction, ndim, delta):
    """d where |d| < delta, else delta sign(d)."""
    d = out - target
    grad = np.where(np.abs(d) < delta, d, delta * np.sign(d))
    return grad if reduction == "sum" else grad / _piecewise_count(out, ndim)


def _piecewise_count(out, ndim):
    """How many entries one problem's output has (1 for a scalar output)."""
    return int(np.prod(np.shape(out)[np.ndim(out) - ndim:]))


SmoothL1Loss.array_twin = {"forward": _smooth_l1_loss_forward, "backward": _smooth_l1_loss_backward}
HuberLoss.array_twin = {"forward": _huber_loss_forward, "backward": _huber_loss_backward}
