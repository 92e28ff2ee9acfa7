"""Numbers for a large derivation kept in names, without generating a module.

Printing a whole LeNet as Python (one line per intermediate, 61,706 gradient lines)
and compiling it takes a minute and gigabytes. But nearly every named definition
has one shape: a sum of terms c * u * v (c a number, u and v symbols, either
optional) -- every convolution, linear layer, average pool and their backward
rules. Those become index arrays, evaluated for a whole layer at once
(np.bincount over the terms). The rest (sigmoid, max, the argmax routing, the
loss) is grouped by *template* -- the expression with its symbols replaced by
their order of first appearance -- and each template is printed once (the same
printer as the generated code) and evaluated for all its instances at once.

Used by `verify.evaluate` and by `derive` (float values of an all-numeric
derivation kept in names) whenever the derivation is not expanded.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from ..core.errors import SymgradError
from . import runtime
from .printer import Names, NumericPrinter


def evaluate_named(derivation, values: dict) -> dict:
    """{"names", "output", "loss", "gradients", "updated"} as float64, one problem.

    `values` maps every free symbol (input, parameters, target) to a number.
    """
    named = derivation.named
    slots = _Slots()
    leaves: dict = {}
    for array in derivation.tensors.leaves():
        for entry in array.reshape(-1):
            if entry.is_Symbol and entry not in leaves:
                if entry not in values:
                    raise SymgradError(f"cannot evaluate numerically: no value for {entry}")
                leaves[entry] = float(values[entry])
    slots.set(list(leaves), np.fromiter(leaves.values(), dtype=np.float64, count=len(leaves)))
    groups = [array.reshape(-1) for _, array in named.activations]
    groups += [array.reshape(-1) for _, array in reversed(named.deltas)]
    for names in groups:
        slots.set(list(names), _evaluate([named.definitions[s] for s in names], slots))
    result = {"names": {str(s): slots.value(s) for s in named.definitions}}
    last = named.activations[-1][1] if named.activations else derivation.tensors.input
    result["output"] = np.array([slots.value(s) for s in last.reshape(-1)]).reshape(last.shape)
    result["loss"] = float(_evaluate([sp.sympify(named.loss)], slots)[0])
    result["gradients"] = {}
    for name, grad in named.gradients.items():
        result["gradients"][name] = _evaluate(list(grad.reshape(-1)), slots).reshape(grad.shape)
    result["updated"] = {}
    if derivation.optimizer is not None:
        for name in derivation.parameters:
            result["updated"][name] = _updated(derivation, name, result["gradients"][name], values)
    return result


def _updated(derivation, name, gradient, values) -> np.ndarray:
    """The optimizer step at numbers: the step's own formula applied to float arrays."""
    parameter = derivation.tensors.parameters[name].value
    numbers = np.array([float(e.xreplace(values)) if e.free_symbols else float(e) for e in parameter.reshape(-1)])
    step = derivation.optimizer.step(numbers.reshape(parameter.shape).astype(object), gradient.astype(object))
    return np.asarray(step, dtype=np.float64)


class _Slots:
    """A float64 value per symbol, by index."""

    def __init__(self):
        self.index: dict[sp.Symbol, int] = {}
        self.values: list[np.ndarray] = []
        self.size = 0
        self.flat = np.empty(0)

    def set(self, symbols, numbers: np.ndarray) -> None:
        for i, symbol in enumerate(symbols):
            self.index[symbol] = self.size + i
        self.size += len(symbols)
        self.flat = np.concatenate([self.flat, np.asarray(numbers, dtype=np.float64)])

    def value(self, symbol) -> float:
        return float(self.flat[self.index[symbol]])

    def indices(self, symbols) -> np.ndarray:
        try:
            return np.fromiter((self.index[s] for s in symbols), dtype=np.int64, count=len(symbols))
        except KeyError as error:
            raise SymgradError(f"cannot evaluate numerically: no value for {error.args[0]}") from None


def _evaluate(exprs: list, slots: _Slots) -> np.ndarray:
    """Float64 values of `exprs` (whose symbols all have slots), polynomial ones by index arrays."""
    out = np.zeros(len(exprs))
    owner, coeff, first, second, generic, wide = [], [], [], [], {}, []
    one = sp.Integer(1)
    for position, expr in enumerate(exprs):
        terms = _terms(expr)
        if terms is None:
            if expr.is_Add and len(expr.args) > WIDE:  # one printed line would overflow Python's compiler
                wide.append(position)
                continue
            generic.setdefault(_template(expr), []).append(position)
            continue
        for c, u, v in terms:
            if u is None:
                out[position] += c
            else:
                owner.append(position)
                coeff.append(c)
                first.append(u)
                second.append(one if v is None else v)
    if owner:
        flat = np.append(slots.flat, 1.0)  # the last slot holds 1 for terms c*u
        index = slots.index
        ones = len(slots.flat)
        try:
            u = np.fromiter((index[s] for s in first), dtype=np.int64, count=len(first))
            v = np.fromiter((ones if s is one else index[s] for s in second), dtype=np.int64, count=len(second))
        except KeyError as error:
            raise SymgradError(f"cannot evaluate numerically: no value for {error.args[0]}") from None
        contributions = np.asarray(coeff, dtype=np.float64) * flat[u] * flat[v]
        out += np.bincount(np.asarray(owner, dtype=np.int64), weights=contributions, minlength=len(exprs))
    for positions in generic.values():
        out[positions] = _run_template(positions, exprs, slots)
    for position in wide:  # a sum of many terms of other shapes (an MSE over 10,000 outputs): term by term
        out[position] = _evaluate(list(exprs[position].args), slots).sum()
    return out


#: A sum of more terms than this (not all c*u*v) is evaluated term by term: printed as one line of
#: Python, 3,000 terms overflowed the compiler's recursion ("the derivation is too large").
WIDE = 256


def _terms(expr):
    """[(c, u, v)] with expr = sum c*u*v (u, v symbols or None), or None when it has another shape."""
    args = expr.args if expr.is_Add else (expr,)
    terms = []
    for term in args:
        if term.is_Symbol:
            terms.append((1.0, term, None))
        elif term.is_Rational:
            terms.append((term.p / term.q, None, None))
        elif term.is_Float:
            terms.append((float(term), None, None))
        elif term.is_Mul:
            factors = term.args
            c = 1.0
            if factors[0].is_Rational:
                c, factors = factors[0].p / factors[0].q, factors[1:]
            elif factors[0].is_Float:
                c, factors = float(factors[0]), factors[1:]
            if len(factors) > 2 or not all(f.is_Symbol for f in factors):
                return None
            terms.append((c, factors[0], factors[1] if len(factors) == 2 else None))
        else:
            return None
    return terms


def _template(expr) -> str:
    """The expression's structure with symbols numbered by first appearance: equal for sigmoid(a_1), sigmoid(a_2)."""
    order: dict = {}
    parts: list[str] = []

    def walk(node):
        if node.is_Symbol:
            parts.append(f"s{order.setdefault(node, len(order))}")
        elif not node.args:
            parts.append(f"{type(node).__name__}:{node}")
        else:
            parts.append(type(node).__name__ + "(")
            for arg in node.args:
                walk(arg)
                parts.append(",")
            parts.append(")")

    walk(expr)
    return "".join(parts)


def _symbols_in_order(expr) -> list:
    seen: dict = {}

    def walk(node):
        if node.is_Symbol:
            seen.setdefault(node, None)
        else:
            for arg in node.args:
                walk(arg)

    walk(expr)
    return list(seen)


class _TemplatePrinter(NumericPrinter):
    """Prints symbol j of a template as P[j] (an array over all instances)."""

    def __init__(self, columns: dict):
        super().__init__(Names(), fast=True)
        self._columns = columns

    def _print_Symbol(self, expr):
        return f"P[{self._columns[expr]}]"

    _print_Dummy = _print_Symbol


def _run_template(positions, exprs, slots) -> np.ndarray:
    """All instances of one template at once: printed from the first, fed with columns of values."""
    first = exprs[positions[0]]
    symbols = _symbols_in_order(first)
    columns = {s: j for j, s in enumerate(symbols)}
    code = _TemplatePrinter(columns).doprint(first)
    table = [slots.indices(_symbols_in_order(exprs[p])) for p in positions]
    matrix = np.array(table, dtype=np.int64).reshape(len(positions), len(symbols))
    P = [slots.flat[matrix[:, j]] for j in range(len(symbols))]
    namespace = {**vars(runtime), "P": P}  # the printed code runs among runtime.py's helpers, as generated code does
    result = eval(compile(code, "<symgrad-template>", "eval"), namespace)  # our own printed code, never user text
    return np.broadcast_to(np.asarray(result, dtype=np.float64), (len(positions),))
