"""Conv2d -> MaxPool2d -> MSELoss and its backward pass, vectorised by hand in NumPy.

The yardstick a NumPy programmer would write: im2col, i.e. every k x k window as a
row of one matrix (sliding_window_view, copied once), so that the convolution and
the kernel gradient are single matrix products (BLAS);
max pooling routes each window's gradient to its first maximum in row-major order,
as torch does (np.argmax returns the first maximum too). Arrays carry a leading
axis of independent problems: x is (B, N, C, H, W), each problem has its own loss
(the mean over its own N x C' x H' x W' output) and its own gradients.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def conv_maxpool_mse(x, weight, bias, target, pool: int = 2) -> dict:
    """{"loss": (B,), "output": (B, N, O, Hp, Wp), "gradients": {"0.weight", "0.bias", "input"}} per problem."""
    x = np.asarray(x, dtype=float)
    B, N, C, H, W = x.shape
    O, _, k, _ = weight.shape
    windows = sliding_window_view(x, (k, k), axis=(3, 4))           # (B, N, C, Ho, Wo, k, k)
    Ho, Wo = windows.shape[3:5]
    columns = np.ascontiguousarray(windows.transpose(0, 1, 3, 4, 2, 5, 6)).reshape(B * N * Ho * Wo, C * k * k)
    sigma = (columns @ weight.reshape(O, C * k * k).T).reshape(B, N, Ho, Wo, O).transpose(0, 1, 4, 2, 3)
    if bias is not None:
        sigma = sigma + bias[:, None, None]
    Hp, Wp = Ho // pool, Wo // pool
    blocks = (sigma[..., :Hp * pool, :Wp * pool]
              .reshape(B, N, O, Hp, pool, Wp, pool).transpose(0, 1, 2, 3, 5, 4, 6)
              .reshape(B, N, O, Hp, Wp, pool * pool))
    first = np.argmax(blocks, axis=-1)[..., None]                     # torch's tie rule: first maximum
    S = np.take_along_axis(blocks, first, axis=-1)[..., 0]
    count = S[0].size
    loss = ((S - target) ** 2).reshape(B, -1).mean(axis=1)
    dS = 2 * (S - target) / count
    routed = np.zeros_like(blocks)
    np.put_along_axis(routed, first, dS[..., None], axis=-1)
    dsigma = np.zeros_like(sigma)
    dsigma[..., :Hp * pool, :Wp * pool] = (routed.reshape(B, N, O, Hp, Wp, pool, pool)
                                           .transpose(0, 1, 2, 3, 5, 4, 6).reshape(B, N, O, Hp * pool, Wp * pool))
    rows = dsigma.transpose(0, 1, 3, 4, 2).reshape(B, N * Ho * Wo, O)  # each problem's delta, one row per window
    per_window = columns.reshape(B, N * Ho * Wo, C * k * k)
    gradients = {"0.weight": (rows.transpose(0, 2, 1) @ per_window).reshape(B, O, C, k, k)}
    if bias is not None:
        gradients["0.bias"] = dsigma.sum(axis=(1, 3, 4))
    patches = (rows @ weight.reshape(O, C * k * k)).reshape(B, N, Ho, Wo, C, k, k)  # dL/d(each window)
    dx = np.zeros_like(x)
    for i in range(k):                                                # col2im: add every window back in place
        for j in range(k):
            dx[..., i:i + Ho, j:j + Wo] += patches[..., i, j].transpose(0, 1, 4, 2, 3)
    gradients["input"] = dx
    return {"loss": loss, "output": S, "gradients": gradients}
