"""values.exact reads a float as the exact number of its shortest repr, as SymPy's Rational(Fraction) does."""

from fractions import Fraction

import numpy as np
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from symgrad.core import values


def _same(fast, slow):
    assert type(fast) is type(slow) and fast == slow and hash(fast) == hash(slow)
    assert (fast.p, fast.q) == (slow.p, slow.q) and sp.srepr(fast) == sp.srepr(slow)


@settings(max_examples=300, deadline=None)
@given(st.floats(allow_nan=False, allow_infinity=False))
def test_a_float_is_the_rational_of_its_repr(value):
    _same(values.exact(value, "input", "values"), sp.Rational(Fraction(repr(value))))


def test_special_numbers_are_sympys_singletons():
    for value, expected in [(0.0, sp.S.Zero), (-0.0, sp.S.Zero), (1.0, sp.S.One), (-1.0, sp.S.NegativeOne),
                            (0.5, sp.S.Half), (3.0, sp.Integer(3)), (np.float64(0.1), sp.Rational(1, 10))]:
        got = values.exact(value, "input", "values")
        _same(got, sp.Rational(Fraction(repr(float(value)))))
        assert got == expected
    assert values.exact(0.5, "input", "values") is sp.S.Half
    assert values.exact(0.0, "input", "values") is sp.S.Zero


def test_without_from_coprime_ints_sympys_constructor_reads_it(monkeypatch):
    """SymPy before 1.13 has no Rational.from_coprime_ints (pyproject allows 1.12)."""
    monkeypatch.setattr(values, "_FROM_COPRIME", None)
    for value in (0.1, -2.5, 3.0, 0.0, 1e-300):
        _same(values.exact(value, "input", "values"), sp.Rational(Fraction(repr(value))))


def test_a_toml_literal_float64_cannot_hold_is_still_refused():
    """A Literal is a float subclass (0.0 for 1e-400): the float fast path must leave it to its refusal."""
    import pytest

    from symgrad.core.errors import OptionError

    for text in ("1e-400", "-2.5e-999", "1e400"):
        literal = values.toml_float(text)
        assert isinstance(literal, float)
        with pytest.raises(OptionError, match="float64"):
            values.exact(literal, "input", "values")
