"""The numbers of the seed articles, reproduced exactly (SymPy rationals, not floats).

Sources: the conv-gradient article (conv + Sum / AvgPool2d / MaxPool2d, one SGD step
with lr 0.01) and d2l's pooling section (forward outputs on arange(16)). Where natural,
the same numbers are also asserted against torch autograd.
"""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from lazy_torch import torch

import symgrad as sg

X3 = [[1, 2, 3], [4, 5, 6], [7, 8, 9]]
K = [[3, 2], [1, 5]]
LR = 0.01


def flat2d(array) -> np.ndarray:
    """A SymPy Array / object array with leading singleton axes -> 2-D object array."""
    a = np.array(array.tolist() if hasattr(array, "tolist") else array, dtype=object)
    return a.reshape(a.shape[-2:])


def assert_exact(actual, expected):
    """Every entry is an exact SymPy Rational equal to the expected decimal (given as a string/int)."""
    actual = np.array(actual, dtype=object)
    expected = np.array(expected, dtype=object)
    assert actual.shape == expected.shape, (actual.shape, expected.shape)
    for idx in np.ndindex(*actual.shape):
        value, want = actual[idx], sp.Rational(str(expected[idx]))
        assert isinstance(value, sp.Rational), f"{idx}: {value!r} is not an exact rational"
        assert value == want, f"{idx}: got {value}, expected {want}"


def conv(**extra):
    return sg.Conv2d(1, 1, 2, bias=False, weight=K, **extra)


def torch_conv_case(pool, target):
    """The article's network in torch float64: returns (dL/dK, K after SGD, dL/dX)."""
    x = torch.tensor(X3, dtype=torch.float64).reshape(1, 1, 3, 3).requires_grad_()
    k = torch.tensor(K, dtype=torch.float64).reshape(1, 1, 2, 2).requires_grad_()
    out = pool(torch.nn.functional.conv2d(x, k))
    loss = torch.nn.functional.mse_loss(out, torch.full_like(out, float(target)))
    loss.backward()
    grad = k.grad.reshape(2, 2).numpy().copy()
    with torch.no_grad():
        opt = torch.optim.SGD([k], lr=LR)
        opt.step()
    return grad, k.detach().reshape(2, 2).numpy(), x.grad.reshape(3, 3).numpy()


# --- conv-gradient article -------------------------------------------------

@pytest.mark.torch
def test_conv_sum_mse_target_230():
    d = sg.derive(sg.Sequential(conv(), sg.Sum()), X3, sg.MSELoss(), 230, sg.SGD(lr=LR))
    assert_exact(flat2d(d.gradients["0.weight"]), [[48, 64], [96, 112]])
    assert_exact(flat2d(d.updated["0.weight"]), [["2.52", "1.36"], ["0.04", "3.88"]])
    # conv output [[36, 47], [69, 80]], S = 232, L = (232 - 230)^2
    assert_exact(flat2d(d.tensors.layers[0].output), [[36, 47], [69, 80]])
    assert d.output == 232
    assert d.loss == 4
    grad, updated, _ = torch_conv_case(lambda t: t.sum(), 230)
    np.testing.assert_array_equal(grad, [[48, 64], [96, 112]])
    np.testing.assert_allclose(updated, [[2.52, 1.36], [0.04, 3.88]], rtol=0, atol=1e-12)


@pytest.mark.torch
def test_conv_avgpool_target_60():
    d = sg.derive(sg.Sequential(conv(), sg.AvgPool2d(2)), X3, sg.MSELoss(), 60, sg.SGD(lr=LR))
    assert_exact(flat2d(d.gradients["0.weight"]), [[-12, -16], [-24, -28]])
    assert_exact(flat2d(d.updated["0.weight"]), [["3.12", "2.16"], ["1.24", "5.28"]])
    assert_exact(flat2d(d.output), [[58]])
    assert d.loss == 4
    grad, updated, _ = torch_conv_case(torch.nn.AvgPool2d(2), 60)
    np.testing.assert_array_equal(grad, [[-12, -16], [-24, -28]])
    np.testing.assert_allclose(updated, [[3.12, 2.16], [1.24, 5.28]], rtol=0, atol=1e-12)


@pytest.mark.torch
def test_conv_maxpool_target_60():
    d = sg.derive(sg.Sequential(conv(), sg.MaxPool2d(2)), X3, sg.MSELoss(), 60, sg.SGD(lr=LR))
    assert_exact(flat2d(d.gradients["0.weight"]), [[200, 240], [320, 360]])
    assert_exact(flat2d(d.updated["0.weight"]), [["1.0", "-0.4"], ["-2.2", "1.4"]])
    assert_exact(flat2d(d.gradients["input"]), [[0, 0, 0], [0, 120, 80], [0, 40, 200]])
    assert_exact(flat2d(d.output), [[80]])
    assert d.loss == 400
    grad, updated, xgrad = torch_conv_case(torch.nn.MaxPool2d(2), 60)
    np.testing.assert_array_equal(grad, [[200, 240], [320, 360]])
    np.testing.assert_allclose(updated, [[1.0, -0.4], [-2.2, 1.4]], rtol=0, atol=1e-12)
    np.testing.assert_array_equal(xgrad, [[0, 0, 0], [0, 120, 80], [0, 40, 200]])


def test_seed_numbers_agree_between_rules_and_diff():
    """The diff method reproduces the same exact numbers (no ties in these windows)."""
    for pool, target, expected in ((sg.AvgPool2d(2), 60, [[-12, -16], [-24, -28]]),
                                   (sg.MaxPool2d(2), 60, [[200, 240], [320, 360]])):
        d = sg.derive(sg.Sequential(conv(), pool), X3, sg.MSELoss(), target, sg.SGD(lr=LR), method="diff")
        assert_exact(flat2d(d.gradients["0.weight"]), expected)


# --- AvgPool2d((2,2), stride=(2,2)) then Sum: every input gradient is 1/4 ----

def _avg_sum_net():
    return sg.Sequential(sg.AvgPool2d((2, 2), stride=(2, 2)), sg.Sum())


@pytest.mark.torch
def test_avgpool_sum_numeric_input_gradient_quarter():
    x = np.arange(16).reshape(4, 4) * 3 - 7
    d = sg.derive(_avg_sum_net(), x)
    grad = flat2d(d.gradients["input"])
    assert grad.shape == (4, 4)
    assert_exact(grad, [["0.25"] * 4] * 4)
    assert d.loss == sp.Rational(int(x.sum()), 4)
    xt = torch.tensor(x, dtype=torch.float64).reshape(1, 1, 4, 4).requires_grad_()
    torch.nn.AvgPool2d((2, 2), stride=(2, 2))(xt).sum().backward()
    np.testing.assert_array_equal(xt.grad.reshape(4, 4).numpy(), np.full((4, 4), 0.25))


@pytest.mark.parametrize("method", ["rules", "diff"])
def test_avgpool_sum_symbolic_input_gradient_quarter(method):
    x = sg.symbolic("x", (1, 1, 4, 4))
    d = sg.derive(_avg_sum_net(), x, method=method)
    grad = flat2d(d.gradients["input"])
    assert_exact(grad, [["0.25"] * 4] * 4)
    assert sp.expand(d.loss - sum(x.reshape(-1)) / 4) == 0
    assert d.loss.free_symbols == set(x.reshape(-1))


# --- d2l pooling: forward outputs on arange(16) ------------------------------

ARANGE = np.arange(16).reshape(4, 4)


def _forward(layer, x):
    """The output of a single pooling layer (derived with MSELoss against target 0)."""
    d = sg.derive(sg.Sequential(layer), x, sg.MSELoss(), 0)
    return np.array(d.output.tolist(), dtype=object)


D2L = [
    ("k3", lambda m: m.MaxPool2d(3), [[10]]),
    ("k3_p1_s2", lambda m: m.MaxPool2d(3, padding=1, stride=2), [[5, 7], [13, 15]]),
    ("k23_p11_s23", lambda m: m.MaxPool2d((2, 3), padding=(1, 1), stride=(2, 3)), [[1, 3], [9, 11], [13, 15]]),
]


@pytest.mark.torch
@pytest.mark.parametrize("name,make,expected", D2L, ids=[c[0] for c in D2L])
def test_d2l_maxpool_forward(name, make, expected):
    out = _forward(make(sg), ARANGE)
    assert_exact(out.reshape(out.shape[-2:]), expected)
    torch_out = make(torch.nn)(torch.tensor(ARANGE, dtype=torch.float64).reshape(1, 1, 4, 4))
    np.testing.assert_array_equal(torch_out.reshape(out.shape[-2:]).numpy(), np.array(expected, dtype=float))


@pytest.mark.torch
def test_d2l_two_channel_maxpool_forward():
    x = np.stack([ARANGE, ARANGE + 1])[None]  # torch.cat((X, X + 1), 1)
    assert x.shape == (1, 2, 4, 4)
    out = _forward(sg.MaxPool2d(3, padding=1, stride=2), x)
    assert out.shape == (1, 2, 2, 2)
    expected = [[[5, 7], [13, 15]], [[6, 8], [14, 16]]]
    assert_exact(out[0], expected)
    torch_out = torch.nn.MaxPool2d(3, padding=1, stride=2)(torch.tensor(x, dtype=torch.float64))
    np.testing.assert_array_equal(torch_out[0].numpy(), np.array(expected, dtype=float))


def test_d2l_avgpool_forward():
    """d2l's pool2d(X, (2, 2), 'avg') on arange(9): [[2, 3], [5, 6]]."""
    out = _forward(sg.AvgPool2d(2, stride=1), np.arange(9).reshape(3, 3))
    assert_exact(out.reshape(2, 2), [[2, 3], [5, 6]])
