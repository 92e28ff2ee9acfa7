"""Identity (issue 16 item 1): the output is the input and the gradient passes through; torch parity, rules vs
sympy.diff, index forms and array twin vs the engine, a spec's Identity takes no options, derive end to end.

The layer is symgrad/ops/identity.py, found by the registry as every op.
"""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from lazy_torch import torch

import symgrad as sg
from symgrad import spec as specs
from symgrad.core.errors import OptionError
from symgrad.ops.identity import Identity
from symgrad.ops.rectifiers import ELU, GELU, LeakyReLU
from symgrad.ops.softmax import LogSoftmax, Softmax
from symgrad.ops.base import undeclared
from symgrad.printing.words import LANGUAGES
from twins import rebuilt

X4 = np.array([[[[0.0, -1.5], [2.0, 0.0]], [[-0.5, 0.5], [0.0, 1.0]]]])
TARGET = np.array([[[[1.0, 0.0], [0.5, -1.0]], [[0.0, 0.0], [2.0, -0.5]]]])


def _exact(array):
    return sg.core.tensor.to_array(np.asarray(array).tolist())


def test_forward_and_backward_pass_entries_through():
    x = sg.symbolic("x", (1, 1, 2, 2))
    layer = Identity()
    out = layer.forward(x, {})
    assert out.tolist() == x.tolist() and out is not x
    delta = np.array([[[[1, sp.Symbol("d", real=True)], [0, -2]]]], dtype=object)
    grads = layer.backward(delta, x, out, {})
    assert grads.input.tolist() == delta.tolist() and grads.params == {} and grads.input is not delta


@pytest.mark.torch
def test_matches_torch_and_torch_ignores_its_arguments():
    module = torch.nn.Identity(3, "anything", scale=2.0)  # torch accepts and ignores them
    assert type(Identity().torch_module()).__name__ == "Identity" and repr(module) == repr(Identity()) == "Identity()"
    xt = torch.tensor(X4, requires_grad=True)
    delta = np.arange(8.0).reshape(X4.shape) - 3
    module(xt).backward(torch.from_numpy(delta))
    layer = Identity()
    out = layer.forward(_exact(X4), {})
    dx = layer.backward(_exact(delta), _exact(X4), out, {}).input
    np.testing.assert_array_equal(np.array(out.tolist(), dtype=float), X4)
    np.testing.assert_array_equal(np.array(dx.tolist(), dtype=float), xt.grad.numpy())
    back = Identity.from_torch(module)
    assert type(back) is Identity and back.options() == {}


def test_rules_equal_sympy_diff_symbolically():
    x = sg.symbolic("x", (1, 1, 2, 2))
    net = lambda: sg.Sequential(Identity(), LeakyReLU(0.5), Identity(), sg.Sum())  # noqa: E731
    rules = sg.derive(net(), x, None, None, sg.SGD(lr=0.1))
    diff = sg.derive(net(), x, None, None, sg.SGD(lr=0.1), method="diff")
    assert set(x.reshape(-1)) <= rules.loss.free_symbols
    point = {s: sp.Rational(k - 2, 3) or sp.Rational(1, 7) for k, s in enumerate(x.reshape(-1))}
    for a, b in zip(np.array(rules.gradients["input"].tolist(), dtype=object).reshape(-1),
                    np.array(diff.gradients["input"].tolist(), dtype=object).reshape(-1)):
        assert a.xreplace(point) == b.xreplace(point)
    smooth = sg.derive(sg.Sequential(Identity()), x, sg.MSELoss(), None, sg.SGD(lr=0.1))
    smooth_diff = sg.derive(sg.Sequential(Identity()), x, sg.MSELoss(), None, sg.SGD(lr=0.1), method="diff")
    for a, b in zip(np.array(smooth.gradients["input"].tolist(), dtype=object).reshape(-1),
                    np.array(smooth_diff.gradients["input"].tolist(), dtype=object).reshape(-1)):
        assert a.free_symbols and sp.expand(a - b) == 0


def test_index_rules_and_array_twin_equal_the_engine():
    assert set(Identity.index_rules) == set(Identity.index_form) == {"forward", "input"}
    layer = Identity()
    x, delta = _exact(X4), _exact(TARGET)
    out = layer.forward(x, {})
    assert Identity.index_rules["forward"](layer, x, {}).tolist() == out.tolist()
    assert Identity.index_rules["input"](layer, x, {}, delta).tolist() == layer.backward(delta, x, out, {}).input.tolist()
    assert layer.index_instance("forward", X4.shape) == "" and layer.array_options(X4.shape) == {}
    xs, deltas = np.stack([X4, -X4]), np.stack([TARGET, 2 * TARGET])
    got = rebuilt(Identity.array_twin["forward"])(xs)
    (dx,) = rebuilt(Identity.array_twin["backward"])(deltas, xs, got)
    np.testing.assert_array_equal(got, xs)
    np.testing.assert_array_equal(dx, deltas)
    assert got is not xs and dx.dtype == np.float64
    (shared,) = rebuilt(Identity.array_twin["backward"])(TARGET, xs, got)  # batch axes of x broadcast in front
    np.testing.assert_array_equal(shared, np.stack([TARGET, TARGET]))
    assert rebuilt(Identity.array_twin["backward"])(deltas, xs, got, want_input=False) == (None,)


def test_every_piece_is_declared():
    assert undeclared(Identity) == []
    layer = Identity()
    assert layer.parameter_shapes() == {} and layer.options() == {} and layer.output_shape((2, 3)) == (2, 3)
    assert not Identity.initial_values and not Identity.buffers and not Identity.modes and not Identity.figure
    assert Identity.output_letter == "h" and Identity.rule_words == "general_plain"
    assert set(Identity.words) == set(LANGUAGES)
    assert len({frozenset(Identity.words[lang]) for lang in LANGUAGES}) == 1
    assert layer.shape_formula((2,))


def test_python_api_takes_no_arguments():
    with pytest.raises(TypeError):
        Identity(3)


# ---------------------------------------------------------------- spec: as the registry will hold it

SPEC = """
[input]
values = [[[[0.0, -1.5], [2.0, 0.0]]]]

[[layers]]
type = "Identity"
{extra}
[[layers]]
type = "LeakyReLU"
negative_slope = 0.25

[[layers]]
type = "Softmax"
dim = -1

[loss]
type = "MSELoss"
target = [[[[1.0, 0.0], [0.0, 1.0]]]]
"""


def test_a_spec_identity_takes_no_options():
    spec = specs.parse(SPEC.format(extra=""))
    assert [type(layer) for layer in spec.network] == [Identity, LeakyReLU, Softmax]
    assert spec.network.layers[1].negative_slope == 0.25 and spec.network.layers[2].dim == -1
    with pytest.raises(OptionError, match="unknown option") as info:
        specs.parse(SPEC.format(extra="scale = 2\n"))
    assert info.value.option == "scale" and "Identity takes no options" in info.value.message


@pytest.mark.torch
def test_from_torch_reads_the_new_layers_and_derive_matches_torch():
    """symgrad.from_torch: each new layer's from_torch reads torch's options."""
    module = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 2), torch.nn.Identity(7, mode="ignored"),
                                 torch.nn.LeakyReLU(0.2, inplace=True), torch.nn.ELU(0.5), torch.nn.GELU("tanh"),
                                 torch.nn.Flatten(), torch.nn.Linear(8, 3), torch.nn.LogSoftmax(1),
                                 torch.nn.Softmax(dim=-1)).double()
    x = torch.linspace(-2, 2, 9, dtype=torch.float64).reshape(1, 1, 3, 3)
    net = sg.from_torch(module, example_input=x)
    assert [layer.type_name for layer in net] == [type(m).__name__ for m in module]
    assert net.layers[2].options() == {"negative_slope": 0.2, "inplace": True}
    assert net.layers[3].alpha == 0.5 and net.layers[4].approximate == "tanh"
    assert net.layers[7].dim == 1 and net.layers[8].dim == -1
    target = [[1.0, 0.0, 0.5]]
    d = sg.derive(net, x.tolist(), sg.MSELoss(), target)
    xt = x.clone().requires_grad_(True)
    torch.nn.MSELoss()(module(xt), torch.tensor(target, dtype=torch.float64)).backward()
    np.testing.assert_allclose(np.array(d.gradients["input"].tolist(), dtype=float), xt.grad.numpy(), rtol=1e-10,
                               atol=1e-12)
    np.testing.assert_allclose(np.array(d.gradients["0.weight"].tolist(), dtype=float),
                               module[0].weight.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_derive_through_a_sequential_with_identities():
    net = sg.Sequential(Identity(), Softmax(1), Identity())
    d = sg.derive(net, X4.tolist(), sg.MSELoss(), TARGET.tolist(), sg.SGD(lr=0.1))
    alone = sg.derive(sg.Sequential(Softmax(1)), X4.tolist(), sg.MSELoss(), TARGET.tolist(), sg.SGD(lr=0.1))
    assert sp.simplify(d.loss - alone.loss) == 0
    np.testing.assert_allclose(np.array(d.gradients["input"].tolist(), dtype=float),
                               np.array(alone.gradients["input"].tolist(), dtype=float), rtol=1e-14, atol=1e-14)


@pytest.mark.torch
def test_derive_equals_torch_end_to_end():
    net = sg.Sequential(Identity(), LeakyReLU(0.1), Identity())
    d = sg.derive(net, X4.tolist(), sg.MSELoss(), TARGET.tolist(), sg.SGD(lr=0.1))
    xt = torch.tensor(X4, requires_grad=True)
    loss = torch.nn.MSELoss()(torch.nn.Sequential(*(layer.torch_module() for layer in net))(xt),
                              torch.from_numpy(TARGET))
    loss.backward()
    assert float(d.loss) == pytest.approx(loss.item(), rel=1e-12)
    np.testing.assert_allclose(np.array(d.gradients["input"].tolist(), dtype=float), xt.grad.numpy(), rtol=1e-12,
                               atol=1e-12)


@pytest.mark.parametrize("form", ["scalar", "array"])
def test_generated_code_equals_the_engine(form):
    from symgrad.numeric.codegen import generate_source

    make = lambda: sg.Sequential(Identity(), Softmax(1), Identity())  # noqa: E731
    d = sg.derive(make(), sg.symbolic("x", X4.shape), sg.MSELoss(), None, sg.SGD(lr=0.1))
    namespace = {}
    exec(compile(generate_source(d, form=form), "<generated>", "exec"), namespace)
    values = {k: np.linspace(-2, 2, int(np.prod(s))).reshape(s) for k, s in namespace["ARGUMENTS"].items()}
    got = namespace["evaluate"](**values)
    engine = sg.derive(make(), values["input"].tolist(), sg.MSELoss(), values["target"].tolist())
    assert got["loss"] == pytest.approx(float(engine.loss), rel=1e-12)
    np.testing.assert_allclose(got["gradients"]["input"], np.array(engine.gradients["input"].tolist(), dtype=float),
                               rtol=1e-12, atol=1e-12)


# ---------------------------------------------------------------- `symgrad check`: the library's own torch comparison


CHECKED = [lambda: sg.Sequential(Identity(), sg.Conv2d(1, 2, 2), Identity(), sg.Flatten(), sg.Linear(8, 2), Identity())]
CHECKED_IDS = ["identities"]


@pytest.mark.torch
@pytest.mark.parametrize("make", CHECKED, ids=CHECKED_IDS)
def test_symgrad_check_agrees_with_torch(make):
    """Identities around Conv2d and Linear, symbolic, evaluated at random small integers, vs torch."""
    from symgrad.verify.numeric import evaluate, random_values
    from symgrad.verify.torch_reference import compare, torch_reference

    d = sg.derive(make(), sg.symbolic("x", (1, 1, 3, 3)), sg.MSELoss(), None, sg.SGD(lr=0.1))
    for seed in range(3):
        numbers = evaluate(d, random_values(d.free_symbols, seed, -2, 2))  # as `symgrad check --seed`
        rows = compare(numbers, torch_reference(d, numbers))
        assert rows and all(row["ok"] for row in rows), [(r["quantity"], r["reason"]) for r in rows if not r["ok"]]
