"""The step-by-step derivation documents (LaTeX and Markdown): content, order, numbers, limits.

Every numeric matrix a document prints is parsed back and must equal one of the
engine's tensors (input, parameters, every forward tensor, every delta, gradients,
updates); every scalar printed after "L =" must be the engine's loss. The general
formulas themselves are checked in test_index_forms.py.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest
import sympy as sp

from symgrad import spec as specs
from symgrad.engine.network import Sequential
from symgrad.ops import Conv2d, CrossEntropyLoss, Flatten, Linear, MaxPool2d, MSELoss, ReLU
from symgrad.derive import derive
from symgrad.handout.compile import INSTALL
from symgrad.engine.optim import SGD
from symgrad.printing import latex as latex_printer
from symgrad.printing.common import squeeze
from symgrad.core.decimals import number
from symgrad.printing.steps import latex_body, markdown_body
from symgrad.printing.texnames import SMALL
from symgrad.printing.words import WORDS

from paths import ROOT

EXAMPLES = ROOT / "symgrad" / "examples"
# The seed articles' examples (the whole-network examples take minutes to derive; see test_numbers_of_a_multi_layer_network)
DERIVED = ("avg_pool_backward", "conv_avg_pool", "conv_max_pool", "conv_sum", "conv_symbolic", "pool_d2l_k3",
           "pool_d2l_pad1_stride2", "pool_d2l_rect", "pool_d2l_two_channels")


def _derivation(name):
    return specs.load(EXAMPLES / f"{name}.toml").derive()


def _small_network():
    """Conv (2 channels) -> ReLU -> max pool -> Flatten -> Linear -> cross-entropy, numbers throughout."""
    net = Sequential(
        Conv2d(1, 2, 2).init(weight=[[[[1, -1], [0, 2]]], [[[0, 1], [1, -1]]]], bias=[0, 1]),
        ReLU(), MaxPool2d(2), Flatten(),
        Linear(8, 2).init(weight=[[1, 0, 0, 1, 0, 1, 0, 0], [0, 1, 0, 0, 1, 0, 1, 1]], bias=[0, 0]))
    x = [[1, 2, 0, 1, 3], [0, 1, 2, 3, 1], [2, 1, 0, 1, 2], [1, 0, 1, 2, 0], [3, 1, 2, 0, 1]]
    return derive(net, x, CrossEntropyLoss(), [1], SGD(lr=0.5))


# ---------------------------------------------------------------- parsing numbers back

_NUMBER = re.compile(r"(-)?\s*(?:\\frac\{(\d+)\}\{(\d+)\}|(\d+(?:\.\d+)?)(?:\s*\\cdot\s*10\^\{(-?\d+)\})?)\Z")


def _number(text: str):
    """A printed entry as a SymPy number, or None when it is not a plain number."""
    match = _NUMBER.match(text.strip())
    if not match:
        return None
    sign, num, den, plain, exponent = match.groups()
    if num:
        value = sp.Rational(int(num), int(den))
    elif exponent or "." in plain:
        value = sp.Float(plain) * sp.Float(10) ** int(exponent or 0)
    else:
        value = sp.Integer(plain)
    return -value if sign else value


def _numeric_matrices(document: str) -> list[np.ndarray]:
    """Every bmatrix of numbers (rows split at \\\\ or \\\\[4pt]), and every one-entry tensor, printed as a
    scalar on its own display line (y = 60), as a 1 x 1 matrix."""
    found = []
    document = re.sub(r"\\approx \\begin\{bmatrix\}.*?\\end\{bmatrix\}", "", document, flags=re.DOTALL)  # rounded
    for body in re.findall(r"\\begin\{bmatrix\}(.*?)\\end\{bmatrix\}", document, re.DOTALL):
        rows = [[_number(cell) for cell in row.split("&")] for row in re.split(r"\\\\(?:\[[^\]]*\])?", body)]
        if all(v is not None for row in rows for v in row) and len({len(r) for r in rows}) == 1:
            found.append(np.array(rows, dtype=object))
    for line in re.findall(r"^(?:\\begin\{equation\*\}|\$\$)\n([^=\n]+ = [^=\n]+)\n", document, re.MULTILINE):
        value = _number(line.split(" = ")[1])
        if value is not None:
            found.append(np.array([[value]], dtype=object))
    return found


def _engine_tensors(d) -> list[np.ndarray]:
    """Every tensor the engine holds, squeezed as printed, with each channel slice of a 4-D tensor."""
    t = d.tensors
    arrays = [t.input, t.output, *t.gradients().values(), *t.updated().values(), *(layer.output for layer in t.layers)]
    arrays += [p.value for p in t.parameters.values()] + ([t.target] if t.target is not None else [])
    arrays += [np.array(value.tolist(), dtype=object) if hasattr(value, "tolist") else np.array(value, dtype=object)
               for _, value in d.deltas]
    out = []
    for array in arrays:
        array = squeeze(np.asarray(array, dtype=object))
        out.append(np.atleast_2d(array) if array.ndim < 2 else array)
        if array.ndim > 2:
            out += [array[idx] for idx in np.ndindex(*array.shape[:-2])]
    return out


def _equal(printed: np.ndarray, engine: np.ndarray) -> bool:
    if printed.shape != engine.shape:
        return False
    for p, e in zip(printed.reshape(-1), engine.reshape(-1)):
        if not getattr(e, "is_number", False):
            return False
        if isinstance(p, sp.Float) or isinstance(e, sp.Float):
            if abs(float(p) - float(e)) > 1e-13 * max(1.0, abs(float(e))):
                return False
        elif p != e:
            return False
    return True


def _assert_numbers_are_the_engines(document: str, d):
    engine = _engine_tensors(d)
    printed = _numeric_matrices(document)
    assert printed, "no numeric matrix printed"
    for matrix in printed:
        assert any(_equal(matrix, e) for e in engine), f"printed matrix {matrix.tolist()} is no tensor of the engine"
    return printed


@pytest.mark.parametrize("name", DERIVED)
def test_every_printed_number_is_the_engines(name):
    d = _derivation(name)
    for document in (latex_body(d), markdown_body(d), latex_body(d, "zh")):
        _assert_numbers_are_the_engines(document, d)
        if d.loss.is_number:
            # L = formula = numbers = value, on one line or folded into aligned rows (the value on the last)
            assert re.search(r"L &?= .*?&?= %s(\\end\{aligned\})?\n" % re.escape(number(d.loss)), document, re.DOTALL), \
                "the loss value"


def test_numbers_of_a_multi_layer_network():
    d = _small_network()
    document = markdown_body(d)
    printed = _assert_numbers_are_the_engines(document, d)
    assert len(printed) >= 8  # input, both kernels' channels, forward tensors, deltas, gradients


def test_worked_arithmetic_adds_up():
    """Each worked line `... = a \\cdot b + c \\cdot d + ... = r` of plain numbers must really sum to r."""
    checked = 0
    for name in ("conv_sum", "conv_max_pool", "conv_avg_pool"):
        doc = markdown_body(_derivation(name))
        for line in re.findall(r"[^=\\]*(?:\\[^=]*)?= ([^=]*\\cdot[^=]*) = (-?[\d\\{}frac]+)(?= \\\\|\\end)", doc):
            terms, result = line
            if any(c.isalpha() and c not in "cdotfrac" for c in terms.replace("\\cdot", "").replace("\\frac", "")):
                continue  # a term with an indicator or a max: not plain arithmetic
            total = 0
            for term in re.split(r" \+ | (?=- )", terms):
                product = 1
                for factor in term.replace("- ", "-").split(r"\cdot"):
                    product *= _number(factor.strip().strip("()"))
                total += product
            assert total == _number(result), (name, terms, result)
            checked += 1
    assert checked >= 10


def test_parser_refuses_what_is_not_a_number():
    """The parser above must not read symbols as numbers (else the number test would pass vacuously)."""
    assert _number("x_{11}") is None and _number(r"\max\left(1, 2\right)") is None
    assert _number(r"- \frac{3}{4}") == sp.Rational(-3, 4) and _number("12") == 12


# ---------------------------------------------------------------- content and order

def test_conv_max_pool_reads_like_the_article():
    d = _derivation("conv_max_pool")
    doc = latex_body(d)
    order = ["Setup", "Layers and shapes", "Forward pass", "Backward pass", "Optimizer step"]
    positions = [doc.index(r"\subsection*{%s}" % title) for title in order]
    assert positions == sorted(positions)
    # the forward pass: formulas in the entries, then numbers
    assert r"k_{11} x_{11} + k_{12} x_{12} + k_{21} x_{21} + k_{22} x_{22}" in doc
    assert doc.index(r"k_{11} x_{11}") < doc.index(r"\sigma = \begin{bmatrix}36 & 47 \\ 69 & 80\end{bmatrix}")
    # the chain rule factor by factor, then each factor's values
    assert r"\frac{\partial L}{\partial K} = \frac{\partial L}{\partial S}\,\frac{\partial S}{\partial \sigma}\," \
           r"\frac{\partial \sigma}{\partial K}" in doc
    assert r"\delta^{S}_{11} &= 2 S_{11} - 120 = 2 \cdot 80 - 120 = 40" in doc  # the arithmetic written out
    assert r"\sigma_{11} &= k_{11} x_{11} + k_{12} x_{12} + k_{21} x_{21} + k_{22} x_{22} = 3 \cdot 1 + 2 \cdot 2 + " \
           r"1 \cdot 4 + 5 \cdot 5 = 36" in doc
    assert r"\frac{\partial L}{\partial K_{22}} = 5 \delta^{\sigma}_{12} + 6 \delta^{\sigma}_{12}" not in doc
    assert r"\frac{\partial L}{\partial K_{22}} &= 5 \delta^{\sigma}_{11}" in doc and "K_{2,2}" not in doc  # one index style
    assert r"= 5 \cdot 0 + 6 \cdot 0 + 8 \cdot 0 + 9 \cdot 40 = 360" in doc
    assert r"\delta^{\sigma} = \begin{bmatrix}0 & 0 \\ 0 & 40\end{bmatrix}" in doc
    assert r"\frac{\partial L}{\partial K} = \begin{bmatrix}200 & 240 \\ 320 & 360\end{bmatrix}" in doc
    # general rule, then this spec's instance
    assert r"s(i-1) + d(a-1) - p + 1" in doc and r"X_{i + a - 1,\; j + b - 1}" in doc
    # the indicator for max routing, never Heaviside
    assert r"\mathbb{I}" in doc and "theta" not in doc.lower() and "Heaviside" not in doc
    assert r"\mathbb{1}" not in doc and r"1\!\!1" not in doc
    # decimals where they terminate, as the articles print the step
    assert r"\eta = 0.01" in doc and r"\begin{bmatrix}1 & -0.4 \\ -2.2 & 1.4\end{bmatrix}" in doc
    assert r"\frac{1}{100}" not in doc and r"\frac{2}{5}" not in doc


def test_conv_input_gradient_is_written_as_a_full_convolution():
    from symgrad.printing.markdown import math  # as the Markdown writes it (\; as \mkern5mu)

    doc = markdown_body(_derivation("conv_sum"))
    assert math(r"K_{o,c,\; k_h + 1 - a,\; k_w + 1 - b}") in doc  # the rotated kernel, in general
    assert math(r"K_{3 - a,\; 3 - b}") in doc and math(r"\tilde{\delta}_{i + 1,\; j + 1} = \delta_{i,j}") in doc
    assert "rotated by 180 degrees" in doc


def test_avg_pool_divisor_and_options_are_stated():
    doc = markdown_body(_derivation("conv_avg_pool"))
    assert r"\text{count\_include\_pad}" in doc and r"\text{divisor\_override}" in doc
    assert r"D_{i,j} = 4" in doc  # the instance: every 2x2 window divides by 4


def test_pictures_highlight_the_taps_and_the_routing():
    conv = markdown_body(_derivation("conv_sum"))
    grid = [line for line in conv.splitlines() if line.startswith("| **")]
    assert [line.count("**[") for line in grid] == [2, 2, 0]  # K_11 multiplies x_11, x_12, x_21, x_22
    pool = markdown_body(_derivation("pool_d2l_pad1_stride2"))
    marked = re.findall(r"\*\*\[ \$(\d+)\$ \]\*\* \(([\d,]+)\)", pool)
    assert marked == [("5", "1,1"), ("7", "1,2"), ("13", "2,1"), ("15", "2,2")]
    tex = latex_body(_derivation("pool_d2l_pad1_stride2"))
    assert tex.count(r"\fill[gray!35]") == 4 and r"\begin{tikzpicture}" in tex


def test_multi_layer_recursion_names_every_layer_and_every_parameter():
    d = _small_network()
    doc = markdown_body(d)
    for i, layer in enumerate(d.network):
        assert f"### Layer {i}: " in doc
    for symbol in ("K^{[0]}", "b^{[0]}", "W^{[4]}", "b^{[4]}"):
        assert r"\frac{\partial L}{\partial %s}" % symbol in doc
    for delta in (r"\delta^{z}", r"\delta^{f}", r"\delta^{S}", r"\delta^{a}", r"\delta^{\sigma}"):
        assert delta in doc


def test_big_tensors_are_summarised_not_printed():
    """In brief, as torch prints them (test_page_summary.py holds the numbers to the engine's)."""
    net = Sequential(Conv2d(1, 2, 3).init(weight=np.ones((2, 1, 3, 3), dtype=int).tolist(), bias=[0, 0]),
                     MaxPool2d(2), Flatten(), Linear(50, 3).init(weight=np.eye(3, 50, dtype=int).tolist(), bias=[0] * 3))
    x = (np.arange(144).reshape(12, 12) % 5).tolist()
    d = derive(net, x, CrossEntropyLoss(), [0])
    for doc in (markdown_body(d), latex_body(d)):
        for body in re.findall(r"\\begin\{bmatrix\}(.*?)\\end\{bmatrix\}", doc, re.DOTALL):
            assert body.count("&") + body.count(r"\\") + 1 <= SMALL
        assert "(288 entries of shape 1 x 2 x 12 x 12; index form above)" not in doc  # 2 x 10 x 10 = 200
        assert "$\\sigma$: 200 entries of shape 1 x 2 x 10 x 10; the first" in doc
        assert "150 entries of shape 3 x 50; the first" in doc
        assert not re.search(r"\d+ entries of shape [\d x]+; index form above", doc)  # numbers: never only a shape


@pytest.mark.parametrize("name", ["conv_symbolic", "conv_max_pool"])
def test_a_derivation_kept_in_names_prints_names_and_the_engines_numbers(name):
    """Large networks are kept in named intermediates (expand=False): nothing is expanded while printing."""
    s = specs.load(EXAMPLES / f"{name}.toml")
    d = derive(s.network, s.input, s.loss, s.target, s.optimizer, expand=False)
    doc = markdown_body(d)
    assert r"\delta^{\sigma}_{11}" in doc and "Every entry in closed form" not in doc
    if name == "conv_max_pool":  # every input a number: the engine evaluated the names to floats
        _assert_numbers_are_the_engines(doc, d)
        one_line = re.sub(r"\\\\\s*\n", r"\\\\ ", doc)  # the Markdown printer puts one matrix row per line
        assert re.search(r"\\frac\{\\partial L\}\{\\partial K\} = \\begin\{bmatrix\}200(\.0)? & 240(\.0)? \\\\ "
                         r"320(\.0)? & 360(\.0)?\\end\{bmatrix\}", one_line)
    else:
        assert r"\max\left(k_{11} x_{11}" not in doc.split("## Backward pass")[1]  # no expanded Max in the backward


def test_markdown_stays_in_the_katex_subset():
    for name in DERIVED:
        doc = markdown_body(_derivation(name), "zh")
        for forbidden in (r"\newcommand", r"\usepackage", r"\resizebox", r"\cjk", r"\!\!", r"\begin{equation",
                          r"\section", "tikz"):
            assert forbidden not in doc, (name, forbidden)
        for text in re.findall(r"\\text\{([^}]*)\}", doc):
            assert text.isascii(), (name, text)
        environments = set(re.findall(r"\\begin\{(\w+)\}", doc))
        assert environments <= {"bmatrix", "gathered", "aligned", "cases"}, environments
        assert doc.count("$$") % 2 == 0


def test_fragment_and_document(tmp_path):
    d = _derivation("conv_max_pool")
    fragment = latex_body(d)
    assert r"\documentclass" not in fragment and r"\usepackage" not in fragment
    document = latex_printer.document(fragment)
    assert document.startswith(latex_printer.PREAMBLE) and r"\usepackage{graphicx,tikz}" in document
    assert fragment.startswith(r"\setcounter{MaxMatrixCols}{36}")  # rows of up to 36 entries in a bmatrix
    assert document.endswith("\\end{document}\n")


def test_words_have_the_same_keys_in_every_language():
    keys = {lang: set(table) for lang, table in WORDS.items()}
    assert keys["zh"] == keys["en"]
    zh = markdown_body(_derivation("conv_sum"), "zh", title="卷积的梯度")
    assert zh.startswith("# 卷积的梯度\n") and "## 前向传播" in zh and "## 反向传播" in zh and "Forward" not in zh


def test_jupyter_representations():
    d = _derivation("conv_sum")
    assert d._repr_markdown_() == markdown_body(d)
    math = d._repr_latex_()
    assert math.startswith("$$") and math.endswith("$$") and r"\section" not in math and "bmatrix" in math


DETERMINISM = """
import sys
from symgrad import spec
from symgrad.printing.steps import latex_body, markdown_body
for name in sys.argv[1:]:
    d = spec.load(name).derive()
    sys.stdout.write(latex_body(d, "zh") + markdown_body(d))
"""

def test_byte_identical_across_hash_seeds():
    names = [str(EXAMPLES / f"{n}.toml") for n in ("conv_symbolic", "pool_d2l_two_channels")]
    outputs = []
    for seed in ("3", "777"):
        env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(ROOT)}
        result = subprocess.run([sys.executable, "-c", DETERMINISM, *names], capture_output=True, env=env, timeout=120)
        assert result.returncode == 0, result.stderr.decode()
        outputs.append(result.stdout)
    assert outputs[0] == outputs[1] and len(outputs[0]) > 1000


def test_multi_layer_document_compiles_with_pdflatex(tmp_path):
    """A whole small network, with a 12-entry row vector (amsmath's bmatrix stops at 10 columns by default)."""
    if shutil.which("latexmk") is None:
        pytest.fail(f"latexmk not found; this test compiles real LaTeX: {INSTALL} (see .ci/run)")
    wide = derive(Sequential(Flatten(), Linear(12, 2).init(weight=np.eye(2, 12, dtype=int).tolist(), bias=[1, -1])),
                  np.arange(12).reshape(3, 4).tolist(), MSELoss(), [0, 0])
    body = latex_body(_small_network()) + latex_body(wide, title="Flatten -> Linear")
    assert re.search(r"\\begin\{bmatrix\}(?:[^&\\]*&){11}[^&\\]*\\end\{bmatrix\}", body)  # the 12-column row
    source = tmp_path / "network.tex"
    source.write_text(latex_printer.document(body), encoding="utf-8")
    result = subprocess.run(["latexmk", "-pdf", "-norc", "-interaction=nonstopmode", "-halt-on-error", source.name],
                            cwd=tmp_path, capture_output=True, stdin=subprocess.DEVNULL, timeout=600)
    errors = [line for line in (tmp_path / "network.log").read_text(errors="replace").splitlines()
              if line.startswith("!")]
    assert result.returncode == 0, errors[:3]
    assert (tmp_path / "network.pdf").read_bytes().startswith(b"%PDF")
