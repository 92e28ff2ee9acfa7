"""The op protocol: what every layer and loss declares, in one place per op.

An op knows its torch name and options, validates them as torch does, computes its
output shape and element expressions, and carries its own derivative rule (the
vector-Jacobian product: upstream delta in, gradients of its input and parameters
out). Index-form LaTeX of the forward and backward rules lives beside the code
that implements them, so printers never have to re-derive anything.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, ClassVar

import numpy as np


@dataclass
class Gradients:
    """What a derivative rule returns: dL/d(input) and dL/d(each parameter)."""

    input: np.ndarray
    params: dict[str, np.ndarray] = field(default_factory=dict)


class Op:
    """What layers and losses share: a torch class name, options, and a repr like torch's."""

    type_name: ClassVar[str]

    @property
    def where(self) -> str:
        """How error messages name this op."""
        return self.type_name

    def options(self) -> dict[str, object]:
        """The options as torch would show them (for printing and the torch twin)."""
        return {}

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}={v!r}" for k, v in self.options().items())
        return f"{self.type_name}({shown})"


class Layer(Op):
    """A network layer with torch's name, options and semantics."""

    #: The name of this layer's output in derivations (sigma for a convolution, S for pooling).
    output_letter: ClassVar[str] = "a"
    #: LaTeX index forms: "forward" and one entry per gradient ("input", "weight", ...).
    index_form: ClassVar[dict[str, str]]
    #: The same formulas as functions rule(layer, x, params, delta) -> array, evaluated entry by entry
    #: as written (tests/test_index_forms.py holds them to the engine); declared at the foot of each module.
    index_rules: ClassVar[dict[str, Callable]]
    #: The same layer on whole float64 arrays, for generated code at scale (docs/numeric.md, "array form"):
    #: {"forward": f(x, *params, **array_options) -> out,
    #:  "backward": f(delta, x, out, *params, want_input=True, **array_options) -> (dx or None, *dparams)}.
    #: params come in `parameter_shapes()` order. Every array may carry extra leading (batch) axes;
    #: these broadcast like NumPy's, and every result has the broadcast batch axes in front: one
    #: independent problem per batch entry, so dparams are per problem, never summed over the batch.
    #: Plain NumPy functions at the foot of the op's module (codegen copies their source, and that of
    #: the module-level functions they call, into generated modules): no other globals than `np`.
    array_twin: ClassVar[dict[str, Callable]]
    #: Base names of parameter symbols, as the articles write them: K (kernel) and b.
    symbol_bases: ClassVar[dict[str, str]] = {"weight": "k", "bias": "b"}

    def __init__(self):
        self.initial: dict[str, object] = {}

    def init(self, **values) -> "Layer":
        """Give parameters values (numbers, symbol names or SymPy expressions); the rest stay symbols."""
        from ..errors import OptionError

        for name, value in values.items():
            if name not in self.parameter_shapes():
                known = ", ".join(self.parameter_shapes()) or "none"
                raise OptionError(self.where, f"init.{name}", f"not a parameter of this layer (its parameters: {known})")
            self.initial[name] = value
        return self

    def parameter_shapes(self) -> dict[str, tuple[int, ...]]:
        return {}

    def output_shape(self, in_shape: tuple[int, ...]) -> tuple[int, ...]:
        raise NotImplementedError

    def array_options(self, in_shape: tuple[int, ...]) -> dict[str, object]:
        """Keyword arguments of `array_twin` for one problem's input shape (Python literals: ints, tuples,
        bools, strings, None). The shape is needed: Flatten, Linear and Sum must know how many of an
        array's leading axes are batch axes, and a layer alone does not know its input's rank."""
        return {}

    def shape_formula(self, in_shape: tuple[int, ...]) -> str:
        """How the output shape follows from the input, with the numbers filled in ("" if undeclared)."""
        return ""

    def index_instance(self, key: str, in_shape: tuple[int, ...]) -> str:
        """`index_form[key]` with this layer's numbers (stride, padding, sizes) filled in; "" when nothing changes."""
        return ""

    def figure(self, in_shape: tuple[int, ...], x: np.ndarray) -> dict[tuple[int, int], str] | None:
        """Cells (row, column) of the input's first channel a derivation's picture highlights, or None."""
        return None

    def forward(self, x: np.ndarray, params: dict[str, np.ndarray]) -> np.ndarray:
        raise NotImplementedError

    def backward(self, delta: np.ndarray, x: np.ndarray, out: np.ndarray, params: dict[str, np.ndarray]) -> Gradients:
        raise NotImplementedError

    def torch_module(self):
        """The equivalent torch.nn module (torch imported lazily, only here)."""
        raise NotImplementedError


class Loss(Op):
    """A loss: a scalar from the network output and a target."""

    index_form: ClassVar[dict[str, str]]
    #: The same formulas as functions rule(loss, out, target), as for layers.
    index_rules: ClassVar[dict[str, Callable]]
    #: On whole float64 arrays, as for layers: {"forward": f(out, target, **array_options) -> loss of
    #: shape batch, "backward": f(out, target, **array_options) -> dL/d(out)}; out and target may
    #: carry leading batch axes (the target is the checked target; class indices as int64).
    array_twin: ClassVar[dict[str, Callable]]

    def array_options(self, out_shape: tuple[int, ...]) -> dict[str, object]:
        """Keyword arguments of `array_twin` for one problem's output shape (Python literals), as for layers."""
        return {}

    @property
    def where(self) -> str:
        return f"loss {self.type_name}"

    def index_instance(self, key: str, out_shape: tuple[int, ...]) -> str:
        return ""

    def check_target(self, out_shape: tuple[int, ...], target: np.ndarray) -> np.ndarray:
        """The target broadcast to the output shape, or an OptionError naming `target`."""
        raise NotImplementedError

    def symbolic_target(self, out_shape: tuple[int, ...]) -> np.ndarray:
        """The target when the spec gives none: a symbol y_... per output entry."""
        import sympy as sp

        from ..tensor import symbols

        if not out_shape:
            return np.array(sp.Symbol("y", real=True), dtype=object)
        return symbols("y", out_shape, None)

    def forward(self, out: np.ndarray, target: np.ndarray):
        raise NotImplementedError

    def backward(self, out: np.ndarray, target: np.ndarray) -> np.ndarray:
        """dL/d(out)."""
        raise NotImplementedError

    def torch_module(self):
        raise NotImplementedError
