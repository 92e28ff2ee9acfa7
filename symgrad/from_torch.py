"""from_torch: a symgrad Sequential from a torch module, with the same options and weights.

torch is imported lazily, inside `from_torch` only. The torch module must be a plain
chain: an `nn.Sequential`, or a module whose children, taken in registration order,
are exactly what its `forward` applies one after the other. symgrad cannot read a
custom `forward`; give `example_input` and the chain is checked against it numerically.
Parameters are named by position as in `nn.Sequential` ("0.weight"), whatever the
torch module calls them; a module registered twice becomes one layer used twice (shared
parameters, named by its first position, as torch's `named_parameters()` names them).
Each layer class converts its own options (`Layer.from_torch`); parameters and buffers
(running statistics, copied as numbers either way) are copied here by torch's names.
"""

from __future__ import annotations

import numpy as np

from .core import tensor
from .core.errors import OptionError
from .engine.network import Sequential
from .core.values import shown
from .ops import LAYERS, Layer

WEIGHTS = ("numbers", "symbols")


def converters() -> dict[str, type[Layer]]:
    """{torch class name: symgrad layer class} of the registered layers that declare `from_torch`."""
    return {name: cls for name, cls in LAYERS.items() if cls.from_torch}


def from_torch(module, example_input=None, weights: str = "numbers") -> Sequential:
    """The symgrad twin of a torch chain of layers.

    weights="numbers" copies every weight as an exact number (each float64 value as the
    shortest decimal that reads back to it, via `tensor.number`); weights="symbols"
    leaves them as symbols (k_11, w_11, b_1, ...). With `example_input` (a tensor or
    nested lists of numbers) the shapes are checked and, for a module that is not an
    `nn.Sequential`, its forward is compared with the chain of its children.
    """
    import torch

    if not isinstance(weights, str) or weights not in WEIGHTS:
        raise OptionError("from_torch", "weights", f"must be 'numbers' or 'symbols', got {shown(weights)}")
    if not isinstance(module, torch.nn.Module):
        raise OptionError("from_torch", "module", f"expected a torch.nn.Module, got {type(module).__name__}")
    # every registered child, repeats included (children() skips a module registered twice): nn.Sequential(c, c)
    # uses c twice, and its twin uses one symgrad layer twice, sharing the parameters as torch does
    children = [child for child in module._modules.values() if child is not None]
    if not children:
        raise OptionError("from_torch", "module", f"{type(module).__name__} has no child layers to chain")
    if list(module.named_parameters(recurse=False)):
        raise OptionError("from_torch", "module", f"{type(module).__name__} has parameters of its own, "
                                                  "outside its layers: not a plain chain")
    converted: dict[int, Layer] = {}
    layers = [converted.get(id(child)) or converted.setdefault(id(child), _layer(i, child, weights))
              for i, child in enumerate(children)]
    network = Sequential(*layers)
    if example_input is not None:
        _check_example(module, children, network, example_input)
    return network


def _layer(i: int, child, weights: str) -> Layer:
    """The layer's own converter reads the options; parameters (and buffers) are copied here, by torch's names."""
    kind = type(child).__name__
    where = f"layers[{i}] {kind}"
    supported = converters()
    if kind not in supported or type(child).__module__.split(".")[0] != "torch":
        raise OptionError(f"layers[{i}] {kind}", "type",
                          f"not supported by symgrad (supported: {', '.join(supported)})")
    try:
        layer = supported[kind].from_torch(child)
        if weights == "numbers":
            layer.init(**{name: _exact(p, where, f"init.{name}")
                          for name, p in child.named_parameters(recurse=False) if p is not None})
        if layer.buffers:
            layer.init(**{name: _exact(b, where, f"init.{name}")
                          for name, b in child.named_buffers(recurse=False) if b is not None})
    except OptionError as error:
        raise error.relabel(where) from None
    return layer


def _exact(parameter, where: str, option: str) -> np.ndarray:
    """A torch parameter as an object array of exact SymPy numbers (its float64 values)."""
    values = parameter.detach().to("cpu").double().numpy()
    return tensor.apply(lambda v: tensor.number(float(v), where, option), values)


def _check_example(module, children, network, example_input) -> None:
    """Shapes through the symgrad network, and (custom modules) torch's forward vs the chain."""
    import torch

    x = torch.as_tensor(example_input)
    if not x.is_floating_point():
        x = x.double()
    x = x.reshape((1,) * (4 - x.dim()) + tuple(x.shape)) if 2 <= x.dim() < 4 else x
    network.shapes(tuple(x.shape))
    if isinstance(module, torch.nn.Sequential):
        return
    first = next(module.parameters(), None)
    x = x.to(first.dtype if first is not None else torch.float64)
    with torch.no_grad():
        ours, theirs = torch.nn.Sequential(*children)(x), module(x)
    if ours.shape != theirs.shape or not torch.allclose(ours, theirs, rtol=1e-5, atol=1e-6):
        raise OptionError("from_torch", "module", f"{type(module).__name__}.forward is not the chain of its "
                                                  "children in order: symgrad can only read plain chains")
