"""The naive SymPy approach: write the whole loss as one expression, then sympy.diff it.

What a SymPy user does without symgrad: the convolution as sums of products, the
pooling as sympy.Max (or the mean) of each window, the MSE against the target, and
then sympy.diff of that one loss expression with respect to every kernel entry.
Only the kernel gradient is computed (symgrad's derive also gives dL/dX and the
named form).
"""

from __future__ import annotations

import sympy as sp


def symbols(n: int, k: int):
    """An n x n input and a k x k kernel of symbols, as nested lists."""
    x = [[sp.Symbol(f"x_{i + 1}_{j + 1}") for j in range(n)] for i in range(n)]
    kernel = [[sp.Symbol(f"k_{i + 1}_{j + 1}") for j in range(k)] for i in range(k)]
    return x, kernel


def loss_expression(x, kernel, pool: str, target=1):
    """The MSE loss of conv(x, kernel) -> 2x2 pooling ("max" or "avg") as one expression."""
    n, k = len(x), len(kernel)
    m = n - k + 1
    conv = [[sp.Add(*(kernel[a][b] * x[i + a][j + b] for a in range(k) for b in range(k))) for j in range(m)]
            for i in range(m)]
    pooled = []
    for i in range(0, m - 1, 2):
        for j in range(0, m - 1, 2):
            window = [conv[i][j], conv[i][j + 1], conv[i + 1][j], conv[i + 1][j + 1]]
            pooled.append(sp.Max(*window) if pool == "max" else sp.Add(*window) / 4)
    return sp.Add(*((s - target) ** 2 for s in pooled)) / len(pooled)


def kernel_gradient(n: int, k: int, pool: str, target=1, x=None, kernel=None) -> list:
    """dL/dk for every kernel entry, row-major, by sympy.diff of the whole loss (symbols made here by default)."""
    if x is None:
        x, kernel = symbols(n, k)
    loss = loss_expression(x, kernel, pool, target)
    return [sp.diff(loss, entry) for row in kernel for entry in row]
