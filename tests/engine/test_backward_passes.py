"""backward_passes: gradients of repeated backward passes add up, as torch does without zero_grad."""

import json

import numpy as np
import pytest
import sympy as sp
from lazy_torch import torch

import symgrad as sg
from symgrad import spec
from symgrad.cli.commands import main

X = [[1, 2, 3], [4, 5, 6], [7, 8, 9]]
KERNEL = [[0.25, -0.5], [0.125, -0.0625]]  # small: the sigmoid must not saturate


def _network():
    return sg.Sequential(sg.Conv2d(1, 1, 2).init(weight=KERNEL, bias=[sp.Rational(1, 2)]), sg.Sigmoid(),
                         sg.AvgPool2d(2, stride=1))


def _torch(passes, optimizer):
    """torch: forward + backward `passes` times without zero_grad, then one optimizer step."""
    model = torch.nn.Sequential(*[layer.torch_module() for layer in _network()]).double()
    with torch.no_grad():
        model[0].weight.copy_(torch.tensor(KERNEL, dtype=torch.float64).reshape(1, 1, 2, 2))
        model[0].bias.fill_(0.5)
    x = torch.tensor(X, dtype=torch.float64).reshape(1, 1, 3, 3).requires_grad_()
    for _ in range(passes):
        torch.nn.MSELoss()(model(x), torch.tensor([[[[0.25]]]], dtype=torch.float64)).backward()
    grads = {name: p.grad.numpy().copy() for name, p in model.named_parameters()}
    grads["input"] = x.grad.numpy().copy()
    optimizer.torch_optimizer(model.parameters()).step()
    return grads, {name: p.detach().numpy().copy() for name, p in model.named_parameters()}


@pytest.mark.torch
@pytest.mark.parametrize("passes", [1, 2, 3])
def test_matches_torch_without_zero_grad(passes):
    optimizer = sg.SGD(lr=0.1, momentum=0.9, weight_decay=0.01)
    d = sg.derive(_network(), X, sg.MSELoss(), target=0.25, optimizer=optimizer, backward_passes=passes)
    grads, updated = _torch(passes, optimizer)
    assert d.backward_passes == passes
    assert set(grads) == {"input", *d.tensors.parameters} and set(updated) == set(d.tensors.parameters)
    for name, grad in grads.items():
        np.testing.assert_allclose(d.tensors.gradient(name).astype(float), grad, rtol=1e-12, err_msg=name)
    for name, value in updated.items():
        np.testing.assert_allclose(d.tensors.parameters[name].updated.astype(float), value, rtol=1e-12, err_msg=name)
    single, _ = _torch(1, optimizer)
    if passes > 1:  # really summed, not one pass
        assert not np.allclose(grads["0.weight"], single["0.weight"])


def test_summed_gradient_reaches_the_generated_code_and_the_hessian():
    net = sg.Sequential(sg.Conv2d(1, 1, 2, bias=False), sg.Sum())  # symbolic kernel
    once = sg.derive(net, X, sg.MSELoss(), target=3)
    twice = sg.derive(net, X, sg.MSELoss(), target=3, backward_passes=2)
    k = {"0.weight": np.array(KERNEL, dtype=float).reshape(1, 1, 2, 2)}
    np.testing.assert_allclose(twice.lambdify()(**k)["gradients"]["0.weight"],
                               2 * once.lambdify()(**k)["gradients"]["0.weight"])
    assert twice.loss == once.loss
    assert twice.hessian("0.weight") == once.hessian("0.weight")  # the Hessian of the loss, not of the sum


@pytest.mark.parametrize("value", [0, -1, 1.5, "2", True])
def test_bad_values_are_refused(value):
    with pytest.raises(sg.OptionError, match="backward_passes"):
        sg.derive(_network(), X, sg.MSELoss(), target=0, backward_passes=value)


SPEC = """
backward_passes = {passes}

[input]
values = [[1, 2, 3], [4, 5, 6], [7, 8, 9]]

[[layers]]
type = "Conv2d"
in_channels = 1
out_channels = 1
kernel_size = 2
bias = false
init.weight = [[3, 2], [1, 5]]

[[layers]]
type = "MaxPool2d"
kernel_size = 2

[loss]
type = "MSELoss"
target = 60

[optimizer]
type = "SGD"
lr = 0.01
"""


@pytest.mark.torch
def test_spec_backward_passes(tmp_path, capsys):
    d = spec.parse(SPEC.format(passes=2)).derive()
    assert d.backward_passes == 2
    assert d.gradients["0.weight"][0, 0, 0, 0] == 400  # 2 x 200 (one pass: [[200, 240], [320, 360]])
    assert d.updated["0.weight"][0, 0, 0, 0] == -1  # 3 - 0.01 * 400
    path = tmp_path / "twice.toml"
    path.write_text(SPEC.format(passes=2))
    assert main(["derive", str(path), "--format", "json"]) == 0
    assert "400" in capsys.readouterr().out
    assert main(["check", str(path)]) == 0  # torch also runs backward twice
    capsys.readouterr()


@pytest.mark.parametrize("value", ["0", "1.5", '"2"', "true"])
def test_spec_bad_backward_passes_exits_2(tmp_path, capsys, value):
    path = tmp_path / "bad.toml"
    path.write_text(SPEC.format(passes=value))
    assert main(["derive", str(path)]) == 2
    err = capsys.readouterr().err
    assert "spec: backward_passes:" in err and len(err.strip().splitlines()) == 1
