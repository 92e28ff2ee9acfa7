"""Worked lines `left = symbols = numbers = result`: the numbers are the symbols, name by name, and add up.

Every worked line of the derivations of the bundled examples (the whole networks lenet and
tutorial_net aside: minutes each), of the handout's worked solutions and of practice
sheets' problems is parsed. Its numbers part must be its symbols part with each name
replaced by the engine's value of that name (so max(x11, x12, x21, x22) over
[[9, 8], [10, 7]] reads max(9, 8, 10, 7), not SymPy's re-sorted max(10, 7, 8, 9)), and it
must evaluate, exactly, to the line's result. The values are read from the engine's
tensors here, not from the printer.
"""

from __future__ import annotations

import re
from fractions import Fraction

import numpy as np
import pytest
import sympy as sp

from symgrad import spec as specs
from symgrad.core import tensor
from symgrad.derive import derive
from symgrad.engine.network import Sequential
from symgrad.engine.optim import SGD
from symgrad.handout import render
from symgrad.handout.document import Document
from symgrad.handout.exercises import generate
from symgrad.handout.questions import seed_problems
from symgrad.ops import AvgPool2d, Conv2d, MaxPool2d, MSELoss, ReLU
from symgrad.core.decimals import number
from symgrad.printing.steps import latex_body, markdown_body
from symgrad.printing.texnames import name_latex

from paths import ROOT

EXAMPLES = sorted(p.stem for p in (ROOT / "symgrad" / "examples").glob("*.toml")
                  if not p.stem.startswith(("lenet", "tutorial_net")))


# ---------------------------------------------------------------- the engine's numbers by name

def _put(out: dict, names, values) -> None:
    names = np.asarray(names, dtype=object).reshape(-1)
    values = np.array(values.tolist() if hasattr(values, "tolist") else values, dtype=object).reshape(-1)
    for name, value in zip(names, values):
        if isinstance(name, sp.Symbol) and getattr(value, "is_number", False):
            out[name_latex(name.name)] = sp.nsimplify(value)


def engine_values(d) -> dict[str, sp.Expr]:
    """The LaTeX name of every quantity that has a number -> that number, from the engine's tensors: the input
    and parameter names a symbolic spec would get (x_11, k_11, b_1), every named activation and delta."""
    t, out = d.tensors, {}
    _put(out, tensor.image_symbols("x", t.input.shape), t.input)
    parametric = [i for i, layer in enumerate(d.network) if layer.parameter_shapes()]
    for full, parameter in t.parameters.items():
        i, kind = full.split(".")
        layer = d.network.layers[int(i)]
        shape = np.shape(parameter.value)
        keep = (shape[0] > 1, shape[1] > 1, True, True) if len(shape) == 4 else None
        base = layer.symbol_bases[kind] + (i if len(parametric) > 1 else "")
        _put(out, tensor.symbols(base, shape, keep), parameter.value)
    if d.named:
        for (_, names), (_, values) in zip(d.named.activations, d.forward):
            _put(out, names, values)
        for (_, names), (_, values) in zip(d.named.deltas, d.deltas):
            _put(out, names, values)
    return out


# ---------------------------------------------------------------- reading the lines

def worked_lines(document: str) -> list[str]:
    """The rows of every aligned block, and every display line `L = formula = numbers = value` (a loss line
    too wide for its numbers is `L = formula = value`, no worked line)."""
    lines = []
    for body in re.findall(r"\\begin\{aligned\}(.*?)\\end\{aligned\}", document, re.DOTALL):
        lines += [row.replace("&", "").strip() for row in re.split(r"\\\\(?:\[[^\]]*\])?", body)]
    display = r"^(?:\\begin\{equation\*\}|\$\$)\n(?:\\resizebox\{[^\n]*?\}\{!\}\{\$\\displaystyle )?(L = [^\n]*?)(?:\$\})?\n"
    for line in re.findall(display, document, re.MULTILINE):
        if len(parts(line)) == 4:
            lines.append(line)
    return lines


def parts(line: str) -> list[str]:
    """`line` split at its top-level " = " (not inside braces or brackets: the indicator's 1[k = argmax(...)])."""
    out, depth, start = [], 0, 0
    for k, c in enumerate(line):
        depth += c in "{([" and 1 or 0
        depth -= c in "})]" and 1 or 0
        if depth == 0 and line.startswith(" = ", k):
            out.append(line[start:k])
            start = k + 3
    return out + [line[start:]]


def _normal(latex: str) -> str:
    """Spacing, product dots and the parentheses around one bare number dropped: what a reader compares."""
    latex = re.sub(r"\\left\((-?[\d.]+|-?\\frac\{\d+\}\{\d+\})\\right\)|\((-?[\d.]+)\)",
                   lambda m: m.group(1) or m.group(2), latex)
    return latex.replace(r"\cdot", "").replace(" ", "")


def substituted(symbols: str, values: dict) -> str:
    """The symbols part with each name replaced by the engine's number (longest names first)."""
    names = sorted((n for n in values if n in symbols), key=len, reverse=True)
    if not names:
        return symbols
    pattern = re.compile(r"(?<![A-Za-z\\])(?:%s)" % "|".join(re.escape(n) for n in names))
    return pattern.sub(lambda m: number(values[m.group(0)]), symbols)


def _brace(text: str, start: int) -> int:
    """The index just after the group {...} that opens at `start`."""
    depth = 0
    for k in range(start, len(text)):
        depth += {"{": 1, "}": -1}.get(text[k], 0)
        if depth == 0:
            return k + 1
    raise ValueError(text)


def _python(latex: str) -> str:
    """A numbers part as a Python expression (fractions, powers, max, argmax, the indicator)."""
    out = _grouped(latex)
    for tex, py in ((r"\mathbb{I}\left[", "ind("), (r"\right]", ")"), (r"\left(", "("), (r"\right)", ")"),
                    (r"\operatorname{argmax}", "argmax"), (r"\max", "max"), (r"\min", "min"), (r"\cdot", "*"),
                    (r"\le", "<="), (r"\ge", ">="), (" = ", " == ")):
        out = out.replace(tex, py)
    return re.sub(r"(?<![\w.])(\d+(?:\.\d+)?)", r'F("\1")', out)


def _grouped(latex: str) -> str:
    """\\frac{a}{b} -> ((a)/(b)) and ^{n} -> **(n), nested groups too."""
    out, k = "", 0
    while k < len(latex):
        if latex.startswith(r"\frac{", k):
            end = _brace(latex, k + 5)
            den_end = _brace(latex, end)
            out += "((%s)/(%s))" % (_grouped(latex[k + 6:end - 1]), _grouped(latex[end + 1:den_end - 1]))
            k = den_end
        elif latex.startswith("^{", k):
            end = _brace(latex, k + 1)
            out += "**(%s)" % _grouped(latex[k + 2:end - 1])
            k = end
        else:
            out += latex[k]
            k += 1
    return out


def evaluate(latex: str) -> Fraction:
    code = _python(latex)
    assert re.fullmatch(r'(?:[\s\d.()+\-*/,=<>"]|F|max|min|argmax|ind)*', code), f"not plain arithmetic: {latex}"
    scope = {"F": Fraction, "max": max, "min": min, "ind": lambda b: Fraction(int(b)),
             "argmax": lambda *a: Fraction(a.index(max(a)) + 1)}  # the first maximum, counted from 1
    return Fraction(eval(code, {"__builtins__": {}}, scope))


def check(document: str, values: dict) -> int:
    """Assert every worked line of `document`; the number of lines checked."""
    checked = 0
    for line in worked_lines(document):
        shown = parts(line)
        if len(shown) < 3:
            continue  # an entry in names only (a factored form): no numbers to check
        assert len(shown) <= 4, line
        symbols, numbers, result = shown[1], shown[2], shown[-1]
        assert _normal(numbers) == _normal(substituted(symbols, values)), \
            f"numbers are not the symbols' numbers, in order:\n{symbols}\n{numbers}"
        assert evaluate(numbers) == evaluate(result), line
        checked += 1
    return checked


# ---------------------------------------------------------------- the documents

def test_a_2x2_window_writes_its_numbers_in_the_order_of_its_symbols():
    d = derive(Sequential(MaxPool2d(2)), [[9, 8], [10, 7]], MSELoss(), 0)
    for document in (markdown_body(d), latex_body(d)):
        assert r"\max\left(x_{11}, x_{12}, x_{21}, x_{22}\right) = \max\left(9, 8, 10, 7\right) = 10" in document
        assert "10, 7, 8, 9" not in document
        assert check(document, engine_values(d)) == 3  # the max, the loss, its delta
    # behind a 1 x 1 convolution the window is sigma's, and its delta routes through argmax(9, 8, 10, 7)
    d = derive(Sequential(Conv2d(1, 1, 1, bias=False, weight=[[[[1]]]]), MaxPool2d(2)), [[9, 8], [10, 7]], MSELoss(), 0)
    for document in (markdown_body(d), latex_body(d)):
        assert r"\max\left(\sigma_{11}, \sigma_{12}, \sigma_{21}, \sigma_{22}\right) = \max\left(9, 8, 10, 7\right)" in document
        assert document.count(r"\operatorname{argmax}\left(9, 8, 10, 7\right)") == 4
        assert check(document, engine_values(d)) >= 4 + 1 + 1 + 4


@pytest.mark.parametrize("name", EXAMPLES)
def test_every_worked_line_of_every_example(name):
    d = specs.load(ROOT / "symgrad" / "examples" / f"{name}.toml").derive()
    values = engine_values(d)
    documents = (markdown_body(d), latex_body(d), markdown_body(d, "zh"))
    counts = [check(document, values) for document in documents]
    assert counts[0] == counts[1] == counts[2]
    if name.startswith("pool_d2l") or name in ("conv_sum", "conv_max_pool", "conv_avg_pool"):
        assert counts[0] > 0


def test_the_d2l_pooling_pages_write_windows_in_symbol_order():
    doc = markdown_body(specs.load(ROOT / "symgrad" / "examples" / "pool_d2l_pad1_stride2.toml").derive())
    assert r"\max\left(x_{21}, x_{22}, x_{31}, x_{32}, x_{41}, x_{42}\right) = \max\left(4, 5, 8, 9, 12, 13\right)" in doc
    assert r"= \max\left(5, 6, 7, 9, 10, 11, 13, 14, 15\right)" in doc


def test_decimals_fractions_and_negative_numbers_in_worked_lines():
    """Averages of 3 x 3 windows (ninths), an SGD step in decimals, ReLU's indicator, negative entries."""
    net = Sequential(Conv2d(1, 1, 2).init(weight=[[[[1, -2], [0, 3]]]], bias=[1]), ReLU(), AvgPool2d(3, stride=1))
    x = [[1, -1, 2, 0], [3, 1, -2, 1], [0, 2, 1, -1], [1, 0, 3, 2]]
    d = derive(net, x, MSELoss(), [[1.5]], SGD(lr=0.05))
    values = engine_values(d)
    for document in (markdown_body(d), latex_body(d)):
        assert check(document, values) >= 9 + 9 + 1
        assert r"\frac{1}{9}" not in document or r"\\[6pt]" in document


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_worked_line_of_the_handout(lang):
    checked = 0
    for problem in seed_problems(lang):
        if problem.derivation is None:
            continue
        values = engine_values(problem.derivation)
        for text in (render.to_markdown(Document(lang, problem.solution)), render.to_latex(Document(lang, problem.solution))):
            checked += check(text, values)
    assert checked >= 20


def test_every_worked_line_of_practice_problems():
    checked = 0
    for seed in (1, 7):
        for problem in generate(7, seed):
            if problem.derivation is not None:
                checked += check(render.to_markdown(Document("en", problem.solution)), engine_values(problem.derivation))
    assert checked >= 20


def test_the_checker_catches_re_sorted_numbers():
    """The check above must fail on the old output (max's numbers sorted as SymPy sorts Dummies)."""
    values = {"x_{11}": sp.Integer(9), "x_{12}": sp.Integer(8), "x_{21}": sp.Integer(10), "x_{22}": sp.Integer(7)}
    line = r"S_{11} = \max\left(x_{11}, x_{12}, x_{21}, x_{22}\right) = \max\left(10, 7, 8, 9\right) = 10"
    with pytest.raises(AssertionError, match="in order"):
        check(r"\begin{aligned}" + line + r"\end{aligned}", values)
    with pytest.raises(AssertionError):
        check(r"\begin{aligned}S_{11} = x_{11} + x_{12} = 9 + 8 = 16\end{aligned}", values)
    assert evaluate(r"\frac{-4}{4} + 2.5 \cdot \left(-2\right) + \left(\frac{1}{3}\right)^{2}") == Fraction(-53, 9)
