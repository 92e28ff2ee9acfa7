"""The array form of a derivation's code: one NumPy statement per layer.

The scalar form (codegen.py) writes one line per named intermediate, which is what a
reader of a 3x3 example wants; at LeNet size it is hundreds of thousands of NumPy
calls on tiny arrays. The array form runs the same backward pass layer by layer
through each op's `array_twin` (plain NumPy declared beside the op's symbolic rules,
tested against torch autograd and the engine) and copies those functions into the
module, so a batch of problems costs a few matrix products and the code stays short:

    sigma = _conv2d_forward(x, k, b, stride=(1, 1), padding=(0, 0, 0, 0), dilation=(1, 1), groups=1)
    S = _max_pool2d_forward(sigma, kernel_size=(2, 2), ...)
    loss_value = _mse_loss_forward(S, y, reduction='mean')
    delta_S = _mse_loss_backward(S, y, reduction='mean')
    delta_sigma, = _max_pool2d_backward(delta_S, sigma, S, kernel_size=(2, 2), ...)
    dL_dx, dL_dk, dL_db = _conv2d_backward(delta_sigma, x, sigma, k, b, ...)
"""

from __future__ import annotations

import base64
import builtins
import dis
import inspect
import textwrap
from dataclasses import dataclass, field

import numpy as np
import sympy as sp

from ..core.errors import OptionError, SymgradError
from ..core.names import layer_names
from .printer import Names, NumericPrinter

#: form="auto" keeps the scalar form up to this many named intermediates (a readable page of sums).
SCALAR_FORM_LIMIT = 2_000
#: Longest generated line (calls wrap between their arguments).
WIDTH = 100
#: Constant arrays up to this many entries are written as literals; larger ones as base64 float64 bytes.
LITERAL_LIMIT = 200


@dataclass
class ArrayProgram:
    """The array form's pieces; codegen wraps them in the module skeleton."""

    arguments: dict[str, tuple[int, ...]]
    body: list[str]
    functions: list[str]  # sources of the op twins and their helpers
    constants: list[str] = field(default_factory=list)  # lines of the CONSTANTS dict
    gradients: list[str] = field(default_factory=list)


def choose_form(derivation, form: str) -> str:
    """'scalar' or 'array' for `form` in ('auto', 'scalar', 'array'); refuses what the array form cannot do."""
    if form not in ("auto", "scalar", "array"):
        raise OptionError("lambdify", "form", f"must be 'auto', 'scalar' or 'array', got {form!r}")
    if form == "scalar":
        return "scalar"
    why_not = _array_form_unavailable(derivation)
    if form == "array":
        if why_not:
            raise OptionError("lambdify", "form", f"the array form is not available: {why_not}")
        return "array"
    if why_not:
        return "scalar"
    large = not derivation.expanded or len(derivation.named.definitions) > SCALAR_FORM_LIMIT
    return "array" if large else "scalar"


def _array_form_unavailable(derivation) -> str:
    if derivation.named is None:
        return "method='diff' derivations have no layer-by-layer backward pass"
    ops = [*derivation.network.layers, *([derivation.loss_fn] if derivation.loss_fn is not None else [])]
    for op in ops:
        if not getattr(type(op), "array_twin", None):
            return f"{op.type_name} has no NumPy array twin"
    for key, array in tensors_of(derivation).items():
        for entry in array.reshape(-1):
            if not (entry.is_number or isinstance(entry, sp.Symbol)):
                return f"the entry {entry} of {key} is an expression (give every symbol as an entry of its own)"
    return ""


def tensors_of(derivation) -> dict[str, np.ndarray]:
    """The tensors a module may read, by argument name: input, every parameter, the target."""
    t = derivation.tensors
    tensors = {"input": t.input, **{k: p.value for k, p in t.parameters.items()}}
    if t.target is not None:
        tensors["target"] = t.target
    return tensors


def array_program(derivation, chosen: list[str]) -> ArrayProgram:
    """The body of compute() in the array form, for the gradients named in `chosen`."""
    network, loss_fn = derivation.network, derivation.loss_fn
    tensors = tensors_of(derivation)
    names = Names()
    variables = {key: names.add(sp.Dummy(), wanted) for key, wanted in _tensor_names(derivation).items()}
    arguments = {k: tuple(tensors[k].shape) for k in with_symbols(tensors)}
    reads = first_positions(tensors, arguments)

    body, constants = ["    # arguments"], []
    for key, array in tensors.items():
        code, constant = _tensor_code(key, array, reads, arguments, _dtype(loss_fn, key))
        body.append(f"    {variables[key]} = {code}")
        if constant is not None:
            constants.append(constant)

    shapes = [tuple(tensors["input"].shape), *network.shapes(tensors["input"].shape)]
    outputs = [variables["input"]] + [names.add(sp.Dummy(), n) for n in layer_names(network)]
    functions = []
    for i, layer in enumerate(network.layers):
        body.append(f"    # forward: {network.label(i)}")
        twin, options = layer.array_twin["forward"], layer.array_options(shapes[i])
        body += _statement(outputs[i + 1], _call(twin, [outputs[i], *_params(variables, network, i, layer)], options))
        functions.append(twin)

    loss_variable = names.add(sp.Dummy(), "loss_value")
    upstream = _loss(loss_fn, outputs[-1], shapes[-1], variables, loss_variable, body, functions)
    gradient_variables = _backward(derivation, chosen, variables, outputs, shapes, upstream, names, body,
                                   functions)
    body += _results(derivation, chosen, tensors, variables, outputs[-1], loss_variable, gradient_variables)
    return ArrayProgram(arguments=arguments, body=body, functions=_function_sources(functions),
                        constants=constants, gradients=list(chosen))


def _loss(loss_fn, out, out_shape, variables, loss_variable, body, functions) -> str:
    """The loss line; returns the code of dL/d(output), the backward pass's start."""
    body.append("    # loss")
    if loss_fn is None:  # the network ends in a scalar (Sum): it is the loss
        body.append(f"    {loss_variable} = {out}")
        return f"np.ones(np.shape({out}))"
    target = [variables["target"]] if "target" in variables else []
    options = loss_fn.array_options(out_shape)
    body += _statement(loss_variable, _call(loss_fn.array_twin["forward"], [out, *target], options))
    functions += [loss_fn.array_twin["forward"], loss_fn.array_twin["backward"]]
    return _call(loss_fn.array_twin["backward"], [out, *target], options)


def _results(derivation, chosen, tensors, variables, out, loss_variable, gradient_variables) -> list[str]:
    """The returned dict: every result gets the batch axes; gradients scaled by backward_passes; the step."""
    lines = ["    # results",
             f"    loss = _batched(batch, (), {loss_variable})",
             f"    output = _batched(batch, {tuple(derivation.tensors.output.shape)!r}, {out})",
             "    gradients = {}"]
    passes = derivation.backward_passes
    owners = derivation.network.owners()
    for name in chosen:
        places = [variable for key, variable in gradient_variables.items()  # every use of a shared layer
                  if key == name or (key != "input" and f"{owners[int(key.split('.')[0])]}.{key.split('.')[1]}" == name)]
        summed = " + ".join(places) if len(places) == 1 or passes == 1 else f"({' + '.join(places)})"
        scaled = f"{passes} * {summed}" if passes > 1 else summed
        lines.append(f"    gradients[{name!r}] = _batched(batch, {tuple(tensors[name].shape)!r}, {scaled})")
    lines.append("    updated = {}")
    if derivation.optimizer is not None:
        for name in chosen:
            if name in derivation.parameters:
                step = _step_code(derivation.optimizer, variables[name], f"gradients[{name!r}]")
                lines.append(f"    updated[{name!r}] = {step}")
    lines.append('    return {"loss": loss, "output": output, "gradients": gradients, "updated": updated}')
    return lines


def _tensor_names(derivation) -> dict[str, str]:
    """Python names of the tensors: x, k, b (k0, b0, k3, ... with several parametric layers), y."""
    network = derivation.network
    owners = network.owners()
    parametric = [i for i, layer in enumerate(network) if layer.parameter_shapes() and owners[i] == i]
    wanted = {"input": "x"}
    for i in parametric:
        layer = network.layers[i]
        for name in layer.parameter_shapes():
            base = layer.symbol_bases.get(name, name)
            wanted[f"{i}.{name}"] = base + (str(i) if len(parametric) > 1 else "")
    if derivation.tensors.target is not None:
        wanted["target"] = "y"
    return wanted


def _params(variables, network, i, layer) -> list[str]:
    """The parameters' variables of the layer at place i (a layer used twice reads the same ones)."""
    return [variables[network.parameter_key(i, name)] for name in layer.parameter_shapes()]


def _backward(derivation, chosen, variables, outputs, shapes, upstream, names, body, functions) -> dict[str, str]:
    """Each layer's backward twin, from the last layer down to the first one a chosen gradient needs."""
    network = derivation.network
    wanted_layers = [int(name.split(".")[0]) for name in chosen if name != "input"]
    lowest = 0 if "input" in chosen else min(wanted_layers, default=len(network))
    gradient_variables = {}
    if "input" in chosen and not len(network):
        gradient_variables["input"] = names.add(sp.Dummy(), "dL_dx")
        body.append("    # backward")
        body.append(f"    {gradient_variables['input']} = {upstream}")
        return gradient_variables
    delta = names.add(sp.Dummy(), f"delta_{outputs[-1]}")
    body.append(f"    # backward: dL/d(output of {network.label(len(network) - 1)})" if len(network) else "    # backward")
    body += _statement(delta, upstream)
    for i in reversed(range(lowest, len(network))):
        layer = network.layers[i]
        want_input = i > lowest or "input" in chosen
        if not want_input:
            into = "_"
        elif i > 0:
            into = names.add(sp.Dummy(), f"delta_{outputs[i]}")
            body.append(f"    # backward: dL/d(output of {network.label(i - 1)})")
        else:
            into = gradient_variables["input"] = names.add(sp.Dummy(), "dL_dx")
            body.append("    # backward: dL/d(input)")
        targets = [into]
        for name in layer.parameter_shapes():
            key = f"{i}.{name}"
            hint = f"dL_d{variables[network.parameter_key(i, name)]}"  # per place: summed in _results
            targets.append(gradient_variables.setdefault(key, names.add(sp.Dummy(), hint)))
        options = layer.array_options(shapes[i])
        if not want_input:
            options = {"want_input": False, **options}
        call = _call(layer.array_twin["backward"], [delta, outputs[i], outputs[i + 1], *_params(variables, network, i, layer)],
                     options)
        body += _statement(f"{', '.join(targets)}{',' if len(targets) == 1 else ''}", call)
        functions.append(layer.array_twin["backward"])
        delta = into
    return gradient_variables


def _call(function, arguments: list[str], options: dict) -> str:
    shown = [*arguments, *(f"{key}={value!r}" for key, value in options.items())]
    return f"{function.__name__}({', '.join(shown)})"


def _statement(target: str, code: str) -> list[str]:
    """`    target = code`, a long call wrapped between its arguments (never inside one) within WIDTH."""
    line = f"    {target} = {code}"
    if len(line) <= WIDTH or not code.endswith(")") or "(" not in code:
        return [line]
    head, arguments = code[:-1].split("(", 1)
    lines, current = [f"    {target} = {head}("], "       "
    for argument in _split_arguments(arguments):
        piece = f" {argument},"
        if len(current) + len(piece) > WIDTH and current.strip():
            lines.append(current)
            current = "       "
        current += piece
    lines.append(current.rstrip(",") + ")")
    return lines


def _split_arguments(text: str) -> list[str]:
    """'a, b, kernel_size=(2, 2)' -> ['a', 'b', 'kernel_size=(2, 2)']: commas inside brackets stay."""
    parts, depth, start = [], 0, 0
    for i, char in enumerate(text):
        depth += char in "([{"
        depth -= char in ")]}"
        if char == "," and depth == 0:
            parts.append(text[start:i].strip())
            start = i + 1
    parts.append(text[start:].strip())
    return [p for p in parts if p]


def _dtype(loss_fn, key) -> str:
    """Class-index targets stay integers; everything else is float64."""
    return getattr(loss_fn, "target_dtype", "float64") if key == "target" else "float64"


def with_symbols(tensors) -> list[str]:
    """The tensors that hold at least one symbol: the module's arguments (the rest are constants)."""
    return [k for k, a in tensors.items() if any(not e.is_number for e in a.reshape(-1))]


def first_positions(tensors, arguments) -> dict[sp.Symbol, tuple[str, int]]:
    """Where each symbol is read, in both forms: its first position (row-major, flat) among the arguments."""
    reads = {}
    for key in arguments:
        for flat, entry in enumerate(tensors[key].reshape(-1)):
            if isinstance(entry, sp.Symbol) and entry not in reads:
                reads[entry] = (key, flat)
    return reads


def _tensor_code(key, array, reads, arguments, dtype) -> tuple[str, str | None]:
    """The expression that builds tensor `key` from the arguments and constants, and its CONSTANTS line."""
    flat = array.reshape(-1)
    shape = tuple(array.shape)
    if key not in arguments:
        return f"CONSTANTS[{key!r}]", f"    {key!r}: {_constant(flat, shape, dtype)},"
    if all(reads.get(entry) == (key, i) for i, entry in enumerate(flat)):
        return f"arrays[{key!r}]", None
    # A mix: numbers are constants; each symbol is read at its first position, maybe in another argument.
    numbers = np.array([float(e) if e.is_number else 0.0 for e in flat])
    picks: dict[str, tuple[list[int], list[int]]] = {}
    for i, entry in enumerate(flat):
        if not entry.is_number:
            source, position = reads[entry]
            picks.setdefault(source, ([], []))[0].append(i)
            picks[source][1].append(position)
    shown = ", ".join(f"{source!r}: ({len(arguments[source])}, {to!r}, {at!r})" for source, (to, at) in picks.items())
    return (f"_assemble(arrays, batch, CONSTANTS[{key!r}], {{{shown}}})",
            f"    {key!r}: {_constant(numbers, shape, 'float64')},")


def _constant(flat, shape, dtype) -> str:
    values = np.array([float(e) for e in flat], dtype=np.float64)
    if dtype == "int64":
        return f"np.array({values.astype(np.int64).reshape(shape).tolist()!r}, dtype=np.int64)"
    if values.size and np.all(values == values[0]):
        return f"np.full({shape!r}, {float(values[0])!r})"
    if values.size <= LITERAL_LIMIT:
        return f"np.array({values.reshape(shape).tolist()!r})"
    encoded = base64.b64encode(values.astype("<f8").tobytes()).decode("ascii")
    lines = textwrap.wrap(encoded, 88)
    joined = "\n".join(f"        {line!r}" for line in lines)
    return f"_float64_array({shape!r}, (\n{joined}\n    ))"


def _step_code(optimizer, parameter: str, gradient: str) -> str:
    """The optimizer's own elementwise step, printed for whole arrays: e.g. k - 0.01*gradients['0.weight']."""
    p, g = sp.Dummy("p"), sp.Dummy("g")
    step = optimizer.step(np.array([p], dtype=object), np.array([g], dtype=object))[0]
    names = Names()
    names.add(p, "PARAMETER")
    names.add(g, "GRADIENT")
    code = NumericPrinter(names).doprint(sp.sympify(step).xreplace(
        {n: sp.Float(n) for n in sp.sympify(step).atoms(sp.Rational) if not n.is_Integer}))
    return code.replace("PARAMETER", parameter).replace("GRADIENT", gradient)


def _function_sources(functions) -> list[str]:
    """The twins' sources and those of the symgrad functions they call, each once, in a stable order."""
    return [textwrap.dedent(inspect.getsource(f)).rstrip() for f in copied_functions(functions).values()]


def copied_functions(functions) -> dict[str, object]:
    """{name: function} for the twins and every symgrad function they call: what a module copies."""
    found: dict[str, object] = {}
    stack = list(reversed(functions))
    while stack:
        function = stack.pop()
        name = function.__name__
        if name in found:
            if found[name] is not function:
                raise SymgradError(f"two array twins are both named {name} ({function.__module__})")
            continue
        found[name] = function
        stack.extend(reversed(_called_functions(function)))
    return found


def _called_functions(function) -> list:
    """Module-level functions `function` refers to; anything global other than np is refused."""
    called = []
    for name in _global_names(function.__code__):
        value = function.__globals__.get(name)
        if name == "np" or (value is None and name in _BUILTINS):
            continue
        if inspect.isfunction(value) and value.__module__.startswith("symgrad."):
            called.append(value)
        else:
            raise SymgradError(f"array twin {function.__qualname__} ({function.__module__}) uses the global "
                               f"{name!r}: twins may use only np and symgrad functions")
    return called


_BUILTINS = frozenset(dir(builtins))


def _global_names(code) -> list[str]:
    """Global names a code object (and the functions nested in it) loads, in order of first use."""
    names = []
    for instruction in dis.get_instructions(code):
        if instruction.opname in ("LOAD_GLOBAL", "LOAD_NAME") and instruction.argval not in names:
            names.append(instruction.argval)
    for constant in code.co_consts:
        if inspect.iscode(constant):
            names += [n for n in _global_names(constant) if n not in names]
    return names
