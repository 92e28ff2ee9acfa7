"""A handout as a list of format-neutral blocks, so Markdown and LaTeX say the same thing.

Prose (`Text`, table cells) is plain text with inline math between `$...$` and code
between backticks; the renderers escape the plain parts and keep the rest. A
`Solution` holds a finished derivation: the step printer renders it per format, and
a document's general rules are printed once (`Document.rules_shown` are those its
summary page already states).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..printing.blocks import Heading, Math, Table  # the derivation printer's blocks, shared


@dataclass(frozen=True)
class Text:
    text: str


@dataclass(frozen=True)
class Strong:
    """A short bold line that introduces what follows (e.g. "Worked solution"): kept with it on the page."""

    text: str


@dataclass(frozen=True)
class Solution:
    """A worked solution: the step-by-step derivation of `derivation`, for the gradients `wrt` only.

    `same_start`, when given, replaces the forward pass of layer 0 (worked out in an earlier question
    with the same input and weights) by this one line.
    """

    derivation: object
    wrt: tuple[str, ...] = ()
    same_start: str = ""


@dataclass(frozen=True)
class Row:
    """Short equations side by side on one line in LaTeX (an answer key's line); one after another in Markdown."""

    equations: tuple[Math, ...]


@dataclass(frozen=True)
class Box:
    """A framed box with a title and its points (the "common pitfalls"): kept whole on one page."""

    title: str
    items: tuple[str, ...]


@dataclass(frozen=True)
class Space:
    """Room to write on an exercise sheet: `lines` ruled lines in LaTeX, a marked gap in Markdown."""

    label: str
    lines: int


@dataclass(frozen=True)
class NewPage:
    """Where the answer key starts: a page break in LaTeX, a rule in Markdown."""


Block = Heading | Text | Strong | Math | Table | Solution | Row | Box | Space | NewPage


@dataclass(frozen=True)
class Document:
    lang: str
    blocks: tuple[Block, ...]
    rules_shown: frozenset = frozenset()  # (op type, index-form key) stated before the first Solution
