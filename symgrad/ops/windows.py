"""Sliding windows over whole float64 arrays, for the array twins of convolution and pooling.

Pad once, look at every window through one strided view (stride and dilation live in the
view's strides, nothing is copied), and add gradients back window by window with one
strided slice addition per kernel offset (col2im) instead of np.add.at. The functions are
copied verbatim into generated modules (ops/base.py, `array_twin`), so they use nothing
but `np` and each other.
"""

from __future__ import annotations

import numpy as np


def _pad_images(x, shape, padding, fill=0.0):
    """x broadcast to `shape` (..., H, W), padded (top, bottom, left, right) with `fill`: one float64 array.

    Broadcasting and padding share the one copy; with no padding, x itself when it already fits
    (so read it, never write to it).
    """
    top, bottom, left, right = padding
    if not (top or bottom or left or right):
        return np.ascontiguousarray(np.broadcast_to(np.asarray(x, dtype=np.float64), shape))
    height, width = shape[-2:]
    padded_shape = tuple(shape[:-2]) + (height + top + bottom, width + left + right)
    padded = np.full(padded_shape, fill, dtype=np.float64)
    padded[..., top:top + height, left:left + width] = x
    return padded


def _unpad_images(padded, padding):
    """The inverse of `_pad_images`'s layout: the unpadded part, contiguous (no copy without padding)."""
    top, bottom, left, right = padding
    height, width = padded.shape[-2:]
    return np.ascontiguousarray(padded[..., top:height - bottom, left:width - right])


def _window_view(padded, kernel, stride, dilation):
    """Every window of the last two axes as a read-only view (..., kh, kw, OH, OW), nothing copied.

    Entry [..., a, b, i, j] is padded[..., i*sh + a*dh, j*sw + b*dw]: output positions last, so that
    copying a few kernel offsets gives contiguous planes ready for a matrix product (im2col).
    """
    (kh, kw), (sh, sw), (dh, dw) = kernel, stride, dilation
    height, width = padded.shape[-2:]
    oh, ow = (height - dh * (kh - 1) - 1) // sh + 1, (width - dw * (kw - 1) - 1) // sw + 1
    *lead, row, col = padded.strides
    return np.lib.stride_tricks.as_strided(
        padded, tuple(padded.shape[:-2]) + (kh, kw, oh, ow),
        tuple(lead) + (row * dh, col * dw, row * sh, col * sw), writeable=False)


def _window_add(target, planes, stride, dilation):
    """The adjoint of `_window_view`: add planes (..., kh, kw, OH, OW) into the windows of target, in place.

    Overlapping windows add up (col2im): one strided slice addition per kernel offset.
    """
    (sh, sw), (dh, dw) = stride, dilation
    kh, kw, oh, ow = planes.shape[-4:]
    for a in range(kh):
        rows = slice(a * dh, a * dh + sh * (oh - 1) + 1, sh)
        for b in range(kw):
            target[..., rows, b * dw:b * dw + sw * (ow - 1) + 1:sw] += planes[..., a, b, :, :]
    return target
