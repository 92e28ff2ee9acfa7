"""What the derivation page's rules say: only what torch has, no one-term sums."""

from __future__ import annotations

import re

from symgrad import spec as specs
from symgrad.ops import AvgPool2d, MSELoss, L1Loss
from symgrad.printing.steps import latex_body, markdown_body
from symgrad.printing.words import LANGUAGES, WORDS

from paths import ROOT

EXAMPLES = ROOT / "symgrad" / "examples"


def _derivation(name):
    return specs.load(EXAMPLES / f"{name}.toml").derive()


def test_the_avg_pool_rule_has_no_dilation():
    """torch's AvgPool2d has no dilation: neither its rule nor the words leading into it mention d."""
    layer = AvgPool2d(2, padding=1)
    for key, form in layer.index_form.items():
        assert not re.search(r"\bd\(|dilation", form), key
    for lang in LANGUAGES:
        lead = WORDS[lang][AvgPool2d.rule_words]
        assert "$d$" not in lead and "dilation" not in lead and "膨胀" not in lead
        assert "$s$" in lead and "$p$" in lead
    page = markdown_body(_derivation("conv_avg_pool"))
    avg = page[page.index("### Layer 1: AvgPool2d"):]
    assert "dilation $d$" in page[:page.index("### Layer 1: AvgPool2d")]  # Conv2d's rule has one
    part = avg[:avg.index("## Backward")]
    assert "dilation" not in part and "d(a-1)" not in part


def test_a_loss_over_one_entry_is_written_without_a_sum():
    for loss in (MSELoss(), MSELoss("sum"), L1Loss()):
        for key in ("forward", "input"):
            one = loss.index_instance(key, (1, 1, 1, 1))
            assert r"\sum" not in one and "S_{11}" in one and "y_i" not in one
            assert r"\sum_{i=1}^{4}" in loss.index_instance(key, (1, 1, 2, 2)) or key == "input"
    assert MSELoss().index_instance("forward", (1, 1, 1, 1)) == "L = (S_{11} - y)^2"
    assert MSELoss().index_instance("input", (1, 1, 1, 2)) == r"\frac{\partial L}{\partial S_i} = (S_i - y_i)"
    assert MSELoss().index_instance("input", (1, 1, 2, 2)) == r"\frac{\partial L}{\partial S_i} = \frac{1}{2} (S_i - y_i)"
    page = markdown_body(_derivation("conv_max_pool"))
    assert r"\sum_{i=1}^{1}" not in page and "L = (S_{11} - y)^2" in page


def test_wide_lines_are_folded_never_shrunk():
    """A line wider than the text is folded at its top-level = and then + (fold.py); LaTeX never shrinks one."""
    from symgrad.printing.fold import fold
    from symgrad.printing.page import LINE_WIDTH
    from symgrad.printing.texnames import width

    long_sum = "L = " + " + ".join(r"\frac{\left(z_{1%d} - y_{%d}\right)^{2}}{10}" % (k, k) for k in range(10)) + " = 3.25"
    folded = fold(long_sum, LINE_WIDTH)
    assert folded.startswith(r"\begin{aligned}L &= ") and folded.endswith(r"&= 3.25\end{aligned}")
    rows = folded[len(r"\begin{aligned}"):-len(r"\end{aligned}")].split(r" \\ ")
    assert len(rows) >= 3 and all(width(row) <= LINE_WIDTH for row in rows)
    assert all(row.startswith(r"&\quad + ") for row in rows[1:-1])
    # nothing inside a brace group, \left ... \right or a matrix is cut; narrow lines stay as they are
    matrix = r"K = \begin{bmatrix}" + " & ".join(["k_{1} + k_{2} + k_{3}"] * 8) + r"\end{bmatrix}"
    assert fold(matrix, LINE_WIDTH) == matrix  # one wide matrix: nothing to cut, left as it is
    assert fold("a = b + c", LINE_WIDTH) == "a = b + c"
    two = r"a = " + " + ".join(f"b_{{{k}}}" for k in range(40)) + r", \quad c = d"
    assert r"\\ c &= d" in fold(two, LINE_WIDTH)  # two statements, two rows
    for name in ("conv_max_pool", "conv_symbolic"):
        assert r"\resizebox" not in latex_body(_derivation(name))


def test_lead_ins_stay_with_their_equation_and_figures_with_their_captions():
    """Defect 5 on derivation pages: no page break after a lead-in line, a figure and its caption in one box."""
    doc = latex_body(_derivation("conv_max_pool"))
    for lead in (WORDS["en"]["general"], WORDS["en"]["instance"], WORDS["en"]["worked"]):
        at = doc.index(lead.split("$")[0])
        assert doc[at:].split("\n", 1)[0].endswith(r"\par\nopagebreak"), lead
    boxes = re.findall(r"\\begin\{minipage\}\{\\linewidth\}(.*?)\\end\{minipage\}", doc, re.DOTALL)
    assert len(boxes) == 3 and r"\begin{tabular}" in boxes[0]  # the layer table with its lead-in (one box), then
    boxes = boxes[1:]
    assert all(r"\begin{tikzpicture}" in box for box in boxes)  # conv taps, max routing
    assert all(box.index(r"\end{tikzpicture}") < box.index(caption) for box, caption in
               zip(boxes, ("Max pooling routes", "Which input entries")))
