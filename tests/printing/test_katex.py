"""Every math span of symgrad's Markdown renders in KaTeX and MathJax, as Markdown viewers show it.

The documents: `derive --format markdown` of every bundled example, the English and
Chinese handouts, exercise sheets and keys (en, zh, three seeds), and the Markdown in
docs/ and README.md. Each test collects the document's spans (inline $...$, display
$$...$$; code spans and fenced code left out) and renders them all in one node process
(tests/support/js/check_math.js): KaTeX's renderToString with throwOnError (displayMode
for $$), and MathJax 3's TeX input with no merror node. Node and the npm packages pinned
in tests/support/js/package.json are installed by .ci/run; without them these tests fail.

Besides rendering, the spans must not hold `\\mathbb{1}` (KaTeX draws it as a plain digit 1) nor a
command named by one punctuation character outside \\text{...} (`\\{ \\, \\;`: GitHub drops its backslash,
github/markup#1577; printing/markdown.py's `named` writes them by name),
display math keeps one row per line (GitHub breaks on `\\\\` mid-line, github/markup#1547), no
letter or digit touches an inline span's dollars outside (VS Code leaves `$\\delta$s` as text), no
line inside $$ starts a Markdown block (a list item, a heading, a quote), and a matrix is never
inline math in prose (it belongs in display math).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from symgrad.cli import main
from symgrad.printing.markdown import display, math, named, rows_per_line

from paths import EXAMPLES, ROOT

JS = ROOT / "tests" / "support" / "js"
SCRIPT = JS / "check_math.js"
INSTALL = ("install node and the pinned npm packages as .ci/run does: apt-get install nodejs npm; "
           "npm install --prefix tests/support/js --no-audit --no-fund --no-package-lock")

FULL = ("lenet", "tutorial_net")  # 20 s to a minute each to derive in full: their own test below
EXAMPLE_NAMES = sorted(p.stem for p in EXAMPLES.glob("*.toml") if p.stem not in FULL)
DOCS = sorted(str(p.relative_to(ROOT)) for p in [ROOT / "README.md", *(ROOT / "docs").rglob("*.md")])


# ---------------------------------------------------------------- reading Markdown

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_CODE_SPAN = re.compile(r"(`+)(.+?)\1", re.S)
_DISPLAY = re.compile(r"(?<!\\)\$\$(.+?)(?<!\\)\$\$", re.S)
_INLINE = re.compile(r"(?<![\\$])\$(?![\s$])((?:\\.|[^\\$])+?)(?<![\s\\])\$(?!\d)")


def spans(markdown: str) -> list[tuple[str, bool, int]]:
    """The math spans of a Markdown text: (tex, display?, line number), in document order."""
    lines = markdown.split("\n")
    kept, fence = [], None
    for line in lines:  # fenced code becomes blank lines (line numbers kept)
        opening = _FENCE.match(line)
        if fence:
            if opening and opening.group(1)[0] == fence[0] and len(opening.group(1)) >= len(fence):
                fence = None
            kept.append("")
        elif opening:
            fence = opening.group(1)
            kept.append("")
        elif line.lstrip().startswith("|"):
            kept.append(line.replace("\\|", "|"))  # GFM unescapes a table cell's \| before math is read
        else:
            kept.append(line)
    text = _CODE_SPAN.sub(lambda m: re.sub(r"[^\n]", " ", m.group()), "\n".join(kept))
    found = []
    for m in _DISPLAY.finditer(text):
        found.append((m.start(), m.group(1).strip("\n"), True))
    text = _DISPLAY.sub(lambda m: re.sub(r"[^\n]", " ", m.group()), text)
    for paragraph in re.finditer(r"(?:[^\n]+\n?)+", text):
        for m in _INLINE.finditer(paragraph.group()):
            found.append((paragraph.start() + m.start(), m.group(1), False))
    return [(tex, shown, text.count("\n", 0, at) + 1) for at, tex, shown in sorted(found)]


def glued(markdown: str) -> list[tuple[str, int]]:
    """Inline spans with a letter, digit or _ right outside a `$`: VS Code's KaTeX (and markdown-it's
    plugins) then leave the dollars as text, as in `the $\\delta$s`. (span with its $, line number)"""
    found = []
    for tex, shown, line in spans(markdown):
        if shown:
            continue
        for m in re.finditer(r"(.?)\$" + re.escape(tex) + r"\$(.?)", markdown.split("\n")[line - 1]):
            if re.fullmatch(r"[A-Za-z0-9_]", m.group(1)) or re.fullmatch(r"[A-Za-z0-9_]", m.group(2)):
                found.append((m.group(), line))
                break
    return found


def display_blocks(markdown: str) -> list[tuple[int, list[str]]]:
    """Each $$ block written as lines of its own: (first line number, the lines between the $$)."""
    return [(line, tex.split("\n")) for tex, shown, line in spans(markdown) if shown]


# ---------------------------------------------------------------- rendering

def render_errors(found: list[tuple[str, bool, int]]) -> dict:
    """Renders every span in one node process; the engines' versions and their errors."""
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not installed; " + INSTALL)
    if not (JS / "node_modules" / "katex").is_dir() or not (JS / "node_modules" / "mathjax-full").is_dir():
        pytest.fail(f"katex or mathjax-full missing in {JS / 'node_modules'}; " + INSTALL)
    payload = json.dumps([{"tex": tex, "display": shown} for tex, shown, _ in found])
    run = subprocess.run([node, str(SCRIPT)], input=payload, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


_ROW_END = re.compile(r"\\\\(?:\[[^\]\n]*\])?+[ \t]*\S")
_BLOCK_START = re.compile(r"^ {0,3}(?:[-+*>][ \t]|#{1,6}(?:[ \t]|$)|\d{1,9}[.)][ \t]|=+[ \t]*$|-{3,}[ \t]*$)")
_ROW = re.compile(r"\\(?:[A-Za-z]+|.)")
_MATRIX = re.compile(r"\\begin\{(?:[bpvBV]?matrix|smallmatrix|array|aligned|gathered|cases)\}")


def row_continues(line: str) -> bool:
    """A row separator `\\\\` (a token of its own, not the end of `\\\\\\\\`) with more of the formula after it."""
    for token in _ROW.finditer(line):
        if token.group() == "\\\\" and _ROW_END.match(line, token.start()):
            return True
    return False


def assert_renders(markdown: str, name: str, least: int = 1) -> None:
    found = spans(markdown)
    assert len(found) >= least, f"{name}: only {len(found)} math spans found"
    problems = []
    result = render_errors(found)
    assert result["katex"] and result["mathjax"], result
    for error in result["errors"]:
        tex, shown, line = found[error["index"]]
        problems.append(f"line {line} ({error['engine']}): {error['message']}\n    {tex[:300]}")
    for tex, shown, line in found:
        if r"\mathbb{1}" in tex.replace(" ", ""):
            problems.append(f"line {line}: \\mathbb{{1}} renders as the digit 1 in KaTeX: {tex[:120]}")
        if named(tex) != tex:
            problems.append(f"line {line}: a one-punctuation command (\\{{ \\, \\; ...) that GitHub unescapes "
                            f"(github/markup#1577), not by its name: {tex[:120]}")
        if not shown and _MATRIX.search(tex):
            problems.append(f"line {line}: a matrix or aligned rows in inline math (display math is for that): "
                            f"{tex[:120]}")
    for span, line in glued(markdown):
        problems.append(f"line {line}: a word character touches the $ of {span!r}; VS Code shows the dollars")
    for first, rows in display_blocks(markdown):
        for offset, row in enumerate(rows):
            where = f"line {first + offset}"
            if row_continues(row):
                problems.append(f"{where}: the formula goes on after \\\\ on the same line: {row[:120]}")
            if not row.strip():
                problems.append(f"{where}: a blank line inside $$ ends the math in Markdown")
            if _BLOCK_START.match(row):
                problems.append(f"{where}: a line inside $$ that Markdown reads as a block start: {row[:120]}")
    assert not problems, f"{name}: {len(problems)} problems:\n" + "\n".join(problems[:40])


def _derive(tmp_path: Path, name: str) -> str:
    out = tmp_path / f"{name}.md"
    assert main(["derive", name, "--format", "markdown", "--out", str(out)]) == 0
    return out.read_text(encoding="utf-8")


# ---------------------------------------------------------------- the documents

@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_example_derivation_renders(tmp_path, name):
    assert_renders(_derive(tmp_path, name), name, least=10)


def test_whole_network_derivations_render(tmp_path):
    """LeNet and the tutorial network derived in full (the slow ones; their _shapes and _first_stage
    variants are in the test above)."""
    for name in FULL:
        assert_renders(_derive(tmp_path, name), name, least=10)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_handout_renders(tmp_path, lang):
    out = tmp_path / f"handout-{lang}.md"
    assert main(["handout", "--lang", lang, "--out", str(out)]) == 0
    assert_renders(out.read_text(encoding="utf-8"), f"handout ({lang})", least=50)


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("seed", [0, 1, 7])
def test_exercises_and_key_render(tmp_path, lang, seed):
    sheet = tmp_path / "sheet.md"
    assert main(["exercises", "--seed", str(seed), "--lang", lang, "--out", str(sheet)]) == 0
    key = tmp_path / "sheet-answers.md"
    assert_renders(sheet.read_text(encoding="utf-8") + "\n\n" + key.read_text(encoding="utf-8"),
                   f"exercises seed {seed} ({lang})", least=10)


@pytest.mark.parametrize("path", DOCS)
def test_docs_render(path):
    assert_renders((ROOT / path).read_text(encoding="utf-8"), path, least=0)


# ---------------------------------------------------------------- the checks themselves

def test_the_checks_catch_what_they_are_for():
    """Each defect the document tests look for is found in a text that has it."""
    bad = ("Prose $K = \\begin{bmatrix}1 & 2\\end{bmatrix}$ and $\\frac{1}{$, the $x$s.\n\n"
           "$$\n\\mathbb{1}[x > 0] \\\\ a\n$$\n")
    found = spans(bad)
    assert [(tex, shown) for tex, shown, _ in found] == [
        ("K = \\begin{bmatrix}1 & 2\\end{bmatrix}", False), ("\\frac{1}{", False), ("x", False),
        ("\\mathbb{1}[x > 0] \\\\ a", True)]
    result = render_errors(found)
    assert {(e["index"], e["engine"]) for e in result["errors"]} == {(1, "katex"), (1, "mathjax")}
    with pytest.raises(AssertionError) as caught:
        assert_renders(bad, "bad")
    message = str(caught.value)
    for expected in ("katex", "mathjax", "mathbb", "inline math", "same line", "touches the $ of ' $x$s'"):
        assert expected in message
    assert "bad: 6 problems" in message
    assert not row_continues("a \\\\") and not row_continues("a \\\\[4pt]  ") and row_continues("a \\\\[4pt] b")
    assert row_continues("a \\\\\\\\") and not row_continues("\\text{a}\\\\")  # \\\\ is two rows


def test_spans_skip_code_and_read_tables():
    text = ("Run `echo $HOME` and\n```sh\n$ symgrad derive $x$\n```\n"
            "| a | $\\lvert x \\| y$ |\n\nIt costs $5 and $6, but $a_1$ is math.\n")
    assert [(tex, shown) for tex, shown, _ in spans(text)] == [("\\lvert x | y", False), ("a_1", False)]


def test_math_is_written_as_github_reads_it():
    latex = ("\\begin{aligned}a &= \\begin{bmatrix}1 & 2 \\\\ 3 & 4\\end{bmatrix} \\\\[4pt] "
             "b &= 1 \\\\\nc &= 2\\end{aligned}")
    assert rows_per_line(latex) == ("\\begin{aligned}a &= \\begin{bmatrix}1 & 2 \\\\\n3 & 4\\end{bmatrix} "
                                    "\\\\[4pt]\nb &= 1 \\\\\nc &= 2\\end{aligned}")
    assert rows_per_line("\\{ \\\\ x \\\\") == "\\{ \\\\\nx \\\\"
    assert display("x") == "$$\nx\n$$\n"
    assert display("\\left\\{a\\right\\} \\\\ b") == "$$\n" + math("\\left\\{a\\right\\} \\\\ b") + "\n$$\n"
    assert not any(row_continues(line) for line in display(latex).split("\n"))


def test_named_writes_what_github_would_unescape_by_name():
    """`named` (printing/markdown.py, applied to every math span the Markdown printers write): GitHub keeps
    letter-named commands as written; inside \\text{...} (where KaTeX knows neither name) nothing changes."""
    assert named("\\left\\{a\\right\\} b\\;2") == "\\left\\lbrace a\\right\\rbrace b\\mkern5mu 2"
    assert named("x_{c,\\; s}\\,\\delta \\|x\\| \\\\,") == "x_{c,\\mkern5mu s}\\thinspace\\delta \\Vert x\\Vert \\\\,"
    assert named("\\text{a\\{b\\}\\;c} \\; \\textbf {\\,} \\{") == "\\text{a\\{b\\}\\;c} \\mkern5mu \\textbf {\\,} \\lbrace"
    found = [(named(t), True, 1) for t in ("\\left\\{a\\right\\}\\,b\\;c\\!d\\|x\\|", "\\text{a\\,b}",
                                          "\\text{a\\{b\\}\\;c}\\;x")]
    assert render_errors(found)["errors"] == []  # KaTeX and MathJax read the names
    assert render_errors([("\\text{a\\lbrace b}", False, 1), ("\\text{a\\mkern5mu b}", False, 1)])["errors"]


def test_markdown_writes_math_by_name():
    """Display and inline math, table cells and figure labels of a page: punctuation commands by name."""
    from symgrad.printing.blocks import Grid, Math, Para, Table
    from symgrad.printing.markdown import render

    page = render([Math("W = \\left\\{ (i,\\; j) \\right\\}"), Para("So $a\\,b$ and $\\text{x\\,y}$."),
                   Table(("a",), (("$\\|x\\|$",),)), Grid((("\\frac{\\delta}{4}\\,",),), {}, "c")])
    assert "W = \\left\\lbrace (i,\\mkern5mu j) \\right\\rbrace" in page and "$a\\thinspace b$" in page
    assert "$\\text{x\\,y}$" in page and "$\\Vert x\\Vert$" in page and "$\\frac{\\delta}{4}\\thinspace$" in page
    with pytest.raises(AssertionError, match="github/markup#1577"):
        assert_renders("$$\n\\left\\{ a \\right.\n$$\n", "unnamed")
