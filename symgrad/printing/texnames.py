"""LaTeX for the engine's names and tensors: sigma_11 -> \\sigma_{11}, delta_S_11 -> \\delta^{S}_{11}, bmatrix.

The engine names a layer's output by its letter, adding the layer index when the
letter repeats (sigma3_11); parameters likewise (k0_11). Here the index becomes a
superscript [3], as the layer superscripts in the rest of the document. Indices above
9 are separated by underscores in the names (x_1_10) and by commas here (x_{1,10});
a trailing underscore that only keeps a name from reading as SymPy's own (S_, the
output of Sum) is not printed. A letter that names a Greek letter or one of LaTeX's other
letters (gamma, ell) is written as SymPy writes it, so no op's letters are listed here.
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from contextvars import ContextVar

import numpy as np
import sympy as sp
from sympy.printing.latex import greek_letters_set, other_symbols

from ..core.names import DELTA, parser_reading
from .common import squeeze
from ..core.decimals import bmatrix, latex
from .memo import MemoLatexPrinter

#: Beyond this many entries a tensor is described by its shape, not printed (LeNet stays readable).
SMALL = 36

_NAME = re.compile(r"(?P<delta>%s_)?(?P<letter>[A-Za-z]+?)(?P<layer>\d*)(?:_(?P<index>\d+(?:_\d+)*))?\Z" % DELTA)


def name_latex(name: str) -> str:
    """A name as LaTeX, with or without indices: "sigma" -> \\sigma, "S3_11" -> S^{[3]}_{11},
    "delta_sigma" -> \\delta^{\\sigma}, "x_1_10" -> x_{1,10}."""
    if name.endswith("_") and parser_reading(name[:-1]) is not None:
        name = name[:-1]  # S_ is S, spelled so that SymPy's parser reads a symbol
    match = _NAME.match(name)
    if not match:
        return sp.latex(sp.Symbol(name))
    letter = _letter(match["letter"])
    if match["layer"]:
        letter += "^{[%s]}" % match["layer"]
    if match["delta"]:
        letter = r"\delta^{%s}" % letter
    return letter + ("_{%s}" % match["index"].replace("_", ",") if match["index"] else "")


def _letter(letter: str) -> str:
    """gamma -> \\gamma, Sigma -> \\Sigma, ell -> \\ell (SymPy's own spelling); any other letters as they are."""
    if letter.lower() in greek_letters_set or letter in other_symbols:
        return sp.latex(sp.Symbol(letter))
    return letter


def index_text(index) -> str:
    """1-based indices as a subscript shows them: (1, 2) -> "12"; (1, 10) -> "1,10" (as the names: x_12, x_1_10)."""
    parts = [str(int(i)) for i in index]
    return ("" if all(len(p) == 1 for p in parts) else ",").join(parts)


#: The printer of the document being built (`one_document`), None outside one.
_DOCUMENT: ContextVar[MemoLatexPrinter | None] = ContextVar("latex_document", default=None)


@contextmanager
def one_document():
    """Within the block, tex() prints with one memoised printer (memo.py): a subexpression shared by many
    entries and equations is printed once per document, byte-identical to a printer per call."""
    token = _DOCUMENT.set(_DOCUMENT.get() or MemoLatexPrinter(name_latex))
    try:
        yield
    finally:
        _DOCUMENT.reset(token)


def tex(expr) -> str:
    """LaTeX with the engine's names written as above and numbers as numbers.py prints them (2.52, \\frac{1}{3})."""
    expr = sp.sympify(expr) if not isinstance(expr, sp.Basic) else expr
    printer = _DOCUMENT.get()
    if printer is not None:
        return printer.doprint(expr)
    return latex(expr, symbol_names=symbol_names(expr))


def symbol_names(expr) -> dict:
    """The LaTeX of each engine name in `expr`, for a printer's `symbol_names` setting."""
    return {s: name_latex(s.name) for s in expr.free_symbols if isinstance(s, sp.Symbol)}


def matrix(array) -> str | None:
    """A tensor as bmatrix (channels as subscripted blocks); one entry as a scalar (y = 60, as the articles);
    None when it has more than SMALL entries."""
    array = squeeze(np.asarray(array, dtype=object))
    if array.size > SMALL:
        return None
    if array.size == 1:
        return tex(array.reshape(-1)[0])
    if array.ndim == 1:
        array = array.reshape(1, -1)
    if array.ndim > 2:
        blocks = [r"\left(" + matrix(array[idx]) + r"\right)_{" + index_text(i + 1 for i in idx) + "}"
                  for idx in np.ndindex(*array.shape[:-2])]
        return r"\begin{gathered}" + r" \\ ".join(blocks) + r"\end{gathered}"
    return bmatrix([tex(v) for v in row] for row in array)


def parameter_symbol(name: str, network) -> str:
    """0.weight -> K^{[0]} (the layer's `parameter_letters`, alone when the network has one parametric layer);
    input -> X."""
    if name == "input":
        return "X"
    index, kind = name.split(".")
    letter = network.layers[int(index)].parameter_letters[kind]
    several = sum(1 for layer in network if layer.parameter_shapes()) > 1
    return f"{letter}^{{[{index}]}}" if several else letter


_INVISIBLE = re.compile(r"\\(?:begin|end)\{[a-z*]+\}|\\(?:left|right|frac|tfrac|mathrm|operatorname\*?|text|"
                        r"displaystyle|substack)(?![A-Za-z])|[{}^_&]")
_COMMAND = re.compile(r"\\[A-Za-z]+|\\.")


def width(shown: str) -> int:
    """Roughly how many characters the widest line of LaTeX `shown` shows (a symbol command counts as one)."""
    rows = re.split(r"\\\\(?:\[[^\]]*\])?", shown)
    return max(len(_COMMAND.sub("x", _INVISIBLE.sub("", row)).replace(" ", "")) + 2 * row.count("&") for row in rows)
