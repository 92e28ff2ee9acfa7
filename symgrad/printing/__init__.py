"""Printers: they read a finished Derivation and never compute gradients."""

from ..core.errors import OptionError
from . import latex
from .common import select
from .jsonout import to_json
from .steps import to_latex, to_markdown
from .text import to_text
from .words import LANGUAGES

FORMATS = {"text": to_text, "json": to_json, "latex": to_latex, "markdown": to_markdown}

#: The last line of a standalone LaTeX document.
END_DOCUMENT = "\\end{document}\n"


def render(derivation, fmt: str = "text", wrt=None, title: str | None = None, standalone: bool = False,
           lang: str = "en", appendix: str = "", preamble: str | None = None, full: bool = False) -> str:
    """The derivation in `fmt`, its prose in `lang` (JSON has none).

    `appendix`: further sections already in `fmt` (the PyTorch check, which the layers above printing
    compute), placed after the derivation, inside a standalone document. `preamble`: a standalone LaTeX
    document's head up to and including \\begin{document}, instead of latex.PREAMBLE (pdflatex): a
    Chinese document needs XeLaTeX's xeCJK, which the CLI takes from the handout's preamble.
    """
    view = select(derivation, wrt, title)
    if fmt == "json":
        return to_json(view)
    if fmt == "text":
        return to_text(view, lang, full)  # a network kept in names in brief unless full (printing/brief.py)
    if fmt == "markdown":
        return to_markdown(view, lang) + ("\n" + appendix if appendix else "")
    if standalone and lang != "en" and preamble is None:  # pdflatex's fonts have no Chinese prose
        raise OptionError("render", "preamble", "a Chinese standalone document compiles with XeLaTeX: pass "
                                                "symgrad.handout.render.preamble('zh') + '\\begin{document}\\n'")
    text = to_latex(view, standalone=standalone, lang=lang)
    if not standalone:
        return text + appendix
    body = text.removeprefix(latex.PREAMBLE).removesuffix(END_DOCUMENT)
    return (preamble or latex.PREAMBLE) + body + appendix + END_DOCUMENT


__all__ = ["FORMATS", "LANGUAGES", "render", "select"]
