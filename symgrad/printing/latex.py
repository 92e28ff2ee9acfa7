"""LaTeX: the step-by-step derivation as a fragment (sections and equations) or a standalone document."""

from __future__ import annotations

from .blocks import Grid, Heading, Math, Para, Table, pieces

PREAMBLE = r"""\documentclass[11pt]{article}
\usepackage{amsmath,amssymb,bm}
\usepackage{tikz}
\usepackage[margin=2cm]{geometry}
\allowdisplaybreaks
\begin{document}
"""

_SECTION = {1: r"\section*{%s}", 2: r"\subsection*{%s}", 3: r"\subsubsection*{%s}"}


def render(blocks) -> str:
    """The blocks as LaTeX (amsmath, amssymb and tikz only), one block per paragraph."""
    return "\n".join(_render(block) for block in blocks) + "\n"


def _render(block) -> str:
    if isinstance(block, Heading):
        return _SECTION[block.level] % _escape(block.text)
    if isinstance(block, Para):
        return text(block.text) + "\n"
    if isinstance(block, Math):
        return "\\begin{equation*}\n" + block.latex + "\n\\end{equation*}"
    if isinstance(block, Table):
        return _table(block)
    if isinstance(block, Grid):
        return _grid(block)
    raise TypeError(f"unknown block {block!r}")


def text(prose: str) -> str:
    """Prose with its plain parts escaped, inline math kept and code set in typewriter."""
    out = []
    for kind, content in pieces(prose):
        if kind == "math":
            out.append(f"${content}$")
        elif kind == "code":
            out.append(r"\texttt{%s}" % _escape(content))
        else:
            out.append(_escape(content))
    return "".join(out)


def _table(table: Table) -> str:
    columns = "l" * len(table.header)
    lines = [r"\begin{center}", r"\begin{tabular}{%s}" % columns, r"\hline",
             " & ".join(text(cell) for cell in table.header) + r" \\", r"\hline"]
    lines += [" & ".join(text(cell) for cell in row) + r" \\" for row in table.rows]
    lines += [r"\hline", r"\end{tabular}", r"\end{center}"]
    return "\n".join(lines)


def _grid(grid: Grid) -> str:
    """A TikZ grid: one unit square per cell, highlighted cells shaded, labels centred."""
    rows, cols = len(grid.cells), len(grid.cells[0])
    lines = [r"\begin{center}", r"\begin{tikzpicture}[x=1.1cm,y=0.8cm]"]
    for (r, c), _ in sorted(grid.marks.items()):
        lines.append(r"\fill[gray!35] (%d,%d) rectangle (%d,%d);" % (c, -r, c + 1, -r - 1))
    lines.append(r"\draw (0,0) grid (%d,%d);" % (cols, -rows))
    for r, row in enumerate(grid.cells):
        for c, label in enumerate(row):
            note = grid.marks.get((r, c), "")
            shown = f"${label}$" + (r"\,{\scriptsize %s}" % _escape(note) if note else "")
            lines.append(r"\node at (%.1f,%.1f) {%s};" % (c + 0.5, -r - 0.5, shown))
    lines += [r"\end{tikzpicture}", r"\end{center}"]
    if grid.caption:
        lines.append(text(grid.caption) + "\n")
    return "\n".join(lines)


def document(body: str, lang: str = "en") -> str:
    """`body` wrapped into a standalone document that compiles with `latexmk -pdf` (en)."""
    return PREAMBLE + body + "\\end{document}\n"


def to_latex(view, standalone: bool = False) -> str:
    """The CLI's `--format latex`: a fragment, or with `standalone` a whole document."""
    from .steps import build

    blocks = build(view.derivation, title=view.title or None, wrt=list(view.gradients))
    if not standalone:
        return render(blocks)
    if not blocks or not isinstance(blocks[0], Heading):
        blocks = [Heading("symgrad derivation", 1), *blocks]
    return document(render(blocks))


_SPECIAL = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
            "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}


def _escape(text: str) -> str:
    """User text (a title) made safe for LaTeX, in one pass."""
    return "".join(_SPECIAL.get(char, char) for char in text)
