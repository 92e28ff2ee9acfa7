"""Plain text for the terminal: each quantity as an aligned matrix."""

from __future__ import annotations

import unicodedata

import numpy as np

from .common import shape_text, squeeze


def _entry(expr) -> str:
    if getattr(expr, "is_Rational", False) and not expr.is_Integer:
        return f"{float(expr):.6g}"
    return str(expr)


def _width(text: str) -> int:
    """Terminal columns: East Asian wide characters take two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def block(array: np.ndarray, indent: str = "    ") -> str:
    """A tensor as rows of aligned columns; higher ranks as a list of 2-D blocks."""
    array = squeeze(np.asarray(array, dtype=object))
    if array.ndim == 0:
        return indent + _entry(array[()])
    if array.ndim == 1:
        array = array.reshape(1, -1)
    if array.ndim > 2:
        parts = []
        for idx in np.ndindex(*array.shape[:-2]):
            label = "[" + ", ".join(str(i) for i in idx) + "]"
            parts.append(f"{indent}{label}\n{block(array[idx], indent + '  ')}")
        return "\n".join(parts)
    cells = [[_entry(v) for v in row] for row in array]
    widths = [max(len(row[j]) for row in cells) for j in range(len(cells[0]))]
    return "\n".join(indent + "[ " + "  ".join(c.rjust(w) for c, w in zip(row, widths)) + " ]" for row in cells)


def named_section(view) -> list[str]:
    """Backprop as a teacher writes it: named intermediates, their definitions, gradients in names."""
    named = view.named
    lines = ["backward with named intermediates (delta^A = dL/dA):"]
    for name, definition in named.definitions.items():
        value = named.values[name]
        shown = f" = {_entry(value)}" if value.is_number and value != definition else ""
        lines.append(f"    {name} := {_entry(definition)}{shown}")
    for name in view.gradients:
        lines += [f"  dL/d({name}) =", block(named.gradients[name], "      ")]
    return lines + [""]


def to_text(view) -> str:
    d = view.derivation
    lines = []
    if view.title:
        lines += [view.title, "=" * _width(view.title)]
    lines.append("network: " + " -> ".join(repr(layer) for layer in d.network))
    if d.loss_fn is not None:
        lines.append(f"loss: {d.loss_fn!r}")
    lines += ["", f"input ({shape_text(view.input)}):", block(view.input)]
    for name, value in view.parameters.items():
        lines += [f"parameter {name} ({shape_text(value)}):", block(value)]
    lines += ["", "forward:"]
    for label, value in view.forward:
        lines += [f"  {label} -> {shape_text(value)}:", block(value, "      ")]
    if view.target is not None:
        lines += [f"target ({shape_text(view.target)}):", block(view.target)]
    lines += [f"loss L = {_entry(view.loss)}", ""]
    if view.named is not None:
        lines += named_section(view)
    lines += ["gradients:"]
    for name, value in view.gradients.items():
        lines += [f"  dL/d({name}) ({shape_text(value)}):", block(value, "      ")]
    if d.optimizer is not None:
        lines += ["", f"after one {d.optimizer!r} step:"]
        for name, value in view.updated.items():
            lines += [f"  {name}:", block(value, "      ")]
    return "\n".join(lines) + "\n"
