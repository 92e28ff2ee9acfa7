"""Cross-checks of a derivation: numeric evaluation and torch autograd (torch imported lazily)."""

from .numeric import evaluate, random_values
from .torch_reference import compare, torch_reference

__all__ = ["evaluate", "random_values", "torch_reference", "compare"]
