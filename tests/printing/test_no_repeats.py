"""Nothing printed twice in a row: a gradient too long both in names and in closed form gets one note."""

from __future__ import annotations

import pytest

from symgrad import spec as specs
from symgrad.printing import render


def _avg_10() -> str:
    from benchmarks.commands import spec_text  # the benchmarks' 10x10/3x3 case

    return spec_text(10, 3, "avg")


@pytest.mark.parametrize("fmt", ["latex", "markdown"])
def test_no_paragraph_follows_itself(fmt):
    text = render(specs.parse(_avg_10()).derive("rules"), fmt)
    paragraphs = [p.strip() for p in text.split("\n\n") if p.strip()]
    repeats = [p for p, q in zip(paragraphs, paragraphs[1:]) if p == q]
    assert not repeats, repeats
    assert sum("entries of up to 64 terms" in p for p in paragraphs) == 1  # dL/dK: named form and closed form
