"""Reading numbers back out of rendered Markdown answer keys, and torch's values to compare.

The handout and exercise tests parse what a reader sees (the rendered text), so a
printing slip (a wrong entry, a lost sign, a rounded fraction) fails them, not only
a wrong engine number.
"""

from __future__ import annotations

import re

import numpy as np
import sympy as sp
from lazy_torch import torch

NUMBER = re.compile(r"(-?)\\frac\{(\d+)\}\{(\d+)\}|(-?\d+(?:\.\d+)?)")
MATH = re.compile(r"\$\$\n(.*?)\n\$\$", re.DOTALL)
SHAPE_ROW = re.compile(r"^\| (\d+) \| `[^`]*` \| `\[([\d, ]+)\]` \| (\d+) \|$", re.MULTILINE)


def numbers(latex: str) -> list[sp.Rational]:
    """Every number of a LaTeX right-hand side, exactly: 2.52 -> 63/25, -\\frac{1}{3} -> -1/3."""
    out = []
    latex = re.sub(r"\\\\\[[^\]]*\]", r"\\\\", latex)  # a row break's spacing (\\[4pt]) is not an entry
    for sign, p, q, plain in NUMBER.findall(latex):
        out.append(sp.Rational(f"{sign}{p}/{q}") if q else sp.Rational(plain))
    return out


def sections(markdown: str, level: str) -> dict[str, str]:
    """{heading text: body} for the headings of one level ("## " or "### ")."""
    parts = re.split(rf"^{level}(.*)$", markdown, flags=re.MULTILINE)
    return {parts[i].strip(): parts[i + 1] for i in range(1, len(parts), 2)}


def equations(body: str) -> list[tuple[str, list[sp.Rational]]]:
    """(left-hand side, numbers of the right-hand side) of every $$ lhs = rhs $$ block, in order."""
    found = []
    for block in MATH.findall(body):
        left, right = block.split(" = ", 1)
        found.append((left.strip(), numbers(right)))
    return found


def shape_rows(body: str) -> list[tuple[int, list[int], int]]:
    """(layer index, output shape, parameter count) of each answer-table row."""
    return [(int(i), [int(n) for n in dims.split(", ")], int(p)) for i, dims, p in SHAPE_ROW.findall(body)]


def flat(array) -> list:
    return [sp.nsimplify(v) if isinstance(v, float) else sp.sympify(v) for v in np.asarray(array).reshape(-1)]


def assert_close(parsed: list, expected, what: str):
    expected = [float(v) for v in np.asarray(expected, dtype=float).reshape(-1)]
    assert len(parsed) == len(expected), f"{what}: {len(parsed)} numbers printed, {len(expected)} expected"
    np.testing.assert_allclose([float(v) for v in parsed], expected, rtol=1e-12, atol=1e-12, err_msg=what)


def torch_network(network, parameters: dict):
    """The network's torch twin in float64 with symgrad's parameter values copied in."""
    model = torch.nn.Sequential(*[layer.torch_module() for layer in network]).double()
    with torch.no_grad():
        for name, value in parameters.items():
            index, attr = name.split(".")
            getattr(model[int(index)], attr).copy_(torch.tensor(np.asarray(value, dtype=float)))
    return model


def torch_conv_answers(d) -> dict:
    """sigma, S, L, dL/dK and K after one SGD step, from torch autograd, for a conv-first network."""
    weight = np.asarray(d.tensors.parameters["0.weight"].value, dtype=float)
    model = torch_network(d.network, {"0.weight": weight})
    x = torch.tensor(np.asarray(d.tensors.input, dtype=float))
    sigma = model[0](x)
    out = model(x)
    target = torch.tensor(np.asarray(d.tensors.target, dtype=float)).reshape(out.shape)
    loss = torch.nn.functional.mse_loss(out, target)
    loss.backward()
    grad = model[0].weight.grad.numpy().copy()
    lr = float(d.optimizer.lr)
    torch.optim.SGD(model.parameters(), lr=lr).step()
    return {"sigma": sigma.detach().numpy(), "S": out.detach().numpy(), "L": float(loss.detach()),
            "grad": grad, "updated": model[0].weight.detach().numpy()}


def torch_input_grad(d, seed: int = 0) -> np.ndarray:
    """x.grad of y.sum() for a parameter-free network; symbols get random values (the grad is linear)."""
    array = np.asarray(d.tensors.input, dtype=object)
    rng = np.random.default_rng(seed)
    values = np.array([float(v) if v.is_number else rng.normal() for v in array.reshape(-1)]).reshape(array.shape)
    x = torch.tensor(values, requires_grad=True)
    model = torch_network(d.network, {})
    model(x).sum().backward()
    return x.grad.numpy()


def torch_shapes(network, in_shape) -> list[tuple[list[int], int]]:
    """Each layer's output shape and parameter count, from torch."""
    model = torch.nn.Sequential(*[layer.torch_module() for layer in network]).double()
    x = torch.zeros(in_shape, dtype=torch.float64)
    rows = []
    for layer in model:
        x = layer(x)
        rows.append((list(x.shape), sum(p.numel() for p in layer.parameters())))
    return rows
