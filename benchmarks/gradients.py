"""Numeric loss and gradients of Conv2d(1, C, k) -> MaxPool2d(2) -> MSELoss, three ways.

- symgrad: the derivation's generated NumPy code (`Derivation.lambdify()`), called
  with a leading batch axis of independent problems (docs/numeric.md): the array form
  (one statement per layer, the default at this size) and the scalar form (one line
  per named entry);
- torch autograd, CPU float64, same process (benchmarks/torchref.py);
- NumPy vectorised by hand (benchmarks/handnumpy.py).

All three return every problem's loss and its gradients with respect to the
kernel, the bias and the input; `compare` checks they agree before anything is
timed. `section_times` splits a call of the generated code by its section
comments, to show where the time goes.
"""

from __future__ import annotations

import re
import time

import numpy as np

from . import handnumpy, torchref

TARGET = 1  # the MSE target of every output entry (a constant of the generated code)
NAMES = ("0.weight", "0.bias", "input")


def problems(n: int, channels: int, k: int, batch: int | None, seed: int = 0):
    """Random float64 arrays (x, weight, bias); x gets a leading batch axis unless batch is None."""
    rng = np.random.default_rng(seed)
    shape = (1, 1, n, n) if batch is None else (batch, 1, 1, n, n)
    return rng.standard_normal(shape), rng.standard_normal((channels, 1, k, k)), rng.standard_normal(channels)


SYMGRAD = "symgrad generated NumPy, array form"
SCALAR = "symgrad generated NumPy, scalar form"


def runners(f, x, weight, bias, scalar=None) -> dict:
    """{name: zero-argument call} for the implementations on the same arrays (`scalar`: the scalar form too)."""
    batched = x.ndim == 5
    arguments = {"input": x, "0.weight": weight, "0.bias": bias}
    runs = {SYMGRAD: lambda: f(arguments)}
    if scalar is not None:
        runs[SCALAR] = lambda: scalar(arguments)
    runs.update({
        "hand-vectorised NumPy": lambda: handnumpy.conv_maxpool_mse(x if batched else x[None], weight, bias, TARGET),
    })
    if not batched:
        hand = runs["hand-vectorised NumPy"]
        runs["hand-vectorised NumPy"] = lambda: _first_problem(hand())
    if batched:
        runs["torch autograd (vmap of grad)"] = lambda: torchref.per_problem(x, weight, bias, TARGET)
        runs["torch minibatch step (summed gradient)"] = lambda: torchref.minibatch_step(x, weight, bias, TARGET)
    else:
        runs["torch autograd"] = lambda: torchref.single(x, weight, bias, TARGET)
    return runs


def _first_problem(result: dict) -> dict:
    return {"loss": result["loss"][0], "gradients": {n: g[0] for n, g in result["gradients"].items()}}


def _batched(result, batched: bool) -> dict:
    """loss (B,) and gradients with a leading batch axis, whatever the implementation returned."""
    add = (lambda a: np.asarray(a)) if batched else (lambda a: np.asarray(a)[None])
    return {"loss": add(result["loss"]).reshape(-1), **{n: add(result["gradients"][n]) for n in NAMES}}


def compare(runs: dict, batched: bool) -> float:
    """Largest relative difference of loss and gradients between the implementations (they must agree)."""
    results = {name: _batched(run(), batched) for name, run in runs.items() if "minibatch" not in name}
    reference, *others = results.values()
    worst = 0.0
    for other in others:
        for key, value in reference.items():
            if other[key].shape != value.shape:
                raise AssertionError(f"{key}: shape {other[key].shape} != {value.shape}")
            scale = max(1.0, float(np.abs(value).max()))
            worst = max(worst, float(np.abs(other[key] - value).max()) / scale)
    return worst


def section_times(source: str, arguments: dict, repeats: int = 3) -> list[tuple[str, int, float]]:
    """(section comment, assignments in it, median seconds) for one call of the generated code's compute()."""
    marked, sections, lines, inside = [], [], [], False
    for line in source.splitlines():
        if line.startswith("def "):
            inside = line.startswith("def compute(")
        label = re.fullmatch(r"    # (.+)", line)
        if label and inside:
            marked.append(f"    _mark({len(sections)})")
            sections.append(label.group(1))
            lines.append(0)
        elif sections and inside and re.match(r"    \w+(\[.*\])?(, \w+)*,? = ", line):
            lines[-1] += 1  # one assignment (its continuation lines are not counted)
        marked.append(line)
    stamps: list[tuple[int, float]] = []
    namespace = {"__name__": "section_times", "_mark": lambda i: stamps.append((i, time.perf_counter()))}
    exec(compile("\n".join(marked), "<section_times>", "exec"), namespace)
    totals = np.zeros((repeats, len(sections)))
    for r in range(repeats):
        stamps.clear()
        namespace["evaluate"](arguments)
        stamps.append((len(sections), time.perf_counter()))
        for (i, t0), (_, t1) in zip(stamps, stamps[1:]):
            totals[r, i] += t1 - t0
    medians = np.median(totals, axis=0)
    return [(label, count, float(t)) for label, count, t in zip(sections, lines, medians)]
