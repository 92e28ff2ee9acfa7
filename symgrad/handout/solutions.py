"""Worked solutions: the step-by-step derivation pages, cut to what a handout question needs.

The derivation page (`symgrad.printing.page`) is laid out once and rendered per format
by the printer's own renderers. A question's prompt already shows its givens and its
network, so the page's Setup and Layers sections are left out, and only the gradients
the question asks for are derived (`wrt`). `shown` is the document's one set of general
rules already printed (page.build's `shown_rules`): each rule appears once per handout,
and `compact` leaves out back-references and repeats, so a question's solution takes about a page.
LaTeX subsections nest under a question's `\\section*`; Markdown headings move one
level down for the same nesting.
"""

from __future__ import annotations

import re

from ..printing import latex as tex
from ..printing import markdown as md
from ..printing.blocks import Heading, Para
from ..printing.latex import PREAMBLE
from ..printing.page import build
from ..printing.shapes import describe
from ..printing.words import words

_HEADING = re.compile(r"^(#{1,5}) ", re.MULTILINE)


def blocks(derivation, lang: str, wrt=(), shown: set | None = None, same_start: str = "") -> list:
    """The page's blocks without the sections the question's prompt already gives; with `same_start`,
    that line instead of layer 0's forward pass (an earlier question worked it out)."""
    w = words(lang)
    left_out = {w["setup"], w["layers"]}
    first = w["layer"].format(index=0, layer=describe(derivation.network.layers[0]))
    page = build(derivation, lang, None, wrt=list(wrt) or None, shown_rules=set() if shown is None else shown,
                 compact=True)
    kept, skipping, forward, replaced = [], False, False, False
    for block in page:
        if isinstance(block, Heading) and block.level <= 2:
            skipping, forward = block.text in left_out, block.text == w["forward"]
        elif isinstance(block, Heading) and forward:
            skipping = bool(same_start) and block.text == first
            if skipping and not replaced:
                kept.append(Para(same_start))
                replaced = True
        if not skipping:
            kept.append(block)
    return kept


def latex(derivation, lang: str, wrt=(), shown: set | None = None, same_start: str = "") -> str:
    return tex.render(blocks(derivation, lang, wrt, shown, same_start))


def markdown(derivation, lang: str, wrt=(), shown: set | None = None, same_start: str = "") -> str:
    return _HEADING.sub(r"#\1 ", md.render(blocks(derivation, lang, wrt, shown, same_start)))


def latex_packages() -> list[str]:
    """The \\usepackage lines the derivation printer's own documents load (tikz, bm, ...)."""
    return [line.strip() for line in PREAMBLE.splitlines() if line.strip().startswith(r"\usepackage")]
