"""Engine numbers in the handout: core/decimals.py's formatter (2.52, 0.25, \\frac{1}{3}), tensors as the
articles show them (a scalar for one entry, one bmatrix per channel) and torch shapes as code text.

Only formatting: every value comes from a Derivation (or the shape table) as a SymPy
number, and is printed exactly; nothing here rounds or computes a result.
"""

from __future__ import annotations

import numpy as np

from ..core.decimals import bmatrix, number

__all__ = ["matrix", "number", "shape", "squeeze"]


def squeeze(array) -> np.ndarray:
    """Drop leading axes of size 1 (sample, channel), as the articles do; keep H x W."""
    array = np.asarray(array, dtype=object)
    while array.ndim > 2 and array.shape[0] == 1:
        array = array[0]
    return array


def matrix(array) -> str:
    """A tensor as a bmatrix; a scalar as a number; channels as one bmatrix each."""
    array = squeeze(array)
    if array.size == 1:
        return number(array.reshape(-1)[0])
    if array.ndim == 1:
        array = array.reshape(1, -1)
    if array.ndim > 2:
        return r",\quad ".join(matrix(array[c]) for c in range(array.shape[0]))
    return bmatrix([number(v) for v in row] for row in array)


def shape(dims) -> str:
    """A torch shape as code text: [1, 6, 28, 28]."""
    return "[" + ", ".join(str(int(n)) for n in dims) + "]"
