"""symgrad: derive gradient formulas of small CNNs symbolically, with torch's semantics."""

from .derive import Derivation, derive
from .errors import OptionError, SymgradError
from .network import Sequential
from .ops import AvgPool2d, Conv2d, MaxPool2d, MSELoss, Sum
from .optim import SGD
from .tensor import symbolic

__version__ = "0.1.0"

__all__ = ["AvgPool2d", "Conv2d", "Derivation", "MaxPool2d", "MSELoss", "OptionError", "SGD", "Sequential",
           "Sum", "SymgradError", "derive", "symbolic", "__version__"]
