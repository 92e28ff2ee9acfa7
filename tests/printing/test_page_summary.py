"""Big or long numeric tensors are printed in brief, as torch prints them (summary.py): the numbers are
the engine's, rounded; a loss that is an exact log gets its decimal; symbols are never "b_1 = b_1"."""

from __future__ import annotations

import re

import numpy as np
import pytest

from symgrad.derive import derive
from symgrad.engine.network import Sequential
from symgrad.engine.optim import SGD
from symgrad.ops import Conv2d, CrossEntropyLoss, Flatten, Linear, MaxPool2d, MSELoss, ReLU
from symgrad.printing.steps import latex_body, markdown_body
from symgrad.printing.summary import approx
from symgrad.printing.words import WORDS

_BRIEF = re.compile(r"\$(?P<left>[^$]+)\$(?::|：)[^$]*?(?P<count>\d+)[^$]*?(?P<shape>\d+(?: x \d+)*)[^$]*"
                    r"\$\\left\[(?P<first>[^$]*?)(?:, \\dots)?\\right\]\$[^$]*\$\\lVert [^$]*\\rVert = (?P<norm>[^$]+)\$"
                    r"[^$]*\$(?P<min>[^$]+)\$[^$]*\$(?P<max>[^$]+)\$")


def _network(expand: bool):
    """Conv 1 -> 2 on 8x8 numbers, ReLU, max pool, Linear 18 -> 3, cross-entropy: tensors of 18 to 72 entries."""
    rng = np.random.default_rng(0)
    r = lambda *s: np.round(rng.uniform(-1, 1, s), 2).tolist()  # noqa: E731
    net = Sequential(Conv2d(1, 2, 3).init(weight=r(2, 1, 3, 3), bias=r(2)), ReLU(), MaxPool2d(2), Flatten(),
                     Linear(18, 3).init(weight=r(3, 18), bias=r(3)))
    return derive(net, r(8, 8), CrossEntropyLoss(), [1], SGD(lr=0.1), expand=expand)


def _engine(d) -> list[np.ndarray]:
    t = d.tensors
    arrays = [t.input, *(layer.output for layer in t.layers), *t.gradients().values(), *t.updated().values()]
    arrays += [p.value for p in t.parameters.values()]
    arrays += [np.array(v.tolist() if hasattr(v, "tolist") else v, dtype=object) for _, v in d.deltas]
    return [np.array([float(v) for v in np.asarray(a, dtype=object).reshape(-1)]) for a in arrays]


@pytest.mark.parametrize("expand", [True, False])
def test_briefs_and_rounded_matrices_hold_the_engines_numbers(expand):
    d = _network(expand)
    engine = _engine(d)
    for lang in ("en", "zh"):
        doc = markdown_body(d, lang)
        assert "index form above" not in doc and "见上面的下标公式" not in doc  # numbers throughout: no bare shape
        briefs = list(_BRIEF.finditer(doc))
        assert len(briefs) >= 8, len(briefs)  # X, W, sigma, a, f, dL/dW, the deltas, the update
        for m in briefs:
            first = [float(v) for v in m["first"].split(", ")]
            found = [e for e in engine if e.size == int(m["count"]) and
                     [approx(v) for v in e[:len(first)]] == [approx(v) for v in first] and
                     approx(float(np.linalg.norm(e))) == m["norm"] and approx(e.min()) == m["min"] and
                     approx(e.max()) == m["max"]]
            assert found, m.group(0)
        rounded = re.findall(r"\\approx \\begin\{bmatrix\}(.*?)\\end\{bmatrix\}", doc, re.DOTALL)
        assert rounded or not expand  # delta^z, dL/db, the updated bias: exact logs, printed rounded
        for body in rounded:
            values = np.array([float(c) for c in re.split(r"&|\\\\", body)])
            assert any(e.size == values.size and np.allclose(e, values, atol=5e-5, rtol=0) for e in engine), body
        loss = float(d.loss)
        if expand:  # the exact loss is a log: its decimal follows
            assert f"L \\approx {approx(loss)}" in doc and abs(float(approx(loss)) - loss) < 5e-5
        else:  # kept in names, evaluated to float64: the value ends the loss line
            assert re.search(r"L &?= .*?&?= %s\d*(\\end\{aligned\})?$" % re.escape(str(loss)[:8]), doc, re.MULTILINE | re.DOTALL)


def test_a_big_symbolic_tensor_is_named_not_written_as_itself():
    """A bias of 30 symbols is too wide for a line: its first and last symbol, not "b_1 = b_1"."""
    net = Sequential(Linear(2, 30).init(weight=np.ones((30, 2), dtype=int).tolist()),
                     Linear(30, 1).init(weight=np.ones((1, 30), dtype=int).tolist(), bias=[0]))
    d = derive(net, [[1, 2]], MSELoss(), [[1]])
    for doc, lang in ((markdown_body(d), "en"), (markdown_body(d, "zh"), "zh"), (latex_body(d), "en")):
        setup = doc[:doc.index(WORDS[lang]["layers"])]
        assert not re.search(r"b\^\{\[0\]\}_\{1\} = b\^\{\[0\]\}_\{1\}", setup), setup
        assert r"b^{[0]}_{1}, \dots, b^{[0]}_{30}" in setup
        assert WORDS[lang]["first_entry"] not in setup


def test_a_summary_of_huge_entries_does_not_overflow():
    """Entries near float64's limit (the fuzzer's 1e308): the norm is taken without squaring them into inf."""
    from symgrad.printing.summary import approx, brief

    assert brief(np.full(4, 1e307))["norm"] == r"2.0000 \cdot 10^{307}"  # squared, each entry would be inf
    shown = brief(np.full(40, 1e308))  # a norm beyond float64 is inf, as torch's
    assert shown["norm"] == r"\infty" and shown["max"] == r"1.0000 \cdot 10^{308}"
    assert approx(float("inf")) == r"\infty" and approx(float("-inf")) == r"-\infty"
