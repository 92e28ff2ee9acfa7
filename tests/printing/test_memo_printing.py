"""The fast printers print what SymPy prints: memoised (memo.py), fast paths (plain.py), JSON numbers.

Random expressions (hypothesis) with shared subexpressions, Rational coefficients, Floats of
several precisions, and symgrad's indicators go through one memoised printer each, in one
document order, and must equal the unmemoised printers entry by entry.
"""

from __future__ import annotations

import json

import numpy as np
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from symgrad import spec as specs
from symgrad.ops.activation import Positive
from symgrad.ops.argmax import FirstArgmax
from symgrad.printing import render
from symgrad.printing.memo import readable_printer, text_printer
from symgrad.printing.plain import _TEXT, plain, plain_printer, plain_readable, plain_readable_printer
from symgrad.printing.readable import readable, readable_unordered

SYMBOLS = [sp.Symbol("a"), sp.Symbol("b", real=True), sp.Symbol("x_11"), sp.Symbol("delta_S_12"),
           sp.Symbol("b")]  # b twice, with and without assumptions: equal names, different symbols
NUMBERS = st.one_of(
    st.integers(-30, 30).map(sp.Integer),
    st.fractions(max_denominator=10**17).map(lambda f: sp.Rational(f.numerator, f.denominator)),
    st.sampled_from([sp.Float("0.5", 15), sp.Float("0.5", 30), sp.Float("2.0"), sp.Float("-1.25e-7")]),
)
LEAVES = st.one_of(st.sampled_from(SYMBOLS), NUMBERS)


def _node(children):
    pairs = st.lists(children, min_size=2, max_size=4)
    return st.one_of(
        pairs.map(lambda xs: sp.Add(*xs)),
        pairs.map(lambda xs: sp.Mul(*xs)),
        st.tuples(children, st.integers(-3, 3)).map(lambda p: sp.Pow(p[0], p[1])),
        st.tuples(children, st.sampled_from([sp.Rational(1, 2), sp.Rational(-1, 2)])).map(lambda p: sp.Pow(*p)),
        children.map(sp.exp),
        children.map(lambda e: sp.log(e, evaluate=False)),
        pairs.map(lambda xs: sp.Max(*xs, evaluate=False)),
        pairs.map(lambda xs: sp.Min(*xs, evaluate=False)),
        pairs.map(lambda xs: FirstArgmax(len(xs) - 1, *xs)),
        children.map(Positive),
    )


EXPRESSIONS = st.recursive(LEAVES, _node, max_leaves=12)


@settings(max_examples=80, deadline=None)
@given(st.lists(EXPRESSIONS, min_size=1, max_size=8))
def test_memoised_printers_print_what_sympy_prints(exprs):
    exprs = exprs + [sp.Add(*exprs), sp.Mul(*exprs[:2])]  # shared subexpressions, printed again inside
    text, read = text_printer(), readable_printer()
    unordered_text, unordered_read = text_printer("none"), readable_printer("none")
    fast_text, fast_read = plain_printer(), plain_readable_printer()
    for e in exprs + exprs:  # twice: the second round comes from the cache
        assert text(e) == str(e)
        assert read(e) == readable(e)
        assert unordered_text(e) == _TEXT(e)
        assert unordered_read(e) == readable_unordered(e)
        assert fast_text(e) == plain(e)
        assert fast_read(e) == plain_readable(e)


LATEX_SYMBOLS = SYMBOLS + [sp.Symbol("sigma3_11"), sp.Symbol("delta_S_"), sp.Symbol("x_1_10"), sp.Symbol("gamma")]
LATEX_EXPRESSIONS = st.recursive(st.one_of(st.sampled_from(LATEX_SYMBOLS), NUMBERS), _node, max_leaves=12)


@settings(max_examples=80, deadline=None)
@given(st.lists(LATEX_EXPRESSIONS, min_size=1, max_size=8), st.booleans())
def test_one_latex_printer_per_document_prints_what_a_printer_per_call_prints(exprs, exact):
    """texnames.tex inside one_document (a memoised printer, engine names spelled on first sight) equals
    tex outside it, entry by entry, with decimals or exact fractions switched on mid-document."""
    from symgrad.core.decimals import exact_fractions
    from symgrad.printing.texnames import one_document, tex

    exprs = exprs + [sp.Add(*exprs), sp.Mul(*exprs[:2])]
    expected = [tex(e) for e in exprs]
    with exact_fractions():
        expected_exact = [tex(e) for e in exprs]
    with one_document():
        for _ in range(2):  # the second round comes from the cache
            assert [tex(e) for e in exprs] == expected
            with exact_fractions(exact):
                assert [tex(e) for e in exprs] == (expected_exact if exact else expected)


@settings(max_examples=100, deadline=None)
@given(NUMBERS.filter(lambda n: n.is_Rational and n != 0), st.lists(st.sampled_from(SYMBOLS[:4]), min_size=1,
                                                                    max_size=3, unique=True))
def test_plain_fast_path_writes_rational_coefficients_as_sympy_does(coefficient, symbols):
    """17-digit seeded weights times names (LeNet's definitions): the fast path, not the fallback."""
    term = sp.Mul(coefficient, *symbols)
    other = sp.Mul(-coefficient, symbols[0])
    for expr in [term, term + other + coefficient, -term + symbols[-1]]:
        assert plain(expr) == _TEXT(expr)
        assert plain_readable(expr) == readable_unordered(expr)


def test_float_at_the_top_keeps_its_digits_as_str_does():
    """StrPrinter shows a top-level Float in full precision and an inner one stripped: not one cache entry."""
    half = sp.Float("0.5", 30)
    text = text_printer()
    assert [text(half), text(half + sp.Symbol("a")), text(half)] == [str(half), str(half + sp.Symbol("a")), str(half)]


def test_json_numbers_are_the_engines_values_as_floats():
    """Every numeric entry of the JSON is float(the engine's exact value), correctly rounded: seeded 17-digit
    weights included (exact Rationals here: conv, ReLU, max pool, MSE)."""
    d = specs.parse(NUMERIC).derive("rules")
    document = json.loads(render(d, "json"))
    for name, exact in d.tensors.gradients().items():
        printed = np.asarray(document["gradients"][name], dtype=float).reshape(-1)
        assert all(isinstance(v, float) for v in np.asarray(document["gradients"][name]).reshape(-1).tolist())
        assert printed.tolist() == [float(v) for v in np.asarray(exact, dtype=object).reshape(-1)]
    for name, parameter in d.tensors.parameters.items():
        printed = np.asarray(document["parameters"][name], dtype=float).reshape(-1)
        assert printed.tolist() == [float(v) for v in np.asarray(parameter.value, dtype=object).reshape(-1)]
    assert document["loss"] == float(d.loss)


NUMERIC = """
[input]
values = [[[[1, 2, 0, -1, 3], [0, 1, 2, 1, 0], [2, -2, 1, 0, 1], [1, 0, 0, 3, 2], [0, 1, -1, 2, 1]]]]
[[layers]]
type = "Conv2d"
in_channels = 1
out_channels = 2
kernel_size = 2
[[layers]]
type = "ReLU"
[[layers]]
type = "MaxPool2d"
kernel_size = 2
[loss]
type = "MSELoss"
target = 0.5
[weights]
seed = 3
"""


def test_exact_json_writes_what_a_float_cannot_hold_as_its_fraction():
    """derive --exact: a number float64 holds exactly stays a JSON number, any other reads back exactly."""
    from symgrad.core import decimals

    d = specs.parse(NUMERIC).derive("rules")
    with decimals.exact_fractions():
        document = json.loads(render(d, "json"))
    fractions = 0
    pairs = [("gradients", k, v) for k, v in d.tensors.gradients().items()] + \
        [("parameters", k, p.value) for k, p in d.tensors.parameters.items()]
    for key, name, exact in pairs:
        printed = np.asarray(document[key][name], dtype=object).reshape(-1)
        for shown, value in zip(printed, np.asarray(exact, dtype=object).reshape(-1)):
            if isinstance(shown, str):
                fractions += 1
                assert sp.sympify(shown) == value and float(value) != value
            else:
                assert sp.Rational(shown) == value
    assert fractions  # the seeded weights are 17-digit decimals
    assert json.loads(render(d, "json"))["parameters"] == {
        k: np.vectorize(float, otypes=[float])(np.asarray(p.value, dtype=object)).tolist()
        for k, p in d.tensors.parameters.items()}
