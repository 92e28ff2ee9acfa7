"""A fully symbolic conv + max pool gives its closed form in the forward pass's names (factored.py),
never "(the closed form is too long to print ...)", and that form is the engine's gradient."""

from __future__ import annotations

import numpy as np
import sympy as sp

from symgrad import spec as specs
from symgrad.derive import derive
from symgrad.engine.network import Sequential
from symgrad.engine.optim import SGD
from symgrad.ops import Conv2d, MaxPool2d, MSELoss
from symgrad.printing.common import squeeze
from symgrad.printing.factored import Factored
from symgrad.printing.markdown import math  # as the Markdown writes display math (\, as \thinspace)
from symgrad.printing.steps import latex_body, markdown_body
from symgrad.printing.texnames import tex
from symgrad.printing.words import LANGUAGES, WORDS

from paths import ROOT


def _symbolic(size: int, stride: int | None = None):
    """x (size x size symbols) -> Conv2d 2x2 (symbols k) -> MaxPool2d(2, stride) -> MSE against 60."""
    net = Sequential(Conv2d(1, 1, 2, bias=False), MaxPool2d(2, stride))
    x = sp.Matrix(size, size, lambda i, j: sp.Symbol(f"x_{i + 1}{j + 1}"))
    return derive(net, x.tolist(), MSELoss(), 60, SGD(lr=0.01))


def _assert_factored_is_the_engines(d, factored):
    """Each factored entry, its letters and forward names written back, equals the engine's expanded entry."""
    named = d.named
    for full in ("0.weight", "input"):
        engine = squeeze(np.asarray(d.tensors.gradient(full), dtype=object)).reshape(-1)
        mine = factored.entries(squeeze(named.gradients[full])).reshape(-1)
        assert len(mine) == len(engine)
        for entry, value in zip(mine, engine):
            assert sp.expand(named.expand(factored.restore(entry)) - value) == 0, full
    for (_, names), (_, values) in zip(named.deltas, d.deltas):
        values = np.array(values.tolist() if hasattr(values, "tolist") else values, dtype=object).reshape(-1)
        for name, value in zip(np.asarray(names).reshape(-1), values):
            entry = factored.entry(named.definitions[name])
            assert sp.expand(named.expand(factored.restore(entry)) - value) == 0, name


def test_the_symbolic_conv_max_pool_page_prints_the_factored_form():
    d = specs.load(ROOT / "symgrad" / "examples" / "conv_symbolic.toml").derive()
    for lang in LANGUAGES:
        page = markdown_body(d, lang)
        assert WORDS[lang]["too_long"] not in page
        assert page.count(WORDS[lang]["forward_names"]) == 3  # delta^sigma, dL/dK, dL/dX
        assert WORDS[lang]["argmax_legend"] in page
    page = markdown_body(d)
    assert r"m = \operatorname{argmax}\left(\sigma_{11}, \sigma_{12}, \sigma_{21}, \sigma_{22}\right)" in page
    # dL/dk_11 = 2 (S_11 - 60) (x_11 1[m = 1] + x_12 1[m = 2] + x_21 1[m = 3] + x_22 1[m = 4])
    factored = Factored(d.named)
    k11 = factored.entry(squeeze(d.named.gradients["0.weight"]).reshape(-1)[0])
    assert tex(k11) in page
    assert tex(k11).startswith(r"2 \left(S_{11} - 60\right) \left(x_{11} \mathbb{I}\left[m = 1\right]")
    assert math(r"\delta^{\sigma} = 2 \left(S_{11} - 60\right)\,\begin{bmatrix}\mathbb{I}\left[m = 1\right]") in page
    _assert_factored_is_the_engines(d, factored)
    assert "too long" not in latex_body(d)


def test_several_windows_get_one_letter_each_and_the_same_values():
    d = _symbolic(4, stride=1)  # four overlapping windows over a 3x3 sigma
    page = markdown_body(d)
    assert WORDS["en"]["too_long"] not in page
    for window in ("m_{11}", "m_{12}", "m_{21}", "m_{22}"):
        assert window + r" &= \operatorname{argmax}" in page
    assert WORDS["en"]["composed"] in page  # dL/dK: the named form with delta^sigma's closed forms above
    _assert_factored_is_the_engines(d, Factored(d.named))


def _benchmark_spec(n: int, pool: str) -> str:
    from benchmarks.commands import spec_text

    return spec_text(n, 3, pool)


def test_a_closed_form_too_long_from_its_first_entry_is_not_factored_whole(monkeypatch):
    """page._first_too_long: dL/dK at 6x6 avg is decided from one factored entry, and the page is the one
    that factoring all nine gave; with max pooling (letters per window) nothing is skipped."""
    import symgrad.printing.page as page

    layout = next(c for c in vars(page).values() if isinstance(c, type) and hasattr(c, "_first_too_long"))
    entry, calls = Factored.entry, []
    monkeypatch.setattr(Factored, "entry", lambda self, e: calls.append(e) or entry(self, e))
    for pool, skips in (("avg", True), ("max", False)):
        d = specs.parse(_benchmark_spec(6, pool)).derive("rules")
        calls.clear()
        fast = latex_body(d), markdown_body(d)
        factored_fast = len(calls)
        with monkeypatch.context() as m:
            m.setattr(layout, "_first_too_long", lambda self, left, named: False)
            calls.clear()
            whole = latex_body(d), markdown_body(d)
        assert fast == whole
        assert (factored_fast < len(calls)) == skips, (pool, factored_fast, len(calls))
