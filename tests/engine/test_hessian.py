"""Derivation.hessian: second derivatives of the loss, checked against torch's Hessian."""

import numpy as np
import pytest
import sympy as sp
from lazy_torch import torch, torch_func

import symgrad as sg

X = sg.symbolic("x", (1, 1, 3, 3))


def _torch_hessian(net, loss, x, target, name, values):
    """torch.autograd.functional.hessian of the loss w.r.t. parameter `name`, in float64."""
    model = torch.nn.Sequential(*[layer.torch_module() for layer in net]).double()
    params = {k: torch.tensor(v, dtype=torch.float64) for k, v in values.items()}
    xt = torch.tensor(x, dtype=torch.float64)
    yt = torch.tensor(target, dtype=torch.float64)

    def f(theta):
        out = torch_func.functional_call(model, {**params, name: theta}, (xt,))
        return loss.torch_module()(out, yt.expand_as(out))

    theta = params[name]
    return torch.autograd.functional.hessian(f, theta).reshape(theta.numel(), theta.numel()).numpy()


def _at(matrix, d, numbers):
    """The Hessian at numbers: {symbol: value} for the input, parameters and target."""
    return np.array(matrix.xreplace(numbers).evalf(), dtype=np.float64)


def _numbers(d, seed):
    rng = np.random.default_rng(seed)
    return {s: sp.Float(rng.normal(), 30) for s in d.free_symbols}


def _fill(array, numbers):
    return np.vectorize(lambda e: float(e.xreplace(numbers)), otypes=[float])(array)


@pytest.mark.torch
@pytest.mark.parametrize("layers", [
    [sg.Sum()],
    [sg.AvgPool2d(2, stride=1)],
    [sg.MaxPool2d(2, stride=1)],
    [sg.Sigmoid(), sg.AvgPool2d(2)],
    [sg.ReLU()],
], ids=["sum", "avg_pool", "max_pool", "sigmoid_avg_pool", "relu"])
def test_hessian_matches_torch_at_tie_free_points(layers):
    net = sg.Sequential(sg.Conv2d(1, 1, 2), *layers)
    loss = sg.MSELoss()
    d = sg.derive(net, X, loss)
    for name in ("0.weight", "0.bias"):
        h = d.hessian(name)
        size = d.tensors.parameters[name].value.size
        assert h.shape == (size, size)
        for seed in range(2):  # random normal points: ties have probability 0
            numbers = _numbers(d, seed)
            values = {k: _fill(p.value, numbers) for k, p in d.tensors.parameters.items()}
            ours = _at(h, d, numbers)
            theirs = _torch_hessian(net, loss, _fill(d.tensors.input, numbers), _fill(d.tensors.target, numbers),
                                    name, values)
            np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-10)
            np.testing.assert_allclose(ours, ours.T, rtol=1e-12)


def test_conv_sum_mse_hessian_is_2_g_gT_so_convex_in_k():
    net = sg.Sequential(sg.Conv2d(1, 1, 2, bias=False), sg.Sum())
    d = sg.derive(net, X, sg.MSELoss())
    h = d.hessian("0.weight")
    k = list(d.tensors.parameters["0.weight"].value.reshape(-1))
    s = d.tensors.output[()]
    g = sp.Matrix([sp.diff(s, kk) for kk in k])  # dS/dK: sums of the input patches, free of K
    assert all(not (gi.free_symbols & set(k)) for gi in g)
    n = 1  # one output entry
    assert (h - sp.Rational(2, n) * g * g.T).applyfunc(sp.expand) == sp.zeros(4, 4)
    for seed in range(5):
        numbers = _numbers(d, seed)
        eigenvalues = np.linalg.eigvalsh(_at(h, d, numbers))
        assert eigenvalues.min() >= -1e-9 * max(1.0, eigenvalues.max())  # positive semidefinite
        assert np.sum(eigenvalues > 1e-9) == 1  # rank one: flat in every direction orthogonal to g


def test_sigmoid_makes_the_loss_non_convex_somewhere():
    net = sg.Sequential(sg.Conv2d(1, 1, 2, bias=False), sg.Sigmoid(), sg.Sum())
    d = sg.derive(net, X, sg.MSELoss())
    h = d.hessian("0.weight")
    smallest = min(np.linalg.eigvalsh(_at(h, d, {**_numbers(d, seed), sp.Symbol("y", real=True): 20})).min()
                   for seed in range(5))
    assert smallest < -1e-6


def test_numeric_parameter_uses_placeholders_and_keeps_values():
    kernel = [[0.5, -1.25], [2, 0.75]]
    net = sg.Sequential(sg.Conv2d(1, 1, 2, bias=False).init(weight=kernel), sg.Sigmoid(), sg.Sum())
    d = sg.derive(net, X, sg.MSELoss(), target=1)
    h = d.hessian("0.weight")
    assert net.layers[0].initial["weight"] == kernel  # the network is not changed
    symbolic = sg.derive(sg.Sequential(sg.Conv2d(1, 1, 2, bias=False), sg.Sigmoid(), sg.Sum()), X, sg.MSELoss(),
                         target=1)
    k = symbolic.tensors.parameters["0.weight"].value.reshape(-1)
    expected = symbolic.hessian("0.weight").xreplace(dict(zip(k, [sp.Rational(1, 2), sp.Rational(-5, 4), 2,
                                                                    sp.Rational(3, 4)])))
    numbers = _numbers(d, 0)
    np.testing.assert_allclose(_at(h, d, numbers), _at(expected, d, numbers), rtol=1e-12)
    assert not h.free_symbols - set(X.reshape(-1))


def test_hessian_with_respect_to_the_input():
    net = sg.Sequential(sg.Conv2d(1, 1, 2, bias=False), sg.Sum())
    d = sg.derive(net, [[1, 2, 3], [4, 5, 6], [7, 8, 9]], sg.MSELoss(), target=3)
    h = d.hessian("input")
    k = d.tensors.parameters["0.weight"].value
    assert h.shape == (9, 9)
    assert sp.expand(h[4, 4] - 2 * k.sum() ** 2) == 0  # the centre pixel meets every kernel entry once


def test_unknown_name_is_refused():
    d = sg.derive(sg.Sequential(sg.Conv2d(1, 1, 2), sg.Sum()), X)
    with pytest.raises(sg.OptionError, match=r"hessian: name: no gradient named '1.weight' \(known: 0.weight"):
        d.hessian("1.weight")
