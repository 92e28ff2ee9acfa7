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

import inspect
import math

import numpy as np


class Missing:
    """A piece an op declares it does not have, with the reason; falsy, so consumers test `if layer.figure:`."""

    __slots__ = ("reason",)

    def __init__(self, reason: str):
        self.reason = reason

    def __bool__(self) -> bool:
        return False

    def __call__(self, *args, **kwargs):
        raise NotImplementedError(self.reason)

    def __repr__(self) -> str:
        return f"missing({self.reason!r})"


def missing(reason: str) -> Missing:
    """Declare a piece absent: `figure = missing("nothing to picture")`."""
    return Missing(reason)


#: What the base classes set every piece to: neither given nor declared missing (the registry test fails on it).
UNDECLARED = Missing("undeclared")

#: The pieces every layer declares (docs/ops.md says what each one is).
LAYER_PIECES = ("type_name", "options", "output_shape", "shape_formula", "parameter_shapes", "forward", "backward",
                "index_form", "index_rules", "index_instance", "output_letter", "symbol_bases", "parameter_letters",
                "rule_words", "words", "figure", "array_twin", "torch_module", "from_torch", "initial_values",
                "buffers", "modes", "terms", "channels")
#: The pieces every loss declares: no letters, figure, converter, init or buffers apply to a loss.
LOSS_PIECES = ("type_name", "options", "check_target", "forward", "backward", "index_form", "index_rules",
               "index_instance", "words", "array_twin", "torch_module")
#: A layer with buffers gives all three; one without declares `buffers = missing(...)`.
BUFFER_METHODS = ("buffer_shapes", "initial_buffers", "updated_buffers")


def undeclared(cls) -> list[str]:
    """The pieces `cls` neither gives nor declares missing (a layer's buffers: all three methods, or `buffers`)."""
    pieces = LAYER_PIECES if issubclass(cls, Layer) else LOSS_PIECES
    left = []
    for piece in pieces:
        if piece == "buffers" and not isinstance(cls.buffers, Missing):
            left += [name for name in BUFFER_METHODS if getattr(cls, name) is UNDECLARED]
        elif getattr(cls, piece, UNDECLARED) is UNDECLARED:
            left.append(piece)
    return left


def uniform_fan_in(rng, shapes: dict[str, tuple[int, ...]]) -> dict[str, np.ndarray]:
    """torch's default init of Conv2d and Linear (kaiming_uniform with a = sqrt(5), and the bias alike):
    U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for every parameter, fan_in from the weight, drawn in `shapes` order."""
    bound = 1 / math.sqrt(int(np.prod(shapes["weight"][1:])))
    return {name: rng.uniform(-bound, bound, size=shape) for name, shape in shapes.items()}


def one_per_output(layer, in_shape, out_shape) -> int:
    """`terms` of a layer whose every output reads one input (or that reads its whole input once, when
    it has fewer outputs: Sum)."""
    return max(math.prod(out_shape), math.prod(in_shape))


def one_weight_row_per_output(layer, in_shape, out_shape) -> int:
    """`terms` of a layer whose every output reads one row of its weight: prod(weight.shape[1:]) products
    (Conv2d: in_channels/groups * kernel area; Linear: in_features)."""
    return math.prod(out_shape) * math.prod(layer.parameter_shapes()["weight"][1:])


@dataclass
class Gradients:
    """What a derivative rule returns: dL/d(input) and dL/d(each parameter)."""

    input: np.ndarray
    params: dict[str, np.ndarray] = field(default_factory=dict)


class Op:
    """What layers and losses share: a torch class name, options, words, and a repr like torch's."""

    type_name: ClassVar[str] = UNDECLARED
    #: The options as torch would show them (for printing and the torch twin): options(self) -> dict.
    options = UNDECLARED
    #: LaTeX index forms: "forward" and one entry per gradient ("input", "weight", ...).
    index_form: ClassVar[dict[str, str]] = UNDECLARED
    #: The same formulas as evaluable functions, declared at the foot of each module.
    index_rules: ClassVar[dict[str, Callable]] = UNDECLARED
    #: index_instance(self, key, shape) -> `index_form[key]` with this op's numbers filled in ("" when nothing changes).
    index_instance = UNDECLARED
    #: {"en": {...}, "zh": {...}}: "note:<index_form key>" notes printed under that rule, and "figure" (its
    #: figure's caption; "{weight}" is replaced by the LaTeX symbol of the layer's weight). {} for no words.
    words: ClassVar[dict[str, dict[str, str]]] = UNDECLARED
    #: The op on whole float64 arrays (see Layer and Loss), or missing("why not").
    array_twin: ClassVar[dict[str, Callable]] = UNDECLARED
    #: torch_module(self): the equivalent torch.nn module (torch imported lazily, only there).
    torch_module = UNDECLARED
    forward = UNDECLARED
    backward = UNDECLARED

    def default_options(self) -> dict[str, object]:
        """Each option's default, left out of the op's short description (`symgrad shapes`): the signature's,
        overridden by an op whose default follows another option (pooling's stride=None is its kernel_size)."""
        return {p.name: p.default for p in inspect.signature(type(self).__init__).parameters.values()
                if p.default is not inspect.Parameter.empty}

    @property
    def where(self) -> str:
        """How error messages name this op."""
        return self.type_name

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}={v!r}" for k, v in self.options().items())
        return f"{self.type_name}({shown})"


class Layer(Op):
    """A network layer with torch's name, options and semantics.

    forward(self, x, params) -> array; backward(self, delta, x, out, params) -> Gradients.
    The array twin: {"forward": f(x, *params, **array_options) -> out,
    "backward": f(delta, x, out, *params, want_input=True, **array_options) -> (dx or None, *dparams)}.
    params come in `parameter_shapes()` order. Every array may carry extra leading (batch) axes;
    these broadcast like NumPy's, and every result has the broadcast batch axes in front: one
    independent problem per batch entry, so dparams are per problem, never summed over the batch.
    Plain NumPy functions at the foot of the op's module (codegen copies their source, and that of
    the module-level functions they call, into generated modules): no other globals than `np`.
    """

    #: output_shape(self, in_shape) -> out_shape; shape_formula(self, in_shape) -> how it follows ("" if unsaid).
    output_shape = UNDECLARED
    shape_formula = UNDECLARED
    #: parameter_shapes(self) -> {name: shape}, in torch's order ({} for none).
    parameter_shapes = UNDECLARED
    #: The engine's name of this layer's output (sigma for a convolution, S for pooling).
    output_letter: ClassVar[str] = UNDECLARED
    #: Base names of the engine's parameter symbols: {"weight": "k", "bias": "b"}.
    symbol_bases: ClassVar[dict[str, str]] = UNDECLARED
    #: The parameters' LaTeX letters in printed documents: {"weight": "K", "bias": "b"}.
    parameter_letters: ClassVar[dict[str, str]] = UNDECLARED
    #: Key of the lead-in words of its rules in printing/words.py: "general" (windowed) or "general_plain".
    rule_words: ClassVar[str] = UNDECLARED
    #: figure(self, in_shape, x) -> cells {(row, column): label} of the input's first channel to highlight, or
    #: None; or missing("...").
    figure = UNDECLARED
    #: from_torch(cls, module) (a classmethod) -> the layer from a torch module's options; or missing("...").
    #: Weights and buffers are copied by symgrad.from_torch from the module's parameters and buffers.
    from_torch = UNDECLARED
    #: initial_values(self, rng) -> {parameter: float64 array}: torch's default init drawn with the NumPy
    #: Generator rng, in parameter_shapes() order; or missing("no parameters").
    initial_values = UNDECLARED
    #: buffer_shapes(self), initial_buffers(self) (torch's defaults), updated_buffers(self, x, params, buffers)
    #: (after one forward pass in training mode), with torch's state_dict names; or buffers = missing("...").
    buffer_shapes = UNDECLARED
    initial_buffers = UNDECLARED
    updated_buffers = UNDECLARED
    #: ("train", "eval") for a layer with torch's train/eval behaviour (option `training`); or missing("...").
    modes = UNDECLARED
    #: terms(self, in_shape, out_shape) -> the products its forward pass writes (core/limits.py's MAX_TERMS and
    #: MAX_DIFF_WORK); `one_per_output` and `one_weight_row_per_output` above serve most layers.
    terms = UNDECLARED
    #: channels(self) -> {option: channel count} held to MAX_CHANNELS (Conv2d's in_channels and out_channels);
    #: or missing("...").
    channels = UNDECLARED

    def __init__(self):
        self.initial: dict[str, object] = {}
        self.given_buffers: dict[str, object] = {}

    def init(self, **values) -> "Layer":
        """Give parameters (or buffers) values (numbers, symbol names or SymPy expressions); the rest stay
        symbols (buffers: torch's defaults)."""
        from ..core.errors import OptionError

        buffers = self.buffer_shapes() if self.buffers else {}
        for name, value in values.items():
            if name in buffers:
                self.given_buffers[name] = value
                continue
            if name not in self.parameter_shapes():
                known = ", ".join(self.parameter_shapes()) or "none"
                raise OptionError(self.where, f"init.{name}", f"not a parameter of this layer (its parameters: {known})")
            self.initial[name] = value
        return self

    def buffers(self) -> dict[str, object]:
        """The buffers' current values: given with `init`, else torch's defaults."""
        return {**self.initial_buffers(), **self.given_buffers}

    def array_options(self, in_shape: tuple[int, ...]) -> dict[str, object]:
        """Keyword arguments of `array_twin` for one problem's input shape (Python literals: ints, tuples,
        bools, strings, None). The shape is needed: Flatten, Linear and Sum must know how many of an
        array's leading axes are batch axes, and a layer alone does not know its input's rank."""
        return {}



class ParameterlessLayer(Layer):
    """A layer with no parameters, no buffers, no channel options and no train/eval difference (pooling,
    activations, reshapes): the declarations they would each repeat, made once. A subclass overrides
    what it does have (Dropout: its train and eval modes)."""

    symbol_bases: ClassVar[dict[str, str]] = {}
    parameter_letters: ClassVar[dict[str, str]] = {}
    initial_values = missing("no parameters")
    buffers = missing("no buffers")
    modes = missing("same in train and eval")
    channels = missing("no channel options")

    def parameter_shapes(self):
        return {}

class Loss(Op):
    """A loss: a scalar from the network output and a target.

    forward(self, out, target) -> scalar; backward(self, out, target) -> dL/d(out). The array twin:
    {"forward": f(out, target, **array_options) -> loss of shape batch, "backward": f(out, target,
    **array_options) -> dL/d(out)}; out and target may carry leading batch axes (the target is the
    checked target; class indices as int64). index_rules: functions rule(loss, out, target).
    """

    #: check_target(self, out_shape, target) -> the target broadcast to the output shape, or an OptionError.
    check_target = UNDECLARED
    #: A loss's rules have no window: the plain lead-in (not a piece a loss declares).
    rule_words: ClassVar[str] = "general_plain"

    def array_options(self, out_shape: tuple[int, ...]) -> dict[str, object]:
        """Keyword arguments of `array_twin` for one problem's output shape (Python literals), as for layers."""
        return {}

    @property
    def where(self) -> str:
        return f"loss {self.type_name}"

    def for_target(self, target: np.ndarray) -> "Loss":
        """The loss as it reads this checked target: itself, or a copy whose forms fit the target (CrossEntropyLoss
        with probability targets or ignored ones). derive keeps what this returns as the derivation's loss."""
        return self

    def symbolic_target(self, out_shape: tuple[int, ...]) -> np.ndarray:
        """The target when the spec gives none: a symbol y_... per output entry."""
        import sympy as sp

        from ..core.tensor import symbols

        if not out_shape:
            return np.array(sp.Symbol("y", real=True), dtype=object)
        return symbols("y", out_shape, None)
