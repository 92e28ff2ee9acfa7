"""The step-by-step derivation in a format: laid out once (page.py), rendered by latex.py or markdown.py.

This module joins building and rendering, so neither side imports the other:
`latex_body` and `markdown_body` are the stable entry points other documents (the
handout) embed; `to_latex` and `to_markdown` are the CLI's `--format latex` and
`--format markdown` of a printer view (common.select); `latex_summary` is Jupyter's
math-only view.
"""

from __future__ import annotations

from . import latex, markdown
from .blocks import Heading, Math
from .page import build
from .words import WORDS


def latex_body(d, lang: str = "en", title: str | None = None) -> str:
    """Sections and equations (amsmath, amssymb, bm, tikz), without preamble, for embedding."""
    return latex.render(build(d, lang, title))


def markdown_body(d, lang: str = "en", title: str | None = None) -> str:
    """The same derivation as Markdown with $$ math (KaTeX subset)."""
    return markdown.render(build(d, lang, title))


def latex_summary(d) -> str:
    """Math only (what Jupyter's text/latex view renders): every displayed equation, one aligned block."""
    lines = [block.latex for block in build(d) if isinstance(block, Math)]
    return "$$\\begin{gathered}\n" + " \\\\\n".join(lines) + "\n\\end{gathered}$$"


def to_latex(view, standalone: bool = False) -> str:
    """The CLI's `--format latex`: a fragment, or with `standalone` a whole document."""
    blocks = build(view.derivation, title=view.title or None, wrt=list(view.gradients))
    if not standalone:
        return latex.render(blocks)
    if not blocks or not isinstance(blocks[0], Heading):
        blocks = [Heading(WORDS["en"]["title"], 1), *blocks]
    return latex.document(latex.render(blocks, cjk=True))


def to_markdown(view) -> str:
    """The CLI's `--format markdown`, under the view's title (or the default one)."""
    title = view.title or WORDS["en"]["title"]
    return markdown.render(build(view.derivation, title=title, wrt=list(view.gradients)))
