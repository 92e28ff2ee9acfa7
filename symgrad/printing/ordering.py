"""SymPy's order of a sum's terms (Expr.as_ordered_terms), computed without evalf for every coefficient.

str() and latex() sort a sum's terms by monomial (Expr.as_terms, then a lex key). as_terms
turns each term's coefficient into a Python complex through evalf, which was about half of
the text printing of a 10x10 average-pooling derivation (6,520 Rational coefficients, a few
dozen distinct values). Here each Rational's complex is computed once per value (by SymPy,
so its rounding is SymPy's: not always p / q's); every other coefficient still goes through
complex() each time. The rest is as_terms and as_ordered_terms as SymPy writes them
(tests/printing/test_ordering.py holds the two orders equal). A sum among a sum's generators
(x_11*(k_11*x_11/128 + ...)) is sorted by its sort_key, which SymPy computes by ordering its
terms again, through evalf: `_generator_key` computes that key from `ordered_terms` instead.
"""

from __future__ import annotations

import sympy as sp
from sympy.core.exprtools import decompose_power
from sympy.core.sorting import default_sort_key

_Rational, _One = sp.Rational, sp.S.One


def ordered_terms(expr) -> list:
    """expr.as_ordered_terms() (order None) of a sum; SymPy's own where an Order term is among them."""
    special = _number_and_negated_product(expr)
    if special is not None:
        return special
    key, reverse = expr._parse_order(None)
    terms = _as_terms(expr)
    if any(term.is_Order for term, _ in terms):
        return expr.as_ordered_terms()
    return [term for term, _ in sorted(terms, key=key, reverse=reverse)]


def _number_and_negated_product(expr):
    """as_ordered_terms' special case: 1 - 2*x stays in that order (a positive number, then c*x with c < 0)."""
    args = sp.Add.make_args(expr)
    if len(args) != 2:
        return None
    kinds = (sp.Number, sp.NumberSymbol)
    numbers_first = sorted(args, key=lambda x: not isinstance(x, kinds))
    number, product = numbers_first
    if not (isinstance(number, kinds) and isinstance(product, sp.Mul)):
        return None
    factors = sorted(sp.Mul.make_args(product), key=lambda x: not isinstance(x, kinds))
    if len(factors) == 2 and isinstance(factors[0], sp.Number) and number.is_positive and factors[0].is_negative:
        return numbers_first
    return None


def _complex(number) -> complex:
    """complex(number), a Rational's looked up: computed once per value (evalf's own rounding, kept exactly:
    complex(31/15) is 2.0666666666666664, one unit below the quotient 31 / 15)."""
    if not isinstance(number, _Rational):
        return complex(number)
    key = (number.p, number.q)
    found = _COMPLEX.get(key)
    if found is None:
        if len(_COMPLEX) >= _COMPLEX_SIZE:
            _COMPLEX.clear()  # a long-lived process (serve) does not keep every coefficient it ordered
        found = _COMPLEX[key] = complex(number)
    return found


_COMPLEX: dict[tuple[int, int], complex] = {}
_COMPLEX_SIZE = 1 << 16


def _as_terms(expr) -> list:
    """Expr.as_terms()'s terms (term, ((re, im), monomial, noncommutative part)), coefficients by _complex."""
    gens, terms = set(), []
    for term in sp.Add.make_args(expr):
        coeff, rest = term.as_coeff_Mul()
        coeff = _complex(coeff)
        cpart, ncpart = {}, []
        if rest is not _One:
            for factor in sp.Mul.make_args(rest):
                if factor.is_number:
                    try:
                        coeff *= _complex(factor)
                    except (TypeError, ValueError):
                        pass
                    else:
                        continue
                if factor.is_commutative:
                    base, exp = decompose_power(factor)
                    cpart[base] = exp
                    gens.add(base)
                else:
                    ncpart.append(factor)
        terms.append((term, ((coeff.real, coeff.imag), cpart, tuple(ncpart))))
    indices = {g: i for i, g in enumerate(sorted(gens, key=_generator_key))}
    result = []
    for term, (coeff, cpart, ncpart) in terms:
        monom = [0] * len(indices)
        for base, exp in cpart.items():
            monom[indices[base]] = exp
        result.append((term, (coeff, tuple(monom), ncpart)))
    return result


def _generator_key(gen):
    """default_sort_key(gen); a sum's as Expr.sort_key builds it, its terms ordered by `ordered_terms`
    (looked up by identity: the same sum stands in many products, x_11*(...), x_12*(...))."""
    if type(gen) is not _Add:
        return gen.sort_key() if isinstance(gen, sp.Basic) else default_sort_key(gen)  # (skips an import per call)
    found = _KEYS.get(id(gen))
    if found is not None and found[0] is gen:
        return found[1]
    terms = ordered_terms(gen)  # Expr.sort_key of a sum: coefficient 1, exponent 1, the ordered terms' keys
    key = (gen.class_key(), (len(terms), tuple(default_sort_key(term) for term in terms)), _ONE_KEY, _One)
    if len(_KEYS) >= _KEYS_SIZE:
        _KEYS.clear()
    _KEYS[id(gen)] = (gen, key)  # the sum kept alive with its key, so its id stays its own
    return key


_Add = sp.Add
_ONE_KEY = _One.sort_key()
_KEYS: dict = {}
_KEYS_SIZE = 1 << 12
