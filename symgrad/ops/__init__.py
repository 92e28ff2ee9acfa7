"""The registry of ops: one module per op family, looked up by torch's class name."""

from .base import Gradients, Layer, Loss
from .conv import Conv2d
from .loss import MSELoss
from .pool import AvgPool2d, MaxPool2d
from .reduce import Sum

LAYERS: dict[str, type[Layer]] = {cls.type_name: cls for cls in (Conv2d, MaxPool2d, AvgPool2d, Sum)}
LOSSES: dict[str, type[Loss]] = {cls.type_name: cls for cls in (MSELoss,)}

__all__ = ["Gradients", "Layer", "Loss", "Conv2d", "MaxPool2d", "AvgPool2d", "Sum", "MSELoss", "LAYERS", "LOSSES"]
