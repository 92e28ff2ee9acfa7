"""JSON size: each gradient written once, a float64 made exact written as that float64 (unless --exact).

- floats.coefficient: a seeded weight (the exact rational of a float64's shortest decimal) prints
  as that float64's repr, a product with one (w/4) as the nearest float64; integers, 1/4, 0.01,
  1/3, w/9 and what float64 would round to 0 stay exact;
- the fast path (plain.py) and the printer (floats.FloatCoefficients) write the same text;
- a small seeded symbolic network's JSON reads back (plain sympify) to the engine's expressions
  up to float64 rounding of those coefficients, and exactly under --exact;
- named.gradients leaves out a gradient that `gradients` already holds;
- LeNet's whole JSON: every gradient entry present, no 17-digit fractions, under a size bound.
"""

from __future__ import annotations

import json
import random
import re
from fractions import Fraction

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from symgrad import spec as specs
from symgrad.core import decimals
from symgrad.printing import render
from symgrad.printing.floats import coefficient, rational
from symgrad.printing.memo import readable_printer
from symgrad.printing.plain import plain_readable_printer

SEEDED = """
[input]
shape = [1, 1, 4, 4]
symbol = "x"
[[layers]]
type = "Conv2d"
in_channels = 1
out_channels = 2
kernel_size = 2
[[layers]]
type = "Sigmoid"
[[layers]]
type = "AvgPool2d"
kernel_size = 2
stride = 1
[[layers]]
type = "Flatten"
[[layers]]
type = "Linear"
in_features = 8
out_features = 2
[loss]
type = "MSELoss"
target = [[1, -2]]
[weights]
seed = 0
"""

BIG_FRACTION = re.compile(r"\d{10,}/\d{10,}")  # p/q with 10 or more digits each: an exact 17-digit weight


def exact_of(value: float) -> sp.Rational:
    """A float64 as symgrad holds it (core/values.py): the exact rational of its shortest decimal."""
    return sp.Rational(Fraction(repr(value)))


# --------------------------------------------------------------------------- the rule

@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(st.floats(allow_nan=False, allow_infinity=False, min_value=-1e6, max_value=1e6).filter(
    lambda v: abs(v) > 1e-6 and v != int(v)))
def test_a_float64_made_exact_prints_as_that_float64_and_its_products_as_the_nearest(value):
    w = exact_of(value)
    shown = rational(w)
    if w.q <= 2**30:  # a short decimal (0.5, 0.123) stays an exact fraction
        assert shown is None
        return
    assert shown == repr(value) and float(shown) == value
    for factor in (sp.Rational(1, 4), sp.Rational(2, 10), exact_of(0.1234567890123)):
        product = w * factor
        text = rational(product)
        assert text is not None and float(text) == float(Fraction(product.p, product.q))  # nearest float64


def test_what_is_not_a_float64_made_exact_stays_exact():
    w = exact_of(-0.18656576987781426)
    for exact in (sp.Integer(7), sp.Rational(1, 4), sp.Rational(1, 100), sp.Rational(123456789, 10**9),
                  sp.Rational(1, 3), w / 9, sp.Rational(1, 3**40)):
        assert rational(exact) is None, exact
    assert coefficient(1, 2**1100) is None  # float64 rounds it to 0.0
    assert coefficient(1, 2**1060) is None  # subnormal: more than float64 rounding lost
    assert coefficient(2**1200, 5**40) is None  # beyond float64's range
    assert coefficient(3, 2**40) == repr(3 / 2**40)  # a power of two (sp.Rational(float)) is one too


def test_the_fast_path_writes_what_the_printer_writes():
    a, b, c = sp.symbols("a b c")
    w, v = exact_of(0.054784674928581745), exact_of(-0.19338894578858837)
    show_fast, show_printer = plain_readable_printer(floats=True), readable_printer("none", floats=True)
    at = {a: sp.Rational(3, 10), b: sp.Rational(-7, 10), c: sp.Rational(11, 10)}
    for expr in [w * a + v * b * c + v, w * a * b - v * c, w + a / 4, -w * a, w * a / 4 + sp.Rational(1, 3) * b,
                 w / (1 + sp.exp(-v * a)), sp.Max(w * a, b, evaluate=False) + v, sp.Mul(-w, a + b, evaluate=False)]:
        assert show_fast(expr) == show_printer(expr), expr
        read, exact = sp.N(sp.sympify(show_printer(expr)).xreplace(at), 30), sp.N(expr.xreplace(at), 30)
        assert abs(read - exact) <= 1e-15 * max(1, abs(exact)), (show_printer(expr), read, exact)
    assert show_printer(w * a) == "0.054784674928581745*a"
    assert show_printer(sp.Mul(-w, a + b, evaluate=False)) == "-0.054784674928581745*(a + b)"
    assert show_printer(w / (1 + sp.exp(-a))).startswith("0.054784674928581745/(")
    assert readable_printer("none")(w * a) == "10956934985716349*a/200000000000000000"  # floats off: exact


# --------------------------------------------------------------------------- a small seeded network

def strings(tree):
    if isinstance(tree, dict):
        for value in tree.values():
            yield from strings(value)
    elif isinstance(tree, list):
        for value in tree:
            yield from strings(value)
    elif isinstance(tree, str):
        yield tree


def engine_entries(d) -> list:
    """The derivation's entries in the JSON's order of output, loss, gradients (the strings' sources)."""
    t = d.tensors
    return list(np.asarray(t.output, dtype=object).reshape(-1)) + [d.loss] + [
        e for g in t.gradients().values() for e in np.asarray(g, dtype=object).reshape(-1)]


def json_entries(document) -> list:
    return (list(np.asarray(document["output"], dtype=object).reshape(-1)) + [document["loss"]]
            + [e for g in document["gradients"].values() for e in np.asarray(g, dtype=object).reshape(-1)])


@pytest.mark.parametrize("expand", ["true", "false"])
def test_seeded_network_reads_back_up_to_float64_rounding_and_exactly_under_exact(expand):
    d = specs.parse(f"expand = {expand}\n" + SEEDED).derive("rules")
    default = json.loads(render(d, "json"))
    with decimals.exact_fractions():
        exact = json.loads(render(d, "json"))
    assert not any(BIG_FRACTION.search(s) for s in strings(default))
    assert any(BIG_FRACTION.search(s) for s in strings(exact))
    assert len(json.dumps(default)) < 0.8 * len(json.dumps(exact))
    rng = random.Random(1)
    symbols = sorted({s for e in engine_entries(d) if isinstance(e, sp.Basic) for s in e.free_symbols}, key=str)
    env = {s: sp.Rational(rng.randint(-9, 9), 4) for s in symbols}  # the engine's symbols (real=True)
    read_env = {sp.Symbol(str(s)): v for s, v in env.items()}  # sympify's plain symbols of the same names
    for ours, floats, fractions in zip(engine_entries(d), json_entries(default), json_entries(exact)):
        if not isinstance(fractions, str):
            assert floats == fractions
            continue
        value = complex(sp.N(ours.xreplace(env), 30))
        assert abs(complex(sp.N(sp.sympify(fractions).xreplace(read_env), 30)) - value) <= 1e-25 * max(1.0, abs(value))
        read = complex(sp.N(sp.sympify(floats).xreplace(read_env), 30))
        assert abs(read - value) <= 1e-13 * max(1.0, abs(value)), (floats[:200], read, value)


def test_named_gradients_leave_out_what_gradients_already_hold():
    kept = json.loads(render(specs.parse("expand = false\n" + SEEDED).derive("rules"), "json"))
    assert kept["expanded"] is False and kept["named"]["gradients"] == {}
    assert set(kept["gradients"]) == {"0.weight", "0.bias", "4.weight", "4.bias", "input"}
    expanded = json.loads(render(specs.parse("expand = true\n" + SEEDED).derive("rules"), "json"))
    assert set(expanded["named"]["gradients"]) == set(expanded["gradients"])  # in names, unlike the fields
    for name, grad in expanded["named"]["gradients"].items():
        assert grad != expanded["gradients"][name]


# --------------------------------------------------------------------------- LeNet

LENET_BOUND = 45_000_000  # bytes: 42.7 MB measured; 72.6 MB before (17-digit fractions, gradients twice)


@pytest.fixture(scope="module")
def lenet():
    return specs.load("lenet").derive("rules")


def test_lenet_json_has_every_gradient_entry_once_as_floats_within_the_bound(lenet):
    text = render(lenet, "json")
    assert len(text.encode()) < LENET_BOUND, len(text.encode())
    document = json.loads(text)
    shapes = {name: p.value.shape for name, p in lenet.tensors.parameters.items()}
    assert sum(int(np.prod(s)) for s in shapes.values()) == 61_706
    for name, shape in shapes.items():
        grad = np.asarray(document["gradients"][name], dtype=object)
        assert grad.shape == shape, name
        assert all(isinstance(e, str) and e for e in grad.reshape(-1)), name
    assert np.asarray(document["gradients"]["input"], dtype=object).shape == (1, 1, 28, 28)
    assert document["named"]["gradients"] == {}  # kept in names: `gradients` holds them, written once
    assert not BIG_FRACTION.search(text)
    assert len(document["named"]["definitions"]) == len(lenet.named.definitions)
