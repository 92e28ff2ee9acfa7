"""Worked solutions: the step-by-step derivation printer, per format.

The step printer (`symgrad.printing.steps`) writes a derivation as sections without a
preamble: `\\subsection*` in LaTeX, which nests under a question's `\\section*`, and
`##` in Markdown, which this module moves one level down for the same nesting.
"""

from __future__ import annotations

import re

from ..printing.latex import PREAMBLE
from ..printing.steps import latex_body, markdown_body

_HEADING = re.compile(r"^(#{1,5}) ", re.MULTILINE)


def latex(derivation, lang: str) -> str:
    return latex_body(derivation, lang=lang, title=None)


def markdown(derivation, lang: str) -> str:
    return _HEADING.sub(r"#\1 ", markdown_body(derivation, lang, None))


def latex_packages() -> list[str]:
    """The \\usepackage lines the derivation printer's own documents load (tikz, bm, ...)."""
    return [line.strip() for line in PREAMBLE.splitlines() if line.strip().startswith(r"\usepackage")]
