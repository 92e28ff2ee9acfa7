"""Text and JSON of a derivation kept in names: the fast printer prints the same expressions."""

import json

import numpy as np
import sympy as sp

from symgrad import spec as specs
from symgrad.ops.activation import Positive
from symgrad.ops.argmax import FirstArgmax
from symgrad.printing import render
from symgrad.printing.plain import plain, plain_readable
from symgrad.printing.readable import readable, readable_unordered

SPEC = """
[input]
shape = [1, 1, 5, 5]
symbol = "x"
[[layers]]
type = "Conv2d"
in_channels = 1
out_channels = 2
kernel_size = 2
[[layers]]
type = "Sigmoid"
[[layers]]
type = "MaxPool2d"
kernel_size = 2
[loss]
type = "MSELoss"
target = [[[[1, -2], [3, 4]], [[0, 5], [-1, 2]]]]
"""


def _derive(source):
    return specs.parse(source).derive("rules")


def _parse(text, names):
    """Read printed SymPy syntax back with the derivation's own symbols (no commas in these names)."""
    return sp.parse_expr(text, local_dict={str(s): s for s in names}, evaluate=True)


def test_plain_is_sympy_syntax_up_to_term_order():
    a, b, c = sp.symbols("a b c", real=True)
    for expr in [a + b, 3 * a * b - 2 * c, -a, c - a * b, sp.Rational(1, 4) * a * b + c, -3 * a * b,
                 1 / (1 + sp.exp(-a)), sp.Max(a, b) - 2 * c]:
        assert _parse(plain(expr), [a, b, c]) == expr


def test_plain_readable_is_the_readable_printer_up_to_term_order():
    a, b, c = sp.symbols("a b c", real=True)
    route = FirstArgmax(1, a + b, c, a)
    for expr in [a + b, 3 * a * b - 2 * c, 2 * a * route, route - c, Positive(a - b) * c + a]:
        assert plain_readable(expr) == readable_unordered(expr)
        assert _parse(plain_readable(expr), [a, b, c]) == _parse(readable(expr), [a, b, c])
    assert "FirstArgmax(2; a + b, c, a)" in plain(2 * a * route)  # the text format keeps the short form


def test_kept_in_names_json_prints_what_the_unordered_readable_printer_prints():
    """The fast path is an optimisation only: each string is the readable printer's (terms unsorted)."""
    d = specs.parse("expand = false\n" + SPEC).derive("rules")
    assert not d.expanded
    document = json.loads(render(d, "json"))
    assert document["expanded"] is False
    for name, definition in d.named.definitions.items():
        assert document["named"]["definitions"][str(name)] == readable_unordered(definition)
    assert document["named"]["gradients"] == {}  # already in names: written once, in `gradients`
    grad = np.asarray(document["gradients"]["0.weight"], dtype=object).reshape(-1)
    assert list(grad) == [readable_unordered(e) for e in d.named.gradients["0.weight"].reshape(-1)]
    routes = [text for text in document["named"]["definitions"].values() if "Piecewise" in text]
    assert routes and not any("FirstArgmax" in text for text in document["named"]["definitions"].values())
    assert isinstance(sp.sympify(routes[0]), sp.Expr)


def test_expanded_json_unchanged_and_has_no_expanded_key():
    d = _derive(SPEC)
    assert d.expanded
    document = json.loads(render(d, "json"))
    assert "expanded" not in document
    assert document["loss"] == readable(d.loss)


def test_all_numeric_network_kept_in_names_leaves_out_the_definitions():
    values = "values = " + str(np.arange(25).reshape(1, 1, 5, 5).tolist())
    numeric = SPEC.replace('shape = [1, 1, 5, 5]\nsymbol = "x"', values) + "[weights]\nseed = 0\n"
    d = specs.parse("expand = false\n" + numeric).derive("rules")
    document = json.loads(render(d, "json"))
    assert "named" not in document and document["expanded"] is False
    assert isinstance(document["loss"], float)
    text = render(d, "text")
    assert "kept in named intermediates" in text and ":=" not in text


def test_the_short_path_for_two_factor_terms_prints_as_the_general_one():
    """c*u and u*v terms of a sum (plain._pair, its coefficient texts cached per number) read as _term writes
    them: integers, fractions, float64s made exact (with and without floats), signs, a Dummy, a 1*x."""
    import random

    from symgrad.printing import plain as module
    from symgrad.printing.memo import readable_printer

    rng = random.Random(5)
    u = [sp.Symbol(f"x_{i}", real=True) for i in range(8)] + [sp.Dummy("p", real=True)]
    numbers = [sp.Integer(3), sp.Integer(-1), sp.Integer(-7), sp.Rational(2, 3), sp.Rational(-1, 3),
               sp.Rational(-9328288493890713, 50000000000000000), sp.Rational(10956934985716349, 200000000000000000)]
    fallback = readable_printer("none", True)
    for floats in (False, True):
        for _ in range(40):
            terms = [rng.choice(numbers) * rng.choice(u) if rng.random() < 0.6 else rng.choice(u) * rng.choice(u[:8])
                     for _ in range(6)] + [sp.Mul(sp.S.One, u[0], evaluate=False)]
            expr = sp.Add(*terms, evaluate=False)
            pieces = [module._term(t, fallback, floats) for t in expr.args]
            expected = "".join((" - " if i else "-") + p[1:] if p[0] == "-" else (" + " if i else "") + p
                               for i, p in enumerate(pieces))
            assert module._plain(expr, fallback, floats) == expected
