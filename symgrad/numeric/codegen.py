"""A derivation as a readable NumPy module: one line per named intermediate.

The named form already is backprop's program (sigma, S, delta^S, delta^sigma,
then dL/dK in those names), so the module is that program, line by line. Every
scalar line works elementwise, so the same code evaluates one problem or a whole
batch (arrays with extra leading axes). Derivations without a named form
(method="diff") print the expanded expressions after `sympy.cse`.
"""

from __future__ import annotations

import ast
import inspect
import re
import textwrap
from dataclasses import dataclass, field

import numpy as np
import sympy as sp

from ..core.version import __version__
from ..core import tensor
from ..core.errors import OptionError, SymgradError
from . import runtime
from .arraycode import array_program, choose_form, first_positions, tensors_of, with_symbols
from .printer import Names, NumericPrinter

WIDTH = 100  # longest generated line; long sums wrap inside parentheses


@dataclass
class _Program:
    """What the module computes, as SymPy objects, before printing."""

    arguments: dict[str, np.ndarray]
    reads: list[tuple[sp.Symbol, str, tuple[int, ...]]]
    definitions: list[tuple[str, sp.Symbol, sp.Expr]]  # (section comment, name, expression)
    loss: sp.Expr
    output: np.ndarray
    gradients: dict[str, np.ndarray]
    updated: dict[str, np.ndarray]
    names: Names = field(default_factory=Names)


def generate_source(derivation, wrt=None, origin: str | None = None, command: str | None = None,
                    form: str = "auto") -> str:
    """The module source: docstring, ARGUMENTS, evaluate(), compute() and the helpers.

    `form`: "scalar" writes one line per named intermediate, "array" one NumPy statement
    per layer through the ops' array twins (arraycode.py), "auto" the array form for large
    derivations. `origin` (e.g. "the spec net.toml") and `command` (how it was written)
    only go into the docstring, escaped.

    A layer's buffers (running statistics) are constants of the code: it takes no buffer argument and
    returns no updated buffers (the derivation's `updated_buffers` hold those); a buffer with symbols is
    refused.
    """
    _check_steps(derivation)
    _check_buffers(derivation)
    if choose_form(derivation, form) == "array":
        program = array_program(derivation, _chosen(derivation, wrt))
        return _module(program.arguments, program.gradients, origin, command, program.body,
                       [_runtime_source(), *program.functions],
                       ["#: Entries that are numbers in the derivation: the constants of this code.",
                        "CONSTANTS = {", *program.constants, "}"])
    program = _program(derivation, wrt)
    printer = NumericPrinter(program.names, fast=not getattr(derivation, "expanded", True))
    arguments = {name: tuple(a.shape) for name, a in program.arguments.items()}
    return _module(arguments, list(program.gradients), origin, command, _body(program, printer), [_runtime_source()])


def _check_steps(derivation) -> None:
    """Generated code takes one optimizer step (its `updated` is step 1's): steps = n > 1 is refused, not
    returned as if the loop's last parameters were one step's."""
    steps = len(getattr(derivation, "steps", []))
    if steps > 1:
        raise OptionError("lambdify", "steps", f"generated code takes one optimizer step, and this derivation "
                                               f"takes {steps} (steps = {steps}): derive with steps = 1, or read "
                                               "each step from --format json's \"steps\"")


def _check_buffers(derivation) -> None:
    """Buffers are constants of generated code: each must be numbers."""
    for name, buffer in derivation.tensors.buffers.items():
        if not tensor.is_numeric(buffer.value):
            raise OptionError("lambdify", name, "the buffer holds symbols; generated code takes the input, the "
                                                "parameters and the target only: give the buffer numbers")


def _module(arguments, gradients, origin, command, body, functions, constants=()) -> str:
    shown = "".join(f"    {name!r}: {shape!r},\n" for name, shape in arguments.items())
    return "\n".join([
        _docstring(arguments, gradients, origin, command),
        "import numpy as np",
        "",
        "#: The arrays evaluate() takes, by name, with the shape of one problem.",
        "ARGUMENTS = {\n" + shown + "}",
        "",
        "",
        "def evaluate(arrays=None, /, **named):",
        '    """{"loss", "output", "gradients", "updated"} from float arrays by name (see ARGUMENTS)."""',
        "    arrays, batch = _check_arguments(ARGUMENTS, {**(arrays or {}), **named})",
        "    return compute(arrays, batch)",
        "",
        "",
        "def compute(arrays, batch):",
        '    """The derivation step by step; each line works on whole arrays with the batch axes in front."""',
        *body,
        "",
        "",
        "# Helpers, copied from symgrad/numeric/runtime.py" + (" and the ops' array twins (symgrad/ops)."
                                                              if len(functions) > 1 else "."),
        "",
        "\n\n\n".join(functions),
        *(["", "", *constants] if constants else []),
        "",
    ])


def _chosen(derivation, wrt) -> list[str]:
    names = list(derivation.gradients)
    for name in wrt or ():
        if name not in names:
            raise OptionError("lambdify", "wrt", f"unknown name {name!r} (choose from {', '.join(names)})")
    return [n for n in names if not wrt or n in wrt]


def _program(derivation, wrt) -> _Program:
    chosen = _chosen(derivation, wrt)
    tensors = tensors_of(derivation)
    arguments = {k: tensors[k] for k in with_symbols(tensors)}
    program = _Program(arguments=arguments, reads=[], definitions=[], loss=derivation.loss,
                       output=derivation.tensors.output, gradients={}, updated={})
    for entry, (tensor_name, flat) in first_positions(tensors, arguments).items():
        program.names.add(entry)
        index = tuple(int(i) for i in np.unravel_index(flat, arguments[tensor_name].shape))
        program.reads.append((entry, tensor_name, index))
    named = derivation.named
    if named is not None:
        sections = _sections(derivation)
        program.definitions = [(sections.get(s, ""), s, e) for s, e in named.definitions.items()]
        program.loss = named.loss
        if named.activations:
            program.output = named.activations[-1][1]
        gradients = {k: named.gradients[k] for k in chosen}
    else:
        gradients = {k: derivation.tensors.gradient(k) for k in chosen}
    for name, grad in gradients.items():
        program.gradients[name] = _gradient_lines(program, name, tensors[name], grad)
        if derivation.optimizer is not None and name in derivation.parameters:
            program.updated[name] = derivation.optimizer.step(tensors[name], program.gradients[name])
    if named is None:
        _common_subexpressions(program)
    _prune(program)
    for _, symbol, _ in program.definitions:
        program.names.add(symbol)
    _check_symbols(program)
    return program


def _sections(derivation) -> dict[sp.Symbol, str]:
    """Which layer each name belongs to, for the comments between blocks of lines."""
    labels = {}
    network = derivation.network
    for i, (_, array) in enumerate(derivation.named.activations):
        labels.update((s, f"forward: {network.label(i)}") for s in array.reshape(-1))
    for i, (_, array) in enumerate(derivation.named.deltas):
        labels.update((s, f"backward: dL/d(output of {network.label(i)})") for s in array.reshape(-1))
    return labels


def _gradient_lines(program, name, values, grad) -> np.ndarray:
    """One line dL_dk_11 = ... per compound entry; numbers and bare names are used as they are."""
    out = np.empty(grad.shape, dtype=object)
    for index in np.ndindex(*grad.shape):
        entry = grad[index]
        if entry.is_number or isinstance(entry, sp.Symbol):
            out[index] = entry
            continue
        of = values[index]  # dL/dk_11 when the entry is the symbol k_11, else by position: dL/d(0.weight)_1111
        wanted = "dL_d" + (of.name if isinstance(of, sp.Symbol) else tensor.index_name(name, tuple(i + 1 for i in index)))
        variable = sp.Dummy(wanted)
        program.definitions.append(("gradients", variable, entry))
        program.names.add(variable, wanted)
        out[index] = variable
    return out


def _common_subexpressions(program) -> None:
    """Expanded expressions (no named form) repeat a lot: hoist the repeats with sympy.cse."""
    exprs = [program.loss, *program.output.reshape(-1), *(e for _, _, e in program.definitions)]
    replacements, reduced = sp.cse(exprs, symbols=sp.numbered_symbols("cse", cls=sp.Dummy))
    n = 1 + program.output.size
    program.loss = reduced[0]
    program.output = tensor.vector(reduced[1:n]).reshape(program.output.shape)
    lines = [(section, symbol, expr) for (section, symbol, _), expr in zip(program.definitions, reduced[n:])]
    program.definitions = [("common subexpressions", s, e) for s, e in replacements] + lines


def _prune(program) -> None:
    """Drop definitions nothing asked for (e.g. deltas only needed by gradients left out by wrt)."""
    needed = set(sp.sympify(program.loss).free_symbols)
    for array in [program.output, *program.gradients.values(), *program.updated.values()]:
        for entry in array.reshape(-1):
            needed |= entry.free_symbols
    kept = []
    for section, symbol, expr in reversed(program.definitions):
        if symbol in needed:
            needed |= expr.free_symbols
            kept.append((section, symbol, expr))
    program.definitions = kept[::-1]
    program.reads = [read for read in program.reads if read[0] in needed]


def _check_symbols(program) -> None:
    used = set(sp.sympify(program.loss).free_symbols)
    for array in [program.output, *program.updated.values()]:
        for entry in array.reshape(-1):
            used |= entry.free_symbols
    for _, _, expr in program.definitions:
        used |= expr.free_symbols
    missing = sorted(s.name for s in used if s not in program.names)
    if missing:
        raise SymgradError(f"cannot generate numeric code: {', '.join(missing)} only appear inside expressions "
                           "of tensor entries; give every symbol as an entry of its own")


def _body(program, printer) -> list[str]:
    lines = ["    # arguments"] if program.reads else []
    for symbol, tensor_name, index in program.reads:
        subscript = ", ".join(["...", *map(str, index)])
        lines.append(f"    {program.names[symbol]} = arrays[{tensor_name!r}][{subscript}]")
    section = None
    for label, symbol, expr in program.definitions:
        if label != section:
            lines.append(f"    # {label}")
            section = label
        lines += _assign(program.names[symbol], _code(expr, printer))
    lines.append("    # results")
    lines += _assign("loss", f"_pack(batch, (), [{_code(program.loss, printer)}])")
    lines += _assign("output", _packed(program.output, printer))
    for key, values in (("gradients", program.gradients), ("updated", program.updated)):
        lines.append(f"    {key} = {{}}")
        for name, array in values.items():
            lines += _assign(f"{key}[{name!r}]", _packed(array, printer))
    lines.append('    return {"loss": loss, "output": output, "gradients": gradients, "updated": updated}')
    return lines


def _code(expr, printer) -> str:
    expr = sp.sympify(expr)
    return repr(float(expr)) if expr.is_number else printer.doprint(expr)


def _packed(array, printer) -> str:
    entries = ", ".join(_code(e, printer) for e in array.reshape(-1))
    return f"_pack(batch, {tuple(array.shape)!r}, [{entries}])"


def _assign(target: str, code: str) -> list[str]:
    """`target = code`, wrapped at spaces inside parentheses when longer than WIDTH (no strings in code)."""
    line = f"    {target} = {code}"
    if len(line) <= WIDTH:
        return [line]
    chunks = textwrap.wrap(code, WIDTH - 8, break_long_words=False, break_on_hyphens=False)
    return [f"    {target} = (", *(f"        {chunk}" for chunk in chunks), "    )"]


def _docstring(arguments, gradients, origin, command) -> str:
    shapes = "\n".join(f"    {name!r:<12} {shape!r}" for name, shape in arguments.items())
    example = "".join(f"        {name!r}: np.zeros({shape!r}),\n" for name, shape in arguments.items())
    written = f"Written by: {_escape(command)}\n" if command else ""
    text = (f"Loss, output and gradients of {_escape(origin or 'a symgrad derivation')}.\n\n"
            f"Generated by symgrad {__version__}; needs only NumPy. "
            f"Gradients: {', '.join(gradients) or 'none'}.\n{written}\n"
            "Call evaluate() with one float array per argument, by name (shape of one problem):\n\n"
            f"{shapes or '    (none: every entry is a number)'}\n\n"
            f"    result = evaluate({{\n{example}    }})\n"
            '    result["loss"], result["output"], result["gradients"], result["updated"]\n\n'
            "Names that are identifiers may also be keywords: evaluate(input=x, **{\"0.weight\": k}).\n"
            "An array with extra leading axes, e.g. shape (B, *shape), holds B independent problems:\n"
            "all of them are evaluated at once, and arrays without those axes are shared by all.\n"
            "The loss then has shape (B,) and every other result gains the leading B axis.\n"
            "Entries that are numbers in the derivation are constants: values given there are ignored.\n"
            "Max pooling routes each gradient to the first maximum of its window, as torch does.\n")
    wrapped = [p if p.startswith("    ") else textwrap.fill(p, WIDTH - 4, break_long_words=False, break_on_hyphens=False) for p in text.split("\n")]
    return '"""' + "\n".join(wrapped) + '"""\n'


def _escape(text: str) -> str:
    """User text (a spec path or title) made safe inside a docstring: no quote or backslash can end it."""
    text = re.sub(r"[\x00-\x1f\x7f]", " ", text)
    return text.replace("\\", "\\\\").replace('"', '\\"')


def _runtime_source() -> str:
    """runtime.py from its first function on (the module imports numpy itself)."""
    source = inspect.getsource(runtime)
    first = next(node for node in ast.parse(source).body if isinstance(node, ast.FunctionDef)).lineno
    return "".join(source.splitlines(keepends=True)[first - 1:])
