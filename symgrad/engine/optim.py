"""SGD: one optimizer step, with torch's momentum, dampening, nesterov and weight decay.

On the first step torch's momentum buffer is the (decayed) gradient itself, so
dampening has no effect and nesterov adds momentum * gradient once more.
"""

from __future__ import annotations

import numpy as np

from ..core import tensor
from ..core.errors import OptionError
from ..ops import options as opt


class SGD:
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

    def step(self, parameter: np.ndarray, gradient: np.ndarray) -> np.ndarray:
        """The parameter after one step (exact: lr 0.01 is 1/100)."""
        lr = tensor.number(self.lr, self.type_name, "lr")
        g = -gradient if self.maximize else gradient
        if self.weight_decay:
            g = g + tensor.number(self.weight_decay, self.type_name, "weight_decay") * parameter
        if self.momentum and self.nesterov:
            g = g + tensor.number(self.momentum, self.type_name, "momentum") * g
        return np.asarray(parameter - lr * g, dtype=object)

    def torch_optimizer(self, parameters):
        import torch

        return torch.optim.SGD(parameters, **self.options())

    def __repr__(self):
        return f"SGD(lr={self.lr!r})"
