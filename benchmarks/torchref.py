"""The same loss and gradients with torch autograd (CPU, float64), imported only when called.

`per_problem` gives exactly what symgrad's generated code returns for a batch of
independent problems (one loss and one gradient per problem: torch.func.vmap of
torch.func.grad). `minibatch_step` is the everyday training step on the same
inputs, one loss summed over the batch and one backward(): fewer outputs (the
weight gradient is summed), shown for scale.
"""

from __future__ import annotations

import numpy as np


def _functions(pool):
    import torch
    import torch.nn.functional as F

    def loss(weight, bias, x, target):
        out = F.max_pool2d(F.conv2d(x, weight, bias), pool)
        return F.mse_loss(out, torch.full_like(out, target)), out

    return torch, loss


def single(x, weight, bias, target, pool: int = 2) -> dict:
    """One problem (x is N x C x H x W), plain autograd: forward, backward(), read .grad."""
    torch, loss = _functions(pool)
    w = torch.from_numpy(weight).requires_grad_()
    b = torch.from_numpy(bias).requires_grad_()
    xt = torch.from_numpy(x).requires_grad_()
    value, out = loss(w, b, xt, target)
    value.backward()
    return {"loss": value.item(), "output": out.detach().numpy(),
            "gradients": {"0.weight": w.grad.numpy(), "0.bias": b.grad.numpy(), "input": xt.grad.numpy()}}


def per_problem(x, weight, bias, target, pool: int = 2) -> dict:
    """A batch of problems (x is B x N x C x H x W): per-problem loss and gradients, torch.func.vmap(grad)."""
    torch, loss = _functions(pool)
    grad = torch.func.grad_and_value(loss, argnums=(0, 1, 2), has_aux=True)
    (dw, db, dx), (value, out) = torch.func.vmap(grad, in_dims=(None, None, 0, None))(
        torch.from_numpy(weight), torch.from_numpy(bias), torch.from_numpy(x), target)
    return {"loss": value.numpy(), "output": out.numpy(),
            "gradients": {"0.weight": dw.numpy(), "0.bias": db.numpy(), "input": dx.numpy()}}


def minibatch_step(x, weight, bias, target, pool: int = 2) -> None:
    """The batch as one torch minibatch: sum of the per-problem losses, one backward()."""
    torch, loss = _functions(pool)
    B, N = x.shape[:2]
    w = torch.from_numpy(weight).requires_grad_()
    b = torch.from_numpy(bias).requires_grad_()
    xt = torch.from_numpy(np.ascontiguousarray(x.reshape(B * N, *x.shape[2:]))).requires_grad_()
    value, _ = loss(w, b, xt, target)
    (value * B).backward()  # mean over B problems of equal size, times B: the sum of their losses
