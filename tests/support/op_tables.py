"""The op tables: for every registered layer and loss, random instances and the shapes they take.

One entry per op (its type name): a new op reaches the index-form and array-twin tests by one
entry here, and tests/ops/test_op_tables.py fails while a registered op has none. A layer's
entry draws `(layer, input_shape)`; a loss's draws `(loss, output_shape, target)` with the
target as SymPy numbers. Options are drawn freely: a draw torch would refuse raises
OptionError and `layers()` draws again (the validation suites cover the refusals).
"""

from __future__ import annotations

import random

import numpy as np
import sympy as sp

from symgrad.core.errors import OptionError
from symgrad.ops import LAYERS, LOSSES, AvgPool2d, Conv2d, Flatten, Linear, MaxPool2d


def _image(rng):
    return rng.randint(1, 2), rng.randint(2, 7), rng.randint(2, 7)


def _window(rng):
    return ((rng.randint(1, 3), rng.randint(1, 3)), (rng.randint(1, 3), rng.randint(1, 3)),
            (rng.randint(0, 2), rng.randint(0, 2)))


def _conv2d(rng):
    (n, h, w), (k, s, p) = _image(rng), _window(rng)
    groups = rng.choice([1, 1, 2])
    cin, cout = groups * rng.randint(1, 2), groups * rng.randint(1, 2)
    layer = Conv2d(cin, cout, k, stride=s, padding=rng.choice([p, p, "valid"]),
                   dilation=(rng.randint(1, 2), rng.randint(1, 3)), groups=groups, bias=rng.random() < 0.5)
    return layer, (n, cin, h, w)


def _conv_transpose2d(rng):
    (n, h, w), (k, _, p) = _image(rng), _window(rng)
    groups = rng.choice([1, 1, 2])
    stride, dilation = (rng.randint(1, 3), rng.randint(1, 3)), (rng.randint(1, 2), rng.randint(1, 3))
    layer = LAYERS["ConvTranspose2d"](groups * rng.randint(1, 2), groups * rng.randint(1, 2), k, stride=stride,
                                      padding=p, groups=groups, bias=rng.random() < 0.5, dilation=dilation,
                                      output_padding=tuple(rng.randint(0, max(s, d) - 1)
                                                           for s, d in zip(stride, dilation)))
    return layer, (n, layer.in_channels, h, w)


def _max_pool2d(rng):
    (n, h, w), (k, s, p) = _image(rng), _window(rng)
    return MaxPool2d(k, s, p, dilation=(rng.randint(1, 2), rng.randint(1, 2)), ceil_mode=rng.random() < 0.5), \
        (n, 2, h, w)


def _avg_pool2d(rng):
    (n, h, w), (k, s, p) = _image(rng), _window(rng)
    return AvgPool2d(k, s, p, ceil_mode=rng.random() < 0.5, count_include_pad=rng.random() < 0.5,
                     divisor_override=rng.choice([None, None, rng.randint(1, 5)])), (n, 2, h, w)


def _linear(rng):
    n = _image(rng)[0]
    layer = Linear(rng.randint(1, 4), rng.randint(1, 4), bias=rng.random() < 0.5)
    return layer, (n, layer.in_features)


def _flatten(rng):
    (n, h, w), start = _image(rng), rng.randint(0, 3)
    return Flatten(start, rng.randint(start, 3)), (n, 2, h, w)


def _batch_norm2d(rng):
    """Either mode, with or without running stats (given as small numbers), affine or not; N H W > 1 always
    (batch statistics need more than one value per channel)."""
    (n, h, w), c = (rng.randint(1, 2), rng.randint(1, 3), rng.randint(1, 3)), rng.randint(1, 3)
    layer = LAYERS["BatchNorm2d"](c, eps=rng.choice([1e-5, 0.5]), momentum=rng.choice([0.1, 0.3, None]),
                                  affine=rng.random() < 0.7, bias=rng.random() < 0.7,
                                  track_running_stats=rng.random() < 0.7, training=rng.random() < 0.5)
    if layer.track_running_stats:
        layer.init(running_mean=[rng.randint(-2, 2) for _ in range(c)],
                   running_var=[rng.randint(1, 4) for _ in range(c)])
    return layer, (n, c, h, w if n * h * w > 1 else 2)


def _elementwise(name):
    def draw(rng):
        n, h, w = _image(rng)
        return LAYERS[name](), (n, 2, h, w)
    return draw


def _rectifier(name, options):
    """LeakyReLU, ELU, GELU: each positional option drawn from its list."""
    def draw(rng):
        n, h, w = _image(rng)
        return LAYERS[name](*(rng.choice(values) for values in options)), (n, 2, h, w)
    return draw


def _adaptive_pool2d(name):
    """Sizes that do and do not divide the input, larger than it, None entries; 3-D or 4-D input."""
    def draw(rng):
        n, h, w = _image(rng)
        sizes = (rng.choice([None, 1, 2, 3, 4]), rng.choice([None, 1, 2, 3, 4]))
        return LAYERS[name](sizes), (n, 2, h, w) if rng.random() < 0.7 else (2, h, w)
    return draw


def _along_dim(name):
    """Softmax, LogSoftmax: any dim of a 4-D input, negative ones too."""
    def draw(rng):
        n, h, w = _image(rng)
        return LAYERS[name](rng.randint(-4, 3)), (n, 2, h, w)
    return draw


def _dropout(rng):
    """Either mode, p from 0 to 1 (its ends too), the mask given (drawn as torch would: none dropped at p = 0,
    all at p = 1) or seeded; an image or an (N, features) input."""
    n, h, w = _image(rng)
    shape = (n, 2, h, w) if rng.random() < 0.7 else (n, h)
    p = rng.choice([0, 0.2, 0.5, 1.0])
    options = {"inplace": rng.random() < 0.3, "training": rng.random() < 0.7}
    if rng.random() < 0.5:
        keep = [int(rng.random() >= p) for _ in range(int(np.prod(shape)))]
        options["mask"] = np.array(keep).reshape(shape).tolist()
    else:
        options["seed"] = rng.randint(0, 2**32)
    return LAYERS["Dropout"](p, **options), shape


def _sum(rng):
    n, h, w = _image(rng)
    return LAYERS["Sum"](), (n, 2, h, w) if rng.random() < 0.5 else (2, 3)


LAYER_TABLE = {
    "Conv2d": _conv2d, "ConvTranspose2d": _conv_transpose2d, "MaxPool2d": _max_pool2d, "AvgPool2d": _avg_pool2d,
    "Linear": _linear, "Flatten": _flatten, "Sum": _sum, "BatchNorm2d": _batch_norm2d,
    **{name: _elementwise(name) for name in ("ReLU", "Sigmoid", "Tanh", "Identity")},
    "LeakyReLU": _rectifier("LeakyReLU", ([0.01, 0.25, -0.5, 2.0], [False, True])),
    "ELU": _rectifier("ELU", ([1.0, 0.5, 2.0], [False, True])), "GELU": _rectifier("GELU", (["none", "tanh"],)),
    **{name: _along_dim(name) for name in ("Softmax", "LogSoftmax")},
    **{name: _adaptive_pool2d(name) for name in ("AdaptiveAvgPool2d", "AdaptiveMaxPool2d")},
    "Dropout": _dropout,
}


def _numbers(rng, shape, lo=-3, hi=3):
    array = np.empty(shape, dtype=object)
    for idx in np.ndindex(*shape):
        array[idx] = sp.Integer(rng.randint(lo, hi))  # small integers: ties on purpose
    return array


def _pointwise(name):
    def draw(rng):
        shape = (rng.randint(1, 3), rng.randint(2, 4))
        return LOSSES[name](reduction=rng.choice(["mean", "sum"])), shape, _numbers(rng, shape)
    return draw


def _cross_entropy(rng):
    shape = (rng.randint(1, 3), rng.randint(2, 4))
    target = np.array([sp.Integer(rng.randrange(shape[1])) for _ in range(shape[0])], dtype=object)
    return LOSSES["CrossEntropyLoss"](reduction=rng.choice(["mean", "sum"])), shape, target


def _class_indices(rng, shape, ignore_index):
    """N class indices, some of them ignore_index (never all: torch's mean would be 0/0)."""
    target = [rng.randrange(shape[1]) for _ in range(shape[0])]
    for n in range(shape[0] - 1):
        if rng.random() < 0.3:
            target[n] = ignore_index
    target[-1] = rng.choice([c for c in range(shape[1]) if c != ignore_index])
    return np.array([sp.Integer(v) for v in target], dtype=object)


def _weights(rng, classes):
    return rng.choice([None, [rng.choice([0.5, 1, 2, 3]) for _ in range(classes)]])


def _nll(rng):
    shape = (rng.randint(1, 3), rng.randint(2, 4))
    ignore_index = rng.choice([-100, 0, 1])
    loss = LOSSES["NLLLoss"](reduction=rng.choice(["mean", "sum"]), weight=_weights(rng, shape[1]),
                             ignore_index=ignore_index)
    return loss, shape, _class_indices(rng, shape, ignore_index)


def _cross_entropy_options(rng):
    """weight, ignore_index, label_smoothing and probability targets: (loss, output shape, target), fitted."""
    shape = (rng.randint(1, 3), rng.randint(2, 4))
    probabilities = rng.random() < 0.4
    ignore_index = -100 if probabilities else rng.choice([-100, 0, 1])
    loss = LOSSES["CrossEntropyLoss"](reduction=rng.choice(["mean", "sum"]), weight=_weights(rng, shape[1]),
                                      ignore_index=ignore_index, label_smoothing=rng.choice([0.0, 0.1, 0.5, 1.0]))
    if probabilities:
        target = np.array([[sp.Rational(rng.randint(0, 4), 4) for _ in range(shape[1])] for _ in range(shape[0])],
                          dtype=object)
    else:
        target = _class_indices(rng, shape, ignore_index)
    return loss.for_target(target), shape, target


def _bce(rng):
    shape = (rng.randint(1, 3), rng.randint(2, 4))
    weight = rng.choice([None, 2, [rng.choice([0.5, 1, 2]) for _ in range(shape[1])]])
    pos_weight = rng.choice([None, 3, [rng.choice([0.5, 1, 2]) for _ in range(shape[1])]])
    loss = LOSSES["BCEWithLogitsLoss"](reduction=rng.choice(["mean", "sum"]), weight=weight, pos_weight=pos_weight)
    target = np.array([[sp.Rational(rng.randint(0, 2), 2) for _ in range(shape[1])] for _ in range(shape[0])],
                      dtype=object)
    return loss, shape, target


def _piecewise(name, option, values):
    """SmoothL1Loss, HuberLoss: integer outputs and targets, so |S - y| = threshold (the tie) is drawn often."""
    def draw(rng):
        shape = (rng.randint(1, 3), rng.randint(2, 4))
        loss = LOSSES[name](reduction=rng.choice(["mean", "sum"]), **{option: rng.choice(values)})
        return loss, shape, _numbers(rng, shape)
    return draw


LOSS_TABLE = {"MSELoss": _pointwise("MSELoss"), "L1Loss": _pointwise("L1Loss"), "CrossEntropyLoss": _cross_entropy}
LOSS_TABLE.update({"NLLLoss": _nll, "CrossEntropyLoss": lambda rng: (_cross_entropy if rng.random() < 0.4 else
                                                                     _cross_entropy_options)(rng),
                   "BCEWithLogitsLoss": _bce, "SmoothL1Loss": _piecewise("SmoothL1Loss", "beta", [0, 0.5, 1.0, 2]),
                   "HuberLoss": _piecewise("HuberLoss", "delta", [0.5, 1.0, 2])})


def random_layer(name: str, rng: random.Random):
    """One draw of `name`'s entry: (layer, input shape); OptionError when torch would refuse it."""
    layer, shape = LAYER_TABLE[name](rng)
    layer.output_shape(shape)
    return layer, shape


def layers(name: str, count: int, seed=None, tries: int = 20) -> list:
    """`count` valid (layer, input shape) pairs of `name`, drawn reproducibly (seeded by the name)."""
    rng = random.Random(name if seed is None else seed)
    found = []
    for _ in range(count * tries):
        try:
            found.append(random_layer(name, rng))
        except OptionError:
            continue
        if len(found) == count:
            return found
    raise AssertionError(f"{name}: {len(found)} of {count * tries} draws valid; narrow its entry's options")


def random_loss(name: str, rng: random.Random):
    """One draw of `name`'s entry: (loss, output shape, target as SymPy numbers)."""
    return LOSS_TABLE[name](rng)
