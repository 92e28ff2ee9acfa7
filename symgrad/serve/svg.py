"""A derivation's figure (printing/blocks.Grid) as inline SVG for the page, from the same cell data the
PDF's TikZ grid draws (printing/latex.py): the cells with their labels, the marked cells shaded (with
their notes), the padding ring dashed with what it reads as, and each window outlined.

The Grid comes from the op's own `figure()` declaration (page.picture), so nothing here knows an op.
Labels are LaTeX: they are shown as plain text (a subscript as a lowered tspan, \\infty as the sign),
every character XML-escaped; the caption is prose and goes under the figure as the page's other text.
"""

from __future__ import annotations

import re
from xml.sax.saxutils import escape, quoteattr

from ..printing.blocks import Grid

CELL_W, CELL_H = 46, 32  # px; a cell with a note is taller and wider
NOTE_W, NOTE_H = 58, 44
#: The outline colours of the windows, in turn (latex.py's blue, red, green, orange), and each one's inset.
WINDOW_COLOURS = ("#2f5fb3", "#c0392b", "#2e7d32", "#e67e00")
MARK_FILL = "#ffd27a"
PAD_FILL = "#f1f2f5"

_COMMAND = re.compile(r"\\([A-Za-z]+|.)")
_SYMBOLS = {"infty": "∞", "cdot": "·", "times": "×", "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ",
            "sigma": "σ", "mu": "μ", "lambda": "λ", "eta": "η", "theta": "θ", "pi": "π", "tau": "τ", "epsilon": "ε",
            "varepsilon": "ε", "omega": "ω", "phi": "φ", "rho": "ρ", "hat": "", "tilde": "", "bar": "",
            "left": "", "right": "", "mathrm": "", "operatorname": "", "text": "", "thinspace": " ", ",": " ",
            ";": " ", "!": "", "quad": " ", "{": "{", "}": "}"}


def grid_svg(grid: Grid) -> str:
    """The figure as an <svg> element (a string of well-formed XML), with a class per part for the tests
    and the stylesheet: rect.cell (one per input cell), rect.mark, rect.pad, rect.window."""
    rows, cols = len(grid.cells), len(grid.cells[0]) if grid.cells else 0
    ph, pw = grid.pad
    noted = any(grid.marks.values())
    cw, ch = (NOTE_W, NOTE_H) if noted else (CELL_W, CELL_H)
    margin, left_margin, top_margin = 6, 22, 18  # room for the row and column numbers (1-based; 0, -1 in the ring)
    width, height = (cols + 2 * pw) * cw + margin + left_margin, (rows + 2 * ph) * ch + margin + top_margin

    def x(c: float) -> float:
        return left_margin + (c + pw) * cw

    def y(r: float) -> float:
        return top_margin + (r + ph) * ch

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="figure" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" role="img">']
    for r in range(-ph, rows + ph):
        out.append(_text(left_margin / 2, y(r) + ch / 2, str(r + 1), "index", "#7a818d", size=11))
    for c in range(-pw, cols + pw):
        out.append(_text(x(c) + cw / 2, top_margin / 2, str(c + 1), "index", "#7a818d", size=11))
    for r in range(-ph, rows + ph):  # the padding ring: what a cell outside the input reads as
        for c in range(-pw, cols + pw):
            if 0 <= r < rows and 0 <= c < cols:
                continue
            out.append(f'<rect class="pad" x="{x(c)}" y="{y(r)}" width="{cw}" height="{ch}" fill="{PAD_FILL}" '
                       f'stroke="#9aa0ab" stroke-dasharray="3 3"/>')
            out.append(_text(x(c) + cw / 2, y(r) + ch / 2, grid.fill, "pad-label", "#7a818d"))
    for r, row in enumerate(grid.cells):
        for c, label in enumerate(row):
            marked = (r, c) in grid.marks
            out.append(f'<rect class="cell" data-r="{r}" data-c="{c}" x="{x(c)}" y="{y(r)}" width="{cw}" '
                       f'height="{ch}" fill="{MARK_FILL if marked else "#ffffff"}" stroke="#5b6475"/>')
            if marked:  # drawn again on top, so that the test and the stylesheet can find the marks
                out.append(f'<rect class="mark" data-r="{r}" data-c="{c}" x="{x(c)}" y="{y(r)}" width="{cw}" '
                           f'height="{ch}" fill="none" stroke="#b8860b" stroke-width="2"/>')
            note = grid.marks.get((r, c), "")
            if note:
                out.append(_text(x(c) + cw / 2, y(r) + ch * 0.38, label, "label", "#1d2330"))
                out.append(_text(x(c) + cw / 2, y(r) + ch * 0.75, _prose(note), "note", "#5b6475", size=10))
            else:
                out.append(_text(x(c) + cw / 2, y(r) + ch / 2, label, "label", "#1d2330"))
    for k, (top, left, bottom, right) in enumerate(grid.windows):
        inset = 2.5 + 2.5 * (k % 4)
        out.append(f'<rect class="window" x="{x(left) + inset}" y="{y(top) + inset}" '
                   f'width="{max((right - left) * cw - 2 * inset, 1)}" height="{max((bottom - top) * ch - 2 * inset, 1)}" '
                   f'fill="none" stroke="{WINDOW_COLOURS[k % len(WINDOW_COLOURS)]}" stroke-width="2.5"/>')
    out.append("</svg>")
    return "".join(out)


def _text(cx: float, cy: float, latex: str, kind: str, colour: str, size: int = 13) -> str:
    """A centred label; `latex`'s subscripts as lowered, smaller tspans; every character escaped."""
    parts = []
    for piece, sub in _pieces(latex):
        if sub:
            parts.append(f'<tspan baseline-shift="sub" font-size="{size - 3}">{escape(piece)}</tspan>')
        else:
            parts.append(escape(piece))
    return (f'<text class={quoteattr(kind)} x="{cx}" y="{cy}" text-anchor="middle" dominant-baseline="central" '
            f'font-size="{size}" fill="{colour}">{"".join(parts)}</text>')


def _plain(latex: str) -> str:
    """LaTeX as readable text: known commands as their signs, other commands by name, braces dropped."""
    text = _COMMAND.sub(lambda m: _SYMBOLS.get(m.group(1), m.group(1)), latex)
    text = text.replace("{", "").replace("}", "").replace("-", "−")
    return re.sub(r"\s+", " ", text).strip()


def _pieces(latex: str) -> list[tuple[str, bool]]:
    """[(text, is a subscript)]: `x_{11}` -> [("x", False), ("11", True)]; superscripts stay inline (^)."""
    out, k, plain = [], 0, []
    while k < len(latex):
        if latex[k] == "_":
            group, k = _group(latex, k + 1)
            if plain:
                out.append((_plain("".join(plain)), False))
                plain = []
            out.append((_plain(group), True))
        else:
            plain.append(latex[k])
            k += 1
    if plain:
        out.append((_plain("".join(plain)), False))
    return [(text, sub) for text, sub in out if text]


def _group(latex: str, k: int) -> tuple[str, int]:
    """The argument starting at k: a braced group (nested braces kept inside) or one character."""
    if k >= len(latex):
        return "", k
    if latex[k] != "{":
        return latex[k], k + 1
    depth, start = 0, k
    while k < len(latex):
        depth += {"{": 1, "}": -1}.get(latex[k], 0)
        k += 1
        if depth == 0:
            break
    return latex[start + 1:k - 1], k


def _prose(text: str) -> str:
    """A mark's note (prose with $math$) as LaTeX-ish text for _text: the dollar signs dropped."""
    return text.replace("$", "")
