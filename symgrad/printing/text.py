"""Plain text for the terminal: each quantity as an aligned matrix."""

from __future__ import annotations

import numpy as np

from ..core.terminal import columns
from .common import shape_text, squeeze
from .plain import plain


def _entry(expr, show=str) -> str:
    if getattr(expr, "is_Rational", False) and not expr.is_Integer:
        return f"{float(expr):.6g}"
    return show(expr)


def block(array: np.ndarray, indent: str = "    ", show=str) -> str:
    """A tensor as rows of aligned columns; higher ranks as a list of 2-D blocks."""
    array = squeeze(np.asarray(array, dtype=object))
    if array.ndim == 0:
        return indent + _entry(array[()], show)
    if array.ndim == 1:
        array = array.reshape(1, -1)
    if array.ndim > 2:
        parts = []
        for idx in np.ndindex(*array.shape[:-2]):
            label = "[" + ", ".join(str(i) for i in idx) + "]"
            parts.append(f"{indent}{label}\n{block(array[idx], indent + '  ', show)}")
        return "\n".join(parts)
    cells = [[_entry(v, show) for v in row] for row in array]
    widths = [max(len(row[j]) for row in cells) for j in range(len(cells[0]))]
    return "\n".join(indent + "[ " + "  ".join(c.rjust(w) for c, w in zip(row, widths)) + " ]" for row in cells)


def named_section(view, show=str) -> list[str]:
    """Backprop as a teacher writes it: named intermediates, their definitions, gradients in names."""
    named = view.named
    lines = ["backward with named intermediates (delta_A = dL/dA):"]
    for name, definition in named.definitions.items():
        shown = ""
        if view.derivation.expanded:  # values are only worked out for a small, expanded derivation
            value = named.values[name]
            shown = f" = {_entry(value)}" if value.is_number and value != definition else ""
        lines.append(f"    {name} := {_entry(definition, show)}{shown}")
    for name in view.gradients:
        lines += [f"  dL/d({name}) =", block(named.gradients[name], "      ", show)]
    return lines + [""]


def buffers_section(d, show=str) -> list[str]:
    """The buffers the forward passes moved (training mode), as torch's state_dict holds them after."""
    passes = "the forward pass" if d.backward_passes == 1 else f"the {d.backward_passes} forward passes"
    lines = [f"running statistics (buffers after {passes}):"]
    for name, buffer in d.tensors.buffers.items():
        if any(a != b for a, b in zip(buffer.value.reshape(-1), buffer.updated.reshape(-1))):
            lines += [f"  {name} ({shape_text(buffer.updated)}):", block(buffer.updated, "      ", show)]
    return lines


def to_text(view) -> str:
    d = view.derivation
    show = str if d.expanded else plain  # a network kept in names has tens of thousands of sums
    lines = []
    if view.title:
        lines += [view.title, "=" * columns(view.title)]
    lines.append("network: " + " -> ".join(repr(layer) for layer in d.network))
    if d.loss_fn is not None:
        lines.append(f"loss: {d.loss_fn!r}")
    lines += ["", f"input ({shape_text(view.input)}):", block(view.input)]
    for name, value in view.parameters.items():
        lines += [f"parameter {name} ({shape_text(value)}):", block(value)]
    lines += ["", "forward:"]
    for label, value in view.forward:
        lines += [f"  {label} -> {shape_text(value)}:", block(value, "      ", show)]
    if d.tensors.buffers_change():
        lines += buffers_section(d, show)
    if view.target is not None:
        lines += [f"target ({shape_text(view.target)}):", block(view.target)]
    lines += [f"loss L = {_entry(view.loss)}", ""]
    if view.named is not None:
        lines += named_section(view, show)
    elif not d.expanded:
        lines += ["backward: kept in named intermediates (a large network); the numbers below are evaluated",
                  "from them. The formulas: --format latex or markdown (index forms), --emit-python (code).", ""]
    lines += ["gradients:"]
    for name, value in view.gradients.items():
        lines += [f"  dL/d({name}) ({shape_text(value)}):", block(value, "      ", show)]
    if d.optimizer is not None:
        lines += ["", f"after one {d.optimizer!r} step:"]
        for name, value in view.updated.items():
            lines += [f"  {name}:", block(value, "      ", show)]
    return "\n".join(lines) + "\n"
