"""Conv2d's NumPy array twin (ops/conv.py, generated code at scale) against torch autograd and the engine.

The twins are called as generated code holds them: rebuilt from their source text (with the
module-level helpers they call) in a namespace holding only `np`, with the options from
`Conv2d.array_options`. Arrays carry batch axes in front; every batch entry is its own
problem, checked against its own torch autograd call in float64 with a random delta.
"""

import warnings

import numpy as np
import pytest
import sympy as sp
from lazy_torch import torch

from symgrad.ops import Conv2d
from twins import copied_sources, rebuilt
from symgrad.ops.conv import (_conv2d_backward, _conv2d_chunks, _conv2d_forward, _conv2d_input_planes, _conv2d_input_rows)

TOLERANCE = {"rtol": 1e-12, "atol": 1e-12}


# ---------------------------------------------------------------- the twins as generated code copies them

FORWARD, BACKWARD = rebuilt(_conv2d_forward), rebuilt(_conv2d_backward)


def test_the_twin_is_declared_and_copies_with_its_window_helpers_only():
    assert Conv2d.array_twin == {"forward": _conv2d_forward, "backward": _conv2d_backward}
    assert {"window_view", "window_add", "_pad_images", "_conv2d_input_rows",
            "_conv2d_input_planes"} <= set(copied_sources(_conv2d_backward))


# ---------------------------------------------------------------- the reference: torch, one problem at a time

def _torch(layer, x, weight, bias, delta):
    """(out, dx, dweight[, dbias]) of one problem by torch autograd in float64."""
    F = torch.nn.functional
    leaves = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in (x, weight, bias) if a is not None]
    with warnings.catch_warnings():  # torch's note that 'same' with an even kernel pads a copy
        warnings.simplefilter("ignore", UserWarning)
        out = F.conv2d(leaves[0], leaves[1], leaves[2] if bias is not None else None, stride=layer.stride,
                       padding=layer.padding_option(), dilation=layer.dilation, groups=layer.groups)
    grads = torch.autograd.grad(out, leaves, grad_outputs=torch.tensor(delta))
    return [out.detach().numpy()] + [g.numpy() for g in grads]


def _check_against_torch(layer, in_shape, x_batch, weight_batch, bias_batch, seed=0):
    """Forward and backward of the twin on batched arrays, every problem against its own torch call."""
    rng = np.random.default_rng(seed)
    shapes = layer.parameter_shapes()
    x = rng.standard_normal(tuple(x_batch) + tuple(in_shape))
    weight = rng.standard_normal(tuple(weight_batch) + shapes["weight"])
    bias = rng.standard_normal(tuple(bias_batch) + shapes["bias"]) if layer.bias else None
    batch = np.broadcast_shapes(x_batch, weight_batch, bias_batch if layer.bias else ())
    options = layer.array_options(tuple(in_shape))

    out = FORWARD(x, weight, bias, **options)
    assert out.shape == tuple(batch) + layer.output_shape(tuple(in_shape))
    delta = rng.standard_normal(out.shape)
    grads = BACKWARD(delta, x, out, weight, bias, **options)
    assert len(grads) == (3 if layer.bias else 2)
    for index in np.ndindex(*batch):
        problem = [None if a is None else np.broadcast_to(a, tuple(batch) + a.shape[a.ndim - rank:])[index]
                   for a, rank in ((x, 4), (weight, 4), (bias, 1))]
        expected = _torch(layer, *problem, delta[index])
        np.testing.assert_allclose(out[index], expected[0], **TOLERANCE)
        for got, want in zip(grads, expected[1:]):
            assert got[index].shape == want.shape
            np.testing.assert_allclose(got[index], want, **TOLERANCE)
    return x, weight, bias, out, delta, grads


# ---------------------------------------------------------------- options x batch layouts

LAYERS = {
    "plain": (lambda: Conv2d(1, 6, 5), (1, 1, 9, 8)),
    "stride, padding, N=2": (lambda: Conv2d(2, 3, 3, stride=(2, 3), padding=(1, 2)), (2, 2, 9, 10)),
    "same, even kernel, dilation": (lambda: Conv2d(3, 4, (2, 4), padding="same", dilation=(2, 1)), (2, 3, 7, 8)),
    "groups 2, no bias": (lambda: Conv2d(4, 6, 3, groups=2, bias=False), (3, 4, 6, 7)),
    "groups 3, stride, dilation, padding": (lambda: Conv2d(6, 9, (3, 2), stride=2, padding=1, dilation=2, groups=3),
                                            (2, 6, 9, 8)),
    "depthwise 1x1": (lambda: Conv2d(3, 6, 1, groups=3), (1, 3, 4, 5)),
    "kernel covers the input": (lambda: Conv2d(2, 2, 4, bias=False), (2, 2, 4, 4)),
    "stride past the kernel, rows left over": (lambda: Conv2d(1, 2, 2, stride=3, padding=(0, 1)), (1, 1, 8, 7)),
    # many output channels per input channel: dx by planes (col2im per kernel tap), not by rows
    "wide, groups 2, stride, dilation": (lambda: Conv2d(2, 16, (3, 2), stride=(2, 1), padding=1, dilation=(1, 2),
                                                        groups=2), (2, 2, 7, 6)),
    "wide, same, even kernel": (lambda: Conv2d(1, 8, 2, padding="same", dilation=2, bias=False), (1, 1, 5, 6)),
    # images large enough for chunks of 4 (of the 3 per problem): chunks end inside problems
    "several chunks, N=3": (lambda: Conv2d(2, 3, 5, padding=1), (3, 2, 38, 38)),
}

BATCHES = {  # (x, weight, bias) batch axes
    "none": ((), (), ()),
    "x only": ((3,), (), ()),
    "weight only": ((), (3,), ()),
    "x and weight": ((3,), (3,), ()),
    "two axes": ((2, 3), (3,), ()),
    "bias only": ((), (), (2,)),
    "all three, broadcast": ((2, 1), (1, 3), (3,)),
}


@pytest.mark.torch
@pytest.mark.parametrize("batches", BATCHES.values(), ids=BATCHES.keys())
@pytest.mark.parametrize("layer", LAYERS.values(), ids=LAYERS.keys())
def test_twin_matches_torch_per_problem(layer, batches):
    make, in_shape = layer
    _check_against_torch(make(), in_shape, *batches)


@pytest.mark.parametrize("layer", LAYERS.values(), ids=LAYERS.keys())
def test_both_input_gradient_rules_agree(layer):
    """The backward picks one of two ways to dx by shape; each is checked on every layer here."""
    make, in_shape = layer
    layer = make()
    rng = np.random.default_rng(3)
    n, channels, height, width = in_shape
    top, bottom, left, right = layer.padding
    padded_shape = (3 * n, channels, height + top + bottom, width + left + right)
    weights = rng.standard_normal((3,) + layer.parameter_shapes()["weight"])
    _, out_channels, oh, ow = layer.output_shape(in_shape)
    deltas = rng.standard_normal((3 * n, layer.groups, out_channels // layer.groups, oh, ow))
    arguments = (deltas, weights, padded_shape, n, _conv2d_chunks(3 * n, 1 << 17), layer.stride, layer.dilation)
    np.testing.assert_allclose(rebuilt(_conv2d_input_rows)(*arguments), rebuilt(_conv2d_input_planes)(*arguments),
                               **TOLERANCE)


def test_chunks_end_inside_problems():
    assert _conv2d_chunks(6, 2 * 5 * 5 * 36 * 36) == [(0, 4), (4, 6)]


def test_an_empty_batch_gives_empty_results():
    layer = Conv2d(2, 4, 3, padding=1)
    options = layer.array_options((1, 2, 5, 5))
    x, weight, bias = np.zeros((0, 1, 2, 5, 5)), np.ones((4, 2, 3, 3)), np.ones(4)
    out = FORWARD(x, weight, bias, **options)
    assert out.shape == (0, 1, 4, 5, 5)
    shapes = [g.shape for g in BACKWARD(out, x, out, weight, bias, **options)]
    assert shapes == [(0, 1, 2, 5, 5), (0, 4, 2, 3, 3), (0, 4)]


@pytest.mark.torch
def test_without_the_input_gradient_the_same_parameter_gradients():
    layer = Conv2d(4, 6, 3, stride=2, padding=1, groups=2)
    x, weight, bias, out, delta, grads = _check_against_torch(layer, (2, 4, 7, 6), (3,), (), ())
    options = layer.array_options((2, 4, 7, 6))
    dx, dweight, dbias = BACKWARD(delta, x, out, weight, bias, want_input=False, **options)
    assert dx is None
    np.testing.assert_array_equal(dweight, grads[1])
    np.testing.assert_array_equal(dbias, grads[2])


def test_array_options_are_plain_literals_with_the_exact_padding():
    options = Conv2d(2, 4, (2, 4), padding="same", dilation=(3, 1), groups=2).array_options((1, 2, 5, 5))
    assert options == {"stride": (1, 1), "padding": (1, 2, 1, 2), "dilation": (3, 1), "groups": 2}
    assert all(type(v) is int for value in options.values() for v in (value if isinstance(value, tuple) else [value]))


# ---------------------------------------------------------------- the same layout as the symbolic engine

def test_twin_agrees_with_the_engine_on_numbers():
    """The engine's Conv2d.forward/backward on SymPy integers give the twin's numbers, entry by entry."""
    layer = Conv2d(4, 2, (2, 3), stride=(1, 2), padding=(1, 0), dilation=(2, 1), groups=2)
    rng = np.random.default_rng(7)
    values = {"x": rng.integers(-3, 4, (2, 4, 5, 6)), "weight": rng.integers(-3, 4, (2, 2, 2, 3)),
              "bias": rng.integers(-3, 4, (2,))}
    symbolic = {name: np.vectorize(sp.Integer, otypes=[object])(v) for name, v in values.items()}
    params = {"weight": symbolic["weight"], "bias": symbolic["bias"]}
    out = layer.forward(symbolic["x"], params)
    delta_values = rng.integers(-3, 4, out.shape)
    engine = layer.backward(np.vectorize(sp.Integer, otypes=[object])(delta_values), symbolic["x"], out, params)

    options = layer.array_options((2, 4, 5, 6))
    numbers = [values[name].astype(float) for name in ("x", "weight", "bias")]
    twin_out = FORWARD(*numbers, **options)
    np.testing.assert_array_equal(twin_out, out.astype(float))
    dx, dweight, dbias = BACKWARD(delta_values.astype(float), numbers[0], twin_out, *numbers[1:], **options)
    np.testing.assert_array_equal(dx, engine.input.astype(float))
    np.testing.assert_array_equal(dweight, engine.params["weight"].astype(float))
    np.testing.assert_array_equal(dbias, engine.params["bias"].astype(float))
