"""Markdown with $$ ... $$ math in the KaTeX subset (amsmath only): GitHub, Jupyter, Zhihu, CSDN."""

from __future__ import annotations

from .blocks import Grid, Heading, Math, Para, Table, pieces


def render(blocks) -> str:
    return "\n".join(_render(block) for block in blocks)


def _render(block) -> str:
    if isinstance(block, Heading):
        return "#" * block.level + " " + block.text + "\n"
    if isinstance(block, Para):
        return text(block.text) + "\n"
    if isinstance(block, Math):
        return "$$\n" + block.latex + "\n$$\n"
    if isinstance(block, Table):
        return _table(block.header, block.rows)
    if isinstance(block, Grid):
        return _grid(block)
    raise TypeError(f"unknown block {block!r}")


def text(prose: str) -> str:
    """Prose as Markdown: inline math and code kept, Markdown's own markup characters escaped."""
    out = []
    for kind, content in pieces(prose):
        if kind == "math":
            out.append(f"${content}$")
        elif kind == "code":
            out.append(f"`{content}`")
        else:
            out.append("".join("\\" + c if c in "*_[]<>|#" else c for c in content))
    return "".join(out)


def _table(header, rows) -> str:
    lines = ["| " + " | ".join(text(c) for c in header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(text(c) for c in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def _grid(grid: Grid) -> str:
    """The grid as a table: highlighted cells in bold with a marker (GitHub cannot shade a cell)."""
    header = [""] + [str(c + 1) for c in range(len(grid.cells[0]))]
    rows = []
    for r, row in enumerate(grid.cells):
        cells = [f"**{r + 1}**"]
        for c, label in enumerate(row):
            if (r, c) in grid.marks:
                note = grid.marks[(r, c)]
                cells.append(f"**[ ${label}$ ]**" + (f" ({note})" if note else ""))
            else:
                cells.append(f"${label}$")
        rows.append(cells)
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines) + "\n\n" + text(grid.caption) + "\n"
