"""Closed forms in the forward pass's names: the deltas written in, common factors pulled out.

A fully symbolic gradient written out in the inputs repeats every window's maximum and
every convolution sum (too long to print), while in the names of the forward pass it is
short, and it is the answer people want:

    dL/dk_11 = 2 (S_11 - 60) (x_11 1[m = 1] + x_12 1[m = 2] + x_21 1[m = 3] + x_22 1[m = 4])

with m the position of the first maximum of the window (sigma_11, ..., sigma_22). Each
delta name is replaced by its definition until none is left (the forward names stay),
common factors are pulled out (sympy.factor_terms), and each max-pooling window's
routing indicators are written through one letter per window. `restore` undoes the
letters, so the result can be held to the engine's expanded gradient.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from ..core.names import DELTA
from ..ops.argmax import FirstArgmax
from .texnames import name_latex, tex


class Routed(sp.Function):
    """Routed(m, k) = 1[m = k]: the window whose first maximum m is at (1-based, row-major) position k."""

    is_integer = True
    is_nonnegative = True

    def _latex(self, printer):
        return r"\mathbb{I}\left[%s = %s\right]" % (printer._print(self.args[0]), printer._print(self.args[1]))


class Factored:
    """The entries of one derivation's named tensors in its forward names, sharing one letter per window."""

    def __init__(self, named):
        self.named = named
        self.letters: dict[tuple, sp.Symbol] = {}  # window (its entries, in order) -> the letter of its first maximum
        # which name is each window's maximum (S_12 = max(...)): its index names the window's letter
        self.owners = {frozenset(d.args): name for name, d in named.definitions.items() if isinstance(d, sp.Max)}
        self._routes: bool | None = None  # whether any definition holds a routing (may_route)
        self._entries: dict = {}  # expression in delta names -> its entry (entry)

    def may_route(self, array) -> bool:
        """Whether writing `array`'s deltas in may meet a max-pooling routing (and so name a window's letter)."""
        if self._routes is None:
            self._routes = any(d.has(FirstArgmax) for d in self.named.definitions.values())
        return self._routes or any(sp.sympify(v).has(FirstArgmax) for v in np.asarray(array, dtype=object).reshape(-1))

    def has_deltas(self, expr) -> bool:
        return any(_is_delta(s) for s in sp.sympify(expr).free_symbols)

    def entry(self, expr) -> sp.Expr:
        """`expr` (in delta names) with every delta written in, factored, its routing through letters; each
        expression once (the page decides from a first entry before it asks for them all: page._first_too_long)."""
        expr = sp.sympify(expr)
        done = self._entries.get(expr)
        if done is None:
            done = self._entries[expr] = self._entry(expr)
        return done

    def _entry(self, expr) -> sp.Expr:
        while True:
            deltas = {s: self.named.definitions[s] for s in expr.free_symbols if _is_delta(s)}
            if not deltas:
                break
            expr = expr.xreplace(deltas)
        expr = sp.factor_terms(expr)
        content, rest = expr.as_content_primitive()
        if content != 1 and rest.is_Add:  # 1/2 (a + b): SymPy would distribute the number again
            expr = sp.Mul(content, rest, evaluate=False)
        routes = {f: Routed(self.letter(f.args[1:]), int(f.args[0]) + 1) for f in expr.atoms(FirstArgmax)}
        return expr.xreplace(routes)

    def entries(self, array) -> np.ndarray:
        array = np.asarray(array, dtype=object)
        return np.array([self.entry(v) for v in array.reshape(-1)], dtype=object).reshape(array.shape)

    def common(self, entries) -> tuple[list, np.ndarray]:
        """(the factors every nonzero entry shares, the entries divided by them); ([], entries) when none.

        2 (S_11 - 60) x_11 1[m = 1], ...: the factor 2 (S_11 - 60) is written once, before the matrix.
        """
        entries = np.asarray(entries, dtype=object)
        nonzero = [e for e in entries.reshape(-1) if e != 0]
        if len(nonzero) < 2:
            return [], entries
        shared = set(sp.Mul.make_args(nonzero[0]))
        for e in nonzero[1:]:
            shared &= set(sp.Mul.make_args(e))
        if all(f.is_number for f in shared):
            return [], entries
        return _ordered(shared), np.array([sp.Mul(*[f for f in sp.Mul.make_args(e) if f not in shared]) if e != 0 else e
                                 for e in entries.reshape(-1)], dtype=object).reshape(entries.shape)

    def letter(self, window) -> sp.Symbol:
        """m for a network's only max window; m_12 for the window of S_12 when there are several."""
        window = tuple(window)
        if window not in self.letters:
            owner = self.owners.get(frozenset(window))
            alone = len(self.owners) == 1 and owner is not None
            self.letters[window] = sp.Symbol("m" if alone else "m_%s" % _index(owner, len(self.letters) + 1))
        return self.letters[window]

    def legend(self) -> list[str]:
        """`m = argmax(sigma_11, ...)` for each letter used, in LaTeX."""
        return [r"%s = \operatorname{argmax}\left(%s\right)" % (name_latex(m.name), ", ".join(tex(v) for v in window))
                for window, m in self.letters.items()]

    def restore(self, expr) -> sp.Expr:
        """`expr` with each letter's indicator written back as the engine's FirstArgmax (for checks)."""
        windows = {m: window for window, m in self.letters.items()}
        return sp.sympify(expr).replace(lambda e: isinstance(e, Routed),
                                        lambda e: FirstArgmax(int(e.args[1]) - 1, *windows[e.args[0]]))


def front(factors) -> str:
    """Shared factors as LaTeX before a matrix: 2 (S_11 - 60) (a sum in parentheses)."""
    return " ".join(r"\left(%s\right)" % tex(f) if f.is_Add else tex(f) for f in factors)


def _ordered(factors) -> list:
    """Numbers first, then the rest in SymPy's order (as SymPy prints a product)."""
    return sorted(factors, key=lambda f: (not f.is_number, sp.default_sort_key(f)))


def _is_delta(symbol) -> bool:
    return isinstance(symbol, sp.Symbol) and symbol.name.startswith(DELTA + "_")


def _index(owner, count: int) -> str:
    """The index part of a name (S_12 -> 12, S3_1_10 -> 1_10), or the count when there is none."""
    if owner is not None and "_" in owner.name:
        return owner.name.split("_", 1)[1]
    return str(count)
