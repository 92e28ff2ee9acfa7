"""The fast builders in symgrad.core.algebra give exactly SymPy's own Add and Mul (same args, order, hash)."""

import random

import pytest
import sympy as sp

from symgrad.core import algebra
from symgrad.ops.activation import Positive
from symgrad.ops.argmax import FirstArgmax

NAMES = ["x_11", "x_1_12", "x_2_1", "k_11", "k_111", "b_1", "delta_S_11", "delta_sigma_1_10", "sigma_9", "S",
         "S_", "delta_S", "a", "A", "z10_3", "w_1_400", "y"]


def _atoms(rng):
    symbols = [sp.Symbol(n, real=True) for n in NAMES] + [sp.Symbol("x_11"), sp.Dummy("p", real=True)]
    numbers = [sp.Integer(0), sp.Integer(1), sp.Integer(-1), sp.Integer(3), sp.Rational(1, 1176),
               sp.Rational(-12345678901, 10**17), sp.Float(0.25), sp.Rational(1, 2)]
    return symbols, numbers


def _term(rng, symbols, numbers):
    kind = rng.randrange(7)
    s, t = rng.choice(symbols), rng.choice(symbols)
    if kind == 0:
        return s
    if kind == 1:
        return rng.choice(numbers)
    if kind == 2:
        return s * t
    if kind == 3:
        return rng.choice(numbers) * s * t
    if kind == 4:
        return FirstArgmax(rng.randrange(2), s, t) * rng.choice(symbols)
    if kind == 5:
        return (s - t) ** 2
    return Positive(s + t) * s


def _same(fast, slow):
    assert fast == slow and hash(fast) == hash(slow)
    assert sp.srepr(fast) == sp.srepr(slow) and str(fast) == str(slow)


@pytest.mark.parametrize("seed", range(40))
def test_product_equals_sympy_mul(seed):
    rng = random.Random(seed)
    symbols, numbers = _atoms(rng)
    for _ in range(200):
        a, b = rng.choice(symbols + numbers), rng.choice(symbols + numbers)
        _same(algebra.product(a, b), a * b)


@pytest.mark.parametrize("seed", range(40))
def test_add_equals_sympy_add(seed):
    rng = random.Random(seed)
    symbols, numbers = _atoms(rng)
    for _ in range(30):
        terms = [_term(rng, symbols, numbers) for _ in range(rng.randrange(0, 12))]
        _same(algebra.add(terms), sp.Add(*terms))


def test_add_of_many_distinct_products_takes_the_fast_path_and_is_canonical():
    x = [sp.Symbol(f"x_{i}_{j}", real=True) for i in range(1, 13) for j in range(1, 13)]
    k = [sp.Symbol(f"delta_sigma_{i}_{j}", real=True) for i in range(1, 13) for j in range(1, 13)]
    terms = [algebra.product(a, b) for a, b in zip(x, reversed(k))] + [sp.Rational(3, 7)]
    assert algebra._add_distinct(list(terms)) is not None
    _same(algebra.add(terms), sp.Add(*terms))


def test_like_terms_are_left_to_sympy_and_collected():
    x, y = sp.symbols("x y", real=True)
    assert algebra._add_distinct([x * y, 2 * x * y]) is None
    assert algebra.add([x * y, 2 * x * y, -3 * y * x]) == 0
    assert algebra.add([x, -x, 1]) == 1


def test_no_evaluation_context_is_respected():
    x, y = sp.symbols("x y", real=True)
    with sp.evaluate(False):
        assert algebra.product(sp.Integer(2), x) == sp.Mul(2, x, evaluate=False)
        assert algebra.add([x, y, x]).args == (x, y, x)


def test_products_of_two_atoms_take_the_short_path_and_match_sympy():
    """Weight times input and delta times activation: Rational*Symbol and Symbol*Symbol terms, mixed with
    numbers, symbols and longer products, sum to SymPy's own Add."""
    rng = random.Random(7)
    xs = [sp.Symbol(f"x_{i}", real=True) for i in range(60)]
    ds = [sp.Symbol(f"delta_sigma_{i}", real=True) for i in range(60)]
    rs = [sp.Rational(rng.randint(-10**17, 10**17), 10**17) for _ in range(60)]
    for _ in range(30):
        terms = [algebra.product(rng.choice(rs), x) for x in rng.sample(xs, 20)]
        terms += [algebra.product(d, x) for d, x in zip(rng.sample(ds, 10), rng.sample(xs, 10))]
        terms += [sp.Rational(1, 3), ds[0] * ds[1] * xs[0], sp.Symbol("b_1", real=True)]
        rng.shuffle(terms)
        _same(algebra.add(terms), sp.Add(*terms))


def test_the_identity_cache_never_answers_for_another_object(monkeypatch):
    """An atom's key is cached by id with the atom itself held: a new atom at a reused id is keyed afresh."""
    monkeypatch.setattr(algebra, "_BY_ID", {})
    monkeypatch.setattr(algebra, "_BY_ID_SIZE", 4)
    x, y = sp.Symbol("x_1", real=True), sp.Symbol("y_1", real=True)
    stale = sp.Symbol("zz_9", real=True)
    algebra._BY_ID[id(x)] = (stale, algebra._atom_key(stale))  # as if x took a freed atom's id
    assert algebra._key_of_atom(x) == algebra._atom_key(x)
    for i in range(10):
        algebra._key_of_atom(sp.Symbol(f"w_{i}", real=True))
    assert len(algebra._BY_ID) <= 4
    _same(algebra.add([algebra.product(y, x), sp.Integer(2) * x]), sp.Add(y * x, 2 * x))
