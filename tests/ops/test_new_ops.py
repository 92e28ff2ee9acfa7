"""ReLU, Sigmoid, Tanh, Flatten, Linear, L1Loss and CrossEntropyLoss: torch parity, rules vs
sympy.diff, torch's tie rules (ReLU'(0) = 0, sign(0) = 0) and option validation.

Parity is checked twice, as in test_torch_parity.py: through `symgrad.verify`
(evaluate / torch_reference / compare) and through torch.nn.functional calls written
here from the same case table. Inputs are small integers so that zeros and ties occur.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass, field

import numpy as np
import pytest
import sympy as sp
from lazy_torch import torch, F

import symgrad as sg
from symgrad.ops.activation import Positive
from symgrad.verify import compare, evaluate, torch_reference

from paths import ROOT

TOL = 1e-10  # exp/tanh values are evaluated from exact expressions, so not bit-exact


@dataclass
class Case:
    name: str
    layers: list  # [(class name, kwargs)]
    shape: tuple
    loss: tuple | None = ("MSELoss", "mean")  # (loss class, reduction) or None (network ends with Sum)
    x: str = "random"  # "random", "zeros" or "relu_ties" (zeros in every row)
    target: object = None  # None: random; a list: given as is
    zero_bias: bool = False  # biases 0: with x = "zeros" every pre-activation is exactly 0
    sgd: dict = field(default_factory=lambda: {"lr": 0.1})


def L(kind, *args, **kwargs):
    names = {"Conv2d": ("in_channels", "out_channels", "kernel_size"), "Linear": ("in_features", "out_features"),
             "MaxPool2d": ("kernel_size",), "AvgPool2d": ("kernel_size",)}.get(kind, ())
    return kind, dict(zip(names, args), **kwargs)


CASES = [
    Case("relu_at_zero_sum", [L("ReLU"), L("Sum")], (1, 1, 3, 3), loss=None, x="relu_ties"),
    Case("conv_relu_zero_preactivation", [L("Conv2d", 1, 2, 2), L("ReLU")], (1, 1, 3, 3), x="zeros", zero_bias=True),
    Case("conv_relu_maxpool_ties", [L("Conv2d", 1, 1, 2), L("ReLU"), L("MaxPool2d", 2, stride=1), L("Sum")],
         (1, 1, 4, 4), loss=None, x="zeros", zero_bias=True),
    Case("sigmoid_mse", [L("Sigmoid")], (1, 2, 2, 2)),
    Case("tanh_l1_sum", [L("Tanh")], (2, 1, 2, 2), loss=("L1Loss", "sum")),
    Case("conv_sigmoid_avgpool_l1", [L("Conv2d", 1, 2, 2), L("Sigmoid"), L("AvgPool2d", 2)], (1, 1, 3, 3),
         loss=("L1Loss", "mean")),
    Case("l1_ties_sign_zero", [L("ReLU")], (1, 1, 2, 3), loss=("L1Loss", "mean"), x="relu_ties",
         target=[[[[0, 1, -1], [2, 0, 0]]]]),
    Case("flatten_linear_mse", [L("Flatten"), L("Linear", 4, 3)], (2, 1, 2, 2)),
    Case("flatten_linear_nobias_sum", [L("Flatten"), L("Linear", 6, 2, bias=False)], (1, 2, 1, 3),
         loss=("MSELoss", "sum")),
    Case("linear_on_4d_last_dim", [L("Linear", 3, 2)], (1, 2, 2, 3)),
    Case("flatten_start2_linear_3d", [L("Flatten", start_dim=2), L("Linear", 4, 2)], (1, 2, 2, 2)),
    Case("flatten_all_linear_1d", [L("Flatten", start_dim=0), L("Linear", 4, 2)], (1, 1, 2, 2)),
    Case("flatten_middle_dims", [L("Flatten", start_dim=1, end_dim=2), L("Tanh")], (1, 2, 2, 2)),
    Case("linear_relu_linear_ce", [L("Flatten"), L("Linear", 4, 3), L("ReLU"), L("Linear", 3, 3)], (2, 1, 2, 2),
         loss=("CrossEntropyLoss", "mean"), target=[2, 0]),
    Case("ce_sum_n3", [L("Flatten"), L("Linear", 2, 4)], (3, 1, 1, 2), loss=("CrossEntropyLoss", "sum"),
         target=[3, 0, 3]),
    Case("ce_equal_logits", [L("Flatten"), L("Linear", 2, 3)], (2, 1, 1, 2), loss=("CrossEntropyLoss", "mean"),
         x="zeros", zero_bias=True, target=[1, 2]),
    Case("conv_relu_pool_flatten_linear_ce",
         [L("Conv2d", 1, 2, 2), L("ReLU"), L("MaxPool2d", 2), L("Flatten"), L("Linear", 2, 3)], (2, 1, 3, 3),
         loss=("CrossEntropyLoss", "mean"), target=[1, 2], sgd={"lr": 0.05, "momentum": 0.9}),
    Case("conv_tanh_flatten_linear_sigmoid_mse",
         [L("Conv2d", 1, 1, 2), L("Tanh"), L("Flatten"), L("Linear", 4, 1), L("Sigmoid")], (1, 1, 3, 3)),
]


def make_input(case, rng):
    if case.x == "zeros":
        return np.zeros(case.shape, dtype=np.int64)
    x = rng.randint(-2, 3, size=case.shape)
    if case.x == "relu_ties":
        x[..., 0] = 0  # a zero in every row: ReLU'(0) must be 0
    return x


def build(case):
    rng = np.random.RandomState(2000 + sum(map(ord, case.name)))
    x = make_input(case, rng)
    layers, params = [], {}
    for i, (kind, kwargs) in enumerate(case.layers):
        layer = getattr(sg, kind)(**kwargs)
        for name, shape in layer.parameter_shapes().items():
            values = np.zeros(shape, dtype=np.int64) if name == "bias" and case.zero_bias else \
                rng.randint(-2, 3, size=shape)
            layer.init(**{name: values})
            params[f"{i}.{name}"] = values
        layers.append(layer)
    net = sg.Sequential(*layers)
    loss, target = None, None
    if case.loss is not None:
        kind, reduction = case.loss
        loss = getattr(sg, kind)(reduction=reduction)
        out_shape = net.shapes(x.shape)[-1]
        if case.target is not None:
            target = case.target
        elif kind == "CrossEntropyLoss":
            target = rng.randint(0, out_shape[1], size=out_shape[0])
        else:
            target = rng.randint(-2, 3, size=out_shape)
    return net, x, loss, target, params


def derive_case(case):
    net, x, loss, target, params = build(case)
    optimizer = sg.SGD(**case.sgd) if params else None
    return sg.derive(net, x, loss, target, optimizer), x, target, params


def independent_torch(case, x, target, params):
    """The same computation written directly in torch.nn.functional."""
    tensors = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in params.items()}
    xt = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    h = xt
    for i, (kind, kw) in enumerate(case.layers):
        if kind == "Conv2d":
            h = F.conv2d(h, tensors[f"{i}.weight"], tensors.get(f"{i}.bias"))
        elif kind == "Linear":
            h = F.linear(h, tensors[f"{i}.weight"], tensors.get(f"{i}.bias"))
        elif kind == "Flatten":
            h = torch.flatten(h, kw.get("start_dim", 1), kw.get("end_dim", -1))
        elif kind == "ReLU":
            h = F.relu(h)
        elif kind == "Sigmoid":
            h = torch.sigmoid(h)
        elif kind == "Tanh":
            h = torch.tanh(h)
        elif kind == "MaxPool2d":
            h = F.max_pool2d(h, kw["kernel_size"], kw.get("stride"))
        elif kind == "AvgPool2d":
            h = F.avg_pool2d(h, kw["kernel_size"], kw.get("stride"))
        elif kind == "Sum":
            h = h.sum()
        else:  # pragma: no cover
            raise AssertionError(kind)
    out = h
    if case.loss is None:
        loss = out
    else:
        kind, reduction = case.loss
        if kind == "CrossEntropyLoss":
            loss = F.cross_entropy(out, torch.tensor(np.asarray(target), dtype=torch.long), reduction=reduction)
        else:
            t = torch.as_tensor(np.asarray(target), dtype=torch.float64).expand_as(out)
            loss = (F.l1_loss if kind == "L1Loss" else F.mse_loss)(out, t, reduction=reduction)
    loss.backward()
    grads = {k: v.grad.numpy().copy() for k, v in tensors.items()}
    grads["input"] = xt.grad.numpy().copy()
    return out.detach().numpy().copy(), float(loss.detach()), grads


def floats(array) -> np.ndarray:
    a = np.array(array.tolist() if hasattr(array, "tolist") else array, dtype=object)
    return np.vectorize(float, otypes=[np.float64])(a) if a.shape else np.float64(float(a[()]))


@pytest.mark.torch
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_parity_with_torch_reference_helper(case):
    d, x, target, params = derive_case(case)
    assert not d.free_symbols
    numbers = evaluate(d)
    rows = compare(numbers, torch_reference(d, numbers), rtol=TOL, atol=TOL)
    expected = {"output", "loss", "dL/dinput", *(f"dL/d{k}" for k in params)}
    if params:
        expected |= {f"updated {k}" for k in params}
    assert {r["quantity"] for r in rows} == expected
    bad = [(r["quantity"], r["max_abs_error"]) for r in rows if not r["ok"]]
    assert not bad, f"{case.name}: differs from torch in {bad}"


@pytest.mark.torch
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_parity_with_independent_torch(case):
    d, x, target, params = derive_case(case)
    out, loss, grads = independent_torch(case, x, target, params)
    np.testing.assert_allclose(floats(d.tensors.output), out, rtol=TOL, atol=TOL, err_msg="output")
    assert float(d.loss) == pytest.approx(loss, rel=TOL, abs=TOL)
    assert set(d.gradients) == set(grads)
    for name in grads:
        np.testing.assert_allclose(floats(d.tensors.gradient(name)), grads[name], rtol=TOL, atol=TOL,
                                   err_msg=f"dL/d{name}")


def test_case_table_covers_every_new_op():
    kinds = {kind for c in CASES for kind, _ in c.layers}
    assert {"ReLU", "Sigmoid", "Tanh", "Flatten", "Linear"} <= kinds
    losses = {c.loss for c in CASES if c.loss}
    assert {("L1Loss", "mean"), ("L1Loss", "sum"), ("CrossEntropyLoss", "mean"), ("CrossEntropyLoss", "sum")} <= losses
    assert any(c.loss and c.loss[0] == "CrossEntropyLoss" and c.shape[0] > 1 for c in CASES)


# --- torch's tie rules ---------------------------------------------------------

@pytest.mark.torch
def test_relu_derivative_at_zero_is_zero_like_torch():
    x = [[-1, 0, 2]]
    d = sg.derive(sg.Sequential(sg.ReLU(), sg.Sum()), x)
    grad = np.array(d.gradients["input"].tolist(), dtype=object).reshape(-1)
    assert grad.tolist() == [0, 0, 1]
    xt = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    torch.relu(xt).sum().backward()
    assert xt.grad.reshape(-1).tolist() == [0.0, 0.0, 1.0]


def test_relu_rule_matches_diff_away_from_zero_and_torch_at_zero():
    """SymPy's d/dx Max(x, 0) is Heaviside(x), 1/2 at 0; the rule says 1[x > 0], as torch."""
    x = sg.symbolic("x", (1, 1, 1, 2))
    net = sg.Sequential(sg.ReLU(), sg.Sum())
    rules = np.array(sg.derive(net, x).gradients["input"].tolist(), dtype=object).reshape(-1)
    diff = np.array(sg.derive(net, x, method="diff").gradients["input"].tolist(), dtype=object).reshape(-1)
    x11, x12 = x.reshape(-1)
    assert rules[0] == Positive(x11) and diff[0] == sp.Heaviside(x11)
    for a, b in [(3, -2), (-1, 5), (sp.Rational(1, 7), sp.Rational(-3, 2))]:
        point = {x11: a, x12: b}
        assert [r.xreplace(point) for r in rules] == [g.xreplace(point) for g in diff]
    at_zero = {x11: 0, x12: 0}
    assert [r.xreplace(at_zero) for r in rules] == [0, 0]  # torch
    assert [g.xreplace(at_zero) for g in diff] == [sp.Rational(1, 2)] * 2  # SymPy's Heaviside(0)


def test_positive_indicator():
    a = sp.Symbol("a", real=True)
    assert [Positive(v) for v in (-2, 0, sp.Rational(1, 3))] == [0, 0, 1]
    assert Positive(a).has(Positive) and sp.diff(Positive(a), a) == 0
    assert Positive(sp.Symbol("p", positive=True)) == 1
    for v in (-1, 0, 2):
        assert Positive(a).rewrite(sp.Piecewise).subs(a, v) == Positive(v)
    assert sp.latex(Positive(a)) == r"\mathbb{I}\left[a > 0\right]"
    assert str(Positive(a)) == "1[a > 0]"


@pytest.mark.torch
def test_l1_gradient_is_zero_where_the_residual_is_zero():
    x = [[1, 2, 3]]
    d = sg.derive(sg.Sequential(sg.ReLU()), x, sg.L1Loss(), [[[[1, 0, 4]]]])
    grad = np.array(d.gradients["input"].tolist(), dtype=object).reshape(-1)
    assert grad.tolist() == [0, sp.Rational(1, 3), sp.Rational(-1, 3)]
    xt = torch.tensor([[[[1.0, 2.0, 3.0]]]], requires_grad=True, dtype=torch.float64)
    F.l1_loss(torch.relu(xt), torch.tensor([[[[1.0, 0.0, 4.0]]]], dtype=torch.float64)).backward()
    np.testing.assert_allclose(xt.grad.reshape(-1).numpy(), [0, 1 / 3, -1 / 3], rtol=1e-15)


@pytest.mark.torch
def test_cross_entropy_gradient_is_softmax_minus_onehot_over_n():
    logits = [[[[1, 2, 3]]], [[[0, 0, 0]]]]
    net = sg.Sequential(sg.Flatten())
    d = sg.derive(net, logits, sg.CrossEntropyLoss(), [2, 1])
    grad = np.array(d.gradients["input"].tolist(), dtype=object).reshape(2, 3)
    e = [sp.exp(k) for k in (1, 2, 3)]
    assert sp.simplify(grad[0, 2] - (e[2] / sum(e) - 1) / 2) == 0
    assert grad[1].tolist() == [sp.Rational(1, 6), sp.Rational(-1, 3), sp.Rational(1, 6)]
    assert sp.simplify(d.loss - (sp.log(sum(e)) - 3 + sp.log(3)) / 2) == 0
    zt = torch.tensor([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]], dtype=torch.float64, requires_grad=True)
    loss = F.cross_entropy(zt, torch.tensor([2, 1]))
    loss.backward()
    assert float(d.loss) == pytest.approx(float(loss.detach()), rel=1e-14)
    np.testing.assert_allclose(floats(grad), zt.grad.numpy(), rtol=1e-14)


# --- rules vs sympy.diff on tiny fully symbolic cases ------------------------------

def _same(case_rules, case_diff):
    for name in case_rules.gradients:
        ours = np.array(case_rules.gradients[name].tolist(), dtype=object).reshape(-1)
        truth = np.array(case_diff.gradients[name].tolist(), dtype=object).reshape(-1)
        for u, v in zip(ours, truth):
            assert sp.simplify(u - v) == 0, (name, u, v)


@pytest.mark.parametrize("net,shape,loss,target", [
    (lambda: sg.Sequential(sg.Sigmoid()), (1, 1, 1, 2), sg.MSELoss(), None),
    (lambda: sg.Sequential(sg.Tanh()), (1, 1, 1, 2), sg.MSELoss(reduction="sum"), None),
    (lambda: sg.Sequential(sg.Flatten(), sg.Linear(2, 2)), (1, 1, 1, 2), sg.MSELoss(), None),
    (lambda: sg.Sequential(sg.Flatten(), sg.Linear(2, 1), sg.Sigmoid()), (1, 1, 1, 2), sg.L1Loss(), None),
    (lambda: sg.Sequential(sg.Flatten(), sg.Linear(2, 3)), (2, 1, 1, 2), sg.CrossEntropyLoss(), [1, 0]),
    (lambda: sg.Sequential(sg.Flatten(), sg.Tanh()), (1, 1, 1, 3), sg.CrossEntropyLoss(reduction="sum"), [2]),
], ids=["sigmoid", "tanh", "linear", "linear_sigmoid_l1", "linear_ce", "tanh_ce_sum"])
def test_rules_equal_sympy_diff(net, shape, loss, target):
    x = sg.symbolic("x", shape)
    _same(sg.derive(net(), x, loss, target), sg.derive(net(), x, loss, target, method="diff"))


def test_activation_rules_are_written_through_the_output():
    """In the named backward pass sigma' reads a(1 - a) and tanh' reads 1 - a^2."""
    for layer, local in ((sg.Sigmoid(), lambda a: a * (1 - a)), (sg.Tanh(), lambda a: 1 - a**2)):
        d = sg.derive(sg.Sequential(layer, sg.Sum()), sg.symbolic("x", (1, 1, 1, 1)))
        grad = d.named.gradients["input"].reshape(-1)[0]
        a, delta = sp.Symbol("a_11", real=True), sp.Symbol("delta_a_11", real=True)
        assert sp.expand(grad - delta * local(a)) == 0, grad


def test_linear_parameters_are_named_w_and_conv_keeps_k():
    net = sg.Sequential(sg.Flatten(), sg.Linear(2, 2))
    names = [str(s) for s in net.parameters()["1.weight"].reshape(-1)]
    assert names == ["w_11", "w_12", "w_21", "w_22"]
    assert [str(s) for s in net.parameters()["1.bias"]] == ["b_1", "b_2"]
    mixed = sg.Sequential(sg.Conv2d(1, 1, 2), sg.Flatten(), sg.Linear(4, 1))
    params = mixed.parameters()
    assert str(params["0.weight"].reshape(-1)[0]) == "k0_11"
    assert str(params["2.weight"].reshape(-1)[0]) == "w2_11"


def test_linear_matches_torch_layout():
    """weight (out, in), y = x W^T + b, on a batch."""
    w, b = [[1, 2, 3], [0, -1, 4]], [5, -6]
    net = sg.Sequential(sg.Flatten(), sg.Linear(3, 2).init(weight=w, bias=b))
    d = sg.derive(net, [[[[1, 0, 2]]], [[[3, 1, -1]]]], sg.MSELoss(reduction="sum"), 0)
    out = np.array(d.output.tolist(), dtype=object)
    expected = np.array([[1, 0, 2], [3, 1, -1]]) @ np.array(w).T + np.array(b)
    assert out.tolist() == expected.tolist()


# --- validation ----------------------------------------------------------------

@pytest.mark.parametrize("make,option", [
    (lambda: sg.Linear(0, 3), "in_features"),
    (lambda: sg.Linear(3, 0), "out_features"),
    (lambda: sg.Linear(2.5, 3), "in_features"),
    (lambda: sg.Linear(2, 3, bias="yes"), "bias"),
    (lambda: sg.Flatten(start_dim=1.5), "start_dim"),
    (lambda: sg.Flatten(end_dim="last"), "end_dim"),
    (lambda: sg.ReLU(inplace=1), "inplace"),
    (lambda: sg.L1Loss(reduction="none"), "reduction"),
    (lambda: sg.CrossEntropyLoss(reduction="max"), "reduction"),
])
def test_options_are_refused_like_torch(make, option):
    with pytest.raises(sg.OptionError) as error:
        make()
    assert error.value.option == option


@pytest.mark.parametrize("layers,shape,option", [
    ([sg.Flatten(), sg.Linear(5, 2)], (1, 1, 2, 2), "in_features"),
    ([sg.Linear(4, 2)], (1, 1, 2, 3), "in_features"),
    ([sg.Flatten(start_dim=4)], (1, 1, 2, 2), "start_dim"),
    ([sg.Flatten(start_dim=1, end_dim=-5)], (1, 1, 2, 2), "end_dim"),
    ([sg.Flatten(start_dim=2, end_dim=1)], (1, 1, 2, 2), "start_dim"),
    ([sg.Flatten(), sg.Conv2d(1, 1, 1)], (1, 1, 2, 2), "input"),
])
def test_shapes_that_do_not_fit_name_the_option(layers, shape, option):
    with pytest.raises(sg.OptionError) as error:
        sg.Sequential(*layers).shapes(shape)
    assert error.value.option == option
    assert error.value.where == f"layers[{len(layers) - 1}] {layers[-1].type_name}"


@pytest.mark.torch
def test_flatten_refusals_match_torch():
    for start, end in [(4, -1), (1, -5), (2, 1)]:
        with pytest.raises((IndexError, RuntimeError)):
            torch.nn.Flatten(start, end)(torch.zeros(1, 1, 2, 2))
    with pytest.raises(RuntimeError):
        torch.nn.Linear(5, 2)(torch.zeros(1, 4))


NET = sg.Sequential(sg.Flatten(), sg.Linear(2, 3))
X2 = [[[[1, 2]]], [[[0, -1]]]]  # N = 2 samples, logits (2, 3)


@pytest.mark.parametrize("target,fragment", [
    ([1, 3], "integers in [0, 3)"),
    ([1, -1], "integers in [0, 3)"),
    ([1, 0.5], "integers in [0, 3)"),
    ([1, "y"], "integers in [0, 3)"),
    ([1], "shape [2]"),
    (1, "shape [2]"),
    ([[0, 1], [1, 0]], "shape [2]"),  # probabilities need the logits' shape [2, 3]
    (None, "missing"),
])
def test_cross_entropy_target_validation(target, fragment):
    with pytest.raises(sg.OptionError) as error:
        sg.derive(NET, X2, sg.CrossEntropyLoss(), target)
    assert error.value.option == "target" and error.value.where == "loss CrossEntropyLoss"
    assert fragment in error.value.message


def test_cross_entropy_needs_2d_logits():
    with pytest.raises(sg.OptionError) as error:
        sg.derive(sg.Sequential(sg.ReLU()), X2, sg.CrossEntropyLoss(), [0, 0])
    assert error.value.option == "input" and "(N, C)" in error.value.message


def test_l1_target_must_broadcast():
    with pytest.raises(sg.OptionError) as error:
        sg.derive(sg.Sequential(sg.ReLU()), [[1, 2, 3]], sg.L1Loss(), [1, 2])
    assert error.value.option == "target"


# --- through spec files and the CLI ----------------------------------------------

SPEC = """
title = "conv -> relu -> max pool -> flatten -> linear -> cross entropy"
[input]
values = [[[[1, 0, -1], [2, 0, 1], [0, 1, 1]]], [[[0, 0, 0], [1, -2, 1], [1, 1, 0]]]]
[[layers]]
type = "Conv2d"
in_channels = 1
out_channels = 2
kernel_size = 2
init.weight = [[[[1, -1], [0, 2]]], [[[0, 1], [1, 0]]]]
init.bias = [0, -1]
[[layers]]
type = "ReLU"
inplace = true
[[layers]]
type = "MaxPool2d"
kernel_size = 2
stride = 1
[[layers]]
type = "Flatten"
[[layers]]
type = "Linear"
in_features = 2
out_features = 3
[loss]
type = "CrossEntropyLoss"
target = %s
[optimizer]
type = "SGD"
lr = 0.1
"""

def _cli(args, tmp_path, text):
    path = tmp_path / "spec.toml"
    path.write_text(text, encoding="utf-8")
    return subprocess.run([sys.executable, "-m", "symgrad", *args, str(path)], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)


@pytest.mark.torch
def test_spec_with_new_ops_passes_check(tmp_path):
    result = _cli(["check"], tmp_path, SPEC % "[2, 0]")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "MISMATCH" not in result.stdout and "updated 4.weight" in result.stdout


@pytest.mark.parametrize("target,fragment", [
    ('"y"', "target: expected 2 class indices"),
    ("[2, 1.5]", "target: class indices must be integers"),
    ("[2, 3]", "target: class indices must be integers in [0, 3)"),
])
def test_bad_cross_entropy_target_in_a_spec_is_one_line(tmp_path, target, fragment):
    result = _cli(["derive", "--format", "json"], tmp_path, SPEC % target)
    assert result.returncode == 2 and result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "loss CrossEntropyLoss" in lines[0] and fragment in lines[0], result.stderr


def test_bad_linear_in_a_spec_is_one_line(tmp_path):
    result = _cli(["derive"], tmp_path, (SPEC % "[2, 0]").replace("in_features = 2", "in_features = 3"))
    assert result.returncode == 2
    assert result.stderr.strip() == ("symgrad: error: layers[4] Linear: in_features: expected an input whose last "
                                     "dim is 3, got shape [2, 2]")
