"""A shape in the page's prose is written as its language writes one (issue 13): "of shape 1 x 1 x 8 x 8" in
English, "形状 1×1×8×8" in Chinese (no Latin x between spaced numbers), in the brief of a big tensor, the
symbols line of a symbolic one and the note of a tensor too big to print."""

from __future__ import annotations

import re

import numpy as np

from symgrad.derive import derive
from symgrad.engine.network import Sequential
from symgrad.ops import Conv2d, Flatten, Linear, MSELoss
from symgrad.printing.steps import latex_body, markdown_body

LATIN_TIMES = re.compile(r"\d+(?: x \d+)+")


def _numbers():
    """An 8 x 8 input (64 entries: printed in brief) through a conv with two channels."""
    rng = np.random.default_rng(1)
    net = Sequential(Conv2d(1, 2, 3).init(weight=np.round(rng.uniform(-1, 1, (2, 1, 3, 3)), 2).tolist(),
                                          bias=[0.5, -0.5]), Flatten(), Linear(72, 1).init(
        weight=np.round(rng.uniform(-1, 1, (1, 72)), 2).tolist(), bias=[0]))
    return derive(net, np.round(rng.uniform(-1, 1, (8, 8)), 2).tolist(), MSELoss(), [[1]])


def _symbols():
    """A bias of 30 symbols: its first and last symbol with its shape."""
    net = Sequential(Linear(2, 30).init(weight=np.ones((30, 2), dtype=int).tolist()),
                     Linear(30, 1).init(weight=np.ones((1, 30), dtype=int).tolist(), bias=[0]))
    return derive(net, [[1, 2]], MSELoss(), [[1]])


def _prose(doc: str) -> str:
    return re.sub(r"\$\$.*?\$\$|\$[^$]*\$|`[^`]*`", " ", doc, flags=re.S)


def test_chinese_pages_write_shapes_with_a_times_sign():
    for d, shapes in ((_numbers(), ("1×1×8×8", "1×2×6×6")), (_symbols(), ("30",))):
        for doc in (markdown_body(d, "zh"), latex_body(d, "zh")):
            prose = _prose(doc)
            assert not LATIN_TIMES.search(prose), LATIN_TIMES.search(prose).group(0)
            assert all(f"形状 {shape}" in prose for shape in shapes), shapes
    assert "（形状 30）" in _prose(markdown_body(_symbols(), "zh"))


def test_english_pages_keep_their_shapes():
    prose = _prose(markdown_body(_numbers(), "en"))
    assert "64 entries of shape 1 x 1 x 8 x 8" in prose and "72 entries of shape 1 x 2 x 6 x 6" in prose
    assert "×" not in prose


def test_a_note_after_a_symbol_reads_in_each_language():
    """A tensor too big to print: "$X$: (60 entries ...)" in English, "$X$（共 60 个元素……）" in Chinese (no
    half-width colon before the full-width parenthesis)."""
    d = _symbols()
    zh, en = markdown_body(d, "zh"), markdown_body(d, "en")
    assert re.search(r"\$（共 60 个元素，形状 30×2；", zh) and "$: （" not in zh and "$：（" not in zh
    assert re.search(r"\$: \(60 entries of shape 30 x 2; ", en)
