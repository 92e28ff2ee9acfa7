"""ordering.ordered_terms is SymPy's own term order (Expr.as_ordered_terms), on the sums symgrad prints."""

from __future__ import annotations

import random

import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from symgrad.ops.activation import Positive
from symgrad.ops.argmax import FirstArgmax
from symgrad.printing.ordering import _complex, _generator_key, ordered_terms

SYMBOLS = sp.symbols("x_11 x_1_10 k_12 delta_S_11 sigma3_2_1 S_11 y", real=True)
NUMBERS = st.one_of(st.integers(-10**6, 10**6).map(sp.Integer),  # small: exp(10**20) would be evaluated
                    st.fractions(min_value=-10**6, max_value=10**6, max_denominator=10**18).map(
                        lambda f: sp.Rational(f.numerator, f.denominator)),
                    st.sampled_from([sp.sqrt(2), sp.pi, sp.Rational(-1, 2), sp.S.Half]))
LEAVES = st.one_of(st.sampled_from(SYMBOLS), NUMBERS, st.sampled_from(SYMBOLS).map(sp.exp))  # exp of a number: evalf


def _node(children):
    pairs = st.lists(children, min_size=2, max_size=4)
    return st.one_of(pairs.map(lambda xs: sp.Add(*xs)), pairs.map(lambda xs: sp.Mul(*xs)),
                     st.tuples(children, st.integers(-3, 3)).map(lambda p: sp.Pow(*p)),
                     pairs.map(lambda xs: sp.Max(*xs, evaluate=False)), pairs.map(lambda xs: FirstArgmax(0, *xs)),
                     children.map(Positive))


EXPRESSIONS = st.recursive(LEAVES, _node, max_leaves=8)


@settings(max_examples=300, deadline=None)
@given(st.lists(EXPRESSIONS, min_size=2, max_size=8))
def test_the_order_is_sympys(terms):
    expr = sp.Add(*terms)
    if expr.is_Add:
        assert ordered_terms(expr) == expr.as_ordered_terms()


def test_a_long_sum_of_rational_coefficients_keeps_sympys_order():
    rng = random.Random(3)
    xs = sp.symbols("x_1:40", real=True)
    expr = sp.Add(*[sp.Rational(rng.randint(-10**17, 10**17), 10**17) * rng.choice(xs) * rng.choice(xs)
                    for _ in range(300)], sp.Rational(1, 3))
    assert ordered_terms(expr) == expr.as_ordered_terms()


def test_the_special_case_of_a_number_minus_a_product():
    x = SYMBOLS[0]
    for expr in (1 - 2 * x, sp.pi - 3 * x, 2 + 3 * x, -1 - x):
        assert ordered_terms(expr) == expr.as_ordered_terms()


@settings(max_examples=500, deadline=None)
@given(NUMBERS)
def test_a_rationals_complex_is_evalfs(number):
    assert _complex(number) == complex(number)


def test_a_rational_beyond_float_range_still_converts_as_sympy_does():
    huge = sp.Rational(10**400, 3)
    assert _complex(huge) == complex(huge)


def test_a_sum_among_the_generators_is_keyed_as_sympy_keys_it():
    k, x, y = sp.symbols("k_11 x_11 x_12")
    deltas = [sp.Add(sp.Rational(1, 128) * k * x, sp.Rational(-3, 64) * k * y, sp.Rational(-i, 32)) for i in (1, 2, 3)]
    for delta in deltas:
        assert _generator_key(delta) == delta.sort_key() == _generator_key(delta)  # computed, then looked up
    expr = sp.Add(*(v * d for v, d in zip((x, y, k), deltas)))
    assert ordered_terms(expr) == expr.as_ordered_terms()
