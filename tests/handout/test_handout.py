"""`symgrad handout`: the seed articles' questions, worked solutions and an answer key.

Every number of the answer key is read back from the rendered Markdown and compared
with the engine (the bundled examples/*.toml, derived independently of the handout)
and with torch autograd (float64) for the gradient questions, and with torch's
shapes and parameter counts for the shape questions.
"""

from __future__ import annotations

import os
import re
import shutil

import numpy as np
import pytest
import sympy as sp

from answer_key import (assert_close, equations, flat, numbers, sections, shape_rows, torch_conv_answers, torch_input_grad, torch_shapes)
from symgrad.printing import shapes
from symgrad import spec as specs
from symgrad.cli.commands import main
from symgrad.handout import handout, problems, questions, render, solutions, summary, to_latex, to_markdown
from symgrad.handout.document import Solution

from paths import EXAMPLES

DL = r"\frac{\partial L}{\partial %s}"


@pytest.fixture(scope="module")
def en():
    return to_markdown(handout("en"))


@pytest.fixture(scope="module")
def zh():
    return to_markdown(handout("zh"))


def answer_key(markdown: str, heading: str = "Answer key") -> dict[str, str]:
    """The answer key's sections, by their "n. title" heading; the key is everything after its heading."""
    key = markdown.split(f"\n## {heading}\n", 1)
    assert len(key) == 2, f"no '## {heading}' section"
    return sections(key[1], "### ")


def example(name: str):
    return specs.load(EXAMPLES / f"{name}.toml").derive()


def exact(parsed, array, what):
    assert parsed == flat(array), f"{what}: printed {parsed}, engine {flat(array)}"


# --- the answer key against the engine and torch --------------------------------

@pytest.mark.torch
@pytest.mark.parametrize("n, name", [(1, "conv_sum"), (2, "conv_max_pool"), (3, "conv_avg_pool")])
def test_gradient_answers_equal_engine_and_torch(en, n, name):
    body = next(text for title, text in answer_key(en).items() if title.startswith(f"{n}. "))
    printed = dict(equations(body))
    assert list(printed) == [r"\sigma", "S", "L", DL % "K", "K^{(1)}"]
    d = example(name)
    exact(printed[r"\sigma"], d.tensors.layers[0].output, "sigma")
    exact(printed["S"], d.tensors.output, "S")
    exact(printed["L"], [d.loss], "L")
    exact(printed[DL % "K"], d.tensors.gradient("0.weight"), "dL/dK")
    exact(printed["K^{(1)}"], d.tensors.parameters["0.weight"].updated, "K after one step")
    theirs = torch_conv_answers(d)
    assert_close(printed[r"\sigma"], theirs["sigma"], "sigma vs torch")
    assert_close(printed["S"], theirs["S"], "S vs torch")
    assert_close(printed["L"], [theirs["L"]], "L vs torch")
    assert_close(printed[DL % "K"], theirs["grad"], "dL/dK vs torch")
    assert_close(printed["K^{(1)}"], theirs["updated"], "K after one step vs torch")


def test_article_numbers_appear_as_torch_gives_them(en):
    """The conv+sum update is the article's [[2.52, 1.36], [0.04, 3.88]]; the pooling ones are not (its slip)."""
    key = answer_key(en)
    updates = [dict(equations(body))["K^{(1)}"] for title, body in key.items() if title[:3] in ("1. ", "2. ", "3. ")]
    assert updates[0] == [sp.Rational(s) for s in ("2.52", "1.36", "0.04", "3.88")]
    assert updates[1] == [sp.Rational(s) for s in ("1", "-0.4", "-2.2", "1.4")]
    assert updates[2] == [sp.Rational(s) for s in ("3.12", "2.16", "1.24", "5.28")]


def test_copy_slip_note_names_both_updates(en):
    questions_part = en.split("\n## Answer key\n")[0]
    for n in (2, 3):
        body = sections(questions_part, "## ")[next(t for t in sections(questions_part, "## ")
                                                     if t.startswith(f"Question {n}."))]
        note = next(line for line in body.splitlines() if line.startswith("Note:"))
        assert "bmatrix" not in note  # a matrix in running text is written as torch prints it
        shown = re.findall(r"K\^\{\(1\)\} = (\[\[.*?\]\])", note)
        assert [numbers(m) for m in shown] == [flat(example("conv_sum").tensors.parameters["0.weight"].updated),
                                              flat(example(["", "", "conv_max_pool", "conv_avg_pool"][n])
                                                   .tensors.parameters["0.weight"].updated)]


@pytest.mark.torch
def test_avg_pool_backward_answer(en):
    body = next(text for title, text in answer_key(en).items() if title.startswith("4. "))
    [(left, printed)] = equations(body)
    assert left == DL % "x"
    d = example("avg_pool_backward")
    exact(printed, d.tensors.input_gradient, "dL/dx")
    assert set(printed) == {sp.Rational(1, 4)}
    assert_close(printed, torch_input_grad(d), "dL/dx vs torch")


@pytest.mark.torch
def test_pool_shape_answers(en):
    body = next(text for title, text in answer_key(en).items() if title.startswith("5. "))
    shapes_printed = [[int(n) for n in dims.split(", ")] for dims in re.findall(r"shape `\[([\d, ]+)\]`", body)]
    values = equations(body)
    names = ["pool_d2l_k3", "pool_d2l_pad1_stride2", "pool_d2l_rect", "pool_d2l_two_channels"]
    assert len(shapes_printed) == len(values) == len(names) + 2
    import torch

    # d2l's own pool2d on A = [[0, 1, 2], [3, 4, 5], [6, 7, 8]]: stride-1 windows, as torch computes them
    a = torch.tensor(np.asarray(questions.A3, dtype=float)).reshape(1, 1, 3, 3)
    for pool, printed_shape, (left, printed) in zip((torch.nn.MaxPool2d(2, stride=1), torch.nn.AvgPool2d(2, stride=1)),
                                                    shapes_printed, values):
        assert left == "S" and printed_shape == list(pool(a).shape)
        assert_close(printed, pool(a).numpy(), f"pool2d {pool}")
    assert values[0][1] == [4, 5, 7, 8] and values[1][1] == [2, 3, 5, 6]  # the article's printed tensors
    for name, printed_shape, (left, printed) in zip(names, shapes_printed[2:], values[2:]):
        d = example(name)
        assert left == "S"
        assert printed_shape == list(d.tensors.output.shape)
        exact(printed, d.tensors.output, name)
        [(torch_shape, _)] = torch_shapes(d.network, d.tensors.input.shape)
        assert printed_shape == torch_shape
        import torch

        x = torch.tensor(np.asarray(d.tensors.input, dtype=float))
        assert_close(printed, d.network.layers[0].torch_module()(x).numpy(), f"{name} vs torch")


@pytest.mark.torch
@pytest.mark.parametrize("n, name", [(6, "lenet_shapes"), (7, "tutorial_net_shapes")])
def test_layer_shape_answers(en, n, name):
    body = next(text for title, text in answer_key(en).items() if title.startswith(f"{n}. "))
    rows = shape_rows(body)
    spec = specs.load(EXAMPLES / f"{name}.toml")
    table = shapes.table(spec.network, spec.input.shape)
    assert [(r.index, r.output_shape, r.parameters) for r in table] == rows
    assert [(dims, params) for _, dims, params in rows] == torch_shapes(spec.network, spec.input.shape)
    total = int(re.search(r"Total parameters: (\d+)\.", body).group(1))
    assert total == sum(p for _, _, p in rows) == {"lenet_shapes": 61706, "tutorial_net_shapes": 81194}[name]


# --- the questions are the bundled examples; the solutions are the step printer's ------

def _compared(d) -> dict:
    """The tensors a question shares with its bundled example, by what they are."""
    t = d.tensors
    found = {"input": t.input, "output": t.output, **({"target": t.target} if t.target is not None else {})}
    found.update({f"{k} value": p.value for k, p in t.parameters.items()})
    found.update({f"dL/d{k}": g for k, g in t.gradients().items()})
    return found


def test_questions_are_the_bundled_examples():
    ours = [p.derivation for p in questions.seed_problems("en")[:4]]
    ours += [d for d, _ in questions.pool_derivations()]
    names = ["conv_sum", "conv_max_pool", "conv_avg_pool", "avg_pool_backward", "pool_d2l_k3",
             "pool_d2l_pad1_stride2", "pool_d2l_rect", "pool_d2l_two_channels"]
    for d, name in zip(ours, names, strict=True):
        theirs = example(name)
        assert repr(d.network.layers) == repr(theirs.network.layers), name
        assert repr(d.loss_fn) == repr(theirs.loss_fn) and repr(d.optimizer) == repr(theirs.optimizer), name
        ours_given, theirs_given = _compared(d), _compared(theirs)
        for key in theirs_given:
            assert key in ours_given
            assert flat(ours_given[key]) == flat(theirs_given[key]), (name, key)
    for build, name in ((questions.lenet, "lenet_shapes"), (questions.tutorial_net, "tutorial_net_shapes")):
        network, in_shape = build()
        spec = specs.load(EXAMPLES / f"{name}.toml")
        assert repr(network.layers) == repr(spec.network.layers) and in_shape == spec.input.shape


def test_worked_solutions_are_the_step_printers(en, zh):
    """Each question's solution is the derivation page (without Setup and Layers, only the gradients asked for),
    with the document's general rules printed once: the summary's four count as shown."""
    shown = set(summary.RULES_SHOWN)
    sigma = problems.inline(example("conv_sum").tensors.layers[0].output)  # the bundled example's, derived apart
    assert numbers(sigma) == [36, 47, 69, 80]  # the article's sigma
    for p in questions.seed_problems("en")[:4]:
        [solution] = [b for b in p.solution if isinstance(b, Solution)]
        assert solution.wrt == (("input",) if p.kind == "avg_pool_backward" else ("0.weight",))
        assert solution.same_start == ("" if p.kind in ("conv_sum", "avg_pool_backward") else
                                       "Layer 0 (`Conv2d(1, 1, 2, bias=False)`) gives the same $\\sigma$ as in "
                                       f"Question 1: $\\sigma = {sigma}$.")
        assert solutions.markdown(p.derivation, "en", solution.wrt, shown, solution.same_start) in en
    d = questions.seed_problems("zh")[0].derivation
    assert solutions.markdown(d, "zh", ("0.weight",), set(summary.RULES_SHOWN)) in zh
    assert solutions.latex(d, "zh", ("0.weight",), set(summary.RULES_SHOWN)) in to_latex(handout("zh"))
    assert "\n### Setup\n" not in en and "\n### Layers and shapes\n" not in en


def test_chinese_handout_has_the_same_answers(en, zh):
    ours, theirs = answer_key(en), answer_key(zh, "答案")
    assert len(ours) == len(theirs) == 7 + len(questions.more_problems("en"))  # the short questions (issue 16)
    for (_, a), (_, b) in zip(ours.items(), theirs.items()):
        assert equations(a) == equations(b)
        assert shape_rows(a) == shape_rows(b)
    assert "## 第 1 题：卷积核的梯度（求和）" in zh and "$X$ 和卷积核 $K$ 做卷积运算" in zh and "卷积" not in en


def test_handout_is_deterministic(en):
    assert to_markdown(handout("en")) == en
    assert to_latex(handout("en")) == to_latex(handout("en"))


def test_latex_prose_is_escaped():
    assert render.text("a_b & `x_1 {y}` $\\sigma_{ij}$ 50%") == \
        r"a\_b \& \texttt{x\_1 \{y\}} $\sigma_{ij}$ 50\%"


# --- the command ------------------------------------------------------------------

def run(argv, capsys):
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_cli_prints_markdown_by_default(capsys, en):
    code, out, err = run(["handout"], capsys)
    assert (code, err) == (0, "")
    assert out == en


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("ext", [".md", ".tex"])
def test_cli_out_follows_the_suffix(capsys, tmp_path, lang, ext):
    out = tmp_path / f"handout{ext}"
    code, stdout, err = run(["handout", "--lang", lang, "--out", out], capsys)
    assert (code, stdout, err) == (0, "", "")
    document = handout(lang)
    assert out.read_text(encoding="utf-8") == (to_markdown(document) if ext == ".md" else to_latex(document))
    umask = os.umask(0)
    os.umask(umask)
    assert out.stat().st_mode & 0o777 == 0o666 & ~umask  # not mkstemp's private 0600
    if ext == ".tex":
        text = out.read_text(encoding="utf-8")
        assert text.startswith(r"\documentclass") and text.rstrip().endswith(r"\end{document}")
        assert ("xeCJK" in text) == (lang == "zh")


def test_cli_refuses_an_unknown_suffix(capsys, tmp_path):
    code, out, err = run(["handout", "--out", tmp_path / "handout.docx"], capsys)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "--out" in err and ".md, .tex or .pdf" in err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("lang, package", [("en", "texlive-latex-base"), ("zh", "texlive-xetex")])
def test_cli_pdf_without_tex_says_how_to_install(capsys, tmp_path, monkeypatch, lang, package):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    code, out, err = run(["handout", "--lang", lang, "--out", tmp_path / "handout.pdf"], capsys)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "apt-get install" in err and package in err and "latexmk" in err
    assert list(tmp_path.iterdir()) == []


def test_cli_refuses_a_missing_directory(capsys, tmp_path):
    code, _, err = run(["handout", "--out", tmp_path / "nowhere" / "handout.md"], capsys)
    assert code == 2 and err.count("\n") == 1 and "does not exist" in err
