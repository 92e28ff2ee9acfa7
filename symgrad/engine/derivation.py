"""The derivation engine: forward expressions, backprop by each op's rule, one optimizer step.

`derive` here returns a plain `Record`; the public `symgrad.derive` (derive.py, above the
engine, printing and numeric) returns it as a `Derivation`, with its conveniences, and
gives an all-numeric derivation kept in names its float64 values (`in_float64`, fed by
numeric's evaluation of the named program: the engine imports neither).

Two ways to differentiate, both kept:
- "rules" (default): each op's vector-Jacobian product applied to the upstream
  delta, as backprop does. Fast, and the result is built from named intermediates.
- "diff": `sympy.diff` of the whole loss with respect to every entry. Slow, but an
  independent ground truth for small cases. Note SymPy's d/da Max(a, b) is
  Heaviside(a - b) with Heaviside(0) = 1/2, so on tied max-pool windows the two
  differ; "rules" follows torch there.
"""

from __future__ import annotations

import gc
from contextlib import contextmanager
from dataclasses import dataclass, field, replace

import numpy as np
import sympy as sp

from ..core import limits, tensor
from .backprop import INPUT, backprop, layer_params
from ..core.errors import OptionError
from .named import NamedForm, named_backprop
from .history import Step
from ..core.progress import SILENT, Progress
from ..core.names import check_user_symbols, reserved_bases
from .network import Sequential
from ..ops import Layer, Loss
from ..ops import options as opt
from .optimizers import OPTIMIZERS, Optimizer
from ..core.values import shown

#: derive(expand="auto") writes fields out explicitly up to this many (estimated) expression nodes.
EXPAND_LIMIT = 200_000
#: Significant digits of a number evaluated from a long closed form (see `_number_values`).
DIGITS = 30


@dataclass
class ParameterTensors:
    """One parameter's tensors, NumPy object arrays in torch's shape."""

    value: np.ndarray
    #: dL/d(parameter), summed over the backward passes.
    gradient: np.ndarray
    #: The value after the optimizer step; None without an optimizer.
    updated: np.ndarray | None = None


@dataclass
class LayerTensors:
    """One layer of the chain: its output and dL/d(its output)."""

    output: np.ndarray
    #: None for method="diff", which differentiates the whole loss and has no deltas.
    delta: np.ndarray | None = None


@dataclass
class BufferTensors:
    """One buffer (running statistics) of a layer object, by torch's state_dict name."""

    #: As given (`init`, a weights file) or the layer's default, before the first forward pass.
    value: np.ndarray
    #: After the forward passes (every use of a shared layer, every repeated pass), as torch's state_dict.
    updated: np.ndarray
    #: Whether torch holds it as an integer (a count: num_batches_tracked), not a float.
    count: bool = False


@dataclass
class Tensors:
    """Every tensor of a derivation as NumPy object arrays, for printers and numeric code
    (the public SymPy fields of a Record are made from these)."""

    input: np.ndarray
    #: dL/d(input), summed over the backward passes.
    input_gradient: np.ndarray
    output: np.ndarray
    target: np.ndarray | None
    #: By state_dict name ("0.weight"), in the network's order.
    parameters: dict[str, ParameterTensors]
    layers: list[LayerTensors]
    #: By state_dict name ("1.running_mean"), in the network's order; empty for a network without buffers.
    buffers: dict[str, BufferTensors] = field(default_factory=dict)

    def gradient(self, name: str) -> np.ndarray:
        """dL/d(`name`): a parameter's state_dict name or "input"."""
        return self.input_gradient if name == INPUT else self.parameters[name].gradient

    def gradients(self) -> dict[str, np.ndarray]:
        """Every gradient by name, the parameters' then the input's (the order of `Record.gradients`)."""
        return {**{name: p.gradient for name, p in self.parameters.items()}, INPUT: self.input_gradient}

    def updated(self) -> dict[str, np.ndarray]:
        """Every parameter after the optimizer step (empty without an optimizer)."""
        return {name: p.updated for name, p in self.parameters.items() if p.updated is not None}

    def leaves(self) -> list[np.ndarray]:
        """The tensors a derivation starts from: the input, the target (when given), the parameters and the
        given buffers."""
        given = [self.input] + ([self.target] if self.target is not None else [])
        return given + [p.value for p in self.parameters.values()] + [b.value for b in self.buffers.values()]

    def results(self) -> list[np.ndarray]:
        """The tensors a derivation computes (the deltas aside): outputs, gradients, updated parameters and
        buffers."""
        return [self.output, *(layer.output for layer in self.layers), *self.gradients().values(),
                *self.updated().values(), *(b.updated for b in self.buffers.values())]

    def buffers_change(self) -> bool:
        """Whether the forward passes moved some buffer (training mode): printers show them only then."""
        return any(b.value.shape != b.updated.shape or any(u != v for u, v in zip(b.updated.reshape(-1),
                                                                                  b.value.reshape(-1)))
                   for b in self.buffers.values())


@dataclass
class Record:
    """A finished derivation. Every public field holds SymPy objects (Array or Expr).

    `tensors` keeps the same tensors as NumPy object arrays, for printers and numeric code.
    """

    network: Sequential
    loss_fn: Loss | None
    optimizer: Optimizer | None
    method: str
    input: object
    target: object
    parameters: dict[str, object]
    forward: list[tuple[str, object]]
    output: object
    loss: sp.Expr
    deltas: list[tuple[str, object]]
    gradients: dict[str, object]
    updated: dict[str, object] = field(default_factory=dict)
    #: The same backward pass over named intermediates (sigma, S, delta); None for method="diff".
    named: NamedForm | None = None
    #: How many identical backward passes were summed into `gradients` (torch without zero_grad).
    backward_passes: int = 1
    #: False when the fields are kept in named intermediates (a large network): see docs/python-api.md.
    expanded: bool = True
    tensors: Tensors | None = field(default=None, repr=False)
    #: The buffers (running statistics) by state_dict name, as given, and after the forward passes.
    buffers: dict[str, object] = field(default_factory=dict)
    updated_buffers: dict[str, object] = field(default_factory=dict)
    #: Every optimizer step of `steps = n` > 1 (engine/training.py), the first being this derivation's; empty
    #: for one step. The fields above are the first step's.
    steps: list[Step] = field(default_factory=list)

    @property
    def free_symbols(self) -> set[sp.Symbol]:
        """The symbols the results depend on (for a derivation kept in names: those of the input,
        parameters and target; the names themselves are not free)."""
        arrays = self.tensors.leaves() + (self.tensors.results() if self.expanded else [])
        loss = [self.loss] if self.expanded else []
        return tensor.free_symbols([*loss, *(value for array in arrays for value in array.reshape(-1))])

    def matrix(self, name, n: int = 0, c: int = 0) -> sp.Matrix:
        """The H x W slice (sample n, channel c) of a 4-D tensor as a SymPy Matrix.

        `name` is a tensor (an array of `tensors`) or one of the names of docs/python-api.md:
        "input", "output", "target", "grad:0.weight", "grad:input", "updated:0.weight", "forward:0", ...
        """
        array = name if isinstance(name, np.ndarray) else self._named_tensor(name)
        if array.ndim == 4:
            array = array[n, c]
        elif array.ndim == 3:
            array = array[c]
        return sp.Matrix(np.atleast_2d(array).tolist())

    def _named_tensor(self, name: str) -> np.ndarray:
        """The tensor `matrix` names in its documented words (the only place they are read)."""
        kind, _, rest = name.partition(":")
        t = self.tensors
        found = {"input": lambda: t.input, "output": lambda: t.output, "target": lambda: t.target,
                 "param": lambda: t.parameters[rest].value, "grad": lambda: t.gradient(rest),
                 "updated": lambda: t.parameters[rest].updated, "forward": lambda: t.layers[int(rest)].output}
        try:
            array = found[kind]()
        except (KeyError, IndexError, ValueError):
            array = None
        if array is None:
            raise KeyError(name)
        return array


def as_input(values) -> np.ndarray:
    """2-D (H x W), 3-D (C x H x W) or 4-D (N x C x H x W) entries -> a 4-D object array, every entry checked."""
    array = tensor.to_array(values, "input", "values")
    if array.ndim not in (2, 3, 4):
        raise OptionError("input", "values", f"expected a 2-D, 3-D or 4-D tensor, got {array.ndim}-D")
    return array.reshape((1,) * (4 - array.ndim) + array.shape)


def derive(network: Sequential, input, loss: Loss | None = None, target=None, optimizer: Optimizer | None = None,
           method: str = "rules", backward_passes: int = 1, expand="auto", progress: bool | None = None
           ) -> Record:
    """Forward expressions, the loss, dL/d(every parameter and the input), and the optimizer step.

    `backward_passes=n` sums the gradients of n identical forward/backward passes, as torch
    does when backward() runs n times without zero_grad(); the optimizer step uses that sum.

    `expand` (method "rules"): True writes every field out explicitly in the inputs and
    parameters; False keeps the fields in named intermediates (see docs/python-api.md);
    "auto" (default) expands when the estimated expansion has at most EXPAND_LIMIT nodes.
    `progress`: a bar on stderr for runs over a second (None: when stderr is a terminal).
    """
    return _derive(network, input, loss, target, optimizer, method, backward_passes, expand, progress, checked=False)


def derive_checked(network: Sequential, input, loss: Loss | None = None, target=None,
                   optimizer: Optimizer | None = None, method: str = "rules", backward_passes: int = 1, expand="auto",
                   progress: bool | None = None) -> Record:
    """`derive` of an input and target whose entries are already checked (a Spec's, by spec.py: the
    input as `as_input` gives it, the target as tensor.to_array or tensor.entry): not checked again."""
    return _derive(network, input, loss, target, optimizer, method, backward_passes, expand, progress, checked=True)


def _derive(network, input, loss, target, optimizer, method, backward_passes, expand, progress, checked) -> Record:
    _check_arguments(network, loss, optimizer, progress)
    if not isinstance(method, str) or method not in ("rules", "diff"):
        raise OptionError("derive", "method", f"must be 'rules' or 'diff', got {shown(method)}")
    if not (isinstance(expand, bool) or (isinstance(expand, str) and expand == "auto")):
        raise OptionError("derive", "expand", f"must be True, False or 'auto', got {shown(expand)}")
    passes = limits.check_backward_passes("derive", opt.integer("derive", "backward_passes", backward_passes, 1))
    x = input if checked else as_input(input)
    shapes = network.shapes(x.shape)
    limits.check_derivation(network, x, shapes, loss, target)  # from the shapes, before anything is built
    params = network.parameters()  # one per layer object: a layer used twice shares its parameters (as torch)
    uses = network.uses(params)  # by place, for each layer's rules; backprop's per-place gradients are merged
    buffers = network.buffers()
    target_array = _target(loss, target, shapes[-1] if shapes else x.shape, checked)
    loss = loss.for_target(target_array) if loss is not None else None  # forms that fit the target
    _check_user_names(network, x, uses, buffers, loss, target, target_array)

    with Progress(3 * len(network) + 1, progress) as bar, cyclic_gc_paused():
        if method == "rules":
            named = named_backprop(network, x, uses, loss, target_array, _LossNamed(bar, len(network)))
            named.gradients = network.merge(named.gradients)
            numbers = _all_numbers(x, {**params, **buffers}, target_array)  # then values stay short
            if expand is True and not numbers:
                limits.check_expansion(network, named)  # deeper would end in RecursionError
            expanded = expand is True or (expand == "auto" and named.expanded_size() <= EXPAND_LIMIT
                                          and (numbers or not limits.too_deep(named)))
            bar.describe("expansion" if expanded else "numbers")
            if not expanded:
                bar.skip(len(network))
            fields = _expanded(network, x, named, bar, numbers) if expanded else _in_names(network, x, named)
            activations, loss_value, deltas, grads = fields
            inputs = activations if expanded else [x] + [a for _, a in named.activations]  # each place's input
        else:
            _check_diff(network, x, params, uses, loss, target_array, shapes)
            named, expanded = None, True
            activations, loss_value, grads = _diff(network, x, params, loss, target_array)
            deltas, inputs = [], activations

        if passes > 1:
            grads = {name: tensor.apply(lambda g: passes * g, grad) for name, grad in grads.items()}
            if named is not None:
                named.gradients = {name: tensor.apply(lambda g: passes * g, grad)
                                   for name, grad in named.gradients.items()}
        updated = {name: optimizer.step(params[name], grads[name]) for name in params} if optimizer else {}
        target_tensor = np.asarray(target_array, dtype=object) if target_array is not None else None
        moved = network.updated_buffers(inputs, uses, buffers, passes) if buffers else {}
        counts = network.counted_buffers() if buffers else set()
        tensors = _tensors(x, target_tensor, params, grads, updated, activations, deltas)
        tensors.buffers = {name: BufferTensors(value=value, updated=moved[name], count=name in counts)
                           for name, value in buffers.items()}
        derivation = Record(
            network=network, loss_fn=loss, optimizer=optimizer, method=method, input=None, target=None,
            parameters={}, forward=[], output=None, loss=loss_value, deltas=[], gradients={}, named=named,
            backward_passes=passes, expanded=expanded,
        )
        _set_fields(derivation, tensors)
        bar.step()
    return derivation


class _LossNamed:
    """The bar as named_backprop sees it, naming the loss between the passes (one long step for a
    large output, where the bar would still show the last forward layer)."""

    def __init__(self, bar, layers: int):
        self.bar, self.layers, self.steps = bar, layers, 0

    def describe(self, text: str) -> None:
        self.bar.describe(text)

    def step(self, text: str | None = None) -> None:
        self.bar.step(text)
        self.steps += 1
        if self.steps == self.layers:
            self.bar.describe("loss")


@contextmanager
def cyclic_gc_paused():
    """Expression trees hold no reference cycles, but Python's cyclic collector re-scans all of
    them again and again as they grow: about 40% of a LeNet derivation. Paused, then restored."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _tensors(x, target, params, grads, updated, activations, deltas) -> Tensors:
    """The engine's results as typed tensors: `activations` from the input on, `deltas` one per layer or none."""
    layers = [LayerTensors(output=a, delta=deltas[i][1] if deltas else None) for i, a in enumerate(activations[1:])]
    parameters = {name: ParameterTensors(value=value, gradient=grads[name], updated=updated.get(name))
                  for name, value in params.items()}
    return Tensors(input=x, input_gradient=grads[INPUT], output=activations[-1], target=target,
                   parameters=parameters, layers=layers)


def _set_fields(derivation, tensors: Tensors):
    """The public SymPy fields from the typed tensors (the same values)."""
    labels = [derivation.network.label(i) for i in range(len(derivation.network))]
    derivation.tensors = tensors
    derivation.input = tensor.to_sympy(tensors.input)
    derivation.target = tensor.to_sympy(tensors.target) if tensors.target is not None else None
    derivation.parameters = {k: tensor.to_sympy(p.value) for k, p in tensors.parameters.items()}
    derivation.forward = [(label, tensor.to_sympy(layer.output)) for label, layer in zip(labels, tensors.layers)]
    derivation.output = tensor.to_sympy(tensors.output)
    derivation.deltas = [(label, tensor.to_sympy(layer.delta)) for label, layer in zip(labels, tensors.layers)
                         if layer.delta is not None]
    derivation.gradients = {k: tensor.to_sympy(g) for k, g in tensors.gradients().items()}
    derivation.updated = {k: tensor.to_sympy(u) for k, u in tensors.updated().items()}
    derivation.buffers = {k: tensor.to_sympy(b.value) for k, b in tensors.buffers.items()}
    derivation.updated_buffers = {k: tensor.to_sympy(b.updated) for k, b in tensors.buffers.items()}


def _expanded(network, x, named, bar, numbers=False):
    """Every field written out in the inputs and parameters: the names substituted back.

    With every input a number, each name's value is built once from its definition
    (`_number_values`) instead: the same numbers, exact while short.
    """
    if numbers:
        values = named.shown_values = _number_values(named)

        def expand(expr):
            return _short(sp.sympify(expr).xreplace(values))
    else:
        values = named.exact_values()
        expand = named.expand
    activations = [x]
    for _, array in named.activations:
        activations.append(tensor.apply(values.__getitem__, array))
        bar.step()
    deltas = []
    for i, (_, array) in enumerate(named.deltas):
        deltas.append((network.label(i), tensor.apply(values.__getitem__, array)))
    grads = {name: tensor.apply(expand, grad) for name, grad in named.gradients.items()}
    return activations, expand(named.loss), deltas, grads


def _all_numbers(x, params, target) -> bool:
    """Whether the input, every parameter and the target are numbers (no symbol anywhere)."""
    arrays = [x, *params.values()] + ([np.asarray(target, dtype=object)] if target is not None else [])
    return all(getattr(v, "is_number", False) for array in arrays for v in array.reshape(-1))


def _number_values(named) -> dict:
    """Each name's value, when every input is a number, built once from its definition.

    The exact values of a network with exp, tanh or log grow layer by layer into trees
    that repeat the same few numbers (a tiny Conv -> Tanh -> Linear -> CrossEntropyLoss
    net: 1,162 nodes per gradient entry, 75 of them distinct), and every printer
    evaluated each tree again at each use: SymPy's evalf walks trees, not shared nodes,
    and retries at higher precision where terms cancel (1,936 tanh evaluations for one
    entry; 48 s for the net). Here each name is evaluated once, its definition fed with
    its inputs' values: exact while short (limits.EXACT_NODES, EXACT_LEVELS: every rational
    result, tanh(2/5), e/(e + e^2 + e^3)), else to DIGITS significant digits.
    """
    definitions = named.definitions
    values: dict = {}
    for first in definitions:
        stack = [first]
        while stack:  # a name's inputs first (definitions come in dependency order: this rarely loops)
            name = stack[-1]
            if name in values:
                stack.pop()
                continue
            pending = [s for s in definitions[name].free_symbols if s in definitions and s not in values]
            if pending:
                stack.extend(pending)
                continue
            stack.pop()
            values[name] = _short(definitions[name].xreplace(values))
    return values


def _short(value):
    """`value` (a number) kept exact while it is short and exact, else evaluated to DIGITS digits."""
    if value.is_Rational or value.is_Float or not value.is_number or limits.short_and_exact(value):
        return value
    evaluated = value.evalf(DIGITS)
    return evaluated if evaluated.is_Number else value


def _check_diff(network, x, params, uses, loss, target, shapes) -> None:
    """method="diff" writes the whole loss out and differentiates it once per entry: bounded by
    limits.MAX_DIFF_WORK, and by the nesting depth (MAX_DEPTH) the named pass measures."""
    limits.check_diff(network, x, params, shapes, loss)
    named = named_backprop(network, x, uses, loss, target, SILENT)
    limits.check_expansion(network, named, option="method")


def _in_names(network, x, named):
    """Every field one step deep: each layer's output and delta in the names of its neighbour."""
    definition = named.definitions.__getitem__
    activations = [x] + [tensor.apply(definition, array) for _, array in named.activations]
    deltas = [(network.label(i), tensor.apply(definition, array)) for i, (_, array) in enumerate(named.deltas)]
    named.shown_values = {name: name for name in named.definitions}
    return activations, named.loss, deltas, dict(named.gradients)


def in_float64(derivation: Record, numbers: dict) -> None:
    """An all-numeric derivation kept in names given its float64 values (sympy Floats): the loss and
    every computed tensor; the input, target and parameters stay as given.

    The exact values would be the explosion `expand` avoids; `numbers` are its named program
    evaluated in float64 ({"names", "output", "loss", "gradients", "updated"}, as
    symgrad.numeric.bulk's evaluate_named gives them: derive.py, above both, joins the two).
    """
    value = {name: sp.Float(numbers["names"][str(name)]) for name in derivation.named.definitions}
    named = derivation.named
    named.shown_values = value
    floats = lambda array: tensor.apply(lambda e: sp.Float(e), np.asarray(array, dtype=np.float64))  # noqa: E731
    given = derivation.tensors
    layers = [LayerTensors(output=tensor.apply(value.__getitem__, a),
                           delta=tensor.apply(value.__getitem__, d) if layer.delta is not None else None)
              for layer, (_, a), (_, d) in zip(given.layers, named.activations, named.deltas)]
    gradients, updated = numbers["gradients"], numbers["updated"]
    parameters = {name: replace(p, gradient=floats(gradients[name]),
                                updated=floats(updated[name]) if name in updated else None)
                  for name, p in given.parameters.items()}
    buffers = {name: replace(b, updated=tensor.apply(lambda e: _float_or_exact(e, value), b.updated))
               for name, b in given.buffers.items()}
    derivation.loss = sp.Float(numbers["loss"])
    _set_fields(derivation, replace(given, output=floats(numbers["output"]), input_gradient=floats(gradients[INPUT]),
                                    parameters=parameters, layers=layers, buffers=buffers))


def _float_or_exact(entry, value: dict):
    """An updated buffer's entry in names, at the names' float64 values (an exact number stays: a count)."""
    entry = sp.sympify(entry)
    return entry if entry.is_number else sp.Float(entry.xreplace(value))


def _check_user_names(network, x, params, buffers, loss, target, target_array):
    """Refuse user symbols that would be merged with names symgrad generates (see names.py)."""
    reserved = reserved_bases(network, network.generated_parameters(), loss is not None and target is None)
    check_user_symbols(x, reserved, INPUT, "values")
    if loss is not None and target is not None:
        check_user_symbols(target_array, reserved, loss.where, "target")
    for i, layer in enumerate(network):
        for name in layer.initial:
            check_user_symbols(params[f"{i}.{name}"], reserved, network.label(i), f"init.{name}")
        for name in layer.given_buffers:
            if f"{i}.{name}" in buffers:  # once per layer object
                check_user_symbols(buffers[f"{i}.{name}"], reserved, network.label(i), f"init.{name}")


def _check_arguments(network, loss, optimizer, progress) -> None:
    """The objects derive takes, each of its kind, refused by name (never an AttributeError later)."""
    if not isinstance(network, Sequential):
        hint = " (give sg.Sequential(...) of symgrad layers)" if isinstance(network, (Layer, list, tuple)) else ""
        raise OptionError("derive", "network", f"expected a symgrad Sequential, got {_kind(network)}{hint}")
    if loss is not None and not isinstance(loss, Loss):
        raise OptionError("derive", "loss", f"expected a symgrad loss (MSELoss, L1Loss, CrossEntropyLoss) or None, "
                                            f"got {_kind(loss)}")
    if optimizer is not None and not isinstance(optimizer, Optimizer):
        raise OptionError("derive", "optimizer", f"expected a symgrad optimizer ({', '.join(OPTIMIZERS)}) or None, "
                                                 f"got {_kind(optimizer)}")
    if progress is not None and not isinstance(progress, bool):
        raise OptionError("derive", "progress", f"must be True, False or None, got {_kind(progress)}")


def _kind(value) -> str:
    """What a wrong argument is, for messages: its type, and a short repr for plain values."""
    name = type(value).__name__
    return f"{name} {shown(value)}" if isinstance(value, (str, int, float)) else name


def _is_array(value) -> bool:
    return isinstance(value, (list, tuple, np.ndarray, sp.NDimArray, sp.MatrixBase))


def _target(loss, target, out_shape, checked: bool = False):
    """The target checked against the loss and broadcast to the output's shape; its entries are checked
    here unless `checked` (a Spec's, checked when it was read)."""
    if loss is None:
        if target is not None:
            raise OptionError("loss", "target", "a target needs a loss")
        if out_shape != ():
            raise OptionError("loss", "type", f"the network output has shape {list(out_shape)}: "
                                              "add a [loss] or end the network with Sum")
        return None
    if target is None:
        return loss.check_target(out_shape, loss.symbolic_target(out_shape))
    if checked:
        array = np.asarray(target, dtype=object)
    else:
        array = np.asarray(tensor.to_array(target, loss.where, "target") if _is_array(target)
                           else tensor.entry(target, loss.where, "target"), dtype=object)
    return loss.check_target(out_shape, array)


def _forward(network, x, params):
    activations = [x]
    for i, layer in enumerate(network):
        activations.append(layer.forward(activations[-1], layer_params(params, i, layer)))
    return activations


def _loss(loss, out, target):
    return out[()] if loss is None else loss.forward(out, target)


def _diff(network, x, params, loss, target):
    """Ground truth: sympy.diff of the whole loss with respect to a placeholder per entry (one per parameter,
    shared by every place its layer appears)."""
    placeholders = {INPUT: _placeholders(x.shape)}
    placeholders.update({name: _placeholders(p.shape) for name, p in params.items()})
    values = {INPUT: x, **params}
    symbolic_params = network.uses({name: placeholders[name] for name in params})
    activations = _forward(network, placeholders[INPUT], symbolic_params)
    loss_expr = _loss(loss, activations[-1], target)
    back = {}
    for name in values:
        back.update(zip(placeholders[name].reshape(-1), values[name].reshape(-1)))
    grads = {name: tensor.apply(lambda p: sp.diff(loss_expr, p).xreplace(back), placeholders[name])
             for name in [*params, INPUT]}
    activations = [tensor.apply(lambda e: e.xreplace(back), a) for a in activations]
    return activations, loss_expr.xreplace(back), grads


def _placeholders(shape):
    return tensor.apply(lambda _: sp.Dummy("p", real=True), np.empty(shape, dtype=object))
