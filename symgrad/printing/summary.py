"""A numeric tensor in brief, as torch prints one: rounded entries, the first few, norm, min and max.

A page writes exact values where they read; a tensor of 4704 entries, or entries that
are exact but long (log(e^{-0.068} + e^{1.26} + ...)), is written here instead: its
numbers rounded to 4 decimals (torch's print precision), so a reader still sees values,
never only a shape. Only formatting: the values are the engine's, evaluated to float64.
"""

from __future__ import annotations

import math

import numpy as np

from .common import squeeze

#: How many leading entries a summary shows (torch shows 3 at each end of an axis).
FIRST = 4


def floats(array) -> np.ndarray:
    """The entries as float64, in the array's shape."""
    array = np.asarray(array, dtype=object)
    return np.array([float(v) for v in array.reshape(-1)], dtype=float).reshape(array.shape)


def approx(value: float) -> str:
    """One entry rounded as torch prints it: 4 decimals, or 4 digits times a power of ten when far from 1."""
    if not math.isfinite(value):
        return r"\infty" if value > 0 else r"-\infty" if value < 0 else r"\text{nan}"
    if value == int(value) and abs(value) < 1e5:
        return str(int(value))  # a whole number reads as one (torch: 1.)
    if 1e-4 <= abs(value) < 1e5:
        return f"{value:.4f}"
    exponent = math.floor(math.log10(abs(value)))
    return r"%.4f \cdot 10^{%d}" % (value / 10 ** exponent, exponent)


def approx_matrix(array) -> str:
    """The entries rounded, as a bmatrix (channels stacked as the page's exact matrices are)."""
    values = squeeze(floats(array))
    if values.ndim == 0:
        return approx(float(values))
    if values.ndim == 1:
        values = values.reshape(1, -1)
    if values.ndim > 2:
        blocks = [r"\left(%s\right)_{%s}" % (approx_matrix(values[idx]), ",".join(str(i + 1) for i in idx))
                  for idx in np.ndindex(*values.shape[:-2])]
        return r"\begin{gathered}" + r" \\ ".join(blocks) + r"\end{gathered}"
    return r"\begin{bmatrix}" + r" \\ ".join(" & ".join(approx(v) for v in row) for row in values) + r"\end{bmatrix}"


def brief(array) -> dict[str, str]:
    """LaTeX of the first entries (row-major, then an ellipsis), the Frobenius norm, min and max."""
    values = floats(array).reshape(-1)
    first = ", ".join(approx(v) for v in values[:FIRST]) + (r", \dots" if values.size > FIRST else "")
    return {"first": r"\left[%s\right]" % first, "norm": approx(math.hypot(*values)),
            "min": approx(float(values.min())), "max": approx(float(values.max()))}
