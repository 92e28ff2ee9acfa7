"""RMSprop: one step from torch's fresh state (square average 0, momentum buffer 0), as torch computes it.

torch: v = (1 - alpha) g^2; centered subtracts the squared gradient average (1 - alpha) g, so the root is
sqrt(v - ((1 - alpha) g)^2) = sqrt(alpha (1 - alpha)) |g|; p <- p - lr * g / (sqrt(...) + eps), eps outside
the root. With momentum torch's buffer is momentum * 0 + g / (...): the first step is the same.
"""

from __future__ import annotations

import numpy as np

from ..core.errors import OptionError
from ..ops import options as opt
from .optim import Optimizer, divided, elementwise, nonnegative, root


class RMSprop(Optimizer):
    type_name = "RMSprop"
    words = {"en": {"intro": "One {optimizer} step from torch's fresh state (square average $v = 0$); "
                             "$g$ is $\\partial L / \\partial K$:"},
             "zh": {"intro": "从 PyTorch 的初始状态（平方平均 $v = 0$）做一步 {optimizer}；"
                             "$g$ 即 $\\partial L / \\partial K$："}}

    def __init__(self, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False, maximize=False):
        w = self.type_name
        self.lr = nonnegative(w, "lr", lr, "learning rate")
        self.eps = nonnegative(w, "eps", eps, "epsilon value")
        self.momentum = nonnegative(w, "momentum", momentum, "momentum value")
        self.weight_decay = nonnegative(w, "weight_decay", weight_decay, "weight_decay value")
        self.alpha = nonnegative(w, "alpha", alpha, "alpha value")
        if self.alpha > 1:  # torch takes it, then its square average (1 - alpha) g^2 is negative: nan
            raise OptionError(w, "alpha", f"{alpha} > 1 makes the square average (1 - alpha) g^2 negative "
                                          "(torch accepts it and its step writes nan); give 0 <= alpha <= 1")
        self.centered = opt.boolean(w, "centered", centered)
        self.maximize = opt.boolean(w, "maximize", maximize)

    def options(self):
        return {"lr": self.lr, "alpha": self.alpha, "eps": self.eps, "weight_decay": self.weight_decay,
                "momentum": self.momentum, "centered": self.centered, "maximize": self.maximize}

    @property
    def index_form(self):
        g = r"g = -\frac{\partial L}{\partial K}" if self.maximize else r"g = \frac{\partial L}{\partial K}"
        if self.weight_decay:
            g += r" + \lambda K^{(0)}"
        root_of = r"v - \left((1 - \alpha)\, g\right)^2" if self.centered else "v"
        return {"step": g + r",\quad v = (1 - \alpha)\, g^2,\quad "
                r"K^{(1)} = K^{(0)} - \eta\, \frac{g}{\sqrt{%s} + \epsilon}" % root_of}

    def update(self, parameter, gradient, state):
        """One step, exact (sqrt stays symbolic): the square average, centered's gradient average and the
        momentum buffer carried in `state`."""
        lr, eps, alpha = self.number("lr"), self.number("eps"), self.number("alpha")
        p = np.asarray(parameter, dtype=object)
        g = -np.asarray(gradient, dtype=object) if self.maximize else np.asarray(gradient, dtype=object)
        if self.weight_decay:
            g = g + self.number("weight_decay") * p
        first = not state
        v = (1 - alpha) * g**2 if first else alpha * state["square_avg"] + (1 - alpha) * g**2
        new = {"step": state.get("step", 0) + 1, "square_avg": v}
        under = v
        if self.centered:
            average = (1 - alpha) * g if first else alpha * state["grad_avg"] + (1 - alpha) * g
            new["grad_avg"] = average
            # v - ((1 - alpha) g)^2 at the first step, factored so that the root stays sqrt(.)|g|
            under = (alpha * (1 - alpha)) * g**2 if first else v - average**2
        denominator = elementwise(root, under) + eps
        quotient = elementwise(lambda a, b: divided(self.type_name, a, b), g, denominator)
        if self.momentum:
            momentum = self.number("momentum")
            quotient = quotient if first else momentum * state["momentum_buffer"] + quotient
            new["momentum_buffer"] = quotient
        return np.asarray(p - lr * quotient, dtype=object), new
