"""Cross-checks of a derivation: numeric evaluation and torch autograd (torch imported lazily)."""

from .numeric import buffer_symbols, evaluate, random_values
from .torch_reference import compare, torch_reference

__all__ = ["buffer_symbols", "evaluate", "random_values", "torch_reference", "compare"]
