"""Compare what a PyTorch block prints when run with what the document says it prints."""

from __future__ import annotations

import re

import numpy as np

_NUMBER = re.compile(r"-?\d+\.\d*(?:e[-+]\d+)?|nan|-?inf")
_LABEL = re.compile(r"[A-Za-z_][\w\[\].]*:")  # net[0].weight.grad:, x.grad:, step 1 loss:

#: torch's float64 noise on an exact value (a zero computed as -2.8e-17 by this CPU's kernels).
NOISE = 1e-12


def assert_same_printout(printed: str, shown: str, context=None) -> None:
    """The same text, or the same numbers where torch's float64 rounding shows.

    torch computes in float64 with rounding, so a whole number may come out as -2.9999999999999996 and
    print as -3.0000 where the document's exact -3 prints as -3., an exact 0 may print as -0., a
    half-way value such as -1.89305 may round the other way in the fourth decimal, and an exact zero
    computed as 1e-17 switches torch's whole tensor to scientific notation (its layout then differs:
    only then are the numbers compared without the layout).
    """
    if printed == shown:
        return
    theirs = [float(v) for v in _NUMBER.findall(printed)]
    ours = [float(v) for v in _NUMBER.findall(shown)]
    if _NUMBER.sub("#", printed).replace(" ", "") != _NUMBER.sub("#", shown).replace(" ", ""):
        assert any(0 < abs(v) < NOISE for v in theirs), context  # only noise on a zero may change the layout
        assert _LABEL.findall(printed) == _LABEL.findall(shown), context
    assert len(theirs) == len(ours), context
    assert np.allclose(theirs, ours, rtol=1e-4, atol=1e-4, equal_nan=True), context
