"""What NLLLoss and CrossEntropyLoss share: class-index targets, and the options weight, ignore_index and
label_smoothing with torch's rules and messages (measured on torch 2.13).

torch's mean of a class-index loss is a weighted mean: the sum of w[y_n] * loss_n over the targets that are
not ignore_index, divided by the sum of w[y_n] over the same targets (N when there are no weights and
nothing is ignored). When that sum is 0 (every target ignored, or zero weights) torch returns nan; symgrad
refuses such a target, naming the loss and the option.
"""

from __future__ import annotations

from numbers import Real

import numpy as np
import sympy as sp

from ..core import values
from ..core.decimals import latex
from ..core.errors import OptionError
from ..core.values import shown
from . import options as opt

#: torch's default ignore_index: no class index is negative, so nothing is ignored unless a target says -100.
IGNORE_INDEX = -100


def weights_option(where: str, option: str, value) -> list | None:
    """None, or a non-empty flat list of real numbers (torch's weight is a 1-D float tensor)."""
    if value is None:
        return None
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if not isinstance(value, (list, tuple)) or not value:
        raise OptionError(where, option, f"expected a non-empty list of numbers, one per class, got {shown(value)}")
    for entry in value:
        if isinstance(entry, (list, tuple)):
            raise OptionError(where, option, f"expected a flat list of numbers, one per class (torch's weight is "
                                             f"1-D), got {shown(list(value))}")
        real_number(where, option, entry)
    return list(value)


def real_number(where: str, option: str, value) -> sp.Expr:
    """A Python or NumPy real number (not a bool, not a symbol), as an exact SymPy number."""
    if isinstance(value, (bool, np.bool_, sp.Basic)) or not isinstance(value, Real):
        raise OptionError(where, option, f"expected a number, got {shown(value)}")
    return values.exact(value, where, option, names=False)


def ignore_index_option(where: str, value) -> int:
    """Any 64-bit integer, as torch's int64_t ignore_index."""
    return opt.integer(where, "ignore_index", value, bits=64)


def label_smoothing_option(where: str, value) -> float:
    """A real number at most 1 (torch: "label_smoothing must be between 0.0 and 1.0"). torch checks only when
    it smooths, for a value > 0: a negative one computes as 0 there (measured on 2.13), and so it does here."""
    number = real_number(where, "label_smoothing", value)
    if number > 1:
        raise OptionError(where, "label_smoothing", f"must be between 0.0 and 1.0, got {shown(value)}")
    return value if isinstance(value, (int, float)) else float(value)


def logits_shape(loss, out_shape, what: str = "logits") -> tuple[int, int]:
    """(N, C) of the network output, or the loss's one-line refusal."""
    if len(out_shape) != 2:
        raise OptionError(loss.where, "input", f"expected (N, C) {what}, got the network output shape "
                                               f"{list(out_shape)} (end the network with Flatten and Linear)")
    return tuple(out_shape)


def class_weights(loss, classes: int) -> list[sp.Expr]:
    """The C weights as exact numbers (all 1 without a weight), or torch's refusal of a wrong length."""
    if loss.weight is None:
        return [sp.Integer(1)] * classes
    if len(loss.weight) != classes:
        raise OptionError(loss.where, "weight", f"weight tensor should be defined either for all {classes} classes "
                                                f"or no classes but got weight tensor of shape: [{len(loss.weight)}]")
    return [real_number(loss.where, "weight", w) for w in loss.weight]


def check_indices(loss, out_shape, target) -> np.ndarray:
    """N class indices as SymPy integers, each in [0, C) or equal to ignore_index; symbols, fractions or a wrong
    shape are refused, and so is a mean whose denominator is 0 (torch's nan)."""
    n, c = logits_shape(loss, out_shape)
    target = np.asarray(target, dtype=object)
    if target.shape != (n,):
        raise OptionError(loss.where, "target", f"expected {n} class indices (shape [{n}]), "
                                                f"got shape {list(target.shape)}")
    for value in target:
        if not getattr(value, "is_Integer", False) or not (0 <= int(value) < c or int(value) == loss.ignore_index):
            ignored = "" if loss.ignore_index in range(c) else f" or ignore_index {loss.ignore_index}"
            raise OptionError(loss.where, "target", f"class indices must be integers in [0, {c}){ignored}, "
                                                    f"got {value}")
    weights = class_weights(loss, c)
    if loss.reduction == "mean" and denominator(loss, target, weights) == 0:
        why = "every target is ignore_index" if not any(kept(loss, target)) else \
            "the weights of the targets not ignored sum to 0"
        raise OptionError(loss.where, "target", f"{why}: torch's mean divides by that sum and gives nan")
    return target


def kept(loss, target) -> list[bool]:
    """Which targets count: those not equal to ignore_index."""
    return [int(y) != loss.ignore_index for y in np.asarray(target, dtype=object).reshape(-1)]


def denominator(loss, target, weights) -> sp.Expr:
    """What the mean divides by: the sum of w[y_n] over the kept targets (1 for 'sum')."""
    if loss.reduction == "sum":
        return sp.Integer(1)
    return sp.Add(*[weights[int(y)] for y, keep in zip(np.asarray(target).reshape(-1), kept(loss, target)) if keep])


def torch_weight(loss):
    """The weight as torch takes it: a float64 tensor, or None."""
    import torch

    return None if loss.weight is None else torch.tensor([float(w) for w in loss.weight], dtype=torch.float64)


def latex_weights(weights) -> str:
    """(w_1, ..., w_C) as LaTeX numbers."""
    return r"\left(%s\right)" % ", ".join(latex(w) for w in weights)


# ---------------------------------------------------------------- array twins' shared helper (NumPy only)

def class_onehot_weights(out, target, weight, ignore_index):
    """w[y_n] 1[c = y_n], zero for a target equal to ignore_index, of shape (*batch, N, C) (float64)."""
    classes = np.shape(out)[-1]
    target = np.asarray(target)
    onehot = (np.arange(classes) == target[..., None]) & (target != ignore_index)[..., None]
    weights = np.ones(classes) if weight is None else np.asarray(weight, dtype=np.float64)
    return onehot * weights
