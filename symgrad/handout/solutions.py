"""Worked solutions: the step-by-step derivation printer, per format, with a fallback.

The step printer (`symgrad.printing.steps`) writes a derivation as sections without a
preamble: `\\subsection*` in LaTeX, which nests under a question's `\\section*`, and
`##` in Markdown, which this module moves one level down for the same nesting. Were
the step printer missing, the quantities-as-equations fragment of `render` stands in.
"""

from __future__ import annotations

import re

_HEADING = re.compile(r"^(#{1,5}) ", re.MULTILINE)


def latex(derivation, lang: str) -> str:
    try:
        from ..printing.steps import latex_body
    except ImportError:
        from ..printing import render

        return render(derivation, "latex")
    return latex_body(derivation, lang=lang, title=None)


def markdown(derivation, lang: str) -> str:
    try:
        from ..printing.steps import markdown_body
    except ImportError:
        from ..printing import render

        text = render(derivation, "markdown")
        text = text.split("\n", 1)[1].lstrip("\n")  # drop its "# title" line: the question has a heading
    else:
        text = markdown_body(derivation, lang, None)
    return _HEADING.sub(r"#\1 ", text)


def latex_packages() -> list[str]:
    """The \\usepackage lines the derivation printer's own documents load (tikz, bm, ...)."""
    from ..printing import latex as printer

    preamble = getattr(printer, "PREAMBLE", "")
    return [line.strip() for line in preamble.splitlines() if line.strip().startswith(r"\usepackage")]
