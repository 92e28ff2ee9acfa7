"""Conv2d: torch's cross-correlation with stride, padding, dilation, groups and bias."""

from __future__ import annotations

import numpy as np
import sympy as sp

from ..core import tensor
from ..core.errors import OptionError
from . import options as opt
from .base import Gradients, Layer, missing, one_weight_row_per_output, uniform_fan_in
from .geometry import conv_formula, conv_out_size, per_axis, taps
from .indexing import COL, ROW, at, linear, tap, tap_tex


class Conv2d(Layer):
    type_name = "Conv2d"
    output_letter = "sigma"
    symbol_bases = {"weight": "k", "bias": "b"}
    parameter_letters = {"weight": "K", "bias": "b"}
    rule_words = "general"
    words = {
        "en": {
            "note:input": "Here $\\tilde\\delta$ is $\\delta$ with $s-1$ zeros between its entries, padded by "
                          "$d(k-1)-p$ and zero elsewhere: $\\partial L/\\partial X$ is the full convolution of the "
                          "stride-dilated $\\delta$ with the kernel rotated by 180 degrees.",
            "figure": "Which input entries multiply into $\\frac{\\partial L}{\\partial {weight}_{11}}$ (highlighted): "
                      "the window at offset $(1, 1)$ in every output position.",
        },
        "zh": {
            "note:input": "其中 $\\tilde\\delta$ 是在 $\\delta$ 的元素之间插入 $s-1$ 个 0、再在四周填充 $d(k-1)-p$ 个 0 得到的："
                          "$\\partial L/\\partial X$ 就是步幅膨胀后的 $\\delta$ 与旋转 180 度的卷积核做全卷积。",
            "figure": "参与 $\\frac{\\partial L}{\\partial {weight}_{11}}$ 的输入元素（高亮）：每个输出位置的窗口中偏移为 $(1, 1)$ 的那个元素。",
        },
    }
    buffers = missing("no buffers")
    modes = missing("same in train and eval")
    terms = one_weight_row_per_output
    index_form = {
        "forward": r"\sigma_{o,i,j} = b_{o} + \sum_{c=1}^{C_{in}/g} \sum_{a=1}^{k_h} \sum_{b=1}^{k_w} K_{o,c,a,b}\, "
                   r"X_{c^{*},\; " + ROW + r",\; " + COL + r"}, \quad c^{*} = c + \tfrac{C_{in}}{g}"
                   r"\left\lfloor \tfrac{(o-1)\,g}{C_{out}} \right\rfloor",
        "weight": r"\frac{\partial L}{\partial K_{o,c,a,b}} = \sum_{n,i,j} \delta_{n,o,i,j}\, "
                  r"X_{n,c^{*},\; " + ROW + r",\; " + COL + r"}",
        "bias": r"\frac{\partial L}{\partial b_{o}} = \sum_{n,i,j} \delta_{n,o,i,j}",
        "input": r"\begin{gathered}\frac{\partial L}{\partial X_{n,c^{*},h,w}} = \sum_{o} \sum_{a=1}^{k_h} "
                 r"\sum_{b=1}^{k_w} \tilde{\delta}_{n,o,\; h + d(a-1),\; w + d(b-1)}\; K_{o,c,\; k_h + 1 - a,\; "
                 r"k_w + 1 - b} \\ \tilde{\delta}_{n,o,\; s(i-1) + d(k_h-1) - p + 1,\; s(j-1) + d(k_w-1) - p + 1} "
                 r"= \delta_{n,o,i,j}\end{gathered}",
    }

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, bias=True, padding_mode="zeros", *, weight=None, bias_values=None):
        super().__init__()
        w = self.type_name
        self.in_channels = opt.integer(w, "in_channels", in_channels, 1, bits=64)
        self.out_channels = opt.integer(w, "out_channels", out_channels, 1, bits=64)
        self.kernel_size = opt.pair(w, "kernel_size", kernel_size, 1, bits=64)
        self.stride = opt.pair(w, "stride", stride, 1, bits=64)
        self.dilation = opt.pair(w, "dilation", dilation, 1, bits=64)
        self.groups = opt.integer(w, "groups", groups, 1, bits=64)
        self.bias = opt.boolean(w, "bias", bias)
        self.padding_mode = opt.choice(w, "padding_mode", padding_mode, ("zeros", "reflect", "replicate", "circular"))
        if self.padding_mode != "zeros":
            raise OptionError(w, "padding_mode", f"only 'zeros' is supported by symgrad, got {padding_mode!r}")
        if self.in_channels % self.groups:
            raise OptionError(w, "groups", f"in_channels ({self.in_channels}) must be divisible by groups ({self.groups})")
        if self.out_channels % self.groups:
            raise OptionError(w, "groups", f"out_channels ({self.out_channels}) must be divisible by groups ({self.groups})")
        self.padding = self._padding(padding)
        tensor.check_size(w, "out_channels", (self.out_channels, self.in_channels // self.groups, *self.kernel_size))
        if weight is not None:
            self.init(weight=weight)
        if bias_values is not None:
            self.init(bias=bias_values)

    @classmethod
    def from_torch(cls, module):
        return cls(module.in_channels, module.out_channels, module.kernel_size, stride=module.stride,
                   padding=module.padding, dilation=module.dilation, groups=module.groups,
                   bias=module.bias is not None, padding_mode=module.padding_mode)

    def initial_values(self, rng):
        return uniform_fan_in(rng, self.parameter_shapes())

    def _padding(self, padding):
        """(top, bottom, left, right); 'same' pads d(k-1) in total, the odd one on the bottom/right."""
        w = self.type_name
        if isinstance(padding, str):
            opt.choice(w, "padding", padding, ("valid", "same"))
            if padding == "valid":
                return (0, 0, 0, 0)
            if self.stride != (1, 1):
                raise OptionError(w, "padding", "padding='same' is not supported for strided convolutions")
            pads = []
            for k, d in zip(self.kernel_size, self.dilation):
                total = d * (k - 1)
                pads += [total // 2, total - total // 2]
            return tuple(pads)
        ph, pw = opt.pair(w, "padding", padding, 0, bits=64)
        return (ph, ph, pw, pw)

    def options(self):
        shown = {
            "in_channels": self.in_channels, "out_channels": self.out_channels,
            "kernel_size": self.kernel_size, "stride": self.stride,
            "padding": self.padding_option(), "dilation": self.dilation,
            "groups": self.groups, "bias": self.bias,
        }
        return shown

    def channels(self):
        return {"in_channels": self.in_channels, "out_channels": self.out_channels}

    def padding_option(self):
        """The padding as torch's argument: a pair when symmetric, else 'same'."""
        top, bottom, left, right = self.padding
        if top == bottom and left == right:
            return (top, left)
        return "same"

    def parameter_shapes(self):
        shapes = {"weight": (self.out_channels, self.in_channels // self.groups, *self.kernel_size)}
        if self.bias:
            shapes["bias"] = (self.out_channels,)
        return shapes

    def output_shape(self, in_shape):
        if len(in_shape) != 4:
            raise OptionError(self.where, "input", f"expected a 4-D input (N, C, H, W), got shape {list(in_shape)}")
        n, c, h, w = in_shape
        if c != self.in_channels:
            raise OptionError(self.where, "in_channels",
                              f"expected input with {self.in_channels} channels, got {c} channels")
        top, bottom, left, right = self.padding
        sizes = []
        for size, k, d, lo, hi in zip((h, w), self.kernel_size, self.dilation, (top, left), (bottom, right)):
            if size + lo + hi < d * (k - 1) + 1:
                raise OptionError(self.where, "kernel_size",
                                  f"kernel ({self.kernel_size[0]}x{self.kernel_size[1]}, dilation {self.dilation}) "
                                  f"is larger than the padded input ({h + top + bottom}x{w + left + right})")
        for size, k, s, lo, hi, d in zip((h, w), self.kernel_size, self.stride, (top, left), (bottom, right), self.dilation):
            sizes.append(conv_out_size(size, k, s, lo, hi, d))
        # padding is the only way past the input's (already bounded) spatial size
        tensor.check_size(self.where, "padding", sizes)
        tensor.check_size(self.where, "out_channels", (n, self.out_channels, *sizes))
        return (n, self.out_channels, *sizes)

    def shape_formula(self, in_shape):
        top, bottom, left, right = self.padding
        return per_axis([conv_formula(size, k, s, lo, hi, d) for size, k, s, lo, hi, d in zip(
            in_shape[2:], self.kernel_size, self.stride, (top, left), (bottom, right), self.dilation)])

    def _windows(self, in_shape, out_shape):
        """For each output (i, j): the (a, b, h, w) taps inside the input."""
        _, _, h, w = in_shape
        top, _, left, _ = self.padding
        rows = [list(taps(i, self.kernel_size[0], self.stride[0], top, self.dilation[0], h)) for i in range(out_shape[2])]
        cols = [list(taps(j, self.kernel_size[1], self.stride[1], left, self.dilation[1], w)) for j in range(out_shape[3])]
        return rows, cols

    def _group_channels(self, o):
        per_in = self.in_channels // self.groups
        per_out = self.out_channels // self.groups
        first = (o // per_out) * per_in
        return range(first, first + per_in)

    def forward(self, x, params):
        out_shape = self.output_shape(x.shape)
        rows, cols = self._windows(x.shape, out_shape)
        weight, image = params["weight"].tolist(), x.tolist()  # nested lists: indexed far faster than an array
        bias = params["bias"].tolist() if self.bias else None
        times, out = tensor.times, np.empty(out_shape, dtype=object)
        for n, o, i, j in np.ndindex(*out_shape):
            channels = self._group_channels(o)
            kernel, first = weight[o], channels[0]
            terms = [times(kernel[c - first][a][b], image[n][c][hh][ww])
                     for c in channels for a, hh in rows[i] for b, ww in cols[j]]
            if bias is not None:
                terms.append(bias[o])
            out[n, o, i, j] = tensor.add_all(terms)
        return out

    def backward(self, delta, x, out, params):
        rows, cols = self._windows(x.shape, out.shape)
        weight, image, deltas = params["weight"].tolist(), x.tolist(), delta.tolist()
        input_terms, weight_terms = tensor.term_lists(x.shape), tensor.term_lists(params["weight"].shape)
        dx, dw = input_terms.tolist(), weight_terms.tolist()  # the same term lists, reached through Python lists
        times = tensor.times
        for n, o, i, j in np.ndindex(*out.shape):
            d = deltas[n][o][i][j]
            if d == 0:
                continue
            channels = self._group_channels(o)
            first = channels[0]
            for c in channels:
                kernel, kernel_grad, image_c, grad_c = weight[o][c - first], dw[o][c - first], image[n][c], dx[n][c]
                for a, hh in rows[i]:
                    kernel_row, kernel_grad_row, image_row, grad_row = kernel[a], kernel_grad[a], image_c[hh], grad_c[hh]
                    for b, ww in cols[j]:
                        grad_row[ww].append(times(d, kernel_row[b]))
                        kernel_grad_row[b].append(times(d, image_row[ww]))
        grads = {"weight": tensor.collect(weight_terms)}
        if self.bias:
            grads["bias"] = tensor.vector(tensor.add_all(delta[:, o].reshape(-1)) for o in range(self.out_channels))
        return Gradients(input=tensor.collect(input_terms), params=grads)

    def array_options(self, in_shape):
        """Keywords of the array twin: padding as its 4-tuple (top, bottom, left, right), so 'same' stays exact."""
        return {"stride": tuple(int(v) for v in self.stride), "padding": tuple(int(v) for v in self.padding),
                "dilation": tuple(int(v) for v in self.dilation), "groups": int(self.groups)}

    def torch_module(self):
        import torch

        o = self.options()
        return torch.nn.Conv2d(self.in_channels, self.out_channels, self.kernel_size, stride=self.stride,
                               padding=o["padding"], dilation=self.dilation, groups=self.groups, bias=self.bias)

    # ---------------------------------------------------------------- index forms: instance, evaluation, figure

    def index_instance(self, key: str, in_shape) -> str:
        """The index form of `key` with this layer's stride, padding, dilation and sizes filled in."""
        (sh, sw), (dh, dw), (kh, kw) = self.stride, self.dilation, self.kernel_size
        top, left = self.padding[0], self.padding[2]
        _, _, ho, wo = self.output_shape(tuple(in_shape))
        rows, cols = tap_tex(sh, dh, top, "i", "a"), tap_tex(sw, dw, left, "j", "b")
        channels = self.in_channels > 1 or self.out_channels > 1
        star = "c^{*}" if self.groups > 1 else "c"  # with one group, K_{o,c} reads input channel c itself
        per_in = self.in_channels // self.groups
        where = (r", \quad c^{*} = c + %s\left\lfloor \tfrac{o-1}{%d} \right\rfloor"
                 % ("" if per_in == 1 else per_in, self.out_channels // self.groups)) if self.groups > 1 else ""
        o, n_c, oc, n_o = ("o,", r"n,%s,\; " % star, "o,c,", "n,o,") if channels else ("", "", "", "")
        over_c = r"\sum_{c=1}^{%d} " % per_in if channels else ""
        bias = (r"b_{o} + " if channels else "b + ") if self.bias else ""
        sums = r"\sum_{a=1}^{%d} \sum_{b=1}^{%d} " % (kh, kw)
        outputs = (r"\sum_{n} " if channels else "") + r"\sum_{i=1}^{%d} \sum_{j=1}^{%d} " % (ho, wo)
        if key == "forward":
            return r"\sigma_{%si,j} = %s%s%sK_{%sa,b}\, X_{%s%s,\; %s}%s" % (
                o, bias, over_c, sums, oc, r"%s,\; " % star if channels else "", rows, cols, where)
        if key == "weight":
            return r"\frac{\partial L}{\partial K_{%sa,b}} = %s\delta_{%si,j}\, X_{%s%s,\; %s}%s" % (
                oc, outputs, n_o, n_c, rows, cols, where)
        if key == "bias":
            return r"\frac{\partial L}{\partial %s} = %s\delta_{%si,j}" % ("b_{o}" if channels else "b", outputs, n_o)
        if key == "input":
            up = linear([(sh, "i")], dh * (kh - 1) - top + 1 - sh)
            right = linear([(sw, "j")], dw * (kw - 1) - left + 1 - sw)
            over_o = r"\sum_{o} " if channels else ""
            return (r"\tilde{\delta}_{%s%s,\; %s} = \delta_{%si,j}, \quad \frac{\partial L}{\partial X_{%sh,w}} = "
                    r"%s%s\tilde{\delta}_{%s%s,\; %s}\; K_{%s%s,\; %s}%s") % (
                n_o, up, right, n_o, n_c, over_o, sums, n_o,
                linear([(1, "h"), (dh, "a")], -dh), linear([(1, "w"), (dw, "b")], -dw), oc,
                linear([(-1, "a")], kh + 1), linear([(-1, "b")], kw + 1), where)
        return ""

    def weight_taps(self, in_shape, a: int, b: int) -> list[tuple[int, int]]:
        """The 0-based input positions (h, w) that multiply into dL/dK_{a,b} (a, b 1-based), row-major."""
        _, _, ho, wo = self.output_shape(tuple(in_shape))
        (sh, sw), (dh, dw) = self.stride, self.dilation
        top, left = self.padding[0], self.padding[2]
        found = []
        for i in range(1, ho + 1):
            for j in range(1, wo + 1):
                h, w = tap(sh, dh, top, i, a), tap(sw, dw, left, j, b)
                if 1 <= h <= in_shape[2] and 1 <= w <= in_shape[3]:
                    found.append((h - 1, w - 1))
        return found

    def figure(self, in_shape, x):
        """Marks for the printer's grid: the taps of dL/dK_{1,1}."""
        return {position: "" for position in self.weight_taps(in_shape, 1, 1)}


def _c_star(layer: Conv2d, o: int, c: int) -> int:
    """c* = c + (C_in/g) floor((o-1) g / C_out), 1-based: the input channel that K_{o,c} reads."""
    return c + (layer.in_channels // layer.groups) * ((o - 1) * layer.groups // layer.out_channels)


def _forward_by_index_form(layer: Conv2d, x, params, delta=None):
    n_, _, _, _ = x.shape
    _, oo, ho, wo = layer.output_shape(x.shape)
    (sh, sw), (dh, dw), (kh, kw) = layer.stride, layer.dilation, layer.kernel_size
    top, left = layer.padding[0], layer.padding[2]
    out = np.empty((n_, oo, ho, wo), dtype=object)
    for n, o, i, j in np.ndindex(*out.shape):
        total = params["bias"][o] if layer.bias else sp.Integer(0)
        for c in range(1, layer.in_channels // layer.groups + 1):
            for a in range(1, kh + 1):
                for b in range(1, kw + 1):
                    total += params["weight"][o, c - 1, a - 1, b - 1] * at(
                        x, n, _c_star(layer, o + 1, c) - 1, tap(sh, dh, top, i + 1, a), tap(sw, dw, left, j + 1, b))
        out[n, o, i, j] = total
    return out


def _weight_by_index_form(layer: Conv2d, x, params, delta):
    (sh, sw), (dh, dw) = layer.stride, layer.dilation
    top, left = layer.padding[0], layer.padding[2]
    grad = np.empty(params["weight"].shape, dtype=object)
    for o, c, a, b in np.ndindex(*grad.shape):
        grad[o, c, a, b] = sum((delta[n, o, i, j] * at(x, n, _c_star(layer, o + 1, c + 1) - 1,
                                                      tap(sh, dh, top, i + 1, a + 1), tap(sw, dw, left, j + 1, b + 1))
                                for n, i, j in np.ndindex(delta.shape[0], *delta.shape[2:])), sp.Integer(0))
    return grad


def _bias_by_index_form(layer: Conv2d, x, params, delta):
    return np.array([sum(delta[:, o].reshape(-1), sp.Integer(0)) for o in range(delta.shape[1])], dtype=object)


def _input_by_index_form(layer: Conv2d, x, params, delta):
    """The full convolution: delta dilated by the stride and padded by d(k-1) - p, against the rotated kernel."""
    (sh, sw), (dh, dw), (kh, kw) = layer.stride, layer.dilation, layer.kernel_size
    top, left = layer.padding[0], layer.padding[2]
    n_, oo, ho, wo = delta.shape
    # delta~ on a canvas large enough for every index h + d(a-1) the formula reads (1-based positions)
    height = max(x.shape[2] + dh * (kh - 1), sh * (ho - 1) + dh * (kh - 1) - top + 1) + 1
    width = max(x.shape[3] + dw * (kw - 1), sw * (wo - 1) + dw * (kw - 1) - left + 1) + 1
    tilde = np.full((n_, oo, height + 1, width + 1), sp.Integer(0), dtype=object)
    for n, o, i, j in np.ndindex(*delta.shape):
        u, v = sh * i + dh * (kh - 1) - top + 1, sw * j + dw * (kw - 1) - left + 1  # i, j 0-based here
        if u >= 1 and v >= 1:
            tilde[n, o, u, v] = delta[n, o, i, j]
    grad = np.empty(x.shape, dtype=object)
    per_in = layer.in_channels // layer.groups
    for n, cs, h, w in np.ndindex(*x.shape):
        total = sp.Integer(0)
        for o in range(oo):
            c = cs + 1 - per_in * (o * layer.groups // layer.out_channels)  # the in-group channel of c* for o
            if not 1 <= c <= per_in:
                continue
            for a in range(1, kh + 1):
                for b in range(1, kw + 1):
                    total += tilde[n, o, h + 1 + dh * (a - 1), w + 1 + dw * (b - 1)] * \
                        params["weight"][o, c - 1, kh - a, kw - b]
        grad[n, cs, h, w] = total
    return grad


Conv2d.index_rules = {"forward": _forward_by_index_form, "weight": _weight_by_index_form,
                      "bias": _bias_by_index_form, "input": _input_by_index_form}


# ---------------------------------------------------------------- array twin: whole float64 arrays (generated code)
#
# Every image (a batch entry's sample n) is convolved alone: the batch axes and N merge into one axis of
# images, each reading its own problem's kernel. Images go through in chunks of a few, and every chunk
# reuses the same few buffers: a chunk's columns (im2col: each output plane copied once per kernel tap)
# stay in cache, where one im2col of the whole batch would cost more to write to memory (and to map
# fresh pages for) than its matrix products cost to compute.
#
# Sliding windows: pad once, look at every window through one strided view (stride and dilation live in
# the view's strides, nothing is copied), and add gradients back window by window with one strided slice
# addition per kernel offset (col2im) instead of np.add.at.


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


def window_view(padded, kernel, stride, dilation):
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


def window_add(target, planes, stride, dilation):
    """The adjoint of `window_view`: add planes (..., kh, kw, OH, OW) into the windows of target, in place.

    Overlapping windows add up (col2im): one strided slice addition per kernel offset.
    """
    (sh, sw), (dh, dw) = stride, dilation
    kh, kw, oh, ow = planes.shape[-4:]
    for a in range(kh):
        rows = slice(a * dh, a * dh + sh * (oh - 1) + 1, sh)
        for b in range(kw):
            target[..., rows, b * dw:b * dw + sw * (ow - 1) + 1:sw] += planes[..., a, b, :, :]
    return target


def _conv2d_chunks(images, columns_per_image):
    """(start, stop) ranges of images whose im2col columns fill about 2 MB (at least one image each)."""
    size = max(1, 262144 // max(1, columns_per_image))
    return [(start, min(start + size, images)) for start in range(0, max(images, 1), size)]


def _conv2d_per_problem(array, batch, tail):
    """array (*its batch, *tail) broadcast to (*batch, *tail) and flattened to (problems, *tail)."""
    return np.broadcast_to(array, tuple(batch) + tuple(tail)).reshape((-1,) + tuple(tail))


def _conv2d_images(x, batch, padding):
    """x broadcast to the batch and padded, as images (I, C, Hp, Wp): batch axes and N merged."""
    top, bottom, left, right = padding
    n, channels, height, width = x.shape[-4:]
    padded = _pad_images(x, tuple(batch) + (n, channels, height, width), padding)
    return padded.reshape(-1, channels, height + top + bottom, width + left + right)


def _conv2d_columns(windows, start, stop, buffer):
    """Windows (I, C, kh, kw, OH, OW) of images start..stop copied into the reused buffer (im2col)."""
    columns = buffer[:stop - start]
    np.copyto(columns.reshape(windows[start:stop].shape), windows[start:stop])
    return columns


def _conv2d_forward(x, weight, bias=None, *, stride, padding, dilation, groups):
    """sigma (*batch, N, O, OH, OW) of x (*bx, N, C, H, W), weight (*bw, O, C/g, kh, kw); batches broadcast.

    Per chunk of images: the windows copied into columns (C/g*kh*kw, OH*OW) per group, and one
    matrix product with the kernel; the bias is added while the chunk is still in cache.
    """
    weight = np.asarray(weight, dtype=np.float64)
    out_channels, per_group, kh, kw = weight.shape[-4:]
    per_out, n = out_channels // groups, x.shape[-4]
    bias_batch = () if bias is None else np.shape(bias)[:-1]
    batch = tuple(np.broadcast_shapes(x.shape[:-4], weight.shape[:-4], bias_batch))
    padded = _conv2d_images(x, batch, padding)
    windows = window_view(padded, (kh, kw), stride, dilation)  # (I, C, kh, kw, OH, OW)
    images, oh, ow = len(windows), windows.shape[-2], windows.shape[-1]
    kernels = _conv2d_per_problem(weight, batch, (out_channels, per_group, kh, kw)).reshape(
        -1, groups, per_out, per_group * kh * kw)
    if bias is not None:
        biases = _conv2d_per_problem(bias, batch, (out_channels,)).reshape(-1, groups, per_out, 1)
    chunks = _conv2d_chunks(images, windows[:1].size)
    buffer = np.empty((chunks[0][1], groups, per_group * kh * kw, oh * ow))
    out = np.empty((images, groups, per_out, oh * ow))
    for start, stop in chunks:
        problem = np.arange(start, stop) // n
        np.matmul(kernels[problem], _conv2d_columns(windows, start, stop, buffer), out=out[start:stop])
        if bias is not None:
            out[start:stop] += biases[problem]
    return out.reshape(batch + (n, out_channels, oh, ow))


def _conv2d_backward(delta, x, out, weight, bias=None, *, want_input=True, stride, padding, dilation, groups):
    """(dx or None, dweight[, dbias]) per problem from delta (*batch, N, O, OH, OW): sums over N, not batch.

    Per chunk of images, with the forward's columns built again: dweight = delta @ columns^T (one product per
    image, summed over N at the end); dx by `_conv2d_input_rows` or `_conv2d_input_planes`, whichever moves
    fewer numbers for this layer's shape.
    """
    weight = np.asarray(weight, dtype=np.float64)
    delta = np.asarray(delta, dtype=np.float64)
    out_channels, per_group, kh, kw = weight.shape[-4:]
    per_out = out_channels // groups
    n, channels, height, width = x.shape[-4:]
    oh, ow = delta.shape[-2:]
    batch = tuple(np.broadcast_shapes(x.shape[:-4], weight.shape[:-4], delta.shape[:-4],
                                      () if bias is None else np.shape(bias)[:-1]))
    padded = _conv2d_images(x, batch, padding)
    windows = window_view(padded, (kh, kw), stride, dilation)  # (I, C, kh, kw, OH, OW)
    problem_weights = _conv2d_per_problem(weight, batch, (out_channels, per_group, kh, kw))
    deltas = _conv2d_per_problem(delta, batch, (n, out_channels, oh, ow))
    deltas = deltas.reshape(-1, groups, per_out, oh * ow)  # per image
    chunks = _conv2d_chunks(len(padded), windows[:1].size)
    buffer = np.empty((chunks[0][1], groups, per_group * kh * kw, oh * ow))
    dkernels = np.empty((len(padded), groups, per_out, per_group * kh * kw))
    for start, stop in chunks:
        columns = _conv2d_columns(windows, start, stop, buffer)
        np.matmul(deltas[start:stop], columns.swapaxes(-1, -2), out=dkernels[start:stop])
    dweight = dkernels.reshape(batch + (n, out_channels, per_group, kh, kw)).sum(axis=-5)
    dx = None
    if want_input:
        # per output position rows gather O/g*kw and add C/g*kh numbers, planes add C/g*kh*kw, in short
        # strided rows: about 3x as slow per number (measured at batch 256 from 1->6 5x5 to 4->32 3x3)
        by_rows = per_out * kw + per_group * kh < 3 * per_group * kh * kw
        rule = _conv2d_input_rows if by_rows else _conv2d_input_planes
        dpadded = rule(deltas.reshape(-1, groups, per_out, oh, ow), problem_weights, padded.shape, n, chunks,
                       stride, dilation)
        dx = _unpad_images(dpadded, padding).reshape(batch + (n, channels, height, width))
    if bias is None:
        return dx, dweight
    return dx, dweight, deltas.reshape(batch + (n, out_channels, oh * ow)).sum(axis=(-3, -1))


def _conv2d_input_planes(deltas, weights, padded_shape, n, chunks, stride, dilation):
    """dL/d(padded x) as col2im: kernel^T @ delta gives one plane per kernel tap, each added at its offset.

    deltas (I, g, O/g, OH, OW) per image, weights (P, O, C/g, kh, kw) per problem (image i in problem i // n).
    """
    groups, per_out, oh, ow = deltas.shape[1:]
    per_group, kh, kw = weights.shape[2:]
    kernels = weights.reshape(-1, groups, per_out, per_group * kh * kw).swapaxes(-1, -2)
    dpadded = np.zeros(padded_shape)
    planes = np.empty((chunks[0][1], groups, per_group * kh * kw, oh * ow))
    for start, stop in chunks:
        count = stop - start
        per_image = deltas[start:stop].reshape(count, groups, per_out, oh * ow)
        np.matmul(kernels[np.arange(start, stop) // n], per_image, out=planes[:count])
        window_add(dpadded[start:stop], planes[:count].reshape(count, padded_shape[1], kh, kw, oh, ow),
                    stride, dilation)
    return dpadded


def _conv2d_input_rows(deltas, weights, padded_shape, n, chunks, stride, dilation):
    """dL/d(padded x) a kernel row at a time: a convolution (gather) along the width, col2im along the height.

    The delta is stretched by the stride onto the padded width (zeros between, (kw-1)*dw zeros in front);
    its width windows times the kernel flipped left-right give, for each kernel row a, the full rows that
    land at input rows i*sh + a*dh: kh contiguous additions instead of kh*kw strided ones. Arguments as
    for `_conv2d_input_planes`.
    """
    groups, per_out, oh, ow = deltas.shape[1:]
    per_group, kh, kw = weights.shape[2:]
    (sh, sw), (dh, dw) = stride, dilation
    padded_width = padded_shape[-1]
    flipped = weights[..., ::-1].reshape(-1, groups, per_out, per_group, kh, kw).transpose(0, 1, 3, 4, 2, 5)
    flipped = flipped.reshape(-1, groups, per_group * kh, per_out * kw)  # rows (c, a), columns (o, kw-1-b)
    size = chunks[0][1]
    stretched = np.zeros((size, groups, per_out, oh, padded_width + dw * (kw - 1)))
    gathered = np.empty((size, groups, per_out * kw, oh * padded_width))
    rows = np.empty((size, groups, per_group * kh, oh * padded_width))
    dpadded = np.zeros(padded_shape)
    for start, stop in chunks:
        count = stop - start
        stretched[:count, ..., dw * (kw - 1)::sw][..., :ow] = deltas[start:stop]
        windows = window_view(stretched[:count], (1, kw), (1, 1), (1, dw))  # (count, g, O/g, 1, kw, OH, Wp)
        np.copyto(gathered[:count].reshape(windows.shape), windows)
        np.matmul(flipped[np.arange(start, stop) // n], gathered[:count], out=rows[:count])
        planes = rows[:count].reshape(count, padded_shape[1], kh, 1, oh, padded_width)  # kernel rows as taps
        window_add(dpadded[start:stop], planes, (sh, 1), (dh, 1))
    return dpadded


Conv2d.array_twin = {"forward": _conv2d_forward, "backward": _conv2d_backward}
