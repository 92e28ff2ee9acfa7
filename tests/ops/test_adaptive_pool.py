"""AdaptiveAvgPool2d and AdaptiveMaxPool2d: torch parity, sympy.diff, index forms, twins, options.

torch's window for output i of n over H inputs is [floor(i*H/n), ceil((i+1)*H/n)): sizes that
divide give disjoint equal windows, others overlapping windows of different sizes, and an
output larger than the input repeats entries. Both layers are held to torch autograd in
float64 (ties on purpose: integer inputs in a small range), to sympy.diff, their index forms
and NumPy twins to the engine, and their validation to torch's in both directions.
"""

from __future__ import annotations

import random

import numpy as np
import pytest
import sympy as sp
from lazy_torch import torch

import symgrad as sg
from symgrad.core.errors import OptionError
from symgrad.ops.base import undeclared
from symgrad.ops.adaptive_pool import AdaptiveAvgPool2d, AdaptiveMaxPool2d
from twins import rebuilt

LAYERS = (AdaptiveAvgPool2d, AdaptiveMaxPool2d)
# (output_size, input shape): dividing, not dividing, larger than the input, None entries, 3-D input
GRID = [
    (2, (2, 2, 4, 4)),
    (3, (1, 2, 5, 7)),
    ((2, 3), (2, 1, 5, 4)),
    (4, (1, 1, 3, 3)),
    ((None, 2), (1, 2, 3, 5)),
    ((3, None), (2, 1, 4, 3)),
    (1, (1, 2, 3, 4)),
    ([3, 2], (2, 6, 5)),
    ((None, None), (1, 2, 3)),
]
CASES = [(cls, size, shape) for cls in LAYERS for size, shape in GRID]
IDS = [f"{cls.__name__}-{size}-{'x'.join(map(str, shape))}" for cls, size, shape in CASES]


def _exact(array):
    out = np.empty(array.shape, dtype=object)
    for idx in np.ndindex(*array.shape):
        out[idx] = sp.Float(float(array[idx]))
    return out


def _problem(cls, size, shape, seed=0):
    rng = np.random.default_rng(seed)
    layer = cls(size)
    x = rng.integers(-2, 3, shape).astype(float)  # few values: ties in most windows
    delta = rng.standard_normal(layer.output_shape(shape))
    return layer, x, delta


def _torch_reference(layer, x, delta):
    xt = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    out = layer.torch_module()(xt)
    out.backward(torch.from_numpy(delta))
    return out.detach().numpy(), xt.grad.numpy()


def _engine(layer, x, delta):
    out = layer.forward(_exact(x), {})
    return out.astype(np.float64), layer.backward(_exact(delta), _exact(x), out, {}).input.astype(np.float64)


# ---------------------------------------------------------------- torch parity (float64)

@pytest.mark.torch
@pytest.mark.parametrize("cls,size,shape", CASES, ids=IDS)
def test_engine_equals_torch_autograd(cls, size, shape):
    layer, x, delta = _problem(cls, size, shape)
    expected_out, expected_dx = _torch_reference(layer, x, delta)
    out, dx = _engine(layer, x, delta)
    assert out.shape == expected_out.shape == layer.output_shape(shape)
    np.testing.assert_allclose(out, expected_out, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(dx, expected_dx, rtol=1e-12, atol=1e-12)


@pytest.mark.torch
def test_ties_go_to_the_first_maximum_as_torch():
    """All equal: every window's delta lands on its first (row-major) entry, as in torch."""
    layer = AdaptiveMaxPool2d((2, 3))
    x = np.ones((1, 1, 5, 4))
    delta = np.arange(1.0, 7.0).reshape(1, 1, 2, 3)
    _, expected = _torch_reference(layer, x, delta)
    _, dx = _engine(layer, x, delta)
    np.testing.assert_array_equal(dx, expected)
    assert dx[0, 0, 0].tolist() == [1.0, 2.0, 3.0, 0.0] and dx[0, 0, 2].tolist() == [4.0, 5.0, 6.0, 0.0]


@pytest.mark.torch
@pytest.mark.parametrize("batch", [(), (3,), (2, 1)])
@pytest.mark.parametrize("cls,size,shape", CASES, ids=IDS)
def test_array_twin_equals_torch_problem_by_problem(cls, size, shape, batch):
    layer = cls(size)
    rng = np.random.default_rng(1)
    x = rng.integers(-2, 3, (*batch, *shape)).astype(float)
    options = layer.array_options(shape)
    out = rebuilt(cls.array_twin["forward"])(x, **options)
    delta = rng.standard_normal(out.shape)
    (dx,) = rebuilt(cls.array_twin["backward"])(delta, x, out, **options)
    for idx in np.ndindex(*batch):
        expected_out, expected_dx = _torch_reference(layer, x[idx], delta[idx])
        np.testing.assert_allclose(out[idx], expected_out, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(dx[idx], expected_dx, rtol=1e-12, atol=1e-12)
    assert rebuilt(cls.array_twin["backward"])(delta, x, out, want_input=False, **options) == (None,)


@pytest.mark.torch
def test_max_twin_routes_nan_as_torch():
    layer = AdaptiveMaxPool2d(2)
    x = np.array([[[[1.0, np.nan, 3.0], [np.nan, 0.0, 2.0], [5.0, 4.0, np.nan]]]])
    delta = np.array([[[[1.0, 2.0], [3.0, 4.0]]]])
    expected_out, expected_dx = _torch_reference(layer, x, delta)
    options = layer.array_options(x.shape)
    out = rebuilt(AdaptiveMaxPool2d.array_twin["forward"])(x, **options)
    np.testing.assert_array_equal(out, expected_out)
    np.testing.assert_array_equal(rebuilt(AdaptiveMaxPool2d.array_twin["backward"])(delta, x, out, **options)[0],
                                  expected_dx)


@pytest.mark.torch
def test_torch_module_and_from_torch_round_trip():
    for cls, size, _ in CASES:
        layer = cls(size)
        module = layer.torch_module()
        assert type(module).__name__ == cls.type_name
        assert cls.from_torch(module).options() == layer.options()
    with pytest.raises(OptionError):
        AdaptiveMaxPool2d.from_torch(torch.nn.AdaptiveMaxPool2d(2, return_indices=True))


# ---------------------------------------------------------------- symbolic: rules vs sympy.diff
# (Max: sympy.diff writes Heaviside, half a gradient per tie; the max rule is held to it on numbers below.)

SMOOTH = [
    ("avg_overlap_sum", lambda: sg.Sequential(AdaptiveAvgPool2d(2), sg.Sum()), (1, 1, 3, 3), None),
    ("avg_none_mse", lambda: sg.Sequential(AdaptiveAvgPool2d((None, 2))), (1, 2, 2, 3), "mean"),
    ("avg_larger_mse", lambda: sg.Sequential(AdaptiveAvgPool2d((3, 1))), (2, 1, 2, 2), "sum"),
]


def _entries(array) -> list:
    if isinstance(array, sp.Basic) and not isinstance(array, sp.NDimArray):
        return [array]
    return list(np.array(array.tolist(), dtype=object).reshape(-1))


@pytest.mark.parametrize("name,make,shape,reduction", SMOOTH, ids=[c[0] for c in SMOOTH])
def test_rules_equal_sympy_diff_symbolically(name, make, shape, reduction):
    loss = None if reduction is None else sg.MSELoss(reduction=reduction)
    x = sg.symbolic("x", shape)
    rules = sg.derive(make(), x, loss, None, sg.SGD(lr=0.1))
    diff = sg.derive(make(), x, loss, None, sg.SGD(lr=0.1), method="diff")
    assert sp.expand(rules.loss - diff.loss) == 0
    for key in rules.gradients:
        ga, gb = _entries(rules.gradients[key]), _entries(diff.gradients[key])
        assert len(ga) == len(gb)
        for i, (a, b) in enumerate(zip(ga, gb)):
            assert sp.simplify(a - b) == 0, f"{key}[{i}]: rules {a} vs diff {b}"


def test_max_rule_equals_sympy_diff_on_numbers_without_ties():
    """Max is piecewise: away from ties its sympy.diff is the routing, on numbers."""
    rng = random.Random(3)
    x = np.array(rng.sample(range(-20, 20), 15), dtype=object).reshape(1, 1, 3, 5)
    x = np.vectorize(sp.Integer, otypes=[object])(x)
    symbols = np.array([sp.Symbol(f"x{i}", real=True) for i in range(15)], dtype=object).reshape(x.shape)
    layer = AdaptiveMaxPool2d((2, 3))
    out = layer.forward(symbols, {})
    total = sum(out.reshape(-1))
    values = dict(zip(symbols.reshape(-1), x.reshape(-1)))
    expected = np.array([sp.diff(total, s).subs(values) for s in symbols.reshape(-1)], dtype=object)
    engine = layer.backward(np.full(out.shape, sp.Integer(1), dtype=object), x, layer.forward(x, {}), {}).input
    assert list(engine.reshape(-1)) == list(expected)


# ---------------------------------------------------------------- index forms, the engine and the twins

def _numbers(rng, shape, lo=-2, hi=2):
    array = np.empty(shape, dtype=object)
    for idx in np.ndindex(*shape):
        array[idx] = sp.Integer(rng.randint(lo, hi))
    return array


def _equal(got, expected) -> bool:
    got, expected = np.asarray(got, dtype=object), np.asarray(expected, dtype=object)
    return got.shape == expected.shape and all(
        sp.expand(a - b) == 0 for a, b in zip(got.reshape(-1), expected.reshape(-1)))


@pytest.mark.parametrize("cls", LAYERS)
def test_index_forms_equal_the_engine(cls):
    assert set(cls.index_rules) == set(cls.index_form) == {"forward", "input"}
    rng = random.Random(cls.type_name)
    for _ in range(30):
        size = (rng.choice([None, 1, 2, 3, 4]), rng.choice([None, 1, 2, 3, 4]))
        shape = (rng.randint(1, 2),) * rng.randint(1, 2) + (rng.randint(1, 5), rng.randint(1, 5))
        layer = cls(size)
        x = _numbers(rng, shape)
        out = layer.forward(x, {})
        delta = _numbers(rng, out.shape, -3, 3)
        engine = {"forward": out, "input": layer.backward(delta, x, out, {}).input}
        for key, rule in cls.index_rules.items():
            assert _equal(rule(layer, x, {}, delta), engine[key]), f"{layer!r} on {shape}: {key}"


@pytest.mark.parametrize("cls,size,shape", CASES, ids=IDS)
def test_array_twin_equals_the_engine(cls, size, shape):
    layer, x, delta = _problem(cls, size, shape, seed=2)
    options = layer.array_options(shape)
    out = rebuilt(cls.array_twin["forward"])(x, **options)
    (dx,) = rebuilt(cls.array_twin["backward"])(delta, x, out, **options)
    expected_out, expected_dx = _engine(layer, x, delta)
    np.testing.assert_allclose(out, expected_out, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(dx, expected_dx, rtol=1e-12, atol=1e-12)


def test_instances_fill_in_the_numbers():
    forward = AdaptiveAvgPool2d((3, None)).index_instance("forward", (1, 1, 5, 4))
    assert r"\tfrac{(i-1)\cdot 5}{3}" in forward and r"\tfrac{j\cdot 4}{4}" in forward, forward
    assert "X_{h,w}" in forward and "c," not in forward
    assert r"\operatorname*{argmax}" in AdaptiveMaxPool2d(2).index_instance("input", (2, 3, 3))
    assert AdaptiveMaxPool2d(2).index_instance("nothing", (1, 1, 3, 3)) == ""


def test_figure_marks_the_first_maxima():
    layer = AdaptiveMaxPool2d(2)
    x = np.vectorize(sp.Integer, otypes=[object])(np.array([[[[1, 1, 0], [0, 2, 2], [3, 0, 2]]]]))
    assert layer.figure(x.shape, x) == {(1, 1): "1,1; 1,2; 2,2", (2, 0): "2,1"}
    assert layer.figure((1, 1, 3, 3), sg.symbolic("x", (1, 1, 3, 3))) is None


def test_declared_pieces():
    for cls in LAYERS:
        assert undeclared(cls) == []
        layer = cls(2)
        assert layer.output_letter == "S" and layer.rule_words == "general_plain"
        assert layer.symbol_bases == layer.parameter_letters == layer.parameter_shapes() == {}
        assert set(layer.words) == {"en", "zh"} and set(layer.words["en"]) == set(layer.words["zh"])
        assert "自适应池化" in layer.words["zh"]["note:forward"] and "overlap" in layer.words["en"]["note:forward"]
        for piece in (layer.buffers, layer.modes, layer.initial_values, layer.channels):
            assert not piece and piece.reason
        assert layer.terms((1, 1, 5, 5), (1, 1, 2, 2)) == 4 * 9
    assert not AdaptiveAvgPool2d.figure
    assert AdaptiveMaxPool2d((None, 2)).shape_formula((1, 1, 3, 4)) == "H: 3 (None keeps the input's); W: 2 (output_size)"
    assert repr(AdaptiveAvgPool2d(3)) == "AdaptiveAvgPool2d(output_size=(3, 3))"


# ---------------------------------------------------------------- validation, mirrored with torch

# (class, args, kwargs, input shape, option): torch refuses each, at construction or forward
REFUSED = [
    (AdaptiveAvgPool2d, (-1,), {}, (1, 1, 3, 3), "output_size"),
    (AdaptiveMaxPool2d, ((2, -1),), {}, (1, 1, 3, 3), "output_size"),
    (AdaptiveAvgPool2d, ((3,),), {}, (1, 1, 3, 3), "output_size"),
    (AdaptiveMaxPool2d, ((2, 3, 4),), {}, (1, 1, 3, 3), "output_size"),
    (AdaptiveAvgPool2d, (2.5,), {}, (1, 1, 3, 3), "output_size"),
    (AdaptiveMaxPool2d, (True,), {}, (1, 1, 3, 3), "output_size"),
    (AdaptiveAvgPool2d, (2,), {}, (3, 3), "input"),
    (AdaptiveMaxPool2d, (2,), {}, (1, 1, 1, 3, 3), "input"),
]
#: Refused by symgrad only: torch returns an empty tensor, or a tuple with the indices.
OURS_ONLY = [
    (AdaptiveAvgPool2d, (0,), {}, (1, 1, 3, 3), "output_size"),
    (AdaptiveMaxPool2d, ((2, 0),), {}, (1, 1, 3, 3), "output_size"),
    (AdaptiveMaxPool2d, (2,), {"return_indices": True}, (1, 1, 3, 3), "return_indices"),
]
ACCEPTED = [
    (AdaptiveAvgPool2d, ((None, 3),), {}, (1, 1, 3, 5)),
    (AdaptiveMaxPool2d, ([4, 1],), {"return_indices": False}, (2, 3, 3)),
    (AdaptiveAvgPool2d, (7,), {}, (1, 2, 2)),
]


def _refusal(cls, args, kwargs, shape):
    with pytest.raises(OptionError) as error:
        cls(*args, **kwargs).output_shape(shape)
    return error.value


@pytest.mark.parametrize("cls,args,kwargs,shape,option", REFUSED + OURS_ONLY)
def test_symgrad_refuses(cls, args, kwargs, shape, option):
    error = _refusal(cls, args, kwargs, shape)
    assert error.where == cls.type_name and error.option == option, error


@pytest.mark.torch
@pytest.mark.parametrize("cls,args,kwargs,shape,option", REFUSED)
def test_torch_refuses_these_too(cls, args, kwargs, shape, option):
    with pytest.raises((ValueError, RuntimeError, TypeError)):
        getattr(torch.nn, cls.type_name)(*args, **kwargs)(torch.zeros(shape, dtype=torch.float64))


@pytest.mark.parametrize("cls,args,kwargs,shape", ACCEPTED)
def test_symgrad_accepts(cls, args, kwargs, shape):
    layer = cls(*args, **kwargs)
    assert layer.forward(np.full(shape, sp.Integer(1), dtype=object), {}).shape == layer.output_shape(shape)


@pytest.mark.torch
@pytest.mark.parametrize("cls,args,kwargs,shape", ACCEPTED)
def test_torch_accepts_these_with_the_same_shape(cls, args, kwargs, shape):
    out = getattr(torch.nn, cls.type_name)(*args, **kwargs)(torch.zeros(shape, dtype=torch.float64))
    assert tuple(out.shape) == cls(*args, **kwargs).output_shape(shape)


@pytest.mark.torch
def test_messages_are_torchs():
    mine = _refusal(AdaptiveAvgPool2d, (-1,), {}, (1, 1, 3, 3)).message
    assert mine.startswith("elements of output_size must be greater than or equal to 0")
    with pytest.raises(RuntimeError) as theirs:
        torch.nn.AdaptiveAvgPool2d(-1)(torch.zeros(1, 1, 3, 3))
    assert mine.split(" but ")[0] in str(theirs.value)
    mine = _refusal(AdaptiveMaxPool2d, (2,), {}, (3, 3)).message
    with pytest.raises(RuntimeError) as theirs:
        torch.nn.AdaptiveMaxPool2d(2)(torch.zeros(3, 3))
    assert mine in str(theirs.value)


# ---------------------------------------------------------------- end to end

@pytest.mark.torch
@pytest.mark.parametrize("cls", LAYERS)
def test_derive_equals_torch_end_to_end(cls):
    rng = np.random.default_rng(4)
    layer = cls((2, 3))
    x = rng.integers(-2, 3, (2, 1, 5, 4)).astype(float)
    target = rng.integers(-2, 3, layer.output_shape(x.shape)).astype(float)
    d = sg.derive(sg.Sequential(layer), x.tolist(), sg.MSELoss(), target.tolist(), sg.SGD(lr=0.1))
    xt = torch.tensor(x, requires_grad=True)
    loss = torch.nn.MSELoss()(cls((2, 3)).torch_module()(xt), torch.from_numpy(target))
    loss.backward()
    assert float(d.loss) == pytest.approx(loss.item(), rel=1e-12)
    np.testing.assert_allclose(np.array(d.gradients["input"].tolist(), dtype=float), xt.grad.numpy(), rtol=1e-12,
                               atol=1e-15)


# ---------------------------------------------------------------- derivation pages and from_torch

@pytest.mark.parametrize("cls", LAYERS)
def test_derivation_pages_print_the_rules_notes_and_instances(cls):
    from symgrad.printing.steps import markdown_body
    from symgrad.printing.markdown import math  # one row per line, as the Markdown writes display math

    x = np.random.default_rng(5).integers(-2, 3, (1, 1, 5, 4)).astype(float)
    d = sg.derive(sg.Sequential(cls((2, 3))), x.tolist(), sg.MSELoss(), None, sg.SGD(lr=0.1))
    layer = d.network.layers[0]
    for language in ("en", "zh"):
        page = markdown_body(d, language)
        assert layer.words[language]["note:forward"] in page
        for key in ("forward", "input"):
            assert math(cls.index_form[key]) in page, (language, key)
        assert math(layer.index_instance("forward", (1, 1, 5, 4))) in page


@pytest.mark.torch
def test_from_torch_builds_the_network():
    model = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 2), torch.nn.AdaptiveMaxPool2d((None, 2)),
                                torch.nn.AdaptiveAvgPool2d(1))
    network = sg.from_torch(model)
    assert [type(layer).__name__ for layer in network.layers] == ["Conv2d", "AdaptiveMaxPool2d", "AdaptiveAvgPool2d"]
    assert network.layers[1].output_size == (None, 2) and network.layers[2].output_size == (1, 1)
