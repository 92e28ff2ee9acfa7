"""Fresh practice problems of the handout's kinds, with small random integers, from a seed.

Reproducible: one `random.Random(seed)` drives every choice, in a fixed order, so the
same seed gives byte-identical sheets. Ties are included on purpose: a max-pooling
window with two equal maxima (torch sends the gradient to the first), and ReLU at 0
(torch's ReLU'(0) = 0). The random numbers are only the givens; every answer comes
from `derive` or the shape table. The five short kinds (MORE_KINDS: batch norm, a transposed
convolution, dropout, label-smoothed cross-entropy, one Adam step) are built by layer_kinds.py
and train_kinds.py from givens drawn here; they are drawn only when `kinds` asks for them,
so the default sheet of a seed stays as it was.
"""

from __future__ import annotations

import random

import numpy as np

from ..engine import network as net
from .. import ops
from ..derive import derive
from ..core.errors import OptionError
from ..core.suggest import did_you_mean
from ..engine.optim import SGD
from ..core.tensor import symbolic
from . import layer_kinds, problems, train_kinds
from .document import Document, Heading, NewPage, Space, Text
from .words import words

KINDS = ("conv_sum", "conv_max_pool", "conv_avg_pool", "pool_shape", "max_pool_backward", "avg_pool_backward",
         "conv_relu_max_pool")  # the default sheet's cycle (unchanged, so old seeds give the same sheets)
#: The short questions on more layers, a loss and an optimizer (issue 16): chosen with --kind.
MORE_KINDS = ("batchnorm_backward", "transposed_conv", "dropout", "cross_entropy_smoothing", "adam_step")
ALL_KINDS = KINDS + MORE_KINDS
MAX_COUNT = 100
MAX_SEED = 2**63 - 1
TRIES = 200  # candidates drawn before a tie is given up on (the last one is used; never seen in practice)
#: Ruled lines of room to write under each kind of problem on the sheet (a gradient problem fills most of a page).
ROOM = {"conv_sum": 10, "conv_max_pool": 10, "conv_avg_pool": 10, "conv_relu_max_pool": 10, "pool_shape": 6,
        "max_pool_backward": 7, "avg_pool_backward": 7, "batchnorm_backward": 10, "transposed_conv": 9, "dropout": 6,
        "cross_entropy_smoothing": 8, "adam_step": 8}


def check(count, seed, kinds=None) -> None:
    """--count in 1..100, --seed a non-negative integer and --kind among ALL_KINDS, else an OptionError."""
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_COUNT:
        raise OptionError("exercises", "--count", f"must be an integer from 1 to {MAX_COUNT}, got {count!r}")
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
        raise OptionError("exercises", "--seed", f"must be an integer from 0 to {MAX_SEED}, got {seed!r}")
    if kinds is not None:
        if isinstance(kinds, str) or not kinds:
            raise OptionError("exercises", "--kind", f"must be a list of kinds ({', '.join(ALL_KINDS)}), got {kinds!r}")
        for kind in kinds:
            if kind not in ALL_KINDS:
                raise OptionError("exercises", "--kind", f"must be one of {', '.join(ALL_KINDS)}, got "
                                                         f"{kind!r}{did_you_mean(kind, ALL_KINDS)}")


def generate(count: int, seed: int, lang: str = "en", kinds=None) -> list[problems.Problem]:
    """`count` problems, cycling through `kinds` (default KINDS), every number drawn from `random.Random(seed)`."""
    check(count, seed, kinds)
    kinds = tuple(kinds) if kinds is not None else KINDS
    w = words(lang)
    rng = random.Random(seed)
    return [_MAKERS[kinds[i % len(kinds)]](rng, w) for i in range(count)]


def sheets(count: int, seed: int, lang: str = "en", kinds=None) -> tuple[Document, Document]:
    """(problem sheet, answer key): two documents, so the key can be handed out separately."""
    items = generate(count, seed, lang, kinds)
    w = words(lang)
    sheet = [Heading(w["sheet_title"].format(seed=seed), 1), Text(w["sheet_intro"].format(count=count))]
    key = [Heading(w["key_title"].format(seed=seed), 1), Text(w["key_intro"])]
    for n, p in enumerate(items, 1):
        sheet += [Heading(w["problem"].format(n=n, title=p.title), 2), *p.prompt, Space(w["work_space"], ROOM[p.kind])]
        key += [Heading(w["answer_problem"].format(n=n), 2), *p.answers]
    return Document(lang, tuple(sheet)), Document(lang, tuple(key))


def together(sheet: Document, key: Document) -> Document:
    """Sheet and key in one document, the key after a page break (stdout without --out)."""
    return Document(sheet.lang, (*sheet.blocks, NewPage(), *key.blocks))


# --- the kinds ----------------------------------------------------------------

def _ints(rng, shape, low, high) -> list:
    return np.array([rng.randint(low, high) for _ in range(int(np.prod(shape)))]).reshape(shape).tolist()


def _tied(pool, array: np.ndarray) -> bool:
    """Does some window of `pool` over the 2-D `array` hold its maximum twice?"""
    for cells in problems.windows(pool, (1, 1, *array.shape)).values():
        window = [array[h - 1, w - 1] for h, w in cells]
        if window.count(max(window)) > 1:
            return True
    return False


def _conv_problem(kind: str, rng, w, pool_type, relu: bool = False):
    size = rng.choice([3, 4])
    k, s = (2, 2) if size == 3 else (2, 1)  # sigma is 2 x 2 (one window) or 3 x 3 (overlapping windows)
    lr = rng.choice([0.01, 0.1])
    target = rng.randint(-5, 20)
    for _ in range(TRIES):
        x, kernel = _ints(rng, (size, size), -2, 4), _ints(rng, (2, 2), -2, 3)
        layers = [ops.Conv2d(1, 1, 2, bias=False, weight=kernel)] + ([ops.ReLU()] if relu else [])
        if pool_type is not None:
            layers.append(pool_type(k, stride=s))
        else:
            layers.append(ops.Sum())
        d = derive(net.Sequential(*layers), x, ops.MSELoss(), target, SGD(lr=lr))
        if _wanted(d, pool_type, relu):
            break
    return problems.gradient(kind, w, d)


def _wanted(d, pool_type, relu) -> bool:
    """Max pooling: a tied window; with ReLU: also an entry of sigma at exactly 0."""
    if pool_type is not ops.MaxPool2d:
        return True
    layers = d.tensors.layers
    sigma = np.asarray(layers[0].output, dtype=object)[0, 0]
    pooled = np.asarray(layers[1 if relu else 0].output, dtype=object)[0, 0]
    return _tied(d.network.layers[-1], pooled) and (not relu or any(v == 0 for v in sigma.reshape(-1)))


def conv_sum(rng, w):
    return _conv_problem("conv_sum", rng, w, None)


def conv_max_pool(rng, w):
    return _conv_problem("conv_max_pool", rng, w, ops.MaxPool2d)


def conv_avg_pool(rng, w):
    return _conv_problem("conv_avg_pool", rng, w, ops.AvgPool2d)


def conv_relu_max_pool(rng, w):
    return _conv_problem("conv_relu_max_pool", rng, w, ops.MaxPool2d, relu=True)


def max_pool_backward(rng, w):
    """A 4 x 4 or 5 x 5 input whose first window holds its maximum twice, on purpose."""
    size = rng.choice([4, 5])
    k, s, p = rng.choice([(2, 2, 0), (3, 1, 0), (3, 2, 1), (2, 1, 0)])
    x = np.array(_ints(rng, (size, size), 0, 5))
    corner = x[:k - p, :k - p]  # window (1, 1) inside the input
    first = np.unravel_index(int(np.argmax(corner)), corner.shape)
    cells = [c for c in np.ndindex(*corner.shape) if c != first]
    corner[cells[rng.randrange(len(cells))]] = corner[first]
    d = derive(net.Sequential(ops.MaxPool2d(k, stride=s, padding=p), ops.Sum()), x.tolist())
    return problems.pool_backward("max_pool_backward", w, d, symbolic_input=False)


def avg_pool_backward(rng, w):
    """torch's divisor: padding counted or not (count_include_pad), overlapping windows."""
    h, wd = rng.randint(4, 6), rng.randint(4, 6)
    k = rng.choice([2, 3])
    s, p, include = rng.randint(1, k), rng.randint(0, k // 2), rng.choice([True, False])
    pool = ops.AvgPool2d(k, stride=s, padding=p, count_include_pad=include)
    d = derive(net.Sequential(pool, ops.Sum()), symbolic("x", (1, 1, h, wd)))
    return problems.pool_backward("avg_pool_backward", w, d, symbolic_input=True)


def pool_shape(rng, w):
    """Conv then pool with padding and stride on a larger input: shapes only."""
    for _ in range(TRIES):
        c, h, wd = rng.randint(1, 3), rng.randint(7, 32), rng.randint(7, 32)
        ck, cs, cp = rng.choice([3, 5]), rng.randint(1, 2), rng.randint(0, 2)
        pk = rng.choice([2, 3])
        ps, pp = rng.randint(1, pk), rng.randint(0, pk // 2)
        pool_type = rng.choice([ops.MaxPool2d, ops.AvgPool2d])
        network = net.Sequential(ops.Conv2d(c, rng.randint(2, 8), ck, stride=cs, padding=cp),
                                 pool_type(pk, stride=ps, padding=pp))
        try:
            network.shapes((1, c, h, wd))
            break
        except OptionError:
            continue
    return problems.layer_shapes("pool_shape", w, w["shape_problem_title"], "shape_problem_prompt", network,
                                 (1, c, h, wd))


def _short(draw, build):
    """A short question's maker: its givens drawn from the sheet's rng, then built as the handout builds it."""
    return lambda rng, w: build(w, draw(rng))


_MAKERS = {"conv_sum": conv_sum, "conv_max_pool": conv_max_pool, "conv_avg_pool": conv_avg_pool,
           "pool_shape": pool_shape, "max_pool_backward": max_pool_backward,
           "avg_pool_backward": avg_pool_backward, "conv_relu_max_pool": conv_relu_max_pool,
           "batchnorm_backward": _short(layer_kinds.draw_batchnorm, layer_kinds.batchnorm),
           "transposed_conv": _short(layer_kinds.draw_conv_transpose, layer_kinds.conv_transpose),
           "dropout": _short(layer_kinds.draw_dropout, layer_kinds.dropout),
           "cross_entropy_smoothing": _short(train_kinds.draw_cross_entropy, train_kinds.cross_entropy),
           "adam_step": _short(train_kinds.draw_adam, train_kinds.adam)}
