"""Symbolic tensors: numpy object arrays whose entries are SymPy expressions.

Numbers become exact SymPy numbers (0.01 -> 1/100), so a derivation with numbers
reproduces hand calculations exactly. Strings are symbol *names*: they are checked
against an identifier pattern and handed to `sympy.Symbol`, never to `sympify`.
"""

from __future__ import annotations

import re
from itertools import product

import numpy as np
import sympy as sp
from sympy.core.function import AppliedUndef

from . import algebra, limits
from . import values as _values
from .errors import OptionError
from .names import check_readable, readable

IDENTIFIER = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,63}\Z")
MAX_ENTRIES = limits.MAX_TENSOR_ENTRIES  # a tensor beyond this is hopeless symbolically; refuse it early
MAX_DEPTH = 4  # N x C x H x W
_REAL = {"real": True}  # the assumptions symgrad gives its symbols
_REAL_FACTS = sp.Symbol("x", **_REAL).assumptions0  # ... and all they imply: a Symbol with these is one of symgrad's


def check_size(where: str, option: str, shape) -> None:
    """Refuse a tensor with more than MAX_ENTRIES entries, naming what asked for it."""
    entries = 1
    for n in shape:
        entries *= int(n)
    if entries > MAX_ENTRIES:
        count = f"{entries:,}" if entries < 10**100 else "over 10^100"  # str() of 4,300+ digits raises
        raise OptionError(where, option, f"{count} entries is more than symgrad handles in one tensor "
                                         f"(the limit is {MAX_ENTRIES:,}, MAX_TENSOR_ENTRIES)")


def symbol(name: str, where: str = "input", option: str = "symbol") -> sp.Symbol:
    """A SymPy symbol from a user-given name: a plain identifier that SymPy's parser reads as a symbol
    (not E, I, pi, S, exp, lambda, ...: see names.parser_reading)."""
    if not isinstance(name, str) or not IDENTIFIER.match(name):
        shown = repr(name) if len(repr(name)) <= 40 else repr(name)[:37] + "..."
        raise OptionError(where, option, f"symbol names must be identifiers like x or k_1, got {shown}")
    check_readable(name, where, option)
    return sp.Symbol(name, real=True)


def number(value, where: str = "input", option: str = "values") -> sp.Expr:
    """An exact SymPy number (or, from Python, a SymPy expression), as `symgrad.core.values` decides what a number is:
    finite, real and held by a float64; the symbols of an expression become symgrad's real symbols (`entry`)."""
    if isinstance(value, sp.Basic) and not value.is_number:
        return _expression(value, where, option)
    return _values.exact(value, where, option)


def entry(value, where: str, option: str) -> sp.Expr:
    """One tensor entry: a number, a symbol name, or (from Python) a SymPy expression."""
    if isinstance(value, str):
        return symbol(value, where, option)
    return number(value, where, option)


def user_symbol(value: sp.Symbol, where: str, option: str) -> sp.Symbol:
    """A SymPy Symbol given from Python, as the symbol of its name: symgrad's symbols are real (torch's
    entries are float64), so a plain Symbol("a") merges with "a" and Symbol("a", real=True); a Symbol with
    other assumptions (positive, integer, complex, ...) is refused rather than silently changed."""
    if type(value) is sp.Dummy and value.assumptions0 == _REAL_FACTS:
        return value  # a real placeholder (symgrad.engine.hessian's): never equal to another symbol, whatever its name
    if type(value) is not sp.Symbol:  # Wild, Dummy without real=True, ...
        raise OptionError(where, option, f"expected a Symbol, a symbol name or a number, got the SymPy "
                                         f"{type(value).__name__} {value}")
    if value.assumptions0 == _REAL_FACTS and IDENTIFIER.match(value.name):
        check_readable(value.name, where, option)  # symbol()'s checks, without making the Symbol again:
        return value  # SymPy caches 1000 symbols, and making one anew costs 20 us (sg.symbolic's arrays)
    named = symbol(value.name, where, option)
    if value == named or value == sp.Symbol(value.name):
        return named
    raise OptionError(where, option, f"symbol {value.name} has assumptions ({_beyond_real(value)}) that symgrad's "
                                     f"real symbols do not; give the name {value.name!r} (or sympy.Symbol("
                                     f"{value.name!r}), or sympy.Symbol({value.name!r}, real=True))")


def _beyond_real(value: sp.Symbol) -> str:
    """What a symbol's assumptions add to (or leave out of) real=True, in a few words: "nonnegative, nonzero,
    positive" for positive=True, "not real" for complex=True."""
    facts = value.assumptions0
    added = sorted(key for key, fact in facts.items()
                   if fact and not _REAL_FACTS.get(key) and not key.startswith("extended_"))
    return ", ".join(added) if added else "not real" if not facts.get("real") else "other assumptions"


def _expression(value, where: str, option: str) -> sp.Expr:
    """A SymPy expression in symbols: numbers as `values` takes them, symbols as `user_symbol`, real."""
    if isinstance(value, sp.Symbol):
        return user_symbol(value, where, option)
    if not isinstance(value, sp.Expr):
        raise OptionError(where, option, f"expected a number, a symbol name or a SymPy expression, got the SymPy "
                                         f"{type(value).__name__} {_values.shown(value)}")
    undefined = value.atoms(AppliedUndef)
    if undefined:
        raise OptionError(where, option, f"undefined function {sorted(map(str, undefined))[0]} in "
                                         f"{_values.shown(value)}: symgrad evaluates every entry")
    renamed = {}
    for atom in value.atoms():
        if isinstance(atom, sp.Symbol):
            real = user_symbol(atom, where, option)
            if real is not atom:
                renamed[atom] = real
        elif atom.is_number:
            _values.exact(atom, where, option)
        else:
            raise OptionError(where, option, f"cannot take the SymPy {type(atom).__name__} {_values.shown(atom)} "
                                             "in an entry")
    value = value.xreplace(renamed) if renamed else value
    if value.is_extended_real is False:
        raise OptionError(where, option, f"values must be real, got {_values.shown(value)}")
    return value


def to_array(values, where: str = "input", option: str = "values") -> np.ndarray:
    """Nested lists (or an array, also a SymPy Array or Matrix) of entries -> object array of checked entries,
    refusing ragged or empty input. Every entry is checked, also those of an object array."""
    if isinstance(values, (sp.NDimArray, sp.MatrixBase)):
        values = values.tolist()
    elif isinstance(values, np.ndarray) and values.dtype != object:
        values = values.tolist()
    shape = _nested_shape(values, where, option)
    check_size(where, option, shape)
    if 0 in shape:
        raise OptionError(where, option, "is empty")
    flat = list(_flatten(values))
    array = np.empty(len(flat), dtype=object)
    for i, value in enumerate(flat):
        array[i] = entry(value, where, option)
    return array.reshape(shape)


def _nested_shape(values, where, option, depth=0) -> tuple[int, ...]:
    if isinstance(values, np.ndarray):
        return values.shape
    if not isinstance(values, (list, tuple)):
        return ()
    if depth >= MAX_DEPTH:
        raise OptionError(where, option, f"nested more than {MAX_DEPTH} levels deep (tensors are at most N x C x H x W)")
    shapes = {_nested_shape(v, where, option, depth + 1) for v in values}
    if len(shapes) > 1:
        raise OptionError(where, option, "is ragged: nested lists must all have the same length")
    inner = shapes.pop() if shapes else ()
    return (len(values), *inner)


def _flatten(values):
    if isinstance(values, np.ndarray):
        yield from values.reshape(-1)
    elif isinstance(values, (list, tuple)):
        for v in values:
            yield from _flatten(v)
    else:
        yield values


def index_name(base: str, index: tuple[int, ...]) -> str:
    """x + (1, 2) -> "x_12"; any index above 9 -> "x_1_12"; no index -> "x" (S_ where SymPy reads S otherwise).

    Indices count from 1, so single digits never contain 0 and a run of them never an
    underscore: within one tensor (one base, one number of axes) "x_111" and "x_1_11"
    name different entries, and every name is an identifier SymPy reads back as itself.
    """
    if not index:
        return readable(base)
    parts = [str(i) for i in index]
    joiner = "" if all(len(p) == 1 for p in parts) else "_"
    return f"{base}_{joiner.join(parts)}"


def symbols(base: str, shape: tuple[int, ...], keep: tuple[bool, ...] | None = None) -> np.ndarray:
    """An array of fresh symbols named base_<1-based indices>.

    `keep` says which axes appear in the names; axes of size 1 that the articles do
    not write (sample and channel of a single image) are left out.
    """
    shape = tuple(shape)
    if keep is None:
        keep = tuple(True for _ in shape)
    array = np.empty(shape, dtype=object)
    for idx in product(*(range(n) for n in shape)):
        shown = tuple(i + 1 for i, k in zip(idx, keep) if k)
        array[idx] = sp.Symbol(index_name(base, shown), real=True)
    return array


def image_symbols(base: str, shape: tuple[int, ...]) -> np.ndarray:
    """Symbols for an N x C x H x W (or any) tensor, dropping leading axes of size 1."""
    keep = []
    leading = True
    for axis, n in enumerate(shape):
        spatial = axis >= len(shape) - 2
        if leading and n == 1 and not spatial:
            keep.append(False)
        else:
            leading = False
            keep.append(True)
    return symbols(base, shape, tuple(keep))


def symbolic(base: str, shape: tuple[int, ...]) -> np.ndarray:
    """Public: a tensor of readable symbols (x_11, ...), the base name checked as an identifier and the
    shape (1 to 4 positive integers) checked against the size limit before anything is made."""
    if not isinstance(base, str):
        raise OptionError("symbolic", "base", f"expected a symbol name (a string), got {_values.shown(base)}")
    symbol(base, "symbolic", "base")
    if isinstance(shape, (int, np.integer)) and not isinstance(shape, bool):
        shape = (shape,)
    if not isinstance(shape, (tuple, list)) or not 1 <= len(shape) <= MAX_DEPTH:
        raise OptionError("symbolic", "shape", f"expected a tuple of 1 to {MAX_DEPTH} positive integers, "
                                               f"got {_values.shown(shape)}")
    if not all(isinstance(n, (int, np.integer)) and not isinstance(n, (bool, np.bool_)) and n >= 1 for n in shape):
        raise OptionError("symbolic", "shape", f"sizes must be positive integers, got {_values.shown(list(shape))}")
    shape = tuple(int(n) for n in shape)
    for n in shape:  # each size first: the product of a few huge ones need not even print
        if n > MAX_ENTRIES:
            raise OptionError("symbolic", "shape", f"a size of {_values.shown(n)} is more than symgrad handles "
                                                   f"({MAX_ENTRIES} entries)")
    check_size("symbolic", "shape", shape)
    return image_symbols(base, shape)


def to_sympy(array: np.ndarray):
    """Object array -> SymPy Array (a 0-d array becomes the bare expression)."""
    if array.shape == ():
        return array[()]
    return sp.ImmutableDenseNDimArray(array.reshape(-1).tolist(), array.shape)


def is_numeric(array: np.ndarray) -> bool:
    return all(getattr(v, "is_number", False) for v in np.asarray(array, dtype=object).reshape(-1))


def add_all(terms) -> sp.Expr:
    """Sum a list of expressions in one SymPy call (much faster than repeated +); see algebra.add."""
    return algebra.add(terms)


def times(a: sp.Expr, b: sp.Expr) -> sp.Expr:
    """a*b, fast for a symbol or number times a symbol (the bulk of conv and linear rules); see algebra."""
    return algebra.product(a, b)


def apply(function, array: np.ndarray) -> np.ndarray:
    """`function` applied to every entry of an array, as an object array of the same shape (0-d too)."""
    array = np.asarray(array, dtype=object)
    out = np.empty(array.shape, dtype=object)
    for idx in np.ndindex(*array.shape):
        out[idx] = function(array[idx])
    return out


def vector(items) -> np.ndarray:
    """A 1-D object array (np.array would try to nest SymPy containers)."""
    items = list(items)
    array = np.empty(len(items), dtype=object)
    for i, item in enumerate(items):
        array[i] = item
    return array


def zeros(shape) -> np.ndarray:
    array = np.empty(shape, dtype=object)
    array.fill(sp.Integer(0))
    return array


def term_lists(shape) -> np.ndarray:
    """An array of empty lists: gradients accumulate terms here, then `collect` sums them."""
    array = np.empty(shape, dtype=object)
    for idx in np.ndindex(*shape) if shape else [()]:
        array[idx] = []
    return array


def collect(lists: np.ndarray) -> np.ndarray:
    out = np.empty(lists.shape, dtype=object)
    for idx in np.ndindex(*lists.shape) if lists.shape else [()]:
        out[idx] = add_all(lists[idx])
    return out


def free_symbols(exprs) -> set:
    """The union of `exprs`' free_symbols, each distinct subtree walked once.

    SymPy's free_symbols walks every occurrence: an expanded 10x10 derivation's loss and
    results hold 270,000 nodes, most of them shared, and collecting their symbols took as long
    as printing them. A class with its own free_symbols (bound variables: Integral, Lambda)
    is asked for them; every other node's are its arguments' (Basic.free_symbols).
    """
    found, seen = set(), set()
    stack = [e for e in exprs if isinstance(e, sp.Basic)]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))  # the nodes stay alive (held by exprs) for the walk: ids are their own
        if type(node).free_symbols is not _ARGS_FREE_SYMBOLS:
            found |= node.free_symbols  # a Symbol's is itself; a binder's leaves its bound variables out
        else:
            stack.extend(node.args)
    return found


_ARGS_FREE_SYMBOLS = sp.Basic.free_symbols
