"""Run the same network in torch (float64) and compare it with symgrad's numbers.

torch is imported here and only here, when a check actually runs.
"""

from __future__ import annotations

import copy

import numpy as np

from ..engine.backprop import INPUT


def torch_reference(derivation, numbers: dict) -> dict:
    """Forward, loss, gradients and the optimizer's update from torch autograd, as the training loop takes them:
    `for step in range(n): optimizer.zero_grad(); loss = ...; loss.backward(); optimizer.step()`.

    `numbers` is what `evaluate` returned: the input, parameters and target to feed torch. With steps = n > 1,
    "steps" has every step's (x.grad is set to None before each, so each step's input gradient is its own:
    zero_grad clears only the parameters'); "updated" and "updated_buffers" are then those after the last
    step, and the other fields the first step's, as in evaluate's numbers and the JSON.
    """
    import torch

    network = derivation.network
    model = torch_model(network, numbers.get("buffers"))
    with torch.no_grad():
        for name, value in numbers["parameters"].items():
            index, attr = name.split(".")
            getattr(model[int(index)], attr).copy_(torch.from_numpy(value))
    x = torch.tensor(numbers["input"], dtype=torch.float64, requires_grad=True)
    params = dict(model.named_parameters())
    optimizer = derivation.optimizer.torch_optimizer(model.parameters()) \
        if derivation.optimizer is not None and params else None  # torch refuses an optimizer without parameters
    steps = [_step(derivation, model, x, numbers, optimizer) for _ in range(len(getattr(derivation, "steps", [])) or 1)]
    result = dict(steps[0])
    if len(steps) > 1:  # as the JSON: the parameters and buffers after the loop
        result.update(steps=steps, **{key: steps[-1][key] for key in ("updated", "updated_buffers") if key in result})
    return result


def _step(derivation, model, x, numbers: dict, optimizer) -> dict:
    """One iteration of the loop: zero_grad, the forward and backward passes (gradients accumulate over the
    backward passes: no zero_grad between them), the step; the numbers torch then has."""
    import torch

    (optimizer or model).zero_grad()
    x.grad = None
    for _ in range(getattr(derivation, "backward_passes", 1)):
        out = model(x)
        if derivation.loss_fn is None:
            loss = out
        else:
            target = torch.tensor(numbers["target"], dtype=torch.float64)
            loss = derivation.loss_fn.torch_module()(out, target)
        loss.backward()
    params = dict(model.named_parameters())
    result = {
        "output": out.detach().numpy().copy(),
        "loss": float(loss.detach()),
        "gradients": {name: p.grad.detach().numpy().copy() if p.grad is not None else np.zeros(tuple(p.shape))
                      for name, p in params.items()},
    }
    result["gradients"][INPUT] = x.grad.detach().numpy().copy()
    if optimizer is not None:
        optimizer.step()
        result["updated"] = {name: p.detach().numpy().copy() for name, p in params.items()}
    else:
        result["updated"] = {}
    if "buffers" in numbers:  # torch's state after the forward passes (num_batches_tracked an integer)
        result["updated_buffers"] = {name: b.detach().numpy().copy() for name, b in model.named_buffers()}
    return result


def torch_model(network, buffers: dict | None = None):
    """The network as a float64 torch.nn.Sequential: one torch module per layer object, so a layer that appears
    twice is one module used twice and shares its parameters, as symgrad's Sequential does ("0.weight").

    `buffers` ({state_dict name: float64 array}) are numbers for the layers' buffers, needed where these hold
    symbols; without them each layer's own buffers are copied in."""
    import torch

    modules, owners = [], network.owners()
    for i, layer in enumerate(network):
        if owners[i] == i and buffers and layer.buffers:
            layer = _with_buffers(layer, {name: buffers[f"{i}.{name}"] for name in layer.buffer_shapes()})
        module = modules[owners[i]] if owners[i] != i else layer.torch_module()
        if owners[i] == i and layer.buffers:  # running statistics: given with init, or torch's defaults
            with torch.no_grad():
                for name, value in layer.buffers().items():
                    getattr(module, name).copy_(torch.as_tensor(np.asarray(value, dtype=np.float64)))
        modules.append(module)
    return torch.nn.Sequential(*modules).double()


def _with_buffers(layer, numbers: dict):
    """A copy of `layer` whose buffers are `numbers`, each in its default's dtype (an integer count stays one)."""
    defaults = layer.initial_buffers()
    twin = copy.copy(layer)
    twin.given_buffers = {name: np.asarray(value).astype(np.asarray(defaults[name]).dtype)
                          for name, value in numbers.items()}
    return twin


def compare(ours: dict, theirs: dict, rtol: float = 1e-9, atol: float = 1e-9) -> list[dict]:
    """One row per quantity either side produced: name, max absolute error, agreement, a reason.

    A quantity agrees only when both sides have it, with the same shape, every number
    finite and within tolerance: a NaN or an infinity on either side is a mismatch (NaN
    compares false and inf - inf is NaN, so a check that let them through could not fail).
    """
    rows = [_row("output", ours["output"], theirs.get("output"), rtol, atol),
            _row("loss", ours["loss"], theirs.get("loss"), rtol, atol)]
    for kind, prefix in (("gradients", "dL/d"), ("updated", "updated ")):
        names = list(ours[kind]) + [n for n in theirs.get(kind, {}) if n not in ours[kind]]
        for name in names:
            rows.append(_row(prefix + name, ours[kind].get(name), theirs.get(kind, {}).get(name), rtol, atol))
    mine, torchs = ours.get("updated_buffers", {}), theirs.get("updated_buffers", {})
    for name in list(mine) + [n for n in torchs if n not in mine]:  # a count (integer dtype) must be equal
        counted = np.asarray(torchs[name]).dtype.kind in "iu" if name in torchs else False
        tolerance = (0.0, 0.0) if counted else (rtol, atol)
        rows.append(_row("buffer " + name, mine.get(name), torchs.get(name), *tolerance))
    if ours.get("steps") or theirs.get("steps"):  # the parameters and buffers after the loop: the last step's rows
        rows = [row for row in rows if not row["quantity"].startswith(("updated ", "buffer "))]
    if len(ours.get("steps", [])) != len(theirs.get("steps", [])):
        rows.append({"quantity": "steps", "max_abs_error": float("inf"), "ok": False, "ours": None, "torch": None,
                     "reason": f"{len(ours.get('steps', []))} steps vs torch's {len(theirs.get('steps', []))}"})
    for number, (mine, torchs) in enumerate(zip(ours.get("steps", []), theirs.get("steps", [])), start=1):
        step = compare({**mine, "steps": []}, {**torchs, "steps": []}, rtol, atol)
        if number == 1:  # its output, loss and gradients are the rows above
            step = [row for row in step if row["quantity"].startswith(("updated ", "buffer "))]
        rows += [{**row, "quantity": f"step {number} {row['quantity']}"} for row in step]
    return rows


def _row(name, ours, theirs, rtol, atol):
    row = {"quantity": name, "max_abs_error": float("inf"), "ok": False, "ours": ours, "torch": theirs}
    if ours is None or theirs is None:
        return {**row, "reason": "symgrad has no such quantity" if ours is None else "torch has no such quantity"}
    ours = np.asarray(ours, dtype=np.float64)
    theirs = np.asarray(theirs, dtype=np.float64)
    row.update(ours=ours, torch=theirs)
    if ours.shape != theirs.shape:
        return {**row, "reason": f"shapes differ: {list(ours.shape)} vs torch's {list(theirs.shape)}"}
    if not (np.isfinite(ours).all() and np.isfinite(theirs).all()):
        side = "symgrad" if not np.isfinite(ours).all() else "torch"
        return {**row, "max_abs_error": float("nan"), "reason": f"{side} gives NaN or infinite values"}
    error = float(np.max(np.abs(ours - theirs))) if ours.size else 0.0
    ok = bool(np.allclose(ours, theirs, rtol=rtol, atol=atol))
    return {**row, "max_abs_error": error, "ok": ok, "reason": "" if ok else "beyond the tolerance"}
