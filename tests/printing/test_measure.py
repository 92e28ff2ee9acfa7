"""measure.py's bound: an entry's symbol occurrences never exceed the width of its printed LaTeX.

The pages skip building LaTeX that is certainly wider than the line (page.py: tensor, fits,
in_forward_names); that is only sound if the bound is a lower bound, for every expression.
"""

from __future__ import annotations

import numpy as np
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from symgrad.ops.activation import Positive
from symgrad.ops.argmax import FirstArgmax
from symgrad.printing.measure import Occurrences
from symgrad.printing.texnames import matrix, tex, width

SYMBOLS = sp.symbols("x_11 x_1_10 k_12 delta_S_11 sigma3_2_1 S_ gamma")
LEAVES = st.one_of(st.sampled_from(SYMBOLS), st.integers(-9, 9).map(sp.Integer),
                   st.fractions(max_denominator=1000).map(lambda f: sp.Rational(f.numerator, f.denominator)))


def _node(children):
    pairs = st.lists(children, min_size=2, max_size=4)
    return st.one_of(
        pairs.map(lambda xs: sp.Add(*xs)),
        pairs.map(lambda xs: sp.Mul(*xs)),
        st.tuples(children, st.integers(-3, 3)).map(lambda p: sp.Pow(*p)),
        children.map(sp.exp),
        children.map(sp.sqrt),
        pairs.map(lambda xs: sp.Max(*xs, evaluate=False)),
        pairs.map(lambda xs: FirstArgmax(0, *xs)),
        children.map(Positive),
    )


EXPRESSIONS = st.recursive(LEAVES, _node, max_leaves=10)


@settings(max_examples=40, deadline=None)
@given(st.lists(EXPRESSIONS, min_size=1, max_size=4))
def test_occurrences_never_exceed_the_printed_width(exprs):
    count = Occurrences()
    for e in exprs:
        assert count(e) <= width(tex(e))
    array = np.array(exprs, dtype=object)
    assert count.widest(array) <= width(matrix(array))


@settings(max_examples=30, deadline=None)
@given(st.sampled_from([(2, 2), (1, 1, 2, 3), (2, 2, 2), (3, 1), (1, 4)]).flatmap(
    lambda shape: st.tuples(st.just(shape), st.lists(EXPRESSIONS, min_size=int(np.prod(shape)),
                                                      max_size=int(np.prod(shape))))))
def test_the_row_bound_never_exceeds_the_printed_matrix(case):
    shape, exprs = case
    array = np.empty(len(exprs), dtype=object)
    array[:] = exprs
    array = array.reshape(shape)
    assert Occurrences().widest(array) <= width(matrix(array))


def test_a_row_counts_all_its_entries():
    """A 2x2 of 30-symbol entries is over a line wide; its widest entry alone is not (fits built it to see)."""
    long = sp.Add(*sp.symbols("x_1:31"))
    array = np.array([[long, long + 1], [long, long]], dtype=object).reshape(1, 1, 2, 2)
    assert Occurrences().widest(array) == 2 * 30 + 2
    assert width(matrix(array)) >= 2 * 30 + 2


def test_a_piecewise_has_no_bound():
    a, b = SYMBOLS[:2]
    assert Occurrences()(sp.Piecewise((a, a > b), (b, True)) + a) == float("-inf")


def test_occurrences_count_repetitions_once_per_distinct_subexpression():
    x = SYMBOLS[0]
    shared = sp.Max(*SYMBOLS[:4], evaluate=False)
    expr = sp.Add(*[k * x * shared for k in range(1, 30)], evaluate=False)
    assert Occurrences()(expr) == 29 * (1 + 4)
