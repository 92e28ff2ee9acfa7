"""The NumPy array twins of MaxPool2d and AvgPool2d, held to torch autograd in float64.

Options are drawn at random (kernel != stride, overlapping windows, padding, dilation,
ceil_mode with partial last windows, count_include_pad, divisor_override); inputs are
small integers so that windows tie often, and max pooling also gets NaN and -inf
entries and whole -inf windows, where torch's routing is the reference. Every problem
of a batch is its own torch autograd call. The twins are called with the layer's
`array_options(shape)`, so the option mapping is tested too, and once more as the
standalone source that generated modules carry.
"""

from __future__ import annotations

import inspect

import numpy as np
import pytest
import sympy as sp
from lazy_torch import torch, F

import symgrad.ops
from symgrad.core.errors import OptionError
from symgrad.numeric.arraycode import copied_functions
from symgrad.ops import AvgPool2d, MaxPool2d
from twins import standalone

BATCHES = [(), (3,), (2, 3)]
CASES = 60


def _options(rng, dilation: bool):
    """Random pool options as torch takes them (ints or pairs), within torch's padding rule."""
    k = tuple(int(v) for v in rng.integers(1, 4, 2))
    options = {"kernel_size": k if rng.random() < 0.7 else k[0],
               "stride": tuple(int(v) for v in rng.integers(1, 4, 2)),
               "padding": tuple(int(rng.integers(0, v // 2 + 1)) for v in k),
               "ceil_mode": bool(rng.random() < 0.5)}
    if not isinstance(options["kernel_size"], tuple):
        options["padding"] = options["padding"][0]
    if rng.random() < 0.15:
        options["stride"] = None  # defaults to the kernel size
    if dilation:
        options["dilation"] = tuple(int(v) for v in rng.integers(1, 3, 2))
    return options


def _layers(kind, seed, count=CASES):
    """(layer, torch options, problem shape) for random options the layer accepts on its shape."""
    rng = np.random.default_rng(seed)
    found = []
    while len(found) < count:
        options = _options(rng, dilation=kind is MaxPool2d)
        if kind is AvgPool2d:
            options["count_include_pad"] = bool(rng.random() < 0.5)
            options["divisor_override"] = [None, None, 3, -2][int(rng.integers(0, 4))]
        shape = (int(rng.integers(1, 3)), int(rng.integers(1, 3)), int(rng.integers(1, 8)), int(rng.integers(1, 8)))
        try:
            layer = kind(**options)
            layer.output_shape(shape)
        except OptionError:
            continue
        found.append((layer, options, shape))
    return found


def _torch_pool(kind, x, delta, options):
    """torch's output and input gradient of one problem (x, delta without batch axes)."""
    xt = torch.tensor(x, requires_grad=True)
    function = F.max_pool2d if kind is MaxPool2d else F.avg_pool2d
    out = function(xt, **options)
    out.backward(torch.tensor(delta))
    return out.detach().numpy(), xt.grad.numpy()


def _forward(layer, x):
    """The layer's array twin, called as generated code calls it: with the options for one problem's shape."""
    return type(layer).array_twin["forward"](x, **layer.array_options(x.shape[-4:]))


def _backward(layer, delta, x, out, **keywords):
    return type(layer).array_twin["backward"](delta, x, out, **keywords, **layer.array_options(x.shape[-4:]))


def _max_input(rng, shape):
    """Small integers (ties), sometimes with NaN and -inf entries or a whole -inf corner."""
    x = rng.integers(-2, 3, shape).astype(np.float64)
    special = rng.random()
    if special < 0.25:
        x[rng.random(shape) < 0.15] = np.nan
    elif special < 0.5:
        x[rng.random(shape) < 0.3] = -np.inf
    elif special < 0.6:
        x[..., : shape[-2] // 2 + 1, : shape[-1] // 2 + 1] = -np.inf
    elif special < 0.7:
        x[...] = 1.0  # all windows tie everywhere
    return x


def _check_against_torch(kind, seed, make_input):
    rng = np.random.default_rng(seed + 1)
    for number, (layer, options, shape) in enumerate(_layers(kind, seed)):
        batch = BATCHES[number % len(BATCHES)]
        x = make_input(rng, batch + shape)
        out = _forward(layer, x)
        assert out.shape == batch + layer.output_shape(shape)
        delta = rng.standard_normal(out.shape)
        (dx,) = _backward(layer, delta, x, out)
        assert dx.shape == x.shape
        for b in np.ndindex(*batch):
            expected_out, expected_dx = _torch_pool(kind, x[b], delta[b], options)
            where = f"{layer!r} on {shape}, problem {b} of batch {batch}, x = {x[b].tolist()}"
            np.testing.assert_allclose(out[b], expected_out, rtol=1e-13, atol=1e-13, equal_nan=True, err_msg=where)
            np.testing.assert_allclose(dx[b], expected_dx, rtol=1e-12, atol=1e-12, equal_nan=True, err_msg=where)


@pytest.mark.torch
@pytest.mark.parametrize("seed", [0, 1])
def test_max_pool_matches_torch_with_ties_nan_and_inf(seed):
    _check_against_torch(MaxPool2d, seed, _max_input)


@pytest.mark.torch
@pytest.mark.parametrize("seed", [0, 1])
def test_avg_pool_matches_torch(seed):
    _check_against_torch(AvgPool2d, seed, lambda rng, shape: rng.integers(-2, 3, shape).astype(np.float64))


@pytest.mark.torch
def test_max_pool_nan_routing_is_torchs_last_nan_and_all_inf_keeps_the_first_position():
    """Hand-made windows: the first of tied maxima, the last NaN, an all -inf window's first valid position."""
    nan, inf = np.nan, np.inf
    x = np.array([[[[3.0, 3.0, nan, 1.0, -inf, -inf],
                    [1.0, 3.0, 2.0, nan, -inf, -inf]]]])
    layer = MaxPool2d(2)
    out = _forward(layer, x)
    (dx,) = _backward(layer, np.array([[[[1.0, 2.0, 4.0]]]]), x, out)
    np.testing.assert_array_equal(out, [[[[3.0, nan, -inf]]]])
    np.testing.assert_array_equal(dx, [[[[1.0, 0, 0, 0, 4.0, 0], [0, 0, 0, 2.0, 0, 0]]]])
    expected_out, expected_dx = _torch_pool(MaxPool2d, x, np.array([[[[1.0, 2.0, 4.0]]]]), {"kernel_size": 2})
    np.testing.assert_array_equal(out, expected_out)
    np.testing.assert_array_equal(dx, expected_dx)


@pytest.mark.torch
def test_max_pool_padding_never_wins_over_inf_inputs():
    """A window of -inf inputs next to padding routes to its first input position, as torch."""
    x = np.full((1, 1, 3, 3), -np.inf)
    layer = MaxPool2d(3, stride=1, padding=1)
    out = _forward(layer, x)
    delta = np.arange(1.0, 10.0).reshape(1, 1, 3, 3)
    (dx,) = _backward(layer, delta, x, out)
    expected_out, expected_dx = _torch_pool(MaxPool2d, x, delta, {"kernel_size": 3, "stride": 1, "padding": 1})
    np.testing.assert_array_equal(out, expected_out)
    np.testing.assert_array_equal(dx, expected_dx)
    assert dx.sum() == delta.sum()  # nothing is lost in the padding


@pytest.mark.torch
def test_max_pool_kernel_of_more_than_127_offsets():
    """Winner offsets past int8 (12 x 12 kernel, overlapping, padded) still route as torch."""
    rng = np.random.default_rng(4)
    x = rng.integers(0, 3, (1, 2, 15, 14)).astype(np.float64)
    layer = MaxPool2d(12, stride=(3, 1), padding=6, ceil_mode=True)
    out = _forward(layer, x)
    delta = rng.standard_normal(out.shape)
    (dx,) = _backward(layer, delta, x, out)
    expected_out, expected_dx = _torch_pool(MaxPool2d, x, delta, {"kernel_size": 12, "stride": (3, 1), "padding": 6,
                                                                  "ceil_mode": True})
    np.testing.assert_array_equal(out, expected_out)
    np.testing.assert_allclose(dx, expected_dx, rtol=1e-12, atol=1e-12)


@pytest.mark.torch
def test_max_pool_non_finite_delta_reaches_only_the_winners():
    """delta * 0 would be NaN off the route; torch leaves those positions 0."""
    rng = np.random.default_rng(5)
    x = rng.integers(-2, 3, (2, 1, 2, 6, 6)).astype(np.float64)
    for options in [{"kernel_size": 2}, {"kernel_size": 3, "stride": 1, "padding": 1}]:  # disjoint, overlapping
        layer = MaxPool2d(**options)
        out = _forward(layer, x)
        delta = rng.standard_normal(out.shape)
        delta[0, 0, 0, 0, 0], delta[1, 0, 1, 1, 1] = np.inf, np.nan
        (dx,) = _backward(layer, delta, x, out)
        for b in range(2):
            expected_dx = _torch_pool(MaxPool2d, x[b], delta[b], options)[1]
            np.testing.assert_allclose(dx[b], expected_dx, rtol=1e-12, equal_nan=True)


@pytest.mark.parametrize("layer", [MaxPool2d(3, stride=2, padding=1, ceil_mode=True), MaxPool2d(2),
                                   AvgPool2d(3, stride=2, padding=1, ceil_mode=True), AvgPool2d(2)], ids=repr)
def test_batch_axes_broadcast_between_x_and_delta(layer):
    """x without batch axes shared by a batch of deltas: one gradient per delta (overlapping windows or not)."""
    rng = np.random.default_rng(7)
    x = rng.integers(-2, 3, (1, 2, 6, 7)).astype(np.float64)
    out = _forward(layer, x)
    delta = rng.standard_normal((4,) + out.shape)
    (dx,) = _backward(layer, delta, x, out)
    assert dx.shape == (4,) + x.shape
    for b in range(4):
        np.testing.assert_allclose(dx[b], _backward(layer, delta[b], x, out)[0])


@pytest.mark.parametrize("kind", [MaxPool2d, AvgPool2d])
def test_want_input_false_computes_nothing(kind):
    layer = kind(2)
    x = np.ones((1, 1, 4, 4))
    out = _forward(layer, x)
    assert _backward(layer, np.ones_like(out), x, out, want_input=False) == (None,)


def _engine(layer, x, delta):
    """The symbolic engine's forward and input gradient on numbers, as float arrays."""
    to_object = np.vectorize(sp.Integer, otypes=[object])
    xs, ds = to_object(x.astype(np.int64)), to_object(delta.astype(np.int64))
    out = layer.forward(xs, {})
    dx = layer.backward(ds, xs, out, {}).input
    return np.asarray(out, dtype=np.float64), np.asarray(dx, dtype=np.float64)


@pytest.mark.parametrize("layer", [
    MaxPool2d(2, stride=1, padding=1),
    MaxPool2d((3, 2), stride=(2, 1), dilation=(1, 2), ceil_mode=True),
    AvgPool2d(3, stride=2, padding=1, ceil_mode=True),
    AvgPool2d((2, 3), stride=(1, 2), padding=(1, 1), count_include_pad=False),
    AvgPool2d(2, stride=1, divisor_override=3),
], ids=repr)
def test_twins_match_the_symbolic_engine_with_ties(layer):
    rng = np.random.default_rng(11)
    x = rng.integers(0, 2, (2, 2, 5, 5)).astype(np.float64)  # 0/1: ties in nearly every window
    out_shape = layer.output_shape(x.shape)
    delta = rng.integers(-3, 4, out_shape).astype(np.float64)
    expected_out, expected_dx = _engine(layer, x, delta)
    out = _forward(layer, x)
    (dx,) = _backward(layer, delta, x, out)
    np.testing.assert_allclose(out, expected_out, rtol=1e-14, atol=1e-14)  # the engine is exact (rationals)
    np.testing.assert_allclose(dx, expected_dx, rtol=1e-14, atol=1e-14)


@pytest.mark.parametrize("layer", [MaxPool2d((2, 3), stride=1, padding=(1, 0), dilation=2, ceil_mode=True),
                                   AvgPool2d(3, 1, 1, True, False, 4)], ids=repr)
def test_array_keywordsare_the_twins_keywords_as_python_literals(layer):
    options = layer.array_options((1, 2, 9, 9))
    for function in type(layer).array_twin.values():
        keywords = {name for name, p in inspect.signature(function).parameters.items()
                    if p.kind is p.KEYWORD_ONLY and name != "want_input"}
        assert keywords == set(options)

    def literal(value):
        return value is None or type(value) in (int, bool) or (type(value) is tuple and all(map(literal, value)))

    assert all(literal(value) for value in options.values()), options
    assert eval(repr(options), {"__builtins__": {}}) == options  # generated code can print them


def test_twins_run_standalone_and_their_helpers_have_unique_names_across_ops():
    functions = [f for kind in (MaxPool2d, AvgPool2d) for f in kind.array_twin.values()]
    found, namespace = copied_functions(functions), standalone(*functions)
    modules = [getattr(symgrad.ops, name) for name in dir(symgrad.ops) if inspect.ismodule(getattr(symgrad.ops, name))]
    for name, function in found.items():
        owners = [m.__name__ for m in modules if inspect.isfunction(getattr(m, name, None))
                  and getattr(m, name).__module__ == m.__name__]
        assert owners == [function.__module__], (name, owners)
    rng = np.random.default_rng(3)
    x = rng.integers(-2, 3, (2, 1, 2, 7, 6)).astype(np.float64)
    for layer in (MaxPool2d(3, 2, 1, dilation=(1, 2), ceil_mode=True), AvgPool2d(3, 2, 1, True, False)):
        twin = type(layer).array_twin
        keywords = layer.array_options(x.shape[-4:])
        out = namespace[twin["forward"].__name__](x, **keywords)
        np.testing.assert_array_equal(out, _forward(layer, x))
        delta = rng.standard_normal(out.shape)
        np.testing.assert_array_equal(namespace[twin["backward"].__name__](delta, x, out, **keywords)[0],
                                      _backward(layer, delta, x, out)[0])
