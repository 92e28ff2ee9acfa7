"""Writing handouts and sheets: the format follows the --out suffix (.md, .tex, .pdf).

Every target is checked before anything is built, every file is written atomically,
and PDFs are compiled before any of them is moved into place, so a failure leaves
no half-written set (an exercise sheet without its answer key).
"""

from __future__ import annotations

import os

from ..core.errors import OptionError
from ..core.output import check_target, write_atomic
from . import compile as tex
from .render import to_latex, to_markdown

SUFFIXES = (".md", ".tex", ".pdf")


def suffix(out: str, option: str = "--out") -> str:
    ext = os.path.splitext(out)[1].lower()
    if ext not in SUFFIXES:
        raise OptionError("output", option, f"{out}: the name must end in .md, .tex or .pdf (the format follows it)")
    return ext


def answers_path(out: str) -> str:
    """sheet.md -> sheet-answers.md: the answer key beside its sheet."""
    stem, ext = os.path.splitext(out)
    return f"{stem}-answers{ext}"


def check(outs: list[str], lang: str, option: str = "--out") -> None:
    """Before any work: suffixes known, directories exist, and TeX is there for a PDF."""
    for out in outs:
        ext = suffix(out, option)
        check_target(out, [], option)
        if ext == ".pdf":
            tex.require_tex(lang, option)


def write(pairs: list, option: str = "--out") -> None:
    """[(path, Document)]: render every document first, then write each atomically."""
    rendered = []
    for out, doc in pairs:
        ext = suffix(out, option)
        if ext == ".pdf":
            rendered.append((out, tex.to_pdf(to_latex(doc), doc.lang, option)))
        else:
            rendered.append((out, to_latex(doc) if ext == ".tex" else to_markdown(doc)))
    for out, content in rendered:
        write_atomic(out, content, option)
