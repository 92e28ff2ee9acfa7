"""CrossEntropyLoss: log-softmax + NLL over (N, C) logits, as torch, with weight, ignore_index,
label_smoothing and probability targets.

The forward is written from the logits (log of the summed exponentials minus the
target logit), so `method="diff"` differentiates the loss itself; the backward
rule is the textbook softmax - onehot, divided by N for the mean. torch tells the
two kinds of target apart by shape, and so does symgrad: a target of the logits'
shape (N, C) holds class probabilities, one of shape (N,) class indices. The torch
twin casts class indices to long.

Every option combination is one formula: L = (1/D) sum_{n,c} q_{n,c} (log sum_c' e^z_{n,c'} - z_{n,c}),
with dL/dz_{n,c} = (s_n softmax_{n,c} - q_{n,c}) / D, s_n = sum_c q_{n,c}. For class indices
q_{n,c} = w[y_n] (1 - eps) 1[c = y_n] + w_c eps / C (0 for a target equal to ignore_index) and D is
the sum of w[y_n] over the targets not ignored (torch's weighted mean); for probabilities
q_{n,c} = w_c ((1 - eps) y_{n,c} + eps / C) and D = N. A loss with the old options and plain class
indices keeps the class-level forms, expressions and twins (its documents are unchanged); the
others carry the general forms, notes and twins on the instance (`for_target` picks them for
probability targets and for a target that hits ignore_index).
"""

from __future__ import annotations

import copy

import numpy as np
import sympy as sp

from ..core import tensor
from ..core.decimals import latex
from ..core.errors import OptionError
from . import class_targets as ct
from . import options as opt
from .base import Loss
from .class_targets import class_onehot_weights


class CrossEntropyLoss(Loss):
    type_name = "CrossEntropyLoss"
    index_form = {
        "forward": r"L = \frac{1}{N} \sum_{n} \Big( \log \sum_{c} e^{z_{n,c}} - z_{n,y_n} \Big)",
        "input": r"\frac{\partial L}{\partial z_{n,c}} = \frac{1}{N} \Big( \frac{e^{z_{n,c}}}{\sum_{c'} e^{z_{n,c'}}}"
                 r" - \mathbb{I}[c = y_n] \Big)",
    }

    words = {"en": {}, "zh": {}}

    #: The dtype of the checked target in generated NumPy code: class indices.
    target_dtype = "int64"

    #: Whether the target holds class probabilities (set on the copy `for_target` makes for such a target).
    probabilities = False

    def __init__(self, reduction="mean", weight=None, ignore_index=ct.IGNORE_INDEX, label_smoothing=0.0):
        self.reduction = opt.choice(self.type_name, "reduction", reduction, ("mean", "sum"))
        self.weight = ct.weights_option(self.type_name, "weight", weight)
        self.ignore_index = ct.ignore_index_option(self.type_name, ignore_index)
        self.label_smoothing = ct.label_smoothing_option(self.type_name, label_smoothing)
        #: The smoothing computed with, exact: torch smooths only for label_smoothing > 0 (a negative one is 0).
        self.smoothing = max(ct.real_number(self.type_name, "label_smoothing", label_smoothing), 0)
        if self.weight is not None or self.smoothing != 0 or self.ignore_index != ct.IGNORE_INDEX:
            self._use_general_forms()

    def options(self):
        """The reduction, and the other options where they differ from torch's defaults (as torch's repr)."""
        shown = {"reduction": self.reduction}
        for name, default in (("weight", None), ("ignore_index", ct.IGNORE_INDEX), ("label_smoothing", 0.0)):
            if getattr(self, name) != default:
                shown[name] = getattr(self, name)
        return shown

    @property
    def general(self) -> bool:
        """Whether this loss uses the general forms (any option but the reduction, probabilities, an ignored target)."""
        return self.index_form is not CrossEntropyLoss.index_form

    def _use_general_forms(self) -> None:
        self.index_form = GENERAL_FORMS
        self.words = PROBABILITY_WORDS if self.probabilities else INDEX_WORDS
        self.array_twin = GENERAL_TWIN

    def for_target(self, target):
        """A copy with the general forms for probability targets (float64 in generated code) and for class
        indices of which one equals ignore_index; itself otherwise."""
        target = np.asarray(target, dtype=object)
        probabilities = target.ndim == 2
        if not probabilities and (self.general or not any(int(y) == self.ignore_index for y in target)):
            return self
        twin = copy.copy(self)
        if probabilities:
            twin.probabilities, twin.target_dtype = True, "float64"
        twin._use_general_forms()
        return twin

    def array_options(self, out_shape):
        """Only the reduction for the old options: one problem is always (N, C) logits (check_target refuses other
        shapes); every option for the general twin."""
        if not self.general:
            return {"reduction": self.reduction}
        return {"reduction": self.reduction, "weight": None if self.weight is None else
                tuple(float(w) for w in self.weight), "ignore_index": self.ignore_index,
                "label_smoothing": float(self.smoothing), "probabilities": self.probabilities}

    def index_instance(self, key, out_shape):
        """Nothing for the old options (N and C read off the shape); else q and D with this loss's numbers."""
        if not self.general:
            return ""
        n, c = self._logits_shape(out_shape)
        eps = self.smoothing
        weighted = self.weight is not None
        if self.probabilities:
            w = r"w_c\, " if weighted else ""
            inner = r"y_{n,c}" if eps == 0 else r"\big(%s + %s\big)" % (_times(1 - eps, "y_{n,c}"), latex(eps / c))
            q = w + inner
            d = "1" if self.reduction == "sum" else r"N = %d" % n
        else:
            parts = [_times(1 - eps, (r"w_{y_n}\, " if weighted else "") + r"\mathbb{I}[c = y_n]")] if eps != 1 else []
            if eps != 0:
                parts.append(_times(eps / c, "w_c") if weighted else latex(eps / c))
            q = r"\mathbb{I}[n \in K]\, " + (parts[0] if len(parts) == 1 else r"\big(%s\big)" % " + ".join(parts))
            d = "1" if self.reduction == "sum" else r"\sum_{n \in K} w_{y_n}" if weighted else r"|K|"
        form = self.index_form[key] + r", \quad q_{n,c} = %s, \quad D = %s" % (q, d)
        if weighted:
            form += r", \quad w = %s" % ct.latex_weights(ct.class_weights(self, c))
        return form

    def _logits_shape(self, out_shape) -> tuple[int, int]:
        return ct.logits_shape(self, out_shape)

    def symbolic_target(self, out_shape):
        n, c = self._logits_shape(out_shape)
        raise OptionError(self.where, "target", f"missing: give {n} class indices in [0, {c}), e.g. target = "
                                                f"{[0] * n}")

    def check_target(self, out_shape, target):
        """N class indices as SymPy integers (in [0, C) or ignore_index), or class probabilities of the logits'
        shape (any real numbers or symbols, as torch does not check them); anything else is refused."""
        n, c = self._logits_shape(out_shape)
        target = np.asarray(target, dtype=object)
        if target.shape == (n, c):
            if self.ignore_index >= 0:  # torch: only a negative ignore_index goes with probabilities
                raise OptionError(self.where, "ignore_index", "ignore_index is not supported for probability "
                                                              f"targets (a target of the logits' shape [{n}, {c}])")
            ct.class_weights(self, c)
            return target
        if target.shape != (n,):
            raise OptionError(self.where, "target", f"expected {n} class indices (shape [{n}]) or {n} rows of "
                                                    f"{c} class probabilities (shape [{n}, {c}]), "
                                                    f"got shape {list(target.shape)}")
        return ct.check_indices(self, out_shape, target)

    def _scale(self, out):
        return 1 if self.reduction == "sum" else out.shape[0]

    def forward(self, out, target):
        if self.general:
            return _ce_general_forward(self, out, target, exact=True)
        terms = []
        for n in range(out.shape[0]):
            log_sum = sp.log(tensor.add_all([sp.exp(z) for z in out[n]]))
            terms.append(log_sum - out[n, int(target[n])])  # -log_softmax(z_n)[y_n]
        return tensor.add_all(terms) / self._scale(out)

    def backward(self, out, target):
        if self.general:
            return _ce_general_input(self, out, target, exact=True)
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
                return super().forward(input, target if target.shape == input.shape else target.long())

        return CrossEntropyLoss(weight=ct.torch_weight(self), ignore_index=self.ignore_index, reduction=self.reduction,
                                label_smoothing=float(self.label_smoothing))


# ---------------------------------------------------------------- index forms as evaluable functions

def _ce_forward(loss, out, target):
    if loss.general:
        return _ce_general_forward(loss, out, target)
    scale = 1 if loss.reduction == "sum" else out.shape[0]
    return sum((sp.log(sum(sp.exp(z) for z in out[n])) - out[n, int(target[n])] for n in range(out.shape[0])), 0) / scale


def _ce_input(loss, out, target):
    if loss.general:
        return _ce_general_input(loss, out, target)
    scale = 1 if loss.reduction == "sum" else out.shape[0]
    grad = np.empty(out.shape, dtype=object)
    for n, c in np.ndindex(*out.shape):
        softmax = sp.exp(out[n, c]) / sum(sp.exp(z) for z in out[n])
        grad[n, c] = (softmax - (1 if c == int(target[n]) else 0)) / scale
    return grad


def _ce_q(loss, out, target, exact=False):
    """q_{n,c} as the general forms define it, and D. `exact`: the engine's numbers (symgrad.core.values);
    else the weights and label smoothing read from their decimal text, independently."""
    number = (lambda v, option: ct.real_number(loss.where, option, v)) if exact else (lambda v, _: sp.Rational(str(v)))
    n_, c_ = out.shape
    w = [sp.Integer(1)] * c_ if loss.weight is None else [number(v, "weight") for v in loss.weight]
    eps = loss.smoothing if exact else max(sp.Rational(str(loss.label_smoothing)), 0)
    q = np.full(out.shape, sp.Integer(0), dtype=object)
    if loss.probabilities:
        for n, c in np.ndindex(*out.shape):
            q[n, c] = w[c] * ((1 - eps) * target[n, c] + eps / c_)
        return q, sp.Integer(1) if loss.reduction == "sum" else sp.Integer(n_)
    kept = [n for n in range(n_) if int(target[n]) != loss.ignore_index]
    for n in kept:
        for c in range(c_):
            q[n, c] = (1 - eps) * w[c] * (1 if c == int(target[n]) else 0) + eps * w[c] / c_
    d = sp.Integer(1) if loss.reduction == "sum" else sp.Add(*[w[int(target[n])] for n in kept])
    return q, d


def _ce_general_forward(loss, out, target, exact=False):
    """(1/D) sum_{n,c} q_{n,c} (log sum_c' e^z_{n,c'} - z_{n,c})."""
    q, d = _ce_q(loss, out, target, exact)
    terms = []
    for n in range(out.shape[0]):
        log_sum = sp.log(tensor.add_all([sp.exp(z) for z in out[n]]))
        terms += [q[n, c] * (log_sum - out[n, c]) for c in range(out.shape[1]) if q[n, c] != 0]
    return tensor.add_all(terms) / d


def _ce_general_input(loss, out, target, exact=False):
    """(s_n softmax_{n,c} - q_{n,c}) / D, s_n = sum_c q_{n,c}."""
    q, d = _ce_q(loss, out, target, exact)
    grad = np.empty(out.shape, dtype=object)
    for n in range(out.shape[0]):
        exps = [sp.exp(z) for z in out[n]]
        total, s = tensor.add_all(exps), tensor.add_all(list(q[n]))
        for c, e in enumerate(exps):
            grad[n, c] = (s * e / total - q[n, c]) / d
    return grad


def _times(number, text: str) -> str:
    """number * text in LaTeX, the factor left out when it is 1."""
    return text if number == 1 else r"%s\, %s" % (latex(number), text)


CrossEntropyLoss.index_rules = {"forward": _ce_forward, "input": _ce_input}

#: The forms every option combination shares (q and D are defined in the notes, filled in by index_instance).
GENERAL_FORMS = {
    "forward": r"L = \frac{1}{D} \sum_{n} \sum_{c} q_{n,c} \Big( \log \sum_{c'} e^{z_{n,c'}} - z_{n,c} \Big)",
    "input": r"\frac{\partial L}{\partial z_{n,c}} = \frac{1}{D} \Big( s_n \frac{e^{z_{n,c}}}{\sum_{c'} e^{z_{n,c'}}}"
             r" - q_{n,c} \Big), \quad s_n = \sum_{c} q_{n,c}",
}
INDEX_WORDS = {
    "en": {"note:forward": "$q_{n,c} = (1 - \\varepsilon)\\, w_{y_n} \\mathbb{I}[c = y_n] + \\varepsilon\\, w_c / C$ "
                           "is the smoothed one-hot target with weights, 0 for a sample whose target is "
                           "`ignore_index` ($K$ holds the others); $w_c$ is the weight of class $c$ (1 without "
                           "`weight`) and $\\varepsilon$ is `label_smoothing`. For `reduction='mean'` torch divides "
                           "by $D = \\sum_{n \\in K} w_{y_n}$ (without weights: the number of samples in $K$), for "
                           "`'sum'` by $D = 1$. Without weights $s_n = 1$: the gradient is softmax minus the smoothed "
                           "one-hot."},
    "zh": {"note:forward": "$q_{n,c} = (1 - \\varepsilon)\\, w_{y_n} \\mathbb{I}[c = y_n] + \\varepsilon\\, w_c / C$ "
                           "是带权重的平滑 one-hot 目标，目标为 `ignore_index` 的样本取 0（其余样本组成 $K$）；"
                           "$w_c$ 为类别 $c$ 的权重（不给 `weight` 时为 1），$\\varepsilon$ 为 `label_smoothing`。"
                           "`reduction='mean'` 时 torch 除以 $D = \\sum_{n \\in K} w_{y_n}$（无权重时即 $K$ 中的样本数），"
                           "`'sum'` 时 $D = 1$。无权重时 $s_n = 1$：梯度就是 softmax 减去平滑后的 one-hot。"},
}
PROBABILITY_WORDS = {
    "en": {"note:forward": "The target has the logits' shape, so its rows $y_{n,c}$ are class probabilities (torch "
                           "does not check that they are): $q_{n,c} = w_c \\big((1 - \\varepsilon)\\, y_{n,c} + "
                           "\\varepsilon / C\\big)$, with $w_c$ the weight of class $c$ (1 without `weight`) and "
                           "$\\varepsilon$ `label_smoothing`. For `reduction='mean'` torch divides by $D = N$ (not by "
                           "the weights), for `'sum'` by $D = 1$."},
    "zh": {"note:forward": "目标与 logits 形状相同，所以每行 $y_{n,c}$ 是类别概率（torch 不检查它们是否为概率）："
                           "$q_{n,c} = w_c \\big((1 - \\varepsilon)\\, y_{n,c} + \\varepsilon / C\\big)$，其中 $w_c$ "
                           "为类别 $c$ 的权重（不给 `weight` 时为 1），$\\varepsilon$ 为 `label_smoothing`。"
                           "`reduction='mean'` 时 torch 除以 $D = N$（不是权重之和），`'sum'` 时 $D = 1$。"},
}


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


def _cross_entropy_general_forward(out, target, *, reduction, weight, ignore_index, label_smoothing, probabilities):
    """sum_{n,c} q_nc (log sum_c' e^z_nc' - z_nc), divided by D for 'mean' (see the module docstring)."""
    q, scale = _cross_entropy_q(out, target, reduction, weight, ignore_index, label_smoothing, probabilities)
    log_softmax = out - _cross_entropy_logsumexp(out)[..., None]
    return -(q * log_softmax).sum(axis=(-2, -1)) / scale


def _cross_entropy_general_backward(out, target, *, reduction, weight, ignore_index, label_smoothing,
                                    probabilities):
    """(s_n softmax_nc - q_nc) / D, s_n = sum_c q_nc."""
    q, scale = _cross_entropy_q(out, target, reduction, weight, ignore_index, label_smoothing, probabilities)
    softmax = np.exp(out - _cross_entropy_logsumexp(out)[..., None])
    grad = q.sum(axis=-1, keepdims=True) * softmax - q
    return grad / np.asarray(scale)[..., None, None]


def _cross_entropy_q(out, target, reduction, weight, ignore_index, label_smoothing, probabilities):
    """q of shape (*batch, N, C) and what the sum is divided by (per batch entry for a weighted mean)."""
    classes = np.shape(out)[-1]
    weights = np.ones(classes) if weight is None else np.asarray(weight, dtype=np.float64)
    if probabilities:
        q = weights * ((1 - label_smoothing) * target + label_smoothing / classes)
        return q, 1.0 if reduction == "sum" else float(np.shape(out)[-2])
    picked = class_onehot_weights(out, target, weight, ignore_index)
    kept = (np.asarray(target) != ignore_index)[..., None]
    q = (1 - label_smoothing) * picked + label_smoothing * kept * weights / classes
    return q, 1.0 if reduction == "sum" else picked.sum(axis=(-2, -1))


GENERAL_TWIN = {"forward": _cross_entropy_general_forward, "backward": _cross_entropy_general_backward}
