"""The registry of ops: one module per op family, looked up by torch's class name."""

from .activation import ReLU, Sigmoid, Tanh
from .base import Gradients, Layer, Loss
from .conv import Conv2d
from .cross_entropy import CrossEntropyLoss
from .flatten import Flatten
from .linear import Linear
from .loss import L1Loss, MSELoss
from .pool import AvgPool2d, MaxPool2d
from .reduce import Sum

LAYERS: dict[str, type[Layer]] = {cls.type_name: cls for cls in (
    Conv2d, MaxPool2d, AvgPool2d, ReLU, Sigmoid, Tanh, Flatten, Linear, Sum)}
LOSSES: dict[str, type[Loss]] = {cls.type_name: cls for cls in (MSELoss, L1Loss, CrossEntropyLoss)}

__all__ = ["Gradients", "Layer", "Loss", "Conv2d", "MaxPool2d", "AvgPool2d", "ReLU", "Sigmoid", "Tanh", "Flatten",
           "Linear", "Sum", "MSELoss", "L1Loss", "CrossEntropyLoss", "LAYERS", "LOSSES"]
