"""Short questions on three layers: BatchNorm2d's backward, ConvTranspose2d's shape and kernel gradient,
Dropout's scaling.

Each kind is a function of its givens (a dict, drawn by `draw_*` from a `random.Random` or
fixed by the handout), so a sheet and the handout build their problems the same way. The
answers are the ops' own forward and backward (symgrad.ops, exact); the worked lines
(worked.Lines) spell the arithmetic out from the givens, and the tests hold both to torch.
The numbers are chosen to be done by hand: a batch whose sqrt(var + eps) is a whole number,
a transposed convolution with a 2 x 2 kernel, a dropout probability with a decimal 1/(1 - p).
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from .. import ops
from ..printing import shapes
from ..printing.texnames import index_text
from .document import Math, Row, Text
from .numbers import matrix, number, shape
from .problems import Problem
from .worked import Lines, vector

TRIES = 500
DL = r"\frac{\partial L}{\partial %s}"
D = r"\partial L/\partial %s"  # a worked line's left side: one line high


def _exact(values, shape=None) -> np.ndarray:
    array = np.array([sp.nsimplify(v) for v in np.asarray(values, dtype=object).reshape(-1)], dtype=object)
    return array.reshape(shape if shape is not None else np.shape(values))


def _terminates(value) -> bool:
    q = sp.Rational(value).q
    for p in (2, 5):
        while q % p == 0:
            q //= p
    return q == 1


# --- BatchNorm2d: the three-term backward on a batch of four -----------------------------------------

def draw_batchnorm(rng) -> dict:
    """Four integers whose biased variance plus eps = 0.5 is a square of 1, 2, 4 or 5 (so x-hat is a decimal)."""
    for _ in range(TRIES):
        x = [rng.randint(-3, 6) for _ in range(4)]
        mean = sp.Rational(sum(x), 4)
        root = sp.sqrt(sum((v - mean) ** 2 for v in x) / 4 + sp.Rational(1, 2))
        if root in (1, 2, 4, 5):
            break
    return {"x": x, "gamma": rng.choice([1, 2, 3]), "beta": rng.randint(-2, 2), "eps": 0.5,
            "delta": [rng.randint(-3, 3) for _ in range(4)]}


def batchnorm(w: dict, g: dict) -> Problem:
    layer = ops.BatchNorm2d(1, eps=g["eps"])
    x, delta = _exact(g["x"], (4, 1, 1, 1)), _exact(g["delta"], (4, 1, 1, 1))
    params = {"weight": _exact([g["gamma"]]), "bias": _exact([g["beta"]])}
    z = layer.forward(x, params)
    grads = layer.backward(delta, x, z, params)
    m = len(g["x"])
    lines = Lines({r"\gamma": g["gamma"], r"\beta": g["beta"], r"\epsilon": g["eps"],
                   **{f"x_{{{i}}}": v for i, v in enumerate(g["x"], 1)},
                   **{f"\\delta_{{{i}}}": v for i, v in enumerate(g["delta"], 1)}})
    ids = range(1, m + 1)
    mean = lines.line(r"\mu", r"\frac{%s}{%d}" % (" + ".join(f"x_{{{i}}}" for i in ids), m), sum(x.reshape(-1)) / m)
    var = lines.line(r"\sigma^{2}", r"\frac{%s}{%d}" % (" + ".join(r"\left(x_{%d} - \mu\right)^{2}" % i for i in ids), m),
                     sum((v - mean) ** 2 for v in x.reshape(-1)) / m)
    root = lines.name(r"\sqrt{\sigma^{2} + \epsilon}", sp.sqrt(var + lines.values[r"\epsilon"]))
    statistics = lines.block()
    hats = [lines.line(f"\\hat{{x}}_{{{i}}}", r"\frac{x_{%d} - \mu}{\sqrt{\sigma^{2} + \epsilon}}" % i,
                       (v - mean) / root) for i, v in zip(ids, x.reshape(-1))]
    normalised = lines.block()
    lines.line(D % r"\beta", " + ".join(f"\\delta_{{{i}}}" for i in ids), grads.params["bias"][0])
    lines.line(D % r"\gamma", " + ".join(f"\\delta_{{{i}}} \\cdot \\hat{{x}}_{{{i}}}" for i in ids),
               grads.params["weight"][0])
    lines.line(r"\bar{\delta}", r"\frac{1}{%d} \cdot %s" % (m, D % r"\beta"), grads.params["bias"][0] / m)
    lines.line(r"\overline{\delta \hat{x}}", r"\frac{1}{%d} \cdot %s" % (m, D % r"\gamma"),
               grads.params["weight"][0] / m)
    for i, v in zip(ids, grads.input.reshape(-1)):
        lines.line(D % f"x_{{{i}}}", r"\frac{\gamma}{\sqrt{\sigma^{2} + \epsilon}} \cdot \left(\delta_{%d} - "
                                      r"\bar{\delta} - \hat{x}_{%d} \cdot \overline{\delta \hat{x}}\right)" % (i, i), v)
    fields = {"layer": shapes.describe(layer), "eps": number(lines.values[r"\epsilon"]), "m": m,
              "shape": shape(x.shape), "var": number(var), "root": number(root)}
    prompt = (Text(w["batchnorm_prompt"].format(**fields)),
              Math(f"x = {vector(x.reshape(-1))},\\quad \\delta = {vector(delta.reshape(-1))},\\quad "
                   f"\\gamma = {number(g['gamma'])},\\quad \\beta = {number(g['beta'])}"))
    solution = (Text(w["batchnorm_forward"].format(**fields)), statistics, Text(w["batchnorm_root"].format(**fields)),
                normalised, Text(w["batchnorm_rule"].format(**fields)), lines.block())
    answers = (Row((Math(f"\\hat{{x}} = {vector(hats)}"), Math(f"{DL % 'x'} = {vector(grads.input.reshape(-1))}"),
                    Math(DL % r"\gamma" + f" = {number(grads.params['weight'][0])}"),
                    Math(DL % r"\beta" + f" = {number(grads.params['bias'][0])}"))),)
    return Problem("batchnorm_backward", w["batchnorm_title"], prompt, solution, answers, values=lines.values, givens=g)


# --- ConvTranspose2d: output shape and dL/dK -------------------------------------------------------------

#: (input size, stride, padding, output_padding) a student can scatter by hand: outputs 3 x 3 to 5 x 5.
TRANSPOSED = [(2, 1, 0, 0), (3, 1, 0, 0), (2, 2, 0, 0), (2, 2, 0, 1), (2, 2, 1, 1)]


def draw_conv_transpose(rng) -> dict:
    size, stride, padding, output_padding = rng.choice(TRANSPOSED)
    big = {"in_channels": rng.choice([8, 16, 32]), "out_channels": rng.choice([4, 8, 16]), "kernel_size": rng.choice([3, 4]),
           "stride": 2, "padding": 1, "size": rng.randint(5, 16)}
    big["output_padding"] = 1 if big["kernel_size"] == 3 else 0  # the two usual ways to double H
    g = {"x": [[rng.randint(-2, 3) for _ in range(size)] for _ in range(size)],
         "k": [[rng.randint(-2, 3) for _ in range(2)] for _ in range(2)],
         "stride": stride, "padding": padding, "output_padding": output_padding, "big": big}
    out = _conv_transpose_layer(g).output_shape((1, 1, size, size))[2]
    g["delta"] = [[rng.randint(-2, 2) for _ in range(out)] for _ in range(out)]
    return g


def _conv_transpose_layer(g):
    return ops.ConvTranspose2d(1, 1, 2, stride=g["stride"], padding=g["padding"], output_padding=g["output_padding"],
                               bias=False)


def big_conv_transpose(g):
    b = g["big"]
    layer = ops.ConvTranspose2d(b["in_channels"], b["out_channels"], b["kernel_size"], stride=b["stride"],
                                padding=b["padding"], output_padding=b["output_padding"])
    return layer, (1, b["in_channels"], b["size"], b["size"])


def conv_transpose(w: dict, g: dict) -> Problem:
    layer = _conv_transpose_layer(g)
    size = len(g["x"])
    x = _exact(g["x"], (1, 1, size, size))
    params = {"weight": _exact(g["k"], (1, 1, 2, 2))}
    sigma = layer.forward(x, params)
    out = sigma.shape[2]
    delta = _exact(g["delta"], (1, 1, out, out))
    grads = layer.backward(delta, x, sigma, params)
    s, p, op = g["stride"], g["padding"], g["output_padding"]
    lines = Lines({"H": size, "s": s, "p": p, "d": 1, "k": 2, r"\mathit{op}": op})
    lines.line(r"H_{\text{out}}", r"\left(H - 1\right) \cdot s - 2 \cdot p + d \cdot \left(k - 1\right) + \mathit{op} + 1",
               out)
    shape_line = lines.block()
    for (i, j), v in np.ndenumerate(x[0, 0]):
        lines.name(f"X_{{{index_text((i + 1, j + 1))}}}", v)
    for (h, c), v in np.ndenumerate(delta[0, 0]):
        lines.name(f"\\delta_{{{index_text((h + 1, c + 1))}}}", v)
    for a in range(2):
        for b in range(2):
            terms = [f"X_{{{index_text((i + 1, j + 1))}}} \\cdot \\delta_{{{index_text((s * i + a - p + 1, s * j + b - p + 1))}}}"
                     for i in range(size) for j in range(size)
                     if 0 <= s * i + a - p < out and 0 <= s * j + b - p < out]
            lines.line(D % f"K_{{{index_text((a + 1, b + 1))}}}", " + ".join(terms) or "0",
                       grads.params["weight"][0, 0, a, b])
    big, big_shape = big_conv_transpose(g)
    row = shapes.table(_sequential(big), big_shape)[0]
    fields = {"layer": shapes.describe(layer), "shape": shape(x.shape), "big": shapes.describe(big),
              "big_shape": shape(big_shape), "formula": row.formula, "big_out": shape(row.output_shape),
              "out": shape(sigma.shape)}
    prompt = (Text(w["conv_transpose_prompt"].format(**fields)),
              Math(f"X = {matrix(x)},\\qquad K = {matrix(params['weight'])},\\qquad \\delta = {matrix(delta)}"))
    solution = (Text(w["conv_transpose_shape"].format(**fields)), shape_line,
                Text(w["conv_transpose_scatter"].format(**fields)), Math(f"\\sigma = {matrix(sigma)}"),
                Text(w["conv_transpose_rule"].format(**fields)), lines.block(),
                Text(w["conv_transpose_big"].format(**fields)))
    answers = (Text(w["conv_transpose_answer"].format(**fields)),
               Row((Math(f"\\sigma = {matrix(sigma)}"), Math(f"{DL % 'K'} = {matrix(grads.params['weight'])}"))))
    return Problem("transposed_conv", w["conv_transpose_title"], prompt, solution, answers, values=lines.values, givens=g)


def _sequential(layer):
    from ..engine.network import Sequential

    return Sequential(layer)


# --- Dropout: the mask and 1/(1 - p) -----------------------------------------------------------------------

def draw_dropout(rng) -> dict:
    p = rng.choice([0.2, 0.5, 0.6, 0.75])
    n = rng.choice([4, 5])
    mask = [1] * n
    while not 1 <= n - sum(mask) <= n - 2:  # one entry dropped at least, two kept
        mask = [int(rng.random() >= p) for _ in range(n)]
    return {"p": p, "x": [rng.randint(-3, 5) for _ in range(n)], "mask": mask,
            "delta": [rng.randint(-3, 3) for _ in range(n)]}


def dropout(w: dict, g: dict) -> Problem:
    layer = ops.Dropout(g["p"], mask=g["mask"])
    x, delta = _exact(g["x"]), _exact(g["delta"])
    u = layer.forward(x, {})
    dx = layer.backward(delta, x, u, {}).input
    n = len(g["x"])
    lines = Lines({"p": g["p"], **{f"x_{{{i}}}": v for i, v in enumerate(g["x"], 1)},
                   **{f"m_{{{i}}}": v for i, v in enumerate(g["mask"], 1)},
                   **{f"\\delta_{{{i}}}": v for i, v in enumerate(g["delta"], 1)}})
    lines.line("c", r"\frac{1}{1 - p}", layer.scale)
    for i in range(1, n + 1):
        lines.line(f"u_{{{i}}}", f"m_{{{i}}} \\cdot c \\cdot x_{{{i}}}", u[i - 1])
    for i in range(1, n + 1):
        lines.line(D % f"x_{{{i}}}", f"m_{{{i}}} \\cdot c \\cdot \\delta_{{{i}}}", dx[i - 1])
    fields = {"layer": shapes.describe(ops.Dropout(g["p"])), "p": number(lines.values["p"]),
              "scale": number(layer.scale), "n": n}
    prompt = (Text(w["dropout_prompt"].format(**fields)),
              Math(f"x = {vector(x)},\\quad m = {vector(g['mask'])},\\quad \\delta = {vector(delta)}"))
    solution = (Text(w["dropout_rule"].format(**fields)), lines.block(), Text(w["dropout_eval"].format(**fields)))
    answers = (Row((Math(f"\\frac{{1}}{{1 - p}} = {number(layer.scale)}"), Math(f"u = {vector(u)}"),
                    Math(f"{DL % 'x'} = {vector(dx)}"))), Text(w["dropout_eval_answer"]))
    return Problem("dropout", w["dropout_title"], prompt, solution, answers, values=lines.values, givens=g)
