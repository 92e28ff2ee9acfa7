"""Nothing printed twice in a row: a gradient too long both in names and in closed form gets one note."""

from __future__ import annotations

import pytest

from symgrad import spec as specs
from symgrad.printing import render

AVG_10 = """
[input]
shape = [1, 1, 10, 10]
symbol = "x"
[[layers]]
type = "Conv2d"
in_channels = 1
out_channels = 1
kernel_size = 3
bias = false
[[layers]]
type = "AvgPool2d"
kernel_size = 2
[loss]
type = "MSELoss"
target = 1
"""


@pytest.mark.parametrize("fmt", ["latex", "markdown"])
def test_no_paragraph_follows_itself(fmt):
    text = render(specs.parse(AVG_10).derive("rules"), fmt)
    paragraphs = [p.strip() for p in text.split("\n\n") if p.strip()]
    repeats = [p for p, q in zip(paragraphs, paragraphs[1:]) if p == q]
    assert not repeats, repeats
    assert sum("entries of up to 64 terms" in p for p in paragraphs) == 1  # dL/dK: named form and closed form
