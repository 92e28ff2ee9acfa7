"""Plain text for the terminal: each quantity as an aligned matrix."""

from __future__ import annotations

import numpy as np

from ..core.terminal import columns
from .common import squeeze
from ..core import decimals
from ..core.progress import each
from .memo import text_printer
from .brief import GAP, Brief, approx, edges, first_definitions, summarised, too_long
from .plain import plain_printer
from . import training
from .words import words


def _entry(expr, show=str) -> str:
    """A fraction as its exact decimal (2.52) when it has one, else to 6 digits; as 63/25 under exact_fractions()."""
    if getattr(expr, "is_Rational", False) and not expr.is_Integer:
        if decimals.exact():
            return str(expr)
        shown = decimals.decimal(expr)
        return shown if shown is not None else f"{float(expr):.6g}"
    return show(expr)


def block(array: np.ndarray, indent: str = "    ", show=str, brief: Brief | None = None) -> str:
    """A tensor as rows of aligned columns; higher ranks as a list of 2-D blocks.

    `brief` (a network kept in names, without --full; brief.py): a tensor of more than a thousand
    entries summarised as torch prints one, an entry longer than a line by its first terms.
    """
    array = squeeze(np.asarray(array, dtype=object))
    cell = _brief_cell(show, summarised(array), brief) if brief else (lambda v: _entry(v, show))
    if array.ndim == 0:
        return indent + cell(array[()])
    if array.ndim == 1:
        array = array.reshape(1, -1)
    return "\n".join(_rows(array, indent, cell, brief and summarised(array), ()))


def _rows(array, indent, cell, summarise, index) -> list[str]:
    """The lines of `array` (its leading indices so far in `index`), `...` where a summary leaves entries out."""
    if array.ndim > 2:
        parts = []
        for i in edges(array.shape[0], summarise):
            if i is None:
                parts.append(f"{indent}{GAP}")
                continue
            if array.ndim == 3:
                label = "[" + ", ".join(str(k) for k in (*index, i)) + "]"
                parts += [f"{indent}{label}", *_rows(array[i], indent + "  ", cell, summarise, (*index, i))]
            else:
                parts += _rows(array[i], indent, cell, summarise, (*index, i))
        return parts
    rows, columns_ = edges(array.shape[0], summarise), edges(array.shape[1], summarise)
    cells = [[GAP if r is None or c is None else cell(array[r, c]) for c in columns_] for r in rows]
    widths = [max(len(row[j]) for row in cells) for j in range(len(cells[0]))]
    return [indent + "[ " + "  ".join(c.rjust(w) for c, w in zip(row, widths)) + " ]" for row in cells]


def _brief_cell(show, summarise: bool, brief: Brief):
    """An entry of a brief block: a summarised tensor's numbers rounded as torch's; long entries shortened."""
    def cell(v):
        if summarise and getattr(v, "is_number", False):
            return approx(float(v))
        return _entry(v, show) if getattr(v, "is_Rational", False) else brief(v, show)  # a number: 2.52, as in full
    return cell


def named_section(view, show=str, w=None, brief: Brief | None = None) -> list[str]:
    """Backprop as a teacher writes it: named intermediates, their definitions, gradients in names.

    A gradient whose named form is the gradient itself (a network kept in names) is printed once,
    under gradients. `brief`: each named tensor's first definitions (brief.py), each shortened.
    """
    named, w = view.named, w or words("en")
    lines = [w["text_named"]]
    definitions = first_definitions(named.definitions) if brief else named.definitions.items()
    for name, definition in definitions:
        if name is None:  # brief: the definitions left out of one named tensor
            lines.append("    " + w["text_more_definitions"].format(count=definition[1], name=definition[0]))
            continue
        shown = ""
        if view.derivation.expanded:  # values are only worked out for a small, expanded derivation
            value = named.values[name]
            shown = f" = {_entry(value, show)}" if value.is_number and value != definition else ""
        entry = brief(definition, show) if brief and not getattr(definition, "is_Rational", False) \
            else _entry(definition, show)
        lines.append(f"    {name} := {entry}{shown}")
    for name in view.gradients:
        if not _same(named.gradients[name], view.gradients[name]):
            lines += [f"  dL/d({name}) =", block(named.gradients[name], "      ", show, brief)]
    return lines + [""]


def _same(a, b) -> bool:
    a, b = np.asarray(a, dtype=object).reshape(-1), np.asarray(b, dtype=object).reshape(-1)
    return a.shape == b.shape and all(x is y or x == y for x, y in zip(a, b))


def buffers_section(d, show=str, w=None) -> list[str]:
    """The buffers the forward passes moved (training mode), as torch's state_dict holds them after."""
    w = w or words("en")
    passes = w["one_pass"] if d.backward_passes == 1 else w["passes"].format(count=d.backward_passes)
    lines = [w["text_buffers"].format(passes=passes)]  # the words (article included) are LaTeX's too
    for name, buffer in d.tensors.buffers.items():
        if any(a != b for a, b in zip(buffer.value.reshape(-1), buffer.updated.reshape(-1))):
            lines += [f"  {name} ({_shape(buffer.updated, w)}):", block(buffer.updated, "      ", show)]
    return lines


def _shape(array, w) -> str:
    """3 x 3 in English, 3×3 in Chinese (the word `times`); a 0-D array is a scalar."""
    return w["times"].join(str(n) for n in array.shape) if array.shape else w["text_scalar"]


def _label(word: str, array, w) -> str:
    """`input (3 x 3):`; in Chinese with full-width brackets and colon, `输入（3 x 3）：`."""
    shape = _shape(array, w)
    return f"{word}（{shape}）：" if w["lang"] == "zh" else f"{word} ({shape}):"


def to_text(view, lang: str = "en", full: bool = False) -> str:
    """The text; a network kept in names in brief (brief.py) unless `full` (derive --full)."""
    d, w = view.derivation, words(lang)
    colon = "：" if lang == "zh" else ": "  # after a Chinese word, the full-width colon
    text = text_printer()  # str(), memoised for this document (memo.py): shared subexpressions printed once
    show = text if d.expanded else plain_printer()  # a network kept in names has tens of thousands of sums
    # LeNet: 92.6 MB in full, a few hundred kB in brief; a 10x10 fully symbolic closed form: 1.2 MB in full
    brief = Brief(exact=d.expanded) if not full and (not d.expanded or too_long(view)) else None
    lines = []
    if view.title:
        lines += [view.title, "=" * columns(view.title)]
    lines.append(w["text_network"] + colon + " -> ".join(repr(layer) for layer in d.network))
    if d.loss_fn is not None:
        lines.append(f"{w['text_loss']}{colon}{d.loss_fn!r}")
    if brief:
        lines += w["text_brief"].split("\n")
    lines += ["", _label(w["text_input"], view.input, w), block(view.input, show=text, brief=brief)]
    for name, value in view.parameters.items():
        lines += [_label(f"{w['text_parameter']} {name}", value, w), block(value, show=text, brief=brief)]
    lines += ["", w["text_forward"] + colon.strip()]
    for label, value in each(view.forward, "print forward"):
        lines += [f"  {label} -> {_shape(value, w)}:", block(value, "      ", show, brief)]
    if d.tensors.buffers_change():
        lines += buffers_section(d, show, w)
    if view.target is not None:
        lines += [_label(w["text_target"], view.target, w), block(view.target, show=text, brief=brief)]
    # written out in its inputs, a loss is as long as its closed forms (a network's, in names, is a line or two)
    loss = brief(view.loss, text) if brief and brief.exact and not getattr(view.loss, "is_Rational", False) \
        else _entry(view.loss, text)
    lines += [f"{w['text_loss_value']} = {loss}", ""]
    if view.named is not None:
        lines += named_section(view, show, w, brief)
    elif not d.expanded:
        lines += w["text_kept"].split("\n") + [""]
    lines += [w["text_gradients"] + colon.strip()]
    for name, value in each(view.gradients.items(), "print gradients"):
        lines += [f"  dL/d({name}) ({_shape(value, w)}):", block(value, "      ", show, brief)]
    if d.optimizer is not None:
        lines += ["", w["text_step"].format(optimizer=repr(d.optimizer))]
        for name, value in view.updated.items():
            lines += [f"  {name}:", block(value, "      ", show, brief)]
    lines += training.text_lines(d, list(view.updated), lang, block)  # steps = n > 1: each step, rounded
    return "\n".join(lines) + "\n"
