"""`derive()` and what it returns, a `Derivation`: the engine's record with its conveniences.

The engine (derivation.py) builds a plain `Record` and imports nothing above it. The
conveniences of a finished derivation read the layers above the engine: `hessian`
(hessian.py re-derives through the engine), `lambdify` (numeric) and Jupyter's
`_repr_markdown_` / `_repr_latex_` (printing.steps). So they live here, in a module
above all of them, and `derive()` returns its record as a `Derivation`: every arrow
points down. An all-numeric derivation kept in names (too large to expand) gets its
float64 numbers here too, from numeric's evaluation of its named program.
"""

from __future__ import annotations

import functools
import inspect
from dataclasses import fields

import sympy as sp

from .engine import derivation as engine
from .engine.derivation import EXPAND_LIMIT, INPUT, Record, as_input  # noqa: F401 (their documented home)
from .core.errors import OptionError
from .engine import training
from .engine.hessian import hessian as hessian_of


class Derivation(Record):
    """A finished derivation. Every public field holds SymPy objects (Array or Expr).

    `tensors` keeps the same tensors as NumPy object arrays, for printers and numeric code.
    The fields are the engine's (`symgrad.engine.derivation.Record`); the methods below add what
    the layers above the engine give.
    """

    @classmethod
    def of(cls, record: Record) -> "Derivation":
        """The engine's record as a Derivation (the same field objects, not copies)."""
        return cls(**{f.name: getattr(record, f.name) for f in fields(Record)})

    def hessian(self, name: str) -> sp.Matrix:
        """d^2 L / d theta_i d theta_j for parameter `name` flattened row-major: see `symgrad.engine.hessian`."""
        if not self.expanded:
            raise OptionError("hessian", "name", "needs the explicit gradient, and this derivation is kept in "
                                                 "named intermediates (too large): derive with expand=True")

        return hessian_of(self, name)

    def _repr_markdown_(self) -> str:
        """Jupyter: the step-by-step derivation as Markdown with $$ math (symgrad.printing.steps)."""
        from .printing.steps import markdown_body

        return markdown_body(self)

    def _repr_latex_(self) -> str:
        """Jupyter's math-only LaTeX view: the key equations (symgrad.printing.steps)."""
        from .printing.steps import latex_summary

        return latex_summary(self)

    def lambdify(self, wrt=None, form="auto"):
        """Generated NumPy code for this derivation, batch-capable: see `symgrad.numeric.lambdify`."""
        from .numeric import lambdify

        return lambdify(self, wrt, form)


_ENGINE = inspect.signature(engine.derive)


@functools.wraps(engine.derive, assigned=("__name__", "__qualname__", "__doc__"))
def derive(*args, steps: int = 1, **kwargs) -> Derivation:
    return _trained(engine.derive, args, kwargs, steps)


derive.__doc__ += """
    `steps=n` (with an optimizer, every input a number) takes n optimizer steps on the same batch, zero_grad
    before each, the optimizer's state carried (symgrad.engine.training): the fields are the first step's,
    `steps` holds every step's loss, gradients and parameters after it.
    """
derive.__signature__ = _ENGINE.replace(
    parameters=[*_ENGINE.parameters.values(), inspect.Parameter("steps", inspect.Parameter.KEYWORD_ONLY, default=1,
                                                                annotation="int")],
    return_annotation="Derivation")


def derive_checked(*args, steps: int = 1, where: str = "derive", **kwargs) -> Derivation:
    """`derive` of a Spec's input and target, whose entries spec.py checked when it read them (`where`
    names the spec in a refusal of its steps)."""
    return _trained(engine.derive_checked, args, kwargs, steps, where, checked=True)


def _trained(run, args, kwargs, steps, where: str = "derive", checked: bool = False) -> Derivation:
    """One derivation, or with steps > 1 the training loop's steps on top of it (engine/training.py).
    Symbols are refused before any work when the input and target are checked already (a spec's),
    else from the first step's checked tensors."""
    bound = _ENGINE.bind(*args, **kwargs)
    bound.apply_defaults()
    a = bound.arguments
    steps = training.check_steps(where, steps, a["optimizer"])
    if steps > 1 and checked:
        training.check_numbers(where, a["network"], a["input"], a["loss"], a["target"])
    first = _finished(run(*args, **kwargs))
    if steps > 1:
        t = first.tensors
        if not checked:
            training.check_numbers(where, a["network"], t.input, a["loss"], t.target)

        def again(network):
            return _finished(engine.derive_checked(network, t.input, a["loss"], t.target, None, a["method"],
                                                   a["backward_passes"], a["expand"], a["progress"]))

        first.steps = training.run(first, steps, a["optimizer"], again)
    return first


def _finished(record: Record) -> Derivation:
    """The record as a Derivation; kept in names with every input a number, its fields hold the
    named program's float64 values (the exact ones would be the explosion expand avoids)."""
    if not record.expanded and not record.free_symbols:
        from .numeric.bulk import evaluate_named

        with engine.cyclic_gc_paused():
            engine.in_float64(record, evaluate_named(record, {}))
    return Derivation.of(record)
