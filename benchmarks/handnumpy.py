"""Conv2d -> MaxPool2d -> MSELoss and its backward pass, vectorised by hand in NumPy.

The yardstick a NumPy programmer would write: the convolution reads every k x k
window at once (sliding_window_view) and contracts it with the kernel (einsum);
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
    sigma = np.einsum("bnchwij,ocij->bnohw", windows, weight, optimize=True)
    if bias is not None:
        sigma += bias[:, None, None]
    Ho, Wo = sigma.shape[-2:]
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
    gradients = {"0.weight": np.einsum("bnohw,bnchwij->bocij", dsigma, windows, optimize=True)}
    if bias is not None:
        gradients["0.bias"] = dsigma.sum(axis=(1, 3, 4))
    dx = np.zeros_like(x)
    for i in range(k):                                                # the transposed convolution, one tap at a time
        for j in range(k):
            dx[..., i:i + Ho, j:j + Wo] += np.einsum("bnohw,oc->bnchw", dsigma, weight[:, :, i, j])
    gradients["input"] = dx
    return {"loss": loss, "output": S, "gradients": gradients}
