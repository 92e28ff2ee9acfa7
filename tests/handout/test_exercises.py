"""`symgrad exercises`: seeded practice sheets and their separate answer keys.

Every answer is read back from the rendered key and compared with torch autograd
(float64): conv gradients and SGD steps, pooling input gradients, layer shapes.
The same seed must give byte-identical files; ties in max-pooling windows and
ReLU at 0 must actually occur.
"""

from __future__ import annotations

import ast
import re

import numpy as np
import pytest

from answer_key import assert_close, equations, sections, shape_rows, torch_conv_answers, torch_input_grad, torch_shapes
from symgrad.cli.commands import main
from symgrad.handout import exercises, sheets, to_latex, to_markdown

DL = r"\frac{\partial L}{\partial %s}"
COUNT = 2 * len(exercises.KINDS)  # every kind twice


@pytest.fixture(scope="module")
def generated():
    items = exercises.generate(COUNT, 2026)
    sheet, key = sheets(COUNT, 2026)
    return items, to_markdown(sheet), to_markdown(key)


def run(argv, capsys):
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_every_kind_appears_in_order(generated):
    items, _, _ = generated
    assert [p.kind for p in items] == list(exercises.KINDS) * 2


@pytest.mark.torch
def test_answers_agree_with_torch(generated):
    items, _, key = generated
    bodies = sections(key, "## ")
    assert list(bodies) == [f"Problem {n}" for n in range(1, COUNT + 1)]
    for n, (p, body) in enumerate(zip(items, bodies.values()), 1):
        if p.kind.startswith("conv_"):
            printed = dict(equations(body))
            assert list(printed)[:5] == [r"\sigma", "S", "L", DL % "K", "K^{(1)}"], n
            for label in list(printed)[5:]:  # a tied max pool: the delta at its input, as the engine has it
                pooled = len(p.derivation.network) - 2
                assert label == r"\delta^{%s}" % (r"\sigma" if pooled == 0 else "a"), n
                assert_close(printed[label], np.asarray(p.derivation.deltas[pooled][1], dtype=float), f"problem {n}")
            theirs = torch_conv_answers(p.derivation)
            for label, name in ((r"\sigma", "sigma"), ("S", "S"), (DL % "K", "grad"), ("K^{(1)}", "updated")):
                assert_close(printed[label], theirs[name], f"problem {n} ({p.kind}) {name}")
            assert_close(printed["L"], [theirs["L"]], f"problem {n} L")
        elif p.kind.endswith("_backward"):
            [(left, printed)] = equations(body)
            assert left in (DL % "X", DL % "x")
            assert_close(printed, torch_input_grad(p.derivation, seed=n), f"problem {n} ({p.kind})")
        else:
            rows = shape_rows(body)
            in_shape = tuple(int(v) for v in p.prompt[0].text.split("`[")[1].split("]")[0].split(", "))
            assert [(dims, params) for _, dims, params in rows] == torch_shapes(_network_of(p), in_shape), n


def _network_of(problem):
    """The shape problem's network, rebuilt from the layer calls its sheet lists (as a reader would)."""
    import symgrad as sg

    text = next(b.text for b in problem.prompt if "Layers:" in getattr(b, "text", ""))
    layers = []
    for call in re.findall(r"`([^`]*)`", text):
        node = ast.parse(call, mode="eval").body
        args = [ast.literal_eval(a) for a in node.args]
        kwargs = {k.arg: ast.literal_eval(k.value) for k in node.keywords}
        layers.append(getattr(sg, node.func.id)(*args, **kwargs))
    return sg.Sequential(*layers)


def test_ties_and_relu_at_zero_are_there(generated):
    """Max-pool problems hold a window with two equal maxima; the ReLU one has an entry of sigma at 0."""
    items, _, _ = generated
    for p in items:
        t = p.derivation.tensors if p.derivation is not None else None
        if p.kind in ("conv_max_pool", "conv_relu_max_pool", "max_pool_backward"):
            pooled = {"conv_max_pool": lambda: t.layers[0].output, "conv_relu_max_pool": lambda: t.layers[1].output,
                      "max_pool_backward": lambda: t.input}[p.kind]()
            pool = p.derivation.network.layers[-1 if p.kind != "max_pool_backward" else 0]
            assert _has_tied_window(np.asarray(pooled, dtype=object)[0, 0], pool), p.kind
        if p.kind == "conv_relu_max_pool":
            assert any(v == 0 for v in np.asarray(t.layers[0].output, dtype=object).reshape(-1))


def _has_tied_window(x, pool) -> bool:
    (k, _), (s, _), (pad, _) = pool.kernel_size, pool.stride, pool.padding
    padded = np.full((x.shape[0] + 2 * pad, x.shape[1] + 2 * pad), None, dtype=object)
    padded[pad:pad + x.shape[0], pad:pad + x.shape[1]] = x
    for i in range(0, padded.shape[0] - k + 1, s):
        for j in range(0, padded.shape[1] - k + 1, s):
            window = [v for v in padded[i:i + k, j:j + k].reshape(-1) if v is not None]
            if window.count(max(window)) > 1:
                return True
    return False


def test_sheet_has_no_answers_and_key_has_no_prompts(generated):
    _, sheet, key = generated
    assert DL % "K" + " =" not in sheet and "K^{(1)} =" not in sheet and "Answer key" not in sheet
    assert "Compute $" not in key and "X = " not in key and "`y.sum()`" not in key


def test_same_seed_same_text_other_seed_other_problems():
    assert to_markdown(sheets(7, 5)[0]) == to_markdown(sheets(7, 5)[0])
    assert to_latex(sheets(7, 5)[1]) == to_latex(sheets(7, 5)[1])
    assert to_markdown(sheets(7, 5)[0]) != to_markdown(sheets(7, 6)[0])
    assert to_markdown(sheets(3, 5)[0]).split("## Problem 3")[0].split("\n", 3)[3] == \
        to_markdown(sheets(7, 5)[0]).split("## Problem 3")[0].split("\n", 3)[3]  # a prefix of a longer sheet


@pytest.mark.parametrize("ext", [".md", ".tex"])
def test_cli_writes_sheet_and_key_byte_identical_per_seed(capsys, tmp_path, ext):
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir()
    second.mkdir()
    for folder in (first, second):
        code, out, err = run(["exercises", "--count", 9, "--seed", 11, "--lang", "zh", "--out", folder / f"sheet{ext}"],
                             capsys)
        assert (code, out, err) == (0, "", "")
    for name in (f"sheet{ext}", f"sheet-answers{ext}"):
        assert (first / name).read_bytes() == (second / name).read_bytes()
    assert sorted(p.name for p in first.iterdir()) == sorted([f"sheet{ext}", f"sheet-answers{ext}"])
    sheet, key = sheets(9, 11, "zh")
    render = to_markdown if ext == ".md" else to_latex
    assert (first / f"sheet{ext}").read_text(encoding="utf-8") == render(sheet)
    assert (first / f"sheet-answers{ext}").read_text(encoding="utf-8") == render(key)


def test_cli_stdout_has_sheet_then_key(capsys):
    code, out, err = run(["exercises", "--count", 3, "--seed", 4], capsys)
    assert (code, err) == (0, "")
    sheet, key = sheets(3, 4)
    assert out.startswith(to_markdown(sheet).rstrip("\n"))
    assert "\n\n---\n\n# Answer key: practice problems (seed 4)\n" in out
    assert out.endswith(to_markdown(key))


@pytest.mark.parametrize("argv, option", [
    (["--count", "0"], "--count"), (["--count", "101"], "--count"), (["--count", "two"], "--count"),
    (["--seed", "-1"], "--seed"), (["--seed", "1.5"], "--seed"), (["--seed", str(2**63)], "--seed"),
])
def test_cli_validates_count_and_seed(capsys, tmp_path, argv, option):
    code, out, err = run(["exercises", *argv, "--out", tmp_path / "sheet.md"], capsys)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and option in err and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


def test_python_api_validates_too():
    with pytest.raises(exercises.OptionError, match="--count"):
        exercises.generate(0, 1)
    with pytest.raises(exercises.OptionError, match="--seed"):
        exercises.generate(1, -3)
