"""Adagrad: one step from torch's fresh state (sum = initial_accumulator_value, step 1), as torch computes it.

torch: s = initial_accumulator_value + g^2, p <- p - clr * g / (sqrt(s) + eps) with
clr = lr / (1 + (t - 1) lr_decay): on the first step (t = 1) lr_decay has no effect.
"""

from __future__ import annotations

import numpy as np

from ..ops import options as opt
from .optim import Optimizer, divided, elementwise, nonnegative, root


class Adagrad(Optimizer):
    type_name = "Adagrad"
    words = {"en": {"intro": "One {optimizer} step from torch's fresh state (sum $s = s_0$, step $t = 1$, "
                             "so the decayed rate $\\eta / (1 + (t - 1)\\,\\text{lr\\_decay})$ is $\\eta$); "
                             "$g$ is $\\partial L / \\partial K$:"},
             "zh": {"intro": "从 PyTorch 的初始状态（累加和 $s = s_0$，第 $t = 1$ 步，衰减后的学习率 "
                             "$\\eta / (1 + (t - 1)\\,\\text{lr\\_decay})$ 即 $\\eta$）做一步 {optimizer}；"
                             "$g$ 即 $\\partial L / \\partial K$："}}

    def __init__(self, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10, maximize=False):
        w = self.type_name
        self.lr = nonnegative(w, "lr", lr, "learning rate")
        self.lr_decay = nonnegative(w, "lr_decay", lr_decay, "lr_decay value")
        self.weight_decay = nonnegative(w, "weight_decay", weight_decay, "weight_decay value")
        self.initial_accumulator_value = nonnegative(w, "initial_accumulator_value", initial_accumulator_value,
                                                     "initial_accumulator_value value")
        self.eps = nonnegative(w, "eps", eps, "epsilon value")
        self.maximize = opt.boolean(w, "maximize", maximize)

    def options(self):
        return {"lr": self.lr, "lr_decay": self.lr_decay, "weight_decay": self.weight_decay,
                "initial_accumulator_value": self.initial_accumulator_value, "eps": self.eps,
                "maximize": self.maximize}

    @property
    def index_form(self):
        g = r"g = -\frac{\partial L}{\partial K}" if self.maximize else r"g = \frac{\partial L}{\partial K}"
        if self.weight_decay:
            g += r" + \lambda K^{(0)}"
        return {"step": g + r",\quad s = s_0 + g^2,\quad K^{(1)} = K^{(0)} - \eta\, \frac{g}{\sqrt{s} + \epsilon}"}

    def update(self, parameter, gradient, state):
        """One step, exact (sqrt stays symbolic): the sum and the step count t carried in `state`."""
        lr, eps = self.number("lr"), self.number("eps")
        p = np.asarray(parameter, dtype=object)
        g = -np.asarray(gradient, dtype=object) if self.maximize else np.asarray(gradient, dtype=object)
        if self.weight_decay:
            g = g + self.number("weight_decay") * p
        t = state.get("step", 0) + 1
        s = (self.number("initial_accumulator_value") if t == 1 else state["sum"]) + g**2
        rate = lr / (1 + (t - 1) * self.number("lr_decay"))
        denominator = elementwise(root, s) + eps
        quotient = elementwise(lambda a, b: divided(self.type_name, a, b), g, denominator)
        return np.asarray(p - rate * quotient, dtype=object), {"step": t, "sum": s}
