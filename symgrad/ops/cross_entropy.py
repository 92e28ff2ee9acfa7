"""CrossEntropyLoss with class-index targets: log-softmax + NLL over (N, C) logits, as torch.

The forward is written from the logits (log of the summed exponentials minus the
target logit), so `method="diff"` differentiates the loss itself; the backward
rule is the textbook softmax - onehot, divided by N for the mean. torch wants the
target as integers (a float target means class probabilities there), so the torch
twin casts the target it receives to long.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from ..core import tensor
from ..core.errors import OptionError
from . import options as opt
from .base import Loss


class CrossEntropyLoss(Loss):
    type_name = "CrossEntropyLoss"
    index_form = {
        "forward": r"L = \frac{1}{N} \sum_{n} \Big( \log \sum_{c} e^{z_{n,c}} - z_{n,y_n} \Big)",
        "input": r"\frac{\partial L}{\partial z_{n,c}} = \frac{1}{N} \Big( \frac{e^{z_{n,c}}}{\sum_{c'} e^{z_{n,c'}}}"
                 r" - \mathbb{1}[c = y_n] \Big)",
    }

    words = {"en": {}, "zh": {}}

    #: The dtype of the checked target in generated NumPy code: class indices.
    target_dtype = "int64"

    def __init__(self, reduction="mean"):
        self.reduction = opt.choice(self.type_name, "reduction", reduction, ("mean", "sum"))

    def options(self):
        return {"reduction": self.reduction}

    def array_options(self, out_shape):
        """Only the reduction: one problem is always (N, C) logits (check_target refuses other shapes)."""
        return {"reduction": self.reduction}

    def index_instance(self, key, out_shape):
        return ""  # N and C read off the shape

    def _logits_shape(self, out_shape) -> tuple[int, int]:
        if len(out_shape) != 2:
            raise OptionError(self.where, "input", f"expected (N, C) logits, got the network output shape "
                                                   f"{list(out_shape)} (end the network with Flatten and Linear)")
        return tuple(out_shape)

    def symbolic_target(self, out_shape):
        n, c = self._logits_shape(out_shape)
        raise OptionError(self.where, "target", f"missing: give {n} class indices in [0, {c}), e.g. target = "
                                                f"{[0] * n}")

    def check_target(self, out_shape, target):
        """The N class indices as SymPy integers; symbols, fractions or a wrong shape are refused."""
        n, c = self._logits_shape(out_shape)
        target = np.asarray(target, dtype=object)
        if target.shape != (n,):
            raise OptionError(self.where, "target", f"expected {n} class indices (shape [{n}]), "
                                                    f"got shape {list(target.shape)}")
        for value in target:
            if not getattr(value, "is_Integer", False) or not 0 <= int(value) < c:
                raise OptionError(self.where, "target", f"class indices must be integers in [0, {c}), got {value}")
        return target

    def _scale(self, out):
        return 1 if self.reduction == "sum" else out.shape[0]

    def forward(self, out, target):
        terms = []
        for n in range(out.shape[0]):
            log_sum = sp.log(tensor.add_all([sp.exp(z) for z in out[n]]))
            terms.append(log_sum - out[n, int(target[n])])  # -log_softmax(z_n)[y_n]
        return tensor.add_all(terms) / self._scale(out)

    def backward(self, out, target):
        grad = np.empty(out.shape, dtype=object)
        for n in range(out.shape[0]):
            exps = [sp.exp(z) for z in out[n]]
            total = tensor.add_all(exps)
            for c, e in enumerate(exps):
                grad[n, c] = (e / total - (1 if c == int(target[n]) else 0)) / self._scale(out)
        return grad

    def torch_module(self):
        import torch

        class CrossEntropyLoss(torch.nn.CrossEntropyLoss):
            """torch's loss, taking the class indices in whatever dtype the caller holds them."""

            def forward(self, input, target):
                return super().forward(input, target.long())

        return CrossEntropyLoss(reduction=self.reduction)


# ---------------------------------------------------------------- index forms as evaluable functions

def _ce_forward(loss, out, target):
    scale = 1 if loss.reduction == "sum" else out.shape[0]
    return sum((sp.log(sum(sp.exp(z) for z in out[n])) - out[n, int(target[n])] for n in range(out.shape[0])), 0) / scale


def _ce_input(loss, out, target):
    scale = 1 if loss.reduction == "sum" else out.shape[0]
    grad = np.empty(out.shape, dtype=object)
    for n, c in np.ndindex(*out.shape):
        softmax = sp.exp(out[n, c]) / sum(sp.exp(z) for z in out[n])
        grad[n, c] = (softmax - (1 if c == int(target[n]) else 0)) / scale
    return grad


CrossEntropyLoss.index_rules = {"forward": _ce_forward, "input": _ce_input}


# ---------------------------------------------------------------- array twins (NumPy, batch axes in front)
#
# One problem: logits z of shape (N, C) and N class indices y; batch axes in front of either.

def _cross_entropy_forward(out, target, *, reduction):
    """log sum_c e^z_nc - z_n,y_n summed over n (divided by N for 'mean'), with the log-sum-exp shifted by the
    row maximum so that no exponential overflows."""
    picked = np.where(_cross_entropy_onehot(out, target), out, 0.0).sum(axis=-1)
    losses = _cross_entropy_logsumexp(out) - picked
    return losses.sum(axis=-1) if reduction == "sum" else losses.mean(axis=-1)


def _cross_entropy_backward(out, target, *, reduction):
    """softmax(z_n) - onehot(y_n), divided by N for 'mean'."""
    softmax = np.exp(out - _cross_entropy_logsumexp(out)[..., None])
    grad = softmax - _cross_entropy_onehot(out, target)
    return grad if reduction == "sum" else grad / out.shape[-2]


def _cross_entropy_onehot(out, target):
    """1[c = y_n] as booleans of shape (*batch, N, C)."""
    return np.arange(out.shape[-1]) == np.asarray(target)[..., None]


def _cross_entropy_logsumexp(out):
    """log sum_c e^z_nc for every row, computed from z - max(z)."""
    top = out.max(axis=-1, keepdims=True)
    return np.log(np.exp(out - top).sum(axis=-1)) + top[..., 0]


CrossEntropyLoss.array_twin = {"forward": _cross_entropy_forward, "backward": _cross_entropy_backward}
