"""A handout Document as Markdown ($$ math, KaTeX subset) or as a standalone LaTeX document.

English LaTeX compiles with pdflatex; Chinese loads xeCJK (XeLaTeX) with the Fandol
fonts that Debian's texlive-lang-chinese ships, found by file name so no system font
configuration is needed. Page breaks are kept away from where a reader would trip:
a question's heading and a "Worked solution" line ask for room below them first
(`\\keepspace`, needspace's macro defined here, as texlive-latex-extra is not among
the packages .ci/run installs), and a box never splits.
"""

from __future__ import annotations

import re

from ..printing.latex import text  # prose: the derivation printer's escaping, one place
from ..printing.markdown import display as display_math
from ..printing.markdown import prose
from ..printing.texnames import width
from . import solutions
from .document import Box, Document, Heading, Math, NewPage, Row, Solution, Space, Strong, Table, Text

#: An answer-key line of side-by-side equations holds at most this many characters (texnames.width).
ROW_WIDTH = 64
#: A paragraph with this many code spans (a list of layers) is set ragged right.
CODE_RUN = 6
#: A table row longer than this (characters of its cells) is set in a tabularx whose last column wraps.
TABLE_WIDTH = 110

# --- Markdown ---------------------------------------------------------------


def to_markdown(doc: Document) -> str:
    shown = set(doc.rules_shown)  # one set per rendering: each general rule printed once in the document
    parts = [_markdown(block, doc.lang, shown) for block in doc.blocks]
    return "\n\n".join(part.rstrip("\n") for part in parts) + "\n"


def _markdown(block, lang: str, shown: set) -> str:
    if isinstance(block, Heading):
        return "#" * block.level + " " + block.text
    if isinstance(block, Text):
        return prose(block.text)  # its inline math as GitHub reads it (printing/markdown.py's named)
    if isinstance(block, Strong):
        return f"**{prose(block.text)}**"
    if isinstance(block, Math):
        return display_math(block.latex)  # one row per line (printing/markdown.py)
    if isinstance(block, Row):
        return "\n\n".join(_markdown(m, lang, shown).rstrip("\n") for m in block.equations)
    if isinstance(block, Table):
        rows = [block.header, tuple("---" for _ in block.header), *block.rows]
        return "\n".join("| " + " | ".join(prose(cell).replace("|", r"\|") for cell in row) + " |" for row in rows)
    if isinstance(block, Box):
        return "\n".join([f"> **{block.title}**", ">", *(f"> - {prose(item)}" for item in block.items)])
    if isinstance(block, Space):
        return f"*{block.label}*\n\n" + "\n\n".join(["&nbsp;"] * block.lines)
    if isinstance(block, Solution):
        return solutions.markdown(block.derivation, lang, block.wrt, shown, block.same_start)
    if isinstance(block, NewPage):
        return "---"
    raise TypeError(f"unknown block {block!r}")


# --- LaTeX ------------------------------------------------------------------

_CJK = r"""\usepackage{xeCJK}
\setCJKmainfont{FandolSong}[Extension=.otf, UprightFont=*-Regular, BoldFont=*-Bold]
\setCJKsansfont{FandolHei}[Extension=.otf, UprightFont=*-Regular, BoldFont=*-Bold]
\setCJKmonofont{FandolFang}[Extension=.otf, UprightFont=*-Regular]
"""

#: needspace's \Needspace under another name (break the page here unless #1 of room is left on it);
#: displays and the worked solutions' headings set tighter than article's, so a question takes about a page.
_LAYOUT = r"""\makeatletter
\newcommand{\keepspace}[1]{\par\penalty-100\begingroup\setlength{\dimen@}{#1}\dimen@ii\pagegoal
  \advance\dimen@ii-\pagetotal\ifdim\dimen@>\dimen@ii\ifdim\dimen@ii>\z@\vfil\fi\penalty-\@M\fi\endgroup}
\g@addto@macro\normalsize{\setlength\abovedisplayskip{2pt plus 2pt minus 1pt}%
  \setlength\belowdisplayskip{2pt plus 2pt minus 1pt}\setlength\abovedisplayshortskip{0pt plus 2pt}%
  \setlength\belowdisplayshortskip{1pt plus 2pt}}
\renewcommand\subsection{\@startsection{subsection}{2}{\z@}{-1.2ex plus -.5ex minus -.2ex}{0.4ex}%
  {\normalfont\large\bfseries}}
\renewcommand\subsubsection{\@startsection{subsubsection}{3}{\z@}{-1ex plus -.3ex minus -.2ex}{0.2ex}%
  {\normalfont\normalsize\bfseries}}
\makeatother"""

_OWN_PACKAGES = {"amsmath": r"\usepackage{amsmath}", "amssymb": r"\usepackage{amssymb}",
                 "geometry": r"\usepackage[margin=2cm]{geometry}", "tabularx": r"\usepackage{tabularx}"}
_NAMES = re.compile(r"\\usepackage(?:\[[^]]*\])?\{([^}]*)\}")


def preamble(lang: str) -> str:
    """The derivation printer's packages (so its solutions compile), then any of ours it lacks."""
    packages = solutions.latex_packages()
    loaded = {name.strip() for line in packages for name in _NAMES.match(line).group(1).split(",")}
    packages += [line for name, line in _OWN_PACKAGES.items() if name not in loaded]
    lines = [r"\documentclass[10pt]{article}", *packages]
    if lang == "zh":
        lines.append(_CJK.rstrip("\n"))
    lines.append(r"\providecommand{\cjk}[1]{#1}")  # the printer's pdflatex wrapper for Chinese runs; xeCJK needs none
    lines += [r"\allowdisplaybreaks", r"\setlength{\parindent}{0pt}", r"\setlength{\parskip}{0.15em}",
              r"\setlength{\emergencystretch}{3em}", r"\tolerance=2000", _LAYOUT]
    return "\n".join(lines) + "\n"


def to_latex(doc: Document) -> str:
    shown = set(doc.rules_shown)
    parts = [_latex(block, doc.lang, shown) for block in doc.blocks]
    for k, block in enumerate(doc.blocks[:-1]):  # a lead-in line stays on the page of what it introduces
        if isinstance(block, Text) and isinstance(doc.blocks[k + 1], (Text, Math, Row, Table)):
            parts[k] = parts[k].rstrip("\n") + "\\par\\nopagebreak\n"
    body = "\n".join(parts)
    return preamble(doc.lang) + "\\begin{document}\n" + body + "\n\\end{document}\n"


_SECTION = {1: "\\begin{center}\\LARGE %s\\end{center}\n", 2: "\\keepspace{10\\baselineskip}\\section*{%s}",
            3: "\\keepspace{5\\baselineskip}\\subsection*{%s}", 4: "\\subsubsection*{%s}"}


def _latex(block, lang: str, shown: set) -> str:
    if isinstance(block, Heading):
        return _SECTION[block.level] % text(block.text)
    if isinstance(block, Text):
        if block.text.count("`") >= 2 * CODE_RUN:  # a list of layer calls: no stretched justified spaces
            return "{\\raggedright " + text(block.text) + "\\par}\n"
        return text(block.text) + "\n"
    if isinstance(block, Strong):
        # a heading of what follows: no page break after it, not even at the section that may follow
        return ("\\keepspace{6\\baselineskip}\\textbf{" + text(block.text)
                + "}\\par\\nopagebreak\\csname @afterheading\\endcsname\n")
    if isinstance(block, Math):
        return "\\begin{equation*}\n" + block.latex + "\n\\end{equation*}"
    if isinstance(block, Row):
        return "\n".join(_latex(Math(r"\qquad ".join(m.latex for m in line)), lang, shown)
                         for line in _lines(block.equations))
    if isinstance(block, Table):
        rows = [" & ".join(text(cell) for cell in row) + r" \\" for row in (block.header, *block.rows)]
        if max(sum(len(cell) for cell in row) for row in (block.header, *block.rows)) <= TABLE_WIDTH:
            begin, end = "\\begin{tabular}{@{}" + "l" * len(block.header) + "@{}}", "\\end{tabular}"
        else:  # a long last column (a shape formula) wraps inside the line width
            begin = ("\\begin{tabularx}{\\linewidth}{@{}" + "l" * (len(block.header) - 1)
                     + ">{\\raggedright\\arraybackslash}X@{}}")
            end = "\\end{tabularx}"
        return "{\\footnotesize\n" + begin + "\n" + rows[0] + "\n\\hline\n" + "\n".join(rows[1:]) + "\n" + end + "}\n"
    if isinstance(block, Box):
        items = "\n".join(r"\item " + text(item) for item in block.items)
        return ("\\begin{center}\\fbox{\\begin{minipage}{0.95\\linewidth}\n\\textbf{" + text(block.title)
                + "}\n\\begin{itemize}\\setlength{\\itemsep}{1pt}\n" + items
                + "\n\\end{itemize}\n\\end{minipage}}\\end{center}\n")
    if isinstance(block, Space):
        rules = "\n".join(r"\vspace{0.8cm}{\color{black!35}\hrule}" for _ in range(block.lines))
        return (f"\\keepspace{{{0.8 * block.lines + 1:.1f}cm}}\\textit{{{text(block.label)}}}\\par\\nopagebreak\n"
                + rules + "\n\\vspace{0.5cm}\n")
    if isinstance(block, Solution):
        return solutions.latex(block.derivation, lang, block.wrt, shown, block.same_start)
    if isinstance(block, NewPage):
        return "\\clearpage"
    raise TypeError(f"unknown block {block!r}")


def _lines(equations) -> list[list[Math]]:
    """Equations grouped greedily into lines of at most ROW_WIDTH characters (a wide one on its own)."""
    lines: list[list[Math]] = []
    for m in equations:
        if lines and sum(width(e.latex) + 4 for e in lines[-1]) + width(m.latex) <= ROW_WIDTH:
            lines[-1].append(m)
        else:
            lines.append([m])
    return lines
