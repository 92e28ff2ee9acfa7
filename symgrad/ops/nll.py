"""NLLLoss: log-probabilities (N, C) and class indices, with torch's weight, ignore_index and weighted mean.

L = -sum_{n in K} w[y_n] l_{n,y_n} / D, K the samples whose target is not ignore_index, D the sum of
w[y_n] over K for 'mean' (torch's weighted mean, N without weights and ignored targets) and 1 for 'sum'.
The gradient is -w[y_n] / D at (n, y_n) and 0 elsewhere. torch does not check that the input holds
log-probabilities, and neither does symgrad.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from ..core import tensor
from ..core.errors import OptionError
from . import class_targets as ct
from . import options as opt
from .base import Loss
from .class_targets import class_onehot_weights


class NLLLoss(Loss):
    type_name = "NLLLoss"
    index_form = {
        "forward": r"L = -\frac{1}{D} \sum_{n \in K} w_{y_n}\, \ell_{n,y_n}",
        "input": r"\frac{\partial L}{\partial \ell_{n,c}} = -\frac{1}{D}\, w_{y_n}\, \mathbb{I}[n \in K]\, "
                 r"\mathbb{I}[c = y_n]",
    }
    words = {
        "en": {"note:forward": "$K$ holds the samples whose target is not `ignore_index` (default $-100$); $w_c$ is "
                               "the weight of class $c$ (1 without `weight`). For `reduction='mean'` torch divides "
                               "by $D = \\sum_{n \\in K} w_{y_n}$ (without weights: the number of samples in $K$), "
                               "for `'sum'` by $D = 1$."},
        "zh": {"note:forward": "$K$ 为目标不等于 `ignore_index`（默认 $-100$）的样本；$w_c$ 为类别 $c$ 的权重（不给 "
                               "`weight` 时为 1）。`reduction='mean'` 时 torch 除以 $D = \\sum_{n \\in K} w_{y_n}$"
                               "（无权重时即 $K$ 中的样本数），`'sum'` 时 $D = 1$。"},
    }

    #: The dtype of the checked target in generated NumPy code: class indices.
    target_dtype = "int64"

    def __init__(self, reduction="mean", weight=None, ignore_index=ct.IGNORE_INDEX):
        self.reduction = opt.choice(self.type_name, "reduction", reduction, ("mean", "sum"))
        self.weight = ct.weights_option(self.type_name, "weight", weight)
        self.ignore_index = ct.ignore_index_option(self.type_name, ignore_index)

    def options(self):
        return {"reduction": self.reduction, "weight": self.weight, "ignore_index": self.ignore_index}

    def array_options(self, out_shape):
        return {"reduction": self.reduction, "weight": None if self.weight is None else
                tuple(float(w) for w in self.weight), "ignore_index": self.ignore_index}

    def index_instance(self, key, out_shape):
        """The form with the reduction's divisor and the weights written in."""
        _, c = ct.logits_shape(self, out_shape, "log-probabilities")
        weighted = self.weight is not None
        scale = "" if self.reduction == "sum" else r"\frac{1}{D}" if weighted else r"\frac{1}{|K|}"
        w = r"w_{y_n}\, " if weighted else ""
        if key == "forward":
            form = r"L = -%s \sum_{n \in K} %s\ell_{n,y_n}" % (scale, w)
        else:
            form = r"\frac{\partial L}{\partial \ell_{n,c}} = -%s\, %s\mathbb{I}[n \in K]\, \mathbb{I}[c = y_n]" % (
                scale, w)
        form = form.replace("-\\, ", "-").replace("- \\sum", "-\\sum")
        if weighted:
            form += r", \quad w = %s" % ct.latex_weights(ct.class_weights(self, c))
            if self.reduction == "mean":
                form += r", \quad D = \sum_{n \in K} w_{y_n}"
        return form

    def symbolic_target(self, out_shape):
        n, c = ct.logits_shape(self, out_shape, "log-probabilities")
        raise OptionError(self.where, "target", f"missing: give {n} class indices in [0, {c}), e.g. target = "
                                                f"{[0] * n}")

    def check_target(self, out_shape, target):
        ct.logits_shape(self, out_shape, "log-probabilities")
        return ct.check_indices(self, out_shape, target)

    def forward(self, out, target):
        weights = ct.class_weights(self, out.shape[1])
        picked = [weights[int(y)] * out[n, int(y)] for n, (y, keep) in enumerate(zip(target, ct.kept(self, target)))
                  if keep]
        return -tensor.add_all(picked) / ct.denominator(self, target, weights)

    def backward(self, out, target):
        weights = ct.class_weights(self, out.shape[1])
        scale = ct.denominator(self, target, weights)
        grad = np.full(out.shape, sp.Integer(0), dtype=object)
        for n, (y, keep) in enumerate(zip(target, ct.kept(self, target))):
            if keep:
                grad[n, int(y)] = -weights[int(y)] / scale
        return grad

    def torch_module(self):
        import torch

        class NLLLoss(torch.nn.NLLLoss):
            """torch's loss, taking the class indices in whatever dtype the caller holds them."""

            def forward(self, input, target):
                return super().forward(input, target.long())

        return NLLLoss(weight=ct.torch_weight(self), ignore_index=self.ignore_index, reduction=self.reduction)


# ---------------------------------------------------------------- index forms as evaluable functions

def _nll_terms(loss, out, target):
    """(w[y_n], n, y_n) of each sample in K, and D."""
    weights = [sp.Integer(1)] * out.shape[1] if loss.weight is None else [sp.Rational(str(w)) for w in loss.weight]
    kept = [(weights[int(y)], n, int(y)) for n, y in enumerate(target) if int(y) != loss.ignore_index]
    return kept, (sp.Integer(1) if loss.reduction == "sum" else sum((w for w, _, _ in kept), sp.Integer(0)))


def _nll_forward_rule(loss, out, target):
    kept, d = _nll_terms(loss, out, target)
    return -sum((w * out[n, y] for w, n, y in kept), sp.Integer(0)) / d


def _nll_input_rule(loss, out, target):
    kept, d = _nll_terms(loss, out, target)
    grad = np.empty(out.shape, dtype=object)
    for n, c in np.ndindex(*out.shape):
        grad[n, c] = -sum((w for w, m, y in kept if m == n and y == c), sp.Integer(0)) / d
    return grad


NLLLoss.index_rules = {"forward": _nll_forward_rule, "input": _nll_input_rule}


# ---------------------------------------------------------------- array twins (NumPy, batch axes in front)
#
# One problem: log-probabilities of shape (N, C) and N class indices (int64); batch axes in front of either.

def _nll_loss_forward(out, target, *, reduction, weight, ignore_index):
    """-sum_n w[y_n] l_n,y_n over the kept samples, divided by sum_n w[y_n] for 'mean'."""
    picked = class_onehot_weights(out, target, weight, ignore_index)
    total = -(picked * out).sum(axis=(-2, -1))
    return total if reduction == "sum" else total / picked.sum(axis=(-2, -1))


def _nll_loss_backward(out, target, *, reduction, weight, ignore_index):
    """-w[y_n] at (n, y_n), divided by sum_n w[y_n] for 'mean'."""
    picked = class_onehot_weights(out, target, weight, ignore_index)
    scale = 1.0 if reduction == "sum" else picked.sum(axis=(-2, -1))[..., None, None]
    return np.zeros(np.shape(out)) - picked / scale


NLLLoss.array_twin = {"forward": _nll_loss_forward, "backward": _nll_loss_backward}
