"""`steps = n` through the command line: the JSON's `updated` (after the last step) and `steps` against torch's
training loop for every optimizer, `symgrad check` comparing every step, the documents' training-loop
section, the PyTorch block's loop run in real torch, and steps = 1 printing exactly what a spec without
steps prints."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import numpy as np
import pytest
from lazy_torch import torch
from printouts import assert_same_printout

from symgrad import spec as specs
from symgrad.cli.commands import main
from symgrad.printing import torchcode
from symgrad.printing.training import rounded
from symgrad.verify import compare, evaluate, torch_reference

SPEC = """
title = "Conv -> max pool -> MSE, a few steps"
{steps}
[input]
values = [[1, 2, 0, 1], [0, -1, 3, 2], [2, 1, 1, -2], [1, 0, -1, 3]]

[[layers]]
type = "Conv2d"
in_channels = 1
out_channels = 2
kernel_size = 2
init.weight = [[[[0.5, 0.25], [0.25, 0.5]]], [[[-1.0, 0.5], [-0.5, 1.0]]]]
init.bias = [0.25, -0.5]

[[layers]]
type = "MaxPool2d"
kernel_size = 3

[loss]
type = "MSELoss"
target = [[[[1.5]], [[-0.5]]]]

[optimizer]
{optimizer}
"""

OPTIMIZERS = {
    "SGD": ('type = "SGD"\nlr = 0.05\nmomentum = 0.9\nweight_decay = 0.1', {"lr": 0.05, "momentum": 0.9,
                                                                            "weight_decay": 0.1}),
    "Adam": ('type = "Adam"\nlr = 0.1', {"lr": 0.1}),
    "AdamW": ('type = "AdamW"\nlr = 0.1\nweight_decay = 0.5', {"lr": 0.1, "weight_decay": 0.5}),
    "RMSprop": ('type = "RMSprop"\nlr = 0.01\nmomentum = 0.5', {"lr": 0.01, "momentum": 0.5}),
    "Adagrad": ('type = "Adagrad"\nlr = 0.1\nlr_decay = 0.5', {"lr": 0.1, "lr_decay": 0.5}),
}


def write(tmp_path, kind="Adam", steps=3, name="spec.toml"):
    path = tmp_path / name
    path.write_text(SPEC.format(steps=f"steps = {steps}" if steps is not None else "",
                                optimizer=OPTIMIZERS[kind][0]), encoding="utf-8")
    return str(path)


def run(argv, capsys):
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def torch_loop(kind, steps):
    """The same problem in torch, written out: each step's loss, gradients and parameters after it."""
    model = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 2), torch.nn.MaxPool2d(3)).double()
    with torch.no_grad():
        model[0].weight.copy_(torch.tensor([[[[0.5, 0.25], [0.25, 0.5]]], [[[-1.0, 0.5], [-0.5, 1.0]]]]))
        model[0].bias.copy_(torch.tensor([0.25, -0.5]))
    optimizer = getattr(torch.optim, kind)(model.parameters(), **OPTIMIZERS[kind][1])
    x = torch.tensor([[[[1, 2, 0, 1], [0, -1, 3, 2], [2, 1, 1, -2], [1, 0, -1, 3]]]], dtype=torch.float64)
    y = torch.tensor([[[[1.5]], [[-0.5]]]], dtype=torch.float64)
    history = []
    for _ in range(steps):
        optimizer.zero_grad()
        loss = torch.nn.MSELoss()(model(x), y)
        loss.backward()
        grads = {name: p.grad.numpy().copy() for name, p in model.named_parameters()}
        optimizer.step()
        history.append((loss.item(), grads, {name: p.detach().numpy().copy() for name, p in model.named_parameters()}))
    return history


@pytest.mark.torch
@pytest.mark.parametrize("kind", OPTIMIZERS)
def test_json_steps_match_torchs_loop(kind, tmp_path, capsys):
    code, out, err = run(["derive", write(tmp_path, kind), "--format", "json"], capsys)
    assert code == 0 and err == ""
    document = json.loads(out)
    history = torch_loop(kind, 3)
    assert len(document["steps"]) == 3
    for shown, (loss, grads, updated) in zip(document["steps"], history):
        assert shown["loss"] == pytest.approx(loss, rel=1e-12)
        assert set(shown["gradients"]) == {"0.weight", "0.bias", "input"}
        for name in updated:
            np.testing.assert_allclose(shown["gradients"][name], grads[name], rtol=1e-11, atol=1e-12)
            np.testing.assert_allclose(shown["updated"][name], updated[name], rtol=1e-11, atol=1e-12)
    # the contract: loss and gradients are the first step's, `updated` the parameters after the last
    assert document["loss"] == document["steps"][0]["loss"]
    assert document["gradients"] == document["steps"][0]["gradients"]
    assert document["updated"] == document["steps"][-1]["updated"]


@pytest.mark.torch
@pytest.mark.parametrize("kind", OPTIMIZERS)
def test_check_compares_every_step(kind, tmp_path, capsys):
    code, out, err = run(["check", write(tmp_path, kind)], capsys)
    assert code == 0, out + err
    for number in (2, 3):
        for quantity in ("loss", "dL/d0.weight", "dL/dinput", "updated 0.weight", "updated 0.bias"):
            assert any(line.startswith(f"step {number} {quantity} ") and line.endswith(" ok")
                       for line in out.splitlines()), (number, quantity, out)
    # output, loss, 3 gradients and 2 parameters for each step
    assert "21 of 21 quantities agree" in out and "\nupdated 0.weight " not in out and "step 1 updated 0.bias" in out
    assert "MISMATCH" not in out


@pytest.mark.torch
def test_check_finds_a_wrong_later_step(tmp_path):
    """compare's rows for a later step can fail: symgrad's step 2 loss nudged is a mismatch, and a missing
    step too."""
    d = specs.load(write(tmp_path, "Adam")).derive()
    ours = evaluate(d)
    theirs = torch_reference(d, ours)
    assert all(row["ok"] for row in compare(ours, theirs))
    ours["steps"][1]["loss"] += 1e-6
    bad = [row["quantity"] for row in compare(ours, theirs) if not row["ok"]]
    assert bad == ["step 2 loss"]
    ours["steps"].pop()
    assert "steps" in [row["quantity"] for row in compare(ours, theirs) if not row["ok"]]


@pytest.mark.parametrize("fmt", ["text", "json", "latex", "markdown"])
def test_one_step_prints_what_no_steps_prints(fmt, tmp_path, capsys):
    outputs = []
    for steps in (None, 1):
        code, out, err = run(["derive", write(tmp_path, "Adam", steps), "--format", fmt], capsys)
        assert code == 0, err
        outputs.append(out)
    assert outputs[0] == outputs[1]
    assert "steps" not in json.loads(outputs[0]) if fmt == "json" else "Training loop" not in outputs[0]


@pytest.mark.parametrize("fmt, lang, needles", [
    ("text", "en", ["Training loop (3 steps on the same batch", "step 1: loss = ", "step 3: loss = "]),
    ("text", "zh", ["训练循环（同一批数据上 3 步", "第 3 步：损失 = "]),
    ("markdown", "en", ["## Training loop: 3 steps on the same batch", "`optimizer.zero_grad()`",
                        r"t = 3:\quad L \approx", r"{K}^{(3)} \approx", r"{b}^{(3)} \approx \begin{bmatrix}",
                        "and the training loop of 3 steps"]),
    ("latex", "en", [r"Training loop: 3 steps on the same batch", r"t = 2:\quad L \approx"]),
    ("latex", "zh", ["训练循环：同一批数据上的 3 步"]),
])
def test_documents_show_each_step(fmt, lang, needles, tmp_path, capsys):
    code, out, err = run(["derive", write(tmp_path, "Adam"), "--format", fmt, "--lang", lang], capsys)
    assert code == 0, err
    for needle in needles:
        assert needle in out, needle
    assert out.count("0.weight:" if fmt == "text" else "t = ") >= 3


def test_text_steps_are_the_json_numbers_rounded(tmp_path, capsys):
    spec = write(tmp_path, "SGD")
    _, out, _ = run(["derive", spec], capsys)
    _, raw, _ = run(["derive", spec, "--format", "json"], capsys)
    for number, step in enumerate(json.loads(raw)["steps"], start=1):
        assert f"step {number}: loss = {rounded(step['loss'])}\n" in out
        assert f"[ {rounded(step['updated']['0.bias'][0])}  {rounded(step['updated']['0.bias'][1])} ]" \
            in out.split(f"step {number}: loss")[1]


def run_block(source: str) -> str:
    """What the PyTorch block prints when run (our own generated code, as tests/printing/test_torch_block.py)."""
    default, stdout = torch.get_default_dtype(), io.StringIO()
    try:
        with contextlib.redirect_stdout(stdout):
            exec(compile(source, "<block>", "exec"), {"__name__": "__block__"})  # noqa: S102
    finally:
        torch.set_default_dtype(default)
    return stdout.getvalue()


def _block(out: str) -> tuple[str, str]:
    code = out.split("```python\n")[1].split("```")[0]
    printed = out.split("```text\n")[-1].split("```")[0]
    return code, printed


@pytest.mark.torch
@pytest.mark.parametrize("kind", ["SGD", "Adam", "RMSprop"])
def test_the_pytorch_block_runs_the_loop_and_prints_what_the_document_says(kind, tmp_path, capsys):
    code, out, err = run(["derive", write(tmp_path, kind), "--format", "markdown"], capsys)
    assert code == 0, err
    source, printed = _block(out)
    assert "for step in range(3):\n    optimizer.zero_grad()\n    loss = loss_fn(net(x), y)\n    loss.backward()\n" \
        in source and "    optimizer.step()\n" in source
    assert_same_printout(run_block(source), printed)
    assert printed.count("loss: tensor(") == 3


@pytest.mark.torch
def test_the_block_with_accumulated_passes_and_wrt(tmp_path):
    path = write(tmp_path, "SGD")
    text = Path(path).read_text(encoding="utf-8").replace("steps = 3", "steps = 2\nbackward_passes = 2")
    Path(path).write_text(text, encoding="utf-8")
    d = specs.load(path).derive()
    numbers = evaluate(d)
    source = torchcode.code(d, numbers, wrt=["0.bias"])
    assert "    for _ in range(2):\n        loss = loss_fn(net(x), y)\n        loss.backward()\n" in source
    printed = run_block(source)
    assert printed == torchcode.printout(d, numbers, wrt=["0.bias"])
    assert "net[0].weight" not in printed


def test_generated_code_is_refused_and_nothing_is_written(tmp_path, capsys):
    module, out_file = tmp_path / "twin.py", tmp_path / "out.txt"
    code, out, err = run(["derive", write(tmp_path), "--emit-python", module, "--out", out_file], capsys)
    assert code == 2 and out == "" and err.count("\n") == 1
    assert err.startswith("symgrad: error: lambdify: steps: generated code takes one optimizer step")
    assert not module.exists() and not out_file.exists()


def test_check_refuses_symbols_with_steps(tmp_path, capsys):
    path = write(tmp_path)
    text = Path(path).read_text(encoding="utf-8").replace("init.bias = [0.25, -0.5]\n", "")
    Path(path).write_text(text, encoding="utf-8")
    code, out, err = run(["check", path], capsys)
    assert code == 2 and out == ""
    assert err.startswith("symgrad: error: spec: steps: more than one step needs numbers, and 0.bias has symbols")


@pytest.mark.torch
def test_the_block_prints_the_running_statistics_after_the_loop(tmp_path):
    """A training BatchNorm2d: the block's loop moves its running statistics each step, and prints them once
    after the loop, as symgrad's last step has them (2 steps: BatchNorm takes about 6 s a step)."""
    path = write(tmp_path, "SGD", steps=2)
    text = Path(path).read_text(encoding="utf-8").replace('[[layers]]\ntype = "MaxPool2d"', '[[layers]]\ntype = '
                                                       '"BatchNorm2d"\nnum_features = 2\ninit.weight = [1.0, 0.5]\n'
                                                       'init.bias = [0.0, 0.25]\n\n[[layers]]\ntype = "MaxPool2d"')
    # no conv bias: BatchNorm subtracts the mean, so its gradient is 0, which torch prints as round-off (1e-17)
    Path(path).write_text(text.replace("init.bias = [0.25, -0.5]\n", "bias = false\n"), encoding="utf-8")
    d = specs.load(path).derive()
    numbers = evaluate(d)
    source = torchcode.code(d, numbers)
    assert source.rstrip().endswith('print("net[1].running_var:")\nprint(net[1].running_var)')
    assert run_block(source) == torchcode.printout(d, numbers)
    np.testing.assert_allclose(numbers["updated_buffers"]["1.running_mean"],
                               numbers["steps"][-1]["updated_buffers"]["1.running_mean"])
    assert not np.allclose(numbers["steps"][0]["updated_buffers"]["1.running_mean"],
                           numbers["steps"][1]["updated_buffers"]["1.running_mean"])


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_standalone_document_with_steps_compiles_without_overfull_lines(tmp_path, capsys, lang):
    """The training-loop section's equations (two-channel kernels per step) fit the page, in both languages."""
    import re
    import subprocess

    from symgrad.handout.compile import require_tex

    require_tex(lang)
    out = tmp_path / "d.tex"
    code, _, err = run(["derive", write(tmp_path, "Adam"), "--format", "latex", "--lang", lang, "--out", out], capsys)
    assert code == 0, err
    engine = "-xelatex" if lang == "zh" else "-pdf"
    result = subprocess.run(["latexmk", engine, "-interaction=nonstopmode", "-halt-on-error", "d.tex"],
                            cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-2000:]
    log = (tmp_path / "d.log").read_text(encoding="utf-8", errors="replace")
    overfull = [float(v) for v in re.findall(r"Overfull \\hbox \((\d+\.\d+)pt too wide\)", log)]
    assert all(v <= 5 for v in overfull), overfull


def test_json_steps_keep_to_wrt(tmp_path, capsys):
    code, out, err = run(["derive", write(tmp_path, "SGD"), "--format", "json", "--wrt", "0.bias", "input"], capsys)
    assert code == 0, err
    document = json.loads(out)
    assert [set(s["gradients"]) for s in document["steps"]] == [{"0.bias", "input"}] * 3
    assert [set(s["updated"]) for s in document["steps"]] == [{"0.bias"}] * 3
    assert set(document["updated"]) == {"0.bias"} and document["updated"] == document["steps"][-1]["updated"]
