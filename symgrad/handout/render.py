"""A handout Document as Markdown ($$ math, KaTeX subset) or as a standalone LaTeX document.

English LaTeX compiles with pdflatex; Chinese loads xeCJK (XeLaTeX) with the Fandol
fonts that Debian's texlive-lang-chinese ships, found by file name so no system font
configuration is needed.
"""

from __future__ import annotations

import re

from ..printing.latex import text  # prose: the derivation printer's escaping, one place
from . import solutions
from .document import Document, Heading, Math, NewPage, Solution, Strong, Table, Text

# --- Markdown ---------------------------------------------------------------


def to_markdown(doc: Document) -> str:
    parts = [_markdown(block, doc.lang) for block in doc.blocks]
    return "\n\n".join(part.rstrip("\n") for part in parts) + "\n"


def _markdown(block, lang: str) -> str:
    if isinstance(block, Heading):
        return "#" * block.level + " " + block.text
    if isinstance(block, Text):
        return block.text
    if isinstance(block, Strong):
        return f"**{block.text}**"
    if isinstance(block, Math):
        return "$$\n" + block.latex + "\n$$"
    if isinstance(block, Table):
        rows = [block.header, tuple("---" for _ in block.header), *block.rows]
        return "\n".join("| " + " | ".join(cell.replace("|", r"\|") for cell in row) + " |" for row in rows)
    if isinstance(block, Solution):
        return solutions.markdown(block.derivation, lang)
    if isinstance(block, NewPage):
        return "---"
    raise TypeError(f"unknown block {block!r}")


# --- LaTeX ------------------------------------------------------------------

_CJK = r"""\usepackage{xeCJK}
\setCJKmainfont{FandolSong}[Extension=.otf, UprightFont=*-Regular, BoldFont=*-Bold]
\setCJKsansfont{FandolHei}[Extension=.otf, UprightFont=*-Regular, BoldFont=*-Bold]
\setCJKmonofont{FandolFang}[Extension=.otf, UprightFont=*-Regular]
"""

_OWN_PACKAGES = {"amsmath": r"\usepackage{amsmath}", "amssymb": r"\usepackage{amssymb}",
                 "geometry": r"\usepackage[margin=2cm]{geometry}"}
_NAMES = re.compile(r"\\usepackage(?:\[[^]]*\])?\{([^}]*)\}")


def preamble(lang: str) -> str:
    """The derivation printer's packages (so its solutions compile), then any of ours it lacks."""
    packages = solutions.latex_packages()
    loaded = {name.strip() for line in packages for name in _NAMES.match(line).group(1).split(",")}
    packages += [line for name, line in _OWN_PACKAGES.items() if name not in loaded]
    lines = [r"\documentclass[11pt]{article}", *packages]
    if lang == "zh":
        lines.append(_CJK.rstrip("\n"))
    lines.append(r"\providecommand{\cjk}[1]{#1}")  # the printer's pdflatex wrapper for Chinese runs; xeCJK needs none
    lines += [r"\allowdisplaybreaks", r"\setlength{\parindent}{0pt}", r"\setlength{\parskip}{0.5em}"]
    return "\n".join(lines) + "\n"


def to_latex(doc: Document) -> str:
    body = "\n".join(_latex(block, doc.lang) for block in doc.blocks)
    return preamble(doc.lang) + "\\begin{document}\n" + body + "\n\\end{document}\n"


_SECTION = {1: "\\begin{center}\\LARGE %s\\end{center}\n", 2: "\\section*{%s}", 3: "\\subsection*{%s}",
            4: "\\subsubsection*{%s}"}


def _latex(block, lang: str) -> str:
    if isinstance(block, Heading):
        return _SECTION[block.level] % text(block.text)
    if isinstance(block, Text):
        return text(block.text) + "\n"
    if isinstance(block, Strong):
        return r"\textbf{" + text(block.text) + "}\n"
    if isinstance(block, Math):
        return "\\begin{equation*}\n" + block.latex + "\n\\end{equation*}"
    if isinstance(block, Table):
        columns = "l" * len(block.header)
        rows = [" & ".join(text(cell) for cell in row) + r" \\" for row in (block.header, *block.rows)]
        return ("{\\small\n\\begin{tabular}{" + columns + "}\n" + rows[0] + "\n\\hline\n" + "\n".join(rows[1:])
                + "\n\\end{tabular}}\n")
    if isinstance(block, Solution):
        return solutions.latex(block.derivation, lang)
    if isinstance(block, NewPage):
        return "\\clearpage"
    raise TypeError(f"unknown block {block!r}")


