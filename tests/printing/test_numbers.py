"""The one number formatter (core/decimals.py) and the documents that print through it.

Decimals where they terminate (2.52, -0.4, eta = 0.01), exact fractions otherwise and on
request; fraction matrices with room between their rows; one entry printed as a scalar; one
index style; an indicator that does not read as a digit. Expected decimals are computed
with Python's decimal module here, not copied from the formatter.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from decimal import Decimal, getcontext
from fractions import Fraction

import numpy as np
import pytest
import sympy as sp

from symgrad import spec as specs
from symgrad.handout import handout, render, sheets, to_latex, to_markdown
from symgrad.handout import numbers as handout_numbers
from symgrad.printing import latex as latex_printer
from symgrad.core.decimals import bmatrix, decimal, exact, exact_fractions, latex, number
from symgrad.printing.markdown import math  # as the Markdown writes display math (\, as \thinspace)
from symgrad.printing.steps import latex_body, markdown_body
from symgrad.printing.texnames import index_text, matrix, tex, width

from paths import ROOT

EXAMPLES = sorted(p.stem for p in (ROOT / "symgrad" / "examples").glob("*.toml")
                  if not p.stem.startswith(("lenet", "tutorial_net")))
x, y = sp.symbols("x y")


def _terminates(q: int) -> bool:
    while q % 2 == 0:
        q //= 2
    while q % 5 == 0:
        q //= 5
    return q == 1


@pytest.mark.parametrize("p, q", [(63, 25), (-11, 5), (1, 100), (7, 5), (-2, 5), (1, 1024), (123456789, 1000),
                                  (48, 1), (-3, 1), (0, 1), (1, 3), (-2, 3), (5, 6), (22, 7)])
def test_a_number_is_its_exact_decimal_when_that_terminates(p, q):
    value = sp.Rational(p, q)
    shown = number(value)
    if _terminates(value.q):
        getcontext().prec = 60
        assert Decimal(shown) == Decimal(value.p) / Decimal(value.q) and "frac" not in shown
        assert not shown.endswith(".") and (value.q == 1 or not shown.endswith("0"))
    else:
        sign = "- " if value < 0 else ""
        assert shown == r"%s\frac{%d}{%d}" % (sign, abs(value.p), value.q)
    assert tex(value) == shown


def test_the_articles_numbers():
    assert [number(sp.Rational(*v)) for v in ((63, 25), (-11, 5), (1, 100), (-2, 5))] == ["2.52", "-2.2", "0.01", "-0.4"]
    assert number(sp.Rational(1, 3)) == r"\frac{1}{3}" and number(7) == "7" and number(sp.Integer(-12)) == "-12"


def test_coefficients_inside_expressions():
    """2.52 x, not \\frac{63 x}{25}; a division by a whole number stays one (an average: \\frac{x}{4})."""
    assert tex(sp.Rational(63, 25) * x) == "2.52 x"
    assert tex(x - sp.Rational(2, 5) * y) == "x - 0.4 y"
    assert tex(sp.Rational(-3, 4) * x * y) == "- 0.75 x y"
    assert tex(x / 4) == r"\frac{x}{4}" and tex((x + y) / 4) == r"\frac{x}{4} + \frac{y}{4}"
    assert tex(2 * x / 3) == r"\frac{2 x}{3}"
    assert tex(sp.Rational(5, 2) * (x + y) ** 2) == r"2.5 \left(x + y\right)^{2}"
    assert tex(sp.Symbol("k_11") * 2 + sp.Rational(1, 100)) == r"2 k_{11} + 0.01"


def test_exact_fractions_on_request():
    assert not exact()
    with exact_fractions():
        assert exact()
        assert number(sp.Rational(63, 25)) == r"\frac{63}{25}" and tex(sp.Rational(63, 25) * x) == r"\frac{63 x}{25}"
        assert decimal(sp.Rational(1, 4)) is None and number(5) == "5"
        with exact_fractions(False):
            assert number(sp.Rational(63, 25)) == "2.52"
        assert matrix([[sp.Rational(1, 4), 1]]) == r"\begin{bmatrix}\frac{1}{4} & 1\end{bmatrix}"
    assert not exact() and number(sp.Rational(63, 25)) == "2.52"
    with pytest.raises(ZeroDivisionError), exact_fractions():
        raise ZeroDivisionError
    assert not exact()  # left on an error too


def test_exact_fractions_reach_a_whole_document():
    d = specs.load(ROOT / "symgrad" / "examples" / "conv_max_pool.toml").derive()
    with exact_fractions():
        doc = latex_body(d)
    assert r"\eta = \frac{1}{100}" in doc and r"- \frac{2}{5}" in doc and "0.01" not in doc
    doc = latex_body(d)
    assert r"\eta = 0.01" in doc and r"\begin{bmatrix}1 & -0.4 \\ -2.2 & 1.4\end{bmatrix}" in doc


def test_fraction_matrices_have_room_between_rows():
    third = sp.Rational(1, 3)
    spaced = matrix([[x / 4, third], [sp.Rational(1, 9), 1]])
    assert spaced == r"\begin{bmatrix}\frac{x}{4} & \frac{1}{3} \\[6pt] \frac{1}{9} & 1\end{bmatrix}"
    assert matrix([[sp.Rational(1, 4), 2], [3, sp.Rational(-1, 2)]]) == r"\begin{bmatrix}0.25 & 2 \\ 3 & -0.5\end{bmatrix}"
    assert handout_numbers.matrix([[third, 1], [2, 3]]) == r"\begin{bmatrix}\frac{1}{3} & 1 \\[6pt] 2 & 3\end{bmatrix}"
    assert bmatrix([["1", "2"]]) == r"\begin{bmatrix}1 & 2\end{bmatrix}"
    assert width(spaced) == width(spaced.replace("[6pt]", ""))  # the spacing is not a wider row


def test_a_spaced_fraction_matrix_compiles(tmp_path):
    """amsmath takes the spaced rows (KaTeX does too: tests/printing/test_katex.py renders every document)."""
    assert shutil.which("pdflatex"), "pdflatex is needed (TeX Live, installed by .ci/run)"
    shown = matrix([[x / 4, sp.Rational(1, 3)], [sp.Rational(1, 9), sp.Rational(1, 4)]])
    source = tmp_path / "m.tex"
    source.write_text(r"\documentclass{article}\usepackage{amsmath,amssymb}\begin{document}"
                      "\n$$%s$$\n$$%s$$\n" % (shown, r"\mathbb{I}\left[x > 0\right]") + r"\end{document}" + "\n")
    run = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", source.name], cwd=tmp_path,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout[-2000:]
    assert (tmp_path / "m.pdf").stat().st_size > 0


def test_one_entry_prints_as_a_scalar_everywhere():
    assert matrix([[[[60]]]]) == "60" and matrix([sp.Rational(63, 25)]) == "2.52"
    assert handout_numbers.matrix([[[[60]]]]) == "60"
    d = specs.load(ROOT / "symgrad" / "examples" / "conv_max_pool.toml").derive()
    doc = markdown_body(d)
    assert "\ny = 60\n" in doc and r"y = \begin{bmatrix}" not in doc and r"S = \begin{bmatrix}" not in doc


def test_one_index_style():
    assert index_text((1, 1)) == "11" and index_text((2, 3, 1)) == "231" and index_text((1, 10)) == "1,10"
    assert tex(sp.Symbol("x_1_10")) == "x_{1,10}" and tex(sp.Symbol("sigma_11")) == r"\sigma_{11}"


def _documents():
    """Every bundled example's derivation (en Markdown, zh LaTeX), both handouts, a sheet and its key."""
    for name in EXAMPLES:
        d = specs.load(ROOT / "symgrad" / "examples" / f"{name}.toml").derive()
        yield name, markdown_body(d) + latex_body(d, "zh")
    for lang in ("en", "zh"):
        yield f"handout {lang}", to_markdown(handout(lang)) + to_latex(handout(lang))
    sheet, key = sheets(7, 3)
    yield "exercises", render.to_markdown(sheet) + render.to_markdown(key) + render.to_latex(key)


def _pure_fractions(document: str) -> list[str]:
    """Fractions of two whole numbers that stand alone as a value: a matrix entry, a line's result, eta."""
    found = []
    for body in re.findall(r"\\begin\{bmatrix\}(.*?)\\end\{bmatrix\}", document, re.DOTALL):
        found += [c.strip() for row in re.split(r"\\\\(?:\[[^\]]*\])?", body) for c in row.split("&")]
    found += re.findall(r"= (-?\s*\\frac\{\d+\}\{\d+\})\s*(?:\\\\|\\end|\$|\n)", document)
    found += re.findall(r"\\eta = ([^$\s,]+)", document)
    return [f for f in found if re.fullmatch(r"-?\s*\\frac\{\d+\}\{(\d+)\}", f)]


@pytest.fixture(scope="module")
def documents():
    return list(_documents())


def test_no_document_prints_a_terminating_value_as_a_fraction(documents):
    for name, document in documents:
        bad = [f for f in _pure_fractions(document) if _terminates(int(re.findall(r"\d+", f)[-1]))]
        assert not bad, (name, bad[:5])
    assert _pure_fractions(r"\begin{bmatrix}\frac{63}{25} & 1\end{bmatrix}") == [r"\frac{63}{25}"]  # the check bites


def test_no_document_has_a_digit_for_an_indicator(documents):
    for name, document in documents:
        assert r"\mathbb{1}" not in document and r"1\!\!1" not in document, name
    assert r"\mathbb{I}" in dict(documents)["conv_max_pool"] and latex_printer.INDICATOR == r"\mathbb{I}"


def test_no_document_mixes_index_styles(documents):
    """x_{12} and dL/dK_{12}, never K_{1,2}, while every index is one digit (x_{1,10} has two)."""
    for name, document in documents:
        assert not re.search(r"_\{\d(?:,\d)+\}", document), (name, re.findall(r".{40}_\{\d(?:,\d)+\}", document)[:3])


def test_the_step_of_a_scalar_parameter_reads_as_arithmetic():
    """b <- b - eta dL/db with one-entry tensors: 1 - 0.01 \\cdot 40, negative gradients in parentheses."""
    from symgrad.derive import derive
    from symgrad.engine.network import Sequential
    from symgrad.engine.optim import SGD
    from symgrad.ops import Conv2d, MSELoss

    d = derive(Sequential(Conv2d(1, 1, 2).init(weight=[[[[1, 0], [0, 1]]]], bias=[1])), [[1, 2], [3, 4]], MSELoss(),
               [[2]], SGD(lr=0.01))
    doc = markdown_body(d)
    grad = d.tensors.parameters["0.bias"].gradient.reshape(-1)[0]
    new = d.tensors.parameters["0.bias"].updated.reshape(-1)[0]
    shown = number(grad) if grad >= 0 else r"\left(%s\right)" % number(grad)
    assert math(r"b \leftarrow b - 0.01\,\frac{\partial L}{\partial b} = 1 - 0.01 \cdot %s = %s" % (shown, number(new))) in doc
    assert Fraction(str(number(new))) == 1 - Fraction(1, 100) * Fraction(int(grad))
