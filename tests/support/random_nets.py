"""Random small networks for the property tests (tests/engine/test_properties.py), drawn as data.

A `Net` is what a user would write for torch: (class name, keyword arguments) per layer,
integer parameter values, a loss and SGD options. symgrad and torch build it from the
same words. Inputs, weights and targets come from tiny integer ranges (-2..2), so tied
max-pool windows, ReLU at exactly 0 and L1 residuals of 0 happen on purpose.

The strategies build configurations torch accepts: each layer is drawn from options
that fit the current input (the kernel, dilation and padding pairs are chosen from the
ones that fit), and torch itself is asked for the output shape. Sizes stay small
(sides about 7 at most, at most 3 channels, batch 1 or 2) so one example derives in a
fraction of a second.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from lazy_torch import torch
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import symgrad as sg

SMALL = st.integers(-2, 2)
MAX_SIDE = 6  # padding is only drawn while the output stays near this side


@dataclass
class Net:
    layers: list  # [(torch class name, kwargs)], the same words for symgrad and torch
    x: np.ndarray
    params: dict  # "0.weight" -> integer array, torch's parameter names
    loss: tuple | None  # (class name, kwargs) or None when the network ends with Sum
    target: object
    sgd: dict | None
    passes: int = 1  # backward passes summed into the gradients (torch without zero_grad)
    optimizer: tuple | None = None  # (class name, kwargs) of another optimizer (Adam, ...); then sgd is None

    def derive(self, method: str = "rules"):
        layers = []
        for i, (kind, kwargs) in enumerate(self.layers):
            layer = getattr(sg, kind)(**kwargs)
            layer.init(**{name: self.params[f"{i}.{name}"] for name in layer.parameter_shapes()})
            layers.append(layer)
        loss = None if self.loss is None else getattr(sg, self.loss[0])(**self.loss[1])
        optimizer = None if self.sgd is None else sg.SGD(**self.sgd)
        if self.optimizer is not None:
            optimizer = getattr(sg, self.optimizer[0])(**self.optimizer[1])
        return sg.derive(sg.Sequential(*layers), self.x, loss, self.target, optimizer, method=method,
                         backward_passes=self.passes)

    def kinds(self) -> set[str]:
        return {kind for kind, _ in self.layers}


#: Words symgrad takes that torch's constructor does not: Dropout's mask (torch draws its own) and mode.
SYMGRAD_ONLY = ("mask", "seed", "training")


def torch_output_shape(kind: str, kwargs: dict, shape: tuple) -> tuple | None:
    """The output shape torch gives for this layer on an input of `shape`, or None if torch refuses."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # padding="same" with an even kernel warns
            module = getattr(torch.nn, kind)(**{k: v for k, v in kwargs.items() if k not in SYMGRAD_ONLY})
            with torch.no_grad():
                return tuple(module(torch.zeros(shape)).shape)
    except (RuntimeError, ValueError, TypeError):
        return None


def _option(draw, per_axis: tuple):
    """An int when both axes agree (sometimes still written as a pair), else a pair."""
    if per_axis[0] == per_axis[1] and draw(st.booleans()):
        return per_axis[0]
    return tuple(per_axis)


def _pad_limit(size: int) -> int:
    return min(2, max(0, (MAX_SIDE + 1 - size) // 2))


def _drop_some(draw, kwargs: dict, required: tuple) -> dict:
    """Leave some optional keywords out, so torch's defaults are exercised too."""
    return {k: v for k, v in kwargs.items() if k in required or not draw(st.booleans())}


@st.composite
def conv2d(draw, shape):
    _, c, h, w = shape
    groups = draw(st.sampled_from([g for g in (1, 2, 3) if c % g == 0]))
    out_channels = groups * draw(st.integers(1, 3 // groups))
    mode = draw(st.sampled_from(["int", "pair", "same", "valid"]))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    if mode == "same":
        padding, pads = "same", (None, None)
    elif mode == "valid":
        padding, pads = "valid", (0, 0)
    elif mode == "int":
        p = draw(st.integers(0, min(_pad_limit(h), _pad_limit(w))))
        padding, pads = p, (p, p)
    else:
        pads = (draw(st.integers(0, _pad_limit(h))), draw(st.integers(0, _pad_limit(w))))
        padding = pads
    kernel = []
    for size, p, d in zip((h, w), pads, dilation):
        fits = [k for k in (1, 2, 3) if p is None or size + 2 * p >= d * (k - 1) + 1]
        kernel.append(draw(st.sampled_from(fits)))
    stride = 1 if mode == "same" else _option(draw, (draw(st.integers(1, 3)), draw(st.integers(1, 3))))
    kwargs = dict(in_channels=c, out_channels=out_channels, kernel_size=_option(draw, kernel), stride=stride,
                  padding=padding if isinstance(padding, str) else _option(draw, pads), dilation=_option(draw, dilation),
                  groups=groups, bias=draw(st.booleans()))
    return "Conv2d", _drop_some(draw, kwargs, ("in_channels", "out_channels", "kernel_size"))


@st.composite
def pool2d(draw, shape, kind=None):
    kind = kind or draw(st.sampled_from(["MaxPool2d", "AvgPool2d"]))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2))) if kind == "MaxPool2d" else (1, 1)
    kernel, pads = [], []
    for size, d in zip(shape[2:], dilation):
        # (kernel, padding) pairs torch accepts here: pad <= kernel/2 and the window fits the padded input
        fits = [(k, p) for k in (1, 2, 3) for p in range(k // 2 + 1) if size + 2 * p >= d * (k - 1) + 1]
        k, p = draw(st.sampled_from(fits))
        kernel.append(k)
        pads.append(p)
    stride = draw(st.one_of(st.none(), st.integers(1, 3), st.tuples(st.integers(1, 3), st.integers(1, 3))))
    kwargs = dict(kernel_size=_option(draw, kernel), stride=stride, padding=_option(draw, pads),
                  ceil_mode=draw(st.booleans()))
    if kind == "MaxPool2d":
        kwargs["dilation"] = _option(draw, dilation)
    else:
        kwargs["count_include_pad"] = draw(st.booleans())
        kwargs["divisor_override"] = draw(st.sampled_from([None, None, None, 1, 2, 3, -2]))
    return kind, _drop_some(draw, kwargs, ("kernel_size",))


#: Activations whose exact expressions do not grow (piecewise linear), and those that do (exp, erf, tanh).
PIECEWISE = ("ReLU", "LeakyReLU", "Identity")
SMOOTH = ("Sigmoid", "Tanh", "ELU", "GELU", "Softmax", "LogSoftmax")
NEW_ACTIVATIONS = ("Identity", "GELU", "LeakyReLU", "ELU", "Softmax", "LogSoftmax")


@st.composite
def activation(draw, shape, previous=None, kinds=("ReLU", "Sigmoid", "Tanh")):
    """One of `kinds` (ReLU, Sigmoid, Tanh unless told; NEW_ACTIVATIONS are issue 16's), random options."""
    kind = draw(st.sampled_from(kinds))
    kwargs = {}
    if kind == "LeakyReLU":
        kwargs["negative_slope"] = draw(st.sampled_from([0.01, 0.25, 2.0, -0.5]))
    elif kind == "ELU" and draw(st.booleans()):
        kwargs["alpha"] = draw(st.sampled_from([0.5, 2.0]))
    elif kind == "GELU" and draw(st.booleans()):
        kwargs["approximate"] = draw(st.sampled_from(["none", "tanh"]))
    elif kind in ("Softmax", "LogSoftmax"):
        kwargs["dim"] = draw(st.integers(-len(shape), len(shape) - 1))
    elif kind == "Dropout":  # its mask from a seed (torch's twin holds the same), or eval mode; drawn by
        # tests/ops/test_dropout.py (in NEW_ACTIVATIONS it would reshuffle the ci profile's derandomized draws)
        kwargs["p"] = draw(st.sampled_from([0, 0.2, 0.5, 1]))
        kwargs.update({"seed": draw(st.integers(0, 2**16))} if draw(st.integers(0, 3)) else {"training": False})
    # torch refuses an in-place ReLU on the input (a leaf) and after Sigmoid/Tanh (their backward needs
    # the output): only after Conv2d and Linear, whose backward does not read their output (LeakyReLU
    # in place also needs a positive slope)
    if (kind == "ReLU" or (kind == "LeakyReLU" and kwargs["negative_slope"] > 0)) \
            and previous in ("Conv2d", "Linear") and draw(st.booleans()):
        kwargs["inplace"] = True
    return kind, kwargs


@st.composite
def linear(draw, shape):
    return "Linear", _drop_some(draw, dict(in_features=shape[-1], out_features=draw(st.integers(1, 3)),
                                           bias=draw(st.booleans())), ("in_features", "out_features"))


@st.composite
def flatten(draw, shape):
    rank = len(shape)
    if draw(st.booleans()):
        return "Flatten", {}
    start, end = draw(st.integers(-rank, rank - 1)), draw(st.integers(-rank, rank - 1))
    if start % rank > end % rank:
        start, end = end, start
    return "Flatten", {"start_dim": start, "end_dim": end}


def input_shape(max_channels: int = 3, max_side: int = 5):
    return st.tuples(st.integers(1, 2), st.integers(1, max_channels), st.integers(1, max_side),
                     st.integers(1, max_side))


def _fallback(kind: str, shape) -> tuple[str, dict]:
    """A layer of the same kind that always fits (kernel 1)."""
    if kind == "Conv2d":
        return kind, dict(in_channels=shape[1], out_channels=shape[1], kernel_size=1)
    return kind, dict(kernel_size=1)


def add_layer(draw, layers: list, shape: tuple, strategy) -> tuple:
    """Draw a layer for `shape`, keep it if torch accepts it (else a kernel-1 one); the new shape."""
    kind, kwargs = draw(strategy)
    out = torch_output_shape(kind, kwargs, shape)
    if out is None:
        assert kind in ("Conv2d", "MaxPool2d", "AvgPool2d"), f"torch refuses {kind}({kwargs}) on {shape}"
        kind, kwargs = _fallback(kind, shape)
        out = torch_output_shape(kind, kwargs, shape)
    layers.append((kind, kwargs))
    return out


@st.composite
def loss_and_target(draw, out_shape: tuple):
    """A loss that fits the output (CrossEntropyLoss only on (N, C) logits) and its target."""
    kinds = ["MSELoss", "L1Loss"] + (["CrossEntropyLoss"] if len(out_shape) == 2 else [])
    kind = draw(st.sampled_from(kinds))
    kwargs = {} if draw(st.booleans()) else {"reduction": draw(st.sampled_from(["mean", "sum"]))}
    if kind == "CrossEntropyLoss":
        target = draw(arrays(np.int64, (out_shape[0],), elements=st.integers(0, out_shape[1] - 1)))
    else:
        # a scalar, the full shape, or a shape that broadcasts (trailing dims, leading ones)
        choices = [()] + [out_shape[i:] for i in range(len(out_shape))] + [(1,) * len(out_shape)]
        target_shape = draw(st.sampled_from(choices))
        target = int(draw(SMALL)) if target_shape == () else draw(arrays(np.int64, target_shape, elements=SMALL))
    return (kind, kwargs), target


def sgd_options():
    """SGD's options as torch takes them; nesterov only with momentum and no dampening (torch's rule)."""

    @st.composite
    def options(draw):
        kwargs = {"lr": draw(st.sampled_from([0.1, 0.5, 1, 0.01, 0.25, 0]))}
        momentum = draw(st.sampled_from([0, 0, 0.5, 0.9]))
        if momentum:
            kwargs["momentum"] = momentum
            nesterov = draw(st.booleans())
            if nesterov:
                kwargs["nesterov"] = True
            elif draw(st.booleans()):
                kwargs["dampening"] = draw(st.sampled_from([0.5, 0.1]))
        for key, values in (("weight_decay", [0.25, 0.01, 1]), ("maximize", [True, False])):
            if draw(st.booleans()):
                kwargs[key] = draw(st.sampled_from(values))
        return kwargs

    return st.one_of(st.none(), options())


@st.composite
def finish(draw, layers: list, shape: tuple, x_shape: tuple, allow_no_loss: bool = True):
    """Parameter values, a loss and target (none after Sum, sometimes), SGD options, backward passes."""
    params = {}
    for i, (kind, kwargs) in enumerate(layers):
        layer = getattr(sg, kind)(**kwargs)
        for name, pshape in layer.parameter_shapes().items():
            params[f"{i}.{name}"] = draw(arrays(np.int64, pshape, elements=SMALL))
    if shape == () and allow_no_loss and draw(st.booleans()):
        loss, target = None, None
    else:
        loss, target = draw(loss_and_target(shape))
    x = draw(arrays(np.int64, x_shape, elements=SMALL))
    return Net(layers, x, params, loss, target, draw(sgd_options()), draw(st.sampled_from([1, 1, 1, 2, 3])))


@st.composite
def conv_nets(draw):
    """One to three Conv2d layers, optionally summed."""
    x_shape = shape = draw(input_shape())
    layers = []
    for _ in range(draw(st.integers(1, 3))):
        shape = add_layer(draw, layers, shape, conv2d(shape))
    if draw(st.booleans()):
        layers.append(("Sum", {}))
        shape = ()
    return draw(finish(layers, shape, x_shape))


@st.composite
def pool_nets(draw, max_side: int = 6):
    """One or two pooling layers (max and average, every option), optionally summed."""
    x_shape = shape = draw(input_shape(max_side=max_side))
    layers = []
    for _ in range(draw(st.integers(1, 2))):
        shape = add_layer(draw, layers, shape, pool2d(shape))
    if draw(st.booleans()):
        layers.append(("Sum", {}))
        shape = ()
    return draw(finish(layers, shape, x_shape))


@st.composite
def mixed_nets(draw, max_image_layers: int = 3, max_side: int = 5, transcendental: bool = True):
    """Image layers (conv, pools, activations, Linear on the last dim), then Flatten/Linear or Sum."""
    x_shape = shape = draw(input_shape(max_side=max_side))
    layers = []
    smooth = 0  # one SMOOTH activation at most: their exact expressions grow with every layer after them
    image = ["Conv2d", "MaxPool2d", "AvgPool2d", "activation", "new activation", "Linear"]
    for _ in range(draw(st.integers(1, max_image_layers))):
        choice = draw(st.sampled_from(image))
        previous = layers[-1][0] if layers else None
        if choice == "Conv2d":
            strategy = conv2d(shape)
        elif choice in ("activation", "new activation"):
            kinds = NEW_ACTIVATIONS if choice == "new activation" else ("ReLU", "Sigmoid", "Tanh")
            strategy = activation(shape, previous, kinds).filter(
                lambda layer: layer[0] in PIECEWISE or (transcendental and smooth < 1))
        elif choice == "Linear":
            strategy = linear(shape)
        else:
            strategy = pool2d(shape, choice)
        shape = add_layer(draw, layers, shape, strategy)
        smooth += layers[-1][0] in SMOOTH
    tail = draw(st.sampled_from(["none", "flatten", "sum"]))
    if tail == "flatten":
        shape = add_layer(draw, layers, shape, flatten(shape))
        for _ in range(draw(st.integers(0, 2))):
            previous = layers[-1][0]
            strategy = linear(shape) if previous != "Linear" or not draw(st.booleans()) else \
                activation(shape, previous).filter(lambda layer: layer[0] in PIECEWISE or transcendental)
            shape = add_layer(draw, layers, shape, strategy)
    elif tail == "sum":
        layers.append(("Sum", {}))
        shape = ()
    return draw(finish(layers, shape, x_shape))


# --- options drawn with invalid values too (option validation, both directions) -------------

def _raw(draw, good: list, bad: list):
    """An int or a pair; each entry from `good` three times as often as from `bad` (invalid or risky)."""
    values = st.sampled_from(good * 3 + bad)
    return draw(st.one_of(values, st.tuples(values, values)))


@st.composite
def any_layer(draw, channels: int):
    """Conv2d, MaxPool2d or AvgPool2d with options from ranges that include invalid values: zeros,
    negatives, padding beyond half the kernel, "same" with a stride, groups not dividing the channels,
    kernels larger than the input, ceil_mode windows, divisor_override 0."""
    kind = draw(st.sampled_from(["Conv2d", "MaxPool2d", "AvgPool2d"]))
    kwargs = {"kernel_size": _raw(draw, [1, 2, 3], [0, -1, 4, 6])}
    if draw(st.booleans()):
        kwargs["stride"] = _raw(draw, [1, 2, 3], [0, -1])
    if draw(st.booleans()):
        kwargs["padding"] = draw(st.sampled_from(["same", "valid"])) if kind == "Conv2d" and draw(st.booleans()) \
            else _raw(draw, [0, 1], [-1, 2, 3])
    if kind != "AvgPool2d" and draw(st.booleans()):
        kwargs["dilation"] = _raw(draw, [1, 2], [0, -1, 3])
    if kind == "Conv2d":
        kwargs["in_channels"] = draw(st.sampled_from([channels] * 6 + [channels + 1, 2 * channels]))
        kwargs["out_channels"] = draw(st.sampled_from([1, 2, 3, 4] * 2 + [0, -1]))
        if draw(st.booleans()):
            kwargs["groups"] = draw(st.sampled_from([1, 2, 3, 4, 0, -1]))
        if draw(st.booleans()):
            kwargs["bias"] = draw(st.booleans())
    else:
        if draw(st.booleans()):
            kwargs["ceil_mode"] = draw(st.booleans())
        if kind == "AvgPool2d":
            if draw(st.booleans()):
                kwargs["count_include_pad"] = draw(st.booleans())
            if draw(st.booleans()):
                kwargs["divisor_override"] = draw(st.sampled_from([None, 1, 2, 3, -2, 0]))
    return kind, kwargs


@st.composite
def any_layers(draw):
    """An input shape and one or two layers drawn by `any_layer` (the second sees the first's channels)."""
    shape = draw(input_shape(max_side=6))
    layers = [draw(any_layer(shape[1]))]
    if draw(st.booleans()):
        first = layers[0][1]
        channels = first["out_channels"] if layers[0][0] == "Conv2d" and first["out_channels"] > 0 else shape[1]
        layers.append(draw(any_layer(channels)))
    return shape, layers


# --- issue 16's layers, losses and optimizers, drawn into their own networks ---------------------------
# (a strategy of its own, so the draws of the strategies above, derandomized in the ci profile, stay as they were)

@st.composite
def conv_transpose2d(draw, shape):
    _, c, h, w = shape
    groups = draw(st.sampled_from([g for g in (1, 2) if c % g == 0]))
    stride = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    padding = tuple(draw(st.integers(0, (d * (k - 1)) // 2)) for k, d in zip(kernel, dilation))
    # torch: output_padding smaller than stride or dilation
    output_padding = tuple(draw(st.integers(0, max(s, d) - 1)) for s, d in zip(stride, dilation))
    kwargs = dict(in_channels=c, out_channels=groups * draw(st.integers(1, 2)), kernel_size=_option(draw, kernel),
                  stride=_option(draw, stride), padding=_option(draw, padding),
                  output_padding=_option(draw, output_padding), groups=groups, bias=draw(st.booleans()),
                  dilation=_option(draw, dilation))
    return "ConvTranspose2d", _drop_some(draw, kwargs, ("in_channels", "out_channels", "kernel_size"))


@st.composite
def batchnorm2d(draw, shape):
    kwargs = dict(num_features=shape[1], eps=draw(st.sampled_from([1e-5, 0.5, 1])),
                  momentum=draw(st.sampled_from([0.1, 0.5, None])), affine=draw(st.booleans()))
    return "BatchNorm2d", _drop_some(draw, kwargs, ("num_features",))


@st.composite
def adaptive_pool2d(draw, shape):
    kind = draw(st.sampled_from(["AdaptiveAvgPool2d", "AdaptiveMaxPool2d"]))
    sizes = (draw(st.integers(1, shape[2] + 1)), draw(st.integers(1, shape[3] + 1)))  # larger than the input too
    size = sizes[0] if sizes[0] == sizes[1] and draw(st.booleans()) else \
        (draw(st.sampled_from([sizes[0], None])), sizes[1])
    return kind, {"output_size": size}


NEW_IMAGE_LAYERS = ("ConvTranspose2d", "BatchNorm2d", "AdaptiveAvgPool2d", "AdaptiveMaxPool2d")
NEW_LOSSES = ("SmoothL1Loss", "HuberLoss", "BCEWithLogitsLoss", "NLLLoss", "CrossEntropyLoss")
NEW_OPTIMIZERS = ("Adam", "AdamW", "RMSprop", "Adagrad")


@st.composite
def new_loss_and_target(draw, out_shape: tuple):
    """SmoothL1Loss, HuberLoss, BCEWithLogitsLoss on any output; NLLLoss and CrossEntropyLoss with their
    options (weight, ignore_index, label_smoothing) on (N, C) logits."""
    classes = len(out_shape) == 2 and draw(st.booleans())  # on (N, C) logits, a class loss half the time
    kind = draw(st.sampled_from(["CrossEntropyLoss", "NLLLoss"] if classes else
                                ["SmoothL1Loss", "HuberLoss", "BCEWithLogitsLoss"]))
    kwargs = {} if draw(st.booleans()) else {"reduction": draw(st.sampled_from(["mean", "sum"]))}
    if kind in ("NLLLoss", "CrossEntropyLoss"):
        n, classes = out_shape
        target = draw(arrays(np.int64, (n,), elements=st.integers(0, classes - 1)))
        if draw(st.booleans()):
            kwargs["weight"] = draw(st.lists(st.sampled_from([1, 2, 0.5, 3]), min_size=classes, max_size=classes))
        if draw(st.booleans()):  # an ignored class; not every target ignored (torch's mean would be 0/0 = nan)
            ignored = draw(st.integers(0, classes - 1))
            if (target != ignored).any():
                kwargs["ignore_index"] = ignored
        if kind == "CrossEntropyLoss" and draw(st.booleans()):
            kwargs["label_smoothing"] = draw(st.sampled_from([0.1, 0.25, 1.0]))
        return (kind, kwargs), target
    if kind == "SmoothL1Loss" and draw(st.booleans()):
        kwargs["beta"] = draw(st.sampled_from([0.5, 1.0, 2.0, 0]))
    if kind == "HuberLoss" and draw(st.booleans()):
        kwargs["delta"] = draw(st.sampled_from([0.5, 1.0, 2.0]))
    if kind == "BCEWithLogitsLoss":
        target = draw(arrays(object, out_shape, elements=st.sampled_from([0, 1, 0.5, 0.25])))
        if draw(st.booleans()):
            kwargs["pos_weight"] = draw(st.sampled_from([2, 0.5]))
        return (kind, kwargs), target
    return (kind, kwargs), draw(arrays(np.int64, out_shape, elements=SMALL))


@st.composite
def new_optimizer(draw):
    kind = draw(st.sampled_from(NEW_OPTIMIZERS))
    # eps of 0.1 and more: a gradient that is exactly 0 here is torch's float noise (1e-17 where a batch norm's
    # normalised inputs sum to 0), and g / (sqrt(v) + eps) with torch's tiny default eps makes that noise a step
    # of lr * 1e-7 (the exact zero of symgrad gives none); the defaults are tested in tests/engine/test_steps.py
    kwargs = {"lr": draw(st.sampled_from([0.1, 0.5, 0.01])), "eps": draw(st.sampled_from([0.1, 0.5, 1]))}
    if draw(st.booleans()):
        kwargs["weight_decay"] = draw(st.sampled_from([0.25, 0.01]))
    if draw(st.booleans()):
        kwargs["maximize"] = True
    if kind in ("Adam", "AdamW"):
        if draw(st.booleans()):
            kwargs["betas"] = draw(st.sampled_from([(0.5, 0.75), (0.9, 0.999)]))
        if draw(st.booleans()):
            kwargs["amsgrad"] = True
    elif kind == "RMSprop":
        if draw(st.booleans()):
            kwargs["alpha"] = draw(st.sampled_from([0.5, 0.9]))
        if draw(st.booleans()):
            kwargs["momentum"] = draw(st.sampled_from([0.5, 0.9]))
        if draw(st.booleans()):
            kwargs["centered"] = True
    elif draw(st.booleans()):
        kwargs.update(lr_decay=draw(st.sampled_from([0.5, 0.1])),
                      initial_accumulator_value=draw(st.sampled_from([0, 1])))
    return kind, kwargs


@st.composite
def new_piece_nets(draw):
    """Issue 16's pieces: one or two of ConvTranspose2d, BatchNorm2d (training mode, batch statistics),
    AdaptiveAvgPool2d and AdaptiveMaxPool2d (ties on purpose), sometimes a Conv2d; then the output itself or
    Flatten -> Linear (-> LogSoftmax before NLLLoss); a new loss with its options; Adam, AdamW, RMSprop or
    Adagrad with theirs (or none)."""
    x_shape = shape = draw(st.tuples(st.integers(1, 2), st.integers(1, 2), st.integers(1, 3), st.integers(1, 3)))
    layers = []
    for _ in range(draw(st.integers(1, 2))):
        choice = draw(st.sampled_from(NEW_IMAGE_LAYERS + ("Conv2d",)))
        if choice == "BatchNorm2d" and shape[0] * shape[2] * shape[3] == 1:
            choice = "AdaptiveAvgPool2d"  # torch: "Expected more than 1 value per channel when training"
        strategy = {"ConvTranspose2d": conv_transpose2d, "BatchNorm2d": batchnorm2d, "Conv2d": conv2d}.get(
            choice, adaptive_pool2d)(shape)
        kind, kwargs = draw(strategy)
        out = torch_output_shape(kind, kwargs, shape)
        if out is None or not all(out):  # a transposed conv whose padding eats the output, a conv too large
            kind, kwargs = ("Conv2d", {"in_channels": shape[1], "out_channels": shape[1], "kernel_size": 1}) \
                if kind == "Conv2d" else ("ConvTranspose2d", {"in_channels": shape[1], "out_channels": 1,
                                                              "kernel_size": 1})
            out = torch_output_shape(kind, kwargs, shape)
        layers.append((kind, kwargs))
        shape = out
    if draw(st.booleans()):
        shape = add_layer(draw, layers, shape, flatten(shape).filter(lambda f: not f[1]))  # (N, features)
        shape = add_layer(draw, layers, shape, linear(shape))
    (kind, kwargs), target = draw(new_loss_and_target(shape))
    if kind == "NLLLoss":
        layers.append(("LogSoftmax", {"dim": 1}))
    params = {}
    for i, (layer_kind, layer_kwargs) in enumerate(layers):
        for name, pshape in getattr(sg, layer_kind)(**layer_kwargs).parameter_shapes().items():
            params[f"{i}.{name}"] = draw(arrays(np.int64, pshape, elements=SMALL))
    x = draw(arrays(np.int64, x_shape, elements=SMALL))
    optimizer = draw(st.one_of(st.none(), new_optimizer()))
    return Net(layers, x, params, (kind, kwargs), target, None, draw(st.sampled_from([1, 1, 2])), optimizer)
