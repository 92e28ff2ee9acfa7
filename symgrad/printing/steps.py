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
from .page import build as page_build
from .texnames import one_document
from . import training
from .words import WORDS


def build(d, lang: str = "en", title: str | None = None, wrt=None, shown_rules: set | None = None,
          compact: bool = False) -> list:
    """page.build's blocks, then for steps = n > 1 the training loop's section (printing/training.py)."""
    names = [name for name in (d.gradients if wrt is None else wrt) if name in d.tensors.parameters]
    with one_document():
        return page_build(d, lang, title, wrt, shown_rules=shown_rules, compact=compact) + training.blocks(d, lang, names)


def latex_body(d, lang: str = "en", title: str | None = None, shown_rules: set | None = None,
               compact: bool = False) -> str:
    """Sections and equations (amsmath, amssymb, bm, tikz), without preamble, for embedding.

    `shown_rules`: one set per document, so each general rule is printed once in it (page.build);
    `compact`: without back-references and repeats, as a handout's worked solution (page.build).
    """
    return latex.render(build(d, lang, title, shown_rules=shown_rules, compact=compact))


def markdown_body(d, lang: str = "en", title: str | None = None, shown_rules: set | None = None,
                  compact: bool = False) -> str:
    """The same derivation as Markdown with $$ math (KaTeX subset); `shown_rules`, `compact` as in latex_body."""
    return markdown.render(build(d, lang, title, shown_rules=shown_rules, compact=compact))


def latex_summary(d) -> str:
    """Math only (what Jupyter's text/latex view renders): every displayed equation, one aligned block."""
    lines = [block.latex for block in build(d) if isinstance(block, Math)]
    return "$$\\begin{gathered}\n" + " \\\\\n".join(lines) + "\n\\end{gathered}$$"


def to_latex(view, standalone: bool = False, lang: str = "en") -> str:
    """The CLI's `--format latex`: a fragment, or with `standalone` a whole document."""
    blocks = build(view.derivation, lang, title=view.title or None, wrt=list(view.gradients))
    if not standalone:
        return latex.render(blocks)
    if not blocks or not isinstance(blocks[0], Heading):
        blocks = [Heading(WORDS[lang]["title"], 1), *blocks]
    return latex.document(latex.render(blocks, cjk=True))


def to_markdown(view, lang: str = "en") -> str:
    """The CLI's `--format markdown`, under the view's title (or the default one)."""
    title = view.title or WORDS[lang]["title"]
    return markdown.render(build(view.derivation, lang, title=title, wrt=list(view.gradients)))
