"""Each general rule is printed once per document (page.build's `shown_rules`), later uses refer back to it."""

from __future__ import annotations

from symgrad.derive import derive
from symgrad.engine.network import Sequential
from symgrad.engine.optim import SGD
from symgrad.ops import Conv2d, MaxPool2d, MSELoss, ReLU
from symgrad.printing.blocks import Math, Para
from symgrad.printing.page import build
from symgrad.printing.steps import latex_body, markdown_body
from symgrad.printing.words import LANGUAGES, WORDS


def _two_convs():
    """Two Conv2d layers: the same general rules (forward, weight, input) apply to both."""
    net = Sequential(Conv2d(1, 1, 2, bias=False).init(weight=[[[[1, -1], [0, 2]]]]), ReLU(),
                     Conv2d(1, 1, 2, bias=False).init(weight=[[[[2, 0], [1, 1]]]]))
    x = [[1, 2, 0, 1], [0, 1, 2, 3], [2, 1, 0, 1], [1, 0, 1, 2]]
    return derive(net, x, MSELoss(reduction="sum"), [[[[3, 1], [0, 2]]]], SGD(lr=0.5))


def _one_conv():
    net = Sequential(Conv2d(1, 1, 2, bias=False).init(weight=[[[[3, 2], [1, 5]]]]), MaxPool2d(2))
    return derive(net, [[1, 2, 3], [4, 5, 6], [7, 8, 9]], MSELoss(), [[[[60]]]], SGD(lr=0.5))


def _general_forms(blocks) -> list[str]:
    """The displayed equations that follow a general rule's lead-in."""
    leads = {WORDS[lang][key] for lang in LANGUAGES for key in ("general", "general_plain", "general_short")}
    return [b.latex for a, b in zip(blocks, blocks[1:]) if isinstance(a, Para) and a.text in leads and isinstance(b, Math)]


def test_a_page_prints_each_general_rule_once():
    blocks = build(_two_convs())
    forms = _general_forms(blocks)
    assert forms and len(forms) == len(set(forms))  # Conv2d's forward, weight and input rules: once each
    again = [b.text for b in blocks if isinstance(b, Para) and b.text.startswith("General rule: that of Conv2d")]
    assert len(again) >= 2  # the second conv's forward and weight rules refer back


def test_one_set_shared_by_a_document_prints_each_rule_once_in_it():
    for lang in LANGUAGES:
        lead = WORDS[lang]["general"]
        shown: set = set()
        first = markdown_body(_one_conv(), lang, shown_rules=shown)
        assert ("Conv2d", "forward") in shown and ("Conv2d", "weight") in shown and ("MaxPool2d", "input") in shown
        second = markdown_body(_one_conv(), lang, shown_rules=shown)
        assert first.count(lead.split("$")[0]) == 1  # what s, p, d mean: said once
        assert first.count(WORDS[lang]["general_short"]) >= 3  # the other windowed rules: a short lead-in
        assert lead.split("$")[0] not in second  # none again on the second
        assert WORDS[lang]["rule_again_instance"].split("{")[0] in second
        # the instance with this layer's numbers is still printed
        assert second.count(r"\sigma_{i,j} = \sum_{a=1}^{2}") == 1
    # without a shared set, every page has its rules
    assert latex_body(_one_conv()).count("General rule (any size") == 1  # the long lead-in once
    assert latex_body(_one_conv(), shown_rules=None).count("General rule (any size") == 1
