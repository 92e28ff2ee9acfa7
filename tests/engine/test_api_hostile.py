"""Hostile Python calls: each raises symgrad's own error naming the argument, as a spec would.

The Python API validates exactly as the spec reader does: the spec reader builds the same
layers, losses and optimizers through the same constructors, and `derive` checks every
argument (the network, loss, optimizer and progress by kind, every entry of the input,
the init values and the target through `symgrad.core.values`, also in an object array), so a
call never ends in AttributeError, MemoryError, TypeError or a number torch cannot hold.

Each row of the table is one call, the place (`where`) and the option its OptionError must
name. The rest of the file holds what is accepted on purpose: a layer used twice shares its
parameters as in torch, and a plain SymPy Symbol is the symbol of its name.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Callable

import numpy as np
import pytest
import sympy as sp
from lazy_torch import torch

import symgrad as sg
from symgrad import OptionError, SymgradError
from symgrad.spec import parse
from symgrad.verify import compare, evaluate, random_values, torch_reference

X = [[1, 2, 3], [4, 5, 6], [7, 8, 9]]
a = sp.Symbol("a")


def net():
    return sg.Sequential(sg.Conv2d(1, 1, 2, bias=False).init(weight=[[3, 2], [1, 5]]), sg.MaxPool2d(2))


def with_input(value):
    """The seed question with one input entry replaced."""
    return lambda: sg.derive(net(), [[value, 2, 3], [4, 5, 6], [7, 8, 9]], sg.MSELoss(), 60)


def with_weight(value):
    return lambda: sg.derive(sg.Sequential(sg.Conv2d(1, 1, 2, bias=False).init(weight=[[value, 2], [1, 5]])), X,
                             sg.MSELoss(), 60)


def with_target(value):
    return lambda: sg.derive(net(), X, sg.MSELoss(), value)


@dataclass
class Call:
    name: str
    call: Callable
    where: str
    option: str


CONV, INPUT, TARGET = "layers[0] Conv2d", "input", "loss MSELoss"
HOSTILE = [
    # SymPy's special numbers, anywhere a number goes (issue 17: the loss became (-34 + 2*I)**2)
    Call("input_nan", with_input(sp.nan), INPUT, "values"),
    Call("input_zoo", with_input(sp.zoo), INPUT, "values"),
    Call("input_oo", with_input(sp.oo), INPUT, "values"),
    Call("input_minus_oo", with_input(-sp.oo), INPUT, "values"),
    Call("input_I", with_input(sp.I), INPUT, "values"),
    Call("input_I_times_symbol", with_input(sp.I * a), INPUT, "values"),
    Call("input_symbol_plus_oo", with_input(a + sp.oo), INPUT, "values"),
    Call("input_not_real", with_input(sp.sqrt(-1 - a**2)), INPUT, "values"),
    Call("weight_nan", with_weight(sp.nan), CONV, "init.weight"),
    Call("weight_zoo", with_weight(sp.zoo), CONV, "init.weight"),
    Call("weight_oo", with_weight(sp.oo), CONV, "init.weight"),
    Call("weight_I", with_weight(sp.I), CONV, "init.weight"),
    Call("bias_I", lambda: sg.derive(sg.Sequential(sg.Conv2d(1, 1, 2).init(bias=[sp.I])), X, sg.MSELoss(), 0),
         CONV, "init.bias"),
    Call("target_nan", with_target(sp.nan), TARGET, "target"),
    Call("target_zoo", with_target(sp.zoo), TARGET, "target"),
    Call("target_oo", with_target(sp.oo), TARGET, "target"),
    Call("target_I", with_target(sp.I), TARGET, "target"),
    Call("target_list_I", with_target([[sp.I]]), TARGET, "target"),
    # numbers float64 cannot hold (torch: OverflowError), or that it would read as 0
    Call("input_10_400", with_input(10**400), INPUT, "values"),
    Call("input_minus_10_400", with_input(-10**400), INPUT, "values"),
    Call("input_10_5000", with_input(10**5000), INPUT, "values"),  # past Python's int-to-str limit too
    Call("input_sympy_10_400", with_input(sp.Integer(10)**400), INPUT, "values"),
    Call("input_symbol_times_10_400", with_input(a * 10**400), INPUT, "values"),
    Call("input_rational_tiny", with_input(sp.Rational(1, 10**400)), INPUT, "values"),
    Call("input_float_tiny", with_input(sp.Float("1e-400")), INPUT, "values"),
    Call("input_float_huge", with_input(sp.Float("1e400")), INPUT, "values"),
    Call("input_exp_1000", with_input(sp.exp(1000)), INPUT, "values"),
    Call("input_fraction_tiny", with_input(Fraction(1, 10**400)), INPUT, "values"),
    Call("input_decimal_nan", with_input(Decimal("NaN")), INPUT, "values"),
    Call("input_decimal_huge", with_input(Decimal("1e400")), INPUT, "values"),
    Call("input_longdouble_tiny", with_input(np.longdouble("1e-4000")), INPUT, "values"),
    Call("input_float_nan", with_input(math.nan), INPUT, "values"),
    Call("input_numpy_inf", with_input(np.float32("inf")), INPUT, "values"),
    Call("input_complex", with_input(1 + 2j), INPUT, "values"),
    Call("input_numpy_complex", with_input(np.complex128(1)), INPUT, "values"),
    Call("input_boolean", with_input(True), INPUT, "values"),
    Call("weight_10_400", with_weight(10**400), CONV, "init.weight"),
    Call("weight_rational_tiny", with_weight(sp.Rational(-1, 10**400)), CONV, "init.weight"),
    Call("target_10_400", with_target(10**400), TARGET, "target"),
    Call("target_list_10_400", with_target([[10**400]]), TARGET, "target"),
    # not numbers at all
    Call("input_none", lambda: sg.derive(net(), None, sg.MSELoss(), 60), INPUT, "values"),
    Call("input_dict_entry", with_input({}), INPUT, "values"),
    Call("input_sympy_true", with_input(sp.true), INPUT, "values"),
    Call("input_undefined_function", with_input(sp.Function("f")(a)), INPUT, "values"),
    Call("input_string_scalar", lambda: sg.derive(net(), "abc", sg.MSELoss(), 60), INPUT, "values"),
    Call("input_torch_tensor", lambda: sg.derive(net(), torch.ones(3, 3), sg.MSELoss(), 60), INPUT, "values"),
    Call("target_dict", with_target({}), TARGET, "target"),
    # an object ndarray is checked entry by entry (it used to skip validation)
    Call("object_array_nan", lambda: sg.derive(net(), np.array([[sp.nan, 2, 3], [4, 5, 6], [7, 8, 9]], dtype=object),
                                               sg.MSELoss(), 60), INPUT, "values"),
    Call("object_array_dict", lambda: sg.derive(net(), np.array([[{}, 2, 3], [4, 5, 6], [7, 8, 9]], dtype=object),
                                                sg.MSELoss(), 60), INPUT, "values"),
    Call("object_array_bad_name", lambda: sg.derive(net(), np.array([["1x", 2, 3], [4, 5, 6], [7, 8, 9]], dtype=object),
                                                    sg.MSELoss(), 60), INPUT, "values"),
    Call("object_array_target_I", lambda: sg.derive(net(), X, sg.MSELoss(), np.array([[sp.I]], dtype=object)),
         TARGET, "target"),
    # symbols: a SymPy Symbol is merged with the name's real symbol unless its assumptions say otherwise
    Call("symbol_positive", with_input(sp.Symbol("a", positive=True)), INPUT, "values"),
    Call("symbol_integer", with_input(sp.Symbol("a", integer=True)), INPUT, "values"),
    Call("symbol_complex_expression", with_input(sp.Symbol("a", imaginary=True) + 1), INPUT, "values"),
    Call("symbol_dummy", with_input(sp.Dummy("a")), INPUT, "values"),
    Call("symbol_wild", with_input(sp.Wild("a")), INPUT, "values"),
    Call("symbol_not_identifier", with_input(sp.Symbol("a b")), INPUT, "values"),
    Call("symbol_read_as_E", with_input(sp.Symbol("E")), INPUT, "values"),
    Call("symbol_collides_with_kernel", lambda: sg.derive(sg.Sequential(sg.Conv2d(1, 1, 2, bias=False)),
                                                          [[sp.Symbol("k_11"), 2], [3, 4]], sg.MSELoss(), 0),
         INPUT, "values"),
    # sg.symbolic checks its shape before allocating (it raised MemoryError)
    Call("symbolic_huge", lambda: sg.symbolic("x", (1, 1, 10**6, 10**6)), "symbolic", "shape"),
    Call("symbolic_float_shape", lambda: sg.symbolic("x", 5.0), "symbolic", "shape"),
    Call("symbolic_five_axes", lambda: sg.symbolic("x", (1, 1, 1, 1, 1)), "symbolic", "shape"),
    Call("symbolic_zero", lambda: sg.symbolic("x", (1, 0)), "symbolic", "shape"),
    Call("symbolic_bool", lambda: sg.symbolic("x", (True, 2)), "symbolic", "shape"),
    Call("symbolic_string_shape", lambda: sg.symbolic("x", "abc"), "symbolic", "shape"),
    Call("symbolic_bad_base", lambda: sg.symbolic("1x", (2, 2)), "symbolic", "base"),
    Call("symbolic_base_not_string", lambda: sg.symbolic(3, (2, 2)), "symbolic", "base"),
    # derive's arguments by kind (they raised AttributeError)
    Call("network_string", lambda: sg.derive("net", X, sg.MSELoss(), 60), "derive", "network"),
    Call("network_list", lambda: sg.derive([sg.Sum()], X), "derive", "network"),
    Call("network_layer", lambda: sg.derive(sg.Sum(), X), "derive", "network"),
    Call("network_torch", lambda: sg.derive(torch.nn.Sequential(torch.nn.Flatten()), X), "derive", "network"),
    Call("loss_string", lambda: sg.derive(net(), X, "MSELoss", 60), "derive", "loss"),
    Call("loss_class", lambda: sg.derive(net(), X, sg.MSELoss, 60), "derive", "loss"),
    Call("loss_torch", lambda: sg.derive(net(), X, torch.nn.MSELoss(), 60), "derive", "loss"),
    Call("loss_layer", lambda: sg.derive(net(), X, sg.ReLU(), 60), "derive", "loss"),
    Call("optimizer_string", lambda: sg.derive(net(), X, sg.MSELoss(), 60, optimizer="SGD"), "derive", "optimizer"),
    Call("optimizer_loss", lambda: sg.derive(net(), X, sg.MSELoss(), 60, optimizer=sg.MSELoss()), "derive",
         "optimizer"),
    Call("optimizer_number", lambda: sg.derive(net(), X, sg.MSELoss(), 60, optimizer=0.01), "derive", "optimizer"),
    Call("progress_string", lambda: sg.derive(net(), X, sg.MSELoss(), 60, progress="yes"), "derive", "progress"),
    Call("method_bogus", lambda: sg.derive(net(), X, sg.MSELoss(), 60, method="bogus"), "derive", "method"),
    Call("expand_bogus", lambda: sg.derive(net(), X, sg.MSELoss(), 60, expand="maybe"), "derive", "expand"),
    Call("backward_passes_zero", lambda: sg.derive(net(), X, sg.MSELoss(), 60, backward_passes=0), "derive",
         "backward_passes"),
    Call("backward_passes_float", lambda: sg.derive(net(), X, sg.MSELoss(), 60, backward_passes=2.0), "derive",
         "backward_passes"),
    # Sequential takes symgrad layers only
    Call("sequential_torch_layer", lambda: sg.Sequential(torch.nn.Conv2d(1, 1, 2)), "layers[0]", "type"),
    Call("sequential_loss", lambda: sg.Sequential(sg.Sum(), sg.MSELoss()), "layers[1]", "type"),
    Call("sequential_string", lambda: sg.Sequential("Conv2d"), "layers[0]", "type"),
    # integer options at torch's edges, from Python as from a spec
    Call("conv_stride_2_64", lambda: sg.Conv2d(1, 1, 2, stride=2**64), "Conv2d", "stride"),
    Call("conv_stride_10_5000", lambda: sg.Conv2d(1, 1, 2, stride=10**5000), "Conv2d", "stride"),
    Call("conv_dilation_2_63", lambda: sg.Conv2d(1, 1, 1, dilation=2**63), "Conv2d", "dilation"),
    Call("conv_padding_pair_2_63", lambda: sg.Conv2d(1, 1, 1, padding=(0, 2**63)), "Conv2d", "padding"),
    Call("conv_in_channels_string", lambda: sg.Conv2d("1", 1, 2), "Conv2d", "in_channels"),
    Call("maxpool_stride_2_31", lambda: sg.MaxPool2d(2, stride=2**31), "MaxPool2d", "stride"),
    Call("maxpool_stride_2_64", lambda: sg.MaxPool2d(2, stride=2**64), "MaxPool2d", "stride"),
    Call("avgpool_divisor_2_63", lambda: sg.AvgPool2d(2, divisor_override=2**63), "AvgPool2d", "divisor_override"),
    Call("flatten_end_dim_2_63", lambda: sg.Flatten(end_dim=-2**63 - 1), "Flatten", "end_dim"),
    Call("linear_features_2_64", lambda: sg.Linear(2**64, 1), "Linear", "in_features"),
    Call("loss_reduction_list", lambda: sg.MSELoss(reduction=["mean"]), "MSELoss", "reduction"),
    Call("init_unknown_parameter", lambda: sg.Conv2d(1, 1, 2).init(kernel=[[1]]), "Conv2d", "init.kernel"),
    # optimizer floats
    Call("sgd_lr_10_400", lambda: sg.SGD(lr=10**400), "SGD", "lr"),
    Call("sgd_lr_nan", lambda: sg.SGD(lr=math.nan), "SGD", "lr"),
    Call("sgd_lr_inf", lambda: sg.SGD(lr=math.inf), "SGD", "lr"),
    Call("sgd_lr_complex", lambda: sg.SGD(lr=1 + 0j), "SGD", "lr"),
    Call("sgd_lr_sympy", lambda: sg.SGD(lr=sp.Rational(1, 100)), "SGD", "lr"),
    Call("sgd_lr_string", lambda: sg.SGD(lr="0.01"), "SGD", "lr"),
    Call("sgd_momentum_numpy_nan", lambda: sg.SGD(lr=0.1, momentum=np.float64("nan")), "SGD", "momentum"),
    Call("sgd_weight_decay_huge", lambda: sg.SGD(lr=0.1, weight_decay=-10**400), "SGD", "weight_decay"),
    Call("sgd_nesterov_string", lambda: sg.SGD(lr=0.1, nesterov="yes"), "SGD", "nesterov"),
    # from_torch
    Call("from_torch_string", lambda: sg.from_torch("x"), "from_torch", "module"),
    Call("from_torch_weights", lambda: sg.from_torch(torch.nn.Sequential(torch.nn.ReLU()), weights="x"), "from_torch",
         "weights"),
    # a derivation's own methods
    Call("hessian_unknown", lambda: sg.derive(net(), X, sg.MSELoss(), 60).hessian("nope"), "hessian", "name"),
    Call("matrix_form", lambda: sg.derive(net(), X, sg.MSELoss(), 60).lambdify(form="fast"), "lambdify", "form"),
]


NEEDS_TORCH = {"input_torch_tensor", "network_torch", "loss_torch", "sequential_torch_layer", "from_torch_string",
               "from_torch_weights"}  # these calls build torch objects or run from_torch


@pytest.mark.parametrize("case", [pytest.param(c, marks=pytest.mark.torch) if c.name in NEEDS_TORCH else c
                                  for c in HOSTILE], ids=[c.name for c in HOSTILE])
def test_hostile_call_raises_symgrads_error_naming_the_argument(case):
    with pytest.raises(SymgradError) as info:
        case.call()
    error = info.value
    assert isinstance(error, OptionError), repr(error)
    assert (error.where, error.option) == (case.where, case.option), str(error)
    text = str(error)
    assert text.startswith(f"{case.where}: {case.option}: ") and "\n" not in text and len(text) < 400, text


def test_the_table_holds_the_issues_calls():
    names = {c.name for c in HOSTILE}
    assert len(names) == len(HOSTILE) >= 60
    for name in ("input_nan", "input_zoo", "input_oo", "input_I", "weight_nan", "target_I", "object_array_nan",
                 "symbolic_huge", "loss_string", "network_string", "optimizer_string"):
        assert name in names


def test_symbolic_refuses_a_huge_shape_before_allocating():
    import tracemalloc

    tracemalloc.start()
    try:
        with pytest.raises(OptionError, match="entries is more than symgrad handles"):
            sg.symbolic("x", (1, 1, 10**6, 10**6))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1_000_000, f"refusing allocated {peak} bytes first"  # 10**12 symbols would be terabytes


# --- one validation path: the spec reader and the API refuse the same way -----------------------

SPEC = """
[input]
values = {values}

[[layers]]
type = "Conv2d"
in_channels = 1
out_channels = 1
kernel_size = 2
bias = false
{options}

[loss]
type = "MSELoss"
target = {target}
"""


@pytest.mark.parametrize("spec,call", [
    (dict(values=f"[[1, 2, 3], [4, {10**400}, 6], [7, 8, 9]]"),
     lambda: sg.derive(sg.Sequential(sg.Conv2d(1, 1, 2, bias=False)), [[1, 2, 3], [4, 10**400, 6], [7, 8, 9]],
                       sg.MSELoss(), 0)),
    (dict(options="stride = 18446744073709551616"), lambda: sg.Conv2d(1, 1, 2, bias=False, stride=2**64)),
    (dict(options="init.weight = [[1, 2], [3, 1e400]]"),
     lambda: sg.derive(sg.Sequential(sg.Conv2d(1, 1, 2, bias=False).init(weight=[[1, 2], [3, math.inf]])), X,
                       sg.MSELoss(), 0)),
    (dict(target="\"1x\""), lambda: sg.derive(sg.Sequential(sg.Conv2d(1, 1, 2, bias=False)), X, sg.MSELoss(), "1x")),
])
def test_spec_and_api_refuse_alike(spec, call):
    text = SPEC.format(**{"values": "[[1, 2, 3], [4, 5, 6], [7, 8, 9]]", "options": "", "target": 0, **spec})
    with pytest.raises(OptionError) as from_spec:
        parse(text).derive()
    with pytest.raises(OptionError) as from_api:
        call()
    assert from_spec.value.option == from_api.value.option
    same_message = from_spec.value.message == from_api.value.message
    # the literal 1e400 is shown as the spec wrote it; Python's inf is "inf"
    assert same_message or "1e400" in from_spec.value.message, (str(from_spec.value), str(from_api.value))
    assert from_spec.value.where.endswith(from_api.value.where)


# --- shared parameters: a layer object used twice, as torch shares a module -----------------------

@pytest.mark.torch
def test_a_layer_used_twice_is_one_parameter_with_the_summed_gradient_as_torch():
    """Issue 17's numbers: a 1->1 conv (weight 2) used twice on the seed input, MSE against 1, SGD lr 0.01."""
    c = sg.Conv2d(1, 1, 1, bias=False).init(weight=[[2]])
    d = sg.derive(sg.Sequential(c, c), X, sg.MSELoss(), target=1, optimizer=sg.SGD(lr=0.01))
    assert list(d.parameters) == ["0.weight"] and set(d.gradients) == {"0.weight", "input"}
    assert list(d.updated) == ["0.weight"]
    assert d.gradients["0.weight"][0, 0, 0, 0] == sp.Rational(2920, 3)  # 973.33
    assert d.updated["0.weight"][0, 0, 0, 0] == sp.Rational(-116, 15)  # -7.7333

    t = torch.nn.Conv2d(1, 1, 1, bias=False).double()
    with torch.no_grad():
        t.weight.fill_(2)
    model = torch.nn.Sequential(t, t)
    assert [name for name, _ in model.named_parameters()] == ["0.weight"]
    x = torch.tensor(X, dtype=torch.float64).reshape(1, 1, 3, 3)
    torch.nn.MSELoss()(model(x), torch.ones(1, 1, 3, 3, dtype=torch.float64)).backward()
    assert t.weight.grad.item() == pytest.approx(973.3333333333334, abs=1e-12)
    torch.optim.SGD(model.parameters(), lr=0.01).step()
    assert t.weight.item() == pytest.approx(-7.733333333333333, abs=1e-12)


@pytest.mark.torch
@pytest.mark.parametrize("method,expand", [("rules", True), ("rules", False), ("diff", True)])
def test_shared_layers_agree_with_torch_autograd(method, expand):
    conv = sg.Conv2d(1, 1, 2)
    tail = sg.Conv2d(1, 1, 1)
    network = sg.Sequential(conv, sg.Tanh(), tail, conv, sg.ReLU(), tail)
    d = sg.derive(network, sg.symbolic("x", (1, 1, 4, 4)), sg.MSELoss(), optimizer=sg.SGD(lr=0.1, momentum=0.5),
                  method=method, expand=expand, backward_passes=2)
    assert list(d.parameters) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    numbers = evaluate(d, random_values(d.free_symbols, seed=3))
    rows = compare(numbers, torch_reference(d, numbers), rtol=1e-10, atol=1e-10)
    assert len(rows) == 2 + 5 + 4 and all(r["ok"] for r in rows), [r for r in rows if not r["ok"]]


@pytest.mark.parametrize("form", ["scalar", "array"])
def test_generated_code_sums_the_uses_of_a_shared_layer(form):
    conv = sg.Conv2d(1, 1, 2)
    d = sg.derive(sg.Sequential(conv, sg.Sigmoid(), sg.MaxPool2d(2, 1), conv, sg.Sum()), sg.symbolic("x", (1, 1, 4, 4)))
    values = random_values(d.free_symbols, seed=1)
    expected = evaluate(d, values)
    arrays = {"input": expected["input"], **expected["parameters"]}
    result = d.lambdify(form=form)(arrays)
    for name in ("0.weight", "0.bias", "input"):
        np.testing.assert_allclose(result["gradients"][name], expected["gradients"][name], rtol=1e-10, atol=1e-12)


@pytest.mark.torch
def test_from_torch_keeps_a_shared_module_shared():
    torch.manual_seed(0)
    c = torch.nn.Conv2d(1, 1, 2)
    module = torch.nn.Sequential(c, torch.nn.Tanh(), c)
    network = sg.from_torch(module, example_input=torch.ones(1, 1, 4, 4))
    assert len(network) == 3 and network.layers[0] is network.layers[2]
    assert network.parameter_names() == ["0.weight", "0.bias"]
    d = sg.derive(network, np.arange(16).reshape(4, 4), sg.MSELoss(), target=0.5, optimizer=sg.SGD(lr=0.1))
    numbers = evaluate(d)
    assert all(r["ok"] for r in compare(numbers, torch_reference(d, numbers)))


def test_printers_show_a_shared_layer():
    from symgrad.printing import render

    conv = sg.Conv2d(1, 1, 2)
    d = sg.derive(sg.Sequential(conv, sg.ReLU(), conv, sg.Sum()), sg.symbolic("x", (1, 1, 3, 3)),
                  optimizer=sg.SGD(lr=0.1))
    for fmt in ("text", "json", "markdown", "latex"):
        text = render(d, fmt)
        assert "0.weight" in text and "2.weight" not in text


# --- symbols: a plain SymPy Symbol is the symbol of its name -------------------------------------

def test_a_plain_sympy_symbol_merges_with_the_name_given_as_a_string():
    """Issue 17: sp.Symbol('a') and 'a' were two symbols both printed a (the loss read a + a)."""
    d = sg.derive(sg.Sequential(sg.Sum()), [[a, "a"], [sp.Symbol("a", real=True), 1]])
    assert d.loss == 3 * sp.Symbol("a", real=True) + 1
    assert d.free_symbols == {sp.Symbol("a", real=True)}


def test_symbols_inside_expressions_merge_too():
    b = sp.Symbol("b")
    d = sg.derive(sg.Sequential(sg.Sum()), [[a * b + 1, "b"]])
    real_a, real_b = sp.Symbol("a", real=True), sp.Symbol("b", real=True)
    assert d.loss == real_a * real_b + 1 + real_b
    assert d.free_symbols == {real_a, real_b}


def test_other_array_likes_are_read_entry_by_entry():
    assert sg.derive(sg.Sequential(sg.Sum()), sp.Matrix([[1, 2], [3, 4]])).loss == 10
    assert sg.derive(sg.Sequential(sg.Sum()), sp.Array([[1, 2], [3, 4]])).loss == 10
    assert sg.derive(sg.Sequential(sg.Sum()), [[Fraction(1, 3), Decimal("0.1")]]).loss == sp.Rational(13, 30)
    assert sg.derive(sg.Sequential(sg.Sum()), [[sp.sqrt(2), sp.pi]]).loss == sp.sqrt(2) + sp.pi
    assert sg.derive(sg.Sequential(sg.Sum()), [[5e-324, 2**1000]]).loss == sp.Rational("5e-324") + 2**1000
