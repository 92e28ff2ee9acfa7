"""One problem = its prompt, its worked solution and its answers, all read from the engine.

The seed questions (questions.py) and the random exercises (exercises.py) are the
same kinds of problem with different numbers, so both are built here. Every number
shown comes from a Derivation's tensors or from the shape table; prose comes from
words.py.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import ops
from ..ops.geometry import taps
from ..printing import shapes
from ..printing.texnames import index_text, name_latex
from ..core import tensor
from .document import Math, Row, Solution, Strong, Table, Text
from .numbers import matrix, number, shape, squeeze

DL = r"\frac{\partial L}{\partial %s}"


@dataclass(frozen=True)
class Problem:
    kind: str
    title: str
    prompt: tuple
    solution: tuple
    answers: tuple
    derivation: object = None
    values: dict | None = None  # a short question's worked lines: each name's number (worked.Lines.values)
    givens: dict | None = None  # a short question's givens, for the torch tests to rebuild it


def _lr(d) -> str:
    return number(tensor.number(d.optimizer.lr, "SGD", "lr"))  # the exact rational the step used


def _target(d) -> str:
    """The (broadcast) scalar target as given."""
    return number(np.asarray(d.tensors.target, dtype=object).reshape(-1)[0])


def inline(array) -> str:
    """A small tensor for running text, as torch prints it: [[2.52, 1.36], [0.04, 3.88]] (no bmatrix in a line)."""
    array = squeeze(array)
    if array.ndim == 0 or array.size == 1:
        return number(array.reshape(-1)[0])
    return "[" + ", ".join(inline(row) if np.ndim(row) else number(row) for row in array) + "]"


def _equation(label: str, array) -> Math:
    return Math(f"{label} = {matrix(array)}")


def gradient(kind: str, w: dict, d, solution_extra=(), same_start: str = "") -> Problem:
    """conv (+ ReLU) (+ pool or sum) + MSE + one SGD step: find dL/dK and the updated K.

    The answers are one row; with max pooling, the key also shows the pool's delta and where
    each tied window's gradient went.
    """
    layers = list(d.network)
    fields = {"conv": shapes.describe(layers[0]), "pool": shapes.describe(layers[-1]),
              "target": _target(d), "lr": _lr(d)}
    t, kernel = d.tensors, d.tensors.parameters["0.weight"]
    prompt = (Text(w[f"{kind}_prompt"].format(**fields)),
              Math(f"X = {matrix(t.input)},\\qquad K = {matrix(kernel.value)}"))
    answers = [Row((_equation(r"\sigma", t.layers[0].output), _equation("S", t.output), Math(f"L = {number(d.loss)}"),
                    _equation(DL % "K", kernel.gradient), _equation("K^{(1)}", kernel.updated)))]
    pool = len(layers) - 1
    if isinstance(layers[pool], ops.MaxPool2d):
        letter = name_latex(d.named.activations[pool - 1][0]) if d.named else r"\sigma"
        notes = ties(w, layers[pool], t.layers[pool - 1].output, letter)
        if notes:
            answers += [_equation(r"\delta^{%s}" % letter, d.deltas[pool - 1][1]), *notes]
    solution = (Solution(d, ("0.weight",), same_start), *solution_extra)
    return Problem(kind, w[f"{kind}_title"], prompt, solution, tuple(answers), d)


def pool_backward(kind: str, w: dict, d, symbolic_input: bool, solution_extra=()) -> Problem:
    """A pooling layer and y.sum(): find dL/dX (torch's divisor, or its first-argmax routing)."""
    pool = list(d.network)[0]
    x = d.tensors.input
    fields = {"pool": shapes.describe(pool), "shape": "`" + shape(x.shape) + "`"}
    prompt = [Text(w[f"{kind}_prompt"].format(**fields))]
    if not symbolic_input:
        prompt.append(Math(f"X = {matrix(x)}"))
    answers = (_equation(DL % ("x" if symbolic_input else "X"), d.tensors.input_gradient),)
    if isinstance(pool, ops.MaxPool2d) and not symbolic_input:
        answers += tuple(ties(w, pool, x, "X"))
    return Problem(kind, w[f"{kind}_title"], tuple(prompt), (Solution(d, ("input",)), *solution_extra), answers, d)


def windows(pool, in_shape) -> dict:
    """{(i, j): [(h, w), ...]} of a pooling layer over an (N, C, H, W) input, 1-based, row-major (torch's order)."""
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = pool.kernel_size, pool.stride, pool.padding, pool.dilation
    _, _, ho, wo = pool.output_shape(tuple(in_shape))
    rows = [[h + 1 for _, h in taps(i, kh, sh, ph, dh, in_shape[2])] for i in range(ho)]
    cols = [[c + 1 for _, c in taps(j, kw, sw, pw, dw, in_shape[3])] for j in range(wo)]
    return {(i + 1, j + 1): [(h, c) for h in rows[i] for c in cols[j]] for i in range(ho) for j in range(wo)}


def ties(w: dict, pool, plane, letter: str) -> list[Text]:
    """One line per window of `pool` whose maximum occurs twice or more in `plane` (sample 0, channel 0):
    its entries and the first of them, where torch sends the window's gradient."""
    x = np.asarray(plane, dtype=object)
    notes = []
    for (i, j), cells in windows(pool, x.shape).items():
        values = [x[0, 0, h - 1, c - 1] for h, c in cells]
        top = max(values)
        places = [f"{letter}_{{{index_text((h, c))}}}" for (h, c), v in zip(cells, values) if v == top]  # x_{12}
        if len(places) > 1:
            shown = w["tie_and"].join(f"${p}$" for p in places)
            notes.append(Text(w["tie"].format(i=i, j=j, value=number(top), places=shown, first=places[0])))
    return notes


#: The shape table's formulas that are words, not arithmetic (the ops write them in English): their word keys.
PHRASES = {"element-wise: same shape as the input": "phrase_elementwise", "sum of all entries = a scalar": "phrase_sum"}


def formula_cell(w: dict, formula: str) -> str:
    """A shape formula as a table cell: arithmetic as code, a phrase in the document's language."""
    return w[PHRASES[formula]] if formula in PHRASES else f"`{formula}`"


def shape_table(w: dict, rows, with_formula: bool = True) -> Table:
    header = [w["col_index"], w["col_layer"], w["col_shape"], w["col_params"]]
    header += [w["col_formula"]] if with_formula else []
    body = []
    for r in rows:
        cells = [str(r.index), f"`{r.layer}`", f"`{shape(r.output_shape)}`", str(r.parameters)]
        body.append(tuple(cells + ([formula_cell(w, r.formula)] if with_formula else [])))
    return Table(tuple(header), tuple(body))


def layer_shapes(kind: str, w: dict, title: str, prompt_key: str, network, in_shape, solution_intro=None) -> Problem:
    """Output shape (and parameter count) of every layer, from the shape table."""
    rows = shapes.table(network, in_shape)
    listed = w["list_sep"].join(f"`{shapes.describe(layer)}`" for layer in network)
    prompt = (Text(w[prompt_key].format(shape=shape(in_shape))), Text(w["layers_list"].format(layers=listed)))
    total = Text(w["total_params"].format(total=sum(r.parameters for r in rows)))
    solution = ((Text(solution_intro),) if solution_intro else ()) + (shape_table(w, rows), total)
    answers = (shape_table(w, rows, with_formula=False), total)
    return Problem(kind, title, prompt, solution, answers)


def pool_forward(w: dict, letter: str, d, what: str):
    """One part of the pooling-shapes question on the input `what` (words): (prompt line, solution, answers)."""
    pool = list(d.network)[0]
    in_shape = d.tensors.input.shape
    row = shapes.table(d.network, in_shape)[0]
    part = w["pool_part"].format(letter=letter, layer=shapes.describe(pool), what=what)
    output = squeeze(d.tensors.output)
    taken = w["pool_max"] if isinstance(pool, ops.MaxPool2d) else w["pool_avg"]
    solution = (Strong(part), Text(w["pool_formula"].format(formula=row.formula, what=taken)), _equation("S", output))
    answers = (Text(w["pool_shape_answer"].format(letter=letter, shape=shape(row.output_shape))),
               _equation("S", output))
    return Text(part), solution, answers
