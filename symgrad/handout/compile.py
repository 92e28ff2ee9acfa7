"""LaTeX to PDF with latexmk: in a temporary directory, the PDF moved into place atomically.

English uses pdflatex (`latexmk -pdf`), Chinese XeLaTeX (`latexmk -xelatex`, for
xeCJK). SOURCE_DATE_EPOCH fixes the dates TeX writes into the PDF, so the same source
gives the same file. On a LaTeX error the temporary directory is kept and the one-line
message names its log.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile

from ..core.errors import OptionError

INSTALL = "apt-get install texlive-latex-base texlive-latex-recommended texlive-pictures lmodern latexmk"
INSTALL_ZH = INSTALL + " texlive-xetex texlive-lang-chinese"
TIMEOUT = 600  # seconds for one document; a healthy handout takes a few


def engine(lang: str) -> str:
    return "-xelatex" if lang == "zh" else "-pdf"


def require_tex(lang: str, option: str = "--out") -> None:
    """latexmk (and XeLaTeX for Chinese) must be installed; say how to install them if not."""
    needed = ["latexmk", "xelatex"] if lang == "zh" else ["latexmk", "pdflatex"]
    missing = [tool for tool in needed if shutil.which(tool) is None]
    if missing:
        command = INSTALL_ZH if lang == "zh" else INSTALL
        raise OptionError("output", option, f"writing a PDF needs {' and '.join(missing)} (TeX Live); "
                                            f"install it with: {command}")


def to_pdf(tex: str, lang: str, option: str = "--out") -> bytes:
    """Compile `tex` and return the PDF's bytes; a LaTeX error is an OptionError naming the log."""
    require_tex(lang, option)
    work = tempfile.mkdtemp(prefix="symgrad-latex-")
    source = os.path.join(work, "document.tex")
    with open(source, "w", encoding="utf-8", newline="\n") as handle:
        handle.write(tex)
    env = dict(os.environ, SOURCE_DATE_EPOCH="0", FORCE_SOURCE_DATE="1")
    command = ["latexmk", engine(lang), "-norc", "-interaction=nonstopmode", "-halt-on-error", "-file-line-error",
               "document.tex"]
    try:
        result = subprocess.run(command, cwd=work, env=env, stdin=subprocess.DEVNULL, capture_output=True,
                                timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        raise OptionError("output", option, f"LaTeX ran longer than {TIMEOUT} s; see {work}") from None
    pdf = os.path.join(work, "document.pdf")
    if result.returncode != 0 or not os.path.exists(pdf):
        log = os.path.join(work, "document.log")
        raise OptionError("output", option, f"LaTeX failed ({first_error(log)}); see {log}")
    with open(pdf, "rb") as handle:
        data = handle.read()
    shutil.rmtree(work, ignore_errors=True)
    return data


def first_error(log: str) -> str:
    """The first error line of a TeX log ("document.tex:12: Undefined control sequence")."""
    try:
        with open(log, encoding="utf-8", errors="replace") as handle:
            for line in handle:
                if re.match(r"^(!|.*:\d+: )", line):
                    return line.strip()
    except OSError:
        return "no log written"
    return "no error line in the log"

