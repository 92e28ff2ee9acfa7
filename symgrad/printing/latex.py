"""LaTeX: the quantities of a derivation as bmatrix equations (fragment or document)."""

from __future__ import annotations

import numpy as np
import sympy as sp

from .. import tensor
from .common import squeeze

PREAMBLE = r"""\documentclass[11pt]{article}
\usepackage{amsmath,amssymb}
\usepackage[margin=2cm]{geometry}
\allowdisplaybreaks
\begin{document}
"""


def matrix(array: np.ndarray) -> str:
    array = squeeze(np.asarray(array, dtype=object))
    if array.ndim == 0:
        return sp.latex(array[()])
    if array.ndim == 1:
        array = array.reshape(1, -1)
    if array.ndim > 2:
        blocks = [r"\left(" + matrix(array[idx]) + r"\right)_{" + ",".join(str(i + 1) for i in idx) + "}"
                  for idx in np.ndindex(*array.shape[:-2])]
        return r",\;".join(blocks)
    rows = [" & ".join(sp.latex(v) for v in row) for row in array]
    return r"\begin{bmatrix}" + r" \\ ".join(rows) + r"\end{bmatrix}"


def parameter_symbol(name: str) -> str:
    index, kind = name.split(".") if "." in name else ("", name)
    letter = {"weight": "K", "bias": "b"}.get(kind, r"\mathrm{%s}" % kind)
    return f"{letter}^{{[{index}]}}" if index else letter


def equations(view) -> list[str]:
    d = view.derivation
    eqs = [r"X = " + matrix(view.input)]
    eqs += [f"{parameter_symbol(name)} = {matrix(value)}" for name, value in view.parameters.items()]
    for i, (label, value) in enumerate(view.forward):
        eqs.append(r"a^{[%d]} = \text{%s}\left(a^{[%d]}\right) = %s" % (i + 1, label.split()[-1], i, matrix(value)))
    if view.target is not None:
        eqs.append("y = " + matrix(view.target))
    eqs.append("L = " + sp.latex(view.loss))
    for name, value in view.gradients.items():
        symbol = "X" if name == "input" else parameter_symbol(name)
        eqs.append(r"\frac{\partial L}{\partial %s} = %s" % (symbol, matrix(value)))
    if d.optimizer is not None:
        lr = sp.latex(tensor.number(d.optimizer.lr, "SGD", "lr"))  # the exact rational the step used
        for name, value in view.updated.items():
            symbol = parameter_symbol(name)
            eqs.append(r"%s \leftarrow %s - %s\,\frac{\partial L}{\partial %s} = %s" % (symbol, symbol, lr, symbol,
                                                                                      matrix(value)))
    return eqs


def to_latex(view, standalone: bool = False) -> str:
    body = "\n".join(r"\begin{equation*}" + "\n" + eq + "\n" + r"\end{equation*}" for eq in equations(view))
    if not standalone:
        return body + "\n"
    title = view.title or "symgrad derivation"
    return PREAMBLE + r"\section*{%s}" % _escape(title) + "\n" + body + "\n\\end{document}\n"


_SPECIAL = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
            "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}


def _escape(text: str) -> str:
    """User text (a title) made safe for LaTeX, in one pass."""
    return "".join(_SPECIAL.get(char, char) for char in text)
