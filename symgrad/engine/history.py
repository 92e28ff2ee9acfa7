"""The steps of a training loop on one batch (`steps = n`): typed, one record per optimizer step.

Kept apart from derivation.py so the Record can hold them and training.py, which runs the
loop through the engine's derive, can build them: both import this (no circle).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .backprop import INPUT


@dataclass
class StepParameter:
    """One parameter in one step, NumPy object arrays in torch's shape."""

    #: Before the step: what this step's forward pass used.
    value: np.ndarray
    #: dL/d(parameter) at `value` (zero_grad first, summed over the backward passes).
    gradient: np.ndarray
    #: After optimizer.step().
    updated: np.ndarray


@dataclass
class Step:
    """One iteration of `for step in range(n): zero_grad; loss = ...; loss.backward(); optimizer.step()`."""

    #: 1 for the first step (the one the derivation writes out), up to n.
    number: int
    #: The loss at this step's parameters (before its update), as torch's `loss` in that iteration.
    loss: object
    output: np.ndarray
    #: dL/d(input) of this step alone (torch's x.grad would sum the steps: zero_grad clears parameters only).
    input_gradient: np.ndarray
    #: By state_dict name, in the network's order.
    parameters: dict[str, StepParameter]
    #: The buffers after this step's forward passes (running statistics), by state_dict name; empty without.
    buffers: dict[str, np.ndarray] = field(default_factory=dict)

    def updated(self) -> dict[str, np.ndarray]:
        """Every parameter after this step."""
        return {name: p.updated for name, p in self.parameters.items()}

    def gradients(self) -> dict[str, np.ndarray]:
        """Every gradient of this step by name, the parameters' then the input's (as Record.gradients)."""
        return {**{name: p.gradient for name, p in self.parameters.items()}, INPUT: self.input_gradient}
