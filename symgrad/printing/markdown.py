"""Markdown with $$ ... $$ math in the KaTeX subset (amsmath only): GitHub, Jupyter, Zhihu, CSDN.

Display math puts one row per line (a line break after every row separator \\ or \\[4pt]):
GitHub's renderer breaks a $$ block whose line goes on after \\ (github/markup#1547).
tests/printing/test_katex.py renders every math span of the documents with KaTeX and MathJax.
"""

from __future__ import annotations

import re

from .blocks import Grid, Heading, Math, Para, Table, pieces

# A control sequence (a backslash and a letter run, or one other character): `\\` is one token, so
# the row separator is found even after an escaped character such as `\{`.
_TOKEN = re.compile(r"\\(?:[A-Za-z]+|.)", re.S)
_SPACING = re.compile(r"\[[^\]\n]*\]")


def render(blocks) -> str:
    return "\n".join(_render(block) for block in blocks)


def _render(block) -> str:
    if isinstance(block, Heading):
        return "#" * block.level + " " + block.text + "\n"
    if isinstance(block, Para):
        return text(block.text) + "\n"
    if isinstance(block, Math):
        return display(block.latex)
    if isinstance(block, Table):
        return _table(block.header, block.rows)
    if isinstance(block, Grid):
        return _grid(block)
    raise TypeError(f"unknown block {block!r}")


def display(latex: str) -> str:
    """A display equation as a $$ block, one row per line (the handout's Markdown uses it too)."""
    return "$$\n" + rows_per_line(latex) + "\n$$\n"


def rows_per_line(latex: str) -> str:
    """`latex` with a line break after each row separator (and its [spacing]) that more content follows."""
    out, start = [], 0
    for token in _TOKEN.finditer(latex):
        if token.group() != "\\\\" or token.start() < start:
            continue
        spacing = _SPACING.match(latex, token.end())
        end = spacing.end() if spacing else token.end()
        rest = latex[end:].lstrip(" \t")
        out.append(latex[start:end] + ("\n" if rest and not rest.startswith("\n") else ""))
        start = len(latex) - len(rest)
    return "".join(out) + latex[start:]


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
