"""The derivation as the page shows it: the document `symgrad derive --format markdown` prints, block by
block, as HTML (mdhtml.py), with each figure drawn as inline SVG (svg.py) and each worked line of an
entry marked for the hover.

A worked line `\\frac{\\partial L}{\\partial K_{22}} &= ...` is marked with KaTeX's \\htmlData
(data-entry="grad:0.weight@3", the key and flat index the page's grids use), on both sides of its
`&`: the page trusts \\htmlData and nothing else. A line is matched by its left side, the LaTeX name
the printer writes for that entry (texnames: parameter_symbol, index_text, tex of the engine's names),
so no op is special-cased; a line whose left side names no entry is left as it is.
"""

from __future__ import annotations

import re

import numpy as np

from ..printing import markdown, select
from ..printing.blocks import Grid, Math
from ..printing.common import squeeze
from ..printing.steps import build
from ..printing.texnames import SMALL, index_text, parameter_symbol, tex
from ..printing.words import WORDS
from .mdhtml import to_html
from .svg import grid_svg


def page(derivation, title: str | None, lang: str = "en") -> tuple[str, str]:
    """(the Markdown `derive --format markdown` prints, the page's HTML of the same blocks)."""
    view = select(derivation, None, title)
    blocks = build(view.derivation, lang, title=view.title or WORDS[lang]["title"], wrt=list(view.gradients))
    names = entry_names(view.derivation, list(view.gradients))
    parts = []
    for block in blocks:
        if isinstance(block, Grid):
            caption = to_html(markdown.text(block.caption)) if block.caption else ""
            parts.append(f'<figure class="grid-figure">{grid_svg(block)}<figcaption>{caption}</figcaption></figure>\n')
        elif isinstance(block, Math) and names:
            parts.append(to_html(markdown.display(mark(block.latex, names))))
        else:
            parts.append(to_html(markdown.render([block])))
    return markdown.render(blocks), "".join(parts)


def entry_names(d, wrt) -> dict[str, str]:
    """{LaTeX left side of an entry's worked line: "key@flat"} for the gradients, deltas and outputs."""
    names: dict[str, str] = {}
    t = d.tensors
    for full in wrt:
        values = t.gradient(full)
        if values is None or np.size(values) > SMALL:  # the printer writes lines per entry for small tensors only
            continue
        key = "grad:input" if full == "input" else f"grad:{full}"
        symbol = parameter_symbol(full, d.network)
        entries = squeeze(np.asarray(values, dtype=object))
        for flat, idx in enumerate(np.ndindex(*entries.shape)):
            names[r"\frac{\partial L}{\partial %s_{%s}}" % (symbol, index_text(k + 1 for k in idx))] = f"{key}@{flat}"
    if d.named:  # the deltas and outputs in the engine's names (delta^sigma_11, sigma_11), as worked lines write them
        for kind, pairs in (("delta", d.named.deltas), ("out", d.named.activations)):
            order = [name for name, _ in d.named.activations]
            for name, array in pairs:
                if name not in order or np.size(array) > SMALL:
                    continue
                for flat, symbol in enumerate(np.asarray(array, dtype=object).reshape(-1)):
                    names.setdefault(tex(symbol), f"{kind}:{order.index(name)}@{flat}")
    return names


_TOKEN = re.compile(r"\\begin\{[^}]*\}|\\end\{[^}]*\}|\\\\|\\(?:[A-Za-z]+|.)|[{}&]|[^\\{}&]+", re.S)
_SPACING = re.compile(r"^\[[^\]\n]*\]")


def mark(latex: str, names: dict[str, str]) -> str:
    """`latex` with the rows of a top-level aligned block (or a one-line `left = ...`) wrapped in
    \\htmlData{entry=KEY}{...} when their left side names an entry; a continuation row (empty left side,
    from folding) belongs to the row above."""
    begin, end = r"\begin{aligned}", r"\end{aligned}"
    if latex.startswith(begin) and latex.endswith(end):
        rows = _split(latex[len(begin):-len(end)], r"\\")
        shown, last = [], None
        for row in rows:
            spacing = _SPACING.match(row)
            lead, body = (row[:spacing.end()], row[spacing.end():]) if spacing else ("", row)
            cells = _split(body, "&")
            left = cells[0].strip()
            key = names.get(left) if left else last
            last = key
            if key is None or len(cells) > 2:
                shown.append(row)
                continue
            data = r"\htmlData{entry=%s}" % key
            marked = data + "{" + cells[0] + "}" if left else cells[0]
            if len(cells) == 2:
                marked += "&" + data + "{{}" + cells[1] + "}"
            shown.append(lead + marked)
        return begin + r"\\".join(shown) + end
    sides = _split(latex, "=")
    key = names.get(sides[0].strip()) if len(sides) > 1 else None
    return r"\htmlData{entry=%s}{%s}" % (key, latex) if key else latex


def _split(text: str, separator: str) -> list[str]:
    """`text` split at `separator` (\\\\, & or =) outside braces and environments."""
    parts, current, depth = [], [], 0
    for token in _TOKEN.findall(text):
        if token == "{" or token.startswith(r"\begin{"):
            depth += 1
        elif token == "}" or token.startswith(r"\end{"):
            depth -= 1
        if depth == 0 and token == separator:
            parts.append("".join(current))
            current = []
            continue
        if separator == "=" and depth == 0 and "=" in token and not token.startswith("\\"):
            head, _, tail = token.partition("=")
            parts.append("".join(current) + head)
            current = [tail]
            continue  # only the first '=' matters to the caller
        current.append(token)
    parts.append("".join(current))
    return parts
