"""Every example spec reproduces its seed article's numbers through the CLI, and agrees with torch.

Each spec in examples/ is one case of a seed article (/work/shared/seeds). The numbers
below are the articles' own (and, where an article prints none, the hand calculation
it walks through). They are compared with the JSON of `symgrad derive`, in-process
via `symgrad.cli.commands.main` and once more through `python -m symgrad` in a subprocess.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from symgrad.cli.commands import main

from paths import ROOT

EXAMPLES = ROOT / "symgrad" / "examples"

ARTICLE_30 = "深度学习面试题30"  # 卷积的梯度反向传播: conv -> sum -> MSE
ARTICLE_31 = "深度学习面试题31"  # 池化操作的梯度: conv -> avg / max pool -> MSE
ARTICLE_AVG = "普通的2D Average pooling是怎么进行backward的呢"
ARTICLE_D2L = "动手学深度学习"  # (十一)池化层+LeNet


def _nchw(matrix):
    """[[...]] (H x W) -> [[[[...]]]] (1 x 1 x H x W), as torch shapes the JSON."""
    return [[matrix]]


# name -> (article, expected JSON subset). Numbers compare with ==: symgrad computes
# exactly (0.01 is 1/100), so 2.52 is the nearest double to 63/25, like the literal.
EXPECTED = {
    "conv_sum": (ARTICLE_30, {
        "output": 232.0,  # 36 + 47 + 69 + 80
        "loss": 4.0,  # (232 - 230)^2
        "gradients": {"0.weight": _nchw([[48, 64], [96, 112]])},
        "updated": {"0.weight": _nchw([[2.52, 1.36], [0.04, 3.88]])},
    }),
    "conv_avg_pool": (ARTICLE_31, {
        "output": _nchw([[58.0]]),
        "loss": 4.0,
        "gradients": {"0.weight": _nchw([[-12, -16], [-24, -28]])},
        "updated": {"0.weight": _nchw([[3.12, 2.16], [1.24, 5.28]])},
    }),
    "conv_max_pool": (ARTICLE_31, {
        "output": _nchw([[80.0]]),
        "loss": 400.0,
        "gradients": {"0.weight": _nchw([[200, 240], [320, 360]]),
                      "input": _nchw([[0, 0, 0], [0, 120, 80], [0, 40, 200]])},
        "updated": {"0.weight": _nchw([[1.0, -0.4], [-2.2, 1.4]])},
    }),
    "avg_pool_backward": (ARTICLE_AVG, {
        "gradients": {"input": _nchw([[0.25] * 4] * 4)},
    }),
    "pool_d2l_k3": (ARTICLE_D2L, {
        "output": _nchw([[10]]),
        # MSE against 0: the whole 2 * 10 / 1 goes to the maximum, X[2, 2]
        "gradients": {"input": _nchw([[0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 20, 0], [0, 0, 0, 0]])},
    }),
    "pool_d2l_pad1_stride2": (ARTICLE_D2L, {
        "output": _nchw([[5, 7], [13, 15]]),
    }),
    "pool_d2l_rect": (ARTICLE_D2L, {
        "output": _nchw([[1, 3], [9, 11], [13, 15]]),
    }),
    "pool_d2l_two_channels": (ARTICLE_D2L, {
        "output": [[[[5, 7], [13, 15]], [[6, 8], [14, 16]]]],
    }),
    "conv_symbolic": (ARTICLE_31, {
        "loss": str,  # symbolic: SymPy expressions as strings
    }),
}


def _spec(name: str) -> str:
    return str(EXAMPLES / f"{name}.toml")


def _run(argv, capsys):
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _derive_json(name, capsys, *extra):
    code, out, err = _run(["derive", _spec(name), "--format", "json", *extra], capsys)
    assert code == 0, err
    assert err == ""
    return json.loads(out)


def _assert_subset(document: dict, expected: dict, where: str = ""):
    for key, value in expected.items():
        assert key in document, f"{where}{key} missing from the JSON"
        if value is str:
            assert isinstance(document[key], str), f"{where}{key} should be a symbolic string"
        elif isinstance(value, dict):
            assert isinstance(document[key], dict)
            _assert_subset(document[key], value, f"{where}{key}.")
        else:
            assert document[key] == value, f"{where}{key}: {document[key]!r} != {value!r}"


def test_there_is_one_spec_per_seed_case():
    present = {path.stem for path in EXAMPLES.glob("*.toml")}
    assert set(EXPECTED) <= present, f"missing examples: {sorted(set(EXPECTED) - present)}"


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_example_title_names_its_article(name):
    import tomllib

    article, _ = EXPECTED[name]
    data = tomllib.loads(Path(_spec(name)).read_text(encoding="utf-8"))
    assert isinstance(data.get("title"), str) and article in data["title"]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_example_json_has_the_seed_numbers(name, capsys):
    _, expected = EXPECTED[name]
    document = _derive_json(name, capsys)
    assert {"output", "loss", "gradients"} <= set(document)
    _assert_subset(document, expected)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_example_through_python_dash_m(name):
    """The same numbers from a real process: `python -m symgrad derive SPEC --format json`."""
    result = subprocess.run([sys.executable, "-m", "symgrad", "derive", _spec(name), "--format", "json"],
                            capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    _assert_subset(json.loads(result.stdout), EXPECTED[name][1])


def test_avg_pool_backward_gives_a_quarter_everywhere(capsys):
    """Seed: "结果就是" a 4x4 tensor of 0.2500; the loss is the scalar sum itself (no [loss])."""
    document = _derive_json("avg_pool_backward", capsys)
    grad = document["gradients"]["input"]
    flat = [v for plane in grad for rows in plane for row in rows for v in row]
    assert len(flat) == 16 and set(flat) == {0.25}
    assert list(document["gradients"]) == ["input"]
    assert "updated" not in document
    # fully symbolic input: the output is the sum of x_ij / 4, a string
    assert isinstance(document["output"], str) and "x_11" in document["output"]
    assert document["loss"] == document["output"]


def test_optimizer_examples_have_updated_and_others_do_not(capsys):
    for name in EXPECTED:
        document = _derive_json(name, capsys)
        has_optimizer = "[optimizer]" in Path(_spec(name)).read_text(encoding="utf-8")
        assert ("updated" in document) == has_optimizer, name


def test_d2l_examples_have_no_parameters(capsys):
    for name in ("pool_d2l_k3", "pool_d2l_pad1_stride2", "pool_d2l_rect", "pool_d2l_two_channels"):
        document = _derive_json(name, capsys)
        assert list(document["gradients"]) == ["input"], name
        assert document["parameters"] == {}, name


def test_symbolic_example_becomes_the_article_numbers(capsys):
    """conv_symbolic with x = 1..9 and K = [[3,2],[1,5]] substituted is conv_max_pool, exactly."""
    import sympy as sp

    from symgrad import spec as specs
    from symgrad.derive import derive

    spec = specs.load(_spec("conv_symbolic"))
    d = derive(spec.network, spec.input, spec.loss, spec.target, spec.optimizer)
    by_name = {s.name: s for s in d.free_symbols}
    assert set(by_name) == {f"x_{i}{j}" for i in (1, 2, 3) for j in (1, 2, 3)} | \
        {f"k_{a}{b}" for a in (1, 2) for b in (1, 2)}
    values = {by_name[f"x_{i}{j}"]: sp.Integer(3 * (i - 1) + j) for i in (1, 2, 3) for j in (1, 2, 3)}
    values.update({by_name["k_11"]: 3, by_name["k_12"]: 2, by_name["k_21"]: 1, by_name["k_22"]: 5})

    assert d.loss.xreplace(values) == 400
    assert d.matrix("grad:0.weight").xreplace(values) == sp.Matrix([[200, 240], [320, 360]])
    assert d.matrix("grad:input").xreplace(values) == sp.Matrix([[0, 0, 0], [0, 120, 80], [0, 40, 200]])
    assert d.matrix("updated:0.weight").xreplace(values) == \
        sp.Matrix([[1, sp.Rational(-2, 5)], [sp.Rational(-11, 5), sp.Rational(7, 5)]])
    kernel = d.tensors.parameters["0.weight"]  # the same tensors, typed
    assert d.matrix(kernel.gradient) == d.matrix("grad:0.weight") and d.matrix(kernel.updated) == d.matrix(
        "updated:0.weight") and d.matrix(d.tensors.input_gradient) == d.matrix("grad:input")
    assert [layer.output.shape for layer in d.tensors.layers] == [(1, 1, 2, 2), (1, 1, 1, 1)]
    with pytest.raises(KeyError):
        d.matrix("grad:9.weight")

    # and the CLI shows the symbols as strings
    document = _derive_json("conv_symbolic", capsys)
    weight = document["gradients"]["0.weight"][0][0]
    assert all(isinstance(v, str) for row in weight for v in row)
    assert "x_11" in weight[0][0] and "k_11" in document["loss"]


@pytest.mark.torch
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_check_agrees_with_torch_on_every_example(name, capsys):
    code, out, err = _run(["check", _spec(name)], capsys)
    assert code == 0, out + err
    assert err == ""
    lines = out.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("quantity"))
    rows = lines[header + 1:-1]
    assert rows, out
    assert all(row.split()[-1] == "ok" for row in rows), out
    names = [row.split()[0] for row in rows]
    assert names[:2] == ["output", "loss"] and "dL/dinput" in names
    assert lines[-1] == f"{len(rows)} of {len(rows)} quantities agree with torch autograd (float64)"
    if name in ("avg_pool_backward", "conv_symbolic"):
        assert "checked at (seed 0)" in out  # symbols got values, and the table says which


@pytest.mark.torch
def test_check_through_python_dash_m():
    result = subprocess.run([sys.executable, "-m", "symgrad", "check", _spec("conv_max_pool")],
                            capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "5 of 5 quantities agree" in result.stdout
    assert "MISMATCH" not in result.stdout


def test_a_spec_is_cleaned_once(monkeypatch):
    """spec.py checks the input and target entries when it reads them; deriving does not check them again
    (the Python API's derive() still checks its arguments: test_bad_inputs)."""
    from symgrad import spec as specs
    from symgrad.core import tensor

    calls = []
    real = tensor.to_array
    monkeypatch.setattr(tensor, "to_array", lambda values, *args: calls.append(args) or real(values, *args))
    spec = specs.load(_spec("conv_max_pool"))
    spec.derive()
    assert [c for c in calls if c[1] in ("values", "target")] == [("input", "values")]  # (init.weight: once, too)
