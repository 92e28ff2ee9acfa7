"""`steps = n`: n optimizer steps on the same batch, as torch's training loop takes them.

    for step in range(n):
        optimizer.zero_grad(); loss = loss_fn(net(x), y); loss.backward(); optimizer.step()

Step 1 is the derivation itself (written out by the printers); each later step derives the
same problem again at the parameters (and running statistics) the previous step left, and
the optimizer's `update` carries torch's state between the steps (step count, moments,
momentum buffers). zero_grad is why each step's gradient is that step's alone.

Only numbers: a symbolic input, target, parameter or buffer is refused for n > 1, since
the parameters after a few Adam steps in symbols are expressions nobody can read (and
SymPy cannot build them in time). Between steps an entry is kept exact while short
(limits.EXACT_NODES, EXACT_LEVELS; a fraction of up to DIGITS digits), else evaluated to DIGITS significant digits, so the
numbers do not grow step by step.
"""

from __future__ import annotations

import copy
from collections.abc import Callable

import numpy as np
import sympy as sp

from ..core import limits, tensor
from ..core.errors import OptionError
from ..ops import options as opt
from .history import Step, StepParameter
from .network import Sequential
from .optim import Optimizer

#: Significant digits of an entry carried to the next step when its exact form is long.
DIGITS = 30


def check_steps(where: str, steps, optimizer) -> int:
    """`steps` as an integer from 1 to limits.MAX_STEPS; more than 1 needs an optimizer."""
    steps = limits.check_steps(where, opt.integer(where, "steps", steps, 1))
    if steps > 1 and optimizer is None:
        fix = "add an [optimizer] table or drop steps" if where == "spec" else "give optimizer=..."
        raise OptionError(where, "steps", f"{steps} optimizer steps need an optimizer: {fix}")
    return steps


def check_numbers(where: str, network: Sequential, x: np.ndarray, loss, target) -> None:
    """Refuse steps > 1 unless the input, the target, every parameter and every buffer are numbers."""
    symbolic = []
    if not tensor.is_numeric(x):
        symbolic.append("the input")
    if loss is not None and (target is None or not tensor.is_numeric(np.asarray(target, dtype=object))):
        symbolic.append("the loss target")
    symbolic += [name for name, value in {**network.parameters(), **network.buffers()}.items()
                 if not tensor.is_numeric(value)]
    if symbolic:
        shown = ", ".join(symbolic[:3]) + (f" and {len(symbolic) - 3} more" if len(symbolic) > 3 else "")
        raise OptionError(where, "steps", f"more than one step needs numbers, and {shown} "
                                          f"{'has' if len(symbolic) == 1 else 'have'} symbols (give numbers, or "
                                          "use steps = 1: the parameters after several steps in symbols explode)")


def run(first, steps: int, optimizer: Optimizer, again: Callable[[Sequential], object]) -> list[Step]:
    """The n steps, `first` (the derivation at the given parameters) being step 1; `again(network)` derives
    the same problem for a network holding other values (no optimizer: the steps are taken here)."""
    history: list[Step] = []
    state: dict[str, dict] = {}
    record = first
    for number in range(1, steps + 1):
        if number > 1:
            record = again(with_values(first.network, history[-1].updated(), history[-1].buffers))
        t = record.tensors
        parameters = {}
        for name, p in t.parameters.items():
            updated, moved = optimizer.update(p.value, p.gradient, state.get(name, {}))
            state[name] = {key: tensor.apply(kept, value) if isinstance(value, np.ndarray) else value
                           for key, value in moved.items()}
            parameters[name] = StepParameter(value=p.value, gradient=p.gradient, updated=tensor.apply(kept, updated))
        history.append(Step(number=number, loss=record.loss, output=t.output, input_gradient=t.input_gradient,
                            parameters=parameters, buffers={name: b.updated for name, b in t.buffers.items()}))
    return history


def with_values(network: Sequential, parameters: dict, buffers: dict) -> Sequential:
    """A copy of `network` whose layers hold these parameters and buffers (by state_dict name); a layer used
    twice stays one object used twice."""
    owners, twins, layers = network.owners(), {}, []
    for i, layer in enumerate(network):
        if owners[i] == i:
            twin = copy.copy(layer)
            twin.initial = {name: parameters[f"{i}.{name}"] for name in layer.parameter_shapes()}
            names = layer.buffer_shapes() if layer.buffers else {}
            twin.given_buffers = {**layer.given_buffers, **{name: buffers[f"{i}.{name}"] for name in names
                                                             if f"{i}.{name}" in buffers}}
            twins[i] = twin
        layers.append(twins[owners[i]])
    return Sequential(*layers)


def kept(entry):
    """An entry as the next step takes it: exact while short and exact, else to DIGITS digits."""
    entry = sp.sympify(entry)
    if entry.is_Rational:  # an integer or a fraction of up to DIGITS digits each
        if abs(entry.p) < 10**DIGITS and entry.q < 10**DIGITS:
            return entry
    elif entry.is_Float or not entry.is_number or limits.short_and_exact(entry):
        return entry
    evaluated = entry.evalf(DIGITS)
    return evaluated if evaluated.is_Number else entry
