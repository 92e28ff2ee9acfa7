"""ConvTranspose2d, the first layer added as one module: torch parity, sympy.diff, index forms, twin, options.

The layer's maths is Conv2d's transpose (its forward is Conv2d's dL/dX); here it is held to
torch autograd in float64 over a grid of options, to sympy.diff on small symbolic cases,
its printed index forms to the engine, its NumPy twin to the engine, and its validation to
torch's in both directions (what torch refuses symgrad refuses, what torch runs symgrad runs).
"""

from __future__ import annotations

import random

import numpy as np
import pytest
import sympy as sp
from lazy_torch import torch

import symgrad as sg
from symgrad.core.errors import OptionError
from symgrad.ops.conv_transpose import ConvTranspose2d
from twins import rebuilt

# (in_channels, out_channels, kernel_size, options, input H, W): every option, alone and mixed
GRID = [
    (2, 3, 2, {}, (3, 4)),
    (2, 3, 3, {"bias": False}, (3, 3)),
    (1, 2, (2, 3), {"stride": 2}, (3, 2)),
    (2, 2, 3, {"stride": 2, "padding": 1, "output_padding": 1}, (3, 4)),
    (2, 1, 2, {"stride": (2, 3), "output_padding": (1, 2)}, (2, 3)),
    (1, 2, 2, {"dilation": 2, "output_padding": 1}, (3, 3)),  # output_padding >= stride, < dilation
    (3, 2, (3, 2), {"dilation": (2, 1), "padding": (2, 0)}, (4, 3)),
    (4, 6, 2, {"groups": 2}, (3, 3)),
    (4, 2, (2, 3), {"groups": 2, "stride": (1, 2), "padding": (1, 1), "output_padding": (0, 1), "bias": False},
     (3, 4)),
    (6, 3, 3, {"groups": 3, "stride": 3, "dilation": (1, 2), "padding": 2, "output_padding": (2, 1)}, (2, 3)),
]
IDS = [f"{c[0]}-{c[1]}-k{c[2]}-" + "-".join(f"{k}{v}" for k, v in c[3].items()) for c in GRID]


def _layer(case):
    cin, cout, k, options, _ = case
    return ConvTranspose2d(cin, cout, k, **options)


def _floats(rng, shape):
    return rng.standard_normal(shape)


def _exact(array):
    """float64 numbers as SymPy Floats in an object array: the engine's forward and rule on numbers."""
    out = np.empty(array.shape, dtype=object)
    for idx in np.ndindex(*array.shape):
        out[idx] = sp.Float(float(array[idx]))
    return out


def _numbers(rng, shape, lo=-3, hi=3):
    array = np.empty(shape, dtype=object)
    for idx in np.ndindex(*shape):
        array[idx] = sp.Integer(rng.randint(lo, hi))
    return array


def _problem(case, seed=0):
    layer = _layer(case)
    rng = np.random.default_rng(seed)
    x = _floats(rng, (2, layer.in_channels, *case[4]))
    params = {name: _floats(rng, shape) for name, shape in layer.parameter_shapes().items()}
    delta = _floats(rng, layer.output_shape(x.shape))
    return layer, x, params, delta


def _torch_reference(layer, x, params, delta):
    module = layer.torch_module().double()
    with torch.no_grad():
        for name, value in params.items():
            getattr(module, name).copy_(torch.from_numpy(value))
    xt = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    out = module(xt)
    out.backward(torch.from_numpy(delta))
    grads = {"input": xt.grad.numpy(), **{name: getattr(module, name).grad.numpy() for name in params}}
    return out.detach().numpy(), grads


def _engine(layer, x, params, delta):
    exact = {name: _exact(value) for name, value in params.items()}
    out = layer.forward(_exact(x), exact)
    grads = layer.backward(_exact(delta), _exact(x), out, exact)
    return out.astype(np.float64), {"input": grads.input.astype(np.float64),
                                    **{k: v.astype(np.float64) for k, v in grads.params.items()}}


# ---------------------------------------------------------------- torch parity (float64)

@pytest.mark.torch
@pytest.mark.parametrize("case", GRID, ids=IDS)
def test_engine_equals_torch_autograd(case):
    layer, x, params, delta = _problem(case)
    expected_out, expected = _torch_reference(layer, x, params, delta)
    out, grads = _engine(layer, x, params, delta)
    assert out.shape == expected_out.shape == layer.output_shape(x.shape)
    np.testing.assert_allclose(out, expected_out, rtol=1e-12, atol=1e-12)
    assert set(grads) == set(expected) == {"input", *layer.parameter_shapes()}
    for key in expected:
        np.testing.assert_allclose(grads[key], expected[key], rtol=1e-12, atol=1e-12, err_msg=key)


@pytest.mark.torch
@pytest.mark.parametrize("batch", [(), (3,), (2, 1)])
@pytest.mark.parametrize("case", GRID, ids=IDS)
def test_array_twin_equals_torch_problem_by_problem(case, batch):
    layer = _layer(case)
    rng = np.random.default_rng(1)
    in_shape = (2, layer.in_channels, *case[4])
    x = _floats(rng, (*batch, *in_shape))
    params = {name: _floats(rng, shape) for name, shape in layer.parameter_shapes().items()}  # shared weights
    options = layer.array_options(in_shape)
    out = rebuilt(ConvTranspose2d.array_twin["forward"])(x, *params.values(), **options)
    delta = _floats(rng, out.shape)
    got = rebuilt(ConvTranspose2d.array_twin["backward"])(delta, x, out, *params.values(), **options)
    assert len(got) == 1 + len(params)
    for idx in np.ndindex(*batch):
        expected_out, expected = _torch_reference(layer, x[idx], params, delta[idx])
        np.testing.assert_allclose(out[idx], expected_out, rtol=1e-12, atol=1e-12)
        for value, key in zip(got, ["input", *params]):
            np.testing.assert_allclose(value[idx], expected[key], rtol=1e-12, atol=1e-12, err_msg=key)
    no_input = rebuilt(ConvTranspose2d.array_twin["backward"])(delta, x, out, *params.values(), want_input=False,
                                                               **options)
    assert no_input[0] is None
    for a, b in zip(no_input[1:], got[1:]):
        np.testing.assert_array_equal(a, b)


@pytest.mark.torch
def test_torch_module_and_from_torch_round_trip():
    for case in GRID:
        layer = _layer(case)
        module = layer.torch_module()
        assert type(module).__name__ == "ConvTranspose2d"
        assert tuple(module.weight.shape) == layer.parameter_shapes()["weight"]
        assert (module.bias is not None) == layer.bias
        back = ConvTranspose2d.from_torch(module)
        assert back.options() == layer.options()


@pytest.mark.torch
def test_initial_values_follow_torchs_fan_in():
    """torch's bound 1/sqrt(fan_in), fan_in from weight dim 1 (out/groups) times the kernel area."""
    layer = ConvTranspose2d(6, 4, (2, 3), groups=2)
    module = layer.torch_module()
    fan_in, _ = torch.nn.init._calculate_fan_in_and_fan_out(module.weight)
    assert fan_in == 2 * 2 * 3
    values = layer.initial_values(np.random.default_rng(0))
    bound = 1 / np.sqrt(fan_in)
    for name, value in values.items():
        assert value.shape == tuple(getattr(module, name).shape)
        assert np.abs(value).max() <= bound
        assert np.abs(value).max() > 0.8 * bound  # drawn over the whole range, not a narrower one
        assert np.abs(getattr(module, name).detach().numpy()).max() <= bound


def test_initial_values_are_torchs_distribution_drawn_in_parameter_order():
    layer = ConvTranspose2d(2, 3, 2)
    rng = np.random.default_rng(5)
    bound = 1 / np.sqrt(3 * 2 * 2)
    expected_weight = rng.uniform(-bound, bound, size=(2, 3, 2, 2))
    expected_bias = rng.uniform(-bound, bound, size=(3,))
    values = layer.initial_values(np.random.default_rng(5))
    assert list(values) == ["weight", "bias"]
    np.testing.assert_array_equal(values["weight"], expected_weight)
    np.testing.assert_array_equal(values["bias"], expected_bias)


# ---------------------------------------------------------------- symbolic: rules vs sympy.diff

SMOOTH = [
    ("plain_sum", lambda: sg.Sequential(ConvTranspose2d(1, 1, 2, bias=False), sg.Sum()), (1, 1, 2, 2), None),
    ("bias_stride2_sum", lambda: sg.Sequential(ConvTranspose2d(1, 1, 2, stride=2), sg.Sum()), (1, 1, 2, 2), None),
    ("pad_outpad_mse", lambda: sg.Sequential(ConvTranspose2d(1, 1, 3, stride=2, padding=1, output_padding=1,
                                                              bias=False)), (1, 1, 2, 2), "mean"),
    ("dilation_outpad_mse", lambda: sg.Sequential(ConvTranspose2d(1, 1, 2, dilation=2, output_padding=1)),
     (1, 1, 2, 2), "sum"),
    ("groups_mse", lambda: sg.Sequential(ConvTranspose2d(2, 2, (1, 2), groups=2, bias=False)), (1, 2, 2, 1),
     "mean"),
    ("two_batches_channels_sum", lambda: sg.Sequential(ConvTranspose2d(2, 1, (2, 1), stride=(1, 2)), sg.Sum()),
     (2, 2, 1, 2), None),
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
    assert set(x.reshape(-1)) <= rules.loss.free_symbols  # fully symbolic: every input entry reaches the loss
    assert sp.expand(rules.loss - diff.loss) == 0
    assert set(rules.gradients) == set(diff.gradients) and "0.weight" in rules.gradients
    for key in rules.gradients:
        ga, gb = _entries(rules.gradients[key]), _entries(diff.gradients[key])
        assert len(ga) == len(gb)
        for i, (a, b) in enumerate(zip(ga, gb)):
            assert sp.expand(a - b) == 0, f"{key}[{i}]: rules {a} vs diff {b}"
            # under Sum, dL/db counts the outputs: a number; every other gradient must stay symbolic
            assert a.free_symbols or (key == "0.bias" and reduction is None), f"{key}[{i}] is a constant"


def test_forward_is_the_scatter_of_the_input_through_the_kernel():
    """One input entry, stride 2: the kernel itself, times the entry, lands at the entry's stride position."""
    layer = ConvTranspose2d(1, 1, 2, stride=2, bias=False)
    x = np.array([[[[0, 0], [0, 5]]]], dtype=object)
    kernel = np.array([[[[1, 2], [3, 4]]]], dtype=object)
    out = layer.forward(x, {"weight": kernel})
    assert out[0, 0].tolist() == [[0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 5, 10], [0, 0, 15, 20]]


# ---------------------------------------------------------------- index forms and instances

def _random_layer(rng):
    groups = rng.choice([1, 1, 2])
    stride = (rng.randint(1, 3), rng.randint(1, 3))
    dilation = (rng.randint(1, 2), rng.randint(1, 3))
    output_padding = tuple(rng.randint(0, max(s, d) - 1) for s, d in zip(stride, dilation))
    layer = ConvTranspose2d(groups * rng.randint(1, 2), groups * rng.randint(1, 2),
                            (rng.randint(1, 3), rng.randint(1, 3)), stride=stride,
                            padding=(rng.randint(0, 2), rng.randint(0, 2)), output_padding=output_padding,
                            groups=groups, bias=rng.random() < 0.5, dilation=dilation)
    shape = (rng.randint(1, 2), layer.in_channels, rng.randint(1, 4), rng.randint(1, 4))
    layer.output_shape(shape)
    return layer, shape


def _equal(got, expected) -> bool:
    got, expected = np.asarray(got, dtype=object), np.asarray(expected, dtype=object)
    return got.shape == expected.shape and all(
        sp.expand(a - b) == 0 for a, b in zip(got.reshape(-1), expected.reshape(-1)))


def test_index_forms_equal_the_engine():
    assert set(ConvTranspose2d.index_rules) == set(ConvTranspose2d.index_form) == {"forward", "input", "weight",
                                                                                   "bias"}
    rng = random.Random("ConvTranspose2d")
    checked = 0
    for _ in range(120):
        try:
            layer, shape = _random_layer(rng)
        except OptionError:
            continue  # padding past the output: the validation tests cover it
        x = _numbers(rng, shape)
        params = {key: _numbers(rng, p) for key, p in layer.parameter_shapes().items()}
        out = layer.forward(x, params)
        delta = _numbers(rng, out.shape)
        engine = layer.backward(delta, x, out, params)
        expected = {"forward": out, "input": engine.input, **engine.params}
        for key, rule in ConvTranspose2d.index_rules.items():
            if key in expected:
                assert _equal(rule(layer, x, params, delta), expected[key]), f"{layer!r} on {shape}: {key}"
        checked += 1
        if checked == 40:
            break
    assert checked == 40


@pytest.mark.parametrize("options", [{}, {"stride": 2, "padding": 1}, {"dilation": 2, "padding": 2},
                                     {"stride": (1, 2), "padding": (0, 2), "output_padding": (0, 1)}])
def test_picture_marks_exactly_the_entries_in_dL_dK11(options):
    """The grid figure's highlighted cells are the input entries the engine's dL/dK_11 contains."""
    layer = ConvTranspose2d(1, 1, 2, bias=False, **options)
    x = np.empty((1, 1, 4, 4), dtype=object)
    for idx in np.ndindex(*x.shape):
        x[idx] = sp.Symbol(f"x_{idx[2]}_{idx[3]}")
    weight = {"weight": _numbers(random.Random(1), (1, 1, 2, 2), 1, 3)}
    out = layer.forward(x, weight)
    delta = np.full(out.shape, sp.Integer(1), dtype=object)
    grad = layer.backward(delta, x, out, weight).params["weight"][0, 0, 0, 0]
    engine = {(int(s.name.split("_")[1]), int(s.name.split("_")[2])) for s in grad.free_symbols}
    assert set(layer.figure(x.shape, x)) == engine
    assert options.get("padding", 0) == 0 or len(engine) < 16  # the padding does crop some out


def test_a_wrong_index_rule_would_be_caught():
    """Not vacuous: a rule reading the kernel turned by 180 degrees (Conv2d's dL/dX form) differs from the engine."""
    layer = ConvTranspose2d(1, 1, 2, stride=2, padding=1, bias=False)
    x = _numbers(random.Random(2), (1, 1, 3, 3), 1, 5)
    kernel = np.array([[[[1, 2], [3, 4]]]], dtype=object)
    engine = layer.forward(x, {"weight": kernel})
    assert _equal(ConvTranspose2d.index_rules["forward"](layer, x, {"weight": kernel}), engine)
    assert not _equal(ConvTranspose2d.index_rules["forward"](layer, x, {"weight": kernel[..., ::-1, ::-1]}), engine)


def test_instances_fill_in_the_numbers():
    layer = ConvTranspose2d(2, 4, 3, stride=2, padding=1, output_padding=1, groups=2)
    forward = layer.index_instance("forward", (1, 2, 4, 4))
    assert "2i + a - 3" in forward and "2j + b - 3" in forward, forward
    assert r"c^{*} = c + \left\lfloor \tfrac{o-1}{2} \right\rfloor" in forward and "o' = o - 2" in forward, forward
    assert r"o^{*} = o + 2\left\lfloor" in layer.index_instance("input", (1, 2, 4, 4))
    assert "c^{*}" not in ConvTranspose2d(1, 2, 2).index_instance("forward", (1, 1, 2, 2))
    assert r"\sum_{i=1}^{4}" in forward
    for key in ("input", "weight"):
        assert "2i + a - 3" in layer.index_instance(key, (1, 2, 4, 4))
    assert r"\sum_{h=1}^{8}" in layer.index_instance("bias", (1, 2, 4, 4))
    assert "o^{*}" not in ConvTranspose2d(1, 1, 2).index_instance("input", (1, 1, 2, 2))
    assert ConvTranspose2d(1, 1, 2).index_instance("nothing", (1, 1, 2, 2)) == ""


def test_declared_pieces():
    layer = ConvTranspose2d(2, 3, 2)
    assert layer.output_letter == "sigma" and layer.rule_words == "general"
    assert set(layer.symbol_bases) == set(layer.parameter_letters) == set(layer.parameter_shapes())
    assert set(layer.words) == {"en", "zh"}
    for language in ("en", "zh"):
        assert set(layer.words[language]) == {"note:forward", "figure"}
        assert "{weight}" in layer.words[language]["figure"]
        assert all(key.split(":", 1)[1] in layer.index_form for key in layer.words[language] if key.startswith("note:"))
    assert "转置卷积" in layer.words["zh"]["note:forward"]
    for piece in (layer.buffers, layer.modes):
        assert not piece and piece.reason
    assert layer.shape_formula((1, 2, 3, 4)) == "H: (3-1)*1 - 2*0 + 1*(2-1) + 0 + 1 = 4; " \
                                                "W: (4-1)*1 - 2*0 + 1*(2-1) + 0 + 1 = 5"


# ---------------------------------------------------------------- the array twin against the engine

@pytest.mark.parametrize("case", GRID, ids=IDS)
def test_array_twin_equals_the_engine(case):
    layer, x, params, delta = _problem(case, seed=2)
    options = layer.array_options(x.shape)
    out = rebuilt(ConvTranspose2d.array_twin["forward"])(x, *params.values(), **options)
    got = rebuilt(ConvTranspose2d.array_twin["backward"])(delta, x, out, *params.values(), **options)
    expected_out, expected = _engine(layer, x, params, delta)
    np.testing.assert_allclose(out, expected_out, rtol=1e-12, atol=1e-12)
    for value, key in zip(got, ["input", *params]):
        np.testing.assert_allclose(value, expected[key], rtol=1e-12, atol=1e-12, err_msg=key)


def test_array_twin_broadcasts_batched_weights():
    """Weights with their own batch axis: one problem per entry, gradients per problem (never summed)."""
    layer = ConvTranspose2d(2, 2, 2, stride=2, groups=2)
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 2, 2, 3))
    weight, bias = rng.standard_normal((3, 2, 1, 2, 2)), rng.standard_normal((3, 2))
    options = layer.array_options(x.shape)
    out = rebuilt(ConvTranspose2d.array_twin["forward"])(x, weight, bias, **options)
    delta = rng.standard_normal(out.shape)
    dx, dw, db = rebuilt(ConvTranspose2d.array_twin["backward"])(delta, x, out, weight, bias, **options)
    assert out.shape == (3, 2, 2, 4, 6) and dx.shape == (3, 2, 2, 2, 3) and dw.shape == weight.shape
    for p in range(3):
        alone = rebuilt(ConvTranspose2d.array_twin["forward"])(x, weight[p], bias[p], **options)
        np.testing.assert_allclose(out[p], alone, rtol=1e-12, atol=1e-12)
        parts = rebuilt(ConvTranspose2d.array_twin["backward"])(delta[p], x, alone, weight[p], bias[p], **options)
        for a, b in zip((dx[p], dw[p], db[p]), parts):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


# ---------------------------------------------------------------- validation, mirrored with torch

# (args, kwargs, input shape or None, the option symgrad names): torch refuses each, at construction or forward
REFUSED = [
    ((2, 2, 2), {"groups": 0}, None, "groups"),
    ((3, 2, 2), {"groups": 2}, None, "groups"),
    ((2, 3, 2), {"groups": 2}, None, "groups"),
    ((2, 2, 2), {"padding_mode": "reflect"}, None, "padding_mode"),
    ((2, 2, 2), {"padding_mode": "circular"}, None, "padding_mode"),
    ((2, 2, 2), {"padding_mode": "bogus"}, None, "padding_mode"),
    ((2, 2, 2), {"output_padding": 1}, (1, 2, 3, 3), "output_padding"),
    ((2, 2, 2), {"stride": 2, "output_padding": (1, 2)}, (1, 2, 3, 3), "output_padding"),
    ((2, 2, 2), {"stride": (2, 1), "dilation": (1, 2), "output_padding": (2, 1)}, (1, 2, 3, 3), "output_padding"),
    ((2, 2, 2), {"stride": 2, "output_padding": -1}, (1, 2, 3, 3), "output_padding"),
    ((2, 2, 0), {}, (1, 2, 3, 3), "kernel_size"),
    ((2, 2, (2, 0)), {}, (1, 2, 3, 3), "kernel_size"),
    ((2, 2, [2]), {}, (1, 2, 3, 3), "kernel_size"),  # torch builds a 3-D weight, then refuses it
    ((2, 2, (2, 2, 2)), {}, (1, 2, 3, 3), "kernel_size"),
    ((2, 2, 2), {"stride": 0}, (1, 2, 3, 3), "stride"),
    ((2, 2, 2), {"dilation": 0}, (1, 2, 3, 3), "dilation"),
    ((2, 2, 2), {"padding": -1}, (1, 2, 3, 3), "padding"),
    ((2, 2, 2), {"padding": 3}, (1, 2, 3, 3), "padding"),
    ((2, 2, 1), {"padding": 1}, (1, 2, 2, 2), "padding"),  # output 0 x 0
    ((2, 2, 2), {"padding": (0, 2)}, (1, 2, 3, 3), "padding"),  # output 4 x 0
    ((2, 2, 2), {"padding": "same"}, (1, 2, 3, 3), "padding"),
    ((3, 2, 2), {}, (1, 2, 3, 3), "in_channels"),
]
ACCEPTED = [
    ((2, 2, 2), {"dilation": 2, "output_padding": 1}, (1, 2, 3, 3)),
    ((2, 2, 2), {"stride": 2, "dilation": 3, "output_padding": 2}, (1, 2, 3, 3)),
    ((2, 2, 2), {"stride": (2, 1), "dilation": (1, 2), "output_padding": (1, 1)}, (1, 2, 3, 3)),
    ((2, 2, 2), {"padding": 1}, (1, 2, 2, 2)),  # output 1 x 1
    ((2, 2, 2), {"padding_mode": "zeros"}, (1, 2, 3, 3)),
    ((2, 2, (2, 1)), {"stride": [1, 2], "padding": (1,), "dilation": [2, 1], "output_padding": (1,)}, (1, 2, 3, 3)),
    ((4, 6, (1, 2)), {"groups": 2, "bias": False}, (2, 4, 1, 1)),
]


def _symgrad_refusal(args, kwargs, shape):
    with pytest.raises(OptionError) as error:
        ConvTranspose2d(*args, **kwargs).output_shape(shape or (1, args[0], 3, 3))
    return error.value


@pytest.mark.parametrize("args,kwargs,shape,option", REFUSED, ids=[str(r[1] or r[0]) for r in REFUSED])
def test_symgrad_refuses_what_torch_refuses(args, kwargs, shape, option):
    error = _symgrad_refusal(args, kwargs, shape)
    assert error.where == "ConvTranspose2d" and error.option == option, error


@pytest.mark.torch
@pytest.mark.filterwarnings("ignore:Initializing zero-element tensors")  # a zero kernel: torch warns, then refuses
@pytest.mark.parametrize("args,kwargs,shape,option", REFUSED, ids=[str(r[1] or r[0]) for r in REFUSED])
def test_torch_refuses_these_too(args, kwargs, shape, option):
    with pytest.raises((ValueError, RuntimeError, TypeError)):
        torch.nn.ConvTranspose2d(*args, **kwargs).double()(torch.zeros(shape or (1, args[0], 3, 3),
                                                                       dtype=torch.float64))


@pytest.mark.parametrize("args,kwargs,shape", ACCEPTED, ids=[str(a[1]) for a in ACCEPTED])
def test_symgrad_accepts_what_torch_accepts(args, kwargs, shape):
    layer = ConvTranspose2d(*args, **kwargs)
    out = layer.output_shape(shape)
    assert layer.forward(np.full(shape, sp.Integer(1), dtype=object),
                         {k: np.full(s, sp.Integer(1), dtype=object) for k, s in layer.parameter_shapes().items()}
                         ).shape == out


@pytest.mark.torch
@pytest.mark.parametrize("args,kwargs,shape", ACCEPTED, ids=[str(a[1]) for a in ACCEPTED])
def test_torch_accepts_these_with_the_same_shape(args, kwargs, shape):
    out = torch.nn.ConvTranspose2d(*args, **kwargs).double()(torch.zeros(shape, dtype=torch.float64))
    assert tuple(out.shape) == ConvTranspose2d(*args, **kwargs).output_shape(shape)


def test_messages_are_torchs():
    message = _symgrad_refusal((2, 2, 2), {"output_padding": 1}, (1, 2, 3, 3)).message
    assert message.startswith("output padding must be smaller than either stride or dilation, but got "
                              "output_padding_height: 1 output_padding_width: 1 stride_height: 1")
    assert _symgrad_refusal((2, 2, 2), {"padding_mode": "reflect"}, None).message == \
        'Only "zeros" padding mode is supported for ConvTranspose2d'
    assert _symgrad_refusal((2, 2, 2), {"padding": 3}, (1, 2, 3, 3)).message == \
        "Given input size per channel: (3 x 3). Calculated output size per channel: (-2 x -2). Output size is too small"


@pytest.mark.torch
def test_messages_match_torchs_own():
    for kwargs in ({"output_padding": 1}, {"padding": 3}, {"padding_mode": "reflect"}):
        mine = _symgrad_refusal((2, 2, 2), kwargs, (1, 2, 3, 3)).message
        with pytest.raises((ValueError, RuntimeError)) as theirs:
            torch.nn.ConvTranspose2d(2, 2, 2, **kwargs).double()(torch.zeros(1, 2, 3, 3, dtype=torch.float64))
        assert str(theirs.value).splitlines()[0] == mine


# ---------------------------------------------------------------- end to end: derive through a Sequential

def _end_to_end():
    layer = ConvTranspose2d(2, 2, 2, stride=2, padding=1, output_padding=1, groups=2)
    rng = np.random.default_rng(4)
    x = rng.integers(-3, 4, (2, 2, 2, 2)).astype(float)
    weight, bias = rng.integers(-2, 3, (2, 1, 2, 2)).astype(float), np.array([0.5, -1.0])
    target = rng.integers(-2, 3, layer.output_shape(x.shape)).astype(float)
    return layer, x, weight, bias, target


def test_derive_through_a_sequential():
    layer, x, weight, bias, target = _end_to_end()
    layer.init(weight=weight.tolist(), bias=bias.tolist())
    d = sg.derive(sg.Sequential(layer), x.tolist(), sg.MSELoss(), target.tolist(), sg.SGD(lr=0.1))
    assert set(d.gradients) == {"input", "0.weight", "0.bias"}
    params = {"weight": weight, "bias": bias}
    out, grads = _engine(layer, x, params, 2 * (_engine(layer, x, params, np.zeros((2, 2, 3, 3)))[0] - target)
                         / target.size)
    np.testing.assert_allclose(np.array(d.output.tolist(), dtype=float), out)
    for key, name in (("input", "input"), ("0.weight", "weight"), ("0.bias", "bias")):
        np.testing.assert_allclose(np.array(d.gradients[key].tolist(), dtype=float), grads[name], rtol=1e-12,
                                   atol=1e-12, err_msg=key)


@pytest.mark.torch
def test_derive_equals_torch_end_to_end():
    layer, x, weight, bias, target = _end_to_end()
    layer.init(weight=weight.tolist(), bias=bias.tolist())
    d = sg.derive(sg.Sequential(layer), x.tolist(), sg.MSELoss(), target.tolist(), sg.SGD(lr=0.1))
    module = layer.torch_module().double()
    with torch.no_grad():
        module.weight.copy_(torch.from_numpy(weight))
        module.bias.copy_(torch.from_numpy(bias))
    xt = torch.tensor(x, requires_grad=True)
    loss = torch.nn.MSELoss()(module(xt), torch.from_numpy(target))
    loss.backward()
    assert float(d.loss) == pytest.approx(loss.item(), rel=1e-12)
    # atol: torch's float64 kernels leave noise on an exact 0 (5.6e-17 on one CPU, 0 on another)
    np.testing.assert_allclose(np.array(d.gradients["input"].tolist(), dtype=float), xt.grad.numpy(), rtol=1e-12,
                               atol=1e-12)
    np.testing.assert_allclose(np.array(d.gradients["0.weight"].tolist(), dtype=float), module.weight.grad.numpy(),
                               rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(np.array(d.gradients["0.bias"].tolist(), dtype=float), module.bias.grad.numpy(),
                               rtol=1e-12, atol=1e-12)


# ---------------------------------------------------------------- derivation pages: en and zh, and real LaTeX

def _page_derivation():
    layer = ConvTranspose2d(2, 2, 2, stride=2, padding=1, output_padding=1, groups=2)
    return sg.derive(sg.Sequential(layer), sg.symbolic("x", (1, 2, 2, 2)), sg.MSELoss(), None, sg.SGD(lr=0.1))


def test_derivation_pages_print_the_rules_notes_and_instances():
    from symgrad.printing.steps import markdown_body
    from symgrad.printing.markdown import math, text  # one row per line, \, as \thinspace: as the Markdown writes

    d = _page_derivation()
    layer = d.network.layers[0]
    en, zh = markdown_body(d, "en"), markdown_body(d, "zh")
    for page, language in ((en, "en"), (zh, "zh")):
        assert text(layer.words[language]["note:forward"]) in page
        for key in ("forward", "input", "weight", "bias"):
            assert math(ConvTranspose2d.index_form[key]) in page, (language, key)
        assert math(layer.index_instance("forward", (1, 2, 2, 2))) in page
    assert "转置卷积" in zh and "转置卷积" not in en


def test_derivation_page_compiles_with_pdflatex(tmp_path):
    """The index forms are real LaTeX: the page (en) compiles as a standalone document."""
    import shutil
    import subprocess

    from symgrad.printing import latex
    from symgrad.printing.steps import latex_body

    if shutil.which("latexmk") is None or shutil.which("pdflatex") is None:
        pytest.fail("latexmk and pdflatex are needed (tests/printing/test_latex_compile.py says how to install TeX Live)")
    source = tmp_path / "conv_transpose.tex"
    source.write_text(latex.document(latex_body(_page_derivation(), "en")), encoding="utf-8")
    result = subprocess.run(["latexmk", "-pdf", "-norc", "-interaction=nonstopmode", "-halt-on-error", source.name],
                            cwd=tmp_path, capture_output=True, stdin=subprocess.DEVNULL, timeout=600)
    log = source.with_suffix(".log").read_text(errors="replace") if source.with_suffix(".log").exists() else "no log"
    assert result.returncode == 0, [line for line in log.splitlines() if line.startswith("!")][:3]
    assert source.with_suffix(".pdf").read_bytes().startswith(b"%PDF")


@pytest.mark.torch
def test_first_refusal_is_torchs_first():
    """Several bad options at once: torch's constructor checks groups and padding_mode before any size."""
    for kwargs, option in (({"groups": 0, "stride": 0}, "groups"), ({"padding_mode": "reflect", "stride": 0},
                                                                     "padding_mode")):
        with pytest.raises(ValueError):
            torch.nn.ConvTranspose2d(2, 2, 2, **kwargs)
        assert _symgrad_refusal((2, 2, 2), kwargs, None).option == option
