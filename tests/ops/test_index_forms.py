"""Every general index form a derivation prints is checked, not just printed.

Each op declares its index forms twice, side by side: as LaTeX (`index_form`) and as a
small function evaluating the same formula (`index_rules`). Here every function is
evaluated on random shapes and options and compared entry by entry with the engine
(the op's forward and its derivative rule). The engine itself is checked against
torch and sympy.diff elsewhere, so a wrong printed formula fails here.
"""

from __future__ import annotations

import random
import re

import numpy as np
import pytest
import sympy as sp

from op_tables import random_layer, random_loss
from symgrad.core.errors import OptionError
from symgrad.ops import LAYERS, LOSSES, AvgPool2d, Conv2d, MaxPool2d
from symgrad.ops.indexing import linear, tap, tap_tex

TRIALS = 40


def _numbers(rng, shape, lo=-3, hi=3):
    array = np.empty(shape, dtype=object)
    for idx in np.ndindex(*shape):
        array[idx] = sp.Integer(rng.randint(lo, hi))  # small integers: ties on purpose
    return array


def _equal(got, expected) -> bool:
    got, expected = np.asarray(got, dtype=object), np.asarray(expected, dtype=object)
    return got.shape == expected.shape and all(
        sp.simplify(a - b) == 0 for a, b in zip(got.reshape(-1), expected.reshape(-1)))


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_layer_index_forms_equal_the_engine(name):
    cls = LAYERS[name]
    assert set(cls.index_rules) == set(cls.index_form), f"{name}: every printed form needs its evaluable twin"
    rng = random.Random(name)
    checked = 0
    for _ in range(TRIALS * 3):
        try:
            layer, shape = random_layer(name, rng)
        except OptionError:
            continue  # options torch refuses: the validation suites cover those
        checked += 1
        x = _numbers(rng, shape)
        params = {key: _numbers(rng, p) for key, p in layer.parameter_shapes().items()}
        out = layer.forward(x, params)
        delta = _numbers(rng, out.shape)
        engine = layer.backward(delta, x, out, params)
        expected = {"forward": out, "input": engine.input, **engine.params}
        for key, rule in cls.index_rules.items():
            if key not in expected:
                continue  # e.g. "bias" of a layer built with bias=False
            assert _equal(rule(layer, x, params, delta), expected[key]), f"{layer!r} on {shape}: {key}"
        if checked == TRIALS:
            break
    assert checked >= TRIALS // 2


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_loss_index_forms_equal_the_engine(name):
    cls = LOSSES[name]
    assert set(cls.index_rules) == set(cls.index_form)
    rng = random.Random(name)
    for _ in range(TRIALS // 4):
        loss, shape, target = random_loss(name, rng)
        out = _numbers(rng, shape)
        assert _equal(cls.index_rules["forward"](loss, out, target), loss.forward(out, target)), loss
        assert _equal(cls.index_rules["input"](loss, out, target), loss.backward(out, target)), loss


def test_max_pool_routes_ties_to_the_first_maximum():
    """The indicator form 1[(h,w) = first argmax] on an all-equal window: only the first entry gets delta."""
    layer = MaxPool2d(2)
    x = np.full((1, 1, 2, 2), sp.Integer(7), dtype=object)
    delta = np.full((1, 1, 1, 1), sp.Integer(5), dtype=object)
    routed = MaxPool2d.index_rules["input"](layer, x, {}, delta)
    assert routed[0, 0].tolist() == [[5, 0], [0, 0]]


def test_conv_input_form_is_the_full_convolution_with_the_rotated_kernel():
    """Stride 1, no padding: dL/dX is delta padded by k-1 correlated with the kernel turned by 180 degrees."""
    layer = Conv2d(1, 1, 2, bias=False)
    x = _numbers(random.Random(3), (1, 1, 3, 3))
    kernel = np.array([[[[3, 2], [1, 5]]]], dtype=object)
    delta = np.array([[[[0, 0], [0, 40]]]], dtype=object)
    grad = Conv2d.index_rules["input"](layer, x, {"weight": kernel}, delta)
    # the article's value (and the contract's): correlating with rot180(K) lays 40 * K itself in the corner
    assert grad[0, 0].tolist() == [[0, 0, 0], [0, 120, 80], [0, 40, 200]]


@pytest.mark.parametrize("name", ["AvgPool2d", "Conv2d", "MaxPool2d"])
def test_instances_are_written_for_window_layers(name):
    """Conv and pools print their index form with the spec's numbers; the indices come out simplified."""
    layer = {"Conv2d": Conv2d(1, 1, 3, stride=2, padding=1), "MaxPool2d": MaxPool2d(3, stride=2, padding=1),
             "AvgPool2d": AvgPool2d(3, stride=2, padding=1)}[name]
    forward = layer.index_instance("forward", (1, 1, 4, 4))
    assert "2i + a - 3" in forward and "2j + b - 3" in forward, forward
    assert layer.index_instance("input", (1, 1, 4, 4))


def _evaluate_linear(text: str, **values) -> int:
    """Evaluate an index like "2i + a - 3" or "3 - a" (what `tap_tex` and `linear` print)."""
    total = 0
    for sign, coefficient, name in re.findall(r"([+-]?)\s*(\d*)([a-z]?)", text.replace(" ", "")):
        if not coefficient and not name:
            continue
        number = int(coefficient) if coefficient else 1
        total += (-1 if sign == "-" else 1) * number * (values[name] if name else 1)
    return total


def test_printed_instances_evaluate_to_the_taps():
    """The simplified index printed in an instance is the general tap s(i-1) + d(a-1) - p + 1, for every i and a."""
    rng = random.Random(7)
    for _ in range(200):
        s, d, p = rng.randint(1, 4), rng.randint(1, 3), rng.randint(0, 3)
        printed = tap_tex(s, d, p, "i", "a")
        for i in range(1, 6):
            for a in range(1, 5):
                assert _evaluate_linear(printed, i=i, a=a) == tap(s, d, p, i, a), (s, d, p, printed)
    assert linear([(-1, "a")], 3) == "3 - a" and linear([(1, "h"), (2, "a")], -2) == "h + 2a - 2"


@pytest.mark.parametrize("options", [{}, {"stride": 2, "padding": 1}, {"dilation": 2},
                                     {"stride": (1, 2), "padding": (0, 1)}])
def test_conv_picture_marks_exactly_the_entries_in_dL_dK11(options):
    """The grid figure's highlighted cells are the input entries the engine's dL/dK_11 contains."""
    layer = Conv2d(1, 1, 2, bias=False, **options)
    x = np.empty((1, 1, 5, 5), dtype=object)
    for idx in np.ndindex(*x.shape):
        x[idx] = sp.Symbol(f"x_{idx[2]}_{idx[3]}")
    weight = {"weight": _numbers(random.Random(1), (1, 1, 2, 2), 1, 3)}
    out = layer.forward(x, weight)
    delta = np.full(out.shape, sp.Integer(1), dtype=object)
    grad = layer.backward(delta, x, out, weight).params["weight"][0, 0, 0, 0]
    engine = {(int(s.name.split("_")[1]), int(s.name.split("_")[2])) for s in grad.free_symbols}
    assert set(layer.figure(x.shape, x)) == engine
