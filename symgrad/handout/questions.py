"""The interview handout: the questions of the seed articles, worked solutions, an answer key.

The networks and numbers below are the questions' givens, the same as the bundled
symgrad/examples/*.toml (a test keeps them equal); every result comes from `derive` or the
shape table.
"""

from __future__ import annotations

import numpy as np

from ..engine import network as net
from .. import ops
from ..derive import derive
from ..engine.optim import SGD
from ..core.tensor import symbolic
from ..printing import shapes
from . import layer_kinds, problems, summary, train_kinds
from .document import Document, Heading, Math, NewPage, Row, Strong, Table, Text
from .numbers import matrix, number, shape
from .words import words

X3 = [[1, 2, 3], [4, 5, 6], [7, 8, 9]]  # 深度学习面试题30/31
K = [[3, 2], [1, 5]]
ARANGE16 = np.arange(16).reshape(4, 4).tolist()  # d2l: torch.arange(16).reshape((1, 1, 4, 4))
A3 = np.arange(9).reshape(3, 3).tolist()  # d2l's first example: torch.tensor([[0.0, 1.0, 2.0], [3.0, 4.0, 5.0], ...])
RANDN3D = (20, 16, 50)  # the tutorial notes: torch.randn(20, 16, 50) through two MaxPool2d

#: The short questions' givens (issue 16): small numbers chosen to be done by hand, the same dicts a sheet draws.
BATCHNORM = {"x": [5, 0, 1, 2], "gamma": 2, "beta": 1, "eps": 0.5, "delta": [1, -1, 2, 0]}
TRANSPOSED = {"x": [[1, 2], [3, 4]], "k": [[1, -1], [2, 0]], "stride": 2, "padding": 1, "output_padding": 1,
              "delta": [[1, 0, -1], [2, 1, 0], [0, -1, 1]],
              "big": {"in_channels": 16, "out_channels": 8, "kernel_size": 3, "stride": 2, "padding": 1,
                      "output_padding": 1, "size": 7}}
DROPOUT = {"p": 0.2, "x": [4, -2, 1, 8], "mask": [1, 0, 1, 1], "delta": [2, 1, -4, 1]}
CROSS_ENTROPY = {"a": [[1, 2, 5], [2, 1, 1]], "y": [2, 0], "smoothing": 0.3}
ADAM = {"w": [1, -2], "g": [4, -1], "lr": 0.1, "betas": (0.9, 0.999), "eps": 1}


def _conv():
    return ops.Conv2d(1, 1, 2, bias=False, weight=K)


def conv_derivations() -> dict:
    """The three conv networks of the seed articles, derived."""
    return {
        "conv_sum": derive(net.Sequential(_conv(), ops.Sum()), X3, ops.MSELoss(), 230, SGD(lr=0.01)),
        "conv_max_pool": derive(net.Sequential(_conv(), ops.MaxPool2d(2)), X3, ops.MSELoss(), 60, SGD(lr=0.01)),
        "conv_avg_pool": derive(net.Sequential(_conv(), ops.AvgPool2d(2)), X3, ops.MSELoss(), 60, SGD(lr=0.01)),
    }


def avg_pool_backward_derivation():
    pool = ops.AvgPool2d((2, 2), stride=(2, 2))
    return derive(net.Sequential(pool, ops.Sum()), symbolic("x", (1, 1, 4, 4)))


def pool2d_derivations() -> list:
    """d2l's own `pool2d(A, (2, 2))` and `pool2d(A, (2, 2), 'avg')`: windows of stride 1 on the 3 x 3 A."""
    return [derive(net.Sequential(pool), A3, ops.MSELoss(), 0) for pool in (ops.MaxPool2d(2, stride=1),
                                                                          ops.AvgPool2d(2, stride=1))]


def pools_3d() -> list:
    """The tutorial's two poolings of a 3-D (C, H, W) input."""
    return [ops.MaxPool2d(3, stride=2), ops.MaxPool2d((2, 4), stride=2)]


def pool_derivations() -> list:
    """d2l's poolings on arange(16): (derivation, on two channels?)."""
    two = [ARANGE16, (np.array(ARANGE16) + 1).tolist()]
    cases = [(ops.MaxPool2d(3), ARANGE16, False),
             (ops.MaxPool2d(3, padding=1, stride=2), ARANGE16, False),
             (ops.MaxPool2d((2, 3), padding=(1, 1), stride=(2, 3)), ARANGE16, False),
             (ops.MaxPool2d(3, padding=1, stride=2), two, True)]
    return [(derive(net.Sequential(pool), x, ops.MSELoss(), 0), both) for pool, x, both in cases]


def lenet():
    """d2l's LeNet (Sigmoid and average pooling), for 1 x 1 x 28 x 28 inputs."""
    return net.Sequential(
        ops.Conv2d(1, 6, 5, padding=2), ops.Sigmoid(), ops.AvgPool2d(2, stride=2),
        ops.Conv2d(6, 16, 5), ops.Sigmoid(), ops.AvgPool2d(2, stride=2), ops.Flatten(),
        ops.Linear(400, 120), ops.Sigmoid(), ops.Linear(120, 84), ops.Sigmoid(), ops.Linear(84, 10)), (1, 1, 28, 28)


def tutorial_net():
    """The PyTorch 60-minute blitz Net, for 1 x 1 x 32 x 32 inputs."""
    return net.Sequential(
        ops.Conv2d(1, 6, 3), ops.ReLU(), ops.MaxPool2d(2), ops.Conv2d(6, 16, 3), ops.ReLU(), ops.MaxPool2d(2),
        ops.Flatten(), ops.Linear(576, 120), ops.ReLU(), ops.Linear(120, 84), ops.ReLU(),
        ops.Linear(84, 10)), (1, 1, 32, 32)


def seed_problems(lang: str) -> list[problems.Problem]:
    w = words(lang)
    conv = conv_derivations()
    summed = conv["conv_sum"].tensors.parameters["0.weight"].updated
    out = [problems.gradient("conv_sum", w, conv["conv_sum"])]
    for kind in ("conv_max_pool", "conv_avg_pool"):  # the articles print question 1's update here by mistake
        ours = conv[kind].tensors.parameters["0.weight"].updated
        slip = Text(w["copy_slip"].format(theirs=problems.inline(summed), ours=problems.inline(ours), n=1))
        sigma = conv[kind].tensors.layers[0].output
        assert (np.asarray(sigma) == np.asarray(conv["conv_sum"].tensors.layers[0].output)).all()  # same X and K
        start = w["same_start"].format(layer=shapes.describe(conv[kind].network.layers[0]), sigma=problems.inline(sigma),
                                       n=1)
        out.append(problems.gradient(kind, w, conv[kind], solution_extra=(slip,), same_start=start))
    avg = avg_pool_backward_derivation()
    notes = (Text(w["sum_delta"].format(share=_share(avg))), Text(w["grad_comment_slip"].format(share=_share(avg))))
    out.append(problems.pool_backward("avg_pool_backward", w, avg, symbolic_input=True, solution_extra=notes))
    out.append(_pool_shapes(w))
    out.append(problems.layer_shapes("lenet", w, w["lenet_title"], "shapes_prompt", *lenet(), w["shapes_solution"]))
    out.append(_tutorial(w))
    return out


def _share(d) -> str:
    """The one value every entry of x.grad takes in the average-pooling article's question."""
    values = {v for v in np.asarray(d.tensors.input_gradient, dtype=object).reshape(-1)}
    assert len(values) == 1, values  # the article's 2 x 2 windows of stride 2 tile the input
    return number(values.pop())


def _pool_shapes(w) -> problems.Problem:
    prompt = [Text(w["pool_shapes_prompt"]), Row((Math(f"A = {matrix(A3)}"), Math(f"X = {matrix(ARANGE16)}")))]
    solution, answers = [], []
    parts = [(d, w["pool_on_a"].format(mode=mode)) for d, mode in zip(pool2d_derivations(), ("", ", 'avg'"))]
    parts += [(d, w["pool_on_two"] if both else w["pool_on_x"]) for d, both in pool_derivations()]
    for letter, (d, what) in zip("abcdef", parts):
        line, worked, answer = problems.pool_forward(w, letter, d, what)
        prompt.append(line)
        solution += worked
        answers += answer
    return problems.Problem("pool_shapes", w["pool_shapes_title"], tuple(prompt), tuple(solution), tuple(answers))


def _tutorial(w) -> problems.Problem:
    """The tutorial network's shapes, its parameter tensors (len(params) = 10), and pooling a 3-D input."""
    network, in_shape = tutorial_net()
    p = problems.layer_shapes("tutorial_net", w, w["tutorial_net_title"], "shapes_prompt", network, in_shape,
                              w["shapes_solution"])
    having = [layer for layer in network if layer.parameter_shapes()]
    tensors = Text(w["param_tensors"].format(count=sum(len(layer.parameter_shapes()) for layer in having),
                                             layers=len(having)))
    pools = pools_3d()
    listed = w["tie_and"].join(f"`{shapes.describe(pool)}`" for pool in pools)
    asked = Text(w["pool3d_prompt"].format(shape=", ".join(str(n) for n in RANDN3D), pools=listed))
    rows = [shapes.table(net.Sequential(pool), (1, *RANDN3D))[0] for pool in pools]  # one sample, batch axis added
    found = [Text(w["pool3d_answer"].format(pool=shapes.describe(pool), shape=shape(row.output_shape[1:])))
             for pool, row in zip(pools, rows)]
    table = Table((w["col_layer"], w["col_shape"], w["col_formula"]),
                  tuple((f"`{shapes.describe(pool)}`", f"`{shape(row.output_shape[1:])}`", f"`{row.formula}`")
                        for pool, row in zip(pools, rows)))
    return problems.Problem(p.kind, p.title, (*p.prompt, asked),
                            (*p.solution, tensors, Text(w["pool3d_solution"]), table), (*p.answers, tensors, *found))


def pitfall_numbers(items: list[problems.Problem]) -> dict:
    """The pitfalls' numbers, from derivations: Question 1's gradient after two backward passes, the
    average-pooling share, and the articles' copied update against torch's."""
    conv = {p.kind: p.derivation for p in items if p.kind.startswith("conv_")}
    first = conv["conv_sum"]
    twice = derive(first.network, first.tensors.input, first.loss_fn, first.tensors.target, first.optimizer,
                   backward_passes=2)
    avg = next(p.derivation for p in items if p.kind == "avg_pool_backward")
    updated = {k: problems.inline(d.tensors.parameters["0.weight"].updated) for k, d in conv.items()}
    return {"twice": problems.inline(twice.tensors.gradient("0.weight")), "share": _share(avg), "theirs": updated["conv_sum"],
            "ours_max": updated["conv_max_pool"], "ours_avg": updated["conv_avg_pool"]}


def more_problems(lang: str) -> list[problems.Problem]:
    """The short questions after the seed articles': batch norm, a transposed convolution, dropout,
    cross-entropy with label smoothing, one Adam step."""
    w = words(lang)
    return [layer_kinds.batchnorm(w, BATCHNORM), layer_kinds.conv_transpose(w, TRANSPOSED),
            layer_kinds.dropout(w, DROPOUT), train_kinds.cross_entropy(w, CROSS_ENTROPY), train_kinds.adam(w, ADAM)]


def handout(lang: str = "en") -> Document:
    """The summary page, then each question with its worked solution, then the answer key on a new page."""
    w = words(lang)
    items = seed_problems(lang)
    blocks = [Heading(w["handout_title"], 1), Text(w["handout_intro"]), *summary.page(w, pitfall_numbers(items))]
    items += more_problems(lang)
    for n, p in enumerate(items, 1):
        blocks += [Heading(w["question"].format(n=n, title=p.title), 2), *p.prompt, Strong(w["worked"]), *p.solution]
    blocks += [NewPage(), Heading(w["answer_key"], 2)]
    for n, p in enumerate(items, 1):
        blocks += [Heading(w["answer_item"].format(n=n, title=p.title), 3), *p.answers]
    return Document(lang, tuple(blocks), summary.RULES_SHOWN)
