"""tensor.free_symbols is SymPy's free_symbols over many expressions, shared subtrees walked once."""

from __future__ import annotations

import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

import symgrad as sg
from symgrad.core import tensor
from symgrad.ops.argmax import FirstArgmax

X = sp.symbols("x_11 x_12 k_11 t")
LEAVES = st.one_of(st.sampled_from(X), st.integers(-5, 5).map(sp.Integer), st.just(sp.Rational(1, 4)))


def _node(children):
    pairs = st.lists(children, min_size=2, max_size=3)
    return st.one_of(pairs.map(lambda xs: sp.Add(*xs)), pairs.map(lambda xs: sp.Mul(*xs)),
                     pairs.map(lambda xs: sp.Max(*xs, evaluate=False)), pairs.map(lambda xs: FirstArgmax(0, *xs)))


TREES = st.recursive(LEAVES, _node, max_leaves=8)
# A binder (its own free_symbols, without the bound t) above a tree, shared with the tree itself.
WITH_BINDERS = st.one_of(TREES, TREES.map(lambda e: e + sp.Integral(e, X[3])),
                         TREES.map(lambda e: e * sp.Sum(e, (X[3], 1, 3))))


@settings(max_examples=200, deadline=None)
@given(st.lists(WITH_BINDERS, max_size=5))
def test_the_union_is_sympys(exprs):
    assert tensor.free_symbols(exprs) == set().union(*(e.free_symbols for e in exprs))


def test_a_derivations_symbols_are_its_inputs_and_kernels():
    net = sg.Sequential(sg.Conv2d(1, 1, 2, bias=False), sg.MaxPool2d(2))
    d = sg.derive(net, sg.symbolic("x", (1, 1, 3, 3)), sg.MSELoss(), target=sp.Symbol("y"))
    expected = set(d.loss.free_symbols)
    for array in d.tensors.leaves() + d.tensors.results():
        for v in array.reshape(-1):
            expected |= v.free_symbols
    assert d.free_symbols == expected and "y" in {s.name for s in expected} and len(expected) == 9 + 4 + 1
