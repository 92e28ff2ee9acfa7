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
from ..printing.blocks import Grid, Heading, Math, Para
from ..printing.fold import fold
from ..printing.latex import PREAMBLE
from ..printing.page import LINE_WIDTH, build
from ..printing.shapes import describe
from ..printing.words import words

_HEADING = re.compile(r"^(#{1,5}) ", re.MULTILINE)


def blocks(derivation, lang: str, wrt=(), shown: set | None = None, same_start: str = "") -> list:
    """The page's blocks without the sections the question's prompt already gives; with `same_start`,
    that line instead of layer 0's forward pass (an earlier question worked it out).

    What a one-page solution leaves out, and why a student still follows every step: the forward
    passes' general rules (the entry-by-entry lines write each output entry as its formula, then
    with the numbers in; a symbolic input keeps the rule's instance), the SGD rule (the summary
    page states it; the step's own line applies it), a figure the handout has shown already, and the
    lead-in "Entry by entry, with the numbers written in" after the solution's first such lines.
    """
    w = words(lang)
    shown = set() if shown is None else shown
    left_out = {w["setup"], w["layers"]}
    first = w["layer"].format(index=0, layer=describe(derivation.network.layers[0]))
    ops = [*derivation.network.layers, *([derivation.loss_fn] if derivation.loss_fn is not None else [])]
    shown |= {(op.type_name, "forward") for op in ops if "forward" in op.index_form}
    page = build(derivation, lang, None, wrt=list(wrt) or None, shown_rules=shown, compact=True)
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
    kept = [block for block in kept if not _known(block, derivation, shown)]
    worked = [k for k, block in enumerate(kept) if isinstance(block, Para) and block.text == w["worked"]]
    return [block for k, block in enumerate(kept) if k not in worked[1:]]  # said once: the lines' layout repeats


def _known(block, derivation, shown: set) -> bool:
    """A block the handout has printed already: the optimizer's rule when the summary page states it,
    a figure an earlier solution drew (the same cells, marks and caption); a drawn figure is added to `shown`."""
    optimizer = derivation.optimizer
    if isinstance(block, Math) and optimizer is not None and (optimizer.type_name, "step") in shown:
        return block.latex == fold(optimizer.index_form["step"], LINE_WIDTH)
    if isinstance(block, Grid):
        seen = ("figure", repr(block))
        known = seen in shown
        shown.add(seen)
        return known
    return False


def latex(derivation, lang: str, wrt=(), shown: set | None = None, same_start: str = "") -> str:
    return tex.render(blocks(derivation, lang, wrt, shown, same_start))


def markdown(derivation, lang: str, wrt=(), shown: set | None = None, same_start: str = "") -> str:
    return _HEADING.sub(r"#\1 ", md.render(blocks(derivation, lang, wrt, shown, same_start)))


def latex_packages() -> list[str]:
    """The \\usepackage lines the derivation printer's own documents load (tikz, bm, ...)."""
    return [line.strip() for line in PREAMBLE.splitlines() if line.strip().startswith(r"\usepackage")]
