"""The pieces a derivation document is made of, independent of the output format.

`page.build` lays a derivation out as a list of these blocks once; latex.py and
markdown.py each render the same list (steps.py joins the two), so both formats
always say the same thing.

Prose (`Para.text`, `Table` cells) is plain text with inline math between `$...$`
and code between backticks; renderers escape the plain parts and keep the rest.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Heading:
    text: str  # plain text, escaped by the renderer (user titles may hold anything)
    level: int = 2  # 1 = document title, 2 = section, 3 = subsection


@dataclass(frozen=True)
class Para:
    text: str


@dataclass(frozen=True)
class Math:
    """One displayed equation (amsmath only, so KaTeX renders it too)."""

    latex: str


@dataclass(frozen=True)
class Table:
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class Grid:
    """A grid of cells (LaTeX math labels) with some cells highlighted, e.g. the taps of dL/dK_ab.

    `marks` maps a highlighted (row, column) to a short note shown in the cell ("" for none; prose,
    so inline math between $...$). `pad` rows and columns of padding ring the cells, each labelled
    `fill` (-\\infty for max pooling, 0 for average pooling); `windows` are outlined, each as
    (top, left, bottom, right) in cell coordinates (0-based, bottom and right exclusive; negative or
    beyond the cells inside the padding).
    """

    cells: tuple[tuple[str, ...], ...]
    marks: dict[tuple[int, int], str] = field(default_factory=dict)
    caption: str = ""
    pad: tuple[int, int] = (0, 0)
    fill: str = ""
    windows: tuple[tuple[int, int, int, int], ...] = ()


Block = Heading | Para | Math | Table | Grid

_PIECES = re.compile(r"(\$[^$]*\$|`[^`]*`)")


def pieces(text: str) -> list[tuple[str, str]]:
    """Split prose into ("text" | "math" | "code", content) pieces."""
    out = []
    for part in _PIECES.split(text):
        if not part:
            continue
        if part.startswith("$") and part.endswith("$") and len(part) > 1:
            out.append(("math", part[1:-1]))
        elif part.startswith("`") and part.endswith("`") and len(part) > 1:
            out.append(("code", part[1:-1]))
        else:
            out.append(("text", part))
    return out
