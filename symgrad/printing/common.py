"""What every printer shows, chosen once: the quantities of a derivation, in order."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..core.errors import OptionError


@dataclass
class View:
    """The parts of a derivation a printer shows, as NumPy object arrays (from its typed `tensors`);
    `derivation` for what is not a tensor (network, loss, optimizer)."""

    title: str | None
    derivation: object
    input: np.ndarray
    parameters: dict[str, np.ndarray]
    forward: list[tuple[str, np.ndarray]]
    output: np.ndarray
    target: np.ndarray | None
    loss: object
    gradients: dict[str, np.ndarray]
    updated: dict[str, np.ndarray]
    named: object = None  # the NamedForm, gradients filtered like `gradients`; None when not shown


def _shows_names(derivation) -> bool:
    """Whether text and JSON list the named definitions.

    A large network kept in names with every input a number (LeNet with seeded weights)
    has tens of thousands of definitions; its fields already hold the numbers, and the
    formulas are in the LaTeX/Markdown index forms. Printing them all took minutes and
    tens of MB, so they are left out there. With symbols left, the names are needed to
    read the fields, so they stay.
    """
    if derivation.named is None:
        return False
    return derivation.expanded or bool(derivation.free_symbols)


def select(derivation, wrt=None, title=None) -> View:
    """The view of `derivation`, keeping only the gradients named in `wrt` (all by default)."""
    t = derivation.tensors
    gradients = t.gradients()
    names = list(gradients)
    if wrt:
        for name in wrt:
            if name not in names:
                raise OptionError("derive", "--wrt", f"unknown name {name!r} (choose from {', '.join(names)})")
        names = [n for n in names if n in wrt]
    updated = t.updated()
    return View(
        title=title,
        derivation=derivation,
        input=t.input,
        parameters={k: p.value for k, p in t.parameters.items()},
        forward=[(label, layer.output) for (label, _), layer in zip(derivation.forward, t.layers)],
        output=t.output,
        target=t.target,
        loss=derivation.loss,
        gradients={k: gradients[k] for k in names},
        updated={k: updated[k] for k in names if k in updated},
        named=derivation.named if _shows_names(derivation) else None,
    )


def squeeze(array: np.ndarray) -> np.ndarray:
    """Drop leading axes of size 1 (sample, channel) as the articles do; keep H x W."""
    while array.ndim > 2 and array.shape[0] == 1:
        array = array[0]
    return array

