"""Fuzzing the Python API: hostile values drawn into every argument of a small derivation.

Each example builds the seed question (Conv2d -> MaxPool2d -> MSELoss -> SGD on a 3 x 3
input, or a variant of it) and puts one to three hostile values where the API takes a
value: an input, weight, bias or target entry, a whole input or target, a layer or loss
option, an SGD option, a derive argument (network, loss, optimizer, method, expand,
backward_passes, progress), or sg.symbolic's base and shape. The values are numbers at
and past torch's edges (int32, int64, float64, 1e-400, NaN, infinities, complex), SymPy
specials (nan, zoo, oo, I, symbols with assumptions, Dummy, undefined functions), strings
(code, reserved names, names SymPy reads as something else), containers, NumPy and torch
objects. The only allowed outcomes:

- the call returns (a derivation, a layer, an optimizer, a tensor of symbols), or
- it raises symgrad's OptionError with a one-line message that starts with its place and
  option: never AttributeError, TypeError, ValueError, MemoryError, OverflowError, ...

Each example is small and bounded: shapes stay at 3 x 3, integer options are drawn from
edge values that symgrad refuses at once or that leave the network tiny (never a mid-size
padding that would make a large output), so every call takes well under a second.
"""

from __future__ import annotations

import math
import time
from decimal import Decimal
from fractions import Fraction

import pytest
import numpy as np
import sympy as sp
from lazy_torch import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import symgrad as sg
from symgrad import OptionError, SymgradError

pytestmark = pytest.mark.torch  # every test here needs torch

X = [[1, 2, 3], [4, 5, 6], [7, 8, 9]]
INTS = [0, 1, 2, 3, -1, -2, 2**31 - 1, 2**31, -2**31 - 1, 2**63 - 1, 2**63, -2**63, -2**63 - 1, 2**64, 10**400,
        -10**400, 10**5000]
FLOATS = [0.0, -0.0, 0.5, 2.0, 1e-300, 5e-324, 1.7976931348623157e308, math.nan, math.inf, -math.inf]
SYMPY = [sp.nan, sp.zoo, sp.oo, -sp.oo, sp.I, sp.E, sp.pi, sp.sqrt(2), sp.Rational(1, 3), sp.Rational(1, 10**400),
         sp.Integer(10)**400, sp.Float("1e-400"), sp.Float("1e400"), sp.exp(1000), sp.Symbol("a"),
         sp.Symbol("a", real=True), sp.Symbol("a", positive=True), sp.Symbol("k_11"), sp.Symbol("E"), sp.Dummy("a"),
         sp.Dummy("t", real=True), sp.Symbol("a") * sp.I, sp.Symbol("a") + sp.oo, sp.Function("f")(sp.Symbol("a")),
         sp.true, sp.Tuple(1, 2), sp.Matrix([[1, 2], [3, 4]]), sp.Array([1, 2])]
STRINGS = ["a", "x_1", "k_11", "sigma_11", "delta", "y", "E", "I", "pi", "S", "lambda", "True", "1x", "", "x y",
           "__import__('os').system('touch pwned')", "a" * 80, "mean", "sum", "same", "valid", "卷积"]
OTHERS = [None, True, False, 1 + 2j, np.complex128(1), np.float32("nan"), np.longdouble("1e-4000"), np.int64(2),
          np.uint64(2**64 - 1), np.bool_(True), Fraction(1, 3), Fraction(1, 10**400), Decimal("0.1"), Decimal("NaN"),
          Decimal("1e400"), {}, {"a": 1}, [], [1], [1, 2, 3], [[1, 2], [3]], (2, 2), [[[[[1]]]]], object(),
          np.zeros((2, 2)), np.array([[1 + 1j]]), np.array([[sp.nan]], dtype=object), np.array([["a"]], dtype=object)]
TORCH_OBJECTS = lambda: [torch.ones(2, 2), torch.nn.Conv2d(1, 1, 2), torch.nn.MSELoss()]  # noqa: E731 (built when drawn)
MORE_OTHERS = [sg.MSELoss(), sg.ReLU(), sg.SGD(lr=0.1), sg.Sequential(sg.Sum()), sg.MSELoss, sg.Conv2d]
VALUES = st.deferred(lambda: st.sampled_from(INTS + FLOATS + SYMPY + STRINGS + OTHERS + TORCH_OBJECTS() + MORE_OTHERS))

SLOTS = ["input_entry", "weight_entry", "bias_entry", "target_entry", "input", "target", "conv_option",
         "pool_option", "avg_option", "loss_option", "flatten_option", "linear_option", "sgd_option", "derive_network",
         "derive_loss", "derive_optimizer", "derive_option", "symbolic_base", "symbolic_shape", "init_name"]
CONV_OPTIONS = ["in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation", "groups", "bias",
                "padding_mode"]
POOL_OPTIONS = ["kernel_size", "stride", "padding", "dilation", "ceil_mode", "return_indices"]
AVG_OPTIONS = ["kernel_size", "stride", "padding", "ceil_mode", "count_include_pad", "divisor_override"]
SGD_OPTIONS = ["lr", "momentum", "dampening", "weight_decay", "nesterov", "maximize"]
DERIVE_OPTIONS = ["method", "expand", "backward_passes", "progress"]


def call(changes: list[tuple[str, str, object]]):
    """The seed question with each (slot, option, value) put in; returns what the API returned."""
    x = [row[:] for row in X]
    weight, bias, target = [[3, 2], [1, 5]], [0], 60
    conv = {"in_channels": 1, "out_channels": 1, "kernel_size": 2}
    pool, pool_kind, loss, sgd, extra = {"kernel_size": 2}, "MaxPool2d", {}, {"lr": 0.01}, {}
    network = loss_fn = optimizer = None
    layers_after = []
    for slot, option, value in changes:
        if slot == "input_entry":
            x = [row[:] for row in X]
            x[1][1] = value
        elif slot == "weight_entry":
            weight = [[value, 2], [1, 5]]
        elif slot == "bias_entry":
            bias = [value]
        elif slot == "target_entry":
            target = [[value]]
        elif slot == "input":
            x = value
        elif slot == "target":
            target = value
        elif slot == "conv_option":
            conv[option] = value
        elif slot in ("pool_option", "avg_option"):
            kind = "MaxPool2d" if slot == "pool_option" else "AvgPool2d"
            pool = pool if kind == pool_kind else {"kernel_size": 2}  # each pool its own options
            pool_kind = kind
            pool[option] = value
        elif slot == "loss_option":
            loss["reduction"] = value
        elif slot == "flatten_option":
            layers_after = [sg.Flatten(**{option: value})]
        elif slot == "linear_option":
            layers_after = [sg.Flatten(), sg.Linear(**{"in_features": 1, "out_features": 1, option: value})]
        elif slot == "sgd_option":
            sgd[option] = value
        elif slot == "derive_network":
            network = value
        elif slot == "derive_loss":
            loss_fn = value
        elif slot == "derive_optimizer":
            optimizer = value
        elif slot == "derive_option":
            extra[option] = value
        elif slot == "symbolic_base":
            return sg.symbolic(value, (1, 1, 3, 3))
        elif slot == "symbolic_shape":
            return sg.symbolic("x", value)
        elif slot == "init_name":
            return sg.Conv2d(1, 1, 2).init(**{value if isinstance(value, str) else "w": weight})  # names are str
    c = sg.Conv2d(**conv).init(weight=weight) if conv.get("bias") is not True else \
        sg.Conv2d(**conv).init(weight=weight, bias=bias)
    if any(slot == "bias_entry" for slot, _, _ in changes):
        c.init(bias=bias)
    p = getattr(sg, pool_kind)(**pool)
    if network is None:
        network = sg.Sequential(c, p, *layers_after)
    if loss_fn is None:
        loss_fn = sg.MSELoss(**loss)
    if optimizer is None:
        optimizer = sg.SGD(**sgd)
    return sg.derive(network, x, loss_fn, target, optimizer, **extra)


@st.composite
def changes(draw):
    found = []
    for _ in range(draw(st.integers(1, 3))):
        slot = draw(st.sampled_from(SLOTS))
        option = {"conv_option": st.sampled_from(CONV_OPTIONS), "pool_option": st.sampled_from(POOL_OPTIONS),
                  "avg_option": st.sampled_from(AVG_OPTIONS), "sgd_option": st.sampled_from(SGD_OPTIONS),
                  "flatten_option": st.sampled_from(["start_dim", "end_dim"]),
                  "linear_option": st.sampled_from(["in_features", "out_features", "bias"]),
                  "derive_option": st.sampled_from(DERIVE_OPTIONS)}.get(slot, st.just(""))
        found.append((slot, draw(option), draw(VALUES)))
    return found


@settings(max_examples=settings.default.max_examples)  # ci: 400, about 40 s
@given(changes())
def test_hostile_api_calls_return_or_raise_one_line_option_error(calls):
    start = time.process_time()  # this process's CPU time: a bound against a hang, not a speed target
    try:
        call(calls)
    except SymgradError as error:
        assert isinstance(error, OptionError), repr(error)
        text = str(error)
        assert "\n" not in text and len(text) < 600, text
        assert text.startswith(f"{error.where}: {error.option}: "), text
    assert time.process_time() - start < 10, calls
