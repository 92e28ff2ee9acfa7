"""The ops' array twins as generated modules hold them: copied from source text, with only np.

Uses the generator's own copier (symgrad/numeric/arraycode.py), so a twin that reads a
global other than np or symgrad functions fails here as it would when code is generated.
"""

import numpy as np

from symgrad.numeric.arraycode import _function_sources, copied_functions


def copied_sources(*functions) -> dict[str, str]:
    """{name: source} of the functions and of every module-level function they call."""
    return dict(zip(copied_functions(list(functions)), _function_sources(list(functions))))


def standalone(*functions) -> dict:
    """A namespace holding only np, where the functions' copied sources were exec'd."""
    namespace = {"np": np}
    exec(compile("\n\n\n".join(_function_sources(list(functions))), "<generated>", "exec"), namespace)
    return namespace


def rebuilt(function):
    """`function` as a generated module holds it."""
    return standalone(function)[function.__name__]
