"""LaTeX: derivation blocks (blocks.py) as a fragment (sections and equations) or a standalone document."""

from __future__ import annotations

import re

from .blocks import Grid, Heading, Math, Para, Table, pieces
from .texnames import SMALL

PREAMBLE = r"""\documentclass[11pt]{article}
\usepackage[T1]{fontenc}
\usepackage{lmodern}
\usepackage{amsmath,amssymb,bm}
\usepackage{graphicx,tikz}
\usepackage[margin=2cm]{geometry}
\newcommand{\cjkwith}[1]{\begin{CJK}{UTF8}{gbsn}#1\end{CJK}}
\newcommand{\cjkwithout}[1]{[?]}
\IfFileExists{CJKutf8.sty}{\usepackage{CJKutf8}\let\cjk\cjkwith}{\let\cjk\cjkwithout}
\allowdisplaybreaks
\setlength{\parindent}{0pt}
\setlength{\parskip}{0.4em}
\begin{document}
"""

#: The indicator 1[...] in every document: a double-struck I reads in amssymb, KaTeX and MathJax alike (amssymb's
#: \\mathbb has no digits, KaTeX's \\mathbb{1} looks like a plain 1); the ops write it so, nothing is replaced.
INDICATOR = r"\mathbb{I}"

_SECTION = {1: r"\section*{%s}", 2: r"\subsection*{%s}", 3: r"\subsubsection*{%s}"}


def render(blocks, cjk: bool = False) -> str:
    """The blocks as LaTeX (amsmath, amssymb, bm and tikz only), one block per paragraph.

    `cjk` wraps Chinese (any non-Latin) runs of headings in PREAMBLE's \\cjk, for pdflatex documents.
    """
    parts = [_render(block, cjk) for block in blocks]
    for k, block in enumerate(blocks):  # no page break after a lead-in line: only after an equation or a figure
        if isinstance(block, Para) and k + 1 < len(blocks) and isinstance(blocks[k + 1], Table):
            # a table (unbreakable anyway) and its lead-in in one box: its heading then stays with both
            parts[k] = "\\par\\noindent\\begin{minipage}{\\linewidth}\n" + parts[k]
            parts[k + 1] = parts[k + 1] + "\n\\end{minipage}\\par\n"
        elif isinstance(block, Para) and k + 1 < len(blocks) and isinstance(blocks[k + 1], (Para, Math, Grid)):
            parts[k] = parts[k].rstrip("\n") + "\\par\\nopagebreak\n"
        if isinstance(block, Grid):  # a figure and its caption on one page
            parts[k] = "\\par\\noindent\\begin{minipage}{\\linewidth}\n" + parts[k] + "\n\\end{minipage}\\par\n"
    # amsmath's bmatrix stops at 10 columns; a printed row vector may have up to 36 entries
    return "\\setcounter{MaxMatrixCols}{%d}\n" % SMALL + "\n".join(parts) + "\n"


def _render(block, cjk: bool = False) -> str:
    if isinstance(block, Heading):
        return _SECTION[block.level] % _escape(block.text, cjk)
    if isinstance(block, Para):
        return text(block.text) + "\n"
    if isinstance(block, Math):
        return "\\begin{equation*}\n" + block.latex + "\n\\end{equation*}"  # never shrunk: page.py folds wide lines
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
    # the layer (second) and the last column (a formula) wrap; the others are short
    columns = "l" + r"p{0.3\linewidth}" + "l" * (len(table.header) - 3) + r"p{0.3\linewidth}"
    lines = [r"\begin{center}", r"\small", r"\begin{tabular}{%s}" % columns, r"\hline",
             " & ".join(text(cell) for cell in table.header) + r" \\", r"\hline"]
    lines += [" & ".join(text(cell) for cell in row) + r" \\" for row in table.rows]
    lines += [r"\hline", r"\end{tabular}", r"\end{center}"]
    return "\n".join(lines)


def _grid(grid: Grid) -> str:
    """A TikZ grid: one unit square per cell, highlighted cells shaded, labels centred; the padding ring
    dashed with its fill label, each window outlined (inset a little more per window, so that
    overlapping windows stay apart)."""
    rows, cols = len(grid.cells), len(grid.cells[0])
    (ph, pw), windows = grid.pad, grid.windows
    x, y = ("1.4cm", "0.9cm") if any(grid.marks.values()) else ("1cm", "0.65cm")  # a note under a label needs room
    step = "xstep=%s,ystep=%s" % (x, y)
    lines = [r"\begin{center}", r"\begin{tikzpicture}[x=%s,y=%s,every node/.style={align=center}]" % (x, y)]
    for (r, c), _ in sorted(grid.marks.items()):
        lines.append(r"\fill[gray!35] (%d,%d) rectangle (%d,%d);" % (c, -r, c + 1, -r - 1))
    if ph or pw:  # the padding ring: cells outside the input, dashed, with what they read as
        lines.append(r"\draw[dashed,gray,%s] (%d,%d) grid (%d,%d);" % (step, -pw, ph, cols + pw, -rows - ph))
        for r in range(-ph, rows + ph):
            for c in range(-pw, cols + pw):
                if not (0 <= r < rows and 0 <= c < cols):
                    lines.append(r"\node[gray] at (%.1f,%.1f) {\small $%s$};" % (c + 0.5, -r - 0.5, grid.fill))
    lines.append(r"\draw[%s] (0,0) grid (%d,%d);" % (step, cols, -rows))
    for r, row in enumerate(grid.cells):
        for c, label in enumerate(row):
            note = grid.marks.get((r, c), "")
            shown = f"${label}$" + (r"\\[-2pt]{\scriptsize %s}" % text(note) if note else "")
            lines.append(r"\node at (%.1f,%.1f) {%s};" % (c + 0.5, -r - 0.5, shown))
    colours = ("blue", "red!80!black", "green!50!black", "orange!90!black")
    for k, (top, left, bottom, right) in enumerate(windows):
        inset = 0.06 + 0.05 * (k % 4)
        lines.append(r"\draw[very thick,%s] (%.2f,%.2f) rectangle (%.2f,%.2f);"
                     % (colours[k % len(colours)], left + inset, -top - inset, right - inset, -bottom + inset))
    lines += [r"\end{tikzpicture}", r"\end{center}"]
    if grid.caption:
        lines.append(text(grid.caption) + "\n")
    return "\n".join(lines)


def document(body: str) -> str:
    """`body` wrapped into a standalone document that compiles with `latexmk -pdf`."""
    return PREAMBLE + body + "\\end{document}\n"


_SPECIAL = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
            "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}


def _escape(text: str, cjk: bool = False) -> str:
    """User text (a title) made safe for LaTeX, in one pass; with `cjk`, non-Latin runs go into \\cjk{...}."""
    out = "".join(_SPECIAL.get(char, char) for char in text)
    return _NON_LATIN.sub(lambda run: r"\cjk{%s}" % run.group(0), out) if cjk else out


_NON_LATIN = re.compile(r"[^\x00-\u024f]+")
