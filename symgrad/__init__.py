"""symgrad: derive gradient formulas of small CNNs symbolically, with torch's semantics."""

from .derive import Derivation, derive
from .errors import OptionError, SymgradError
from .from_torch import from_torch
from .network import Sequential
from .ops import (AvgPool2d, Conv2d, CrossEntropyLoss, Flatten, L1Loss, Linear, MaxPool2d, MSELoss, ReLU, Sigmoid,
                  Sum, Tanh)
from .optim import SGD
from .tensor import symbolic

__version__ = "0.1.0"

__all__ = ["AvgPool2d", "Conv2d", "CrossEntropyLoss", "Derivation", "Flatten", "L1Loss", "Linear", "MaxPool2d",
           "MSELoss", "OptionError", "ReLU", "SGD", "Sequential", "Sigmoid", "Sum", "SymgradError", "Tanh", "derive",
           "from_torch", "symbolic", "__version__"]
