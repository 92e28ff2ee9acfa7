"""Adam and AdamW: one step from torch's fresh state (zero moments, step 1), exactly as torch computes it.

torch: m = (1 - b1) g, v = (1 - b2) g^2, p <- p - lr * (m / (1 - b1)) / (sqrt(v) / sqrt(1 - b2) + eps):
eps is added *outside* the square root, after the bias correction. On the first step the corrections
cancel, so the step is lr * g / (|g| + eps) whatever the betas. amsgrad keeps max(0, v) = v then.
Weight decay adds wd * p to g (Adam, L2) or, decoupled (AdamW, or Adam's decoupled_weight_decay),
first scales p by 1 - lr * wd and leaves g alone.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from ..ops import options as opt
from .optim import Optimizer, beta_pair, divided, elementwise, nonnegative, root


class Adam(Optimizer):
    type_name = "Adam"
    decoupled_default = False
    words = {"en": {"intro": "One {optimizer} step from torch's fresh state (moments $m = v = 0$, step $t = 1$, "
                             "bias corrections $1 - \\beta^t$); $g$ is $\\partial L / \\partial K$:"},
             "zh": {"intro": "从 PyTorch 的初始状态（矩 $m = v = 0$，第 $t = 1$ 步，偏差修正 $1 - \\beta^t$）"
                             "做一步 {optimizer}；$g$ 即 $\\partial L / \\partial K$："}}

    def __init__(self, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, maximize=False,
                 decoupled_weight_decay=False):
        w = self.type_name
        self.lr = nonnegative(w, "lr", lr, "learning rate")
        self.eps = nonnegative(w, "eps", eps, "epsilon value")
        self.betas = beta_pair(w, betas)
        self.weight_decay = nonnegative(w, "weight_decay", weight_decay, "weight_decay value")
        self.amsgrad = opt.boolean(w, "amsgrad", amsgrad)
        self.maximize = opt.boolean(w, "maximize", maximize)
        self.decoupled_weight_decay = opt.boolean(w, "decoupled_weight_decay", decoupled_weight_decay)

    def options(self):
        shown = {"lr": self.lr, "betas": self.betas, "eps": self.eps, "weight_decay": self.weight_decay,
                 "amsgrad": self.amsgrad, "maximize": self.maximize}
        if self.decoupled_weight_decay != self.decoupled_default:
            shown["decoupled_weight_decay"] = self.decoupled_weight_decay
        return shown

    @property
    def index_form(self):
        decay = self.weight_decay != 0
        decoupled = decay and self.decoupled_weight_decay
        g = r"g = -\frac{\partial L}{\partial K}" if self.maximize else r"g = \frac{\partial L}{\partial K}"
        if decay and not decoupled:
            g += r" + \lambda K^{(0)}"
        start = r"(1 - \eta\lambda)\, K^{(0)}" if decoupled else "K^{(0)}"
        v = r"\max(0, v)" if self.amsgrad else "v"
        return {"step": g + r",\quad m = (1 - \beta_1)\, g,\quad v = (1 - \beta_2)\, g^2,\quad "
                r"K^{(1)} = %s - \eta\, \frac{m / (1 - \beta_1)}{\sqrt{%s / (1 - \beta_2)} + \epsilon}" % (start, v)}

    def update(self, parameter, gradient, state):
        """One step, exact (sqrt stays symbolic, 0.001 is 1/1000): moments m, v (and amsgrad's max of v)
        and the step count t carried in `state`; bias corrections 1 - beta^t."""
        w = self.type_name
        lr, eps = self.number("lr"), self.number("eps")
        beta1, beta2 = (self.number("betas")[i] for i in (0, 1))
        p = np.asarray(parameter, dtype=object)
        g = -np.asarray(gradient, dtype=object) if self.maximize else np.asarray(gradient, dtype=object)
        if self.weight_decay:
            wd = self.number("weight_decay")
            if self.decoupled_weight_decay:
                p = p * (1 - lr * wd)
            else:
                g = g + wd * p
        t = state.get("step", 0) + 1
        m = (1 - beta1) * g if t == 1 else beta1 * state["exp_avg"] + (1 - beta1) * g
        v = (1 - beta2) * g**2 if t == 1 else beta2 * state["exp_avg_sq"] + (1 - beta2) * g**2
        previous, state = state, {"step": t, "exp_avg": m, "exp_avg_sq": v}
        if self.amsgrad:  # torch's max_exp_avg_sq starts at 0: max(0, v) = v at the first step
            v = v if t == 1 else elementwise(sp.Max, previous["max_exp_avg_sq"], v)
            state["max_exp_avg_sq"] = v
        correction1, correction2 = 1 - beta1**t, 1 - beta2**t
        denominator = elementwise(root, v) / root(correction2) + eps
        quotient = elementwise(lambda a, b: divided(w, a, b), m / correction1, denominator)
        return np.asarray(p - lr * quotient, dtype=object), state


class AdamW(Adam):
    type_name = "AdamW"
    decoupled_default = True

    def __init__(self, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False, maximize=False):
        super().__init__(lr, betas, eps, weight_decay, amsgrad, maximize, decoupled_weight_decay=True)
