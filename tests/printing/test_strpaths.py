"""strpaths.FastSums writes sums and products exactly as StrPrinter (and readable.py's, floats.py's printers) do."""

from __future__ import annotations

import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from symgrad.printing.floats import FloatCoefficients
from symgrad.printing.memo import MemoFloatReadablePrinter, MemoReadablePrinter, MemoStrPrinter
from symgrad.printing.readable import ReadablePrinter
from symgrad.printing.strpaths import _product

PLAIN = sp.symbols("k_11 x_11 x_1_10 x_9 delta_S_11 a")
# The same names with assumptions (their canonical order is not their names' order) and a Dummy.
ODD = [sp.Symbol("x_11", positive=True), sp.Symbol("b", integer=True), sp.Dummy("d")]
COEFFICIENTS = st.one_of(
    st.sampled_from([sp.S.One, sp.S.NegativeOne, sp.Integer(2), sp.Integer(-3), sp.Rational(1, 128),
                     sp.Rational(-1, 32), sp.Rational(7, 3), sp.Rational(-2, 5)]),
    st.integers(-10**20, 10**20).filter(bool).map(lambda p: sp.Rational(p, 5**40)),  # a q above 2**30
    st.fractions(min_value=-100, max_value=100, max_denominator=10**12).filter(bool).map(
        lambda f: sp.Rational(f.numerator, f.denominator)))
ATOMS = st.sampled_from([*PLAIN, *ODD])


def _products(children):
    factors = st.lists(st.one_of(ATOMS, children), min_size=1, max_size=4)
    return st.one_of(st.tuples(COEFFICIENTS, factors).map(lambda cf: sp.Mul(cf[0], *cf[1])),
                     st.tuples(COEFFICIENTS, factors).map(lambda cf: sp.Mul(cf[0], *cf[1], evaluate=False)),
                     st.lists(children, min_size=2, max_size=4).map(lambda ts: sp.Add(*ts)),
                     st.tuples(children, st.integers(-2, 3)).map(lambda be: sp.Pow(*be)),
                     st.lists(children, min_size=2, max_size=3).map(lambda xs: sp.Max(*xs, evaluate=False)))


EXPRESSIONS = st.recursive(st.one_of(ATOMS, COEFFICIENTS), _products, max_leaves=10)


class _FloatReadable(FloatCoefficients, ReadablePrinter):
    """The JSON's float printer without memo or short paths."""


@settings(max_examples=400, deadline=None)
@given(EXPRESSIONS)
def test_every_printer_writes_what_its_plain_version_writes(expr):
    for order in (None, "none"):
        settings_ = {"order": order} if order else None
        assert MemoStrPrinter(settings_).doprint(expr) == sp.StrPrinter(settings_).doprint(expr)
        assert MemoReadablePrinter(settings_).doprint(expr) == ReadablePrinter(settings_).doprint(expr)
        assert MemoFloatReadablePrinter(settings_).doprint(expr) == _FloatReadable(settings_).doprint(expr)


def test_the_shapes_backprop_builds_take_the_short_path():
    k, x, y = sp.symbols("k_11 x_11 x_12")
    delta = sp.Add(*(c * k * v for c, v in zip((sp.Rational(1, 128), sp.Rational(-3, 64)), (x, y))), sp.Rational(-1, 32))
    printer = MemoStrPrinter()
    for expr, text in ((sp.Rational(1, 128) * k * x, "k_11*x_11/128"), (-k * x, "-k_11*x_11"),
                       (sp.Rational(-7, 3) * k * x, "-7*k_11*x_11/3"), (3 * k, "3*k_11"),
                       (x * delta, "x_11*(k_11*x_11/128 - 3*k_11*x_12/64 - 1/32)")):
        assert _product(printer, expr) == text == sp.sstr(expr)


def test_what_the_short_path_leaves_to_sympy():
    k, x = sp.symbols("k_11 x_11")
    printer = MemoStrPrinter()
    left = [sp.Mul(1, x, evaluate=False),  # an unevaluated 1*x shows its 1
            sp.Rational(1, 2**40) * x,  # a float64 made exact: the float printer's
            sp.Symbol("b", integer=True) * sp.Symbol("a", positive=True),  # args not in name order
            sp.Dummy("d") * x, x ** 2 * k, (x + 1) * (k + 1)]
    for expr in left:
        assert _product(printer, expr) is None
        assert printer.doprint(expr) == sp.sstr(expr)
