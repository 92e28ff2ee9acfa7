"""The handout and exercise sheets as a teacher prints them (issue 13).

The documents are compiled with latexmk and the language's engine (as `--out x.pdf` does) and
read back as a reader sees them: pages from pdfinfo, page text from pdftotext, overfull lines
from the TeX log. The summary page comes first, a pitfalls box holds numbers from the engine
(checked against torch), each general rule is printed once, the sheets leave room to write,
and a tied max-pooling window's key says where torch sends its gradient.
"""

from __future__ import annotations

import html
import re
import shutil
import subprocess

import numpy as np
import pytest

from answer_key import MATH, numbers, sections
from lazy_torch import torch
from symgrad.handout import compile as tex
from symgrad.handout import exercises, handout, problems, questions, sheets, summary, to_latex, to_markdown
from symgrad.handout.document import Box, Solution, Space, Text
from symgrad.handout.words import WORDS

MAX_PAGES = 16  # the English handout
MAX_SOLUTION_PAGES = 1.2  # "each question's worked solution in about one page"
MAX_OVERFULL = 5.0  # pt: a line may run this far into the margin, no further
OVERFULL = re.compile(r"^Overfull \\[hv]box \(([\d.]+)pt too (?:wide|high)\)", re.MULTILINE)


def _tools():
    for tool in ("latexmk", "pdfinfo", "pdftotext"):
        assert shutil.which(tool), f"{tool} is needed (TeX Live and poppler-utils, as .ci/run installs)"


def compile_document(folder, doc, name):
    """(pdf path, log text) of `doc`, compiled as symgrad compiles it, the log kept."""
    _tools()
    source = folder / f"{name}.tex"
    source.write_text(to_latex(doc), encoding="utf-8")
    result = subprocess.run(["latexmk", tex.engine(doc.lang), "-interaction=nonstopmode", "-halt-on-error",
                             source.name], cwd=folder, capture_output=True, timeout=tex.TIMEOUT)
    log = (folder / f"{name}.log").read_text(encoding="utf-8", errors="replace")
    assert result.returncode == 0, f"{name}: LaTeX failed: {tex.first_error(str(folder / (name + '.log')))}"
    return folder / f"{name}.pdf", log


def pages(pdf) -> int:
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    return int(re.search(r"^Pages:\s+(\d+)$", info, re.MULTILINE).group(1))


def page_text(pdf, page: int) -> str:
    """One page's text, all white space removed (pdftotext breaks lines where TeX did)."""
    out = subprocess.run(["pdftotext", "-f", str(page), "-l", str(page), str(pdf), "-"], capture_output=True,
                         text=True, check=True).stdout
    return re.sub(r"\s+", "", out)


@pytest.fixture(scope="module", params=["en", "zh"])
def printed(request, tmp_path_factory):
    doc = handout(request.param)
    pdf, log = compile_document(tmp_path_factory.mktemp(f"handout-{request.param}"), doc, "handout")
    return request.param, doc, pdf, log


def test_english_handout_has_at_most_16_pages(printed):
    lang, _, pdf, _ = printed
    count = pages(pdf)
    assert count <= MAX_PAGES or lang != "en", f"the English handout has {count} pages"
    assert count >= 8  # the summary, seven questions and their solutions, the key: not an empty document


def test_no_line_runs_past_the_margin(printed):
    lang, _, _, log = printed
    over = [float(pt) for pt in OVERFULL.findall(log)]
    assert all(pt <= MAX_OVERFULL for pt in over), f"{lang}: overfull boxes of {sorted(over)[-3:]} pt"


def test_the_summary_page_comes_first(printed):
    """Page 1 holds the title, the four rules and nothing of Question 1."""
    lang, doc, pdf, _ = printed
    w = WORDS[lang]
    first = page_text(pdf, 1)
    first = re.sub(r"\W", "", first)
    plain = lambda s: re.sub(r"\W", "", re.sub(r"\$[^$]*\$|`[^`]*`", "", s))  # letters only: TeX curls quotes
    for key, _, _ in summary.RULES:
        assert plain(w[key].split("$")[0]) in first, key
    question = plain(w["question"].format(n=1, title=w["conv_sum_title"]))
    assert question not in first
    assert plain(w["summary_title"]) in first
    assert question in re.sub(r"\W", "", page_text(pdf, 2))
    heading = next(i for i, b in enumerate(doc.blocks) if getattr(b, "text", None) == w["summary_title"])
    solution = next(i for i, b in enumerate(doc.blocks) if isinstance(b, Solution))
    assert heading < solution


def test_a_worked_solution_line_never_ends_a_page(printed):
    """'Worked solution' asks for room below it, so it is never the last line of a page."""
    lang, _, pdf, _ = printed
    worked = WORDS[lang]["worked"].replace(" ", "")
    for page in range(1, pages(pdf) + 1):
        text = subprocess.run(["pdftotext", "-f", str(page), "-l", str(page), str(pdf), "-"], capture_output=True,
                              text=True, check=True).stdout
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        tail = [re.sub(r"\s+", "", line) for line in lines[-3:]]
        assert worked not in tail[:-1] and tail[-1:] != [worked], f"{lang}: page {page} ends with '{worked}'"


def text_lines(pdf) -> list[tuple[int, float, float, str, float]]:
    """(page, top, bottom, text, page height) of every text line, in reading order: pdftotext's boxes, in pt
    from the page's top; a line's text with its white space and punctuation removed."""
    out = subprocess.run(["pdftotext", "-bbox-layout", str(pdf), "-"], capture_output=True, text=True,
                         check=True).stdout
    found = []
    for number, page in enumerate(re.findall(r"<page .*?</page>", out, re.S), 1):
        height = float(re.search(r'height="([\d.]+)"', page).group(1))
        for line in re.findall(r"<line (.*?)</line>", page, re.S):
            top, bottom = (float(re.search(f'{edge}="([-\\d.]+)"', line).group(1)) for edge in ("yMin", "yMax"))
            words = "".join(html.unescape(w) for w in re.findall(r"<word [^>]*>(.*?)</word>", line))
            found.append((number, top, bottom, re.sub(r"\W", "", words), height))
    return sorted(found)


def solution_pages(doc, pdf) -> dict[str, float]:
    """How many pages each question's worked solution fills: from its "Worked solution" line to the last line
    before the next question (or the answer key), the text's height on each page over the text area's
    height (the page less the preamble's margins; the page number, in the margin, is not counted)."""
    w = WORDS[doc.lang]
    plain = lambda s: re.sub(r"\W", "", s)
    margin = float(re.search(r"margin=([\d.]+)cm", to_latex(doc)).group(1)) * 72 / 2.54
    headings = [b.text for b in doc.blocks if getattr(b, "level", None) == 2]
    questions = [h for h in headings if any(h.startswith(w["question"].format(n=n, title="")) for n in range(1, 40))]
    lines = text_lines(pdf)
    at = lambda text, after=0: next(k for k in range(after, len(lines)) if lines[k][3].startswith(plain(text)))
    spans = {}
    for question, following in zip(questions, [*questions[1:], w["answer_key"]]):
        start = next(k for k in range(at(question), len(lines)) if lines[k][3] == plain(w["worked"]))
        end = at(following, start)
        extent: dict[int, tuple[float, float]] = {}
        for page, top, bottom, _, height in lines[start:end]:
            if top < height - margin:
                low, high = extent.get(page, (top, bottom))
                extent[page] = (min(low, top), max(high, bottom))
        body = lines[start][4] - 2 * margin
        spans[question] = sum(high - low for low, high in extent.values()) / body
    return spans


def test_each_worked_solution_takes_about_a_page(printed):
    """Every question's worked solution (the rules printed once, no back-references or repeats) fills at most
    MAX_SOLUTION_PAGES pages of text, measured in the PDF from its "Worked solution" line to the next question."""
    lang, doc, pdf, _ = printed
    spans = solution_pages(doc, pdf)
    assert len(spans) >= 7 and all(span > 0.2 for span in spans.values()), spans  # each one found and measured
    long = {q: round(span, 2) for q, span in spans.items() if span > MAX_SOLUTION_PAGES}
    assert not long, f"{lang}: worked solutions longer than {MAX_SOLUTION_PAGES} pages: {long}"


# --- the pitfalls box ------------------------------------------------------------------

def test_pitfalls_box_is_there_in_both_formats():
    for lang in ("en", "zh"):
        doc = handout(lang)
        [box] = [b for b in doc.blocks if isinstance(b, Box)]
        assert box.title == WORDS[lang]["pitfalls_title"] and len(box.items) == len(summary.PITFALLS)
        markdown = to_markdown(doc)
        assert f"> **{box.title}**" in markdown and markdown.count("\n> - ") == len(box.items)
        latex = to_latex(doc)
        first = WORDS[lang]["question"].format(n=1, title="")
        assert "\\fbox{\\begin{minipage}" in latex and latex.index(box.title) < latex.index(first)


@pytest.mark.torch
def test_pitfalls_numbers_are_torchs():
    """Two backward passes without zero_grad double dL/dK; the copied update and y.sum()'s 1/4 as torch has them."""
    [box] = [b for b in handout("en").blocks if isinstance(b, Box)]
    items = dict(zip(summary.PITFALLS, box.items))
    d = questions.conv_derivations()["conv_sum"]
    model = torch.nn.Conv2d(1, 1, 2, bias=False).double()
    with torch.no_grad():
        model.weight.copy_(torch.tensor(np.asarray(d.tensors.parameters["0.weight"].value, dtype=float)))
    x = torch.tensor(np.asarray(d.tensors.input, dtype=float))
    for _ in range(2):  # no zero_grad between them
        torch.nn.functional.mse_loss(model(x).sum(), torch.tensor(230.0, dtype=torch.float64)).backward()
    twice = numbers(re.search(r"= (\[\[.*?\]\])\$", items["pitfall_zero_grad"]).group(1))
    np.testing.assert_allclose([float(v) for v in twice], model.weight.grad.numpy().reshape(-1))
    np.testing.assert_allclose([float(v) for v in twice], 2 * np.asarray(d.tensors.gradient("0.weight"),
                                                                           dtype=float).reshape(-1))
    copied = [numbers(m) for m in re.findall(r"\[\[.*?\]\]", items["pitfall_copy"])]
    conv = questions.conv_derivations()
    assert copied == [[*map(_rational, np.asarray(conv[k].tensors.parameters["0.weight"].updated).reshape(-1))]
                      for k in ("conv_sum", "conv_max_pool", "conv_avg_pool")]
    x = torch.randn(1, 1, 4, 4, dtype=torch.float64, requires_grad=True)
    torch.nn.AvgPool2d(2, stride=2)(x).sum().backward()
    for key in ("pitfall_sum", "pitfall_grad_comment"):
        share = numbers(re.search(r"\$=? ?([-\d.]+)\$", items[key]).group(1))
        assert set(x.grad.reshape(-1).tolist()) == {float(share[0])}, key


def _rational(v):
    import sympy as sp

    return sp.nsimplify(v)


def test_each_general_rule_is_printed_once():
    """A rule's general index form appears at most once in the handout; the summary's four not at all."""
    ops_used = {}
    for p in questions.seed_problems("en"):
        if p.derivation is not None:
            for op in (*p.derivation.network, p.derivation.loss_fn):
                if op is not None:
                    ops_used[op.type_name] = op
    for lang in ("en", "zh"):
        latex = to_latex(handout(lang))
        for name, op in ops_used.items():
            for key, form in op.index_form.items():
                count = latex.count(form)
                assert count <= (0 if (name, key) in summary.RULES_SHOWN else 1), (lang, name, key, count)
        assert latex.count(summary.RULES[0][1]) == 1  # the summary's own


# --- what the seed articles left out (issue 13 item 12) ---------------------------------

@pytest.mark.torch
def test_tutorial_parameter_tensors_and_3d_pooling_are_torchs():
    key = to_markdown(handout("en")).split("\n## Answer key\n", 1)[1]
    body = next(text for title, text in sections(key, "### ").items() if title.startswith("7. "))
    network, in_shape = questions.tutorial_net()
    model = torch.nn.Sequential(*[layer.torch_module() for layer in network])
    count = int(re.search(r"`len\(list\(net.parameters\(\)\)\)` is (\d+)", body).group(1))
    assert count == len(list(model.parameters())) == 10
    x = torch.randn(*questions.RANDN3D)
    for pool in questions.pools_3d():
        shown = re.search(re.escape(f"`{problems.shapes.describe(pool)}`: `") + r"\[([\d, ]+)\]`", body).group(1)
        assert [int(n) for n in shown.split(", ")] == list(pool.torch_module()(x).shape)
    assert [list(p.torch_module()(x).shape) for p in questions.pools_3d()] == [[20, 7, 24], [20, 8, 24]]


@pytest.mark.torch
def test_sum_loss_delta_is_one():
    """Question 4's solution shows delta = 1 for y.sum(), as torch's y.grad."""
    en = to_markdown(handout("en"))
    body = next(text for title, text in sections(en.split("\n## Answer key\n")[0], "## ").items()
                if title.startswith("Question 4."))
    [line] = [block for block in MATH.findall(body) if block.startswith(r"\delta^{S} = ")]
    x = torch.randn(1, 1, 4, 4, dtype=torch.float64, requires_grad=True)
    y = torch.nn.AvgPool2d(2, stride=2)(x)
    y.retain_grad()
    y.sum().backward()
    assert numbers(line.rsplit(" = ", 1)[1]) == [int(v) for v in y.grad.reshape(-1).tolist()]  # names = values
    assert "`loss = y.sum()`" in body and "Note: the article's comment under `print(x.grad)`" in body


# --- exercise sheets -------------------------------------------------------------------------

def test_the_sheet_leaves_room_to_write_and_the_key_does_not():
    count = 2 * len(exercises.KINDS)
    sheet, key = sheets(count, 2026)
    items = exercises.generate(count, 2026)
    latex = to_latex(sheet)
    parts = latex.split("\\section*{")[1:]
    assert len(parts) == count
    for p, part in zip(items, parts):
        assert part.count("\\hrule") == exercises.ROOM[p.kind] >= 6, p.kind
        assert "\\textit{Your working:}" in part
    assert to_markdown(sheet).count("*Your working:*") == count
    assert not any(isinstance(b, Space) for b in key.blocks) and "\\hrule" not in to_latex(key)


def test_the_sheet_pdf_has_the_room(tmp_path):
    """Each problem of a compiled sheet takes about a page: the room is really there."""
    sheet, key = sheets(len(exercises.KINDS), 2026)
    pdf, log = compile_document(tmp_path, sheet, "sheet")
    assert pages(pdf) >= len(exercises.KINDS) // 2 + 1
    assert all(float(pt) <= MAX_OVERFULL for pt in OVERFULL.findall(log))
    pdf, log = compile_document(tmp_path, key, "key")
    assert all(float(pt) <= MAX_OVERFULL for pt in OVERFULL.findall(log))


TIE = re.compile(r"window \$\((\d+), (\d+)\)\$ holds its maximum \$(-?[\d.]+)\$ at (.*?); all of its \$\\delta\$ goes "
                 r"to \$(\\?\w+)_\{(\d+),?(\d+)\}\$")  # x_{12}; x_{1,10} when an index has two digits


@pytest.mark.torch
def test_a_tied_windows_key_says_where_torch_sends_the_gradient():
    """Every tied window of a max-pooling problem has its line in the key; the position it names is the one
    torch's backward of that single output reaches."""
    count = 2 * len(exercises.KINDS)
    items = exercises.generate(count, 2026)
    _, key = sheets(count, 2026)
    bodies = list(sections(to_markdown(key), "## ").values())
    checked = 0
    for p, body in zip(items, bodies):
        if p.kind not in ("max_pool_backward", "conv_max_pool", "conv_relu_max_pool"):
            continue
        layers = p.derivation.network.layers
        at = 0 if p.kind == "max_pool_backward" else len(layers) - 1
        plane = p.derivation.tensors.input if at == 0 else p.derivation.tensors.layers[at - 1].output
        x = torch.tensor(np.asarray(plane, dtype=float), requires_grad=True)
        y = layers[at].torch_module()(x)
        lines = TIE.findall(body)
        assert lines, f"{p.kind}: no tie line in the key"
        named = set()
        for i, j, value, places, _, h, w in lines:
            i, j, h, w = int(i), int(j), int(h), int(w)
            assert float(value) == float(y[0, 0, i - 1, j - 1].detach())
            x.grad = None
            y[0, 0, i - 1, j - 1].backward(retain_graph=True)
            reached = [tuple(int(v) + 1 for v in idx) for idx in torch.nonzero(x.grad[0, 0])]
            assert reached == [(h, w)], (p.kind, i, j, reached, (h, w))
            spots = [(int(a), int(b)) for a, b in re.findall(r"_\{(\d+),?(\d+)\}", places)]
            assert len(spots) >= 2 and spots[0] == (h, w)
            assert all(float(x[0, 0, a - 1, b - 1].detach()) == float(value) for a, b in spots)
            named.add((i, j))
        assert named == _tied_windows(np.asarray(plane, dtype=float)[0, 0], layers[at]), p.kind
        checked += 1
    assert checked == 6


def _tied_windows(x, pool) -> set:
    """The test's own windows (padding as -inf): those whose maximum occurs twice or more."""
    (k, _), (s, _), (pad, _) = pool.kernel_size, pool.stride, pool.padding
    padded = np.full((x.shape[0] + 2 * pad, x.shape[1] + 2 * pad), -np.inf)
    padded[pad:pad + x.shape[0], pad:pad + x.shape[1]] = x
    out = set()
    for a, i in enumerate(range(0, padded.shape[0] - k + 1, s)):
        for b, j in enumerate(range(0, padded.shape[1] - k + 1, s)):
            window = padded[i:i + k, j:j + k].reshape(-1)
            if (window == window.max()).sum() > 1:
                out.add((a + 1, b + 1))
    return out


# --- Chinese -----------------------------------------------------------------------------------

HALF_WIDTH = re.compile(r"[,:;()?!]")


def _prose(text: str) -> str:
    """What a Chinese reader reads as prose: math, code and {fields} taken out."""
    return re.sub(r"\$[^$]*\$|`[^`]*`|\{\{|\}\}|\{[a-z_]+\}", "", text)


@pytest.mark.parametrize("key", sorted(WORDS["zh"]))
def test_chinese_words_use_chinese_punctuation(key):
    prose = _prose(WORDS["zh"][key])
    if not re.search(r"[\u4e00-\u9fff]", prose):
        return  # a symbol only (#), nothing to punctuate
    assert not HALF_WIDTH.search(prose), f"{key}: half-width punctuation in {WORDS['zh'][key]!r}"
    assert not re.search(r"(?<![\d}])\.(?!\d)", prose), f"{key}: a half-width full stop"


def test_chinese_handout_outside_the_derivation_pages_has_no_english_prose():
    """Prompts, summary, pitfalls, tables and key of the Chinese handout: Chinese punctuation, no English cells."""
    doc = handout("zh")
    own = [b for b in doc.blocks if not isinstance(b, Solution)]
    from symgrad.handout.document import Document

    markdown = to_markdown(Document("zh", tuple(own)))
    prose = re.sub(r"\$\$.*?\$\$", "", markdown, flags=re.DOTALL)
    prose = re.sub(r"\$[^$]*\$|`[^`]*`", "", prose)
    lines = [line for line in prose.splitlines() if re.search(r"[\u4e00-\u9fff]", line)]
    assert lines and not [line for line in lines if HALF_WIDTH.search(line)]
    assert "same shape as the input" not in markdown and "sum of all entries" not in markdown
    assert WORDS["zh"]["avg_pool_backward_title"] in markdown and "Average pooling" not in markdown
    assert not any(isinstance(b, Text) and "backward的呢" in b.text for b in own)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_lead_in_lines_and_figures_stay_with_what_follows(lang):
    """A line ending in a colon never ends a page before its equation (no page break allowed there), and a
    figure is kept with its caption (one minipage), in the handout and in an exercise key."""
    for doc in (handout(lang), sheets(len(exercises.KINDS), 3, lang)[1]):
        latex = to_latex(doc)
        loose = re.findall(r"[^\n]*[:：]\n\n\\begin\{(?:equation\*|center)\}", latex)
        assert not loose, f"{lang}: a lead-in line may end a page: {loose[:2]}"
        assert latex.count(r"\begin{tikzpicture}") == len(re.findall(
            r"\\begin\{minipage\}\{\\linewidth\}\n\\begin\{center\}\n\\begin\{tikzpicture\}", latex))
    assert "\\begin{tikzpicture}" in to_latex(handout(lang))
