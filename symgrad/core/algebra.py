"""Sums and products of SymPy expressions, built fast but exactly as SymPy builds them.

A convolution of 32x32 by six 5x5 kernels builds about 350,000 products of two
symbols and a few thousand sums of up to 800 terms. SymPy's `Mul` and `Add`
constructors are general (they combine powers, collect like terms, ask
assumptions) and spend ~30 microseconds on each such product. For the shapes
backprop actually produces -- a symbol or nonzero number times a symbol, a sum of
distinct terms -- the canonical result is known: the same arguments in SymPy's
canonical order (`Basic.compare`). These builders construct exactly that object
(equal, same hash, same printing) and hand everything else to SymPy unchanged.
tests/core/test_algebra.py checks them against SymPy's own constructors.
"""

from __future__ import annotations

from functools import lru_cache

import sympy as sp
from sympy.core.basic import ordering_of_classes
from sympy.core.parameters import global_parameters

_RANK = {name: i for i, name in enumerate(ordering_of_classes)}
_UNKNOWN = len(ordering_of_classes) + 1
_ZERO, _ONE = sp.Integer(0), sp.Integer(1)
_Symbol = sp.Symbol
_mul_from_args = sp.Mul._from_args
_Mul = sp.Mul
_Rational = sp.Rational


def product(a: sp.Expr, b: sp.Expr) -> sp.Expr:
    """a*b; fast when each is a symbol or a nonzero rational (and not both numbers)."""
    kind_a, kind_b = type(a), type(b)
    if kind_a is _Symbol and kind_b is _Symbol:  # the bulk: delta times input or activation
        key_a, key_b = _atom_key(a), _atom_key(b)  # equal keys: the same symbol (a**2, SymPy's)
        if key_a == key_b or not global_parameters.evaluate or not (a.is_commutative and b.is_commutative):
            return a * b
        return _mul_from_args((a, b) if key_a <= key_b else (b, a), True)
    if kind_a is _Symbol and isinstance(b, _Rational):  # delta times weight
        a, b = b, a
    elif not (kind_b is _Symbol and isinstance(a, _Rational)):  # weight times input
        return _general_product(a, b)
    return _rational_times_symbol(a, b)


def _rational_times_symbol(a, b):
    """a*b for a Rational a and a symbol b."""
    if not global_parameters.evaluate or not b.is_commutative:
        return a * b
    if not a.p:  # Rational's own fields: comparing with == would sympify the 0
        return _ZERO
    if a.p == 1 and a.q == 1:
        return b
    return _mul_from_args((a, b), True)


def _general_product(a, b):
    """product() for anything but a plain symbol times a symbol or a rational."""
    if not (isinstance(a, sp.Basic) and isinstance(b, sp.Basic)):
        return a * b
    if a.is_Symbol and b.is_Symbol:
        if a == b or not (a.is_commutative and b.is_commutative) or not global_parameters.evaluate:
            return a * b
        return _mul_from_args((a, b) if canonical_key(a) <= canonical_key(b) else (b, a), True)
    if b.is_Rational and a.is_Symbol:
        a, b = b, a
    if a.is_Rational and b.is_Symbol:
        return _rational_times_symbol(a, b)
    return a * b


def add(terms) -> sp.Expr:
    """The sum of `terms`, in one constructor call; fast when no two terms can be combined."""
    kept = []
    for t in terms:
        if not isinstance(t, sp.Basic):
            t = sp.sympify(t, strict=True)  # numbers, never text
        if not (t.is_Number and t.is_zero):
            kept.append(t)
    if not kept:
        return _ZERO
    if len(kept) == 1:
        return kept[0]
    fast = _add_distinct(kept)
    return sp.Add(*kept) if fast is None else fast


def _add_distinct(terms):
    """Add(*terms) when every term is a symbol, product or function of distinct "bases"; else None.

    A term's base is what SymPy would collect like terms by (the term without its number, as
    as_coeff_Mul), kept as a tuple of arguments rather than built as a new Mul. A product of
    two atoms (the bulk: weight times input, delta times activation) takes a shorter path.
    A term's key is canonical_key with its arguments' atom keys (four items each) laid out flat:
    the same order, compared one tuple level deep instead of three.
    """
    if not global_parameters.evaluate:
        return None
    numbers, keyed, bases = [], [], set()
    for term in terms:
        if type(term) is _Mul and len(term._args) == 2 and term.is_commutative:
            a, b = args = term._args
            if not (a.is_Atom and b.is_Atom):
                return None  # a key would walk a whole subtree, where Basic.compare stops at the first difference
            base = (b,) if a.is_Number else args
            key = (*_MUL_KEY, 2, *_key_of_atom(a), *_key_of_atom(b))
        elif term.is_Number:
            numbers.append(term)
            continue
        elif not term.is_commutative or term.is_Order or not (
                term.is_Symbol or term.is_Mul or term.is_Function or (term.is_Pow and not term.base.is_Number)):
            return None
        elif term.is_Atom:
            base, key = (term,), _key_of_atom(term)
        else:
            args = term._args
            if not all(arg.is_Atom for arg in args):
                return None
            if not _plain_content(type(term)):
                return None  # a class with its own hashable content: SymPy orders it
            base = args[1:] if term.is_Mul and args[0].is_Number else args if term.is_Mul else (term,)
            if len(base) == 1 and base[0].is_Add:
                return None  # SymPy would distribute the number over the sum: let it
            key = (*_class_key(type(term)), len(args), *(item for arg in args for item in _key_of_atom(arg)))
        if base in bases:
            return None  # SymPy would collect like terms: let it
        bases.add(base)
        keyed.append((key, term))
    if not keyed:
        return sp.Add(*numbers)
    try:
        keyed.sort()  # distinct terms have distinct keys: the terms themselves are never compared
    except TypeError:  # hashable contents of unusual objects that do not compare: SymPy decides
        return None
    others = [term for _, term in keyed]
    constant = sp.Add(*numbers) if numbers else _ZERO
    if not constant.is_finite:
        return None
    args = others if constant == 0 else [constant, *others]
    return args[0] if len(args) == 1 else sp.Add._from_args(args, True)


def _key_of_atom(atom):
    """_atom_key, looked up by identity first: a 17-digit Rational hashes through three Python calls.

    An entry holds its atom, so the id cannot be reused while it is cached; the cache is emptied
    when full, so a long-lived process (serve) does not keep every atom it ever summed.
    """
    found = _BY_ID.get(id(atom))
    if found is not None and found[0] is atom:
        return found[1]
    if len(_BY_ID) >= _BY_ID_SIZE:
        _BY_ID.clear()
    key = _atom_key(atom)
    _BY_ID[id(atom)] = (atom, key)
    return key


_BY_ID: dict[int, tuple] = {}
_BY_ID_SIZE = 1 << 18


@lru_cache(maxsize=None)
def _plain_content(cls) -> bool:
    """Whether `cls` keeps SymPy's hashable content of its arguments alone, which the keys above stand for."""
    return cls._hashable_content in (sp.Basic._hashable_content, sp.Expr._hashable_content)


def canonical_key(expr: sp.Basic):
    """A sort key that orders like SymPy's `Basic.compare` (class rank, content length, content)."""
    if expr.is_Atom:
        return _atom_key(expr)
    content = expr._hashable_content()
    return (*_class_key(type(expr)), len(content), tuple(_item_key(item) for item in content))


@lru_cache(maxsize=None)
def _class_key(cls) -> tuple[int, str]:
    """Basic.compare's first criterion: the rank in `ordering_of_classes`, else the class name."""
    return _RANK.get(cls.__name__, _UNKNOWN), cls.__name__


_MUL_KEY = _class_key(sp.Mul)


@lru_cache(maxsize=1 << 16)
def _atom_key(expr):
    content = expr._hashable_content()
    return (*_class_key(type(expr)), len(content), tuple(_item_key(item) for item in content))


def _item_key(item):
    if isinstance(item, sp.Basic):
        return _atom_key(item) if item.is_Atom else canonical_key(item)
    if isinstance(item, frozenset):
        raise TypeError("a set in hashable content")  # Basic.compare wraps sets; leave those to SymPy
    return item
