"""SGD: one optimizer step, with torch's momentum, dampening, nesterov and weight decay.

On the first step torch's momentum buffer is the (decayed) gradient itself, so
dampening has no effect and nesterov adds momentum * gradient once more.
Also the base every optimizer shares (engine/adam.py, rmsprop.py, adagrad.py) and
the option checks that mirror torch's messages ("Invalid learning rate: -1").
"""

from __future__ import annotations

import inspect
import math
from numbers import Real

import numpy as np
import sympy as sp

from ..core import tensor
from ..core.values import shown
from ..core.errors import OptionError
from ..ops import options as opt


#: The symbol of each option in the optimizers' index_form rules.
RULE_SYMBOLS = {"lr": r"\eta", "eps": r"\epsilon", "weight_decay": r"\lambda", "alpha": r"\alpha",
                "initial_accumulator_value": "s_0"}


class Optimizer:
    """What every optimizer has: torch's name, options() as torch takes them, step() from torch's fresh
    state, index_form["step"] (its rule in LaTeX), words (its one-line introduction, en and zh) and
    torch_optimizer(parameters), the torch twin that verify and the PyTorch block build."""

    type_name = ""
    index_form: dict = {}
    words: dict = {}

    def options(self) -> dict:
        raise NotImplementedError

    def step(self, parameter: np.ndarray, gradient: np.ndarray) -> np.ndarray:
        """The parameter after torch's first step from a fresh optimizer."""
        return self.update(parameter, gradient, {})[0]

    def update(self, parameter: np.ndarray, gradient: np.ndarray, state: dict) -> tuple[np.ndarray, dict]:
        """(parameter, state) after one more step; `state` is what the previous update returned ({} when
        fresh: torch's zero moments, step 0), as torch's optimizer.state[p] carries it between steps."""
        raise NotImplementedError

    def defaults(self) -> dict:
        """Each option's default, torch's (AdamW's weight_decay 1e-2): what the PyTorch block need not write."""
        parameters = inspect.signature(type(self).__init__).parameters
        return {name: p.default for name, p in parameters.items() if name != "self"}

    def torch_optimizer(self, parameters):
        import torch

        return getattr(torch.optim, self.type_name)(parameters, **self.options())

    def rule_values(self) -> list:
        """(LaTeX symbol, exact value) of each number in index_form["step"] (eta = 1/1000, beta_1 = 9/10, ...),
        then (\\text{name}, True) for each option that is on (amsgrad, centered) and (\\text{name}, value)
        for the numbers the first step does not use (RMSprop's momentum, Adagrad's lr_decay)."""
        shown = []
        for name, value in self.options().items():
            if isinstance(value, tuple):
                shown += [(r"\beta_{%d}" % (i + 1), v) for i, v in enumerate(self.number(name))]
            elif isinstance(value, bool):
                shown += [(r"\text{%s}" % name.replace("_", r"\_"), True)] if value else []
            elif name in RULE_SYMBOLS and (value or name not in ("weight_decay", "initial_accumulator_value")):
                shown.append((RULE_SYMBOLS[name], self.number(name)))
            elif value:
                shown.append((r"\text{%s}" % name.replace("_", r"\_"), self.number(name)))
        return shown

    def number(self, option: str):
        """An option's value as the exact SymPy number the step uses (lr 0.01 is 1/100)."""
        value = self.options()[option]
        if isinstance(value, tuple):  # Adam's betas
            return tuple(tensor.number(v, self.type_name, option) for v in value)
        return tensor.number(value, self.type_name, option)

    def __repr__(self):
        return f"{self.type_name}(lr={self.lr!r})"


def nonnegative(where: str, option: str, value, what: str) -> float:
    """A float option torch checks with `0.0 <= value`, refused with torch's own words
    ("Invalid learning rate: -1"); otherwise a finite real number as every symgrad number."""
    if isinstance(value, Real) and not isinstance(value, (bool, np.bool_)) and value < 0:
        raise OptionError(where, option, f"Invalid {what}: {value} (torch needs >= 0)")
    return opt.positive_number(where, option, value, allow_zero=True)


def beta_pair(where: str, value) -> tuple[float, float]:
    """Adam's betas as torch checks them: two floats (torch refuses an int: "both floats"), each in [0, 1)."""
    if not isinstance(value, (list, tuple)) or len(value) != 2:
        raise OptionError(where, "betas", f"expected a pair [beta1, beta2], got {shown(value)}")
    for i, beta in enumerate(value):
        if isinstance(beta, Real) and not isinstance(beta, (bool, np.bool_)) and not 0 <= beta < 1:
            raise OptionError(where, "betas", f"Invalid beta parameter at index {i}: {beta} "
                                              "(torch needs 0 <= beta < 1)")
    for beta in value:
        opt.positive_number(where, "betas", beta, allow_zero=True)
        if not isinstance(beta, (float, np.floating)):
            raise OptionError(where, "betas", f"betas must be either both floats or both Tensors, as torch says "
                                              f"(write {float(beta)!r}, not {beta!r})")
    return (float(value[0]), float(value[1]))


def elementwise(function, *arrays) -> np.ndarray:
    """function(entries...) for every entry of same-shaped object arrays (sqrt, Max, a checked division)."""
    arrays = [np.asarray(a, dtype=object) for a in arrays]
    out = np.empty(arrays[0].shape, dtype=object)
    for index in np.ndindex(out.shape):
        out[index] = function(*(a[index] for a in arrays))
    return out


def root(value):
    """The square root, exact for SymPy entries (sqrt(2) stays sqrt(2)); a float's for the float code."""
    return math.sqrt(value) if isinstance(value, float) else sp.sqrt(value)


def divided(where: str, numerator, denominator):
    """numerator / denominator, refusing 0 in the denominator (torch's step writes nan or inf there:
    eps = 0 with a zero gradient entry)."""
    if denominator == 0:
        raise OptionError(where, "eps", "the step divides by sqrt(0) + eps = 0 at a zero gradient entry "
                                        "(torch writes nan or inf there); give eps > 0")
    return numerator / denominator


class SGD(Optimizer):
    type_name = "SGD"
    index_form = {"step": r"K^{(1)} = K^{(0)} - \eta\, \frac{\partial L}{\partial K}"}

    def __init__(self, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, maximize=False):
        w = self.type_name
        self.lr = opt.positive_number(w, "lr", lr, allow_zero=True)
        self.momentum = opt.positive_number(w, "momentum", momentum, allow_zero=True)
        self.dampening = opt.positive_number(w, "dampening", dampening, allow_zero=True)
        self.weight_decay = opt.positive_number(w, "weight_decay", weight_decay, allow_zero=True)
        self.nesterov = opt.boolean(w, "nesterov", nesterov)
        self.maximize = opt.boolean(w, "maximize", maximize)
        if self.nesterov and (self.momentum <= 0 or self.dampening != 0):
            raise OptionError(w, "nesterov", "Nesterov momentum requires a momentum and zero dampening")

    def options(self):
        return {"lr": self.lr, "momentum": self.momentum, "dampening": self.dampening,
                "weight_decay": self.weight_decay, "nesterov": self.nesterov, "maximize": self.maximize}

    def update(self, parameter, gradient, state):
        """One step (exact: lr 0.01 is 1/100); torch's momentum buffer is the gradient at the first step,
        then momentum * buffer + (1 - dampening) * gradient."""
        lr = tensor.number(self.lr, self.type_name, "lr")
        g = -gradient if self.maximize else gradient
        if self.weight_decay:
            g = g + tensor.number(self.weight_decay, self.type_name, "weight_decay") * parameter
        state = dict(state)
        if self.momentum:
            momentum = tensor.number(self.momentum, self.type_name, "momentum")
            buffer = state.get("momentum_buffer")
            buffer = g if buffer is None else \
                momentum * buffer + (1 - tensor.number(self.dampening, self.type_name, "dampening")) * g
            state["momentum_buffer"] = buffer
            g = g + momentum * buffer if self.nesterov else buffer
        state["step"] = state.get("step", 0) + 1
        return np.asarray(parameter - lr * g, dtype=object), state

