"""The named-intermediate backward pass agrees with the explicit one and reads as the articles do."""

import numpy as np
import pytest
import sympy as sp

import symgrad as sg

CASES = {
    "conv+sum": lambda: [sg.Conv2d(1, 1, 2, bias=False), sg.Sum()],
    "conv+max": lambda: [sg.Conv2d(1, 1, 2, bias=True), sg.MaxPool2d(2, stride=1)],
    "conv+avg pad ceil": lambda: [sg.Conv2d(1, 1, 2, padding=1), sg.AvgPool2d(2, padding=1, ceil_mode=True)],
    "conv dilation stride": lambda: [sg.Conv2d(1, 2, 2, stride=2, dilation=2, padding=1), sg.Sum()],
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_expanded_named_gradients_equal_explicit(name):
    net = sg.Sequential(*CASES[name]())
    d = sg.derive(net, sg.symbolic("x", (1, 1, 4, 4)), sg.MSELoss() if net.layers[-1].type_name != "Sum" else None)
    for grad_name, named in d.named.gradients.items():
        explicit = d.tensors.gradient(grad_name)
        for a, b in zip(named.reshape(-1), explicit.reshape(-1)):
            assert sp.expand(d.named.expand(a) - b) == 0, grad_name


def test_conv_sum_kernel_gradient_is_delta_times_window():
    net = sg.Sequential(sg.Conv2d(1, 1, 2, bias=False), sg.Sum())
    d = sg.derive(net, sg.symbolic("x", (1, 1, 3, 3)), sg.MSELoss(), 230)
    x = {f"x_{i}{j}": sp.Symbol(f"x_{i}{j}", real=True) for i in range(1, 4) for j in range(1, 4)}
    delta = {f"{i}{j}": sp.Symbol(f"delta_sigma_{i}{j}", real=True) for i in range(1, 3) for j in range(1, 3)}
    expected_k11 = delta["11"] * x["x_11"] + delta["12"] * x["x_12"] + delta["21"] * x["x_21"] + delta["22"] * x["x_22"]
    assert d.named.gradients["0.weight"][0, 0, 0, 0] == expected_k11
    delta_s = sp.Symbol("delta_S", real=True)
    assert d.named.definitions[delta["11"]] == delta_s
    S = sp.Symbol("S_", real=True)  # Sum's scalar output: S_, as sympify("S") is SymPy's S
    assert d.named.definitions[delta_s] == 2 * S - 460


def test_max_pool_routes_with_first_argmax_indicator_not_heaviside():
    net = sg.Sequential(sg.Conv2d(1, 1, 2, bias=False), sg.MaxPool2d(2))
    d = sg.derive(net, sg.symbolic("x", (1, 1, 3, 3)), sg.MSELoss(), 60)
    text = " ".join(str(v) for v in d.named.definitions.values())
    assert "FirstArgmax" in text and "Heaviside" not in text
    explicit = " ".join(str(v) for v in d.tensors.gradient("0.weight").reshape(-1))
    assert "Heaviside" not in explicit
    # the named definitions, evaluated at a tie, give the whole delta to the first maximum like torch
    values = {s: sp.Integer(1) for s in d.free_symbols}
    grads = np.vectorize(lambda e: d.named.expand(e).xreplace(values), otypes=[object])(d.named.gradients["input"])
    numeric = np.vectorize(lambda e: e.xreplace(values), otypes=[object])(d.tensors.input_gradient)
    assert grads.tolist() == numeric.tolist()
