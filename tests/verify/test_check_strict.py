"""`symgrad check` cannot pass on what it did not compare (docs/guarantees.md "What check promises").

A NaN or infinite difference, a quantity one side lacks, a shape that differs: each is
a mismatch (exit 1) with its reason. torch raising on a spec symgrad accepted is one
line, exit 3, no C++ stack frames.
"""

from __future__ import annotations


import numpy as np
import pytest

import symgrad.verify
from symgrad.cli.commands import main

from paths import EXAMPLES

MAX_POOL = str(EXAMPLES / "conv_max_pool.toml")

pytestmark = [pytest.mark.torch,  # every test here needs torch
              pytest.mark.filterwarnings("ignore::RuntimeWarning")]


def run(argv, capsys):
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def with_reference(monkeypatch, change):
    """torch's answer, changed by `change(result)` before the comparison."""
    real = symgrad.verify.torch_reference

    def changed(derivation, numbers):
        result = real(derivation, numbers)
        change(result)
        return result

    monkeypatch.setattr(symgrad.verify, "torch_reference", changed)


def row(out: str, quantity: str) -> str:
    return next(line for line in out.splitlines() if line.split()[:1] == [quantity])


def _set(kind, name, value):
    def change(result):
        result[kind][name] = value(result[kind][name]) if callable(value) else value
    return change


@pytest.mark.parametrize("change,quantity,reason", [
    (_set("gradients", "0.weight", lambda g: g * np.nan), "dL/d0.weight", "torch gives NaN or infinite values"),
    (_set("gradients", "input", lambda g: g + np.inf), "dL/dinput", "torch gives NaN or infinite values"),
    (lambda r: r["gradients"].pop("0.weight"), "dL/d0.weight", "torch has no such quantity"),
    (lambda r: r["updated"].pop("0.weight"), "updated", "torch has no such quantity"),
    (_set("gradients", "7.weight", np.zeros(3)), "dL/d7.weight", "symgrad has no such quantity"),
    (_set("gradients", "0.weight", lambda g: g.reshape(-1)), "dL/d0.weight", "shapes differ"),
    (lambda r: r.update(loss=float("nan")), "loss", "torch gives NaN or infinite values"),
])
def test_check_fails_on_what_it_cannot_compare(change, quantity, reason, monkeypatch, capsys):
    with_reference(monkeypatch, change)
    code, out, err = run(["check", MAX_POOL], capsys)
    assert code == 1, out + err
    assert "MISMATCH" in row(out, quantity) and reason in row(out, quantity), out
    agreed, _, total = out.splitlines()[-1].split()[:3]
    assert int(agreed) == int(total) - 1, out


def test_infinite_on_both_sides_is_not_agreement(tmp_path, capsys):
    """A real overflow: 1e200 * 1e200 is inf in symgrad's float64 evaluation and in torch."""
    spec = tmp_path / "overflow.toml"
    spec.write_text('[input]\nvalues = [[1e200]]\n[[layers]]\ntype = "Conv2d"\nin_channels = 1\n'
                    'out_channels = 1\nkernel_size = 1\nbias = false\ninit.weight = [[1e200]]\n'
                    '[loss]\ntype = "MSELoss"\ntarget = 0\n', encoding="utf-8")
    code, out, err = run(["check", spec], capsys)
    assert code == 1, out + err
    assert "NaN or infinite" in row(out, "output") and "MISMATCH" in row(out, "loss")


def test_nan_on_our_side_is_named(monkeypatch, capsys):
    real = symgrad.verify.evaluate

    def ours_with_nan(derivation, values=None):
        result = real(derivation, values)
        result["output"] = result["output"] * np.nan
        return result

    monkeypatch.setattr(symgrad.verify, "evaluate", ours_with_nan)
    code, out, _ = run(["check", MAX_POOL], capsys)
    assert code == 1 and "symgrad gives NaN or infinite values" in row(out, "output")


def test_torch_raising_is_one_line_exit_3(monkeypatch, capsys):
    def raising(derivation, numbers):
        raise RuntimeError("stride should not be zero\nException raised from conv2d at aten/src/Conv.cpp:12\n"
                           "frame #0: c10::Error::Error(...) + 0x8a (0x7f in libc10.so)")

    monkeypatch.setattr(symgrad.verify, "torch_reference", raising)
    code, out, err = run(["check", MAX_POOL], capsys)
    assert code == 3 and out == ""
    assert err == ("symgrad: error: check: torch raised RuntimeError: stride should not be zero "
                   "(symgrad accepted this spec; please report it)\n")


def test_an_honest_check_still_passes(capsys):
    code, out, err = run(["check", MAX_POOL], capsys)
    assert code == 0 and err == "" and out.splitlines()[-1].startswith("5 of 5")


SYMBOLIC_RUNNING_VAR = """
[input]
values = [[[1, 2], [3, 5]], [[0, -1], [4, 2]]]
[[layers]]
type = "BatchNorm2d"
num_features = 2
training = false
init.running_var = ["v1", "v2"]
[loss]
type = "MSELoss"
target = 0
"""


@pytest.mark.parametrize("seed", range(6))
def test_symbolic_running_statistics_get_values_torch_can_take(seed, tmp_path, capsys):
    """A running variance under sqrt(var + eps) drawn from -3..3 would give NaN on both sides (a mismatch that
    says nothing): buffer symbols are drawn positive, and every seed compares real numbers."""
    spec = tmp_path / "spec.toml"
    spec.write_text(SYMBOLIC_RUNNING_VAR)
    code, out, err = run(["check", spec, "--seed", seed], capsys)
    assert code == 0 and err == "", out
    assert out.splitlines()[-1].endswith("quantities agree with torch autograd (float64)")


def test_buffer_symbols_are_drawn_positive():
    import sympy as sp

    v = sp.Symbol("v", real=True)
    others = [sp.Symbol(f"x{i}", real=True) for i in range(40)]
    drawn = symgrad.verify.random_values({v, *others}, seed=1, positive={v})
    assert drawn[v] >= 1 and min(drawn[s] for s in others) < 0  # the others keep -3..3
