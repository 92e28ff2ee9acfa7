"""The layer table the articles print by hand: output shape, parameter count, shape formula.

Shapes only: nothing is derived and torch is never imported, so even LeNet's
table comes out instantly. Each op writes its own formula (`Layer.shape_formula`);
this module only walks the network and lays the rows out.
"""

from __future__ import annotations

import inspect
import json
from dataclasses import asdict, dataclass
from math import prod

from ..core.terminal import columns


@dataclass
class Row:
    index: int
    layer: str  # compact, as in Python: Conv2d(1, 6, 5, padding=2)
    type: str
    output_shape: list[int]
    parameters: int
    formula: str


def _compact(value):
    """A pair of equal ints as one int, the way a spec or torch call usually writes it."""
    if isinstance(value, tuple) and value and all(v == value[0] for v in value):
        return value[0]
    return value


def describe(layer) -> str:
    """The layer as a short constructor call: required options positionally, then those that differ from the
    layer's `default_options()`."""
    options = {name: _compact(value) for name, value in layer.options().items()}
    defaults = {name: _compact(value) for name, value in layer.default_options().items()}
    positional, keywords = [], []
    for p in inspect.signature(type(layer).__init__).parameters.values():
        if p.name not in options or p.kind is not inspect.Parameter.POSITIONAL_OR_KEYWORD:
            continue
        value = options[p.name]
        if p.name not in defaults:
            positional.append(repr(value))
        elif value != defaults[p.name]:
            keywords.append(f"{p.name}={value!r}")
    return f"{layer.type_name}({', '.join(positional + keywords)})"


def parameter_count(layer) -> int:
    return sum(prod(shape) for shape in layer.parameter_shapes().values())


def table(network, in_shape) -> list[Row]:
    """One row per layer; an input that does not fit raises an OptionError naming the layer."""
    shapes = network.shapes(tuple(in_shape))
    rows = []
    for i, (layer, shape) in enumerate(zip(network, [tuple(in_shape), *shapes])):
        rows.append(Row(i, describe(layer), layer.type_name, list(shapes[i]), parameter_count(layer),
                        layer.shape_formula(shape)))
    return rows


def to_json(rows: list[Row]) -> str:
    return json.dumps([asdict(row) for row in rows], ensure_ascii=False) + "\n"


def to_text(rows: list[Row], in_shape, title: str | None = None) -> str:
    header = ("#", "layer", "output shape", "params", "shape formula")
    cells = [(str(r.index), r.layer, str(r.output_shape), str(r.parameters), r.formula) for r in rows]
    widths = [max(len(c[j]) for c in [header, *cells]) for j in range(4)]
    lines = [title, "=" * columns(title)] if title else []
    lines.append(f"input: {list(in_shape)}")
    for c in [header, *cells]:
        lines.append("  ".join([c[0].rjust(widths[0]), c[1].ljust(widths[1]), c[2].ljust(widths[2]),
                                c[3].rjust(widths[3]), c[4]]).rstrip())
    lines.append(f"total parameters: {sum(r.parameters for r in rows)}")
    return "\n".join(lines) + "\n"
