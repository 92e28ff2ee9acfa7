"""Numeric twins of derivations: generated NumPy code, evaluated one problem or a batch at a time.

No torch here, and no `sympy.lambdify`: the code is printed from the named form
(one readable line per intermediate) and exec'd in a fresh namespace. Only our
own generated text is exec'd; symbol names were checked as identifiers and are
sanitised again, user text appears only escaped inside the docstring.
"""

from __future__ import annotations

import itertools
import linecache

from .codegen import generate_source

_counter = itertools.count(1)


class NumericFunction:
    """f(arrays=None, /, **named) -> {"loss", "output", "gradients", "updated"}; see docs/numeric.md.

    `arguments` maps each argument name ("input", "0.weight", "target", ...) to the
    shape of one problem; `source` is the generated module.
    """

    def __init__(self, source: str):
        filename = f"<symgrad-numeric-{next(_counter)}>"
        linecache.cache[filename] = (len(source), None, source.splitlines(keepends=True), filename)
        namespace = {"__name__": "symgrad_numeric_generated"}
        exec(compile(source, filename, "exec"), namespace)  # our own generated code, never user text
        self.source = source
        self.arguments: dict[str, tuple[int, ...]] = dict(namespace["ARGUMENTS"])
        self._evaluate = namespace["evaluate"]

    def __call__(self, arrays=None, /, **named) -> dict:
        return self._evaluate(arrays, **named)

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}{list(v)}" for k, v in self.arguments.items())
        return f"<NumericFunction({shown})>"


def lambdify(derivation, wrt=None, form: str = "auto") -> NumericFunction:
    """NumPy code for `derivation`: loss, output, gradients (all, or those named in `wrt`) and the SGD update.

    `form`: "scalar" (one line per named intermediate), "array" (one statement per layer)
    or "auto" (the array form for large derivations); see docs/numeric.md.
    """
    return NumericFunction(generate_source(derivation, wrt, form=form))


__all__ = ["NumericFunction", "generate_source", "lambdify"]
