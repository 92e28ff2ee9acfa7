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
from . import problems
from .document import Document, Heading, Math, NewPage, Strong, Text
from .numbers import matrix
from .words import words

X3 = [[1, 2, 3], [4, 5, 6], [7, 8, 9]]  # 深度学习面试题30/31
K = [[3, 2], [1, 5]]
ARANGE16 = np.arange(16).reshape(4, 4).tolist()  # d2l: torch.arange(16).reshape((1, 1, 4, 4))


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
        slip = Text(w["copy_slip"].format(theirs=matrix(summed), ours=matrix(ours), n=1))
        out.append(problems.gradient(kind, w, conv[kind], solution_extra=(slip,)))
    out.append(problems.pool_backward("avg_pool_backward", w, avg_pool_backward_derivation(), symbolic_input=True))
    out.append(_pool_shapes(w))
    out.append(problems.layer_shapes("lenet", w, w["lenet_title"], "shapes_prompt", *lenet(), w["shapes_solution"]))
    out.append(problems.layer_shapes("tutorial_net", w, w["tutorial_net_title"], "shapes_prompt", *tutorial_net(),
                                     w["shapes_solution"]))
    return out


def _pool_shapes(w) -> problems.Problem:
    prompt, solution, answers = [Text(w["pool_shapes_prompt"]), Math(f"X = {matrix(ARANGE16)}")], [], []
    for letter, (d, both) in zip("abcd", pool_derivations()):
        line, worked, answer = problems.pool_forward(w, letter, d, both)
        prompt.append(line)
        solution += worked
        answers += answer
    return problems.Problem("pool_shapes", w["pool_shapes_title"], tuple(prompt), tuple(solution), tuple(answers))


def handout(lang: str = "en") -> Document:
    """Each question with its worked solution, then the answer key on a new page."""
    w = words(lang)
    items = seed_problems(lang)
    blocks = [Heading(w["handout_title"], 1), Text(w["handout_intro"])]
    for n, p in enumerate(items, 1):
        blocks += [Heading(w["question"].format(n=n, title=p.title), 2), *p.prompt, Strong(w["worked"]), *p.solution]
    blocks += [NewPage(), Heading(w["answer_key"], 2)]
    for n, p in enumerate(items, 1):
        blocks += [Heading(w["answer_item"].format(n=n, title=p.title), 3), *p.answers]
    return Document(lang, tuple(blocks))
