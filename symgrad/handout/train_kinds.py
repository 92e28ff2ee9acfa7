"""Short questions on a loss and an optimizer: cross-entropy with label smoothing, one Adam step.

As layer_kinds.py: a kind is a function of its givens, `draw_*` draws them from a
`random.Random`. The answers are the engine's (CrossEntropyLoss.backward, Adam.update);
the worked lines spell them out. Hand-sized: logits ln a whose softmax is a decimal
(a's row sums 4, 5, 8 or 10), a smoothing whose eps/C terminates, and an Adam epsilon
large enough to see where it goes (outside the square root) with gradients g for which
g/(|g| + eps) is a decimal.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from .. import ops
from ..engine.adam import Adam
from ..printing import shapes
from ..core.decimals import bmatrix
from .document import Math, Row, Text
from .numbers import number
from .problems import Problem
from .worked import Lines, vector

DL = r"\frac{\partial L}{\partial %s}"
D = r"\partial L/\partial %s"  # a worked line's left side: one line high
#: Softmax-friendly rows e^z (their sums 4, 5, 8 or 10) for C = 2, 3, 4 classes; smoothing eps with eps/C a decimal.
ROWS = {2: [(1, 3), (3, 1), (1, 4), (4, 1), (2, 3), (3, 2), (1, 7), (3, 5), (1, 9), (2, 8)],
        3: [(1, 1, 2), (2, 1, 1), (1, 2, 1), (1, 2, 2), (2, 2, 1), (1, 3, 4), (2, 1, 5), (5, 2, 3), (1, 1, 8), (4, 1, 5)],
        4: [(1, 1, 1, 1), (1, 1, 1, 2), (2, 1, 1, 1), (1, 2, 3, 4), (4, 1, 2, 1), (1, 1, 2, 4), (2, 2, 3, 3)]}
SMOOTHING = {2: (0.1, 0.2), 3: (0.15, 0.3), 4: (0.1, 0.2)}


# --- CrossEntropyLoss with label_smoothing: softmax - smoothed one-hot, over N ----------------------------

def draw_cross_entropy(rng) -> dict:
    classes = rng.choice([2, 3, 4])
    n = 2
    return {"a": [list(row) for row in rng.sample(ROWS[classes], n)], "y": [rng.randrange(classes) for _ in range(n)],
            "smoothing": rng.choice(SMOOTHING[classes])}


def logit(a) -> str:
    """z = ln a, as a reader writes it: 0 for a = 1."""
    return "0" if a == 1 else f"\\ln {a}"


def logits(g) -> np.ndarray:
    return np.array([[sp.log(v) for v in row] for row in g["a"]], dtype=object)


def cross_entropy(w: dict, g: dict) -> Problem:
    loss = ops.CrossEntropyLoss(label_smoothing=g["smoothing"])
    z, target = logits(g), np.array(g["y"], dtype=np.int64)
    grad = loss.backward(z, target)
    (n, classes), eps = z.shape, sp.nsimplify(g["smoothing"])
    lines = Lines({"N": n, "C": classes, r"\epsilon": eps})
    for (i, c), a in np.ndenumerate(np.array(g["a"])):
        lines.name(f"e^{{z_{{{i + 1}{c + 1}}}}}", a)
    for i in range(n):
        total = sum(g["a"][i])
        for c in range(classes):
            exps = " + ".join(f"e^{{z_{{{i + 1}{k + 1}}}}}" for k in range(classes))
            lines.line(f"p_{{{i + 1}{c + 1}}}", f"\\frac{{e^{{z_{{{i + 1}{c + 1}}}}}}}{{{exps}}}",
                       sp.Rational(g["a"][i][c], total))
    softmax = lines.block()
    top = lines.line(r"q_{n, y_n}", r"1 - \epsilon + \frac{\epsilon}{C}", 1 - eps + eps / classes)
    rest = lines.line(r"q_{n, c \ne y_n}", r"\frac{\epsilon}{C}", eps / classes)
    smoothed = lines.block()
    for i in range(n):
        for c in range(classes):
            lines.name(f"q_{{{i + 1}{c + 1}}}", top if c == g["y"][i] else rest)
            lines.line(D % f"z_{{{i + 1}{c + 1}}}", f"\\frac{{p_{{{i + 1}{c + 1}}} - q_{{{i + 1}{c + 1}}}}}{{N}}",
                       grad[i, c])
    fields = {"loss": shapes.describe(loss), "eps": number(eps), "C": classes, "N": n,
              "targets": ", ".join(str(v) for v in g["y"]), "columns": w["list_sep"].join(str(v + 1) for v in g["y"]),
              "top": number(top), "rest": number(rest)}
    prompt = (Text(w["cross_entropy_prompt"].format(**fields)),
              Math(f"z = {bmatrix([[logit(a) for a in row] for row in g['a']])}"))
    solution = (Text(w["cross_entropy_softmax"].format(**fields)), softmax,
                Text(w["cross_entropy_smoothed"].format(**fields)), smoothed,
                Text(w["cross_entropy_rule"].format(**fields)), lines.block())
    probabilities = np.array([[sp.Rational(a, sum(row)) for a in row] for row in g["a"]], dtype=object)
    answers = (Row((Math(f"p = {bmatrix([[number(v) for v in row] for row in probabilities])}"),
                    Math(f"{DL % 'z'} = {bmatrix([[number(v) for v in row] for row in grad])}"))),)
    return Problem("cross_entropy_smoothing", w["cross_entropy_title"], prompt, solution, answers,
                   values=lines.values, givens=g)


# --- Adam: one step from torch's fresh state, bias corrections at t = 1 --------------------------------------

def draw_adam(rng) -> dict:
    return {"w": [rng.randint(-3, 3) for _ in range(2)],
            "g": [rng.choice([1, 3, 4, 7, 9]) * rng.choice([1, -1]) for _ in range(2)],
            "lr": rng.choice([0.1, 0.01]), "betas": (0.9, 0.999), "eps": 1}


def adam_optimizer(g) -> Adam:
    return Adam(lr=g["lr"], betas=g["betas"], eps=g["eps"])


def adam(w: dict, g: dict) -> Problem:
    optimizer = adam_optimizer(g)
    weights = np.array([sp.Integer(v) for v in g["w"]], dtype=object)
    grads = np.array([sp.Integer(v) for v in g["g"]], dtype=object)
    updated, state = optimizer.update(weights, grads, {})
    (b1, b2), t = optimizer.number("betas"), state["step"]
    m_hat, v_hat = state["exp_avg"] / (1 - b1**t), state["exp_avg_sq"] / (1 - b2**t)
    ids = range(1, len(g["w"]) + 1)
    lines = Lines({r"\beta_{1}": b1, r"\beta_{2}": b2, r"\eta": optimizer.number("lr"),
                   r"\epsilon": optimizer.number("eps"), "t": t,
                   **{f"g_{{{i}}}": v for i, v in zip(ids, g["g"])}, **{f"w_{{{i}}}": v for i, v in zip(ids, g["w"])}})
    for i in ids:
        lines.line(f"m_{{{i}}}", r"\left(1 - \beta_{1}\right) \cdot g_{%d}" % i, state["exp_avg"][i - 1])
    for i in ids:
        lines.line(f"v_{{{i}}}", r"\left(1 - \beta_{2}\right) \cdot g_{%d}^{2}" % i, state["exp_avg_sq"][i - 1])
    moments = lines.block()
    for i in ids:
        lines.line(f"\\hat{{m}}_{{{i}}}", r"\frac{m_{%d}}{1 - \beta_{1}^{t}}" % i, m_hat[i - 1])
    for i in ids:
        lines.line(f"\\hat{{v}}_{{{i}}}", r"\frac{v_{%d}}{1 - \beta_{2}^{t}}" % i, v_hat[i - 1])
    corrected = lines.block()
    roots = [lines.name(f"\\sqrt{{\\hat{{v}}_{{{i}}}}}", sp.sqrt(v_hat[i - 1])) for i in ids]
    for i in ids:
        lines.line(f"w^{{(1)}}_{{{i}}}", r"w_{%d} - \eta \cdot \frac{\hat{m}_{%d}}{\sqrt{\hat{v}_{%d}} + \epsilon}" % (i, i, i),
                   updated[i - 1])
    fields = {"optimizer": f"torch.optim.Adam([w], lr={g['lr']}, eps={g['eps']})", "lr": number(lines.values[r"\eta"]),
              "eps": number(lines.values[r"\epsilon"]),
              "roots": w["list_sep"].join(f"$\\sqrt{{\\hat{{v}}_{{{i}}}}} = {number(r)}$" for i, r in zip(ids, roots))}
    prompt = (Text(w["adam_prompt"].format(**fields)), Math(f"w = {vector(weights)},\\qquad g = {vector(grads)}"))
    solution = (Text(w["adam_moments"].format(**fields)), moments, Text(w["adam_correction"].format(**fields)),
                corrected, Text(w["adam_update"].format(**fields)), lines.block())
    answers = (Row((Math(f"m = {vector(state['exp_avg'])}"), Math(f"v = {vector(state['exp_avg_sq'])}"),
                    Math(f"\\hat{{m}} = {vector(m_hat)}"), Math(f"\\hat{{v}} = {vector(v_hat)}"),
                    Math(f"w^{{(1)}} = {vector(updated)}"))),)
    return Problem("adam_step", w["adam_title"], prompt, solution, answers, values=lines.values, givens=g)
