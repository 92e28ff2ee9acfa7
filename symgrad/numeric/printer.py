"""How expressions become NumPy code: sympy's NumPyPrinter with our own names and ops.

Why a custom printer: `lambdify` of Max/Heaviside conditions is very slow and
SymPy's d Max splits ties 1/2-1/2, while torch routes to the first maximum. So
Max prints as a chain of `np.maximum`, FirstArgmax as the `_first_argmax`
helper (torch's scan), and every symbol by a sanitised Python identifier.
NumPy has no erf (GELU's), and the printed code runs where only `np` is defined
(both generated forms, and numeric/bulk.py's templates): erf prints as Python's
own math.erf over the array, imported in the expression itself.
"""

from __future__ import annotations

import builtins
import keyword
import re

import sympy as sp
from sympy.printing.numpy import NumPyPrinter

# Names the generated code uses itself; helpers start with "_", symbols never do.
RESERVED = frozenset(keyword.kwlist) | frozenset(dir(builtins)) | {
    "np", "arrays", "batch", "loss", "output", "gradients", "updated", "compute", "evaluate", "ARGUMENTS"}


class Names:
    """Unique Python identifiers for symbols: their names (identifiers already: delta_S_11, x_1_12), S_ -> S,
    and a name the generated code uses itself (np, loss, a keyword) numbered (np_2)."""

    def __init__(self):
        self._by_symbol: dict[sp.Symbol, str] = {}
        self._taken = set(RESERVED)

    def add(self, symbol: sp.Symbol, wanted: str | None = None) -> str:
        if symbol in self._by_symbol:
            return self._by_symbol[symbol]
        base = re.sub(r"[^A-Za-z0-9_]", "_", wanted or symbol.name).strip("_") or "v"
        if not base[0].isalpha():
            base = "v" + base
        name, n = base, 1
        while name in self._taken:
            n += 1
            name = f"{base}_{n}"
        self._taken.add(name)
        self._by_symbol[symbol] = name
        return name

    def __getitem__(self, symbol: sp.Symbol) -> str:
        return self._by_symbol[symbol]

    def __contains__(self, symbol) -> bool:
        return symbol in self._by_symbol


class NumericPrinter(NumPyPrinter):
    """NumPyPrinter writing `np.`, our names, `np.maximum` chains and `_first_argmax`.

    `fast=True` (large derivations kept in names) prints sums in their stored order
    and products of symbols and numbers directly: SymPy's term ordering and general
    `_print_Mul` took over 90% of the time on a conv layer's 100,000-term gradients.
    """

    def __init__(self, names: Names, fast: bool = False):
        super().__init__({"strict": True, "fully_qualified_modules": True, "order": "none" if fast else None})
        self._names = names
        self._fast = fast

    def _module_format(self, fqn, register=True):
        if fqn.startswith("numpy."):
            fqn = "np." + fqn[len("numpy."):]
        return super()._module_format(fqn, register)

    def _print_Symbol(self, expr):
        if expr not in self._names:
            raise KeyError(f"no Python name for the symbol {expr}")
        return self._names[expr]

    _print_Dummy = _print_Symbol

    def _print_Mul(self, expr):
        """Fast mode: c*x*y for a number c and symbols, as Python evaluates it (c first, left to right)."""
        if self._fast and all(a.is_Symbol or a.is_Rational or a.is_Float for a in expr.args):
            coeff, rest = expr.as_coeff_Mul()
            body = "*".join(self._print(a) for a in sp.Mul.make_args(rest))
            if coeff == 1:
                return body
            if coeff == -1:
                return "-" + body
            return f"{self._print(coeff)}*{body}"
        return super()._print_Mul(expr)

    def _chain(self, function, args):
        code = self._print(args[0])
        for arg in args[1:]:
            code = f"{function}({code}, {self._print(arg)})"
        return code

    def _print_Max(self, expr):
        return self._chain("np.maximum", expr.args)

    def _print_Min(self, expr):
        return self._chain("np.minimum", expr.args)

    def _print_Function(self, expr):
        """Our own indicator functions (e.g. a ReLU derivative) print through their Piecewise form."""
        if expr.func.__name__ not in self.known_functions:
            rewritten = expr.rewrite(sp.Piecewise)
            if rewritten != expr:
                return self._print(rewritten)
        return super()._print_Function(expr)

    def _print_Piecewise(self, expr):
        """(a, c1), (b, True) -> np.where(c1, a, b): shorter than np.select, and elementwise."""
        if expr.args[-1].cond != sp.true:
            return super()._print_Piecewise(expr)
        code = self._print(expr.args[-1].expr)
        for value, condition in reversed(expr.args[:-1]):
            code = f"np.where({self._print(condition)}, {self._print(value)}, {code})"
        return code

    def _print_erf(self, expr):
        return f'np.vectorize(__import__("math").erf, otypes=[np.float64])({self._print(expr.args[0])})'

    def _print_FirstArgmax(self, expr):
        return f"_first_argmax({', '.join(self._print(a) for a in expr.args)})"
