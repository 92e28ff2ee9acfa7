"""Sliding-window geometry shared by convolution and pooling (torch's formulas)."""

from __future__ import annotations


def conv_out_size(size: int, kernel: int, stride: int, pad_before: int, pad_after: int, dilation: int) -> int:
    """floor((H + pads - d(k-1) - 1) / s) + 1, as torch computes a convolution's output."""
    return (size + pad_before + pad_after - dilation * (kernel - 1) - 1) // stride + 1


def pool_out_size(size: int, kernel: int, stride: int, pad: int, dilation: int, ceil_mode: bool) -> int:
    """torch's pooling_output_shape, including its ceil-mode rule.

    With ceil_mode a window may hang over the right edge, but one that would *start*
    in the right padding is dropped: H=5, k=2, s=2, p=1 gives 3, not 4.
    """
    numerator = size + 2 * pad - dilation * (kernel - 1) - 1 + (stride - 1 if ceil_mode else 0)
    out = numerator // stride + 1
    if ceil_mode and (out - 1) * stride >= size + pad:
        out -= 1
    return out


def taps(out_index: int, kernel: int, stride: int, pad_before: int, dilation: int, size: int):
    """(kernel offset a, input position) pairs of one window that fall inside the input."""
    start = out_index * stride - pad_before
    for a in range(kernel):
        position = start + a * dilation
        if 0 <= position < size:
            yield a, position
