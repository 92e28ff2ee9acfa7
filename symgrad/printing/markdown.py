r"""Markdown with $$ ... $$ math in the KaTeX subset (amsmath only): GitHub, Jupyter, Zhihu, CSDN.

GitHub reads its Markdown backslash escapes before the math renderer sees a formula:
- display math puts one row per line (a line break after every row separator \\ or \\[4pt]),
  since a $$ block whose line goes on after \\ breaks there (github/markup#1547);
- a command named by one punctuation character (\{ \} \, \; \! \|) loses its backslash there
  (github/markup#1577, #1746: a set's braces vanish, \left\{ fails, \, prints a comma). `named`
  writes them by their letter names, which KaTeX and MathJax read the same everywhere, in display
  and inline math alike (not inside \text{...}, where KaTeX knows neither name).
`math` is how a display formula appears in the Markdown, for tests that look for one in a page.
tests/printing/test_katex.py renders every math span of the documents with KaTeX and MathJax.
"""

from __future__ import annotations

import re

from .blocks import Grid, Heading, Math, Para, Table, pieces

# A control sequence (a backslash and a letter run, or one other character): `\\` is one token, so
# the row separator is found even after an escaped character such as `\{`.
_TOKEN = re.compile(r"\\(?:[A-Za-z]+|.)", re.S)
_SPACING = re.compile(r"\[[^\]\n]*\]")
#: Commands whose argument is set in text mode.
_TEXT_MODE = frozenset({"\\text", "\\textrm", "\\textbf", "\\textit", "\\textsf", "\\texttt", "\\textup",
                        "\\textnormal", "\\textmd", "\\mbox", "\\hbox"})
_NAMED = {"\\{": "\\lbrace", "\\}": "\\rbrace", "\\,": "\\thinspace", "\\;": "\\mkern5mu", "\\:": "\\mkern4mu",
          "\\>": "\\mkern4mu", "\\!": "\\negthinspace", "\\|": "\\Vert"}


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
    return "$$\n" + math(latex) + "\n$$\n"


def math(latex: str) -> str:
    """A display formula as the Markdown writes it: one row per line, punctuation commands by name."""
    return rows_per_line(named(latex))


def named(latex: str) -> str:
    """`latex` with each one-punctuation-character command GitHub would unescape written by its name.

    Inside a text-mode argument (\\text{...}, \\mbox{...}) they stay as written: KaTeX has no \\lbrace
    and refuses \\mkern there."""
    out, start, text_until = [], 0, -1
    for token in _TOKEN.finditer(latex):
        if token.start() < text_until:
            continue
        if token.group() in _TEXT_MODE:
            text_until = _group_end(latex, token.end())
            continue
        name = _NAMED.get(token.group())
        if name is None:
            continue
        after = latex[token.end():token.end() + 1]
        space = " " if after.isalnum() or name.startswith("\\mkern") and after not in ("", " ") else ""
        out.append(latex[start:token.start()] + name + space)
        start = token.end()
    return "".join(out) + latex[start:]


def _group_end(latex: str, at: int) -> int:
    """Where the brace group that starts at `at` (after spaces) ends; `at` when none starts there."""
    k = at
    while k < len(latex) and latex[k] == " ":
        k += 1
    if k >= len(latex) or latex[k] != "{":
        return at
    depth = 0
    while k < len(latex):
        if latex[k] == "\\":
            k += 2
            continue
        depth += {"{": 1, "}": -1}.get(latex[k], 0)
        k += 1
        if depth == 0:
            return k
    return k


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
            out.append(f"${named(content)}$")
        elif kind == "code":
            out.append(f"`{content}`")
        else:
            out.append("".join("\\" + c if c in "*_[]<>|#" else c for c in content))
    return "".join(out)


def prose(markdown: str) -> str:
    """Markdown prose written by hand (the handout's), kept as it is but for its inline math: by name."""
    return "".join(f"${named(content)}$" if kind == "math" else f"`{content}`" if kind == "code" else content
                   for kind, content in pieces(markdown))


def _table(header, rows) -> str:
    lines = ["| " + " | ".join(text(c) for c in header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(text(c) for c in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def _grid(grid: Grid) -> str:
    """The grid as a table: highlighted cells in bold with a marker (GitHub cannot shade a cell)."""
    (ph, pw), cols = grid.pad, len(grid.cells[0])
    header = [""] + [str(c + 1) for c in range(-pw, cols + pw)]  # the padding ring's rows and columns: 0, -1, ...
    ring = [f"*${named(grid.fill)}$*"]  # a padding cell: what it reads as (-inf for max pooling, 0 for average)
    rows = [[f"*{r + 1}*"] + ring * (cols + 2 * pw) for r in range(-ph, 0)]
    for r, row in enumerate(grid.cells):
        cells = [f"**{r + 1}**"] + ring * pw
        for c, label in enumerate(row):
            if (r, c) in grid.marks:
                note = grid.marks[(r, c)]
                cells.append(f"**[ ${named(label)}$ ]**" + (f" ({note})" if note else ""))
            else:
                cells.append(f"${named(label)}$")
        rows.append(cells + ring * pw)
    rows += [[f"*{r + 1}*"] + ring * (cols + 2 * pw) for r in range(len(grid.cells), len(grid.cells) + ph)]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines) + "\n\n" + text(grid.caption) + "\n"
