"""Pooling pictures: the padding ring, each window outlined, and average pooling's shares, as the engine
routes the gradient (the figure's data is the op's `figure`; TikZ in latex.py, a table in markdown.py)."""

from __future__ import annotations

import re

import numpy as np
import sympy as sp

from symgrad import spec as specs
from symgrad.derive import derive
from symgrad.engine.network import Sequential
from symgrad.ops import AvgPool2d, MaxPool2d, MSELoss
from symgrad.printing.steps import latex_body, markdown_body
from symgrad.printing.words import LANGUAGES

from paths import ROOT


def _x(values):
    return np.array([[[[sp.Integer(v) for v in row] for row in values]]], dtype=object)


def test_max_pool_figure_has_the_ring_the_windows_and_the_engines_routes():
    d = specs.load(ROOT / "symgrad" / "examples" / "pool_d2l_pad1_stride2.toml").derive()
    layer, x = d.network.layers[0], d.tensors.input
    frame = layer.figure(x.shape, x)
    assert frame["pad"] == (1, 1) and frame["fill"] == r"-\infty"
    # 3x3 windows, stride 2, padding 1 on a 4x4 input: spans start at -1 and 1
    assert frame["windows"] == [(-1, -1, 2, 2), (-1, 1, 2, 4), (1, -1, 4, 2), (1, 1, 4, 4)]
    grad = np.asarray(d.tensors.gradient("input"), dtype=object)[0, 0]
    assert set(frame["marks"]) == {(h, w) for h, w in np.ndindex(*grad.shape) if grad[h, w] != 0}
    page = latex_body(d)
    assert page.count(r"\draw[very thick") == 4 and r"\draw[dashed,gray" in page
    assert page.count(r"{\small $-\infty$}") == 6 * 6 - 4 * 4  # the ring around the 4 x 4 input
    md = markdown_body(d)
    assert md.count(r"*$-\infty$*") == 6 * 6 - 4 * 4 and "| *0* |" in md


def test_avg_pool_figure_writes_each_cells_share_as_the_engine_spreads_it():
    net = Sequential(AvgPool2d(2, stride=1, padding=1))  # overlapping windows, a ring of zeros, divisors 4
    values = [[1, 2, 3], [4, 5, 6], [7, 8, 9]]
    d = derive(net, values, MSELoss(reduction="sum"), np.zeros((4, 4), dtype=int).tolist())
    layer, x = net.layers[0], d.tensors.input
    frame = layer.figure(x.shape, x)
    assert frame["pad"] == (1, 1) and frame["fill"] == "0" and len(frame["windows"]) == 16
    delta = np.array(d.deltas[0][1].tolist(), dtype=object).reshape(1, 1, 4, 4)[0, 0]
    grad = np.asarray(d.tensors.gradient("input"), dtype=object)[0, 0]
    assert set(frame["marks"]) == {(h, w) for h in range(3) for w in range(3)}
    for (h, w), note in frame["marks"].items():
        total = sum(delta[int(i[0]) - 1, int(i[1]) - 1] / int(div) for i, div in re.findall(r"\\delta_\{(\d\d)\}/(\d+)", note))
        assert total == grad[h, w], (h, w, note)
    for lang in LANGUAGES:
        page = markdown_body(d, lang)
        assert AvgPool2d.words[lang]["figure"] in page
    assert latex_body(d).count(r"\draw[very thick") == 16


def test_a_window_inside_the_input_has_no_ring():
    net = Sequential(MaxPool2d(2))
    d = derive(net, [[1, 2], [4, 3]], MSELoss(), [[[[0]]]])
    page = latex_body(d)
    assert r"\draw[dashed" not in page and page.count(r"\draw[very thick") == 1
