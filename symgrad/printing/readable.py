"""SymPy syntax that plain SymPy reads back: the strings of `derive --format json`.

`sympy.sympify(s)` (no symgrad import, no extra locals) must give an expression that,
with numbers put in for the symbols, gives torch's numbers. SymPy's str() already does
that for SymPy's own classes; symgrad's indicators print through SymPy's functions here:

- FirstArgmax(k; v_1, ..., v_n), torch's max-pool routing, as the Piecewise of its rule:
  1 where v_k beats every earlier value strictly and every later one or ties it, else 0
  (`Piecewise((1, (v_k > v_1) & (v_k >= v_n)), (0, True))`). A NaN in the window (torch
  routes to it) is not expressible, as documented.
- Positive(x), ReLU's derivative 1[x > 0], as `Heaviside(x, 0)`: 0 at exactly 0, as torch.
- Max and Min as symgrad keeps them, unevaluated: `Max(a, b, evaluate=False)`. SymPy's
  evaluation of a Max of sums (pairwise searches for comparable arguments) takes
  seconds per formula: reading back a 4x4 conv -> ReLU -> max-pool gradient took 4.2 s
  evaluated, 0.3 s unevaluated. Putting numbers in (subs, xreplace) evaluates it.

The text format keeps the short forms people read (FirstArgmax(1; ...), 1[x > 0]), which
the ops declare (`_sympystr`); this printer is keyed by class and ignores them. The
conditions are written as text, not built as SymPy relations: building `a > b` for two
sums asks SymPy's (slow) assumptions whether a - b is positive.
"""

from __future__ import annotations

from sympy.printing.precedence import PRECEDENCE
from sympy.printing.str import StrPrinter


class ReadablePrinter(StrPrinter):
    """StrPrinter whose output `sympy.sympify` reads back to the same values, symgrad's functions included."""

    # Not "_sympystr": the ops' own text forms (FirstArgmax(1; ...), 1[x > 0]) are for people, not SymPy.
    printmethod = "_readable_sympystr"

    def _print_FirstArgmax(self, expr):
        k = int(expr.args[0])
        values = [self.parenthesize(v, PRECEDENCE["Relational"] + 1) for v in expr.args[1:]]
        mine = values[k]
        conditions = [f"({mine} > {v})" for v in values[:k]] + [f"({mine} >= {v})" for v in values[k + 1:]]
        condition = " & ".join(conditions) if conditions else "True"
        return f"Piecewise((1, {condition}), (0, True))"

    def _print_Positive(self, expr):
        return f"Heaviside({self._print(expr.args[0])}, 0)"

    def _print_Max(self, expr):
        return f"{expr.func.__name__}({self.stringify(expr.args, ', ')}, evaluate=False)"

    _print_Min = _print_Max


_DEFAULT = ReadablePrinter()
_UNORDERED = ReadablePrinter({"order": "none"})


def readable(expr) -> str:
    """`expr` in SymPy syntax that plain `sympy.sympify` reads back (terms in SymPy's order, as str())."""
    return _DEFAULT.doprint(expr)


def readable_unordered(expr) -> str:
    """The same without sorting terms (the fast path for sums of thousands of terms)."""
    return _UNORDERED.doprint(expr)
