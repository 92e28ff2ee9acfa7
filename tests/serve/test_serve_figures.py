"""The page's derivation: its figures as inline SVG drawn from the ops' own figure() data (well-formed
XML, one cell per input entry, the marks, padding ring and windows the op declares), and the worked
lines marked with \\htmlData for the hover; the Markdown beside it stays `derive --format markdown`'s."""

import re
import xml.etree.ElementTree as ET

import pytest

from symgrad import examples
from symgrad import spec as specs
from symgrad.printing import render
from symgrad.printing.blocks import Grid
from symgrad.serve import jobs
from symgrad.serve.document import mark
from symgrad.serve.svg import grid_svg

SVG = "{http://www.w3.org/2000/svg}"


def figures(html):
    return [ET.fromstring(s) for s in re.findall(r"<svg\b.*?</svg>", html, re.S)]


def rects(svg, kind):
    return [r for r in svg.iter(SVG + "rect") if r.get("class") == kind]


def declared(name):
    """(layer, its figure()) for each layer whose figure the document draws, in document order (backward)."""
    d = specs.parse(examples.text(name)).derive()
    t = d.tensors
    out = []
    for i in reversed(range(len(d.network))):
        layer = d.network.layers[i]
        x = t.input if i == 0 else t.layers[i - 1].output
        frame = layer.figure(x.shape, x) if layer.figure else None
        if frame is not None:
            out.append((layer, x, frame if "marks" in frame else {"marks": frame}))
    return out


@pytest.mark.parametrize("name", ["conv_max_pool", "conv_avg_pool", "pool_d2l_pad1_stride2", "conv_symbolic"])
def test_each_figure_is_svg_of_the_ops_figure_data(name):
    html = jobs.derive(examples.text(name), include=["html"])["html"]
    drawn, expected = figures(html), declared(name)
    assert len(drawn) == len(expected) > 0
    for svg, (layer, x, frame) in zip(drawn, expected):
        rows, cols = x.shape[2], x.shape[3]
        assert len(rects(svg, "cell")) == rows * cols
        assert {(int(r.get("data-r")), int(r.get("data-c"))) for r in rects(svg, "mark")} == set(frame["marks"])
        ph, pw = frame.get("pad", (0, 0))
        assert len(rects(svg, "pad")) == (rows + 2 * ph) * (cols + 2 * pw) - rows * cols
        assert len(rects(svg, "window")) == len(frame.get("windows", ()))


def test_the_conv_figure_marks_the_taps_of_dL_dK11_and_pooling_its_first_maximum():
    html = jobs.derive(examples.text("conv_max_pool"), include=["html"])["html"]
    pool, conv = figures(html)
    d = specs.parse(examples.text("conv_max_pool")).derive()
    taps = d.network.layers[0].weight_taps(d.tensors.input.shape, 1, 1)
    assert {(int(r.get("data-r")), int(r.get("data-c"))) for r in rects(conv, "mark")} == set(taps)
    assert {(int(r.get("data-r")), int(r.get("data-c"))) for r in rects(pool, "mark")} == {(1, 1)}  # 80 = sigma_22
    labels = ["".join(t.itertext()) for t in pool.iter(SVG + "text") if t.get("class") == "label"]
    assert labels == ["36", "47", "69", "80"]
    assert len(rects(pool, "window")) == 1
    assert "<table" not in html[html.index("Backward"):html.index("Optimizer")]  # no Markdown grid tables left


def test_a_padded_pool_figure_draws_its_ring_with_minus_infinity():
    html = jobs.derive(examples.text("pool_d2l_pad1_stride2"), include=["html"])["html"]
    svg = figures(html)[0]
    pads = [t for t in svg.iter(SVG + "text") if t.get("class") == "pad-label"]
    assert pads and all("".join(t.itertext()) == "−∞" for t in pads)


def test_svg_labels_and_notes_are_escaped():
    grid = Grid((("<script>alert(1)</script>", "a&b"), ('"q"', "x_{11}")), {(0, 1): "</svg><b>$i$"}, "cap")
    svg = ET.fromstring(grid_svg(grid))
    assert not list(svg.iter("script")) and not list(svg.iter(SVG + "script")) and not list(svg.iter(SVG + "b"))
    texts = ["".join(t.itertext()) for t in svg.iter(SVG + "text") if t.get("class") in ("label", "note")]
    assert "<script>alert(1)</script>" in texts and "a&b" in texts and "</svg><b>i" in texts
    sub = [t for t in svg.iter(SVG + "tspan")]
    assert sub and sub[0].text == "11" and sub[0].get("baseline-shift") == "sub"


def test_the_worked_line_of_dL_dK22_is_marked_and_the_markdown_is_unchanged():
    text = examples.text("conv_max_pool")
    result = jobs.derive(text, include=["html", "markdown"])
    d = specs.parse(text).derive()
    assert result["markdown"] == render(d, "markdown", title=specs.parse(text).title)
    assert r"\htmlData" not in result["markdown"]
    html = result["html"]
    lines = re.findall(r"\\htmlData\{entry=grad:0\.weight@3\}\{([^\n]*?)\}(?:&amp;|\\\\|$)", html, re.M)
    assert lines and any(r"\partial K_{22}" in line for line in lines)
    row = next(r for r in html.split("\\\\") if "entry=grad:0.weight@3" in r)
    assert row.count("entry=grad:0.weight@3") == 2 and "9 \\cdot 40 = 360}" in row.replace(" }", "}")
    for k in range(4):
        assert f"entry=grad:0.weight@{k}" in html
    for k in range(9):
        assert f"entry=grad:input@{k}" in html
    assert "entry=delta:0@3" in html and "entry=out:1@0" in html


def test_mark_wraps_rows_keeps_continuations_and_leaves_others():
    names = {"a_{1}": "grad:p@0", "a_{2}": "grad:p@1"}
    latex = r"\begin{aligned}a_{1} &= x + \begin{bmatrix}1 & 2\\3 & 4\end{bmatrix} \\ &\quad + y \\[4pt] a_{2} &= 3 \\ b &= 4\end{aligned}"
    out = mark(latex, names)
    assert out.startswith(r"\begin{aligned}\htmlData{entry=grad:p@0}{a_{1} }&\htmlData{entry=grad:p@0}{{}= x + "
                          r"\begin{bmatrix}1 & 2\\3 & 4\end{bmatrix} }\\ ")  # the matrix's \\ and & stay inside
    assert r"\\ &\htmlData{entry=grad:p@0}{{}\quad + y }" in out  # a folded continuation: the row above's entry
    assert r"\\[4pt]\htmlData{entry=grad:p@1}{ a_{2} }&\htmlData{entry=grad:p@1}{{}= 3 }" in out
    assert out.endswith(r"\\ b &= 4\end{aligned}")  # no entry of that name: as written
    assert mark(r"a_{2} = 3", names) == r"\htmlData{entry=grad:p@1}{a_{2} = 3}"
    assert mark(r"c = 3", names) == "c = 3"
