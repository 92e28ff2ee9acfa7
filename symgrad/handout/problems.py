"""One problem = its prompt, its worked solution and its answers, all read from the engine.

The seed questions (questions.py) and the random exercises (exercises.py) are the
same kinds of problem with different numbers, so both are built here. Every number
shown comes from a Derivation's tensors or from the shape table; prose comes from
words.py.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..printing import shapes
from ..core import tensor
from .document import Math, Solution, Strong, Table, Text
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


def _lr(d) -> str:
    return number(tensor.number(d.optimizer.lr, "SGD", "lr"))  # the exact rational the step used


def _target(d) -> str:
    """The (broadcast) scalar target as given."""
    return number(np.asarray(d.tensors.target, dtype=object).reshape(-1)[0])


def _equation(label: str, array) -> Math:
    return Math(f"{label} = {matrix(array)}")


def gradient(kind: str, w: dict, d, solution_extra=()) -> Problem:
    """conv (+ ReLU) (+ pool or sum) + MSE + one SGD step: find dL/dK and the updated K."""
    layers = list(d.network)
    fields = {"conv": shapes.describe(layers[0]), "pool": shapes.describe(layers[-1]),
              "target": _target(d), "lr": _lr(d)}
    t, kernel = d.tensors, d.tensors.parameters["0.weight"]
    prompt = (Text(w[f"{kind}_prompt"].format(**fields)),
              Math(f"X = {matrix(t.input)},\\qquad K = {matrix(kernel.value)}"))
    answers = [_equation(r"\sigma", t.layers[0].output), _equation("S", t.output),
               Math(f"L = {number(d.loss)}"), _equation(DL % "K", kernel.gradient),
               _equation("K^{(1)}", kernel.updated)]
    return Problem(kind, w[f"{kind}_title"], prompt, (Solution(d), *solution_extra), tuple(answers), d)


def pool_backward(kind: str, w: dict, d, symbolic_input: bool) -> Problem:
    """A pooling layer and y.sum(): find dL/dX (torch's divisor, or its first-argmax routing)."""
    pool = list(d.network)[0]
    x = d.tensors.input
    fields = {"pool": shapes.describe(pool), "shape": "`" + shape(x.shape) + "`"}
    prompt = [Text(w[f"{kind}_prompt"].format(**fields))]
    if not symbolic_input:
        prompt.append(Math(f"X = {matrix(x)}"))
    answers = (_equation(DL % ("x" if symbolic_input else "X"), d.tensors.input_gradient),)
    return Problem(kind, w[f"{kind}_title"], tuple(prompt), (Solution(d),), answers, d)


def shape_table(w: dict, rows, with_formula: bool = True) -> Table:
    header = [w["col_index"], w["col_layer"], w["col_shape"], w["col_params"]]
    header += [w["col_formula"]] if with_formula else []
    body = []
    for r in rows:
        cells = [str(r.index), f"`{r.layer}`", f"`{shape(r.output_shape)}`", str(r.parameters)]
        body.append(tuple(cells + ([f"`{r.formula}`"] if with_formula else [])))
    return Table(tuple(header), tuple(body))


def layer_shapes(kind: str, w: dict, title: str, prompt_key: str, network, in_shape, solution_intro=None) -> Problem:
    """Output shape (and parameter count) of every layer, from the shape table."""
    rows = shapes.table(network, in_shape)
    listed = ", ".join(f"`{shapes.describe(layer)}`" for layer in network)
    prompt = (Text(w[prompt_key].format(shape=shape(in_shape))), Text(w["layers_list"].format(layers=listed)))
    total = Text(w["total_params"].format(total=sum(r.parameters for r in rows)))
    solution = ((Text(solution_intro),) if solution_intro else ()) + (shape_table(w, rows), total)
    answers = (shape_table(w, rows, with_formula=False), total)
    return Problem(kind, title, prompt, solution, answers)


def pool_forward(w: dict, letter: str, d, on_two_channels: bool):
    """One part of the pooling-shapes question: (prompt line, solution blocks, answer blocks)."""
    pool = list(d.network)[0]
    in_shape = d.tensors.input.shape
    row = shapes.table(d.network, in_shape)[0]
    what = w["pool_on_two"] if on_two_channels else w["pool_on_x"]
    part = w["pool_part"].format(letter=letter, layer=shapes.describe(pool), what=what)
    output = squeeze(d.tensors.output)
    solution = (Strong(part), Text(w["pool_formula"].format(formula=row.formula)), _equation("S", output))
    answers = (Text(w["pool_shape_answer"].format(letter=letter, shape=shape(row.output_shape))),
               _equation("S", output))
    return Text(part), solution, answers
