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
    first = max(0, -(start // dilation))  # the first a with start + a*d >= 0; only taps inside are visited,
    last = min(kernel - 1, (size - 1 - start) // dilation)  # so a 2**31 - 1 kernel on a small input is quick
    for a in range(first, last + 1):
        yield a, start + a * dilation


def conv_formula(size: int, kernel: int, stride: int, pad_before: int, pad_after: int, dilation: int) -> str:
    """`conv_out_size` written out with the numbers, as the articles print it."""
    pads = f"2*{pad_before}" if pad_before == pad_after else f"{pad_before} + {pad_after}"
    out = conv_out_size(size, kernel, stride, pad_before, pad_after, dilation)
    return f"floor(({size} + {pads} - {dilation}*({kernel}-1) - 1)/{stride}) + 1 = {out}"


def pool_formula(size: int, kernel: int, stride: int, pad: int, dilation: int | None, ceil_mode: bool) -> str:
    """`pool_out_size` written out; dilation None writes torch's AvgPool2d form (H + 2p - k)/s."""
    span = f"{kernel}" if dilation is None else f"{dilation}*({kernel}-1) - 1"
    rounding = "ceil" if ceil_mode else "floor"
    out = pool_out_size(size, kernel, stride, pad, dilation or 1, ceil_mode)
    text = f"{rounding}(({size} + 2*{pad} - {span})/{stride}) + 1"
    numerator = size + 2 * pad - (dilation or 1) * (kernel - 1) - 1
    rounded = -(-numerator // stride) + 1 if ceil_mode else numerator // stride + 1
    if rounded != out:
        return f"{text} = {rounded}, minus the last window (it would start in the padding) = {out}"
    return f"{text} = {out}"


def per_axis(formulas: list[str]) -> str:
    """One formula when height and width agree, else both, labelled."""
    if formulas[0] == formulas[1]:
        return formulas[0]
    return f"H: {formulas[0]}; W: {formulas[1]}"
