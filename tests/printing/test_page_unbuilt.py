"""A page does not build the LaTeX of a closed form that is certainly too wide for it (measure.py's bound)."""

from __future__ import annotations

import symgrad as sg
from symgrad.printing import page, render


def test_a_loss_too_wide_for_a_line_is_not_printed_to_be_measured(monkeypatch):
    net = sg.Sequential(sg.Conv2d(1, 1, 3, bias=False), sg.AvgPool2d(2))
    d = sg.derive(net, sg.symbolic("x", (1, 1, 6, 6)), sg.MSELoss(), target=1)
    assert page.MAX_TERMS >= 4  # the loss has 4 terms: the term count alone does not rule it out
    printed = []
    original = page.tex
    monkeypatch.setattr(page, "tex", lambda expr, *a, **k: printed.append(expr) or original(expr, *a, **k))
    document = render(d, "latex")
    assert page.Occurrences()(d.loss) > page.MAX_WIDTH  # certainly wider than a line ...
    assert not any(expr == d.loss for expr in printed)  # ... so never printed
    assert r"L = \frac{1}{4} \sum_{i=1}^{4} (S_i - y_i)^2" in document  # the loss in names stays on the page
