"""Index arithmetic of the index forms, 1-based as the articles write it.

A window tap of output i at kernel offset a reads input row s(i-1) + d(a-1) - p + 1.
The ops' evaluable index forms use `tap` and `at`; their instances print the same
arithmetic with this spec's numbers through `linear`.
"""

from __future__ import annotations

import sympy as sp

#: The general 1-based tap, as it appears in every sliding-window index form.
ROW = "s(i-1) + d(a-1) - p + 1"
COL = "s(j-1) + d(b-1) - p + 1"


def tap(s: int, d: int, p: int, i: int, a: int) -> int:
    """The 1-based input position read by output i (1-based) at kernel offset a (1-based)."""
    return s * (i - 1) + d * (a - 1) - p + 1


def at(x, n: int, c: int, h: int, w: int):
    """X_{n,c,h,w} with 1-based h, w and zero outside the input (zero padding)."""
    if 1 <= h <= x.shape[2] and 1 <= w <= x.shape[3]:
        return x[n, c, h - 1, w - 1]
    return sp.Integer(0)


def linear(terms, constant: int = 0) -> str:
    """LaTeX of c_1 v_1 + c_2 v_2 + constant, written as a person would: 2i + a - 3, h, 3 - a."""
    parts = []
    for coefficient, name in terms:
        if coefficient == 0:
            continue
        sign = "-" if coefficient < 0 else "+"
        size = abs(coefficient)
        parts.append((sign, name if size == 1 else f"{size}{name}"))
    if constant or not parts:
        number = ("-" if constant < 0 else "+", str(abs(constant)))
        # 3 - a reads better than -a + 3
        parts = [number, *parts] if parts and parts[0][0] == "-" and constant > 0 else [*parts, number]
    first_sign, first = parts[0]
    text = ("-" if first_sign == "-" else "") + first
    for sign, part in parts[1:]:
        text += f" {sign} {part}"
    return text


def tap_tex(s: int, d: int, p: int, i: str, a: str) -> str:
    """`tap` with the numbers in and the output/offset indices named: s=2, d=1, p=1 -> 2i + a - 3."""
    return linear([(s, i), (d, a)], 1 - s - d - p)
