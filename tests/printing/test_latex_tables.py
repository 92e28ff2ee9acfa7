"""A table's heading and lead-in stay on the page of the table (issue 13: the Chinese agreement table's heading
sat alone at a page foot). Compiled as `derive --out F.pdf` compiles, with the heading placed at every height
near a page foot, and read back from the PDF's text boxes."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from symgrad.handout import compile as tex
from symgrad.printing import latex, torchcode
from symgrad.printing.blocks import Para
from symgrad.printing.words import words

ROWS = [{"quantity": name, "max_abs_error": 0.0, "ok": True, "reason": ""}
        for name in ("output", "loss", "dL/d0.weight", "dL/dinput", "updated 0.weight")]
FILLERS = range(1, 41)  # lines of text before each table section: the heading lands at every height of a page


def _document(lang: str) -> str:
    """Sections of filler text, each followed by the agreement section (heading, lead-in, table, summary)."""
    from symgrad.cli.commands import _preamble

    head = _preamble(lang) or latex.PREAMBLE
    filler = "甲乙丙丁" * 8 if lang == "zh" else "Filler text for one line. " * 3
    body = []
    for n in FILLERS:
        body.append(latex.render([Para(f"{n}: " + filler) for _ in range(n)]))
        body.append(torchcode.agreement(ROWS, lang, "latex"))
    return head + "\n".join(body) + "\\end{document}\n"


def _lines(pdf) -> list[tuple[int, str]]:
    """(page, text) of each line, white space removed, in page order."""
    out = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    return [(page, re.sub(r"\s+", "", line)) for page, text in enumerate(out.split("\f"), 1)
            for line in text.splitlines() if line.strip()]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_tables_heading_and_lead_in_stay_with_it(lang, tmp_path):
    for tool in ("latexmk", "pdftotext"):
        assert shutil.which(tool), f"{tool} is needed (TeX Live and poppler-utils, as .ci/run installs)"
    source = tmp_path / "tables.tex"
    source.write_text(_document(lang), encoding="utf-8")
    result = subprocess.run(["latexmk", tex.engine(lang), "-interaction=nonstopmode", "-halt-on-error", source.name],
                            cwd=tmp_path, capture_output=True, timeout=tex.TIMEOUT)
    assert result.returncode == 0, tex.first_error(str(tmp_path / "tables.log"))
    w = words(lang)
    heading, first_row = re.sub(r"\s", "", w["check"]), "output0" + w["check_ok"]
    lines = _lines(tmp_path / "tables.pdf")
    headings = [k for k, (_, text) in enumerate(lines) if text == heading]
    assert len(headings) == len(FILLERS)
    feet = 0
    for k in headings:
        row = next(j for j in range(k, len(lines)) if lines[j][1].startswith(first_row))
        pages = {page for page, _ in lines[k:row + 1]}
        assert len(pages) == 1, f"{lang}: the heading on page {lines[k][0]}, its table on page {lines[row][0]}"
        feet += lines[k - 1][0] != lines[k][0]  # a heading moved to the next page, away from the text before it
    assert feet, "no heading fell near a page foot: the test placed none there"
