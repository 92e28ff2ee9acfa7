"""MSELoss: mean (or sum) of squared errors against a broadcast target, as torch."""

from __future__ import annotations

import numpy as np

from .. import tensor
from ..errors import OptionError
from . import options as opt
from .base import Loss


class MSELoss(Loss):
    type_name = "MSELoss"
    index_form = {
        "forward": r"L = \frac{1}{n} \sum_{i} (S_i - y_i)^2",
        "input": r"\frac{\partial L}{\partial S_i} = \frac{2}{n} (S_i - y_i)",
    }

    def __init__(self, reduction="mean"):
        self.reduction = opt.choice(self.type_name, "reduction", reduction, ("mean", "sum"))

    def options(self):
        return {"reduction": self.reduction}

    def check_target(self, out_shape, target):
        target = np.asarray(target, dtype=object)
        try:
            broadcast = np.broadcast_shapes(out_shape, target.shape)
        except ValueError:
            broadcast = None
        if broadcast != tuple(out_shape):
            raise OptionError(self.where, "target",
                              f"shape {list(target.shape)} does not broadcast to the output shape {list(out_shape)}")
        return np.broadcast_to(target, out_shape)

    def _scale(self, out):
        return 1 if self.reduction == "sum" else max(out.size, 1)

    def forward(self, out, target):
        residuals = np.asarray(out - target, dtype=object).reshape(-1)
        return tensor.add_all([r**2 for r in residuals]) / self._scale(out)

    def backward(self, out, target):
        return np.asarray(2 * (out - target) / self._scale(out), dtype=object)

    def torch_module(self):
        import torch

        return torch.nn.MSELoss(reduction=self.reduction)
