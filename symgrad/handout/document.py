"""A handout as a list of format-neutral blocks, so Markdown and LaTeX say the same thing.

Prose (`Text`, table cells) is plain text with inline math between `$...$` and code
between backticks; the renderers escape the plain parts and keep the rest. A
`Solution` holds a finished derivation: the step printer renders it per format.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..printing.blocks import Heading, Math, Table  # the derivation printer's blocks, shared

@dataclass(frozen=True)
class Text:
    text: str


@dataclass(frozen=True)
class Strong:
    """A short bold line that introduces what follows (e.g. "Worked solution")."""

    text: str


@dataclass(frozen=True)
class Solution:
    """A worked solution: the step-by-step derivation of `derivation`."""

    derivation: object


@dataclass(frozen=True)
class NewPage:
    """Where the answer key starts: a page break in LaTeX, a rule in Markdown."""


Block = Heading | Text | Strong | Math | Table | Solution | NewPage


@dataclass(frozen=True)
class Document:
    lang: str
    blocks: tuple[Block, ...]
