"""The short questions (issue 16): batch norm, a transposed convolution, dropout, cross-entropy with label
smoothing and one Adam step, in the handout and on `symgrad exercises --kind` sheets.

Every number of their answer keys is read back from the rendered Markdown and compared with torch
autograd in float64 (torch's own dropout, with a seed found that draws the given mask); every worked
line is parsed by tests/printing/test_worked_lines.py's checker (its numbers are its names' values, in
order, and add up to its result) with the problem's names, which start from the givens.
"""

from __future__ import annotations

import importlib.util
import random
import re

import numpy as np
import pytest
import sympy as sp

from answer_key import assert_close, equations, sections
from lazy_torch import F, torch
from paths import ROOT
from symgrad.cli.commands import main
from symgrad.handout import exercises, handout, questions, render, sheets, to_markdown
from symgrad.handout.document import Document

DL = r"\frac{\partial L}{\partial %s}"
SEEDS = (0, 1, 7, 2026)


def _load(name: str):
    """A module of tests/printing/, loaded by path (test files are not a package)."""
    spec = importlib.util.spec_from_file_location(f"short_questions_{name}", ROOT / "tests" / "printing" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


CHECK = _load("test_worked_lines")
HANDOUT = {"batchnorm_backward": questions.BATCHNORM, "transposed_conv": questions.TRANSPOSED,
           "dropout": questions.DROPOUT, "cross_entropy_smoothing": questions.CROSS_ENTROPY, "adam_step": questions.ADAM}


def _short(count: int, seed: int, lang: str = "en"):
    return exercises.generate(count, seed, lang, kinds=exercises.MORE_KINDS)


# --- torch's answers, from the givens --------------------------------------------------------------

def _t(values, requires_grad=False):
    return torch.tensor(np.asarray(values, dtype=float), dtype=torch.float64, requires_grad=requires_grad)


def torch_batchnorm(g) -> dict:
    x = _t(g["x"], True).reshape(4, 1, 1, 1)
    x.retain_grad()
    gamma, beta = _t([g["gamma"]], True), _t([g["beta"]], True)
    z = F.batch_norm(x, None, None, gamma, beta, training=True, eps=g["eps"])
    z.backward(_t(g["delta"]).reshape(4, 1, 1, 1))
    hat = F.batch_norm(x.detach(), None, None, training=True, eps=g["eps"])
    return {r"\hat{x}": hat, DL % "x": x.grad, DL % r"\gamma": gamma.grad, DL % r"\beta": beta.grad}


def torch_transposed(g) -> dict:
    x = _t(g["x"]).reshape(1, 1, *np.shape(g["x"]))
    k = _t(g["k"], True).reshape(1, 1, 2, 2)
    k.retain_grad()
    sigma = F.conv_transpose2d(x, k, stride=g["stride"], padding=g["padding"], output_padding=g["output_padding"])
    sigma.backward(_t(g["delta"]).reshape(sigma.shape))
    b = g["big"]
    big = torch.nn.ConvTranspose2d(b["in_channels"], b["out_channels"], b["kernel_size"], stride=b["stride"],
                                   padding=b["padding"], output_padding=b["output_padding"])
    big_shape = list(big(torch.zeros(1, b["in_channels"], b["size"], b["size"])).shape)
    return {r"\sigma": sigma.detach(), DL % "K": k.grad, "shape": list(sigma.shape), "big": big_shape}


def torch_dropout(g) -> dict:
    """torch's own F.dropout, on a seed whose random mask is the given one."""
    mask = torch.tensor(g["mask"], dtype=torch.float64)
    for seed in range(100000):
        torch.manual_seed(seed)
        if torch.equal((F.dropout(torch.ones(len(mask), dtype=torch.float64), g["p"]) != 0).double(), mask):
            break
    else:
        raise AssertionError("no seed draws the mask")
    x = _t(g["x"], True)
    torch.manual_seed(seed)
    u = F.dropout(x, g["p"], training=True)
    u.backward(_t(g["delta"]))
    assert torch.equal(F.dropout(x.detach(), g["p"], training=False), x.detach())  # eval: the identity
    torch.manual_seed(seed)
    scale = F.dropout(torch.ones(len(mask), dtype=torch.float64), g["p"])[mask.bool()].unique()
    return {r"\frac{1}{1 - p}": scale, "u": u.detach(), DL % "x": x.grad}


def torch_cross_entropy(g) -> dict:
    z = torch.log(_t(g["a"])).requires_grad_(True)
    F.cross_entropy(z, torch.tensor(g["y"]), label_smoothing=g["smoothing"]).backward()
    return {"p": torch.softmax(z.detach(), dim=1), DL % "z": z.grad}


def torch_adam(g) -> dict:
    w = _t(g["w"], True)
    optimizer = torch.optim.Adam([w], lr=g["lr"], betas=g["betas"], eps=g["eps"])
    w.grad = _t(g["g"])
    optimizer.step()
    state = optimizer.state[w]
    t = float(state["step"])
    (b1, b2) = g["betas"]
    return {"m": state["exp_avg"], "v": state["exp_avg_sq"], r"\hat{m}": state["exp_avg"] / (1 - b1**t),
            r"\hat{v}": state["exp_avg_sq"] / (1 - b2**t), "w^{(1)}": w.detach()}


TORCH = {"batchnorm_backward": torch_batchnorm, "transposed_conv": torch_transposed, "dropout": torch_dropout,
         "cross_entropy_smoothing": torch_cross_entropy, "adam_step": torch_adam}


# --- the givens as a reader reads them off the prompt -------------------------------------------------

def _entries(latex: str):
    """A bmatrix's rows of entries (\\ln a read as a, 0 as ln 1), or a number."""
    found = re.fullmatch(r"\\begin\{bmatrix\}(.*)\\end\{bmatrix\}", latex.strip(), re.DOTALL)
    if not found:
        return sp.Rational(latex.strip())
    rows = [[e.strip() for e in row.split("&")] for row in re.split(r"\\\\", found.group(1))]
    read = lambda e: int(e.split()[1]) if e.startswith("\\ln") else (1 if e == "0" and "\\ln" in latex else sp.Rational(e))
    rows = [[read(e) for e in row] for row in rows]
    return rows[0] if len(rows) == 1 else rows


def _option(call: str, name: str, default):
    found = re.search(rf"\b{name}=([\d.]+)", call)
    return default if found is None else sp.Rational(found.group(1))


def read_prompt(kind: str, problem) -> dict:
    """The givens of a problem from its rendered prompt only: the math block and the calls in code."""
    markdown = to_markdown(Document("en", problem.prompt))
    [block] = re.findall(r"\$\$\n(.*?)\n\$\$", markdown, re.DOTALL)
    shown = dict(part.split(" = ", 1) for part in re.split(r",\\q?quad ", block))
    shown = {name.strip(): _entries(value) for name, value in shown.items()}
    calls = re.findall(r"`([A-Za-z0-9.]+\([^`]*\))`", markdown)
    if kind == "batchnorm_backward":
        return {"x": shown["x"], "delta": shown[r"\delta"], "gamma": shown[r"\gamma"], "beta": shown[r"\beta"],
                "eps": _option(calls[0], "eps", sp.Rational(1, 10**5))}
    if kind == "transposed_conv":
        small, big = calls[0], calls[1]
        numbers_ = [int(n) for n in re.findall(r"\((\d+), (\d+), (\d+)", big)[0]]
        size = int(re.findall(r"`\[1, \d+, (\d+), \d+\]`", markdown)[-1])
        return {"x": shown["X"], "k": shown["K"], "delta": shown[r"\delta"], "stride": _option(small, "stride", 1),
                "padding": _option(small, "padding", 0), "output_padding": _option(small, "output_padding", 0),
                "big": {"in_channels": numbers_[0], "out_channels": numbers_[1], "kernel_size": numbers_[2],
                        "stride": _option(big, "stride", 1), "padding": _option(big, "padding", 0),
                        "output_padding": _option(big, "output_padding", 0), "size": size}}
    if kind == "dropout":
        return {"x": shown["x"], "mask": shown["m"], "delta": shown[r"\delta"], "p": _option(calls[0], "p", sp.Rational(1, 2))}
    if kind == "cross_entropy_smoothing":
        targets = re.search(r"`torch.tensor\(\[([\d, ]+)\]\)`", markdown).group(1)
        return {"a": shown["z"], "y": [int(n) for n in targets.split(", ")],
                "smoothing": _option(calls[0], "label_smoothing", 0)}
    betas = re.search(r"betas \$\(([\d.]+), ([\d.]+)\)\$", markdown).groups()
    return {"w": shown["w"], "g": shown["g"], "lr": _option(calls[0], "lr", sp.Rational(1, 1000)),
            "eps": _option(calls[0], "eps", sp.Rational(1, 10**8)), "betas": tuple(sp.Rational(b) for b in betas)}


def _floats(value):
    """sympy numbers to Python's, as torch takes options (nested lists and dicts kept)."""
    if isinstance(value, dict):
        return {k: _floats(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_floats(v) for v in value)
    value = sp.Rational(value)
    return int(value) if value.q == 1 else float(value)


def assert_key_is_torchs(kind: str, body: str, problem, what: str):
    """The key's numbers against torch's, for the givens read off the prompt (and those are the problem's)."""
    givens = _floats(read_prompt(kind, problem))
    assert givens == _floats(problem.givens), f"{what}: the prompt shows {givens}, built from {problem.givens}"
    _assert_key(kind, body, givens, what)


def _assert_key(kind: str, body: str, givens: dict, what: str):
    printed = dict(equations(body))
    theirs = TORCH[kind](givens)
    labels = [k for k in theirs if k not in ("shape", "big")]
    assert list(printed) == labels, f"{what}: {list(printed)}"
    for label in labels:
        assert_close(printed[label], theirs[label].numpy(), f"{what} {label}")
    if kind == "transposed_conv":
        shapes = re.findall(r"`\[([\d, ]+)\]`", body)
        assert [[int(n) for n in s.split(", ")] for s in shapes] == [theirs["shape"], theirs["big"]], what


# --- the tests ---------------------------------------------------------------------------------------

@pytest.mark.torch
@pytest.mark.parametrize("seed", SEEDS)
def test_sheet_answers_are_torchs(seed):
    count = 2 * len(exercises.MORE_KINDS)
    items = _short(count, seed)
    key = to_markdown(sheets(count, seed, kinds=exercises.MORE_KINDS)[1])
    bodies = list(sections(key, "## ").values())
    assert [p.kind for p in items] == list(exercises.MORE_KINDS) * 2
    for n, (p, body) in enumerate(zip(items, bodies), 1):
        assert_key_is_torchs(p.kind, body, p, f"seed {seed} problem {n} ({p.kind})")


@pytest.mark.torch
def test_handout_answers_are_torchs():
    key = to_markdown(handout("en")).split("\n## Answer key\n", 1)[1]
    bodies = sections(key, "### ")
    short = [body for title, body in bodies.items() if int(title.split(".")[0]) > len(questions.seed_problems("en"))]
    assert len(short) == len(HANDOUT)
    for p, (kind, givens), body in zip(questions.more_problems("en"), HANDOUT.items(), short):
        assert p.kind == kind and p.givens is givens
        assert_key_is_torchs(kind, body, p, f"handout {kind}")


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_worked_line_checks(lang):
    """Each line's numbers are its names' values in order and evaluate to its result, in both formats."""
    problems = [*questions.more_problems(lang), *_short(10, 3, lang), *_short(10, 11, lang)]
    for p in problems:
        solution = Document(lang, p.solution)
        counts = [CHECK.check(text, p.values) for text in (render.to_markdown(solution), render.to_latex(solution))]
        assert counts[0] == counts[1] >= 5, (p.kind, counts)


def test_the_lines_start_from_the_givens():
    """The names the lines substitute are the prompt's givens (no number enters a line unseen)."""
    for p in questions.more_problems("en"):
        g, v = p.givens, p.values
        if p.kind == "batchnorm_backward":
            assert [v[f"x_{{{i}}}"] for i in range(1, 5)] == g["x"] and v[r"\epsilon"] == sp.Rational(1, 2)
            assert [v[f"\\delta_{{{i}}}"] for i in range(1, 5)] == g["delta"] and v[r"\gamma"] == g["gamma"]
        elif p.kind == "dropout":
            assert [v[f"m_{{{i}}}"] for i in range(1, 5)] == g["mask"] and v["p"] == sp.Rational(1, 5)
        elif p.kind == "adam_step":
            assert [v["g_{1}"], v["g_{2}"]] == g["g"] and v[r"\epsilon"] == 1 and v[r"\beta_{2}"] == sp.Rational(999, 1000)
        elif p.kind == "cross_entropy_smoothing":
            assert v["e^{z_{13}}"] == 5 and v[r"\epsilon"] == sp.Rational(3, 10)
        prompt = to_markdown(Document("en", p.prompt))
        for key in ("x", "delta", "mask", "g", "w"):
            if key in g and np.ndim(g[key]) == 1:
                assert "\\begin{bmatrix}" + " & ".join(str(n) for n in g[key]) + "\\end{bmatrix}" in prompt, key


def test_hand_sized_numbers_and_decimals():
    """Drawn numbers stay small and every printed result terminates (no fractions on a hand sheet)."""
    for seed in range(30):
        for p in _short(5, seed):
            key = to_markdown(Document("en", p.answers))
            for block in re.findall(r"\$\$\n(.*?)\n\$\$", key, re.DOTALL):
                assert "\\frac" not in block.split(" = ", 1)[1] and "sqrt" not in block, (seed, p.kind, block)
            assert all(abs(n) <= 100 for _, found in equations(key) for n in found), (seed, p.kind)
            assert all(_terminates(n) for _, found in equations(key) for n in found), (seed, p.kind)


def _terminates(n) -> bool:
    q = sp.Rational(n).q
    while q % 2 == 0:
        q //= 2
    while q % 5 == 0:
        q //= 5
    return q == 1


def test_batchnorm_batches_have_exact_roots_and_dropout_masks_keep_and_drop():
    rng = random.Random(5)
    from symgrad.handout import layer_kinds

    for _ in range(50):
        g = layer_kinds.draw_batchnorm(rng)
        mean = sp.Rational(sum(g["x"]), 4)
        assert sp.sqrt(sum((v - mean) ** 2 for v in g["x"]) / 4 + sp.Rational(1, 2)) in (1, 2, 4, 5), g
        d = layer_kinds.draw_dropout(rng)
        assert 1 <= d["mask"].count(0) <= len(d["mask"]) - 2


def run(argv, capsys):
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_cli_kind_selects_and_cycles_in_order(capsys):
    code, out, err = run(["exercises", "--count", 3, "--seed", 2, "--kind", "adam_step", "--kind", "dropout"], capsys)
    assert (code, err) == (0, "")
    titles = re.findall(r"^## Problem \d\. (.*)$", out, re.MULTILINE)
    assert titles == ["One Adam step by hand", "Dropout's scaling", "One Adam step by hand"]
    sheet, key = sheets(3, 2, kinds=["adam_step", "dropout"])
    assert out.startswith(to_markdown(sheet).rstrip("\n")) and out.endswith(to_markdown(key))


def test_default_sheet_is_unchanged_and_the_new_kinds_are_not_in_it():
    assert [p.kind for p in exercises.generate(7, 9)] == list(exercises.KINDS)
    assert to_markdown(sheets(7, 9)[0]) == to_markdown(sheets(7, 9, kinds=exercises.KINDS)[0])
    assert to_markdown(sheets(4, 9, kinds=exercises.MORE_KINDS)[0]) == to_markdown(
        sheets(4, 9, kinds=exercises.MORE_KINDS)[0])


@pytest.mark.parametrize("kind", ["adam", "Dropout", ""])
def test_cli_refuses_an_unknown_kind(capsys, tmp_path, kind):
    code, out, err = run(["exercises", "--kind", kind, "--out", tmp_path / "sheet.md"], capsys)
    assert code == 2 and out == "" and err.count("\n") == 1 and "--kind" in err and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []
    if kind == "adam":
        assert "(did you mean adam_step?)" in err


def test_python_api_refuses_a_bare_string_of_kinds():
    with pytest.raises(exercises.OptionError, match="--kind"):
        exercises.generate(2, 0, kinds="dropout")
    with pytest.raises(exercises.OptionError, match="--kind"):
        exercises.generate(2, 0, kinds=[])


def test_sheets_have_room_and_chinese_prose_has_chinese_punctuation():
    sheet, key = sheets(5, 4, "zh", kinds=exercises.MORE_KINDS)
    latex = render.to_latex(sheet)
    assert [part.count("\\hrule") for part in latex.split("\\section*{")[1:]] == [
        exercises.ROOM[k] for k in exercises.MORE_KINDS]
    for doc in (sheet, key, Document("zh", tuple(b for p in questions.more_problems("zh") for b in p.solution))):
        prose = re.sub(r"\$\$.*?\$\$", "", to_markdown(doc), flags=re.DOTALL)
        prose = re.sub(r"\$[^$]*\$|`[^`]*`", "", prose)
        lines = [line for line in prose.splitlines() if re.search(r"[\u4e00-\u9fff]", line)]
        assert lines and not [line for line in lines if re.search(r"[,:;()?!]", line)], lines


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_sheets_of_the_short_kinds_render_in_katex_and_mathjax(tmp_path, lang):
    """As tests/printing/test_katex.py renders the default sheets: every span, with throwOnError."""
    katex = _load("test_katex")
    sheet = tmp_path / "sheet.md"
    kinds = [a for k in exercises.MORE_KINDS for a in ("--kind", k)]
    assert main([str(a) for a in ["exercises", "--count", 10, "--seed", 5, "--lang", lang, *kinds, "--out", sheet]]) == 0
    text = sheet.read_text(encoding="utf-8") + "\n\n" + (tmp_path / "sheet-answers.md").read_text(encoding="utf-8")
    solutions = to_markdown(Document(lang, tuple(b for p in _short(10, 5, lang) for b in p.solution)))
    katex.assert_renders(text + "\n\n" + solutions, f"short kinds ({lang})", least=30)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_sheets_of_the_short_kinds_compile_within_the_margins(tmp_path, lang):
    """pdflatex (en) or XeLaTeX (zh): sheet and key of every short kind, no line over 5 pt into the margin."""
    spec = importlib.util.spec_from_file_location("short_questions_print", ROOT / "tests" / "handout" /
                                                  "test_handout_print.py")
    printing = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(printing)
    sheet, key = sheets(10, 8, lang, kinds=exercises.MORE_KINDS)
    for name, doc in (("sheet", sheet), ("key", key)):
        pdf, log = printing.compile_document(tmp_path, doc, name)
        over = [float(pt) for pt in printing.OVERFULL.findall(log)]
        assert all(pt <= printing.MAX_OVERFULL for pt in over), f"{lang} {name}: overfull boxes of {sorted(over)[-3:]} pt"
        assert printing.pages(pdf) >= (5 if name == "sheet" else 1)


def test_the_line_check_catches_a_slip():
    """A wrong mean, or a result that does not add up, fails the check the lines above pass."""
    p = questions.more_problems("en")[0]
    text = render.to_markdown(Document("en", p.solution))
    with pytest.raises(AssertionError, match="in order"):
        CHECK.check(text, {**p.values, r"\mu": p.values[r"\mu"] + 1})
    with pytest.raises(AssertionError):
        CHECK.check(text.replace("= -0.0625", "= -0.0626"), p.values)
